//! Counting before decoding (issue 10 item 8: allocation before
//! validation).
//!
//! prost decodes a repeated field into a `Vec` of structs, and a struct
//! costs far more memory than its shortest encoding (an empty `SeqPb` is 2
//! bytes on the wire and 32 in memory; a 16 MiB sync packet of them
//! allocated 672 MiB before any entry was checked). Each packet body is
//! therefore walked once without allocating, its top-level fields counted,
//! and refused when a count exceeds what that packet may legitimately
//! hold; only then is it decoded.

use bytes::Buf;
use prost::encoding::{WireType, decode_key, decode_varint};

use crate::error::{Error, Result};

/// How many times each top-level field number `1..=N` occurs in the
/// protobuf message `body` (fields above `N` make it malformed). Only
/// varint and length-delimited fields are expected; anything else is
/// refused. Allocates nothing.
pub(crate) fn field_counts<const N: usize>(body: &[u8], what: &'static str) -> Result<[usize; N]> {
    let mut counts = [0usize; N];
    let mut buf = body;
    while buf.has_remaining() {
        let (tag, wire) = decode_key(&mut buf).map_err(|_| Error::Malformed(what))?;
        match wire {
            WireType::Varint => {
                decode_varint(&mut buf).map_err(|_| Error::Malformed(what))?;
            }
            WireType::LengthDelimited => {
                let len = decode_varint(&mut buf).map_err(|_| Error::Malformed(what))?;
                let len = usize::try_from(len).map_err(|_| Error::Malformed(what))?;
                if len > buf.remaining() {
                    return Err(Error::Malformed(what));
                }
                buf.advance(len);
            }
            _ => return Err(Error::Malformed(what)),
        }
        let slot = usize::try_from(tag)
            .ok()
            .and_then(|t| t.checked_sub(1))
            .and_then(|i| counts.get_mut(i))
            .ok_or(Error::Malformed(what))?;
        *slot = slot.saturating_add(1);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn counts_fields_and_refuses_garbage() {
        // field 1 (bytes, 2 long), field 2 (varint 300), field 1 again (empty)
        let body = [0x0a, 2, 7, 7, 0x10, 0xac, 0x02, 0x0a, 0];
        assert_eq!(field_counts::<2>(&body, "t").unwrap(), [2, 1]);
        // Field 3 is not expected.
        assert!(field_counts::<2>(&[0x18, 1], "t").is_err());
        // A length beyond the end.
        assert!(field_counts::<2>(&[0x0a, 5, 1], "t").is_err());
        // A fixed64 field.
        assert!(field_counts::<2>(&[0x09, 0, 0, 0, 0, 0, 0, 0, 0], "t").is_err());
        assert_eq!(field_counts::<2>(&[], "t").unwrap(), [0, 0]);
    }
}
