use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// `N` secret bytes: zeroized on drop, compared in constant time, printed as
/// `[redacted]`.
///
/// The bytes live in a `Box` so that moving a `Secret` moves a pointer and does
/// not leave copies of the key on the stack.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret<const N: usize>(Box<[u8; N]>);

impl<const N: usize> Secret<N> {
    /// Wraps bytes that are secret. The caller should zeroize its own copy.
    pub fn from_bytes(bytes: [u8; N]) -> Self {
        let mut boxed = Box::new([0u8; N]);
        let mut bytes = bytes;
        boxed.copy_from_slice(&bytes);
        bytes.zeroize();
        Self(boxed)
    }

    /// Copies a slice of exactly `N` bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, crate::CryptoError> {
        if bytes.len() != N {
            return Err(crate::CryptoError::InvalidLength {
                what: "secret",
                expected: N,
                actual: bytes.len(),
            });
        }
        let mut boxed = Box::new([0u8; N]);
        boxed.copy_from_slice(bytes);
        Ok(Self(boxed))
    }

    /// Draws `N` fresh bytes from `rng`.
    pub fn random(rng: &mut impl rand_core::CryptoRng) -> Self {
        let mut boxed = Box::new([0u8; N]);
        rng.fill_bytes(boxed.as_mut_slice());
        Self(boxed)
    }

    /// The secret bytes. Named loudly so that every use is easy to audit.
    pub fn expose_secret(&self) -> &[u8; N] {
        &self.0
    }
}

impl<const N: usize> PartialEq for Secret<N> {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl<const N: usize> Eq for Secret<N> {}

impl<const N: usize> ConstantTimeEq for Secret<N> {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.as_slice().ct_eq(other.0.as_slice())
    }
}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret<{N}>([redacted])")
    }
}

/// A variable-length secret (for example an HPKE plaintext that carries keys).
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps secret bytes, taking ownership.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The secret bytes.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([redacted; {}])", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::<4>::from_bytes([0xde, 0xad, 0xbe, 0xef]);
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secret<4>([redacted])");
        let b = SecretBytes::new(vec![0x41; 3]);
        assert_eq!(format!("{b:?}"), "SecretBytes([redacted; 3])");
    }

    #[test]
    fn equality_compares_contents() {
        let a = Secret::<2>::from_bytes([1, 2]);
        assert_eq!(a, Secret::from_bytes([1, 2]));
        assert_ne!(a, Secret::from_bytes([1, 3]));
        assert!(Secret::<2>::from_slice(&[1, 2, 3]).is_err());
    }
}
