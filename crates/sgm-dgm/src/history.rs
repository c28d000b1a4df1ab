//! The op history as bytes: the welcome message's history and the
//! persisted state.
//!
//! Format (version 1): one version byte `0x01`, then a protobuf
//! `History { repeated bytes members = 1; repeated OpRecord ops = 2; }`
//! with `OpRecord { bytes id = 1; uint32 author = 2; repeated uint32
//! parents = 3; uint32 kind = 4; repeated uint32 targets = 5; }`.
//! `members` is a table of 16-byte member ids; `author` and `targets` index
//! it. `ops` are in a topological order and `parents` index earlier entries
//! of `ops`, so the causal DAG costs a few bytes per edge instead of 32.
//! `kind`: 0 create, 1 add, 2 remove, 3 ack. Decoding is strict: wrong
//! lengths, out-of-range or forward indices, unknown kinds and trailing
//! garbage are errors, and every op is re-validated by [`Dgm::apply`].

use std::collections::HashMap;

use prost::Message;
use sgm_crypto::{MEMBER_ID_LEN, MemberId};

use crate::dgm::Dgm;
use crate::error::DgmError;
use crate::op::{OP_ID_LEN, Op, OpId, OpKind};

/// The encoding version written by this crate.
pub const HISTORY_VERSION: u8 = 1;

#[derive(Clone, PartialEq, Message)]
struct HistoryProto {
    #[prost(bytes = "vec", repeated, tag = "1")]
    members: Vec<Vec<u8>>,
    #[prost(message, repeated, tag = "2")]
    ops: Vec<OpRecord>,
}

#[derive(Clone, PartialEq, Message)]
struct OpRecord {
    #[prost(bytes = "vec", tag = "1")]
    id: Vec<u8>,
    #[prost(uint32, tag = "2")]
    author: u32,
    #[prost(uint32, repeated, tag = "3")]
    parents: Vec<u32>,
    #[prost(uint32, tag = "4")]
    kind: u32,
    #[prost(uint32, repeated, tag = "5")]
    targets: Vec<u32>,
}

/// The membership history a new member needs to evaluate the DGM function:
/// every applied op with its parents, in a topological order (paper §6.2.4,
/// `adderHistory`; in the DAG form of §8.1 rather than per-op ack sets).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct WelcomeHistory {
    /// The ops, parents before children.
    pub ops: Vec<Op>,
}

impl WelcomeHistory {
    /// Encodes the history (see the module docs for the format).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut table: HashMap<MemberId, u32> = HashMap::new();
        let mut members: Vec<Vec<u8>> = Vec::new();
        let mut member_ix = |m: &MemberId| -> u32 {
            *table.entry(*m).or_insert_with(|| {
                members.push(m.as_bytes().to_vec());
                (members.len() - 1) as u32
            })
        };
        let mut op_ix: HashMap<OpId, u32> = HashMap::new();
        let mut ops = Vec::with_capacity(self.ops.len());
        for (i, op) in self.ops.iter().enumerate() {
            let (kind, targets) = match &op.kind {
                OpKind::Create { members } => (0, members.as_slice()),
                OpKind::Add { members } => (1, members.as_slice()),
                OpKind::Remove { members } => (2, members.as_slice()),
                OpKind::Ack => (3, &[][..]),
            };
            ops.push(OpRecord {
                id: op.id.0.to_vec(),
                author: member_ix(&op.author),
                // A parent not earlier in the list cannot be encoded; it
                // is mapped past the end so decoding rejects it.
                parents: op
                    .parents
                    .iter()
                    .map(|p| op_ix.get(p).copied().unwrap_or(u32::MAX))
                    .collect(),
                kind,
                targets: targets.iter().map(&mut member_ix).collect(),
            });
            op_ix.insert(op.id, i as u32);
        }
        let proto = HistoryProto { members, ops };
        let mut out = Vec::with_capacity(1 + proto.encoded_len());
        out.push(HISTORY_VERSION);
        proto.encode_raw(&mut out);
        out
    }

    /// Decodes a history. Checks the encoding only; [`Dgm::from_welcome`]
    /// checks the ops.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DgmError> {
        let (&version, body) = bytes.split_first().ok_or(DgmError::Malformed {
            what: "empty input",
        })?;
        if version != HISTORY_VERSION {
            return Err(DgmError::UnsupportedVersion { version });
        }
        let proto =
            HistoryProto::decode(body).map_err(|_| DgmError::Malformed { what: "protobuf" })?;
        let members = proto
            .members
            .iter()
            .map(|b| {
                <[u8; MEMBER_ID_LEN]>::try_from(b.as_slice())
                    .map(MemberId::from_bytes)
                    .map_err(|_| DgmError::Malformed {
                        what: "member id length",
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let member = |i: u32| -> Result<MemberId, DgmError> {
            members.get(i as usize).copied().ok_or(DgmError::Malformed {
                what: "member index",
            })
        };
        let mut ops: Vec<Op> = Vec::with_capacity(proto.ops.len());
        for (i, r) in proto.ops.iter().enumerate() {
            let id = OpId(<[u8; OP_ID_LEN]>::try_from(r.id.as_slice()).map_err(|_| {
                DgmError::Malformed {
                    what: "op id length",
                }
            })?);
            let parents = r
                .parents
                .iter()
                .map(|p| {
                    if (*p as usize) < i {
                        ops.get(*p as usize)
                            .map(|o| o.id)
                            .ok_or(DgmError::Malformed {
                                what: "parent index",
                            })
                    } else {
                        Err(DgmError::Malformed {
                            what: "parent index",
                        })
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            let targets = r
                .targets
                .iter()
                .map(|t| member(*t))
                .collect::<Result<Vec<_>, _>>()?;
            let kind = match (r.kind, targets.is_empty()) {
                (0, _) => OpKind::Create { members: targets },
                (1, _) => OpKind::Add { members: targets },
                (2, _) => OpKind::Remove { members: targets },
                (3, true) => OpKind::Ack,
                (3, false) => {
                    return Err(DgmError::Malformed {
                        what: "ack with targets",
                    });
                }
                _ => return Err(DgmError::Malformed { what: "op kind" }),
            };
            ops.push(Op {
                id,
                author: member(r.author)?,
                parents,
                kind,
            });
        }
        Ok(Self { ops })
    }
}

impl Dgm {
    /// The history a member being added needs ([`WelcomeHistory`]): every
    /// applied op in application order. Send it in the welcome message; the
    /// new member calls [`Dgm::from_welcome`]. Size O(ops + parent edges).
    pub fn history_for_welcome(&self) -> WelcomeHistory {
        WelcomeHistory {
            ops: self.ops().cloned().collect(),
        }
    }

    /// Rebuilds a DGM from a welcome history by applying its ops in order;
    /// every op is validated as if it arrived from the network.
    pub fn from_welcome(history: WelcomeHistory) -> Result<Self, DgmError> {
        let mut dgm = Dgm::new();
        for op in history.ops {
            let applied = dgm.apply(op)?;
            if applied.duplicate {
                return Err(DgmError::Malformed {
                    what: "op listed twice",
                });
            }
        }
        Ok(dgm)
    }

    /// Encodes the state. The state is determined by the applied ops, so
    /// this is the history in the [`WelcomeHistory`] format.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.history_for_welcome().to_bytes()
    }

    /// Restores a state written by [`Dgm::to_bytes`], re-validating every
    /// op and rebuilding the indexes (cost of applying every op once).
    /// Never panics on arbitrary input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DgmError> {
        Self::from_welcome(WelcomeHistory::from_bytes(bytes)?)
    }
}
