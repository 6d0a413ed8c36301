//! What a device key signs to be bound to a device: its consent to one owner, on one chain.
//!
//! Registering a device (or rotating a device to a new key) needs the key's signature over a
//! [`KeyBinding`], so nobody can bind a key they do not hold (and have the device seal its
//! readings for readers they chose). The nonce is the key account's nonce on chain, which
//! binding increases, so every signature binds once.
//!
//! ```text
//!  signed bytes = "tc/device/bind/1" ‖ genesis hash ‖ owner account ‖ key nonce   (SCALE)
//! ```

use codec::Encode;

/// The domain tag a key binding starts with.
pub const KEY_BINDING_TAG: [u8; 16] = *b"tc/device/bind/1";

/// A device key's consent to be bound to a device of `owner` on the chain of `genesis_hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode)]
pub struct KeyBinding<Hash, AccountId, Nonce> {
	/// [`KEY_BINDING_TAG`].
	pub tag: [u8; 16],
	/// The chain's genesis hash.
	pub genesis_hash: Hash,
	/// The account that registers the device, or rotates it to this key.
	pub owner: AccountId,
	/// The key account's nonce on chain when it is bound.
	pub nonce: Nonce,
}

impl<Hash: Encode, AccountId: Encode, Nonce: Encode> KeyBinding<Hash, AccountId, Nonce> {
	/// The binding of a key to `owner`'s device at `nonce`, on the chain of `genesis_hash`.
	pub fn new(genesis_hash: Hash, owner: AccountId, nonce: Nonce) -> Self {
		Self { tag: KEY_BINDING_TAG, genesis_hash, owner, nonce }
	}

	/// The bytes the key signs.
	pub fn message(&self) -> alloc::vec::Vec<u8> {
		self.encode()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_binding_is_the_tag_the_chain_the_owner_and_the_nonce() {
		let message = KeyBinding::new([1u8; 32], [2u8; 32], 5u32).message();
		assert_eq!(&message[..16], b"tc/device/bind/1");
		assert_eq!(&message[16..48], &[1; 32]);
		assert_eq!(&message[48..80], &[2; 32]);
		assert_eq!(&message[80..], &5u32.to_le_bytes());
	}
}
