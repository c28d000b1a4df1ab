//! Control messages and direct messages (paper §6.2: every control message
//! is a triple `(type, seq, content)`), and application messages, with
//! their wire format.
//!
//! Wire: one version byte ([`crate::WIRE_VERSION`]) then a protobuf body,
//! decoded strictly (canonical encoding only). Field numbers are listed in
//! `docs/dcgka.md`. In control and direct messages the one field that is
//! always present and non-empty (`seq`, `recipient`) has the highest tag, so
//! it is encoded last and every truncation is detected at this layer (the
//! broadcast layer's signature detects it too).

use prost::Message;
use sgm_crypto::{MEMBER_ID_LEN, MemberId};
use sgm_dgm::{OP_ID_LEN, OpId};

use crate::error::{DcgkaError, Result};
use crate::ratchet::{ApplicationMessage, NONCE_LEN};
use crate::wire;

/// Most members one create or remove may name, and most DGM parents one
/// control message may carry.
pub const MAX_LIST: usize = 16_384;

/// A control message: broadcast to the group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlMessage {
    /// The sender's sequence number: consecutive over the sender's control
    /// messages, starting at 1. It is also the epoch of the update secret
    /// the message gives its sender.
    pub seq: u64,
    /// The sender's DGM heads when it issued the message (the parents of the
    /// DGM op this message is, or the cut whose membership the sender used).
    /// Empty for acks of updates.
    pub parents: Vec<OpId>,
    /// Type and content.
    pub kind: ControlKind,
}

impl ControlMessage {
    /// The parents of the DGM op this message is. An ack or add-ack whose
    /// only parent would be the op it acknowledges carries no parents (the
    /// common case: its sender had seen nothing newer); the parent is then
    /// implied. Every other message's parents are as carried.
    pub fn dgm_parents(&self) -> Vec<OpId> {
        match self.kind.acknowledged() {
            Some((sender, seq)) if self.parents.is_empty() => {
                vec![crate::state::op_id(&sender, seq)]
            }
            _ => self.parents.clone(),
        }
    }
}

/// The six message types of Figure 4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlKind {
    /// `("create", seq, IDs)`.
    Create {
        /// The initial members, the creator included.
        members: Vec<MemberId>,
    },
    /// `("ack", seq, (ackID, ackSeq))`.
    Ack {
        /// Sender of the acknowledged message.
        acked_sender: MemberId,
        /// Its sequence number.
        acked_seq: u64,
    },
    /// `("update", seq, ε)`.
    Update,
    /// `("remove", seq, IDs)` (a batch).
    Remove {
        /// The members removed.
        members: Vec<MemberId>,
    },
    /// `("add", seq, ID)`.
    Add {
        /// The member added.
        added: MemberId,
    },
    /// `("add-ack", seq, (ackID, ackSeq))`.
    AddAck {
        /// Sender of the acknowledged add.
        acked_sender: MemberId,
        /// Its sequence number.
        acked_seq: u64,
    },
}

impl ControlKind {
    /// Whether this is a DGM membership op (create, add, remove).
    pub fn is_membership_change(&self) -> bool {
        matches!(
            self,
            ControlKind::Create { .. } | ControlKind::Add { .. } | ControlKind::Remove { .. }
        )
    }

    /// The message an ack or add-ack acknowledges: `(ackID, ackSeq)`.
    pub fn acknowledged(&self) -> Option<(MemberId, u64)> {
        match self {
            ControlKind::Ack {
                acked_sender,
                acked_seq,
            }
            | ControlKind::AddAck {
                acked_sender,
                acked_seq,
            } => Some((*acked_sender, *acked_seq)),
            _ => None,
        }
    }

    /// The paper's name of the type.
    pub fn name(&self) -> &'static str {
        match self {
            ControlKind::Create { .. } => "create",
            ControlKind::Ack { .. } => "ack",
            ControlKind::Update => "update",
            ControlKind::Remove { .. } => "remove",
            ControlKind::Add { .. } => "add",
            ControlKind::AddAck { .. } => "add-ack",
        }
    }
}

/// A direct message: for one recipient, delivered with a control message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectMessage {
    /// The recipient.
    pub recipient: MemberId,
    /// What it carries.
    pub kind: DirectKind,
}

/// The kinds of direct message. Every secret travels 2SM-encrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectKind {
    /// A seed secret (create, update, remove).
    Seed(Vec<u8>),
    /// A forwarded member secret (an ack to a concurrently added member,
    /// §6.2.5).
    Forward(Vec<u8>),
    /// The adder's ratchet state and the group history (add).
    Welcome(Welcome),
    /// An add-ack sender's ratchet state, for the added member.
    RatchetState(Vec<u8>),
}

impl DirectKind {
    /// A short name of the kind.
    pub fn name(&self) -> &'static str {
        match self {
            DirectKind::Seed(_) => "seed",
            DirectKind::Forward(_) => "forward",
            DirectKind::Welcome(_) => "welcome",
            DirectKind::RatchetState(_) => "ratchet state",
        }
    }
}

/// The welcome message of `add` (Figure 4: `(γ.history ∪ {op}, c)`; here
/// the add op itself comes with the control message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Welcome {
    /// 2SM ciphertext of the adder's ratchet state.
    pub ratchet_ciphertext: Vec<u8>,
    /// The adder's DGM history (`sgm_dgm::WelcomeHistory` bytes).
    pub history: Vec<u8>,
    /// For every member whose control messages the adder has processed, the
    /// newest seq processed: the new member expects each sender's next
    /// control message to continue from there (replay and gap detection).
    pub seqs: Vec<(MemberId, u64)>,
}

// ---- protobuf bodies ---------------------------------------------------

#[derive(Clone, PartialEq, Message)]
struct ControlPb {
    /// Highest tag, so it is encoded last: any truncation loses or
    /// corrupts it (it is never 0), and decoding fails.
    #[prost(uint64, tag = "15")]
    seq: u64,
    #[prost(uint32, tag = "2")]
    kind: u32,
    #[prost(bytes = "vec", repeated, tag = "3")]
    members: Vec<Vec<u8>>,
    #[prost(bytes = "vec", tag = "4")]
    acked_sender: Vec<u8>,
    #[prost(uint64, tag = "5")]
    acked_seq: u64,
    #[prost(bytes = "vec", repeated, tag = "6")]
    parents: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
struct DirectPb {
    /// Highest tag, encoded last (always 16 bytes) in the standalone form:
    /// truncation is detected. Absent in the addressed form.
    #[prost(bytes = "vec", tag = "15")]
    recipient: Vec<u8>,
    #[prost(uint32, tag = "2")]
    kind: u32,
    #[prost(bytes = "vec", tag = "3")]
    ciphertext: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    history: Vec<u8>,
    #[prost(message, repeated, tag = "5")]
    seqs: Vec<SeqPb>,
}

#[derive(Clone, PartialEq, Message)]
struct SeqPb {
    #[prost(bytes = "vec", tag = "1")]
    member: Vec<u8>,
    #[prost(uint64, tag = "2")]
    seq: u64,
}

const K_CREATE: u32 = 1;
const K_ACK: u32 = 2;
const K_UPDATE: u32 = 3;
const K_REMOVE: u32 = 4;
const K_ADD: u32 = 5;
const K_ADD_ACK: u32 = 6;

const D_SEED: u32 = 1;
const D_FORWARD: u32 = 2;
const D_WELCOME: u32 = 3;
const D_RATCHET: u32 = 4;

fn member(bytes: &[u8], what: &'static str) -> Result<MemberId> {
    Ok(MemberId::from_bytes(wire::array::<MEMBER_ID_LEN>(
        bytes, what,
    )?))
}

fn members(list: &[Vec<u8>], what: &'static str) -> Result<Vec<MemberId>> {
    if list.len() > MAX_LIST {
        return Err(DcgkaError::Malformed(what));
    }
    list.iter().map(|b| member(b, what)).collect()
}

impl ControlMessage {
    /// Encodes the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut pb = ControlPb {
            seq: self.seq,
            parents: self.parents.iter().map(|p| p.0.to_vec()).collect(),
            ..ControlPb::default()
        };
        match &self.kind {
            ControlKind::Create { members } => {
                pb.kind = K_CREATE;
                pb.members = members.iter().map(|m| m.as_bytes().to_vec()).collect();
            }
            ControlKind::Ack {
                acked_sender,
                acked_seq,
            } => {
                pb.kind = K_ACK;
                pb.acked_sender = acked_sender.as_bytes().to_vec();
                pb.acked_seq = *acked_seq;
            }
            ControlKind::Update => pb.kind = K_UPDATE,
            ControlKind::Remove { members } => {
                pb.kind = K_REMOVE;
                pb.members = members.iter().map(|m| m.as_bytes().to_vec()).collect();
            }
            ControlKind::Add { added } => {
                pb.kind = K_ADD;
                pb.members = vec![added.as_bytes().to_vec()];
            }
            ControlKind::AddAck {
                acked_sender,
                acked_seq,
            } => {
                pb.kind = K_ADD_ACK;
                pb.acked_sender = acked_sender.as_bytes().to_vec();
                pb.acked_seq = *acked_seq;
            }
        }
        wire::encode(&pb)
    }

    /// Decodes a message; never panics. Fields a type does not use must be
    /// empty.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        const W: &str = "control message";
        let pb: ControlPb = wire::decode(bytes, W)?;
        if pb.seq == 0 || pb.parents.len() > MAX_LIST {
            return Err(DcgkaError::Malformed(W));
        }
        let parents = pb
            .parents
            .iter()
            .map(|p| wire::array::<OP_ID_LEN>(p, W).map(OpId))
            .collect::<Result<Vec<_>>>()?;
        let no_ack = pb.acked_sender.is_empty() && pb.acked_seq == 0;
        let ack = || -> Result<(MemberId, u64)> {
            if !pb.members.is_empty() || pb.acked_seq == 0 {
                return Err(DcgkaError::Malformed(W));
            }
            Ok((member(&pb.acked_sender, W)?, pb.acked_seq))
        };
        let kind = match pb.kind {
            K_CREATE if no_ack && !pb.members.is_empty() => ControlKind::Create {
                members: members(&pb.members, W)?,
            },
            K_ACK => {
                let (acked_sender, acked_seq) = ack()?;
                ControlKind::Ack {
                    acked_sender,
                    acked_seq,
                }
            }
            K_UPDATE if no_ack && pb.members.is_empty() => ControlKind::Update,
            K_REMOVE if no_ack && !pb.members.is_empty() => ControlKind::Remove {
                members: members(&pb.members, W)?,
            },
            K_ADD if no_ack && pb.members.len() == 1 => ControlKind::Add {
                added: member(&pb.members[0], W)?,
            },
            K_ADD_ACK => {
                let (acked_sender, acked_seq) = ack()?;
                ControlKind::AddAck {
                    acked_sender,
                    acked_seq,
                }
            }
            _ => return Err(DcgkaError::Malformed(W)),
        };
        Ok(Self {
            seq: pb.seq,
            parents,
            kind,
        })
    }
}

impl DirectMessage {
    /// Encodes the message (standalone: with its recipient).
    pub fn to_bytes(&self) -> Vec<u8> {
        wire::encode(&self.to_pb(true))
    }

    /// Encodes the message without its recipient, for a transport that
    /// addresses it already (an sgm-acb direct part names its recipient,
    /// under the sender's signature): 18 bytes less per recipient. Decode
    /// with [`Self::from_addressed_bytes`].
    pub fn to_addressed_bytes(&self) -> Vec<u8> {
        wire::encode(&self.to_pb(false))
    }

    fn to_pb(&self, with_recipient: bool) -> DirectPb {
        let mut pb = DirectPb {
            recipient: if with_recipient {
                self.recipient.as_bytes().to_vec()
            } else {
                Vec::new()
            },
            ..DirectPb::default()
        };
        match &self.kind {
            DirectKind::Seed(c) => (pb.kind, pb.ciphertext) = (D_SEED, c.clone()),
            DirectKind::Forward(c) => (pb.kind, pb.ciphertext) = (D_FORWARD, c.clone()),
            DirectKind::RatchetState(c) => (pb.kind, pb.ciphertext) = (D_RATCHET, c.clone()),
            DirectKind::Welcome(w) => {
                pb.kind = D_WELCOME;
                pb.ciphertext = w.ratchet_ciphertext.clone();
                pb.history = w.history.clone();
                pb.seqs = w
                    .seqs
                    .iter()
                    .map(|(m, s)| SeqPb {
                        member: m.as_bytes().to_vec(),
                        seq: *s,
                    })
                    .collect();
            }
        }
        pb
    }

    /// Decodes a standalone message; never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let pb: DirectPb = wire::decode(bytes, DIRECT)?;
        let recipient = member(&pb.recipient, DIRECT)?;
        Self::from_pb(pb, recipient)
    }

    /// Decodes what [`Self::to_addressed_bytes`] wrote, for `recipient` (the
    /// member the transport delivered it to); never panics.
    pub fn from_addressed_bytes(bytes: &[u8], recipient: MemberId) -> Result<Self> {
        let pb: DirectPb = wire::decode(bytes, DIRECT)?;
        if !pb.recipient.is_empty() {
            return Err(DcgkaError::Malformed(DIRECT));
        }
        Self::from_pb(pb, recipient)
    }

    fn from_pb(pb: DirectPb, recipient: MemberId) -> Result<Self> {
        const W: &str = DIRECT;
        if pb.ciphertext.is_empty() {
            return Err(DcgkaError::Malformed(W));
        }
        let plain = pb.history.is_empty() && pb.seqs.is_empty();
        let kind = match pb.kind {
            D_SEED if plain => DirectKind::Seed(pb.ciphertext),
            D_FORWARD if plain => DirectKind::Forward(pb.ciphertext),
            D_RATCHET if plain => DirectKind::RatchetState(pb.ciphertext),
            D_WELCOME if !pb.history.is_empty() && pb.seqs.len() <= MAX_LIST => {
                let seqs = pb
                    .seqs
                    .iter()
                    .map(|s| Ok((member(&s.member, W)?, s.seq)))
                    .collect::<Result<Vec<_>>>()?;
                DirectKind::Welcome(Welcome {
                    ratchet_ciphertext: pb.ciphertext,
                    history: pb.history,
                    seqs,
                })
            }
            _ => return Err(DcgkaError::Malformed(W)),
        };
        Ok(Self { recipient, kind })
    }
}

const DIRECT: &str = "direct message";

impl ApplicationMessage {
    /// Encodes the message: the version byte, `epoch` and `index` as
    /// minimal LEB128, the 12-byte synthetic nonce, then the ciphertext to
    /// the end. No protobuf framing: this is the per-message overhead every
    /// application message pays.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 20 + NONCE_LEN + self.ciphertext.len());
        out.push(wire::WIRE_VERSION);
        wire::put_varint(&mut out, self.epoch);
        wire::put_varint(&mut out, self.index);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Decodes a message; never panics. Strict: minimal integers, and a
    /// ciphertext at least as long as its tag.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        const W: &str = "application message";
        let mut rest = wire::versioned_body(bytes, W)?;
        let epoch = wire::take_varint(&mut rest, W)?;
        let index = wire::take_varint(&mut rest, W)?;
        let (nonce, rest) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(DcgkaError::Malformed(W))?;
        if rest.len() < sgm_crypto::AEAD_TAG_LEN {
            return Err(DcgkaError::Malformed(W));
        }
        Ok(Self {
            epoch,
            index,
            nonce: *nonce,
            ciphertext: rest.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(b: u8) -> MemberId {
        MemberId::from_bytes([b; 16])
    }

    fn samples() -> Vec<ControlMessage> {
        let p = vec![OpId([7; 32]), OpId([8; 32])];
        [
            ControlKind::Create {
                members: vec![id(1), id(2)],
            },
            ControlKind::Ack {
                acked_sender: id(1),
                acked_seq: 3,
            },
            ControlKind::Update,
            ControlKind::Remove {
                members: vec![id(2)],
            },
            ControlKind::Add { added: id(4) },
            ControlKind::AddAck {
                acked_sender: id(3),
                acked_seq: 9,
            },
        ]
        .into_iter()
        .enumerate()
        .map(|(i, kind)| ControlMessage {
            seq: i as u64 + 1,
            parents: p.clone(),
            kind,
        })
        .collect()
    }

    #[test]
    fn control_round_trip_and_truncation() {
        for m in samples() {
            let bytes = m.to_bytes();
            assert_eq!(ControlMessage::from_bytes(&bytes).unwrap(), m);
            for cut in 0..bytes.len() {
                assert!(ControlMessage::from_bytes(&bytes[..cut]).is_err(), "{cut}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(ControlMessage::from_bytes(&longer).is_err());
            let mut v2 = bytes.clone();
            v2[0] = 2;
            assert_eq!(
                ControlMessage::from_bytes(&v2).unwrap_err(),
                DcgkaError::UnsupportedVersion(2)
            );
        }
    }

    #[test]
    fn direct_round_trip() {
        let ms = [
            DirectKind::Seed(vec![1, 2]),
            DirectKind::Forward(vec![3]),
            DirectKind::RatchetState(vec![4]),
            DirectKind::Welcome(Welcome {
                ratchet_ciphertext: vec![5],
                history: vec![6, 7],
                seqs: vec![(id(1), 4)],
            }),
        ];
        for kind in ms {
            let m = DirectMessage {
                recipient: id(9),
                kind,
            };
            let bytes = m.to_bytes();
            assert_eq!(DirectMessage::from_bytes(&bytes).unwrap(), m);
            for cut in 0..bytes.len() {
                assert!(DirectMessage::from_bytes(&bytes[..cut]).is_err());
            }
            let addressed = m.to_addressed_bytes();
            assert_eq!(addressed.len() + 18, bytes.len());
            assert_eq!(
                DirectMessage::from_addressed_bytes(&addressed, id(9)).unwrap(),
                m
            );
            // Each form is refused by the other's decoder.
            assert!(DirectMessage::from_addressed_bytes(&bytes, id(9)).is_err());
            assert!(DirectMessage::from_bytes(&addressed).is_err());
        }
    }

    #[test]
    fn app_round_trip_and_strictness() {
        let m = ApplicationMessage {
            epoch: 300,
            index: 1,
            nonce: [3; NONCE_LEN],
            ciphertext: vec![1; 48],
        };
        let bytes = m.to_bytes();
        // Version, two-byte epoch, one-byte index, nonce, ciphertext.
        assert_eq!(bytes.len(), 1 + 2 + 1 + NONCE_LEN + 48);
        assert_eq!(ApplicationMessage::from_bytes(&bytes).unwrap(), m);
        // Shorter than a tag, after the header and nonce.
        assert!(ApplicationMessage::from_bytes(&bytes[..4 + NONCE_LEN + 15]).is_err());
        // Shorter than a nonce.
        assert!(ApplicationMessage::from_bytes(&bytes[..4 + NONCE_LEN - 1]).is_err());
        // Index 1 written as a two-byte LEB128.
        let mut long = bytes[..3].to_vec();
        long.extend_from_slice(&[0x81, 0x00]);
        long.extend_from_slice(&bytes[4..]);
        assert!(ApplicationMessage::from_bytes(&long).is_err());
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(
            ApplicationMessage::from_bytes(&v2).unwrap_err(),
            DcgkaError::UnsupportedVersion(2)
        );
    }
}
