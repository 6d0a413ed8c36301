//! Owner-paid fees: a device holds no tokens, its owner pays for what it signs.
//!
//! [`OwnerPays`] wraps the runtime's fee charging (`pallet_transaction_payment`'s
//! `OnChargeTransaction`). When an active device signs a call its owner pays for
//! ([`SponsoredCalls`]), the fee is taken from the device's owner instead, and only while the
//! device stays within its [`FeeLimits`](crate::FeeLimits): at most `max_transactions` paid
//! actions and `max_fees` per window of `window` blocks (windows start at multiples of
//! `window`). A call counts as the actions it does, so a batch of n records counts n: batching
//! saves fees, never the limit. A stolen device key can therefore cost its owner no more than
//! `max_fees` per window (and the data records pallet holds no more than `max_deposits` of
//! record deposits for it), until the owner suspends the device or rotates its key.
//!
//! ```text
//!  device tx ──ChargeTransactionPayment──► OwnerPays ── active device, call sponsored? ──┐
//!                                              │ no: the signer pays                      │ yes
//!                                              ▼                                          ▼
//!                                         inner adapter ◄── owner pays, within the window's limits
//!                                                          (else invalid: RATE_LIMITED / SPENDING_CAP_REACHED)
//! ```
//!
//! Charging stays inside the standard transaction-payment extension, so transactions are
//! encoded and signed exactly like any other (Polkadot.js and subxt need nothing declared).
//! Refunds of unused weight go back to the owner and are taken off the window's spending.

use crate::{BalanceOf, Config, DeviceId, DeviceInspect, FeeUsage, Pallet, Spending, WeightInfo};
use core::marker::PhantomData;
use polkadot_sdk::{
	frame_support::weights::Weight,
	frame_system::{self, pallet_prelude::BlockNumberFor},
	pallet_transaction_payment::{self, OnChargeTransaction, TxCreditHold},
	sp_runtime::{
		traits::{DispatchInfoOf, PostDispatchInfoOf, Saturating, Zero},
		transaction_validity::{InvalidTransaction, TransactionValidityError},
	},
};

/// `InvalidTransaction::Custom` code: the call would take the device past `max_transactions`
/// paid actions in this window.
pub const RATE_LIMITED: u8 = 1;
/// `InvalidTransaction::Custom` code: the fee would take the device past `max_fees` in this
/// window.
pub const SPENDING_CAP_REACHED: u8 = 2;

/// The device-signed calls an owner pays for, and what each counts against the device's
/// `max_transactions`.
pub trait SponsoredCalls<Call> {
	/// How many paid actions `call` does (a batch of n records: n), or `None` if its signer,
	/// not a device's owner, pays for it.
	fn actions(call: &Call) -> Option<u32>;
}

/// Charges fees of device-signed calls in `Calls` to the device's owner, through `Inner`.
pub struct OwnerPays<Calls, Inner>(PhantomData<(Calls, Inner)>);

/// Who paid a fee, for the refund after dispatch.
pub struct Paid<AccountId, Balance, Liquidity> {
	payer: AccountId,
	/// The sponsored device and the fee counted against its window.
	device: Option<(DeviceId, Balance)>,
	inner: Liquidity,
}

/// An owner paying for its device.
pub(crate) struct Sponsor<T: Config> {
	id: DeviceId,
	owner: T::AccountId,
	usage: FeeUsage<BalanceOf<T>, BlockNumberFor<T>>,
}

impl<T: Config> Sponsor<T> {
	/// Counts the fee against the device's window, once the owner paid it.
	pub(crate) fn record(&self) {
		Spending::<T>::insert(self.id, self.usage);
	}
}

/// The weight of charging a fee: `Inner`'s (the transaction-payment extension's own) plus
/// finding a device's owner and counting its spending, which any signed transaction may need.
pub struct ChargeWeight<T, Inner>(PhantomData<(T, Inner)>);

impl<T, Inner> pallet_transaction_payment::WeightInfo for ChargeWeight<T, Inner>
where
	T: Config,
	Inner: pallet_transaction_payment::WeightInfo,
{
	fn charge_transaction_payment() -> Weight {
		Inner::charge_transaction_payment().saturating_add(T::WeightInfo::charge_owner())
	}
}

impl<T: Config> Pallet<T> {
	/// The owner who pays `fee` for `call` signed by `who`, if `who` is an active device's key
	/// and `Calls` sponsors the call, with the device's spending after paying it; an error if
	/// that breaks the device's limits.
	pub(crate) fn sponsor<Calls: SponsoredCalls<T::RuntimeCall>>(
		who: &T::AccountId,
		call: &T::RuntimeCall,
		fee: BalanceOf<T>,
	) -> Result<Option<Sponsor<T>>, TransactionValidityError> {
		let Ok(device) = Self::active_device(who) else { return Ok(None) };
		let Some(actions) = Calls::actions(call) else { return Ok(None) };
		let limits = device.limits;
		let now = frame_system::Pallet::<T>::block_number();
		let window_start = now.saturating_sub(now % limits.window);
		let mut usage = Spending::<T>::get(device.id);
		if usage.window_start != window_start {
			usage = FeeUsage { window_start, transactions: 0, fees: Zero::zero() };
		}
		usage.transactions = usage.transactions.saturating_add(actions);
		if usage.transactions > limits.max_transactions {
			return Err(InvalidTransaction::Custom(RATE_LIMITED).into());
		}
		usage.fees = usage.fees.saturating_add(fee);
		if usage.fees > limits.max_fees {
			return Err(InvalidTransaction::Custom(SPENDING_CAP_REACHED).into());
		}
		Ok(Some(Sponsor { id: device.id, owner: device.owner, usage }))
	}
}

impl<T, Calls, Inner> TxCreditHold<T> for OwnerPays<Calls, Inner>
where
	T: pallet_transaction_payment::Config,
	Inner: TxCreditHold<T>,
{
	type Credit = Inner::Credit;
}

impl<T, Calls, Inner> OnChargeTransaction<T> for OwnerPays<Calls, Inner>
where
	T: Config + pallet_transaction_payment::Config,
	Calls: SponsoredCalls<T::RuntimeCall>,
	Inner: OnChargeTransaction<T, Balance = BalanceOf<T>>,
{
	type Balance = BalanceOf<T>;
	type LiquidityInfo = Option<Paid<T::AccountId, BalanceOf<T>, Inner::LiquidityInfo>>;

	fn withdraw_fee(
		who: &T::AccountId,
		call: &T::RuntimeCall,
		info: &DispatchInfoOf<T::RuntimeCall>,
		fee_with_tip: Self::Balance,
		tip: Self::Balance,
	) -> Result<Self::LiquidityInfo, TransactionValidityError> {
		match Pallet::<T>::sponsor::<Calls>(who, call, fee_with_tip)? {
			None => {
				let inner = Inner::withdraw_fee(who, call, info, fee_with_tip, tip)?;
				Ok(Some(Paid { payer: who.clone(), device: None, inner }))
			}
			Some(sponsor) => {
				let inner = Inner::withdraw_fee(&sponsor.owner, call, info, fee_with_tip, tip)?;
				sponsor.record();
				let device = Some((sponsor.id, fee_with_tip));
				Ok(Some(Paid { payer: sponsor.owner, device, inner }))
			}
		}
	}

	fn can_withdraw_fee(
		who: &T::AccountId,
		call: &T::RuntimeCall,
		info: &DispatchInfoOf<T::RuntimeCall>,
		fee_with_tip: Self::Balance,
		tip: Self::Balance,
	) -> Result<(), TransactionValidityError> {
		let payer = Pallet::<T>::sponsor::<Calls>(who, call, fee_with_tip)?
			.map_or_else(|| who.clone(), |sponsor| sponsor.owner);
		Inner::can_withdraw_fee(&payer, call, info, fee_with_tip, tip)
	}

	fn correct_and_deposit_fee(
		who: &T::AccountId,
		info: &DispatchInfoOf<T::RuntimeCall>,
		post_info: &PostDispatchInfoOf<T::RuntimeCall>,
		corrected_fee_with_tip: Self::Balance,
		tip: Self::Balance,
		paid: Self::LiquidityInfo,
	) -> Result<(), TransactionValidityError> {
		let Some(Paid { payer, device, inner }) = paid else {
			return Inner::correct_and_deposit_fee(
				who,
				info,
				post_info,
				corrected_fee_with_tip,
				tip,
				Default::default(),
			);
		};
		if let Some((id, charged)) = device {
			let refund = charged.saturating_sub(corrected_fee_with_tip);
			Spending::<T>::mutate(id, |usage| usage.fees = usage.fees.saturating_sub(refund));
		}
		Inner::correct_and_deposit_fee(&payer, info, post_info, corrected_fee_with_tip, tip, inner)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn endow_account(who: &T::AccountId, amount: Self::Balance) {
		Inner::endow_account(who, amount)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn minimum_balance() -> Self::Balance {
		Inner::minimum_balance()
	}
}
