//! Length hiding (mpENC §5.3): `len (u32 BE) ‖ data ‖ zeros`, padded to
//! 128 bytes, then to the next power of two.

use crate::error::{Error, Result};

/// The smallest padded size.
pub const PAD_BASELINE: usize = 128;

/// The padded size for `len` bytes of data (4-byte length prefix included).
pub fn padded_len(len: usize, padding: bool) -> usize {
    let raw = len.saturating_add(4);
    if !padding {
        return raw;
    }
    if raw <= PAD_BASELINE {
        PAD_BASELINE
    } else {
        raw.checked_next_power_of_two().unwrap_or(raw)
    }
}

pub(crate) fn pad(data: &[u8], padding: bool) -> Result<Vec<u8>> {
    let len = u32::try_from(data.len()).map_err(|_| Error::TooLarge {
        len: data.len(),
        max: u32::MAX as usize,
    })?;
    let mut out = Vec::with_capacity(padded_len(data.len(), padding));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
    out.resize(padded_len(data.len(), padding), 0);
    Ok(out)
}

pub(crate) fn unpad(padded: &[u8]) -> Result<&[u8]> {
    let (len, rest) = padded
        .split_first_chunk::<4>()
        .ok_or(Error::Malformed("padding"))?;
    let len = u32::from_be_bytes(*len) as usize;
    let (data, zeros) = rest
        .split_at_checked(len)
        .ok_or(Error::Malformed("padding length"))?;
    if zeros.iter().any(|b| *b != 0) {
        return Err(Error::Malformed("padding bytes"));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(padded_len(0, true), 128);
        assert_eq!(padded_len(124, true), 128);
        assert_eq!(padded_len(125, true), 256);
        assert_eq!(padded_len(1000, true), 1024);
        assert_eq!(padded_len(10, false), 14);
        for n in [0usize, 1, 124, 125, 300] {
            let d = vec![7u8; n];
            assert_eq!(unpad(&pad(&d, true).unwrap()).unwrap(), &d[..]);
        }
        assert!(unpad(&[0, 0, 0, 9, 1]).is_err());
        assert!(unpad(&[0, 0, 0, 0, 1]).is_err());
    }
}
