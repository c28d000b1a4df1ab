//! The byte layout of the signed body (wire version 2): fixed-size fields
//! in a fixed order and LEB128 integers, no field tags.
//!
//! ```text
//! body     = sender (16) ‖ seq ‖ count ‖ parents (32 each, strictly ascending)
//!            ‖ len ‖ payload
//!            ‖ count ‖ count × (recipient (16) ‖ len ‖ part)   (strictly ascending)
//!            ‖ flags (bit 0: a new signing key (32) follows; bit 1: leaf;
//!              other bits 0) [‖ new signing key]
//! integers = unsigned LEB128, minimal (no trailing 0x80 groups), at most 64 bits
//! ```
//!
//! Version 1 was protobuf; a tag and a length per field cost an
//! acknowledgment 5 bytes and a direct part 6, which every member pays on
//! every operation. The layout is canonical by construction: the reader
//! rejects non-minimal integers, unknown flag bits and trailing
//! bytes, so one envelope has one encoding (its id depends on it).

use crate::Malformed;

/// Appends `v` as minimal unsigned LEB128 (protobuf's varint).
pub(crate) fn put_varint(out: &mut Vec<u8>, v: u64) {
    prost::encoding::encode_varint(v, out);
}

/// Appends `bytes` with its length in front.
pub(crate) fn put_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A strict cursor over untrusted bytes: every read checks the length
/// first, so no input can make it panic.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let (head, rest) = self.rest.split_at_checked(n).ok_or(Malformed::Truncated)?;
        self.rest = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(Malformed::Truncated)?;
        self.rest = rest;
        Ok(*head)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, Malformed> {
        self.array::<1>().map(|[b]| b)
    }

    /// A minimal LEB128 integer of at most 64 bits.
    pub(crate) fn varint(&mut self) -> Result<u64, Malformed> {
        let before = self.rest.len();
        let v = prost::encoding::decode_varint(&mut self.rest).map_err(|_| {
            // prost reports both a cut-off and an overlong encoding; a
            // varint that ends at the input's end is the cut-off.
            if self.rest.iter().all(|b| b & 0x80 != 0) {
                Malformed::Truncated
            } else {
                Malformed::NotCanonical
            }
        })?;
        // A longer encoding of a smaller number decodes too: refuse it.
        if before - self.rest.len() != prost::encoding::encoded_len_varint(v) {
            return Err(Malformed::NotCanonical);
        }
        Ok(v)
    }

    /// A length-prefixed byte string.
    pub(crate) fn len_prefixed(&mut self) -> Result<&'a [u8], Malformed> {
        let len = usize::try_from(self.varint()?).map_err(|_| Malformed::Truncated)?;
        self.bytes(len)
    }

    /// An element count, refused before anything is allocated if the
    /// remaining bytes cannot hold `count` elements of at least `min_size`.
    pub(crate) fn count(&mut self, min_size: usize) -> Result<usize, Malformed> {
        let count = usize::try_from(self.varint()?).map_err(|_| Malformed::Truncated)?;
        if count.saturating_mul(min_size) > self.rest.len() {
            return Err(Malformed::Truncated);
        }
        Ok(count)
    }

    /// Succeeds only if every byte was read.
    pub(crate) fn finish(self) -> Result<(), Malformed> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Malformed::NotCanonical)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_only_minimal_ones_decode() {
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut r = Reader::new(&out);
            assert_eq!(r.varint(), Ok(v));
            r.finish().unwrap();
        }
        // 0 and 1 written with a redundant zero group.
        for bad in [&[0x80, 0x00][..], &[0x81, 0x00]] {
            assert_eq!(Reader::new(bad).varint(), Err(Malformed::NotCanonical));
        }
        // More than 64 bits.
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        assert_eq!(Reader::new(&too_big).varint(), Err(Malformed::NotCanonical));
        assert_eq!(Reader::new(&[0x80]).varint(), Err(Malformed::Truncated));
    }

    #[test]
    fn counts_and_lengths_are_checked_against_what_is_left() {
        let mut out = Vec::new();
        put_varint(&mut out, 1 << 40);
        assert_eq!(Reader::new(&out).count(32), Err(Malformed::Truncated));
        assert_eq!(Reader::new(&out).len_prefixed(), Err(Malformed::Truncated));
        let mut ok = Vec::new();
        put_len_prefixed(&mut ok, b"abc");
        ok.push(7);
        let mut r = Reader::new(&ok);
        assert_eq!(r.len_prefixed(), Ok(&b"abc"[..]));
        assert_eq!(r.finish(), Err(Malformed::NotCanonical));
    }
}
