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
    let body = versioned_body(bytes, what)?;
    let msg = M::decode(body).map_err(|_| DcgkaError::Malformed(what))?;
    if msg.encode_to_vec() != body {
        return Err(DcgkaError::Malformed(what));
    }
    Ok(msg)
}

/// Checks the length bound and the version byte; returns what follows.
pub(crate) fn versioned_body<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a [u8]> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(DcgkaError::Malformed(what));
    }
    let (&version, body) = bytes.split_first().ok_or(DcgkaError::Malformed(what))?;
    if version != WIRE_VERSION {
        return Err(DcgkaError::UnsupportedVersion(version));
    }
    Ok(body)
}

// Hand-laid-out formats (application messages, broadcast bundles) use
// minimal unsigned LEB128 integers and length prefixes: no field tags, as
// every member pays these bytes on every message.

/// Appends `v` as minimal LEB128.
pub(crate) fn put_varint(out: &mut Vec<u8>, v: u64) {
    prost::encoding::encode_varint(v, out);
}

/// Appends `bytes` with its length in front.
pub(crate) fn put_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Reads a minimal LEB128 integer off the front of `rest`.
pub(crate) fn take_varint(rest: &mut &[u8], what: &'static str) -> Result<u64> {
    let before = rest.len();
    let v = prost::encoding::decode_varint(rest).map_err(|_| DcgkaError::Malformed(what))?;
    if before - rest.len() != prost::encoding::encoded_len_varint(v) {
        return Err(DcgkaError::Malformed(what));
    }
    Ok(v)
}

/// Reads a length-prefixed byte string off the front of `rest`.
pub(crate) fn take_len_prefixed<'a>(rest: &mut &'a [u8], what: &'static str) -> Result<&'a [u8]> {
    let len = usize::try_from(take_varint(rest, what)?).map_err(|_| DcgkaError::Malformed(what))?;
    let (head, tail) = rest
        .split_at_checked(len)
        .ok_or(DcgkaError::Malformed(what))?;
    *rest = tail;
    Ok(head)
}

/// Reads an element count, refused if the bytes left cannot hold that many
/// elements of at least one byte each (so nothing is allocated for it).
pub(crate) fn take_count(rest: &mut &[u8], what: &'static str) -> Result<usize> {
    let n = usize::try_from(take_varint(rest, what)?).map_err(|_| DcgkaError::Malformed(what))?;
    if n > rest.len() {
        return Err(DcgkaError::Malformed(what));
    }
    Ok(n)
}

/// Exactly `N` bytes from a field.
pub(crate) fn array<const N: usize>(bytes: &[u8], what: &'static str) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| DcgkaError::Malformed(what))
}
