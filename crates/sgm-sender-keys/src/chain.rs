//! The sender-key chain (Signal's `SenderChainKey`, our labels).
//!
//! ```text
//!   chain key CKᵢ ──HMAC-SHA256(CKᵢ, 0x02)──▶ CKᵢ₊₁
//!        │
//!        └─HMAC-SHA256(CKᵢ, 0x01) = seedᵢ
//!              └─HKDF-SHA256(salt = none, ikm = seedᵢ, info = MESSAGE_KEY_LABEL, 32)
//!                   = message key of iteration i (ChaCha20-Poly1305, nonce 0¹²)
//! ```
//!
//! Signal expands the seed with info `"WhisperGroup"` into an AES-256-CBC
//! key and IV (48 bytes); we use ChaCha20-Poly1305 and our own label.

use sgm_crypto::{AeadKey, Secret, hkdf_sha256, hmac_sha256};

use crate::error::{Result, SenderKeysError};

/// HMAC input of the message-key seed (Signal's value).
pub const MESSAGE_KEY_SEED: u8 = 0x01;
/// HMAC input of the next chain key (Signal's value).
pub const CHAIN_KEY_SEED: u8 = 0x02;
/// HKDF `info` from a message-key seed to the message key.
pub const MESSAGE_KEY_LABEL: &[u8] = b"sgm-sender-keys v1 message key";

/// A chain key and its iteration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainKey {
    key: Secret<32>,
    iteration: u32,
}

impl ChainKey {
    /// The chain key of `iteration`.
    pub fn new(key: Secret<32>, iteration: u32) -> Self {
        Self { key, iteration }
    }

    /// Its iteration.
    pub fn iteration(&self) -> u32 {
        self.iteration
    }

    /// The chain key bytes (for distribution and persistence).
    pub(crate) fn key(&self) -> &Secret<32> {
        &self.key
    }

    /// The message key of this iteration.
    pub fn message_key(&self) -> Result<AeadKey> {
        let seed = Secret::from_bytes(hmac_sha256(self.key.expose_secret(), &[MESSAGE_KEY_SEED])?);
        Ok(hkdf_sha256(None, seed.expose_secret(), MESSAGE_KEY_LABEL)?)
    }

    /// The chain key of the next iteration.
    pub fn next(&self) -> Result<Self> {
        let iteration = self
            .iteration
            .checked_add(1)
            .ok_or(SenderKeysError::ChainExhausted)?;
        Ok(Self {
            key: Secret::from_bytes(hmac_sha256(self.key.expose_secret(), &[CHAIN_KEY_SEED])?),
            iteration,
        })
    }
}
