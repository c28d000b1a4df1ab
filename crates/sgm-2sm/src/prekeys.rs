//! Prekey bundles for first contact with a peer who may be offline.
//!
//! A member publishes, through whatever PKI or key server the application
//! uses, a [`PublishedPrekeys`] value: its Ed25519 identity key, a *signed
//! prekey* (an X25519 public key with an id, signed by the identity key) and
//! a list of *one-time prekeys* (X25519 public keys with ids). It keeps the
//! secret halves in its [`PrekeyStore`].
//!
//! A peer who wants to talk to it [`PublishedPrekeys::fetch`]es a
//! [`PrekeyBundle`] (identity, signed prekey, *one* one-time prekey, which
//! the key server hands out only once), [`PrekeyBundle::verify`]es it into a
//! [`VerifiedBundle`] and starts a session with
//! [`crate::Session::initiate`]. When the first-contact message arrives, the
//! store opens it and deletes the one-time prekey: a second message naming
//! it fails with [`TwoSmError::PrekeyReused`].
//!
//! Signed prekeys rotate ([`PrekeyStore::rotate_signed_prekey`]); the
//! previous ones stay usable for a grace period so that first-contact
//! messages made from a bundle fetched just before the rotation still open,
//! and at most [`MAX_RETIRED_SIGNED_PREKEYS`] are kept.

use std::collections::BTreeMap;

use core::fmt;

use prost::Message as _;
use sgm_crypto::{
    CryptoRng, HPKE_IKM_LEN, MemberId, Secret, SecretBytes, Signature, SigningKey, VerifyingKey,
    X25519PublicKey, X25519SecretKey,
};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::keys::{PublishRandomness, check_public_key, derive};
use crate::wire::{VERSION, array32, malformed, public_key};
use crate::{Result, TwoSmError};

/// Default time a retired signed prekey stays usable: 7 days, in seconds.
pub const SIGNED_PREKEY_GRACE_PERIOD_SECS: u64 = 7 * 24 * 60 * 60;

/// At most this many retired signed prekeys are kept, however short the
/// rotation interval; the oldest is dropped first.
pub const MAX_RETIRED_SIGNED_PREKEYS: usize = 4;

const SIGNED_PREKEY_LABEL: &[u8] = b"sgm-2sm v1 signed prekey";

/// The bytes an identity key signs to certify a signed prekey:
/// `"sgm-2sm v1 signed prekey" || identity (32) || id (8, big-endian) || public (32)`.
pub(crate) fn signed_prekey_transcript(
    identity: &VerifyingKey,
    id: u64,
    public: &X25519PublicKey,
) -> Vec<u8> {
    let mut t = Vec::with_capacity(SIGNED_PREKEY_LABEL.len() + 72);
    t.extend_from_slice(SIGNED_PREKEY_LABEL);
    t.extend_from_slice(identity.as_bytes());
    t.extend_from_slice(&id.to_be_bytes());
    t.extend_from_slice(public.as_bytes());
    t
}

/// A signed prekey as published: id, X25519 public key, and the identity
/// key's signature over both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedPrekey {
    /// The prekey's id (1 for the first, incremented on each rotation).
    pub id: u64,
    /// The X25519 public key.
    pub public: X25519PublicKey,
    /// Ed25519 signature by the identity key over the signed-prekey transcript.
    pub signature: Signature,
}

/// A one-time prekey as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OneTimePrekey {
    /// The prekey's id (1 for the first, incremented per key).
    pub id: u64,
    /// The X25519 public key.
    pub public: X25519PublicKey,
}

/// Everything a member publishes to its key server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedPrekeys {
    /// The member's Ed25519 identity key.
    pub identity: VerifyingKey,
    /// The current signed prekey.
    pub signed_prekey: SignedPrekey,
    /// One-time prekeys not yet handed out.
    pub one_time_prekeys: Vec<OneTimePrekey>,
}

impl PublishedPrekeys {
    /// What a key server returns to one requester: the identity, the signed
    /// prekey and the oldest one-time prekey, which it then forgets so that
    /// no one else receives it.
    pub fn fetch(&mut self) -> Result<PrekeyBundle> {
        if self.one_time_prekeys.is_empty() {
            return Err(TwoSmError::NoOneTimePrekey);
        }
        let one_time_prekey = self.one_time_prekeys.remove(0);
        Ok(PrekeyBundle {
            identity: self.identity,
            signed_prekey: self.signed_prekey,
            one_time_prekey,
        })
    }
}

/// The public bundle one peer fetches to contact another: not yet verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrekeyBundle {
    /// The owner's Ed25519 identity key.
    pub identity: VerifyingKey,
    /// The owner's signed prekey.
    pub signed_prekey: SignedPrekey,
    /// One one-time prekey, for this requester only.
    pub one_time_prekey: OneTimePrekey,
}

#[derive(Clone, PartialEq, prost::Message)]
struct WireBundle {
    #[prost(uint32, tag = "1")]
    version: u32,
    #[prost(bytes = "vec", tag = "2")]
    identity: Vec<u8>,
    #[prost(uint64, tag = "3")]
    spk_id: u64,
    #[prost(bytes = "vec", tag = "4")]
    spk_public: Vec<u8>,
    #[prost(bytes = "vec", tag = "5")]
    spk_signature: Vec<u8>,
    #[prost(uint64, tag = "6")]
    opk_id: u64,
    #[prost(bytes = "vec", tag = "7")]
    opk_public: Vec<u8>,
}

impl PrekeyBundle {
    /// Checks that the bundle belongs to `expected_peer` and that its
    /// signed prekey is signed by its identity key; rejects low-order
    /// prekeys. Only a [`VerifiedBundle`] can start a session.
    pub fn verify(&self, expected_peer: &MemberId) -> Result<VerifiedBundle> {
        let actual = MemberId::from_identity_key(&self.identity);
        if actual != *expected_peer {
            return Err(TwoSmError::IdentityMismatch {
                expected: *expected_peer,
                actual,
            });
        }
        let spk = &self.signed_prekey;
        let transcript = signed_prekey_transcript(&self.identity, spk.id, &spk.public);
        self.identity
            .verify(&transcript, &spk.signature)
            .map_err(|_| TwoSmError::BadPrekeySignature { id: spk.id })?;
        check_public_key(&spk.public, "signed prekey")?;
        check_public_key(&self.one_time_prekey.public, "one-time prekey")?;
        Ok(VerifiedBundle { bundle: *self })
    }

    /// Encodes the bundle (prost, versioned) for transport.
    pub fn to_bytes(&self) -> Vec<u8> {
        WireBundle {
            version: VERSION,
            identity: self.identity.as_bytes().to_vec(),
            spk_id: self.signed_prekey.id,
            spk_public: self.signed_prekey.public.as_bytes().to_vec(),
            spk_signature: self.signed_prekey.signature.to_bytes().to_vec(),
            opk_id: self.one_time_prekey.id,
            opk_public: self.one_time_prekey.public.as_bytes().to_vec(),
        }
        .encode_to_vec()
    }

    /// Decodes a bundle. Checks only the structure; call [`Self::verify`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let w = WireBundle::decode(bytes).map_err(|_| malformed("bundle"))?;
        if w.version != VERSION {
            return Err(TwoSmError::UnsupportedVersion {
                version: w.version,
                supported: VERSION,
            });
        }
        let identity =
            VerifyingKey::from_slice(&w.identity).map_err(|_| malformed("bundle.identity"))?;
        let signature = Signature::from_slice(&w.spk_signature)
            .map_err(|_| malformed("bundle.spk_signature"))?;
        Ok(Self {
            identity,
            signed_prekey: SignedPrekey {
                id: w.spk_id,
                public: X25519PublicKey::from_bytes(array32(&w.spk_public, "bundle.spk_public")?),
                signature,
            },
            one_time_prekey: OneTimePrekey {
                id: w.opk_id,
                public: X25519PublicKey::from_bytes(array32(&w.opk_public, "bundle.opk_public")?),
            },
        })
    }
}

/// A bundle whose identity and signature were checked: proof, by its
/// existence, that [`PrekeyBundle::verify`] ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    bundle: PrekeyBundle,
}

impl VerifiedBundle {
    /// The verified bundle.
    pub fn bundle(&self) -> &PrekeyBundle {
        &self.bundle
    }

    /// The member the bundle belongs to.
    pub fn member_id(&self) -> MemberId {
        MemberId::from_identity_key(&self.bundle.identity)
    }
}

#[derive(Clone)]
struct StoredSignedPrekey {
    public: SignedPrekey,
    secret: X25519SecretKey,
    /// `None` for the current prekey; for a retired one, the time (caller's
    /// clock, seconds) after which [`PrekeyStore::expire`] deletes it.
    expires_at: Option<u64>,
}

/// The private side of a member's prekeys: the secret halves of its signed
/// prekeys (current and retired) and of its unused one-time prekeys.
///
/// Serializable with [`Self::to_bytes`] / [`Self::from_bytes`]; zeroized on
/// drop; `Debug` shows ids and counts only.
#[derive(Clone)]
pub struct PrekeyStore {
    identity: VerifyingKey,
    current: StoredSignedPrekey,
    /// Oldest first.
    retired: Vec<StoredSignedPrekey>,
    one_time: BTreeMap<u64, X25519SecretKey>,
    next_one_time_id: u64,
    grace_period_secs: u64,
}

impl fmt::Debug for PrekeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrekeyStore")
            .field("member", &self.member_id())
            .field("signed_prekey_id", &self.current.public.id)
            .field(
                "retired_ids",
                &self.retired.iter().map(|r| r.public.id).collect::<Vec<_>>(),
            )
            .field("one_time_left", &self.one_time.len())
            .field("secrets", &"[redacted]")
            .finish()
    }
}

impl PrekeyStore {
    /// Makes a fresh signed prekey (id 1) and `one_time_count` one-time
    /// prekeys (ids 1..=n); returns the store and what to publish.
    pub fn publish(
        rng: &mut impl CryptoRng,
        identity: &SigningKey,
        one_time_count: usize,
    ) -> (Self, PublishedPrekeys) {
        Self::publish_with(identity, &PublishRandomness::draw(rng, one_time_count))
    }

    /// [`Self::publish`] with explicit randomness.
    pub fn publish_with(
        identity: &SigningKey,
        randomness: &PublishRandomness,
    ) -> (Self, PublishedPrekeys) {
        let current = make_signed_prekey(identity, 1, &randomness.ikm_signed_prekey);
        let mut store = Self {
            identity: identity.verifying_key(),
            current,
            retired: Vec::new(),
            one_time: BTreeMap::new(),
            next_one_time_id: 1,
            grace_period_secs: SIGNED_PREKEY_GRACE_PERIOD_SECS,
        };
        store.add_one_time_prekeys_with(&randomness.ikm_one_time_prekeys);
        let published = store.published();
        (store, published)
    }

    /// The public values to upload: the current signed prekey and every
    /// one-time prekey not yet consumed. This includes one-time prekeys a key
    /// server may already have handed out (their first-contact message has
    /// not arrived yet): a key server must serve each one at most once, so
    /// use this for a first upload or a full resynchronisation that the
    /// server merges, and [`Self::add_one_time_prekeys`]' result to
    /// replenish.
    pub fn published(&self) -> PublishedPrekeys {
        PublishedPrekeys {
            identity: self.identity,
            signed_prekey: self.current.public,
            one_time_prekeys: self
                .one_time
                .iter()
                .map(|(&id, sk)| OneTimePrekey {
                    id,
                    public: sk.public_key(),
                })
                .collect(),
        }
    }

    /// Adds `count` one-time prekeys (to replenish a key server) and returns
    /// their public halves.
    pub fn add_one_time_prekeys(
        &mut self,
        rng: &mut impl CryptoRng,
        count: usize,
    ) -> Vec<OneTimePrekey> {
        let ikms: Vec<Secret<HPKE_IKM_LEN>> = (0..count).map(|_| Secret::random(rng)).collect();
        self.add_one_time_prekeys_with(&ikms)
    }

    /// [`Self::add_one_time_prekeys`] with explicit `DeriveKeyPair` inputs.
    pub fn add_one_time_prekeys_with(
        &mut self,
        ikms: &[Secret<HPKE_IKM_LEN>],
    ) -> Vec<OneTimePrekey> {
        ikms.iter()
            .map(|ikm| {
                let id = self.next_one_time_id;
                self.next_one_time_id += 1;
                let (sk, public) = derive(ikm);
                self.one_time.insert(id, sk);
                OneTimePrekey { id, public }
            })
            .collect()
    }

    /// Replaces the signed prekey with a fresh one (next id). The previous
    /// one stays usable until `now + grace period`, then [`Self::expire`]
    /// deletes it; at most [`MAX_RETIRED_SIGNED_PREKEYS`] are kept.
    pub fn rotate_signed_prekey(
        &mut self,
        rng: &mut impl CryptoRng,
        identity: &SigningKey,
        now: u64,
    ) -> Result<SignedPrekey> {
        let ikm = Secret::random(rng);
        self.rotate_signed_prekey_with(identity, &ikm, now)
    }

    /// [`Self::rotate_signed_prekey`] with an explicit `DeriveKeyPair` input.
    pub fn rotate_signed_prekey_with(
        &mut self,
        identity: &SigningKey,
        ikm: &Secret<HPKE_IKM_LEN>,
        now: u64,
    ) -> Result<SignedPrekey> {
        if identity.verifying_key() != self.identity {
            return Err(TwoSmError::WrongStore {
                expected: self.member_id(),
                actual: MemberId::from_identity_key(&identity.verifying_key()),
            });
        }
        let next = make_signed_prekey(identity, self.current.public.id + 1, ikm);
        let mut old = core::mem::replace(&mut self.current, next);
        old.expires_at = Some(now.saturating_add(self.grace_period_secs));
        self.retired.push(old);
        self.expire(now);
        while self.retired.len() > MAX_RETIRED_SIGNED_PREKEYS {
            self.retired.remove(0);
        }
        Ok(self.current.public)
    }

    /// Deletes retired signed prekeys whose grace period ended at or before
    /// `now` (seconds on the caller's clock).
    pub fn expire(&mut self, now: u64) {
        self.retired
            .retain(|r| r.expires_at.is_some_and(|t| t > now));
    }

    /// Sets the grace period for signed prekeys retired from now on.
    pub fn set_grace_period(&mut self, secs: u64) {
        self.grace_period_secs = secs;
    }

    /// The owner's identity key.
    pub fn identity(&self) -> &VerifyingKey {
        &self.identity
    }

    /// The owner's member id.
    pub fn member_id(&self) -> MemberId {
        MemberId::from_identity_key(&self.identity)
    }

    /// How many one-time prekeys are unused.
    pub fn one_time_prekeys_left(&self) -> usize {
        self.one_time.len()
    }

    /// The signed prekey (current or retired) with this id.
    pub(crate) fn signed_prekey(&self, id: u64) -> Result<(&SignedPrekey, &X25519SecretKey)> {
        core::iter::once(&self.current)
            .chain(self.retired.iter())
            .find(|s| s.public.id == id)
            .map(|s| (&s.public, &s.secret))
            .ok_or(TwoSmError::UnknownSignedPrekey { id })
    }

    /// The unused one-time prekey with this id.
    pub(crate) fn one_time_prekey(&self, id: u64) -> Result<&X25519SecretKey> {
        match self.one_time.get(&id) {
            Some(sk) => Ok(sk),
            None if id >= 1 && id < self.next_one_time_id => Err(TwoSmError::PrekeyReused { id }),
            None => Err(TwoSmError::UnknownOneTimePrekey { id }),
        }
    }

    /// Deletes a one-time prekey after a first-contact message used it.
    pub(crate) fn consume_one_time_prekey(&mut self, id: u64) {
        self.one_time.remove(&id);
    }

    /// The store as a versioned prost encoding, in zeroizing memory.
    pub fn to_bytes(&self) -> SecretBytes {
        let stored = |s: &StoredSignedPrekey| PersistedSignedPrekey {
            id: s.public.id,
            public: s.public.public.as_bytes().to_vec(),
            signature: s.public.signature.to_bytes().to_vec(),
            secret: s.secret.expose_secret().to_vec(),
            expires_at: s.expires_at.unwrap_or(0),
        };
        let p = PersistedStore {
            version: VERSION,
            identity: self.identity.as_bytes().to_vec(),
            current: Some(stored(&self.current)),
            retired: self.retired.iter().map(stored).collect(),
            one_time: self
                .one_time
                .iter()
                .map(|(&id, sk)| PersistedOneTime {
                    id,
                    secret: sk.expose_secret().to_vec(),
                })
                .collect(),
            next_one_time_id: self.next_one_time_id,
            grace_period_secs: self.grace_period_secs,
        };
        SecretBytes::new(p.encode_to_vec())
    }

    /// Restores a store written by [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let p = PersistedStore::decode(bytes).map_err(|_| malformed("prekey store"))?;
        if p.version != VERSION {
            return Err(TwoSmError::UnsupportedVersion {
                version: p.version,
                supported: VERSION,
            });
        }
        let identity =
            VerifyingKey::from_slice(&p.identity).map_err(|_| malformed("store.identity"))?;
        let stored = |s: &PersistedSignedPrekey, current: bool| -> Result<StoredSignedPrekey> {
            Ok(StoredSignedPrekey {
                public: SignedPrekey {
                    id: s.id,
                    public: public_key(&s.public, "store.signed_prekey.public")?,
                    signature: Signature::from_slice(&s.signature)
                        .map_err(|_| malformed("store.signed_prekey.signature"))?,
                },
                secret: secret_key(&s.secret, "store.signed_prekey.secret")?,
                expires_at: (!current).then_some(s.expires_at),
            })
        };
        let current = stored(p.current.as_ref().ok_or(malformed("store.current"))?, true)?;
        let retired = p
            .retired
            .iter()
            .map(|s| stored(s, false))
            .collect::<Result<Vec<_>>>()?;
        let mut one_time = BTreeMap::new();
        for o in &p.one_time {
            if o.id == 0 || o.id >= p.next_one_time_id {
                return Err(malformed("store.one_time.id"));
            }
            one_time.insert(o.id, secret_key(&o.secret, "store.one_time.secret")?);
        }
        Ok(Self {
            identity,
            current,
            retired,
            one_time,
            next_one_time_id: p.next_one_time_id,
            grace_period_secs: p.grace_period_secs,
        })
    }
}

pub(crate) fn secret_key(bytes: &[u8], what: &'static str) -> Result<X25519SecretKey> {
    let s = Secret::<32>::from_slice(bytes).map_err(|_| malformed(what))?;
    Ok(X25519SecretKey::from_secret(s))
}

fn make_signed_prekey(
    identity: &SigningKey,
    id: u64,
    ikm: &Secret<HPKE_IKM_LEN>,
) -> StoredSignedPrekey {
    let (secret, public) = derive(ikm);
    let signature = identity.sign(&signed_prekey_transcript(
        &identity.verifying_key(),
        id,
        &public,
    ));
    StoredSignedPrekey {
        public: SignedPrekey {
            id,
            public,
            signature,
        },
        secret,
        expires_at: None,
    }
}

#[derive(Clone, PartialEq, prost::Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
struct PersistedStore {
    #[prost(uint32, tag = "1")]
    version: u32,
    #[prost(bytes = "vec", tag = "2")]
    identity: Vec<u8>,
    #[prost(message, optional, tag = "3")]
    current: Option<PersistedSignedPrekey>,
    #[prost(message, repeated, tag = "4")]
    retired: Vec<PersistedSignedPrekey>,
    #[prost(message, repeated, tag = "5")]
    one_time: Vec<PersistedOneTime>,
    #[prost(uint64, tag = "6")]
    next_one_time_id: u64,
    #[prost(uint64, tag = "7")]
    grace_period_secs: u64,
}

#[derive(Clone, PartialEq, prost::Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
struct PersistedSignedPrekey {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(bytes = "vec", tag = "2")]
    public: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    signature: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    secret: Vec<u8>,
    /// 0 for the current prekey.
    #[prost(uint64, tag = "5")]
    expires_at: u64,
}

#[derive(Clone, PartialEq, prost::Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
struct PersistedOneTime {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(bytes = "vec", tag = "2")]
    secret: Vec<u8>,
}

macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($t), "([redacted])"))
            }
        }
    )*};
}
redacted_debug!(PersistedStore, PersistedSignedPrekey, PersistedOneTime);
