//! HKDF-SHA256 (RFC 5869) and HMAC-SHA256 (RFC 2104).

use hkdf::Hkdf;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::{CryptoError, Secret};

type HmacSha256 = hmac::Hmac<Sha256>;

/// Maximum HKDF-SHA256 output (RFC 5869 §2.3).
pub const HKDF_MAX_OUTPUT: usize = 255 * 32;

/// HKDF-SHA256 extract-then-expand into `N` secret bytes.
///
/// `salt` of `None` means the RFC's default (32 zero bytes).
pub fn hkdf_sha256<const N: usize>(
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
) -> Result<Secret<N>, CryptoError> {
    let mut okm = [0u8; N];
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, &mut okm)
        .map_err(|_| CryptoError::KdfOutputTooLong(N))?;
    Ok(Secret::from_bytes(okm))
}

/// HKDF-SHA256 extract-then-expand into `len` bytes.
pub fn hkdf_sha256_vec(
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
    len: usize,
) -> Result<crate::SecretBytes, CryptoError> {
    if len > HKDF_MAX_OUTPUT {
        return Err(CryptoError::KdfOutputTooLong(len));
    }
    let mut okm = vec![0u8; len];
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, &mut okm)
        .map_err(|_| CryptoError::KdfOutputTooLong(len))?;
    Ok(crate::SecretBytes::new(okm))
}

fn hmac_keyed(key: &[u8]) -> Result<HmacSha256, CryptoError> {
    // RFC 2104 HMAC takes keys of any length; the error exists only for
    // fixed-key MACs, so this never fails in practice.
    <HmacSha256 as KeyInit>::new_from_slice(key).map_err(|_| CryptoError::InvalidLength {
        what: "HMAC key",
        expected: 32,
        actual: key.len(),
    })
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<[u8; 32], CryptoError> {
    let mut mac = hmac_keyed(key)?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

/// HMAC-SHA256 of the concatenation of `parts` under `key` (no copy of
/// the parts is made: callers MAC secret data in place).
pub fn hmac_sha256_parts(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 32], CryptoError> {
    let mut mac = hmac_keyed(key)?;
    for p in parts {
        mac.update(p);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// Checks an HMAC-SHA256 tag in constant time.
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
    let mut mac = hmac_keyed(key)?;
    mac.update(data);
    mac.verify_slice(tag)
        .map_err(|_| CryptoError::DecryptionFailed)
}

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5869 appendix A.1.
    #[test]
    fn hkdf_rfc5869_case1() {
        let ikm = [0x0bu8; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        let okm = hkdf_sha256::<42>(Some(&salt), &ikm, &info).unwrap();
        assert_eq!(
            hex::encode(okm.expose_secret()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    /// RFC 4231 test case 2.
    #[test]
    fn hmac_rfc4231_case2() {
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac_sha256_verify(b"Jefe", b"what do ya want for nothing?", &tag).is_ok());
        let mut bad = tag;
        bad[0] ^= 1;
        assert_eq!(
            hmac_sha256_verify(b"Jefe", b"what do ya want for nothing?", &bad),
            Err(CryptoError::DecryptionFailed)
        );
    }

    #[test]
    fn hkdf_rejects_too_long() {
        assert_eq!(
            hkdf_sha256_vec(None, b"k", b"", HKDF_MAX_OUTPUT + 1).unwrap_err(),
            CryptoError::KdfOutputTooLong(HKDF_MAX_OUTPUT + 1)
        );
    }
}
