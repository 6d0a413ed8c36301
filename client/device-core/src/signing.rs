//! Signing a device's transactions on the device: sr25519 (schnorrkel, with the device's own
//! random number generator) over ThingsChain's transaction format.
//!
//! ```text
//!  signed payload = call ‖ explicit extensions ‖ implicit extensions   (BLAKE2-256 of it if > 256 bytes)
//!  explicit       = era ‖ compact(nonce) ‖ compact(tip = 0) ‖ metadata-hash mode (0: off)
//!  implicit       = spec version ‖ transaction version ‖ genesis hash ‖ era birth block hash ‖ None
//!  transaction    = compact(length) ‖ 0x84 ‖ MultiAddress::Id(key) ‖ MultiSignature::Sr25519 ‖ explicit ‖ call
//! ```
//!
//! The extensions are the runtime's, in its order ([`TRANSACTION_EXTENSIONS`]); a client
//! checks them against the chain's metadata before using this module. What the device needs
//! from the chain ([`ChainContext`]) is the same for every transaction it signs within the
//! mortality window, so it can be fetched once for a batch of transactions.

use alloc::vec::Vec;
use codec::{Compact, Encode};
use polkadot_sdk::{
	sp_core::sr25519::Signature,
	sp_crypto_hashing::blake2_256,
	sp_runtime::{generic::Era, MultiSignature},
};
use rand_core::{CryptoRng, RngCore};
use schnorrkel::{context::attach_rng, ExpansionMode, MiniSecretKey};
use thingschain_primitives::{
	ids::Hash,
	nest::{NestRecord, SignedNestRecord},
};

/// The runtime's transaction extensions, in order, as its metadata names them.
pub const TRANSACTION_EXTENSIONS: [&str; 10] = [
	"CheckNonZeroSender",
	"CheckSpecVersion",
	"CheckTxVersion",
	"CheckGenesis",
	"CheckMortality",
	"CheckNonce",
	"CheckWeight",
	"ChargeTransactionPayment",
	"CheckMetadataHash",
	"WeightReclaim",
];

/// The signing context of Substrate's sr25519 signatures.
const SIGNING_CONTEXT: &[u8] = b"substrate";

/// What signing needs to know about the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainContext {
	/// Hash of the chain's genesis block.
	pub genesis_hash: [u8; 32],
	/// The runtime's spec version.
	pub spec_version: u32,
	/// The runtime's transaction version.
	pub transaction_version: u32,
	/// A recent block the transaction's lifetime starts from: its number and hash.
	pub birth: (u64, [u8; 32]),
	/// How many blocks from `birth` the transaction stays valid (rounded to a power of two).
	pub mortality: u64,
}

/// A device's sr25519 key.
pub struct DeviceKey(schnorrkel::Keypair);

impl DeviceKey {
	/// The key of a 32-byte seed, expanded as Substrate expands sr25519 seeds.
	pub fn from_seed(seed: &[u8; 32]) -> Self {
		let mini = MiniSecretKey::from_bytes(seed).expect("any 32 bytes are a mini secret key");
		Self(mini.expand_to_keypair(ExpansionMode::Ed25519))
	}

	/// The public key: the device's account on chain.
	pub fn public(&self) -> [u8; 32] {
		self.0.public.to_bytes()
	}

	/// Signs `message` with randomness from `rng`.
	pub fn sign(&self, message: &[u8], rng: impl RngCore + CryptoRng) -> [u8; 64] {
		let transcript = schnorrkel::signing_context(SIGNING_CONTEXT).bytes(message);
		self.0.sign(attach_rng(transcript, rng)).to_bytes()
	}

	/// Signs `record` for a service node of the chain of `genesis_hash`
	/// ([`NestRecord::signing_bytes`]).
	pub fn sign_record(
		&self,
		record: NestRecord,
		genesis_hash: &Hash,
		rng: impl RngCore + CryptoRng,
	) -> SignedNestRecord {
		let signature = self.sign(&record.signing_bytes(genesis_hash), rng);
		SignedNestRecord {
			record,
			signature: MultiSignature::Sr25519(Signature::from_raw(signature)),
		}
	}
}

/// The encoded, signed transaction of `call` (its encoded pallet index, call index and
/// arguments), from `key` with `nonce`, valid within `context`.
pub fn sign_transaction(
	key: &DeviceKey,
	call: &[u8],
	nonce: u64,
	context: &ChainContext,
	rng: impl RngCore + CryptoRng,
) -> Vec<u8> {
	let era = Era::mortal(context.mortality, context.birth.0);
	let tip = Compact(0u128);
	let metadata_hash_mode = 0u8;
	let explicit = (era, Compact(nonce), tip, metadata_hash_mode).encode();
	let implicit = (
		context.spec_version,
		context.transaction_version,
		context.genesis_hash,
		context.birth.1,
		None::<[u8; 32]>,
	)
		.encode();
	let mut payload = [call, &explicit, &implicit].concat();
	if payload.len() > 256 {
		payload = blake2_256(&payload).to_vec();
	}
	let signature = key.sign(&payload, rng);

	const SIGNED_V4: u8 = 0x84;
	const ADDRESS_ID: u8 = 0x00;
	const SIGNATURE_SR25519: u8 = 0x01;
	let body = [
		&[SIGNED_V4, ADDRESS_ID][..],
		&key.public(),
		&[SIGNATURE_SR25519],
		&signature,
		&explicit,
		call,
	]
	.concat();
	body.encode()
}

/// The hash the chain knows an encoded `transaction` by (its pool, its blocks' extrinsics):
/// a device knows what to look for before it submits.
pub fn transaction_hash(transaction: &[u8]) -> [u8; 32] {
	blake2_256(transaction)
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Decode;
	use rand_core::OsRng;

	const CONTEXT: ChainContext = ChainContext {
		genesis_hash: [7; 32],
		spec_version: 100,
		transaction_version: 1,
		birth: (1_000, [9; 32]),
		mortality: 64,
	};

	fn verify(key: &DeviceKey, message: &[u8], signature: &[u8]) -> bool {
		let signature = schnorrkel::Signature::from_bytes(signature).unwrap();
		let public = schnorrkel::PublicKey::from_bytes(&key.public()).unwrap();
		public
			.verify(schnorrkel::signing_context(SIGNING_CONTEXT).bytes(message), &signature)
			.is_ok()
	}

	#[test]
	fn keys_and_signatures_are_substrates() {
		use polkadot_sdk::sp_core::{sr25519, Pair};
		let seed = [1u8; 32];
		let key = DeviceKey::from_seed(&seed);
		let pair = sr25519::Pair::from_seed(&seed);
		assert_eq!(key.public(), pair.public().0);
		let signature = sr25519::Signature::from_raw(key.sign(b"reading", OsRng));
		assert!(sr25519::Pair::verify(&signature, b"reading", &pair.public()));
		assert!(!sr25519::Pair::verify(&signature, b"other", &pair.public()));
	}

	#[test]
	fn a_transaction_carries_the_call_the_extensions_and_a_valid_signature() {
		let key = DeviceKey::from_seed(&[3; 32]);
		let call = [35u8, 0, 1, 2, 3];
		let signed = sign_transaction(&key, &call, 5, &CONTEXT, OsRng);
		let body = Vec::<u8>::decode(&mut &signed[..]).expect("length-prefixed");
		assert_eq!(&body[..2], &[0x84, 0x00]);
		assert_eq!(&body[2..34], &key.public());
		assert_eq!(body[34], 0x01);
		let signature = &body[35..99];
		let explicit = (Era::mortal(64, 1_000), Compact(5u64), Compact(0u128), 0u8).encode();
		assert_eq!(&body[99..99 + explicit.len()], &explicit[..]);
		assert_eq!(&body[99 + explicit.len()..], &call);
		let implicit = (100u32, 1u32, [7u8; 32], [9u8; 32], None::<[u8; 32]>).encode();
		let payload = [&call[..], &explicit, &implicit].concat();
		assert!(verify(&key, &payload, signature));
		// The signature covers the chain: on another genesis it is not valid.
		let implicit = (100u32, 1u32, [8u8; 32], [9u8; 32], None::<[u8; 32]>).encode();
		assert!(!verify(&key, &[&call[..], &explicit, &implicit].concat(), signature));
	}

	#[test]
	fn long_payloads_are_signed_by_their_hash() {
		let key = DeviceKey::from_seed(&[4; 32]);
		let call = [0xAB; 300];
		let signed = sign_transaction(&key, &call, 0, &CONTEXT, OsRng);
		let body = Vec::<u8>::decode(&mut &signed[..]).unwrap();
		let explicit = (Era::mortal(64, 1_000), Compact(0u64), Compact(0u128), 0u8).encode();
		let implicit = (100u32, 1u32, [7u8; 32], [9u8; 32], None::<[u8; 32]>).encode();
		let hashed = blake2_256(&[&call[..], &explicit, &implicit].concat());
		assert!(verify(&key, &hashed, &body[35..99]));
	}
}
