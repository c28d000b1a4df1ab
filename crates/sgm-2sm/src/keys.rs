//! Key-pair helpers and the explicit randomness of every operation.
//!
//! Every random value an operation consumes is drawn up front into one of
//! the structs below, in the documented order, and the deterministic
//! `*_with` variant of the operation does the work. Test vectors list these
//! values, labelled by field name, so that another implementation can replay
//! them. All key pairs are made by RFC 9180 `DeriveKeyPair(ikm)` from 32
//! random bytes.

use core::fmt;

use sgm_crypto::{
    CryptoRng, HPKE_IKM_LEN, Secret, X25519PublicKey, X25519SecretKey,
    hpke_derive_keypair_with_public,
};

use crate::{Result, TwoSmError};

/// A fixed scalar used only to detect low-order points: X25519 with a
/// clamped scalar maps every low-order point (and only those) to zero.
const LOW_ORDER_PROBE: [u8; 32] = [0x5a; 32];

/// Rejects low-order X25519 public keys.
pub(crate) fn check_public_key(pk: &X25519PublicKey, what: &'static str) -> Result<()> {
    X25519SecretKey::from_secret(Secret::from_bytes(LOW_ORDER_PROBE))
        .diffie_hellman(pk)
        .map(|_| ())
        .map_err(|_| TwoSmError::InvalidPublicKey { what })
}

/// The key pair made from `ikm` (RFC 9180 `DeriveKeyPair`), with the public
/// key it computed (asking the secret key again would cost another
/// base-point multiplication).
pub(crate) fn derive(ikm: &Secret<HPKE_IKM_LEN>) -> (X25519SecretKey, X25519PublicKey) {
    hpke_derive_keypair_with_public(ikm)
}

/// The random values one [`crate::Session::send`] consumes.
///
/// Draw order (what [`SendRandomness::draw`] does, and what test vectors
/// list): `ikm_own_key`, `ikm_ephemeral`, then `ikm_first_contact` only if
/// the session is about to send its first-contact message.
///
/// The key pair the sender makes for the peer takes no randomness of its
/// own: both sides derive it from the HPKE context that carries the message
/// (see `RECEIVER_KEY_EXPORT`), so it is as fresh as `ikm_ephemeral`.
pub struct SendRandomness {
    /// `DeriveKeyPair` input of the sender's new key pair: the sender keeps
    /// the secret key and announces the public key (with its index) for the
    /// peer to encrypt to.
    pub ikm_own_key: Secret<HPKE_IKM_LEN>,
    /// HPKE `ikmE` of the message's encapsulation (for a first-contact
    /// message: the outer layer, sealed to the signed prekey).
    pub ikm_ephemeral: Secret<HPKE_IKM_LEN>,
    /// HPKE `ikmE` of the inner layer of a first-contact message (sealed to
    /// the one-time prekey); `None` for every later message.
    pub ikm_first_contact: Option<Secret<HPKE_IKM_LEN>>,
}

impl SendRandomness {
    /// Draws the values in the documented order.
    pub fn draw(rng: &mut impl CryptoRng, first_contact: bool) -> Self {
        let ikm_own_key = Secret::random(rng);
        let ikm_ephemeral = Secret::random(rng);
        let ikm_first_contact = first_contact.then(|| Secret::random(rng));
        Self {
            ikm_own_key,
            ikm_ephemeral,
            ikm_first_contact,
        }
    }
}

impl fmt::Debug for SendRandomness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendRandomness([redacted])")
    }
}

/// The random values [`crate::PrekeyStore::publish`] consumes.
///
/// Draw order: `ikm_signed_prekey`, then one `ikm_one_time_prekeys` entry
/// per one-time prekey, in id order.
pub struct PublishRandomness {
    /// `DeriveKeyPair` input of the signed prekey.
    pub ikm_signed_prekey: Secret<HPKE_IKM_LEN>,
    /// `DeriveKeyPair` inputs of the one-time prekeys, in id order.
    pub ikm_one_time_prekeys: Vec<Secret<HPKE_IKM_LEN>>,
}

impl PublishRandomness {
    /// Draws the values in the documented order.
    pub fn draw(rng: &mut impl CryptoRng, one_time_count: usize) -> Self {
        let ikm_signed_prekey = Secret::random(rng);
        let ikm_one_time_prekeys = (0..one_time_count).map(|_| Secret::random(rng)).collect();
        Self {
            ikm_signed_prekey,
            ikm_one_time_prekeys,
        }
    }
}

impl fmt::Debug for PublishRandomness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublishRandomness([redacted; {} one-time])",
            self.ikm_one_time_prekeys.len()
        )
    }
}
