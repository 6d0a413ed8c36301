//! A device's keys: sr25519 to sign transactions, X25519 to be a reader, in one key file, with
//! the owner the device agreed to be bound to (pinned when it signs its key binding).

use crate::Error;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use std::{io::Write, path::Path, str::FromStr};
use subxt::utils::AccountId32;
use subxt_signer::{sr25519::Keypair, SecretUri};
use thingschain_device_core::{signing::DeviceKey, ReaderSecret};
use thingschain_primitives::{device::KeyBinding, envelope::ReaderKey};
use zeroize::Zeroizing;

/// A device's (or a reader's) keys.
pub struct DeviceKeys {
	seed: Zeroizing<[u8; 32]>,
	/// Signs the device's transactions; its account is the device's key on chain.
	pub signer: DeviceKey,
	/// Opens records sealed for [`Self::reader_key`].
	pub reader: ReaderSecret,
	/// The owner the device consented to be bound to: it seals for no other's readers.
	pub owner: Option<AccountId32>,
}

/// The key file: both secrets, hex encoded, and the pinned owner.
#[derive(Serialize, Deserialize)]
struct KeyFile {
	signing_seed: String,
	reader_secret: String,
	#[serde(default, skip_serializing_if = "Option::is_none")]
	owner: Option<String>,
}

impl DeviceKeys {
	/// New random keys from the operating system's generator.
	pub fn generate() -> Self {
		let mut seed = Zeroizing::new([0u8; 32]);
		OsRng.fill_bytes(seed.as_mut());
		Self::from_secrets(seed, ReaderSecret::generate(&mut OsRng))
	}

	fn from_secrets(seed: Zeroizing<[u8; 32]>, reader: ReaderSecret) -> Self {
		Self { signer: DeviceKey::from_seed(&seed), seed, reader, owner: None }
	}

	/// The device's proof of possession for `binding`: its signature, to register it (or
	/// rotate a device to it). Pins the binding's owner in the key file at `path`, so the
	/// device seals only for a device of that owner.
	pub fn prove_binding(
		&mut self,
		path: &Path,
		binding: &KeyBinding<[u8; 32], [u8; 32], u32>,
	) -> Result<[u8; 64], Error> {
		self.owner = Some(AccountId32(binding.owner));
		let tmp = path.with_extension("pinning");
		// Left over by a crash mid-way, if it exists.
		let _ = std::fs::remove_file(&tmp);
		self.write(&tmp)?;
		std::fs::rename(&tmp, path)?;
		Ok(self.signer.sign(&binding.message(), OsRng))
	}

	/// The account the device signs as.
	pub fn account(&self) -> AccountId32 {
		AccountId32(self.signer.public())
	}

	/// The X25519 key records are sealed for, to grant this holder as a reader.
	pub fn reader_key(&self) -> ReaderKey {
		self.reader.public_key()
	}

	/// Writes the keys to a new file at `path`, readable by its owner only.
	pub fn save(&self, path: &Path) -> Result<(), Error> {
		self.write(path)
	}

	fn write(&self, path: &Path) -> Result<(), Error> {
		let file = KeyFile {
			signing_seed: hex::encode(self.seed.as_ref()),
			reader_secret: hex::encode(self.reader.to_bytes().as_ref()),
			owner: self.owner.as_ref().map(ToString::to_string),
		};
		let mut options = std::fs::OpenOptions::new();
		options.write(true).create_new(true);
		#[cfg(unix)]
		std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
		let mut out = options.open(path)?;
		out.write_all(&serde_json::to_vec_pretty(&file).expect("plain strings serialize"))?;
		Ok(())
	}

	/// Reads keys written by [`Self::save`].
	pub fn load(path: &Path) -> Result<Self, Error> {
		let file: KeyFile = serde_json::from_slice(&std::fs::read(path)?)
			.map_err(|e| Error::Keys(format!("{}: {e}", path.display())))?;
		let seed = Zeroizing::new(decode32(&file.signing_seed)?);
		let reader = ReaderSecret::from_bytes(*Zeroizing::new(decode32(&file.reader_secret)?));
		let owner = file
			.owner
			.map(|owner| AccountId32::from_str(&owner).map_err(|e| Error::Keys(e.to_string())))
			.transpose()?;
		Ok(Self { owner, ..Self::from_secrets(seed, reader) })
	}
}

/// An account's key from a secret URI: `//Alice`, a mnemonic, `0x<seed>`, with derivations.
pub fn signer_from_uri(uri: &str) -> Result<Keypair, Error> {
	let uri = SecretUri::from_str(uri).map_err(|e| Error::Keys(e.to_string()))?;
	Keypair::from_uri(&uri).map_err(|e| Error::Keys(e.to_string()))
}

/// 32 bytes from hex, with or without `0x`.
pub fn decode32(text: &str) -> Result<[u8; 32], Error> {
	let bytes =
		hex::decode(text.trim_start_matches("0x")).map_err(|e| Error::Keys(e.to_string()))?;
	bytes.try_into().map_err(|_| Error::Keys("expected 32 bytes".into()))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn keys_survive_a_round_trip_through_their_file_and_no_file_is_overwritten() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("device.json");
		let keys = DeviceKeys::generate();
		keys.save(&path).unwrap();
		let loaded = DeviceKeys::load(&path).unwrap();
		assert_eq!(loaded.account(), keys.account());
		// The device core derives the account subxt (and Substrate) derive from the seed.
		let subxt_key = Keypair::from_secret_key(*loaded.seed).unwrap();
		assert_eq!(subxt_key.public_key().to_account_id(), keys.account());
		assert_eq!(loaded.reader_key(), keys.reader_key());
		assert!(matches!(DeviceKeys::generate().save(&path), Err(Error::Io(_))));
		// Proving a binding pins its owner in the file, and signs it with the device key.
		let mut keys = loaded;
		let binding = KeyBinding::new([1; 32], [2; 32], 0);
		let proof = keys.prove_binding(&path, &binding).unwrap();
		let public = subxt_signer::sr25519::PublicKey(keys.signer.public());
		let signature = subxt_signer::sr25519::Signature(proof);
		assert!(subxt_signer::sr25519::verify(&signature, binding.message(), &public));
		assert_eq!(DeviceKeys::load(&path).unwrap().owner, Some(AccountId32([2; 32])));
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			let mode = std::fs::metadata(&path).unwrap().permissions().mode();
			assert_eq!(mode & 0o777, 0o600);
		}
		assert!(matches!(decode32("0x1234"), Err(Error::Keys(_))));
	}
}
