//! Wire framing shared by every message of this crate: one version byte,
//! then a protobuf body (prost), decoded strictly.
//!
//! Strict means: the body must be the canonical encoding of the value it
//! decodes to (re-encoding gives the same bytes), so unknown fields,
//! duplicated fields, non-minimal varints and trailing bytes are rejected.
//! Decoding never panics on any input.

use prost::Message;

use crate::error::{DcgkaError, Result};

/// The wire version of every message this crate emits.
pub const WIRE_VERSION: u8 = 1;

/// Bound on any encoded message this crate accepts (16 MiB).
pub const MAX_MESSAGE_LEN: usize = 16 << 20;

/// `WIRE_VERSION ‖ protobuf(msg)`.
pub(crate) fn encode<M: Message>(msg: &M) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + msg.encoded_len());
    out.push(WIRE_VERSION);
    // Writing into a Vec cannot run out of capacity.
    msg.encode_raw(&mut out);
    out
}

/// Inverse of [`encode`], strict.
pub(crate) fn decode<M: Message + Default>(bytes: &[u8], what: &'static str) -> Result<M> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(DcgkaError::Malformed(what));
    }
    let (&version, body) = bytes.split_first().ok_or(DcgkaError::Malformed(what))?;
    if version != WIRE_VERSION {
        return Err(DcgkaError::UnsupportedVersion(version));
    }
    let msg = M::decode(body).map_err(|_| DcgkaError::Malformed(what))?;
    if msg.encode_to_vec() != body {
        return Err(DcgkaError::Malformed(what));
    }
    Ok(msg)
}

/// Exactly `N` bytes from a field.
pub(crate) fn array<const N: usize>(bytes: &[u8], what: &'static str) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| DcgkaError::Malformed(what))
}
