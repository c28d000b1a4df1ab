//! Ed25519 signatures (RFC 8032), verified strictly.

use core::fmt;

use ed25519_dalek::Signer;

use crate::{CryptoError, Secret};

/// Signature length in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// An Ed25519 signing key (its 32-byte seed). Zeroized on drop.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// Draws a fresh signing key.
    pub fn generate(rng: &mut impl rand_core::CryptoRng) -> Self {
        Self::from_seed(&Secret::random(rng))
    }

    /// The key whose RFC 8032 seed is `seed`.
    pub fn from_seed(seed: &Secret<32>) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed.expose_secret()))
    }

    /// The RFC 8032 seed.
    pub fn to_seed(&self) -> Secret<32> {
        Secret::from_bytes(self.0.to_bytes())
    }

    /// The matching verifying key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }

    /// Signs `message` (deterministic, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey([redacted], public: {:?})",
            self.verifying_key()
        )
    }
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.to_seed() == other.to_seed()
    }
}

impl Eq for SigningKey {}

/// An Ed25519 verifying (public) key, known to decode to a curve point.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

impl VerifyingKey {
    /// Decodes a verifying key; fails on bytes that are not a point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidPublicKey("Ed25519"))
    }

    /// Decodes from a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::InvalidLength {
            what: "Ed25519 verifying key",
            expected: 32,
            actual: bytes.len(),
        })?;
        Self::from_bytes(&arr)
    }

    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Verifies `signature` on `message`. Uses RFC 8032's strict rules (no
    /// small-order keys, canonical `S`), so a signature cannot be malleated
    /// into a second valid one for the same message.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(message, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }
}

impl PartialOrd for VerifyingKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for VerifyingKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", crate::hex_prefix(self.as_bytes()))
    }
}

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature([u8; SIGNATURE_LEN]);

impl Signature {
    /// Wraps 64 bytes; they are checked only by verification.
    pub fn from_bytes(bytes: [u8; SIGNATURE_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses a slice of exactly 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; SIGNATURE_LEN] =
            bytes.try_into().map_err(|_| CryptoError::InvalidLength {
                what: "Ed25519 signature",
                expected: SIGNATURE_LEN,
                actual: bytes.len(),
            })?;
        Ok(Self(arr))
    }

    /// The encoded signature.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", crate::hex_prefix(&self.0))
    }
}

/// Verifies many signatures at once (faster than one by one). Fails if any
/// one fails; then verify individually to find which.
///
/// Batch verification uses the cofactored equation, so it can accept a
/// signature that [`VerifyingKey::verify`] rejects for a small-order
/// component; use it where throughput matters and fall back to single
/// verification on failure or for consensus-critical decisions.
pub fn verify_batch(
    messages: &[&[u8]],
    signatures: &[Signature],
    keys: &[VerifyingKey],
) -> Result<(), CryptoError> {
    if messages.len() != signatures.len() || messages.len() != keys.len() {
        return Err(CryptoError::BatchLengthMismatch);
    }
    let sigs: Vec<ed25519_dalek::Signature> = signatures
        .iter()
        .map(|s| ed25519_dalek::Signature::from_bytes(&s.0))
        .collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = keys.iter().map(|k| k.0).collect();
    ed25519_dalek::verify_batch(messages, &sigs, &keys).map_err(|_| CryptoError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1 test 2.
    #[test]
    fn rfc8032_test2() {
        let seed = Secret::from_slice(
            &hex::decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
                .unwrap(),
        )
        .unwrap();
        let sk = SigningKey::from_seed(&seed);
        assert_eq!(
            hex::encode(sk.verifying_key().as_bytes()),
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
        );
        let sig = sk.sign(&[0x72]);
        assert_eq!(
            hex::encode(sig.to_bytes()),
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        );
        assert!(sk.verifying_key().verify(&[0x72], &sig).is_ok());
        assert_eq!(
            sk.verifying_key().verify(&[0x73], &sig),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn batch_detects_one_bad_signature() {
        let keys: Vec<SigningKey> = (0u8..4)
            .map(|i| SigningKey::from_seed(&Secret::from_bytes([i; 32])))
            .collect();
        let msgs: Vec<Vec<u8>> = (0u8..4).map(|i| vec![i; 10]).collect();
        let msg_refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        let mut sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let vks: Vec<VerifyingKey> = keys.iter().map(|k| k.verifying_key()).collect();
        assert!(verify_batch(&msg_refs, &sigs, &vks).is_ok());
        sigs.swap(0, 1);
        assert_eq!(
            verify_batch(&msg_refs, &sigs, &vks),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            verify_batch(&msg_refs[..3], &sigs, &vks),
            Err(CryptoError::BatchLengthMismatch)
        );
    }
}
