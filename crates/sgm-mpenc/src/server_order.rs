//! Server order (`ServerOrder` of `impl/channel.js`; msg-notes appendix 5,
//! "hybrid ordering"): membership operations are totally ordered by the
//! order in which the transport server echoes packets.
//!
//! An operation starts with an *initial* packet (pI, carrying
//! [`GreetingMetadata`] with `prev_pf`, the packet id of the last accepted
//! *final* packet) and ends with its final packet (pF). Rules, applied by
//! every member to the same echo order, so all members accept the same
//! packets:
//!
//! - [rule XP] a pI whose members are not all in the channel is rejected;
//! - a pI is accepted only if no operation is ongoing and its `prev_pf` is
//!   the last accepted pF: of concurrent proposals on the same pF, the first
//!   echoed wins and the rest are rejected; duplicates are rejected;
//! - a pF is accepted only while its operation is ongoing;
//! - a member not yet synced accepts the first pI that includes it and
//!   adopts its `prev_pf` / `prev_ch` [rule EII].
//!
//! ```text
//! packet id  = SHA-256(sender ‖ "\n" ‖ join("\n", sorted other recipients) ‖ "\n\n" ‖ wire packet)
//! chain hash = SHA-256(previous chain hash ‖ packet id ‖ packet type)
//!              packet type "1" final, "2" initial, "3" both (ASCII digits)
//! sync_new:  prev_pf = 32 random bytes, chain hash = SHA-256(prev_pf ‖ 0xff)
//! ```
//!
//! Without the server nothing is ordered: a member cut off from it accepts
//! no operation (the partition stall that DCGKA does not have).

use std::collections::BTreeSet;

use sgm_crypto::{CryptoRng, sha256};

use crate::greet_message::{GreetingMetadata, UnverifiedGreet, greet_type as gt};
use crate::{Id, MpencError};

/// What [`partial_decode`] learns about a greeting packet before it is
/// accepted (`GreetingSummary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreetingSummary {
    /// Packet id.
    pub packet_id: [u8; 32],
    /// Metadata, for an initial packet.
    pub metadata: Option<GreetingMetadata>,
    /// For a final packet, the id of its operation's initial packet.
    pub prev_pi: Option<[u8; 32]>,
    /// The packet's member list.
    pub members: Vec<Id>,
}

impl GreetingSummary {
    /// Starts an operation.
    pub fn is_initial(&self) -> bool {
        self.metadata.is_some()
    }
    /// Ends an operation.
    pub fn is_final(&self) -> bool {
        self.prev_pi.is_some()
    }
    /// `"1"`, `"2"` or `"3"` (initial bit 1, final bit 0).
    pub fn packet_type(&self) -> u8 {
        b'0' + (u8::from(self.is_initial()) << 1 | u8::from(self.is_final()))
    }
}

/// `makePacketId`.
pub fn make_packet_id(packet: &str, sender: &[u8], channel_members: &[Id]) -> [u8; 32] {
    let mut others: Vec<&Id> = channel_members
        .iter()
        .filter(|m| m.as_slice() != sender)
        .collect();
    others.sort();
    others.dedup();
    let mut parts: Vec<&[u8]> = vec![sender, b"\n"];
    for (i, o) in others.iter().enumerate() {
        if i > 0 {
            parts.push(b"\n");
        }
        parts.push(o);
    }
    parts.push(b"\n\n");
    parts.push(packet.as_bytes());
    sha256(&parts)
}

/// `makeChainHash`.
pub fn make_chain_hash(prev_ch: &[u8], packet_id: &[u8], packet_type: &[u8]) -> [u8; 32] {
    sha256(&[prev_ch, packet_id, packet_type])
}

/// Whether the greeting in progress expects its final packet from `source`
/// (`_expectsFinalMessage`).
pub fn expects_final(
    yet_to_authenticate: &[Id],
    recv_own_auth: bool,
    me: &[u8],
    source: &[u8],
) -> bool {
    if source == me {
        yet_to_authenticate.is_empty() && !recv_own_auth
    } else {
        recv_own_auth && yet_to_authenticate.len() == 1 && yet_to_authenticate[0] == source
    }
}

/// `partialDecode`: classifies a greeting packet as initial and/or final.
/// `expects_final(source)` answers for the greeting in progress (None if
/// there is none). Returns None for packets that are neither.
pub fn partial_decode(
    packet: &str,
    packet_id: [u8; 32],
    current_pi: Option<[u8; 32]>,
    expects_final: impl Fn(&[u8]) -> Option<bool>,
) -> Result<Option<GreetingSummary>, MpencError> {
    let u = UnverifiedGreet::decode_wire(packet)?;
    let m = u.peek();
    let t = m.greet_type;
    let members = m.members.clone();
    let summary = if t == gt::INIT_INITIATOR_UP
        || t == gt::INCLUDE_AUX_INITIATOR_UP
        || (t == gt::EXCLUDE_AUX_INITIATOR_DOWN && members.len() > 1)
    {
        m.metadata.clone().map(|md| GreetingSummary {
            packet_id,
            metadata: Some(md),
            prev_pi: None,
            members,
        })
    } else if t == gt::INIT_PARTICIPANT_CONFIRM_DOWN
        || t == gt::INCLUDE_AUX_PARTICIPANT_CONFIRM_DOWN
        || t == gt::EXCLUDE_AUX_PARTICIPANT_CONFIRM_DOWN
    {
        match (expects_final(&m.source), current_pi) {
            (Some(true), Some(pi)) => Some(GreetingSummary {
                packet_id,
                metadata: None,
                prev_pi: Some(pi),
                members,
            }),
            _ => None,
        }
    } else if t == gt::EXCLUDE_AUX_INITIATOR_DOWN || t == gt::REFRESH_AUX_INITIATOR_DOWN {
        m.metadata.clone().map(|md| GreetingSummary {
            packet_id,
            metadata: Some(md),
            prev_pi: Some(packet_id),
            members,
        })
    } else {
        None
    };
    Ok(summary)
}

/// Why a packet was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// [rule XP] some of its members were not in the channel.
    NotEchoedToAll,
    /// Not synced yet and the packet does not include us.
    NotForUs,
    /// Not synced and an earlier proposal on the same pF was seen [rule EIO].
    SeenPrevPf,
    /// Seen before.
    Duplicate,
    /// Another operation is in progress.
    OngoingOperation,
    /// Refers to a final packet that is not the last accepted one.
    StalePrevPf,
    /// A final packet with no operation in progress.
    NoOngoingOperation,
    /// A final packet of another operation.
    WrongPrevPi,
}

/// Which kinds an accepted packet was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// It started an operation.
    pub initial: bool,
    /// It ended one.
    pub r#final: bool,
}

/// One member's view of the server order.
#[derive(Debug, Clone, Default)]
pub struct ServerOrder {
    seen_prev_pf: Option<BTreeSet<Vec<u8>>>,
    packet_ids: Vec<Vec<u8>>,
    chain_hashes: Vec<[u8; 32]>,
    op_initial: Vec<Option<[u8; 32]>>,
    op_final: Vec<Vec<u8>>,
}

impl ServerOrder {
    /// Not yet synced.
    pub fn new() -> Self {
        Self {
            seen_prev_pf: Some(BTreeSet::new()),
            ..Self::default()
        }
    }

    /// True once synced.
    pub fn is_synced(&self) -> bool {
        self.seen_prev_pf.is_none()
    }

    /// Chain hash at the last accepted packet.
    pub fn prev_ch(&self) -> Option<&[u8; 32]> {
        self.chain_hashes.last()
    }

    /// Packet id of the last accepted final packet.
    pub fn prev_pf(&self) -> Option<&[u8]> {
        self.op_final.last().map(Vec::as_slice)
    }

    /// Packet id of the last accepted initial packet.
    pub fn prev_pi(&self) -> Option<[u8; 32]> {
        self.op_initial.last().copied().flatten()
    }

    /// Every packet id accepted, in order.
    pub fn packet_ids(&self) -> &[Vec<u8>] {
        &self.packet_ids
    }

    /// An operation is in progress.
    pub fn has_ongoing_op(&self) -> bool {
        self.op_initial.len() > self.op_final.len()
    }

    /// Metadata for a new proposal: the last pF and the chain hash.
    pub fn metadata(&self, parents: Vec<Vec<u8>>) -> Option<GreetingMetadata> {
        Some(GreetingMetadata {
            prev_pf: self.prev_pf()?.to_vec(),
            prev_ch: self.prev_ch()?.to_vec(),
            parents,
        })
    }

    /// Starts a new chain (`syncNew`): draws a 32-byte packet id.
    pub fn sync_new(&mut self, rng: &mut impl CryptoRng) {
        let pid: [u8; 32] = sgm_crypto::rng::random_array(rng);
        let ch = make_chain_hash(b"", &pid, &[0xff]);
        self.sync_with_prev(pid.to_vec(), ch);
    }

    /// Adopts someone else's previous values (`syncWithPrev`).
    pub fn sync_with_prev(&mut self, prev_pf: Vec<u8>, prev_ch: [u8; 32]) {
        self.seen_prev_pf = None;
        self.packet_ids = vec![prev_pf.clone()];
        self.chain_hashes = vec![prev_ch];
        self.op_initial = vec![None];
        self.op_final = vec![prev_pf];
    }

    /// `tryOpPacket`: accepts or rejects an operation packet echoed to the
    /// `recipients` (the channel members at echo time, owner included).
    pub fn try_op_packet(
        &mut self,
        owner: &[u8],
        op: &GreetingSummary,
        recipients: &[Id],
    ) -> Result<Accepted, Rejection> {
        if op.members.iter().any(|m| !recipients.contains(m)) {
            return Err(Rejection::NotEchoedToAll);
        }
        if let Some(seen) = &mut self.seen_prev_pf {
            let Some(md) = &op.metadata else {
                return Err(Rejection::NotForUs);
            };
            if !op.members.iter().any(|m| m == owner) {
                seen.insert(md.prev_pf.clone());
                return Err(Rejection::NotForUs);
            }
            if seen.contains(&md.prev_pf) {
                return Err(Rejection::SeenPrevPf);
            }
            let Ok(ch) = <[u8; 32]>::try_from(md.prev_ch.as_slice()) else {
                return Err(Rejection::StalePrevPf);
            };
            self.sync_with_prev(md.prev_pf.clone(), ch);
        }
        let mut next = self.clone();
        if let Some(md) = &op.metadata {
            if next.op_initial.contains(&Some(op.packet_id)) {
                return Err(Rejection::Duplicate);
            }
            if next.has_ongoing_op() {
                return Err(Rejection::OngoingOperation);
            }
            if next.prev_pf() != Some(md.prev_pf.as_slice()) {
                return Err(Rejection::StalePrevPf);
            }
            next.op_initial.push(Some(op.packet_id));
        }
        if let Some(prev_pi) = op.prev_pi {
            if next.op_final.iter().any(|f| f.as_slice() == op.packet_id) {
                return Err(Rejection::Duplicate);
            }
            if !next.has_ongoing_op() {
                return Err(Rejection::NoOngoingOperation);
            }
            if next.prev_pi() != Some(prev_pi) {
                return Err(Rejection::WrongPrevPi);
            }
            next.op_final.push(op.packet_id.to_vec());
        }
        let prev_ch = next.chain_hashes.last().copied().unwrap_or([0; 32]);
        next.packet_ids.push(op.packet_id.to_vec());
        next.chain_hashes.push(make_chain_hash(
            &prev_ch,
            &op.packet_id,
            &[op.packet_type()],
        ));
        *self = next;
        Ok(Accepted {
            initial: op.is_initial(),
            r#final: op.is_final(),
        })
    }
}
