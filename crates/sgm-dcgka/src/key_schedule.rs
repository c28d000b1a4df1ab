//! The key schedule: the outer KDF ratchet of the paper's Figure 3
//! (`update_ratchet`) and the derivation of member secrets from a seed
//! (`process_seed`, Figure 4 lines 8–10).
//!
//! ```text
//!   seed ──HKDF(info = MEMBER_SECRET_LABEL ‖ id)──▶ member secret(id)
//!
//!   ratchet[id] ──┐ (salt)
//!   input ────────┴─HKDF(info = UPDATE_RATCHET_LABEL)─▶ 64 bytes
//!                         ├── [0..32]  new ratchet[id]
//!                         └── [32..64] update secret I
//! ```
//!
//! `input` is a member secret, or one of the constant strings `"welcome"`
//! and `"add"` (Figure 4, `process-add` lines 6–8). All labels are listed in
//! `docs/dcgka.md`.

use sgm_crypto::{MemberId, Secret, hkdf_sha256};

use crate::error::Result;

/// Length of every secret in the key schedule.
pub const SECRET_LEN: usize = 32;

/// HKDF `info` prefix for member secrets; the member id (16 bytes) follows.
pub const MEMBER_SECRET_LABEL: &[u8] = b"sgm-dcgka v1 member secret";
/// HKDF `info` of the outer (update) ratchet.
pub const UPDATE_RATCHET_LABEL: &[u8] = b"sgm-dcgka v1 update ratchet";
/// Ratchet input after an add, first call (the added member's first member
/// secret).
pub const WELCOME_INPUT: &[u8] = b"welcome";
/// Ratchet input after an add, second call (and in `process-add-ack`).
pub const ADD_INPUT: &[u8] = b"add";

/// A seed secret (fresh randomness distributed by create, update, remove).
/// Never stored in the protocol state.
pub type SeedSecret = Secret<SECRET_LEN>;
/// A member secret: the seed bound to one member id.
pub type MemberSecret = Secret<SECRET_LEN>;
/// A state of a member's outer KDF ratchet (`γ.ratchet[ID]`).
pub type RatchetState = Secret<SECRET_LEN>;
/// An update secret: output of the outer ratchet, input of the member's
/// message ratchet.
pub type UpdateSecret = Secret<SECRET_LEN>;

/// What is fed into `update_ratchet`.
#[derive(Debug, Clone, Copy)]
pub enum RatchetInput<'a> {
    /// A member secret (from a seed or forwarded).
    Member(&'a MemberSecret),
    /// The constant `"welcome"`.
    Welcome,
    /// The constant `"add"`.
    Add,
}

impl RatchetInput<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            RatchetInput::Member(s) => s.expose_secret(),
            RatchetInput::Welcome => WELCOME_INPUT,
            RatchetInput::Add => ADD_INPUT,
        }
    }
}

/// `HKDF(salt = none, ikm = seed, info = MEMBER_SECRET_LABEL ‖ id)`.
pub fn member_secret(seed: &SeedSecret, id: &MemberId) -> Result<MemberSecret> {
    let mut info = Vec::with_capacity(MEMBER_SECRET_LABEL.len() + 16);
    info.extend_from_slice(MEMBER_SECRET_LABEL);
    info.extend_from_slice(id.as_bytes());
    Ok(hkdf_sha256::<SECRET_LEN>(
        None,
        seed.expose_secret(),
        &info,
    )?)
}

/// The outer ratchet step (Figure 3, Figure 4 `update-ratchet`):
/// `HKDF(salt = state (none when ε), ikm = input, info = UPDATE_RATCHET_LABEL)`
/// split into the new ratchet state and the update secret.
pub fn update_ratchet(
    state: Option<&RatchetState>,
    input: RatchetInput<'_>,
) -> Result<(RatchetState, UpdateSecret)> {
    let okm = hkdf_sha256::<{ 2 * SECRET_LEN }>(
        state.map(|s| s.expose_secret().as_slice()),
        input.bytes(),
        UPDATE_RATCHET_LABEL,
    )?;
    let (next, update) = okm.expose_secret().split_at(SECRET_LEN);
    Ok((Secret::from_slice(next)?, Secret::from_slice(update)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_secrets_differ_per_member_and_seed() {
        let seed = Secret::from_bytes([7; 32]);
        let a = MemberId::from_bytes([1; 16]);
        let b = MemberId::from_bytes([2; 16]);
        assert_ne!(
            member_secret(&seed, &a).unwrap(),
            member_secret(&seed, &b).unwrap()
        );
        assert_ne!(
            member_secret(&seed, &a).unwrap(),
            member_secret(&Secret::from_bytes([8; 32]), &a).unwrap()
        );
    }

    #[test]
    fn ratchet_depends_on_state_and_input() {
        let s = Secret::from_bytes([3; 32]);
        let (n1, i1) = update_ratchet(Some(&s), RatchetInput::Add).unwrap();
        let (n2, i2) = update_ratchet(Some(&s), RatchetInput::Welcome).unwrap();
        let (n3, i3) = update_ratchet(None, RatchetInput::Add).unwrap();
        assert_ne!(i1, i2);
        assert_ne!(i1, i3);
        assert_ne!(n1, n2);
        assert_ne!(n1, n3);
        assert_ne!(n1, i1);
        // Deterministic.
        let (n1b, i1b) = update_ratchet(Some(&s), RatchetInput::Add).unwrap();
        assert_eq!((n1, i1), (n1b, i1b));
    }
}
