//! Member identifiers derived from identity keys.

use core::fmt;

use crate::{CryptoError, VerifyingKey, kdf::sha256};

/// Size of a [`MemberId`] in bytes.
///
/// 16 bytes (128 bits): an id names a key that was already authenticated (a
/// signature under that key is verified wherever the id is used), so the
/// property needed is second-preimage resistance against an adversary who
/// wants *someone else's* id: 2^128 work for a truncated SHA-256. A collision
/// between two keys the adversary made himself (2^64 work) gains him nothing:
/// both ids are his. 16 bytes halves the per-member overhead of membership
/// lists and causal metadata against a full 32-byte hash.
pub const MEMBER_ID_LEN: usize = 16;

/// Domain-separation label for the id derivation.
pub const MEMBER_ID_LABEL: &[u8] = b"sgm member id v1";

/// A stable, compact identifier of a member:
/// `SHA-256("sgm member id v1" || identity_public_key)[..16]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId([u8; MEMBER_ID_LEN]);

impl MemberId {
    /// The id of the member whose identity key is `key`.
    pub fn from_identity_key(key: &VerifyingKey) -> Self {
        let digest = sha256(&[MEMBER_ID_LABEL, key.as_bytes()]);
        let mut id = [0u8; MEMBER_ID_LEN];
        id.copy_from_slice(&digest[..MEMBER_ID_LEN]);
        Self(id)
    }

    /// Wraps raw id bytes (as read from the wire).
    pub fn from_bytes(bytes: [u8; MEMBER_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses a slice of exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; MEMBER_ID_LEN] =
            bytes.try_into().map_err(|_| CryptoError::InvalidLength {
                what: "member id",
                expected: MEMBER_ID_LEN,
                actual: bytes.len(),
            })?;
        Ok(Self(arr))
    }

    /// The id bytes.
    pub fn as_bytes(&self) -> &[u8; MEMBER_ID_LEN] {
        &self.0
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({})", crate::hex_prefix(&self.0))
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Secret, SigningKey};

    #[test]
    fn id_depends_on_key_and_is_stable() {
        let a = SigningKey::from_seed(&Secret::from_bytes([1u8; 32])).verifying_key();
        let b = SigningKey::from_seed(&Secret::from_bytes([2u8; 32])).verifying_key();
        assert_eq!(
            MemberId::from_identity_key(&a),
            MemberId::from_identity_key(&a)
        );
        assert_ne!(
            MemberId::from_identity_key(&a),
            MemberId::from_identity_key(&b)
        );
        let expected = &sha256(&[MEMBER_ID_LABEL, a.as_bytes()])[..16];
        assert_eq!(MemberId::from_identity_key(&a).as_bytes(), expected);
    }
}
