//! X25519 Diffie-Hellman (RFC 7748).

use core::fmt;

use crate::{CryptoError, Secret};

/// An X25519 public key (a Montgomery u-coordinate).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct X25519PublicKey([u8; 32]);

impl X25519PublicKey {
    /// Wraps 32 bytes. Every 32-byte string is a valid u-coordinate; low-order
    /// points are caught when a DH output turns out all-zero.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::InvalidLength {
            what: "X25519 public key",
            expected: 32,
            actual: bytes.len(),
        })?;
        Ok(Self(arr))
    }

    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The base point, u = 9: a CLIQUES-style group key agreement starts from it.
    pub fn basepoint() -> Self {
        let mut b = [0u8; 32];
        b[0] = 9;
        Self(b)
    }
}

impl fmt::Debug for X25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "X25519PublicKey({})", crate::hex_prefix(&self.0))
    }
}

/// An X25519 secret scalar. Zeroized on drop.
#[derive(Clone)]
pub struct X25519SecretKey(Secret<32>);

impl X25519SecretKey {
    /// Draws a fresh secret key.
    pub fn generate(rng: &mut impl rand_core::CryptoRng) -> Self {
        Self(Secret::random(rng))
    }

    /// Wraps 32 secret bytes (clamped when used, per RFC 7748).
    pub fn from_secret(bytes: Secret<32>) -> Self {
        Self(bytes)
    }

    /// The raw secret bytes.
    pub fn expose_secret(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// The matching public key.
    pub fn public_key(&self) -> X25519PublicKey {
        let sk = x25519_dalek::StaticSecret::from(*self.0.expose_secret());
        X25519PublicKey(x25519_dalek::PublicKey::from(&sk).to_bytes())
    }

    /// X25519(sk, pk). Fails on an all-zero result (low-order `their`), so a
    /// peer cannot force a known shared secret.
    pub fn diffie_hellman(&self, their: &X25519PublicKey) -> Result<Secret<32>, CryptoError> {
        let sk = x25519_dalek::StaticSecret::from(*self.0.expose_secret());
        let shared = sk.diffie_hellman(&x25519_dalek::PublicKey::from(their.0));
        if !shared.was_contributory() {
            return Err(CryptoError::NonContributory);
        }
        Ok(Secret::from_bytes(shared.to_bytes()))
    }

    /// X25519(sk, point) returned as a public value: the exponentiation step of
    /// group Diffie-Hellman (CLIQUES), where intermediate values are public.
    pub fn exponentiate(&self, point: &X25519PublicKey) -> Result<X25519PublicKey, CryptoError> {
        let shared = self.diffie_hellman(point)?;
        Ok(X25519PublicKey(*shared.expose_secret()))
    }
}

impl fmt::Debug for X25519SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("X25519SecretKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7748 §6.1.
    #[test]
    fn rfc7748_dh() {
        let a = X25519SecretKey::from_secret(
            Secret::from_slice(
                &hex::decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
                    .unwrap(),
            )
            .unwrap(),
        );
        let b_pub = X25519PublicKey::from_slice(
            &hex::decode("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            hex::encode(a.public_key().as_bytes()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
        );
        assert_eq!(
            hex::encode(a.diffie_hellman(&b_pub).unwrap().expose_secret()),
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
        );
    }

    #[test]
    fn low_order_point_rejected() {
        let a = X25519SecretKey::from_secret(Secret::from_bytes([7u8; 32]));
        let zero = X25519PublicKey::from_bytes([0u8; 32]);
        assert_eq!(
            a.diffie_hellman(&zero).unwrap_err(),
            CryptoError::NonContributory
        );
    }
}
