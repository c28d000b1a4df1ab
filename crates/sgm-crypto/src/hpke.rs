//! HPKE base mode (RFC 9180) with the suite
//! DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305,
//! through the `hpke` crate.
//!
//! Key pairs are X25519 keys made by the RFC's `DeriveKeyPair(ikm)`, so a key
//! pair is fully determined by 32 bytes of input keying material, which is
//! what test vectors record.

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};

use crate::rng::FixedBytes;
use crate::{CryptoError, Secret, SecretBytes, X25519PublicKey, X25519SecretKey};

type Kem = X25519HkdfSha256;
type Kdf = HkdfSha256;
type Aead = ChaCha20Poly1305;

/// Length of the encapsulated key (`enc`).
pub const HPKE_ENC_LEN: usize = 32;
/// Ciphertext expansion: the AEAD tag (the `enc` is carried separately).
pub const HPKE_TAG_LEN: usize = 16;
/// Length of the input keying material for `DeriveKeyPair` and of `ikmE`.
pub const HPKE_IKM_LEN: usize = 32;
/// Length of a secret exported with [`hpke_seal_export_with_ikm`] /
/// [`hpke_open_export`].
pub const HPKE_EXPORT_LEN: usize = 32;

/// An HPKE ciphertext: the encapsulated ephemeral key and the AEAD output.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HpkeCiphertext {
    /// The encapsulated key (the ephemeral X25519 public key).
    pub enc: [u8; HPKE_ENC_LEN],
    /// The sealed plaintext with its tag.
    pub ciphertext: Vec<u8>,
}

/// RFC 9180 `DeriveKeyPair(ikm)` for DHKEM(X25519, HKDF-SHA256).
pub fn hpke_derive_keypair(ikm: &Secret<HPKE_IKM_LEN>) -> X25519SecretKey {
    hpke_derive_keypair_with_public(ikm).0
}

/// [`hpke_derive_keypair`] returning the public key it computed as well, so
/// that callers who need both do not pay for a second base-point
/// multiplication.
pub fn hpke_derive_keypair_with_public(
    ikm: &Secret<HPKE_IKM_LEN>,
) -> (X25519SecretKey, X25519PublicKey) {
    let (sk, pk) = Kem::derive_keypair(ikm.expose_secret());
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(sk.to_bytes().as_slice());
    let mut public = [0u8; 32];
    public.copy_from_slice(pk.to_bytes().as_slice());
    (
        X25519SecretKey::from_secret(Secret::from_bytes(bytes)),
        X25519PublicKey::from_bytes(public),
    )
}

/// Draws a fresh HPKE key pair: `DeriveKeyPair` of 32 random bytes.
pub fn hpke_generate_keypair(rng: &mut impl rand_core::CryptoRng) -> X25519SecretKey {
    hpke_derive_keypair(&Secret::random(rng))
}

/// Seals `plaintext` to `recipient` in base mode (single shot, sequence 0),
/// drawing the 32-byte `ikmE` for the ephemeral key from `rng`.
pub fn hpke_seal(
    recipient: &X25519PublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl rand_core::CryptoRng,
) -> Result<HpkeCiphertext, CryptoError> {
    let ikm_e = Secret::<HPKE_IKM_LEN>::random(rng);
    hpke_seal_with_ikm(recipient, info, aad, plaintext, &ikm_e)
}

/// [`hpke_seal`] with an explicit `ikmE` (RFC 9180 §4.1), for replaying
/// recorded randomness in test vectors.
pub fn hpke_seal_with_ikm(
    recipient: &X25519PublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    ikm_e: &Secret<HPKE_IKM_LEN>,
) -> Result<HpkeCiphertext, CryptoError> {
    seal_in_context(recipient, info, aad, plaintext, ikm_e).map(|(sealed, _)| sealed)
}

/// [`hpke_seal_with_ikm`] that also exports a 32-byte secret from the same
/// context (RFC 9180 §5.3, `Export(exporter_context, 32)`): the recipient
/// gets the same secret from [`hpke_open_export`], without it travelling.
pub fn hpke_seal_export_with_ikm(
    recipient: &X25519PublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    ikm_e: &Secret<HPKE_IKM_LEN>,
    exporter_context: &[u8],
) -> Result<(HpkeCiphertext, Secret<HPKE_EXPORT_LEN>), CryptoError> {
    let (sealed, ctx) = seal_in_context(recipient, info, aad, plaintext, ikm_e)?;
    Ok((sealed, export(|out| ctx.export(exporter_context, out))?))
}

fn seal_in_context(
    recipient: &X25519PublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    ikm_e: &Secret<HPKE_IKM_LEN>,
) -> Result<(HpkeCiphertext, hpke::aead::AeadCtxS<Aead, Kdf, Kem>), CryptoError> {
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(recipient.as_bytes())
        .map_err(|_| CryptoError::InvalidPublicKey("X25519"))?;
    let mut source = FixedBytes::new(ikm_e.expose_secret());
    let (enc, mut ctx) =
        hpke::setup_sender_with_rng::<Aead, Kdf, Kem>(&OpModeS::Base, &pk, info, &mut source)
            .map_err(|_| CryptoError::NonContributory)?;
    let ciphertext = ctx
        .seal(plaintext, aad)
        .map_err(|_| CryptoError::DecryptionFailed)?;
    let mut enc_bytes = [0u8; HPKE_ENC_LEN];
    enc_bytes.copy_from_slice(enc.to_bytes().as_slice());
    Ok((
        HpkeCiphertext {
            enc: enc_bytes,
            ciphertext,
        },
        ctx,
    ))
}

/// Opens a base-mode ciphertext with the recipient's secret key.
pub fn hpke_open(
    recipient: &X25519SecretKey,
    sealed: &HpkeCiphertext,
    info: &[u8],
    aad: &[u8],
) -> Result<SecretBytes, CryptoError> {
    open_in_context(recipient, sealed, info, aad).map(|(pt, _)| pt)
}

/// [`hpke_open`] that also exports the 32-byte secret
/// [`hpke_seal_export_with_ikm`] exported with the same `exporter_context`.
pub fn hpke_open_export(
    recipient: &X25519SecretKey,
    sealed: &HpkeCiphertext,
    info: &[u8],
    aad: &[u8],
    exporter_context: &[u8],
) -> Result<(SecretBytes, Secret<HPKE_EXPORT_LEN>), CryptoError> {
    let (pt, ctx) = open_in_context(recipient, sealed, info, aad)?;
    Ok((pt, export(|out| ctx.export(exporter_context, out))?))
}

/// Runs an HPKE export into a fresh secret (32 bytes is far below the
/// exporter's bound, so the error arm is unreachable in practice).
fn export(
    f: impl FnOnce(&mut [u8]) -> Result<(), hpke::HpkeError>,
) -> Result<Secret<HPKE_EXPORT_LEN>, CryptoError> {
    let mut out = [0u8; HPKE_EXPORT_LEN];
    f(&mut out).map_err(|_| CryptoError::DecryptionFailed)?;
    Ok(Secret::from_bytes(out))
}

fn open_in_context(
    recipient: &X25519SecretKey,
    sealed: &HpkeCiphertext,
    info: &[u8],
    aad: &[u8],
) -> Result<(SecretBytes, hpke::aead::AeadCtxR<Aead, Kdf, Kem>), CryptoError> {
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(recipient.expose_secret())
        .map_err(|_| CryptoError::InvalidPublicKey("X25519"))?;
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed.enc)
        .map_err(|_| CryptoError::DecryptionFailed)?;
    let mut ctx = hpke::setup_receiver::<Aead, Kdf, Kem>(&OpModeR::Base, &sk, &enc, info)
        .map_err(|_| CryptoError::DecryptionFailed)?;
    let pt = ctx
        .open(&sealed.ciphertext, aad)
        .map(SecretBytes::new)
        .map_err(|_| CryptoError::DecryptionFailed)?;
    Ok((pt, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// RFC 9180 appendix A.2.1 (base mode, first encryption).
    #[test]
    fn rfc9180_a21_base_mode() {
        let ikm_r = Secret::from_slice(&h(
            "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
        ))
        .unwrap();
        let (sk_r, pk_r) = hpke_derive_keypair_with_public(&ikm_r);
        assert_eq!(pk_r, sk_r.public_key());
        // The appendix prints DeriveKeyPair's expanded bytes; the crate
        // serializes the clamped scalar (RFC 7748 §5: low 3 bits of byte 0 cleared, byte 31 & 0x7f | 0x40),
        // which is the same X25519 key.
        assert_eq!(
            hex::encode(sk_r.expose_secret()),
            "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e07b"
        );
        assert_eq!(
            hex::encode(sk_r.public_key().as_bytes()),
            "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a"
        );
        let ikm_e = Secret::from_slice(&h(
            "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
        ))
        .unwrap();
        assert_eq!(
            hex::encode(hpke_derive_keypair(&ikm_e).expose_secret()),
            "f0ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381640"
        );
        let info = h("4f6465206f6e2061204772656369616e2055726e");
        let aad = h("436f756e742d30");
        let pt = h("4265617574792069732074727574682c20747275746820626561757479");
        let sealed = hpke_seal_with_ikm(&sk_r.public_key(), &info, &aad, &pt, &ikm_e).unwrap();
        assert_eq!(
            hex::encode(sealed.enc),
            "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a"
        );
        assert_eq!(
            hex::encode(&sealed.ciphertext),
            "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28"
        );
        let opened = hpke_open(&sk_r, &sealed, &info, &aad).unwrap();
        assert_eq!(opened.expose_secret(), pt.as_slice());

        // A.2.1.2, exported values (L = 32); both sides derive them.
        for (context, value) in [
            (
                "",
                "4bbd6243b8bb54cec311fac9df81841b6fd61f56538a775e7c80a9f40160606e",
            ),
            (
                "00",
                "8c1df14732580e5501b00f82b10a1647b40713191b7c1240ac80e2b68808ba69",
            ),
            (
                "54657374436f6e74657874",
                "5acb09211139c43b3090489a9da433e8a30ee7188ba8b0a9a1ccf0c229283e53",
            ),
        ] {
            let context = h(context);
            let (sealed2, sent) =
                hpke_seal_export_with_ikm(&sk_r.public_key(), &info, &aad, &pt, &ikm_e, &context)
                    .unwrap();
            assert_eq!(sealed2, sealed);
            assert_eq!(hex::encode(sent.expose_secret()), value);
            let (_, received) = hpke_open_export(&sk_r, &sealed, &info, &aad, &context).unwrap();
            assert_eq!(hex::encode(received.expose_secret()), value);
        }
    }

    #[test]
    fn open_rejects_wrong_key_aad_info_and_tampering() {
        let sk = hpke_derive_keypair(&Secret::from_bytes([1u8; 32]));
        let other = hpke_derive_keypair(&Secret::from_bytes([2u8; 32]));
        let sealed = hpke_seal_with_ikm(
            &sk.public_key(),
            b"info",
            b"aad",
            b"hello",
            &Secret::from_bytes([3u8; 32]),
        )
        .unwrap();
        assert!(hpke_open(&sk, &sealed, b"info", b"aad").is_ok());
        assert_eq!(
            hpke_open(&other, &sealed, b"info", b"aad").unwrap_err(),
            CryptoError::DecryptionFailed
        );
        assert!(hpke_open(&sk, &sealed, b"info", b"other").is_err());
        assert!(hpke_open(&sk, &sealed, b"other", b"aad").is_err());
        let mut bad = sealed.clone();
        bad.ciphertext[0] ^= 1;
        assert!(hpke_open(&sk, &bad, b"info", b"aad").is_err());
        let mut bad = sealed;
        bad.enc[5] ^= 1;
        assert!(hpke_open(&sk, &bad, b"info", b"aad").is_err());
    }
}
