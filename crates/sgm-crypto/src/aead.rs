//! ChaCha20-Poly1305 (RFC 8439).

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};

use crate::{CryptoError, Secret};

/// Key length in bytes.
pub const AEAD_KEY_LEN: usize = 32;
/// Nonce length in bytes.
pub const AEAD_NONCE_LEN: usize = 12;
/// Authentication tag length in bytes (the ciphertext expansion).
pub const AEAD_TAG_LEN: usize = 16;

/// An AEAD key.
pub type AeadKey = Secret<AEAD_KEY_LEN>;

/// Encrypts `plaintext` and authenticates it with `aad`. The result is the
/// ciphertext followed by the 16-byte tag.
///
/// The caller must never use a (key, nonce) pair twice; sgm derives a fresh
/// key per message, so the nonce is fixed by the caller's key schedule.
pub fn aead_seal(
    key: &AeadKey,
    nonce: &[u8; AEAD_NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(key.expose_secret().into());
    // Encryption fails only for inputs over 256 GiB, which no Vec here reaches;
    // an empty result would then fail to open, never leak.
    cipher
        .encrypt(
            nonce.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default()
}

/// Decrypts and authenticates `ciphertext` (with its trailing tag).
pub fn aead_open(
    key: &AeadKey,
    nonce: &[u8; AEAD_NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<crate::SecretBytes, CryptoError> {
    let cipher = ChaCha20Poly1305::new(key.expose_secret().into());
    cipher
        .decrypt(
            nonce.into(),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(crate::SecretBytes::new)
        .map_err(|_| CryptoError::DecryptionFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8439 §2.8.2.
    #[test]
    fn rfc8439_aead_vector() {
        let key = Secret::from_slice(
            &hex::decode("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
                .unwrap(),
        )
        .unwrap();
        let nonce: [u8; 12] = hex::decode("070000004041424344454647")
            .unwrap()
            .try_into()
            .unwrap();
        let aad = hex::decode("50515253c0c1c2c3c4c5c6c7").unwrap();
        let pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let ct = aead_seal(&key, &nonce, &aad, pt);
        assert_eq!(
            hex::encode(&ct[ct.len() - 16..]),
            "1ae10b594f09e26a7e902ecbd0600691"
        );
        assert_eq!(hex::encode(&ct[..8]), "d31a8d34648e60db");
        let back = aead_open(&key, &nonce, &aad, &ct).unwrap();
        assert_eq!(back.expose_secret(), pt);
        let mut bad = ct.clone();
        bad[3] ^= 0x10;
        assert_eq!(
            aead_open(&key, &nonce, &aad, &bad).unwrap_err(),
            CryptoError::DecryptionFailed
        );
        assert!(aead_open(&key, &nonce, b"other", &ct).is_err());
        assert!(aead_open(&key, &nonce, &aad, &ct[..10]).is_err());
    }
}
