//! Fetching broadcasts by id (packet kind 5), and what the façade does
//! with equivocation evidence.
//!
//! A sync request names per-sender delivered seqs, which cannot name one
//! branch of a fork: after an equivocation both the requester and the
//! peer have "seq n" of the equivocator, but different messages. When
//! ACB waits for parents it cannot get (`Acb::missing`), the sync request
//! is followed by a fetch naming them by id:
//!
//! ```text
//! kind 5 fetch : body = FetchPb { 1: requester (16), 2: repeated id (32),
//!                                 3: stamp (uint64), 4: signature (64) }
//!                at most MAX_FETCH_IDS ids, each 32 bytes
//! signature    = Ed25519 by the requester's identity key over the statement
//!                (sgm_dcgka::statement) labelled FETCH_LABEL of
//!                group id (16) ‖ responder id (16) ‖ FetchPb without field 4
//! answer       : a resend packet (kind 4) with those the peer holds
//!                (delivered or verified-waiting), each preceded by up to
//!                FETCH_CHAIN previous broadcasts of its sender, oldest
//!                first, within MAX_RESEND_BYTES
//! ```
//!
//! Authenticated exactly as a sync request (`sync.rs`): answered only when
//! the requester is a member whose card this member holds, the signature
//! of its identity key verifies, the fetch is addressed to this member,
//! and its stamp is above every fetch stamp accepted from the requester
//! (kept in memory only; a fetch changes no persisted state). Without
//! this, a 100-byte fetch naming bob, from nobody, made alice send bob
//! every envelope named, each with up to `FETCH_CHAIN` predecessors,
//! within 4 MiB (test `forged_fetch_request_makes_no_member_send`). Never
//! more than the ids named is sent.

use bytes::Bytes;
use prost::Message;

use sgm_acb::{Equivocation, MessageId};
use sgm_crypto::{MemberId, Signature};
use sgm_dcgka::statement::verify_statement;

use crate::error::{Error, Result};
use crate::event::{Event, Warning};
use crate::group::{Acc, Group};
use crate::ids::{GroupId, Hex, Mid, Mix};
use crate::packet::{BatchPb, Destination, Kind, Packet, PacketKind, frame, member};
use crate::receive::MAX_RESEND_BYTES;
use crate::sync::signed_part;

/// Statement label of a fetch's signature.
pub const FETCH_LABEL: &[u8] = b"sgm messaging fetch request v1";

/// A fork's payload is processed where it does not conflict with what
/// this member processed (docs/messaging.md, "Equivocation"); where it
/// does (the key agreement refuses a second operation with one seq, the
/// ratchet a second message with one index), that is the equivocation
/// already reported, not a further warning.
pub(crate) fn quiet_fork_failures(acc: &mut Acc, fork: MessageId, mark: usize) {
    let mut i = mark;
    while i < acc.events.len() {
        let conflict = matches!(
            &acc.events[i],
            Event::Warning(Warning::Rejected { id, .. } | Warning::Undecryptable { id, .. })
                if *id == fork
        );
        if conflict {
            acc.events.remove(i);
        } else {
            i += 1;
        }
    }
}

/// Most ids one fetch names (the oldest missing first; the rest in the
/// next request).
pub const MAX_FETCH_IDS: usize = 64;

/// Largest fetch body: the requester (2 + 16 bytes), the stamp (1 + 10),
/// the signature (2 + 64) and [`MAX_FETCH_IDS`] ids (2 + 32 bytes each).
const MAX_FETCH_BODY: usize = 18 + 11 + 66 + MAX_FETCH_IDS * 34;

/// How many of the sender's previous broadcasts a fetch answer sends
/// before each envelope asked for (see `Group::with_predecessors`).
pub const FETCH_CHAIN: u64 = 4;

#[derive(Clone, PartialEq, Message)]
pub(crate) struct FetchPb {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) from: Vec<u8>,
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub(crate) ids: Vec<Vec<u8>>,
    #[prost(uint64, tag = "3")]
    pub(crate) at: u64,
    #[prost(bytes = "vec", tag = "4")]
    pub(crate) signature: Vec<u8>,
}

impl Group {
    /// The fetch packet for `peer` naming the parents ACB waits for and
    /// cannot name by seq, if any.
    pub(crate) fn fetch_packet(&mut self, gid: &GroupId, peer: MemberId) -> Result<Option<Packet>> {
        let missing = self.acb.missing();
        if missing.is_empty() {
            return Ok(None);
        }
        let mut body = FetchPb {
            from: self.me().as_bytes().to_vec(),
            ids: missing
                .iter()
                .take(MAX_FETCH_IDS)
                .map(|id| id.as_bytes().to_vec())
                .collect(),
            at: self.next_request_stamp(),
            signature: Vec::new(),
        };
        let signed = signed_part(gid, &peer, &body.encode_to_vec());
        body.signature = self
            .dcgka
            .sign_statement(FETCH_LABEL, &signed)?
            .to_bytes()
            .to_vec();
        Ok(Some(Packet {
            to: Destination::Member(peer),
            kind: PacketKind::Sync,
            bytes: frame(gid, Kind::Fetch, &body.encode_to_vec()),
        }))
    }

    /// Checks a fetch as a sync request is checked (module docs).
    /// `Ok(None)`: not one to answer and not an error (our own, or from a
    /// member id not known yet). On success the stamp is remembered (in
    /// memory only).
    fn verify_fetch(&mut self, gid: &GroupId, req: &FetchPb) -> Result<Option<MemberId>> {
        let from = member(&req.from)?;
        let Some(card) = self.book.cards.get(&Mid(from)) else {
            return Ok(None);
        };
        if from == self.me() {
            return Ok(None);
        }
        let signature = Signature::from_slice(&req.signature)
            .map_err(|_| Error::SyncRejected("fetch without a signature"))?;
        let mut unsigned = req.clone();
        unsigned.signature.clear();
        let signed = signed_part(gid, &self.me(), &unsigned.encode_to_vec());
        verify_statement(&card.key.0, FETCH_LABEL, &signed, &signature)
            .map_err(|_| Error::SyncRejected("fetch with a bad signature"))?;
        if self
            .book
            .fetch_stamps
            .get(&Mid(from))
            .is_some_and(|last| req.at <= *last)
        {
            return Err(Error::SyncRejected("replayed or stale fetch"));
        }
        self.book.fetch_stamps.insert(Mid(from), req.at);
        Ok(Some(from))
    }

    /// Answers a signed fetch with the envelopes this member holds among
    /// those named. Changes no persisted state.
    pub(crate) fn answer_fetch(&mut self, gid: &GroupId, body: &[u8], acc: &mut Acc) -> Result<()> {
        // Bounded before decoding: prost would allocate per claimed id.
        if body.len() > MAX_FETCH_BODY {
            return Err(Error::Malformed("fetch too large"));
        }
        let req = FetchPb::decode(body).map_err(|_| Error::Malformed("fetch"))?;
        if req.encode_to_vec() != body || req.ids.len() > MAX_FETCH_IDS {
            return Err(Error::Malformed("fetch"));
        }
        let Some(from) = self.verify_fetch(gid, &req)? else {
            return Ok(());
        };
        let mut envelopes: Vec<Bytes> = Vec::new();
        let mut bytes = 0usize;
        'ids: for raw in &req.ids {
            let id = MessageId::from_slice(raw).ok_or(Error::Malformed("fetch id"))?;
            if self.acb.get_shared(&id).is_none() {
                continue;
            }
            for b in self.with_predecessors(id) {
                if envelopes.contains(&b) {
                    continue;
                }
                if !envelopes.is_empty() && bytes.saturating_add(b.len()) > MAX_RESEND_BYTES {
                    break 'ids;
                }
                bytes = bytes.saturating_add(b.len());
                envelopes.push(b);
            }
        }
        if !envelopes.is_empty() {
            acc.packets.push(Packet {
                to: Destination::Member(from),
                kind: PacketKind::Resend,
                bytes: frame(gid, Kind::Resend, &BatchPb { envelopes }.encode_to_vec()),
            });
        }
        Ok(())
    }

    /// The envelope `id` preceded by up to [`FETCH_CHAIN`] previous
    /// broadcasts of its sender on this member's line, oldest first: a
    /// requester that never saw the fork a branch starts at (with a key
    /// rotation on it) cannot verify the branch's later messages before
    /// that fork. Each is a duplicate for a requester that has it.
    fn with_predecessors(&self, id: MessageId) -> Vec<Bytes> {
        let mut out = Vec::new();
        if let Some((sender, seq)) = self.book.meta.get(&Mix(id)).map(|m| (m.sender, m.seq)) {
            let from = seq.saturating_sub(FETCH_CHAIN);
            if let Some(seqs) = self.book.by_seq.get(&sender) {
                for (_, p) in seqs.range(from..seq) {
                    out.extend(self.acb.get_shared(&p.0));
                }
            }
        }
        out.extend(self.acb.get_shared(&id));
        out
    }

    /// ACB delivered a fork of `sender`'s line: warn, and keep the first
    /// evidence against it (persisted, one per sender).
    pub(crate) fn note_equivocation(
        &mut self,
        acc: &mut Acc,
        sender: MemberId,
        seq: u64,
        ids: [MessageId; 2],
        evidence: Option<Box<Equivocation>>,
    ) {
        if let Some(e) = &evidence {
            self.book
                .equivocations
                .entry(Mid(sender))
                .or_insert_with(|| Hex(e.encode()));
        }
        acc.events.push(Event::Warning(Warning::Equivocation {
            sender,
            user: self.user_of(&sender).cloned(),
            seq,
            ids,
            evidence,
        }));
    }

    /// The evidence kept against members that equivocated (signed two
    /// different broadcasts with one sequence number): the first per
    /// member, as reported by [`Warning::Equivocation`]. Anyone holding
    /// the member's key for that seq can check it
    /// ([`Equivocation::verify`]); an application or policy may remove the
    /// member on it ([`Group::remove`]).
    pub fn equivocations(&self) -> Vec<(MemberId, Equivocation)> {
        self.book
            .equivocations
            .iter()
            .filter_map(|(m, e)| Some((m.0, Equivocation::decode(&e.0).ok()?)))
            .collect()
    }
}
