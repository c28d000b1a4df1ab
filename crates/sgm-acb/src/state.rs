//! Persisting and restoring an [`Acb`] (protobuf, versioned; see
//! docs/acb.md). The encoding holds the signing key, so it is returned as
//! [`SecretBytes`] (zeroized on drop).

use bytes::Bytes;
use prost::Message as _;
use sgm_crypto::{MemberId, Secret, SecretBytes, Signature, SigningKey, VerifyingKey};

use crate::acb::{KeyEpoch, SenderState};
use crate::fork::{ForkTip, push_tip};
use crate::{Acb, AcbConfig, AcbError, ApiMisuse, MessageId, SignedEnvelope};

/// Version of the persisted-state format.
pub const STATE_VERSION: u32 = 1;

#[derive(Clone, PartialEq, prost::Message)]
struct StateWire {
    #[prost(uint32, tag = "1")]
    version: u32,
    #[prost(bytes = "vec", tag = "2")]
    signing_seed: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pending_rotation_seed: Vec<u8>,
    #[prost(message, repeated, tag = "4")]
    senders: Vec<SenderWire>,
    #[prost(message, repeated, tag = "5")]
    delivered: Vec<DeliveredWire>,
    #[prost(bytes = "vec", repeated, tag = "6")]
    heads: Vec<Vec<u8>>,
    #[prost(message, repeated, tag = "7")]
    buffer: Vec<BufferedWire>,
    #[prost(bytes = "vec", repeated, tag = "8")]
    store: Vec<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "9")]
    rejected: Vec<Vec<u8>>,
    #[prost(uint64, tag = "10")]
    tick: u64,
    #[prost(bytes = "vec", tag = "11")]
    me: Vec<u8>,
    /// Fork tips (fork.rs), per sender oldest first.
    #[prost(message, repeated, tag = "12")]
    forks: Vec<ForkWire>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ForkWire {
    #[prost(bytes = "vec", tag = "1")]
    sender: Vec<u8>,
    #[prost(uint64, tag = "2")]
    seq: u64,
    #[prost(bytes = "vec", tag = "3")]
    key_after: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SenderWire {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) id: Vec<u8>,
    #[prost(uint64, tag = "2")]
    pub(crate) delivered_seq: u64,
    #[prost(message, repeated, tag = "3")]
    pub(crate) keys: Vec<KeyEpochWire>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct KeyEpochWire {
    #[prost(uint64, tag = "1")]
    pub(crate) from_seq: u64,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) key: Vec<u8>,
    /// The rotation proof by the previous key (empty for the identity key).
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) proof: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct DeliveredWire {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) sender: Vec<u8>,
    #[prost(uint64, tag = "3")]
    pub(crate) seq: u64,
    /// Delivered as a fork (fork.rs), not on the sender's main line.
    #[prost(bool, tag = "4")]
    pub(crate) fork: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct BufferedWire {
    #[prost(bytes = "vec", tag = "1")]
    bytes: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    verified_with: Vec<u8>,
    #[prost(uint64, tag = "3")]
    arrived: u64,
}

pub(crate) fn bad(what: &'static str) -> AcbError {
    AcbError::Api(ApiMisuse::InvalidState(what))
}

pub(crate) fn member(b: &[u8]) -> Result<MemberId, AcbError> {
    MemberId::from_slice(b).map_err(|_| bad("member id"))
}

pub(crate) fn msg_id(b: &[u8]) -> Result<MessageId, AcbError> {
    MessageId::from_slice(b).ok_or(bad("message id"))
}

pub(crate) fn vk(b: &[u8]) -> Result<VerifyingKey, AcbError> {
    VerifyingKey::from_slice(b).map_err(|_| bad("verifying key"))
}

fn seed(b: &[u8]) -> Result<SigningKey, AcbError> {
    Secret::<32>::from_slice(b)
        .map(|s| SigningKey::from_seed(&s))
        .map_err(|_| bad("signing key seed"))
}

impl Acb {
    /// Encodes the whole state (keys, delivered ids, heads, buffer, store,
    /// pending events excluded). Restore with [`Acb::restore`].
    pub fn to_state_bytes(&self) -> SecretBytes {
        let wire = StateWire {
            version: STATE_VERSION,
            signing_seed: self.signing_key.to_seed().expose_secret().to_vec(),
            pending_rotation_seed: self
                .pending_rotation
                .as_ref()
                .map(|k| k.to_seed().expose_secret().to_vec())
                .unwrap_or_default(),
            senders: self.senders_wire(),
            delivered: self.delivered_wire(),
            heads: self.heads.iter().map(|h| h.as_bytes().to_vec()).collect(),
            buffer: self
                .buffer
                .iter_oldest_first()
                .map(|e| BufferedWire {
                    bytes: e.msg.bytes().to_vec(),
                    verified_with: e
                        .verified_with
                        .map(|k| k.as_bytes().to_vec())
                        .unwrap_or_default(),
                    arrived: e.arrived,
                })
                .collect(),
            store: self.store.iter().map(|b| b.to_vec()).collect(),
            rejected: self
                .rejected_order
                .iter()
                .map(|r| r.as_bytes().to_vec())
                .collect(),
            tick: self.tick,
            me: self.me.as_bytes().to_vec(),
            forks: self
                .senders
                .iter()
                .flat_map(|(id, st)| {
                    st.forks.iter().map(|t| ForkWire {
                        sender: id.as_bytes().to_vec(),
                        seq: t.seq,
                        key_after: t.key_after.as_bytes().to_vec(),
                    })
                })
                .collect(),
        };
        SecretBytes::new(wire.encode_to_vec())
    }

    /// Restores a state encoded by [`Acb::to_state_bytes`], under `config`
    /// (the bounds are not part of the state).
    pub fn restore(bytes: &[u8], config: AcbConfig) -> Result<Self, AcbError> {
        let wire = StateWire::decode(bytes).map_err(|_| bad("not a state encoding"))?;
        if wire.version != STATE_VERSION {
            return Err(bad("unsupported state version"));
        }
        let mut acb = Acb::new(seed(&wire.signing_seed)?, config);
        // The id stays the one derived from the identity (first) key, also
        // after the signing key was rotated.
        acb.me = member(&wire.me)?;
        acb.pending_rotation = match wire.pending_rotation_seed.len() {
            0 => None,
            _ => Some(seed(&wire.pending_rotation_seed)?),
        };
        acb.senders.clear();
        acb.load_senders(&wire.senders)?;
        if !acb.senders.contains_key(&acb.me) {
            return Err(bad("own sender state missing"));
        }
        acb.load_delivered(&wire.delivered)?;
        for f in &wire.forks {
            let tip = ForkTip {
                seq: f.seq,
                key_after: vk(&f.key_after)?,
            };
            let st = acb
                .senders
                .get_mut(&member(&f.sender)?)
                .ok_or(bad("fork of an unknown sender"))?;
            push_tip(&mut st.forks, tip);
        }
        for h in &wire.heads {
            acb.heads.insert(msg_id(h)?);
        }
        let limits = acb.config.decode_limits();
        for s in &wire.store {
            let m = SignedEnvelope::decode_with(Bytes::copy_from_slice(s), limits)?;
            let (id, bytes) = (m.id(), m.shared_bytes());
            acb.store.insert(
                id,
                bytes,
                acb.config.store_max_count,
                acb.config.store_max_bytes,
            );
        }
        for r in &wire.rejected {
            acb.remember_rejected_pub(msg_id(r)?);
        }
        for b in &wire.buffer {
            let m = SignedEnvelope::decode_with(Bytes::copy_from_slice(&b.bytes), limits)?;
            let key = match b.verified_with.len() {
                0 => None,
                _ => Some(vk(&b.verified_with)?),
            };
            acb.restore_buffered(m, key, b.arrived);
        }
        acb.tick = wire.tick;
        Ok(acb)
    }
}

impl Acb {
    pub(crate) fn senders_wire(&self) -> Vec<SenderWire> {
        self.senders
            .iter()
            .map(|(id, st)| SenderWire {
                id: id.as_bytes().to_vec(),
                delivered_seq: st.delivered_seq,
                keys: st
                    .keys
                    .iter()
                    .map(|e| KeyEpochWire {
                        from_seq: e.from_seq,
                        key: e.key.as_bytes().to_vec(),
                        proof: e.proof.map(|p| p.to_bytes().to_vec()).unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Sorted by (sender, seq) so that equal states encode equally.
    pub(crate) fn delivered_wire(&self) -> Vec<DeliveredWire> {
        let mut delivered: Vec<DeliveredWire> = self
            .delivered
            .iter()
            .map(|(id, (sender, seq))| DeliveredWire {
                id: id.as_bytes().to_vec(),
                sender: sender.as_bytes().to_vec(),
                seq: *seq,
                fork: self.delivered_by_seq.get(&(*sender, *seq)) != Some(id),
            })
            .collect();
        delivered.sort_by(|a, b| (&a.sender, a.seq, &a.id).cmp(&(&b.sender, b.seq, &b.id)));
        delivered
    }

    /// Inserts (or replaces) sender states.
    pub(crate) fn load_senders(&mut self, senders: &[SenderWire]) -> Result<(), AcbError> {
        for s in senders {
            let keys = s
                .keys
                .iter()
                .map(|k| {
                    Ok(KeyEpoch {
                        from_seq: k.from_seq,
                        key: vk(&k.key)?,
                        proof: match k.proof.len() {
                            0 => None,
                            _ => Some(
                                Signature::from_slice(&k.proof)
                                    .map_err(|_| bad("rotation proof"))?,
                            ),
                        },
                    })
                })
                .collect::<Result<Vec<_>, AcbError>>()?;
            if keys.is_empty() {
                return Err(bad("sender without keys"));
            }
            self.senders.insert(
                member(&s.id)?,
                SenderState {
                    keys,
                    delivered_seq: s.delivered_seq,
                    forks: Vec::new(),
                },
            );
        }
        Ok(())
    }

    pub(crate) fn load_delivered(&mut self, delivered: &[DeliveredWire]) -> Result<(), AcbError> {
        for d in delivered {
            let (id, sender) = (msg_id(&d.id)?, member(&d.sender)?);
            self.delivered.insert(id, (sender, d.seq));
            if !d.fork {
                self.delivered_by_seq.insert((sender, d.seq), id);
            }
        }
        Ok(())
    }
}
