//! What makes an Aura equivocation: the proof check and the offence it becomes.

use alloc::{vec, vec::Vec};
use polkadot_sdk::{
	sp_consensus_slots::{EquivocationProof, Slot},
	sp_runtime::{
		traits::{Header, Zero},
		Perbill, RuntimeAppPublic,
	},
	sp_staking::{
		offence::{Kind, Offence},
		SessionIndex,
	},
};
use thingschain_primitives::aura;

/// Whether `proof` shows two different headers of `proof.slot`, each sealed by
/// `proof.offender`: the signature in the last digest item, over the header without it.
pub fn check_equivocation_proof<H: Header, Id: RuntimeAppPublic>(
	proof: &EquivocationProof<H, Id>,
) -> bool {
	let sealed_in_slot = |header: &H| {
		aura::slot(header) == Some(proof.slot) && aura::sealed_by(header, &proof.offender)
	};
	proof.first_header.hash() != proof.second_header.hash()
		&& sealed_in_slot(&proof.first_header)
		&& sealed_in_slot(&proof.second_header)
}

/// An Aura authority sealed two blocks in one slot.
pub struct AuraEquivocationOffence<Offender> {
	/// The slot of both blocks.
	pub slot: Slot,
	/// The session the slot belongs to.
	pub session_index: SessionIndex,
	/// How many validators that session had.
	pub validator_set_count: u32,
	/// The validator whose key sealed both.
	pub offender: Offender,
}

impl<Offender: Clone> Offence<Offender> for AuraEquivocationOffence<Offender> {
	const ID: Kind = *b"aura:equivocatio";
	type Slot = Slot;

	fn offenders(&self) -> Vec<Offender> {
		vec![self.offender.clone()]
	}

	fn session_index(&self) -> SessionIndex {
		self.session_index
	}

	fn validator_set_count(&self) -> u32 {
		self.validator_set_count
	}

	fn slot(&self) -> Slot {
		self.slot
	}

	/// `min((3k / n)², 1)` for `k` offenders among `n` validators, as for BABE and GRANDPA:
	/// a lone equivocation is cheap, a coordinated one costs everything.
	fn slash_fraction(&self, offenders_count: u32) -> Perbill {
		if self.validator_set_count.is_zero() {
			return Perbill::one();
		}
		Perbill::from_rational(3 * offenders_count, self.validator_set_count).square()
	}
}
