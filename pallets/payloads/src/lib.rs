//! # Payloads: device data records, encrypted by default
//!
//! A registered, active device signs [`Pallet::store`] with its own key to keep a record of
//! its data on chain. A record is an encrypted [`Envelope`]: ciphertext (inline, or its hash,
//! size and locator when the bytes are kept off chain) and the content key wrapped for each
//! recipient. Plain data is only accepted when the device marks it [`Payload::Public`].
//!
//! ```text
//!  owner ──grant_reader(device, x25519 key)──► Readers[device] ◄── every recipient must be one
//!  device ──store(Encrypted(envelope))──► Records[device][n]   deposit held from the owner (within
//!         ──store_batch([envelope, ...])──►   ..[n + k]          the device's max_deposits), expires
//!                                                                after the device's retention
//!  owner ──remove(device, n)───────────────────┐
//!  on_idle: every expired record, oldest first ├── deposit returned to the owner
//!  anyone ──reap(device, n), once expired ─────┘
//! ```
//!
//! - The chain never sees plaintext or content keys: it checks the envelope's bounds, that
//!   every recipient is a reader the owner granted, and that the envelope's sequence is above
//!   every earlier one of the device (an envelope is authenticated with its device and chain,
//!   see [`thingschain_primitives::envelope`], so one copied into another device's records
//!   does not open, and one stored again by its own device is refused here). Revoking a
//!   reader means the device stops wrapping keys for it: it reads nothing new.
//! - The device's owner pays: the record's deposit is held from the owner, and with
//!   `pallet_devices::OwnerPays` so is the transaction fee. The deposits held for a device's
//!   records never exceed its `max_deposits` limit, so a stolen device key locks no more of
//!   its owner's funds than that.
//! - A device that buffers readings sends them with [`Pallet::store_batch`]: one signature,
//!   nonce and fee for up to `MaxBatch` records, each checked and kept exactly as `store`
//!   would. Its device still counts every record against its rate limit.
//! - Records live for the retention period of their device. Then the chain deletes them in
//!   `on_idle`, with the block's spare weight, oldest first, resuming where it stopped; anyone
//!   may also [`Pallet::reap`] one. The deposit always goes back to whoever paid it.
//! - A removed device's reader list goes with it; its records stay until they expire (or its
//!   owner removes them).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(any(test, feature = "runtime-benchmarks"))]
mod fixtures;
#[cfg(any(test, feature = "try-runtime"))]
mod invariants;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use pallet::*;
pub use thingschain_primitives::envelope::{Envelope, Payload, ReaderKey};
pub use weights::WeightInfo;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_devices::{DeviceId, DeviceInspect, Inactive, OnDeviceRemoved};
use polkadot_sdk::{
	frame_support::{
		self,
		pallet_prelude::*,
		traits::{
			fungible::{self, MutateHold as _},
			tokens::Precision,
		},
		weights::WeightMeter,
	},
	frame_system::{self, pallet_prelude::*},
	sp_runtime::traits::{One, Saturating, Zero},
};
use scale_info::TypeInfo;
use thingschain_primitives::envelope::ENVELOPE_VERSION;

/// Balance of the deposit currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Numbers a device's records, from 0.
pub type RecordId = u64;

/// A stored record.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct Record<T: Config> {
	/// The data: an encrypted envelope, or plain data the device marked public.
	pub payload: Payload,
	/// Who the deposit is held from: the device's owner when it was stored.
	pub depositor: T::AccountId,
	/// Held from the depositor while the record exists.
	pub deposit: BalanceOf<T>,
	/// When it was stored.
	pub stored_at: BlockNumberFor<T>,
	/// From this block on, anyone may reap it.
	pub expires_at: BlockNumberFor<T>,
}

/// What the chain keeps about one device's records as a whole.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Ledger<Balance> {
	/// The id the next record gets.
	pub next_record: RecordId,
	/// Records that exist now.
	pub live: u64,
	/// Deposits held for them.
	pub held: Balance,
	/// The highest envelope sequence stored, if any envelope was.
	pub last_sequence: Option<u64>,
}

/// The records of one device stored in one block, which expire together: ids `first..end`.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Expiring {
	/// The first not yet deleted.
	pub first: RecordId,
	/// One past the last.
	pub end: RecordId,
}

/// What one step of reaping did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReapStep {
	/// Nothing expires at the block looked at: the cursor moved past it.
	Skipped,
	/// The first record left of a range expiring there was handled (deleted, unless its owner
	/// removed it before).
	Reaped,
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The layout of this pallet's storage. A change to it bumps this and comes with a
	/// `VersionedMigration` for the runtime's `Migrations`.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency record deposits are held in.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// The device registry: which key signs for which device, its owner and retention.
		type Devices: DeviceInspect<Self::AccountId, BlockNumberFor<Self>, BalanceOf<Self>>;

		/// Held per record, besides the per-byte part.
		#[pallet::constant]
		type RecordDepositBase: Get<BalanceOf<Self>>;

		/// Held per byte of a record's encoded payload.
		#[pallet::constant]
		type RecordDepositPerByte: Get<BalanceOf<Self>>;

		/// Most bytes of data a record keeps inline (ciphertext or public data); at most the
		/// envelope format's own bound.
		#[pallet::constant]
		type MaxPayloadLen: Get<u32>;

		/// Most readers a device's owner may grant, hence most recipients per envelope.
		#[pallet::constant]
		type MaxReaders: Get<u32>;

		/// Most records one [`Pallet::store_batch`] stores.
		#[pallet::constant]
		type MaxBatch: Get<u32>;

		/// Weights of this pallet's calls, measured by its benchmarks.
		type WeightInfo: WeightInfo;

		/// Registers the device the benchmarks store records for.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: benchmarking::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit of a stored record.
		#[codec(index = 0)]
		RecordDeposit,
	}

	/// The X25519 keys each device's owner lets read its new records.
	#[pallet::storage]
	pub type Readers<T: Config> =
		StorageMap<_, Twox64Concat, DeviceId, BoundedVec<ReaderKey, T::MaxReaders>, ValueQuery>;

	/// Each device's records as a whole: next id, count, deposits held, last sequence.
	#[pallet::storage]
	pub type Ledgers<T: Config> =
		StorageMap<_, Twox64Concat, DeviceId, Ledger<BalanceOf<T>>, ValueQuery>;

	/// Every stored record, by device and record id.
	#[pallet::storage]
	pub type Records<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DeviceId, Twox64Concat, RecordId, Record<T>>;

	/// The records that expire at each block, by device.
	#[pallet::storage]
	pub type Expiries<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, DeviceId, Expiring>;

	/// The next block whose expiring records `on_idle` deletes: every earlier one is done.
	#[pallet::storage]
	pub type ReapCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Device `device` stored record `record`, kept until `expires_at`.
		RecordStored {
			device: DeviceId,
			record: RecordId,
			public: bool,
			expires_at: BlockNumberFor<T>,
		},
		/// `reader` may read `device`'s new records.
		ReaderGranted { device: DeviceId, reader: ReaderKey },
		/// `reader` gets no new records of `device`.
		ReaderRevoked { device: DeviceId, reader: ReaderKey },
		/// The owner removed a record; its deposit was returned.
		RecordRemoved { device: DeviceId, record: RecordId },
		/// An expired record was reaped; its deposit was returned.
		RecordReaped { device: DeviceId, record: RecordId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The signer is not the key of a registered device, or no such device exists.
		UnknownDevice,
		/// The device is suspended.
		DeviceSuspended,
		/// Only the device's owner (for a record: whoever paid its deposit) may do this.
		NotOwner,
		/// The payload keeps more than `MaxPayloadLen` bytes inline.
		PayloadTooLarge,
		/// The envelope names more recipients than `MaxReaders`.
		TooManyRecipients,
		/// An encrypted envelope needs at least one recipient.
		NoRecipients,
		/// A recipient is not a reader the device's owner granted.
		NotAReader,
		/// A recipient appears twice.
		DuplicateRecipient,
		/// The envelope's format version is not one this chain reads.
		UnsupportedVersion,
		/// The reader is already granted.
		AlreadyAReader,
		/// The device already has `MaxReaders` readers.
		TooManyReaders,
		/// No such record.
		UnknownRecord,
		/// The record has not expired yet.
		NotExpired,
		/// A batch needs at least one payload.
		EmptyBatch,
		/// The envelope's sequence is not above the last one the device stored.
		StaleSequence,
		/// The deposits would exceed the device's `max_deposits`: remove records, or raise it.
		DepositCapReached,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Store `payload` as a record of the device whose key signs, holding the record
		/// deposit from the device's owner. An encrypted payload's recipients must all be
		/// readers the owner granted.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::store())]
		pub fn store(origin: OriginFor<T>, payload: Payload) -> DispatchResult {
			let key = ensure_signed(origin)?;
			Self::store_all(&key, [payload].into())
		}

		/// Let the holder of X25519 key `reader` read `device`'s new records: its device wraps
		/// content keys for it from now on.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::grant_reader())]
		pub fn grant_reader(
			origin: OriginFor<T>,
			device: DeviceId,
			reader: ReaderKey,
		) -> DispatchResult {
			Self::change_readers(origin, device, |readers| {
				ensure!(!readers.contains(&reader), Error::<T>::AlreadyAReader);
				readers.try_push(reader).map_err(|_| Error::<T>::TooManyReaders)
			})?;
			Self::deposit_event(Event::ReaderGranted { device, reader });
			Ok(())
		}

		/// Stop wrapping `device`'s new content keys for `reader`. Records it could already
		/// read stay readable to it.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::revoke_reader())]
		pub fn revoke_reader(
			origin: OriginFor<T>,
			device: DeviceId,
			reader: ReaderKey,
		) -> DispatchResult {
			Self::change_readers(origin, device, |readers| {
				let at = readers.iter().position(|r| *r == reader).ok_or(Error::<T>::NotAReader)?;
				readers.remove(at);
				Ok(())
			})?;
			Self::deposit_event(Event::ReaderRevoked { device, reader });
			Ok(())
		}

		/// Remove record `record` of `device` before it expires; its deposit is returned to
		/// the caller, who paid it.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::remove())]
		pub fn remove(origin: OriginFor<T>, device: DeviceId, record: RecordId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let stored = Records::<T>::get(device, record).ok_or(Error::<T>::UnknownRecord)?;
			ensure!(stored.depositor == who, Error::<T>::NotOwner);
			Self::delete(device, record, stored)?;
			Self::deposit_event(Event::RecordRemoved { device, record });
			Ok(())
		}

		/// Remove expired record `record` of `device`; anyone may. Its deposit goes back to
		/// whoever paid it.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::reap())]
		pub fn reap(origin: OriginFor<T>, device: DeviceId, record: RecordId) -> DispatchResult {
			ensure_signed(origin)?;
			let stored = Records::<T>::get(device, record).ok_or(Error::<T>::UnknownRecord)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now >= stored.expires_at, Error::<T>::NotExpired);
			Self::delete(device, record, stored)?;
			Self::deposit_event(Event::RecordReaped { device, record });
			Ok(())
		}

		/// Store each of `payloads`, in order, as [`Pallet::store`] stores one: the records get
		/// consecutive ids and their deposits are held from the device's owner together. All
		/// or nothing: a payload that fails a check fails the batch.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::store_batch(payloads.len() as u32))]
		pub fn store_batch(
			origin: OriginFor<T>,
			payloads: BoundedVec<Payload, T::MaxBatch>,
		) -> DispatchResult {
			let key = ensure_signed(origin)?;
			ensure!(!payloads.is_empty(), Error::<T>::EmptyBatch);
			Self::store_all(&key, payloads.into_inner())
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Deletes expired records with the block's spare weight.
		fn on_idle(now: BlockNumberFor<T>, limit: Weight) -> Weight {
			Self::reap_expired(now, limit)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(
				T::MaxPayloadLen::get() <= thingschain_primitives::envelope::MAX_INLINE_BYTES,
				"records cannot keep more inline than the envelope format carries"
			);
			assert!(
				T::MaxReaders::get() <= thingschain_primitives::envelope::MAX_READERS,
				"envelopes cannot name more recipients than the format carries"
			);
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Stores `payloads` as records of the active device signing with `key`, after checking
	/// every one, and holds their deposits from its owner at once.
	fn store_all(key: &T::AccountId, payloads: Vec<Payload>) -> DispatchResult {
		let device = T::Devices::active_device(key).map_err(|inactive| match inactive {
			Inactive::Unknown => Error::<T>::UnknownDevice,
			Inactive::Suspended => Error::<T>::DeviceSuspended,
		})?;
		let readers = Readers::<T>::get(device.id);
		let mut ledger = Ledgers::<T>::get(device.id);
		let deposits = payloads
			.iter()
			.map(|payload| {
				Self::ensure_valid(&readers, payload, &mut ledger.last_sequence)?;
				Ok(T::RecordDepositBase::get().saturating_add(
					T::RecordDepositPerByte::get()
						.saturating_mul((payload.encoded_size() as u32).into()),
				))
			})
			.collect::<Result<Vec<BalanceOf<T>>, DispatchError>>()?;
		let total = deposits.iter().fold(BalanceOf::<T>::zero(), |sum, d| sum.saturating_add(*d));
		ledger.held = ledger.held.saturating_add(total);
		ensure!(ledger.held <= device.limits.max_deposits, Error::<T>::DepositCapReached);
		T::Currency::hold(&HoldReason::RecordDeposit.into(), &device.owner, total)?;

		let first = ledger.next_record;
		let count = payloads.len() as RecordId;
		ledger.next_record = first.saturating_add(count);
		ledger.live = ledger.live.saturating_add(count);
		Ledgers::<T>::insert(device.id, ledger);
		let stored_at = frame_system::Pallet::<T>::block_number();
		let expires_at = stored_at.saturating_add(device.retention);
		Expiries::<T>::mutate(expires_at, device.id, |expiring| {
			// A device's records of one block have consecutive ids.
			let first = expiring.map_or(first, |earlier: Expiring| earlier.first);
			*expiring = Some(Expiring { first, end: ledger.next_record });
		});
		for (record, (payload, deposit)) in (first..).zip(payloads.into_iter().zip(deposits)) {
			let public = matches!(payload, Payload::Public(_));
			let depositor = device.owner.clone();
			Records::<T>::insert(
				device.id,
				record,
				Record { payload, depositor, deposit, stored_at, expires_at },
			);
			Self::deposit_event(Event::RecordStored {
				device: device.id,
				record,
				public,
				expires_at,
			});
		}
		Ok(())
	}

	/// Checks `payload` against the chain's bounds and the device's granted `readers`, and an
	/// envelope's sequence against the device's `last_sequence`, which it then becomes.
	fn ensure_valid(
		readers: &[ReaderKey],
		payload: &Payload,
		last_sequence: &mut Option<u64>,
	) -> DispatchResult {
		ensure!(
			payload.inline_len() <= T::MaxPayloadLen::get() as usize,
			Error::<T>::PayloadTooLarge
		);
		let Payload::Encrypted(envelope) = payload else { return Ok(()) };
		ensure!(envelope.version == ENVELOPE_VERSION, Error::<T>::UnsupportedVersion);
		ensure!(
			last_sequence.is_none_or(|last| envelope.sequence > last),
			Error::<T>::StaleSequence
		);
		let recipients = &envelope.recipients;
		ensure!(!recipients.is_empty(), Error::<T>::NoRecipients);
		ensure!(recipients.len() <= T::MaxReaders::get() as usize, Error::<T>::TooManyRecipients);
		for (i, recipient) in recipients.iter().enumerate() {
			ensure!(readers.contains(&recipient.reader), Error::<T>::NotAReader);
			ensure!(
				!recipients[..i].iter().any(|earlier| earlier.reader == recipient.reader),
				Error::<T>::DuplicateRecipient
			);
		}
		*last_sequence = Some(envelope.sequence);
		Ok(())
	}

	/// Applies `change` to `device`'s readers if `origin` is the device's owner.
	fn change_readers(
		origin: OriginFor<T>,
		device: DeviceId,
		change: impl FnOnce(&mut BoundedVec<ReaderKey, T::MaxReaders>) -> Result<(), Error<T>>,
	) -> DispatchResult {
		let who = ensure_signed(origin)?;
		let owner = T::Devices::owner(device).ok_or(Error::<T>::UnknownDevice)?;
		ensure!(owner == who, Error::<T>::NotOwner);
		Readers::<T>::try_mutate(device, change).map_err(Into::into)
	}

	/// Deletes a record and returns its deposit. The device's ledger goes with its last
	/// record once the device itself is gone.
	fn delete(device: DeviceId, record: RecordId, stored: Record<T>) -> DispatchResult {
		T::Currency::release(
			&HoldReason::RecordDeposit.into(),
			&stored.depositor,
			stored.deposit,
			Precision::BestEffort,
		)?;
		Records::<T>::remove(device, record);
		let ledger = Ledgers::<T>::mutate(device, |ledger| {
			ledger.live = ledger.live.saturating_sub(1);
			ledger.held = ledger.held.saturating_sub(stored.deposit);
			*ledger
		});
		if ledger.live == 0 && T::Devices::owner(device).is_none() {
			Ledgers::<T>::remove(device);
		}
		Ok(())
	}

	/// Deletes expired records, oldest first, within `limit`; returns the weight used. Resumes
	/// at [`ReapCursor`] where the last call stopped.
	fn reap_expired(now: BlockNumberFor<T>, limit: Weight) -> Weight {
		let mut meter = WeightMeter::with_limit(limit);
		if meter.try_consume(T::DbWeight::get().reads_writes(1, 1)).is_err() {
			return Weight::zero();
		}
		let step = T::WeightInfo::reap_expired_record().max(T::WeightInfo::skip_reaped_block());
		let start = ReapCursor::<T>::get();
		let mut cursor = start;
		while meter.can_consume(step) {
			match Self::reap_step(&mut cursor, now) {
				None => break,
				Some(ReapStep::Skipped) => meter.consume(T::WeightInfo::skip_reaped_block()),
				Some(ReapStep::Reaped) => meter.consume(T::WeightInfo::reap_expired_record()),
			}
		}
		if cursor != start {
			ReapCursor::<T>::put(cursor);
		}
		meter.consumed()
	}

	/// One step of reaping at `cursor`, if it is not past `now`: deletes the first record left
	/// that expires there, or moves the cursor to the next block when none is left.
	pub(crate) fn reap_step(
		cursor: &mut BlockNumberFor<T>,
		now: BlockNumberFor<T>,
	) -> Option<ReapStep> {
		if *cursor > now {
			return None;
		}
		let Some((device, expiring)) = Expiries::<T>::iter_prefix(*cursor).next() else {
			*cursor = cursor.saturating_add(One::one());
			return Some(ReapStep::Skipped);
		};
		let record = expiring.first;
		if expiring.first.saturating_add(1) >= expiring.end {
			Expiries::<T>::remove(*cursor, device);
		} else {
			Expiries::<T>::insert(*cursor, device, Expiring { first: record + 1, ..expiring });
		}
		// Gone already if its owner removed it.
		if let Some(stored) = Records::<T>::get(device, record) {
			if Self::delete(device, record, stored).is_ok() {
				Self::deposit_event(Event::RecordReaped { device, record });
			}
		}
		Some(ReapStep::Reaped)
	}
}

/// A removed device's readers are forgotten; its ledger too, if it has no records left.
impl<T: Config> OnDeviceRemoved for Pallet<T> {
	fn on_device_removed(id: DeviceId) {
		Readers::<T>::remove(id);
		if Ledgers::<T>::get(id).live == 0 {
			Ledgers::<T>::remove(id);
		}
	}

	fn weight() -> Weight {
		T::WeightInfo::on_device_removed()
	}
}
