//! Persisting the state: a versioned prost encoding (wire framing of
//! [`crate::wire`]: version byte, then the body). Field numbers:
//!
//! ```text
//! State {
//!   1: identity_seed bytes(32)   2: prekeys bytes (sgm-2sm PrekeyStore)
//!   3: sessions repeated { 1: peer bytes(16), 2: session bytes (sgm-2sm) }
//!   4: dgm bytes (sgm-dgm; empty: no group)   5: my_seq u64
//!   6: last_seq repeated { 1: member, 2: seq }
//!   7: member_secrets repeated { 1: sender, 2: seq, 3: member, 4: secret(32) }
//!   8: ratchet repeated { 1: member, 2: state(32) }
//!   9: sending { 1: epoch, 2: chain(32), 3: next_index } (absent: none)
//!  10: receiving repeated { 1: member, 2: known_through+1 (0: none),
//!        3: chains repeated { 1: epoch, 2: chain(32), 3: next_index },
//!        4: skipped repeated { 1: epoch, 2: index, 3: key(32) } }
//!  11: pending repeated { 1: control bytes, 2: direct repeated bytes }
//!  12: removed bool   13: max_skipped u64   14: max_epochs u64   15: coalesce bool
//! }
//! ```

use std::collections::BTreeMap;

use prost::Message;
use sgm_2sm::{PrekeyStore, Session};
use sgm_crypto::{MEMBER_ID_LEN, MemberId, Secret, SecretBytes, SigningKey};
use sgm_dgm::Dgm;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{DcgkaError, Result};
use crate::messages::{ControlMessage, DirectMessage};
use crate::output::Outgoing;
use crate::ratchet::{Chain, RatchetConfig, ReceivingRatchet, SendingRatchet};
use crate::state::{Config, Dcgka};
use crate::wire;

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct StatePb {
    #[prost(bytes = "vec", tag = "1")]
    identity_seed: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    prekeys: Vec<u8>,
    #[prost(message, repeated, tag = "3")]
    sessions: Vec<SessionPb>,
    #[prost(bytes = "vec", tag = "4")]
    dgm: Vec<u8>,
    #[prost(uint64, tag = "5")]
    my_seq: u64,
    #[prost(message, repeated, tag = "6")]
    last_seq: Vec<SeqPb>,
    #[prost(message, repeated, tag = "7")]
    member_secrets: Vec<MemberSecretPb>,
    #[prost(message, repeated, tag = "8")]
    ratchet: Vec<KeyedPb>,
    #[prost(message, optional, tag = "9")]
    sending: Option<ChainPb>,
    #[prost(message, repeated, tag = "10")]
    receiving: Vec<ReceivingPb>,
    #[prost(message, repeated, tag = "11")]
    pending: Vec<PendingPb>,
    #[prost(bool, tag = "12")]
    removed: bool,
    #[prost(uint64, tag = "13")]
    max_skipped: u64,
    #[prost(uint64, tag = "14")]
    max_epochs: u64,
    #[prost(bool, tag = "15")]
    coalesce: bool,
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct SessionPb {
    #[prost(bytes = "vec", tag = "1")]
    peer: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    session: Vec<u8>,
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct SeqPb {
    #[prost(bytes = "vec", tag = "1")]
    member: Vec<u8>,
    #[prost(uint64, tag = "2")]
    seq: u64,
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct MemberSecretPb {
    #[prost(bytes = "vec", tag = "1")]
    sender: Vec<u8>,
    #[prost(uint64, tag = "2")]
    seq: u64,
    #[prost(bytes = "vec", tag = "3")]
    member: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    secret: Vec<u8>,
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct KeyedPb {
    #[prost(bytes = "vec", tag = "1")]
    member: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    secret: Vec<u8>,
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct ChainPb {
    #[prost(uint64, tag = "1")]
    epoch: u64,
    #[prost(bytes = "vec", tag = "2")]
    chain: Vec<u8>,
    #[prost(uint64, tag = "3")]
    next_index: u64,
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct SkippedPb {
    #[prost(uint64, tag = "1")]
    epoch: u64,
    #[prost(uint64, tag = "2")]
    index: u64,
    #[prost(bytes = "vec", tag = "3")]
    key: Vec<u8>,
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct ReceivingPb {
    #[prost(bytes = "vec", tag = "1")]
    member: Vec<u8>,
    #[prost(uint64, tag = "2")]
    known_through_plus_one: u64,
    #[prost(message, repeated, tag = "3")]
    chains: Vec<ChainPb>,
    #[prost(message, repeated, tag = "4")]
    skipped: Vec<SkippedPb>,
}

#[derive(Clone, PartialEq, Message, Zeroize, ZeroizeOnDrop)]
struct PendingPb {
    #[prost(bytes = "vec", tag = "1")]
    control: Vec<u8>,
    #[prost(bytes = "vec", repeated, tag = "2")]
    direct: Vec<Vec<u8>>,
}

const W: &str = "persisted state";

fn id(bytes: &[u8]) -> Result<MemberId> {
    Ok(MemberId::from_bytes(wire::array::<MEMBER_ID_LEN>(
        bytes, W,
    )?))
}

fn secret(bytes: &[u8]) -> Result<Secret<32>> {
    Secret::from_slice(bytes).map_err(|_| DcgkaError::State("secret length"))
}

fn chain_pb(epoch: u64, chain: &Chain) -> ChainPb {
    let (state, next_index) = chain.parts();
    ChainPb {
        epoch,
        chain: state.expose_secret().to_vec(),
        next_index,
    }
}

impl Dcgka {
    /// Encodes the whole state (secrets included: store it encrypted).
    pub fn to_bytes(&self) -> SecretBytes {
        let pb = StatePb {
            identity_seed: self.identity.to_seed().expose_secret().to_vec(),
            prekeys: self.prekeys.to_bytes().expose_secret().to_vec(),
            sessions: self
                .sessions
                .iter()
                .map(|(p, s)| SessionPb {
                    peer: p.as_bytes().to_vec(),
                    session: s.to_bytes().expose_secret().to_vec(),
                })
                .collect(),
            dgm: self.dgm.as_ref().map(Dgm::to_bytes).unwrap_or_default(),
            my_seq: self.my_seq,
            last_seq: self
                .last_seq
                .iter()
                .map(|(m, s)| SeqPb {
                    member: m.as_bytes().to_vec(),
                    seq: *s,
                })
                .collect(),
            member_secrets: self
                .member_secrets
                .iter()
                .map(|((s, q, m), v)| MemberSecretPb {
                    sender: s.as_bytes().to_vec(),
                    seq: *q,
                    member: m.as_bytes().to_vec(),
                    secret: v.expose_secret().to_vec(),
                })
                .collect(),
            ratchet: self
                .ratchet
                .iter()
                .map(|(m, v)| KeyedPb {
                    member: m.as_bytes().to_vec(),
                    secret: v.expose_secret().to_vec(),
                })
                .collect(),
            sending: self.sending.as_ref().map(|s| {
                let (epoch, chain) = s.parts();
                chain_pb(epoch, chain)
            }),
            receiving: self
                .receiving
                .iter()
                .map(|(m, r)| {
                    let (known, chains, skipped) = r.parts();
                    ReceivingPb {
                        member: m.as_bytes().to_vec(),
                        known_through_plus_one: known.map_or(0, |k| k.saturating_add(1)),
                        chains: chains.iter().map(|(e, c)| chain_pb(*e, c)).collect(),
                        skipped: skipped
                            .iter()
                            .map(|((e, i), k)| SkippedPb {
                                epoch: *e,
                                index: *i,
                                key: k.expose_secret().to_vec(),
                            })
                            .collect(),
                    }
                })
                .collect(),
            pending: self
                .pending
                .iter()
                .map(|o| PendingPb {
                    control: o.control.to_bytes(),
                    direct: o.direct.iter().map(DirectMessage::to_bytes).collect(),
                })
                .collect(),
            removed: self.removed,
            max_skipped: self.config.ratchet.max_skipped,
            max_epochs: self.config.ratchet.max_epochs as u64,
            coalesce: self.config.coalesce_acks,
        };
        SecretBytes::new(wire::encode(&pb))
    }

    /// Restores a state written by [`Self::to_bytes`]; never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let pb: StatePb = wire::decode(bytes, W)?;
        let identity = SigningKey::from_seed(&secret(&pb.identity_seed)?);
        let prekeys =
            PrekeyStore::from_bytes(&pb.prekeys).map_err(|_| DcgkaError::State("prekeys"))?;
        let config = Config {
            ratchet: RatchetConfig {
                max_skipped: pb.max_skipped,
                max_epochs: usize::try_from(pb.max_epochs)
                    .map_err(|_| DcgkaError::State("max_epochs"))?,
            },
            coalesce_acks: pb.coalesce,
        };
        let mut s = Dcgka::init(identity, prekeys, config);
        for x in &pb.sessions {
            let session =
                Session::from_bytes(&x.session).map_err(|_| DcgkaError::State("session"))?;
            s.sessions.insert(id(&x.peer)?, session);
        }
        if !pb.dgm.is_empty() {
            s.dgm = Some(Dgm::from_bytes(&pb.dgm).map_err(|_| DcgkaError::State("dgm"))?);
        }
        s.my_seq = pb.my_seq;
        for x in &pb.last_seq {
            s.last_seq.insert(id(&x.member)?, x.seq);
        }
        for x in &pb.member_secrets {
            s.member_secrets
                .insert((id(&x.sender)?, x.seq, id(&x.member)?), secret(&x.secret)?);
        }
        for x in &pb.ratchet {
            s.ratchet.insert(id(&x.member)?, secret(&x.secret)?);
        }
        if let Some(c) = &pb.sending {
            s.sending = Some(SendingRatchet::from_parts(
                c.epoch,
                Chain::from_parts(secret(&c.chain)?, c.next_index),
            ));
        }
        for r in &pb.receiving {
            let mut chains = BTreeMap::new();
            for c in &r.chains {
                chains.insert(c.epoch, Chain::from_parts(secret(&c.chain)?, c.next_index));
            }
            let mut skipped = BTreeMap::new();
            for k in &r.skipped {
                skipped.insert((k.epoch, k.index), secret(&k.key)?);
            }
            let known = r.known_through_plus_one.checked_sub(1);
            s.receiving.insert(
                id(&r.member)?,
                ReceivingRatchet::from_parts(known, chains, skipped),
            );
        }
        for p in &pb.pending {
            s.pending.push(Outgoing {
                control: ControlMessage::from_bytes(&p.control)?,
                direct: p
                    .direct
                    .iter()
                    .map(|d| DirectMessage::from_bytes(d))
                    .collect::<Result<Vec<_>>>()?,
            });
        }
        s.removed = pb.removed;
        Ok(s)
    }
}
