//! Wire formats: the sender-key distribution message and the group message
//! (`docs/sender-keys.md` has the byte layouts).
//!
//! ```text
//! distribution (89 B, inside a 2SM message):
//!   version u8 ‖ distribution id [16] ‖ chain id u32 ‖ iteration u32 ‖ chain key [32] ‖ signing key [32]
//! group message (105 B + plaintext):
//!   version u8 ‖ distribution id [16] ‖ chain id u32 ‖ iteration u32 ‖ ciphertext ‖ signature [64]
//!   signature = Ed25519(sender-key signing key, GROUP_MESSAGE_LABEL ‖ everything before it)
//!   ciphertext = ChaCha20-Poly1305(message key, nonce 0¹², aad = GROUP_AAD_LABEL ‖ header)
//! ```
//! Integers are big-endian. Decoding is strict: exact lengths, the one
//! version, nothing trailing.

use sgm_crypto::{AEAD_TAG_LEN, SIGNATURE_LEN, Secret, Signature, VerifyingKey};

use crate::error::{Result, SenderKeysError};

/// The format version of both messages.
pub const VERSION: u8 = 1;
/// Length of a distribution id (Signal's distribution UUID).
pub const DISTRIBUTION_ID_LEN: usize = 16;
/// Length of an encoded distribution message.
pub const DISTRIBUTION_LEN: usize = 1 + DISTRIBUTION_ID_LEN + 4 + 4 + 32 + 32;
/// Length of a group message's header.
pub const HEADER_LEN: usize = 1 + DISTRIBUTION_ID_LEN + 4 + 4;
/// Bytes a group message adds to its plaintext.
pub const GROUP_MESSAGE_OVERHEAD: usize = HEADER_LEN + AEAD_TAG_LEN + SIGNATURE_LEN;
/// Largest group message accepted (1 MiB of plaintext).
pub const MAX_GROUP_MESSAGE_LEN: usize = (1 << 20) + GROUP_MESSAGE_OVERHEAD;
/// Prefix of what a group message's signature covers.
pub const GROUP_MESSAGE_LABEL: &[u8] = b"sgm-sender-keys v1 group message";
/// Prefix of a group message's associated data.
pub const GROUP_AAD_LABEL: &[u8] = b"sgm-sender-keys v1 group aad";

/// A group's distribution id.
pub type DistributionId = [u8; DISTRIBUTION_ID_LEN];

/// A sender key as distributed: enough to decrypt from `iteration` on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    /// The group.
    pub distribution_id: DistributionId,
    /// The sender key's chain id (31 bits, random).
    pub chain_id: u32,
    /// The iteration of `chain_key`.
    pub iteration: u32,
    /// The chain key at `iteration`.
    pub chain_key: Secret<32>,
    /// The sender key's signing public key.
    pub signing_key: VerifyingKey,
}

fn u32_at(b: &[u8], at: usize) -> Result<u32> {
    let s = b
        .get(at..at + 4)
        .ok_or(SenderKeysError::Malformed("truncated"))?;
    let mut a = [0u8; 4];
    a.copy_from_slice(s);
    Ok(u32::from_be_bytes(a))
}

fn id_at(b: &[u8], at: usize) -> Result<DistributionId> {
    let s = b
        .get(at..at + DISTRIBUTION_ID_LEN)
        .ok_or(SenderKeysError::Malformed("truncated"))?;
    let mut a = [0u8; DISTRIBUTION_ID_LEN];
    a.copy_from_slice(s);
    Ok(a)
}

fn check_version(b: &[u8]) -> Result<()> {
    match b.first() {
        None => Err(SenderKeysError::Malformed("empty")),
        Some(&VERSION) => Ok(()),
        Some(&v) => Err(SenderKeysError::UnsupportedVersion(v)),
    }
}

impl Distribution {
    /// Encodes (89 bytes; contains the chain key: send only encrypted).
    pub fn to_bytes(&self) -> Secret<DISTRIBUTION_LEN> {
        let mut out = [0u8; DISTRIBUTION_LEN];
        out[0] = VERSION;
        out[1..17].copy_from_slice(&self.distribution_id);
        out[17..21].copy_from_slice(&self.chain_id.to_be_bytes());
        out[21..25].copy_from_slice(&self.iteration.to_be_bytes());
        out[25..57].copy_from_slice(self.chain_key.expose_secret());
        out[57..89].copy_from_slice(self.signing_key.as_bytes());
        Secret::from_bytes(out)
    }

    /// Decodes, strictly.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        check_version(b)?;
        if b.len() != DISTRIBUTION_LEN {
            return Err(SenderKeysError::Malformed("distribution length"));
        }
        Ok(Self {
            distribution_id: id_at(b, 1)?,
            chain_id: u32_at(b, 17)?,
            iteration: u32_at(b, 21)?,
            chain_key: Secret::from_slice(&b[25..57])?,
            signing_key: VerifyingKey::from_slice(&b[57..89])?,
        })
    }
}

/// A decoded group message, signature not yet checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnverifiedGroupMessage<'a> {
    /// The group.
    pub distribution_id: DistributionId,
    /// The sender key's chain id.
    pub chain_id: u32,
    /// The message's iteration.
    pub iteration: u32,
    /// The header (what the AEAD authenticates after its label).
    pub header: &'a [u8],
    /// AEAD output.
    pub ciphertext: &'a [u8],
    /// Everything the signature covers (after its label).
    pub signed: &'a [u8],
    /// The signature.
    pub signature: Signature,
}

/// The header of a group message.
pub fn header(distribution_id: &DistributionId, chain_id: u32, iteration: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0] = VERSION;
    h[1..17].copy_from_slice(distribution_id);
    h[17..21].copy_from_slice(&chain_id.to_be_bytes());
    h[21..25].copy_from_slice(&iteration.to_be_bytes());
    h
}

/// `label ‖ parts…` in one buffer.
pub(crate) fn labelled(label: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let len = label.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(label);
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

impl<'a> UnverifiedGroupMessage<'a> {
    /// Splits a group message, strictly (bounded by [`MAX_GROUP_MESSAGE_LEN`]).
    pub fn decode(b: &'a [u8]) -> Result<Self> {
        check_version(b)?;
        if b.len() > MAX_GROUP_MESSAGE_LEN {
            return Err(SenderKeysError::Malformed("group message too long"));
        }
        if b.len() < GROUP_MESSAGE_OVERHEAD {
            return Err(SenderKeysError::Malformed("truncated"));
        }
        let (signed, sig) = b.split_at(b.len() - SIGNATURE_LEN);
        let (header, ciphertext) = signed.split_at(HEADER_LEN);
        Ok(Self {
            distribution_id: id_at(b, 1)?,
            chain_id: u32_at(b, 17)?,
            iteration: u32_at(b, 21)?,
            header,
            ciphertext,
            signed,
            signature: Signature::from_slice(sig)?,
        })
    }

    /// Checks the signature under `key`.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        key.verify(
            &labelled(GROUP_MESSAGE_LABEL, &[self.signed]),
            &self.signature,
        )
        .is_ok()
    }
}
