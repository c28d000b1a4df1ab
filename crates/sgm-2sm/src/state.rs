//! Persisting a [`Session`]: a versioned prost encoding.
//!
//! ```text
//! PersistedSession {
//!   1: version u32            2: me bytes(32)        3: peer bytes(32)
//!   4: own_keys repeated OwnKey { 1: index u64, 2: secret bytes(32) }
//!   5: next_own_index u64     6: used_below u64
//!   7: received_key bytes(0 or 32)
//!   8: peer_key_kind u32 (1 prekeys, 2 sender-generated, 3 announced)
//!   9: peer_key_index u64     10: peer_key_public bytes(32)
//!   11: pending Pending { 1: spk_id, 2: spk_public, 3: opk_id, 4: opk_public, 5: signature }
//!   12: send_seq u64          13: recv_seq u64
//!   14: transport_authenticated bool (InitiatorAuth::Transport)
//! }
//! ```

use std::collections::BTreeMap;

use core::fmt;

use prost::Message as _;
use sgm_crypto::{SecretBytes, Signature, VerifyingKey, X25519PublicKey};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::prekeys::secret_key;
use crate::session::{InitiatorAuth, MAX_PENDING_OWN_KEYS, PeerKey, PendingFirstContact, Session};
use crate::wire::{
    KIND_PREKEYS, KIND_RECEIVER_ANNOUNCED, KIND_SENDER_GENERATED, VERSION, array32, malformed,
};
use crate::{Result, TwoSmError};

#[derive(Clone, PartialEq, prost::Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
struct PersistedSession {
    #[prost(uint32, tag = "1")]
    version: u32,
    #[prost(bytes = "vec", tag = "2")]
    me: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    peer: Vec<u8>,
    #[prost(message, repeated, tag = "4")]
    own_keys: Vec<PersistedOwnKey>,
    #[prost(uint64, tag = "5")]
    next_own_index: u64,
    #[prost(uint64, tag = "6")]
    used_below: u64,
    #[prost(bytes = "vec", tag = "7")]
    received_key: Vec<u8>,
    #[prost(uint32, tag = "8")]
    peer_key_kind: u32,
    #[prost(uint64, tag = "9")]
    peer_key_index: u64,
    #[prost(bytes = "vec", tag = "10")]
    peer_key_public: Vec<u8>,
    #[prost(message, optional, tag = "11")]
    pending: Option<PersistedPending>,
    #[prost(uint64, tag = "12")]
    send_seq: u64,
    #[prost(uint64, tag = "13")]
    recv_seq: u64,
    #[prost(bool, tag = "14")]
    transport_authenticated: bool,
}

#[derive(Clone, PartialEq, prost::Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
struct PersistedOwnKey {
    #[prost(uint64, tag = "1")]
    index: u64,
    #[prost(bytes = "vec", tag = "2")]
    secret: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message, Zeroize)]
struct PersistedPending {
    #[prost(uint64, tag = "1")]
    spk_id: u64,
    #[prost(bytes = "vec", tag = "2")]
    spk_public: Vec<u8>,
    #[prost(uint64, tag = "3")]
    opk_id: u64,
    #[prost(bytes = "vec", tag = "4")]
    opk_public: Vec<u8>,
    #[prost(bytes = "vec", tag = "5")]
    signature: Vec<u8>,
}

impl fmt::Debug for PersistedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersistedSession([redacted])")
    }
}

impl fmt::Debug for PersistedOwnKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersistedOwnKey([redacted])")
    }
}

impl Session {
    /// The session as a versioned prost encoding (see `docs/2sm.md`), in
    /// zeroizing memory. Persist it only after a whole step succeeded.
    pub fn to_bytes(&self) -> SecretBytes {
        let (peer_key_kind, peer_key_index, peer_key_public, pending) = match &self.peer_key {
            PeerKey::Prekeys(p) => (
                KIND_PREKEYS,
                0,
                Vec::new(),
                Some(PersistedPending {
                    spk_id: p.spk_id,
                    spk_public: p.spk_public.as_bytes().to_vec(),
                    opk_id: p.opk_id,
                    opk_public: p.opk_public.as_bytes().to_vec(),
                    signature: p
                        .signature
                        .map(|s| s.to_bytes().to_vec())
                        .unwrap_or_default(),
                }),
            ),
            PeerKey::SenderGenerated(pk) => {
                (KIND_SENDER_GENERATED, 0, pk.as_bytes().to_vec(), None)
            }
            PeerKey::Announced { index, public } => (
                KIND_RECEIVER_ANNOUNCED,
                *index,
                public.as_bytes().to_vec(),
                None,
            ),
        };
        let p = PersistedSession {
            version: VERSION,
            me: self.me.as_bytes().to_vec(),
            peer: self.peer.as_bytes().to_vec(),
            own_keys: self
                .own_keys
                .iter()
                .map(|(&index, sk)| PersistedOwnKey {
                    index,
                    secret: sk.expose_secret().to_vec(),
                })
                .collect(),
            next_own_index: self.next_own_index,
            used_below: self.used_below,
            received_key: self
                .received_key
                .as_ref()
                .map(|sk| sk.expose_secret().to_vec())
                .unwrap_or_default(),
            peer_key_kind,
            peer_key_index,
            peer_key_public,
            pending,
            send_seq: self.send_seq,
            recv_seq: self.recv_seq,
            transport_authenticated: self.initiator_auth == InitiatorAuth::Transport,
        };
        SecretBytes::new(p.encode_to_vec())
    }

    /// Restores a session written by [`Self::to_bytes`]; checks the
    /// structure and its invariants, never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let p = PersistedSession::decode(bytes).map_err(|_| malformed("session"))?;
        if p.version != VERSION {
            return Err(TwoSmError::UnsupportedVersion {
                version: p.version,
                supported: VERSION,
            });
        }
        let me = VerifyingKey::from_slice(&p.me).map_err(|_| malformed("session.me"))?;
        let peer = VerifyingKey::from_slice(&p.peer).map_err(|_| malformed("session.peer"))?;
        if me == peer {
            return Err(malformed("session.peer"));
        }
        if p.used_below == 0 || p.used_below > p.next_own_index {
            return Err(malformed("session.used_below"));
        }
        let mut own_keys = BTreeMap::new();
        for k in &p.own_keys {
            if k.index < p.used_below || k.index >= p.next_own_index {
                return Err(malformed("session.own_keys.index"));
            }
            own_keys.insert(k.index, secret_key(&k.secret, "session.own_keys.secret")?);
        }
        if own_keys.len() != p.own_keys.len() || own_keys.len() > MAX_PENDING_OWN_KEYS {
            return Err(malformed("session.own_keys"));
        }
        let transport_authenticated = p.transport_authenticated;
        let initiator_auth = if transport_authenticated {
            InitiatorAuth::Transport
        } else {
            InitiatorAuth::Signed
        };
        let received_key = match p.received_key.len() {
            0 => None,
            _ => Some(secret_key(&p.received_key, "session.received_key")?),
        };
        let public = |bytes: &[u8]| -> Result<X25519PublicKey> {
            Ok(X25519PublicKey::from_bytes(array32(
                bytes,
                "session.peer_key",
            )?))
        };
        let peer_key = match (p.peer_key_kind, &p.pending) {
            (KIND_PREKEYS, Some(pending)) => PeerKey::Prekeys(PendingFirstContact {
                spk_id: pending.spk_id,
                spk_public: public(&pending.spk_public)?,
                opk_id: pending.opk_id,
                opk_public: public(&pending.opk_public)?,
                signature: match (transport_authenticated, pending.signature.len()) {
                    (true, 0) => None,
                    (false, _) => Some(
                        Signature::from_slice(&pending.signature)
                            .map_err(|_| malformed("session.pending.signature"))?,
                    ),
                    (true, _) => return Err(malformed("session.pending.signature")),
                },
            }),
            (KIND_SENDER_GENERATED, None) => PeerKey::SenderGenerated(public(&p.peer_key_public)?),
            (KIND_RECEIVER_ANNOUNCED, None) if p.peer_key_index >= 1 => PeerKey::Announced {
                index: p.peer_key_index,
                public: public(&p.peer_key_public)?,
            },
            _ => return Err(malformed("session.peer_key")),
        };
        Ok(Self {
            me,
            peer,
            own_keys,
            next_own_index: p.next_own_index,
            used_below: p.used_below,
            received_key,
            peer_key,
            send_seq: p.send_seq,
            recv_seq: p.recv_seq,
            initiator_auth,
        })
    }
}
