//! A service node's own key: one ed25519 key, kept in `<base-path>/p2p.key`, that is both its
//! libp2p identity (its peer id) and the key it signs its agreement votes with. Its public
//! half goes on WebChain in the node account's identity, as the [`IDENTITY_FIELD`] field,
//! before the registrar judges that identity: the registrar then vouches for the key as for
//! the rest of it, and a node that changes its key must be judged again.
//!
//! ```text
//!  thingschain-nest key ─► p2p.key (0600) ─► public key ─► Identity.set_identity
//!     { additional: [("tc-nest-key", key)] } ─► registrar's judgement ─► owner trusts the node
//!  every node ─► the service's nodes (ServiceRegistry) and their keys (Identity), at a
//!     finalized block ─► the agreement's participants, the peers it accepts votes from
//! ```

use commonware_codec::DecodeExt;
use commonware_cryptography::ed25519;
use libp2p::{identity, PeerId};
use std::{io::Write, os::unix::fs::OpenOptionsExt, path::Path};

/// The field of a node account's on-chain identity (`additional`) that holds its key.
pub const IDENTITY_FIELD: &[u8] = b"tc-nest-key";

/// Why the node's key cannot be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
	/// The key file cannot be read or written.
	#[error("the node key {path}: {source}")]
	Io {
		/// The file.
		path: String,
		/// Why.
		source: std::io::Error,
	},
	/// The key file holds no ed25519 libp2p key.
	#[error("the node key {path} is not an ed25519 libp2p key: {reason}")]
	Malformed {
		/// The file.
		path: String,
		/// Why.
		reason: String,
	},
}

/// A node's key.
#[derive(Clone)]
pub struct NodeKey {
	peer: identity::ed25519::Keypair,
}

impl NodeKey {
	/// The key at `path`, made there (readable by its owner only) on the first start.
	pub fn load_or_create(path: &Path) -> Result<NodeKey, KeyError> {
		let shown = path.display().to_string();
		let io = |source| KeyError::Io { path: shown.clone(), source };
		match std::fs::read(path) {
			Ok(bytes) => {
				let malformed =
					|reason: String| KeyError::Malformed { path: shown.clone(), reason };
				let key = identity::Keypair::from_protobuf_encoding(&bytes)
					.map_err(|e| malformed(e.to_string()))?;
				let peer = key.try_into_ed25519().map_err(|e| malformed(e.to_string()))?;
				// Files written before keys were kept private.
				std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
					.map_err(io)?;
				Ok(NodeKey { peer })
			}
			Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
				let peer = identity::ed25519::Keypair::generate();
				let encoded =
					identity::Keypair::from(peer.clone()).to_protobuf_encoding().map_err(|e| {
						KeyError::Malformed { path: shown.clone(), reason: e.to_string() }
					})?;
				let mut file = std::fs::OpenOptions::new()
					.write(true)
					.create_new(true)
					.mode(0o600)
					.open(path)
					.map_err(io)?;
				file.write_all(&encoded).and_then(|()| file.sync_all()).map_err(io)?;
				Ok(NodeKey { peer })
			}
			Err(error) => Err(io(error)),
		}
	}

	/// Its public half, as WebChain holds it.
	pub fn public(&self) -> [u8; 32] {
		self.peer.public().to_bytes()
	}

	/// Its libp2p identity.
	pub fn libp2p(&self) -> identity::Keypair {
		self.peer.clone().into()
	}

	/// The key the agreement signs with.
	pub fn agreement(&self) -> ed25519::PrivateKey {
		let secret = self.peer.secret();
		ed25519::PrivateKey::decode(secret.as_ref())
			.expect("an ed25519 secret of 32 bytes is a commonware ed25519 private key")
	}
}

/// The agreement's public key of a node whose key WebChain holds as `key`; `None` if it is
/// not a valid ed25519 point.
pub fn agreement_public(key: &[u8; 32]) -> Option<ed25519::PublicKey> {
	ed25519::PublicKey::decode(&key[..]).ok()
}

/// The libp2p peer id of a node whose key WebChain holds as `key`.
pub fn peer_id(key: &[u8; 32]) -> Option<PeerId> {
	let public = identity::ed25519::PublicKey::try_from_bytes(key).ok()?;
	Some(PeerId::from_public_key(&public.into()))
}

#[cfg(test)]
mod tests {
	use super::*;
	use commonware_cryptography::{Signer, Verifier};
	use std::os::unix::fs::PermissionsExt;

	#[test]
	fn a_key_is_made_private_once_and_read_back_the_same() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("p2p.key");
		let made = NodeKey::load_or_create(&path).unwrap();
		let mode = std::fs::metadata(&path).unwrap().permissions().mode();
		assert_eq!(mode & 0o777, 0o600, "only its owner reads the key");
		let read = NodeKey::load_or_create(&path).unwrap();
		assert_eq!(made.public(), read.public());

		// The one key is the peer id and the agreement's signer.
		assert_eq!(peer_id(&made.public()), Some(made.libp2p().public().to_peer_id()));
		let signed = read.agreement().sign(b"namespace", b"vote");
		let public = agreement_public(&made.public()).unwrap();
		assert!(public.verify(b"namespace", b"vote", &signed));
		assert!(!public.verify(b"other", b"vote", &signed));
	}

	#[test]
	fn a_world_readable_key_of_an_older_node_is_made_private() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("p2p.key");
		let old = identity::Keypair::generate_ed25519();
		std::fs::write(&path, old.to_protobuf_encoding().unwrap()).unwrap();
		std::fs::set_permissions(&path, PermissionsExt::from_mode(0o644)).unwrap();
		let key = NodeKey::load_or_create(&path).unwrap();
		assert_eq!(peer_id(&key.public()), Some(old.public().to_peer_id()));
		let mode = std::fs::metadata(&path).unwrap().permissions().mode();
		assert_eq!(mode & 0o777, 0o600);
	}

	#[test]
	fn a_file_that_is_no_key_is_refused_with_its_name() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("p2p.key");
		std::fs::write(&path, b"garbage").unwrap();
		let error = NodeKey::load_or_create(&path).err().unwrap();
		assert!(matches!(error, KeyError::Malformed { .. }), "{error}");
		assert!(error.to_string().contains("p2p.key"));
	}
}
