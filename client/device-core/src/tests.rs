//! Round trips, refusals, and the published test vectors of the primitives used.

use super::*;
use hex_literal::hex;
use polkadot_sdk::sp_core::H256;
use proptest::prelude::*;
use rand_core::{CryptoRng, OsRng, RngCore};
use thingschain_primitives::envelope::MAX_LOCATOR_BYTES;

/// Device 3 of the chain of genesis hash `0x0707..`.
const HERE: Provenance = Provenance { genesis_hash: H256([7; 32]), device: 3 };

fn readers(n: usize) -> Vec<ReaderSecret> {
	(0..n).map(|_| ReaderSecret::generate(&mut OsRng)).collect()
}

fn keys(readers: &[ReaderSecret]) -> Vec<ReaderKey> {
	readers.iter().map(ReaderSecret::public_key).collect()
}

#[test]
fn every_reader_opens_an_inline_record_and_a_stranger_does_not() {
	let readers = readers(3);
	let sealed = seal(b"21.5 C", &keys(&readers), Placement::Inline, &HERE, 1, &mut OsRng).unwrap();
	assert_eq!(sealed.external_ciphertext, None);
	assert_eq!(sealed.envelope.body.size(), 6 + 16);
	for reader in &readers {
		assert_eq!(open(&sealed.envelope, &HERE, None, reader).unwrap().as_slice(), b"21.5 C");
	}
	let stranger = ReaderSecret::generate(&mut OsRng);
	assert_eq!(open(&sealed.envelope, &HERE, None, &stranger), Err(OpenError::NotARecipient));
}

#[test]
fn a_stranger_posing_as_a_recipient_cannot_unwrap_the_key() {
	let reader = ReaderSecret::generate(&mut OsRng);
	let mut sealed =
		seal(b"secret", &[reader.public_key()], Placement::Inline, &HERE, 1, &mut OsRng).unwrap();
	// The stranger relabels the reader's wrapped key as its own.
	let stranger = ReaderSecret::generate(&mut OsRng);
	sealed.envelope.recipients[0].reader = stranger.public_key();
	assert_eq!(open(&sealed.envelope, &HERE, None, &stranger), Err(OpenError::Tampered));
}

#[test]
fn any_change_to_an_envelope_is_detected() {
	let reader = ReaderSecret::generate(&mut OsRng);
	let sealed =
		seal(b"reading", &[reader.public_key()], Placement::Inline, &HERE, 1, &mut OsRng).unwrap();
	let tampered = |change: &dyn Fn(&mut Envelope)| {
		let mut envelope = sealed.envelope.clone();
		change(&mut envelope);
		open(&envelope, &HERE, None, &reader)
	};
	assert_eq!(
		tampered(&|e| if let Body::Inline(bytes) = &mut e.body {
			bytes[0] ^= 1
		}),
		Err(OpenError::Tampered)
	);
	assert_eq!(tampered(&|e| e.nonce[0] ^= 1), Err(OpenError::Tampered));
	assert_eq!(tampered(&|e| e.ephemeral_key[0] ^= 1), Err(OpenError::Tampered));
	assert_eq!(tampered(&|e| e.recipients[0].wrapped_key[0] ^= 1), Err(OpenError::Tampered));
	assert_eq!(tampered(&|e| e.sequence += 1), Err(OpenError::Tampered));
	assert_eq!(tampered(&|e| e.version = 1), Err(OpenError::UnsupportedVersion));
}

#[test]
fn an_envelope_opens_only_as_a_record_of_the_device_and_chain_it_was_sealed_for() {
	let reader = ReaderSecret::generate(&mut OsRng);
	let sealed =
		seal(b"door open", &[reader.public_key()], Placement::Inline, &HERE, 1, &mut OsRng)
			.unwrap();
	// Another device re-storing it, or someone replaying it on another chain.
	let other_device = Provenance { device: 4, ..HERE };
	let other_chain = Provenance { genesis_hash: H256([8; 32]), ..HERE };
	for elsewhere in [other_device, other_chain] {
		assert_eq!(open(&sealed.envelope, &elsewhere, None, &reader), Err(OpenError::Tampered));
	}
	assert_eq!(open(&sealed.envelope, &HERE, None, &reader).unwrap().as_slice(), b"door open");
}

#[test]
fn external_ciphertext_is_checked_against_the_envelope() {
	let reader = ReaderSecret::generate(&mut OsRng);
	let data = vec![7u8; 10_000];
	let placement = Placement::External { locator: b"ipfs://bafy-record" };
	let sealed = seal(&data, &[reader.public_key()], placement, &HERE, 1, &mut OsRng).unwrap();
	let ciphertext = sealed.external_ciphertext.unwrap();
	let Body::External { hash, size, locator } = &sealed.envelope.body else {
		panic!("an external body")
	};
	assert_eq!((*hash, *size), (ciphertext_hash(&ciphertext), data.len() as u64 + 16));
	assert_eq!(locator.as_slice(), b"ipfs://bafy-record");
	assert_eq!(
		open(&sealed.envelope, &HERE, Some(&ciphertext), &reader).unwrap().as_slice(),
		&data[..]
	);
	assert_eq!(open(&sealed.envelope, &HERE, None, &reader), Err(OpenError::CiphertextMissing));
	let mut changed = ciphertext.clone();
	changed[0] ^= 1;
	assert_eq!(
		open(&sealed.envelope, &HERE, Some(&changed), &reader),
		Err(OpenError::CiphertextMismatch)
	);
	// The locator is authenticated too: pointing the envelope elsewhere breaks it.
	let mut moved = sealed.envelope.clone();
	if let Body::External { locator, .. } = &mut moved.body {
		*locator = b"https://elsewhere".to_vec().try_into().unwrap();
	}
	assert_eq!(open(&moved, &HERE, Some(&ciphertext), &reader), Err(OpenError::Tampered));
}

#[test]
fn sealing_refuses_what_the_format_cannot_hold() {
	let reader = [ReaderSecret::generate(&mut OsRng).public_key()];
	let seal_inline = |data: &[u8], readers: &[ReaderKey]| {
		seal(data, readers, Placement::Inline, &HERE, 1, &mut OsRng).map(|_| ())
	};
	assert_eq!(seal_inline(b"x", &[]), Err(SealError::NoReaders));
	let many = keys(&readers(MAX_READERS as usize + 1));
	assert_eq!(seal_inline(b"x", &many), Err(SealError::TooManyReaders));
	assert_eq!(seal_inline(b"x", &many[..MAX_READERS as usize]), Ok(()));
	let largest = vec![0u8; MAX_INLINE_BYTES as usize - 16];
	assert_eq!(seal_inline(&largest, &reader), Ok(()));
	assert_eq!(
		seal_inline(&[0u8; MAX_INLINE_BYTES as usize - 15], &reader),
		Err(SealError::TooLargeForInline)
	);
	let long = [b'a'; MAX_LOCATOR_BYTES as usize + 1];
	assert_eq!(
		seal(b"x", &reader, Placement::External { locator: &long }, &HERE, 1, &mut OsRng)
			.map(|_| ()),
		Err(SealError::LocatorTooLong)
	);
	// The all-zero key is a low-order point: every shared secret with it is zero.
	assert_eq!(seal_inline(b"x", &[[0u8; 32]]), Err(SealError::InvalidReaderKey));
}

#[test]
fn a_revoked_reader_reads_old_records_but_nothing_sealed_after() {
	let [kept, revoked]: [ReaderSecret; 2] = readers(2).try_into().ok().unwrap();
	let before = seal(
		b"before",
		&[kept.public_key(), revoked.public_key()],
		Placement::Inline,
		&HERE,
		1,
		&mut OsRng,
	)
	.unwrap();
	let after =
		seal(b"after", &[kept.public_key()], Placement::Inline, &HERE, 1, &mut OsRng).unwrap();
	assert_eq!(open(&before.envelope, &HERE, None, &revoked).unwrap().as_slice(), b"before");
	assert_eq!(open(&after.envelope, &HERE, None, &revoked), Err(OpenError::NotARecipient));
	assert_eq!(open(&after.envelope, &HERE, None, &kept).unwrap().as_slice(), b"after");
}

#[test]
fn a_secret_survives_storage() {
	let secret = ReaderSecret::generate(&mut OsRng);
	let restored = ReaderSecret::from_bytes(*secret.to_bytes());
	assert_eq!(restored.public_key(), secret.public_key());
}

proptest! {
	#[test]
	fn any_data_round_trips(data in prop::collection::vec(any::<u8>(), 0..(MAX_INLINE_BYTES as usize - 16)), n in 1usize..4) {
		let readers = readers(n);
		let sealed = seal(&data, &keys(&readers), Placement::Inline, &HERE, 1, &mut OsRng).unwrap();
		for reader in &readers {
			let opened = open(&sealed.envelope, &HERE, None, reader).unwrap();
			prop_assert_eq!(opened.as_slice(), &data[..]);
		}
	}
}

/// draft-irtf-cfrg-xchacha-03, appendix A.3.1: the AEAD this format uses.
#[test]
fn xchacha20_poly1305_matches_its_draft_vector() {
	let key = hex!("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	let nonce = hex!("404142434445464748494a4b4c4d4e4f5051525354555657");
	let aad = hex!("50515253c0c1c2c3c4c5c6c7");
	let plaintext: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
	let expected = hex!(
		"bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
		"731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
		"2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
		"21f9664c97637da9768812f615c68b13b52e"
		"c0875924c1c7987947deafd8780acf49"
	);
	let cipher = XChaCha20Poly1305::new(&key.into());
	let sealed =
		cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad }).unwrap();
	assert_eq!(sealed, expected);
	let opened =
		cipher.decrypt(XNonce::from_slice(&nonce), Payload { msg: &expected, aad: &aad }).unwrap();
	assert_eq!(opened, plaintext);
}

/// RFC 7748, section 6.1: the key agreement this format uses.
#[test]
fn x25519_matches_rfc_7748() {
	let alice = StaticSecret::from(hex!(
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
	));
	let bob = StaticSecret::from(hex!(
		"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
	));
	let (alice_public, bob_public) = (PublicKey::from(&alice), PublicKey::from(&bob));
	assert_eq!(
		alice_public.to_bytes(),
		hex!("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
	);
	assert_eq!(
		bob_public.to_bytes(),
		hex!("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
	);
	let shared = hex!("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_eq!(alice.diffie_hellman(&bob_public).to_bytes(), shared);
	assert_eq!(bob.diffie_hellman(&alice_public).to_bytes(), shared);
}

/// RFC 5869, test case 1: the key derivation this format uses.
#[test]
fn hkdf_sha256_matches_rfc_5869() {
	let ikm = [0x0bu8; 22];
	let salt = hex!("000102030405060708090a0b0c");
	let info = hex!("f0f1f2f3f4f5f6f7f8f9");
	let mut okm = [0u8; 42];
	Hkdf::<Sha256>::new(Some(&salt), &ikm).expand(&info, &mut okm).unwrap();
	assert_eq!(
		okm,
		hex!(
			"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
		)
	);
}

/// Not random at all: the bytes 0, 1, 2, ... so that sealing is reproducible.
struct Counting(u8);

impl RngCore for Counting {
	fn next_u32(&mut self) -> u32 {
		rand_core::impls::next_u32_via_fill(self)
	}
	fn next_u64(&mut self) -> u64 {
		rand_core::impls::next_u64_via_fill(self)
	}
	fn fill_bytes(&mut self, dest: &mut [u8]) {
		for byte in dest {
			*byte = self.0;
			self.0 = self.0.wrapping_add(1);
		}
	}
	fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
		self.fill_bytes(dest);
		Ok(())
	}
}

// Only for the vector below: a real device seals with its operating system's generator.
impl CryptoRng for Counting {}

/// This format's own vector, for other implementations of it: "21.5 C", sealed as record 9 of
/// device 3 (genesis `0x07..07`) for the reader of secret `0x01..01`, with the content key,
/// ephemeral secret and nonce drawn as the bytes 0, 1, 2, ... (in that order).
#[test]
fn sealing_matches_the_envelope_vector() {
	use codec::Encode;
	let reader = ReaderSecret::from_bytes([1; 32]);
	let sealed =
		seal(b"21.5 C", &[reader.public_key()], Placement::Inline, &HERE, 9, &mut Counting(0))
			.unwrap();
	assert_eq!(hex::encode(sealed.envelope.encode()), ENVELOPE_VECTOR);
	assert_eq!(open(&sealed.envelope, &HERE, None, &reader).unwrap().as_slice(), b"21.5 C");
}

/// The SCALE encoding of the envelope [`sealing_matches_the_envelope_vector`] seals.
const ENVELOPE_VECTOR: &str = concat!(
	"0200358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254404142434445",
	"464748494a4b4c4d4e4f505152535455565709000000000000000058e6082b45f0a3415a3e2eccaf",
	"6fc847b8f77afef46f8704a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b4409",
	"f8a2094dce1f6b67da3c12f35babcbab22ef63f5301ed17f329006d8ae8bef32677d767deae300b9",
	"5740063a364074c24ace67",
);
