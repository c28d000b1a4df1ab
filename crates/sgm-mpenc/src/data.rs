//! Data messages (`message.js` of mpenc_js).
//!
//! ```text
//! SIDKEY_HINT        first byte of H(sid ‖ group key)
//! MESSAGE_SIGNATURE  Ed25519(ephemeral key, "datamsgsig" ‖ H(sid ‖ group key) ‖ content)
//! content:
//!   PROTOCOL_VERSION 0x01
//!   MESSAGE_TYPE     0x03
//!   MESSAGE_IV       12 random bytes
//!   MESSAGE_PAYLOAD  AES-CTR(group key, IV ‖ 0^4, u16be(len) ‖ plaintext ‖ zero padding)
//! plaintext: MESSAGE_PARENT* ‖ MESSAGE_BODY
//! ```
//!
//! The AES key is the whole group key: 32 bytes from CLIQUES, so AES-256
//! (the design document says AES-128; mpenc_js's own test data uses a
//! 16-byte key, which this module also accepts). With padding `p`, the
//! length-prefixed plaintext of `L` bytes is zero-padded to
//! `p · 2^⌈log2 ⌈L/p⌉⌉` bytes; sessions use `p = 128`. Message id =
//! SHA-256(signature ‖ content)[..20].
//!
//! Security properties: the signature binds the message to the session id
//! and group key (H(sid ‖ group key) is signed, never sent whole), so a
//! message cannot be replayed into another session; only holders of the
//! group key can read it; a tampered packet fails the signature check before
//! anything is decrypted. There is no AEAD: integrity is the signature's.

use aes::{Aes128, Aes256};
use ctr::cipher::{KeyIvInit, StreamCipher};
use sgm_crypto::{CryptoRng, Signature, SigningKey, VerifyingKey, sha256};

use crate::codec::{self, DATA_MAGIC, TlvReader, message_type, tlv};
use crate::{ApiMisuse, MAX_MEMBERS, MpencError};

/// Padding unit of sessions (`DEFAULT_EXPONENTIAL_PADDING`).
pub const DEFAULT_PADDING: usize = 128;
/// Length of a message id.
pub const MESSAGE_ID_LEN: usize = 20;
/// Largest length-prefixed plaintext (mpenc_js asserts `< 0xffff`).
pub const MAX_PLAINTEXT: usize = 0xfffe;

/// A data message's plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataMessage {
    /// Parent message ids (the author's view of the transcript).
    pub parents: Vec<Vec<u8>>,
    /// The body (mpenc_js: the UTF-8 of its message codec's output).
    pub body: Vec<u8>,
}

/// H(sid ‖ group key).
pub fn sidkey_hash(session_id: &[u8], group_key: &[u8]) -> [u8; 32] {
    sha256(&[session_id, group_key])
}

fn aes_ctr(key: &[u8], iv: &[u8; 12], data: &mut [u8]) -> Result<(), MpencError> {
    let mut counter = [0u8; 16];
    counter[..12].copy_from_slice(iv);
    let bad = |_| MpencError::from(ApiMisuse::BadGroupKeyLength(key.len()));
    match key.len() {
        16 => ctr::Ctr128BE::<Aes128>::new_from_slices(key, &counter)
            .map_err(bad)?
            .apply_keystream(data),
        _ => ctr::Ctr128BE::<Aes256>::new_from_slices(key, &counter)
            .map_err(bad)?
            .apply_keystream(data),
    }
    Ok(())
}

/// The padded size of `len` bytes (length prefix included) for unit `p`.
pub fn padded_len(len: usize, p: usize) -> usize {
    if p == 0 {
        return len;
    }
    let blocks = len.div_ceil(p).max(1);
    p * blocks.next_power_of_two()
}

/// Encrypts and signs a data message; returns the wire packet and the
/// message id. Draws the 12-byte IV from `rng`.
pub fn encrypt(
    session_id: &[u8],
    group_key: &[u8],
    signing_key: &SigningKey,
    message: &DataMessage,
    padding: usize,
    rng: &mut impl CryptoRng,
) -> Result<(String, [u8; MESSAGE_ID_LEN]), MpencError> {
    let iv: [u8; 12] = sgm_crypto::rng::random_array(rng);
    encrypt_with_iv(session_id, group_key, signing_key, message, padding, iv)
}

/// [`encrypt`] with the IV given.
pub fn encrypt_with_iv(
    session_id: &[u8],
    group_key: &[u8],
    signing_key: &SigningKey,
    message: &DataMessage,
    padding: usize,
    iv: [u8; 12],
) -> Result<(String, [u8; MESSAGE_ID_LEN]), MpencError> {
    let mut raw = Vec::new();
    for p in &message.parents {
        codec::encode_tlv(&mut raw, tlv::MESSAGE_PARENT, p)?;
    }
    codec::encode_tlv(&mut raw, tlv::MESSAGE_BODY, &message.body)?;
    if raw.len() > MAX_PLAINTEXT {
        return Err(ApiMisuse::MessageTooLarge(raw.len()).into());
    }
    let len = u16::try_from(raw.len()).map_err(|_| ApiMisuse::MessageTooLarge(raw.len()))?;
    let mut plain = Vec::with_capacity(raw.len() + 2);
    plain.extend_from_slice(&len.to_be_bytes());
    plain.extend_from_slice(&raw);
    let target = padded_len(plain.len(), padding);
    plain.resize(target, 0);
    aes_ctr(group_key, &iv, &mut plain)?;

    let mut content = Vec::new();
    codec::encode_standard_fields(&mut content, message_type::MPENC_DATA_MESSAGE);
    codec::encode_tlv(&mut content, tlv::MESSAGE_IV, &iv)?;
    codec::encode_tlv(&mut content, tlv::MESSAGE_PAYLOAD, &plain)?;

    let sk_hash = sidkey_hash(session_id, group_key);
    let mut signed = Vec::with_capacity(DATA_MAGIC.len() + 32 + content.len());
    signed.extend_from_slice(DATA_MAGIC);
    signed.extend_from_slice(&sk_hash);
    signed.extend_from_slice(&content);
    let signature = signing_key.sign(&signed).to_bytes();

    let mut out = Vec::with_capacity(content.len() + 73);
    codec::encode_tlv(&mut out, tlv::SIDKEY_HINT, &sk_hash[..1])?;
    codec::encode_tlv(&mut out, tlv::MESSAGE_SIGNATURE, &signature)?;
    out.extend_from_slice(&content);
    Ok((codec::encode_wire(&out), message_id(&signature, &content)))
}

/// SHA-256(signature ‖ content)[..20].
pub fn message_id(signature: &[u8; 64], content: &[u8]) -> [u8; MESSAGE_ID_LEN] {
    let h = sha256(&[signature, content]);
    let mut id = [0u8; MESSAGE_ID_LEN];
    id.copy_from_slice(&h[..MESSAGE_ID_LEN]);
    id
}

/// The SIDKEY hint of a data packet (to pick a session before verifying).
pub fn sidkey_hint(packet: &str) -> Result<u8, MpencError> {
    let content = codec::decode_wire_of_type(packet, message_type::MPENC_DATA_MESSAGE)?;
    TlvReader::new(&content).pop_byte(tlv::SIDKEY_HINT, "sidkey hint")
}

/// Verifies and decrypts a data message from the author whose ephemeral key
/// is `author_key`; returns the plaintext and the message id.
pub fn decrypt(
    session_id: &[u8],
    group_key: &[u8],
    author_key: &VerifyingKey,
    packet: &str,
) -> Result<(DataMessage, [u8; MESSAGE_ID_LEN]), MpencError> {
    let content = codec::decode_wire_of_type(packet, message_type::MPENC_DATA_MESSAGE)?;
    let mut r = TlvReader::new(&content);
    let hint = r.pop_byte(tlv::SIDKEY_HINT, "sidkey hint")?;
    let sig_bytes = r.pop(tlv::MESSAGE_SIGNATURE)?;
    let signature: [u8; 64] = sig_bytes.try_into().map_err(|_| MpencError::BadLength {
        field: "message signature",
        expected: 64,
        actual: sig_bytes.len(),
    })?;
    let raw = r.rest();
    let sk_hash = sidkey_hash(session_id, group_key);
    if hint != sk_hash[0] {
        return Err(MpencError::SidkeyHint);
    }
    let mut signed = Vec::with_capacity(DATA_MAGIC.len() + 32 + raw.len());
    signed.extend_from_slice(DATA_MAGIC);
    signed.extend_from_slice(&sk_hash);
    signed.extend_from_slice(raw);
    author_key
        .verify(&signed, &Signature::from_bytes(signature))
        .map_err(|_| MpencError::BadSignature)?;

    r.pop_standard_fields(message_type::MPENC_DATA_MESSAGE)?;
    let iv_bytes = r.pop(tlv::MESSAGE_IV)?;
    let iv: [u8; 12] = iv_bytes.try_into().map_err(|_| MpencError::BadLength {
        field: "message IV",
        expected: 12,
        actual: iv_bytes.len(),
    })?;
    let mut plain = r.pop(tlv::MESSAGE_PAYLOAD)?.to_vec();
    r.finish()?;
    aes_ctr(group_key, &iv, &mut plain)?;
    let (len, rest) = match plain.as_slice() {
        [a, b, rest @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), rest),
        _ => {
            return Err(MpencError::BadPlaintextLength {
                claimed: 2,
                available: plain.len(),
            });
        }
    };
    let raw_body = rest.get(..len).ok_or(MpencError::BadPlaintextLength {
        claimed: len,
        available: rest.len(),
    })?;
    let mut pr = TlvReader::new(raw_body);
    let parents = pr
        .pop_all(tlv::MESSAGE_PARENT, MAX_MEMBERS, "parents")?
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let body = pr.pop(tlv::MESSAGE_BODY)?.to_vec();
    pr.finish()?;
    Ok((DataMessage { parents, body }, message_id(&signature, raw)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::padded_len;

    /// mpenc_js: `p · (1 << ceil(log(ceil(L/p)) / log 2)) + 1` then
    /// `new Array(n).join('\0')`, i.e. one byte less: `p · 2^⌈log2 ⌈L/p⌉⌉`.
    #[test]
    fn padding_sizes() {
        assert_eq!(padded_len(9, 128), 128);
        assert_eq!(padded_len(128, 128), 128);
        assert_eq!(padded_len(129, 128), 256);
        assert_eq!(padded_len(257, 128), 512);
        assert_eq!(padded_len(512, 128), 512);
        assert_eq!(padded_len(513, 128), 1024);
        assert_eq!(padded_len(9, 32), 32);
        assert_eq!(padded_len(33, 32), 64);
        assert_eq!(padded_len(9, 0), 9);
    }
}
