//! Sync requests (anti-entropy), authenticated and bounded (issue 10
//! item 9: a forged 36-byte request naming bob made alice send bob 65 KB,
//! up to [`crate::MAX_RESEND_BYTES`] per request).
//!
//! ```text
//! SyncPb { 1: requester (16), 2: repeated { 1: member (16), 2: seq },
//!          3: stamp (uint64), 4: signature (64) }
//! signature = Ed25519 by the requester's identity key over the statement
//!   (sgm_dcgka::statement) labelled SYNC_LABEL of
//!   group id (16) ‖ responder id (16) ‖ SyncPb without field 4
//! ```
//!
//! A responder answers only a request that
//! 1. is at most [`MAX_SYNC_BODY`] bytes with at most
//!    [`crate::MAX_PARENTS`] entries (the largest group), checked before
//!    decoding (the requester may know members the responder does not
//!    know yet, so the bound is the group size limit, not the cards held),
//! 2. comes from a member id whose card it holds, with a valid signature
//!    of that member's identity key (a relay or a non-member cannot make
//!    a member send anything to a third party),
//! 3. is addressed to this responder (replaying bob's request to alice at
//!    carol does nothing), and
//! 4. carries a stamp above every stamp this responder accepted from the
//!    requester (a replayed request does nothing).
//!
//! The stamps a responder accepted and the time it last asked back are
//! kept in memory only: receiving a sync request never changes the
//! persisted state (its [`crate::Output::state`] is `None`). After a
//! responder restarts, one replay per requester can be answered once
//! (then the newest stamp is known again). The requester's stamp is the
//! largest `now_ms` it was given (by `receive` or `tick`), raised to stay
//! strictly increasing: the application's clock must not go backwards
//! across restarts, or a restarted requester's requests are ignored until
//! its clock passes its former stamps.

use std::collections::HashMap;

use bytes::Bytes;
use prost::Message;
use sgm_crypto::{MemberId, Signature};
use sgm_dcgka::statement::verify_statement;

use crate::config::MAX_PARENTS;
use crate::error::{Error, Result};
use crate::group::Acc;
use crate::group::Group;
use crate::ids::{GroupId, Mid};
use crate::packet::{BatchPb, Destination, Kind, Packet, PacketKind, SeqPb, SyncPb, frame, member};
use crate::prescan::field_counts;
use crate::receive::{ASK_BACK_MS, MAX_BATCH_ENVELOPES, MAX_RESEND_BYTES};

/// Statement label of a sync request's signature.
pub const SYNC_LABEL: &[u8] = b"sgm messaging sync request v1";

/// Most bytes one `{ member, seq }` entry takes (2 + 18 + 11, rounded up).
const SYNC_ENTRY_MAX: usize = 32;
/// Most bytes of a request's other fields (18 + 11 + 66, rounded up).
const SYNC_FIXED_MAX: usize = 128;

/// Largest sync request body accepted: one entry per member of the
/// largest group ([`MAX_PARENTS`]), about 128 KiB.
pub const MAX_SYNC_BODY: usize = SYNC_FIXED_MAX + MAX_PARENTS * SYNC_ENTRY_MAX;

/// What the signature covers (of a sync request, and of a fetch).
pub(crate) fn signed_part(gid: &GroupId, responder: &MemberId, unsigned: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + unsigned.len());
    out.extend_from_slice(&gid.0);
    out.extend_from_slice(responder.as_bytes());
    out.extend_from_slice(unsigned);
    out
}

impl Group {
    /// A signed request to `peer` for what this member lacks.
    pub(crate) fn sync_body_for(&mut self, peer: MemberId) -> Result<Vec<u8>> {
        let gid = self.gid()?;
        let stamp = self.next_request_stamp();
        let mut req = SyncPb {
            from: self.me().as_bytes().to_vec(),
            seqs: self
                .seen()
                .into_iter()
                .filter(|(_, s)| *s > 0)
                .map(|(m, seq)| SeqPb {
                    member: m.as_bytes().to_vec(),
                    seq,
                })
                .collect(),
            at: stamp,
            signature: Vec::new(),
        };
        let signed = signed_part(&gid, &peer, &req.encode_to_vec());
        req.signature = self
            .dcgka
            .sign_statement(SYNC_LABEL, &signed)?
            .to_bytes()
            .to_vec();
        Ok(req.encode_to_vec())
    }

    /// The stamp of this member's next signed request (sync or fetch): the
    /// largest `now_ms` it was given, raised to stay strictly increasing.
    pub(crate) fn next_request_stamp(&mut self) -> u64 {
        let stamp = self
            .book
            .clock_ms
            .max(self.book.last_sync_stamp.saturating_add(1));
        self.book.last_sync_stamp = stamp;
        stamp
    }

    /// Checks a sync request (see the module docs). `Ok(None)`: not one to
    /// answer and not an error (our own, or from a member id not known
    /// yet). On success the requester's stamp is remembered (in memory).
    pub(crate) fn verify_sync(
        &mut self,
        gid: &GroupId,
        body: &[u8],
    ) -> Result<Option<(MemberId, HashMap<MemberId, u64>)>> {
        if body.len() > MAX_SYNC_BODY {
            return Err(Error::SyncRejected("larger than any group needs"));
        }
        let [_, entries, _, _] = field_counts::<4>(body, "sync")?;
        if entries > MAX_PARENTS {
            return Err(Error::SyncRejected("more entries than members"));
        }
        let mut req = SyncPb::decode_strict(body)?;
        let from = member(&req.from)?;
        let Some(card) = self.book.cards.get(&Mid(from)) else {
            return Ok(None);
        };
        if from == self.me() {
            return Ok(None);
        }
        let signature = Signature::from_slice(&req.signature)
            .map_err(|_| Error::SyncRejected("no signature"))?;
        req.signature.clear();
        let signed = signed_part(gid, &self.me(), &req.encode_to_vec());
        verify_statement(&card.key.0, SYNC_LABEL, &signed, &signature)
            .map_err(|_| Error::SyncRejected("bad signature"))?;
        if self
            .book
            .sync_stamps
            .get(&Mid(from))
            .is_some_and(|last| req.at <= *last)
        {
            return Err(Error::SyncRejected("replayed or stale"));
        }
        let mut theirs = HashMap::with_capacity(req.seqs.len());
        for s in &req.seqs {
            theirs.insert(member(&s.member)?, s.seq);
        }
        self.book.sync_stamps.insert(Mid(from), req.at);
        Ok(Some((from, theirs)))
    }

    /// Answers a sync request with what the requester lacks, oldest first
    /// (a causal prefix, so it delivers without waiting), bounded by
    /// [`crate::Config::max_resend_batch`] envelopes and [`MAX_RESEND_BYTES`]; the
    /// requester asks again for the rest. If the requester has something
    /// this member lacks, asks back, at most once per [`ASK_BACK_MS`]: a
    /// member behind after a partition is asked by many peers at once, and
    /// each ask-back brings the same answer.
    pub(crate) fn answer_sync(
        &mut self,
        gid: &GroupId,
        body: &[u8],
        now_ms: u64,
        acc: &mut Acc,
    ) -> Result<()> {
        let Some((from, theirs)) = self.verify_sync(gid, body)? else {
            return Ok(());
        };
        let envelopes = self.resend_batch(&theirs);
        if !envelopes.is_empty() {
            acc.packets.push(Packet {
                to: Destination::Member(from),
                kind: PacketKind::Resend,
                bytes: frame(
                    gid,
                    Kind::Resend,
                    &prost::Message::encode_to_vec(&BatchPb { envelopes }),
                ),
            });
        }
        let behind = theirs
            .iter()
            .any(|(m, s)| self.acb.delivered_seq_of(m).unwrap_or(0) < *s);
        let quiet = self
            .book
            .asked_back_ms
            .is_none_or(|t| now_ms.saturating_sub(t) >= ASK_BACK_MS);
        if behind && quiet {
            self.book.asked_back_ms = Some(now_ms);
            acc.packets.push(Packet {
                to: Destination::Member(from),
                kind: PacketKind::Sync,
                bytes: frame(gid, Kind::Sync, &self.sync_body_for(from)?),
            });
        }
        Ok(())
    }

    /// The envelopes a peer that delivered `theirs` lacks, oldest first,
    /// within the batch bounds.
    fn resend_batch(&self, theirs: &HashMap<MemberId, u64>) -> Vec<Bytes> {
        let mut envelopes = Vec::new();
        let mut bytes = 0usize;
        for id in self.book.lacking(theirs) {
            let Some(b) = self.acb.get_shared(&id.0) else {
                continue;
            };
            if envelopes.len() >= self.config.max_resend_batch.min(MAX_BATCH_ENVELOPES)
                || (!envelopes.is_empty() && bytes.saturating_add(b.len()) > MAX_RESEND_BYTES)
            {
                break;
            }
            bytes = bytes.saturating_add(b.len());
            envelopes.push(b);
        }
        envelopes
    }
}
