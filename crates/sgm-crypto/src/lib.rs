//! # sgm-crypto
//!
//! Typed wrappers over vetted primitives, and nothing hand-rolled: every
//! algorithm here is a call into the dalek or RustCrypto crates.
//!
//! | primitive | standard | crate |
//! |---|---|---|
//! | X25519 | RFC 7748 | `x25519-dalek` 3 |
//! | Ed25519 (strict verification, batch verification) | RFC 8032 | `ed25519-dalek` 3 |
//! | HKDF-SHA256, HMAC-SHA256, SHA-256 | RFC 5869, RFC 2104 | `hkdf` 0.13, `hmac` 0.13, `sha2` 0.11 |
//! | ChaCha20-Poly1305 | RFC 8439 | `chacha20poly1305` 0.11 |
//! | HPKE base mode, DHKEM(X25519, HKDF-SHA256)/HKDF-SHA256/ChaCha20-Poly1305 | RFC 9180 | `hpke` 0.15 |
//!
//! ## Security properties
//! - Secrets ([`Secret`], [`SecretBytes`], [`X25519SecretKey`], [`SigningKey`])
//!   are zeroized on drop, print as `[redacted]`, and compare in constant time.
//! - Randomness is injected: every function that needs it takes
//!   `&mut impl CryptoRng`, so a seeded generator reproduces a run byte for
//!   byte. Functions that would draw randomness internally have a variant that
//!   takes the drawn value explicitly (for example [`hpke_seal_with_ikm`]).
//! - Ed25519 verification is strict (RFC 8032 §5.1.7 plus small-order key
//!   rejection), so signatures are not malleable.
//! - X25519 rejects non-contributory (all-zero) shared secrets.
//! - Each primitive is checked against its RFC's published vectors.
//!
//! ## Example
//! ```
//! use sgm_crypto::{hpke_generate_keypair, hpke_open, hpke_seal, MemberId, OsRng, SigningKey};
//!
//! // The operating system's random source, as an application uses it. (Tests
//! // and vectors use seeded generators so runs reproduce byte for byte.)
//! let mut rng = OsRng;
//! let identity = SigningKey::generate(&mut rng);
//! let id = MemberId::from_identity_key(&identity.verifying_key());
//!
//! let bob = hpke_generate_keypair(&mut rng);
//! let sealed = hpke_seal(&bob.public_key(), b"info", id.as_bytes(), b"hi", &mut rng)?;
//! let opened = hpke_open(&bob, &sealed, b"info", id.as_bytes())?;
//! assert_eq!(opened.expose_secret(), b"hi");
//!
//! let sig = identity.sign(b"msg");
//! identity.verifying_key().verify(b"msg", &sig)?;
//! # Ok::<(), sgm_crypto::CryptoError>(())
//! ```

mod aead;
mod ed25519;
mod error;
mod hpke;
mod identity;
pub mod kdf;
pub mod rng;
mod secret;
pub mod vectors;
mod x25519;

pub use aead::{AEAD_KEY_LEN, AEAD_NONCE_LEN, AEAD_TAG_LEN, AeadKey, aead_open, aead_seal};
pub use ed25519::{SIGNATURE_LEN, Signature, SigningKey, VerifyingKey, verify_batch};
pub use error::CryptoError;
pub use hpke::{
    HPKE_ENC_LEN, HPKE_EXPORT_LEN, HPKE_IKM_LEN, HPKE_TAG_LEN, HpkeCiphertext, hpke_derive_keypair,
    hpke_derive_keypair_with_public, hpke_generate_keypair, hpke_open, hpke_open_export, hpke_seal,
    hpke_seal_export_with_ikm, hpke_seal_with_ikm,
};
pub use identity::{MEMBER_ID_LABEL, MEMBER_ID_LEN, MemberId};
pub use kdf::{
    hkdf_sha256, hkdf_sha256_vec, hmac_sha256, hmac_sha256_parts, hmac_sha256_verify, sha256,
};
pub use rand_core::{CryptoRng, SeedableRng};
pub use rng::OsRng;
pub use secret::{Secret, SecretBytes};
pub use x25519::{X25519PublicKey, X25519SecretKey};

/// First 8 bytes in hex, for `Debug` of public values.
fn hex_prefix(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(18);
    for b in bytes.iter().take(8) {
        s.push_str(&format!("{b:02x}"));
    }
    if bytes.len() > 8 {
        s.push('…');
    }
    s
}
