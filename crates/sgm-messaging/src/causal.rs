//! Membership judged at a message's causal past (issue 10, items 1, 2).
//!
//! ACB delivers a broadcast after its causal past (its parents, and
//! theirs). The book keeps, for every delivered create, add and remove,
//! its DGM op id and `(sender, ACB seq)` ([`Book::memops`], persisted,
//! one entry per membership op like the DGM itself), so the membership
//! ops in a message's causal past are those its version vector covers.
//! With them:
//!
//! - ACB's membership check ([`CausalMembership`]) refuses a broadcast
//!   whose causal past removes its sender: a member that delivered its own
//!   removal has stopped, so such a broadcast comes from a removed member
//!   that kept (or rebuilt) its state. It is never delivered, nothing
//!   depending on it is, and the application gets
//!   [`crate::Warning::SentAfterRemoval`].
//! - DCGKA checks each control message against the same past
//!   (`Dcgka::check_causal_past`: sender not removed there, and the DGM
//!   parents an add or remove declares cover every membership op of it)
//!   and decrypts with `Dcgka::decrypt_in_past`.
//!
//! **Concurrent removes reach the removed (item 11).** A member stops
//! talking to the members it saw removed, but one of them may have sent,
//! concurrently with its removal, an operation this member still lacks —
//! a remove of this member, say, whose packet was lost. Members removed
//! in the last [`REMOVED_PEER_SYNC_MS`] therefore stay sync peers
//! ([`Group::sync_peers`]); a removed member still answers sync requests
//! from members it knows. Without this, three members removing each other
//! in a ring could each end up a "member" of a group of one, and
//! newcomers added concurrently by one of them would keep an outdated
//! member list.
//!
//! Broadcasts this member never saw (from before its checkpoint) are
//! missing from the book: their membership ops are in the past of the add
//! that added this member, which is recorded, so nothing is lost for the
//! checks (they evaluate the DGM cut, not the list).

use sgm_acb::{MembershipCheck, MessageId};
use sgm_crypto::MemberId;
use sgm_dcgka::Dcgka;
use sgm_dgm::OpId;

use crate::book::Book;
use crate::group::Group;
use crate::ids::{Hex, Mid, Mix};
use crate::vv::Vv;

/// ACB's membership check: a registered card, and not removed in the
/// message's causal past.
pub(crate) struct CausalMembership<'a> {
    pub(crate) book: &'a Book,
    pub(crate) dcgka: &'a Dcgka,
}

impl MembershipCheck for CausalMembership<'_> {
    fn is_member(&self, sender: &MemberId, parents: &[MessageId]) -> bool {
        if !self.book.cards.contains_key(&Mid(*sender)) {
            return false;
        }
        // O(log n) for a sender never removed (every honest message).
        if !ever_removed(self.dcgka, sender) {
            return true;
        }
        let past = self.book.memops_in_parents(parents);
        !self.dcgka.removed_in_past(sender, &past)
    }
}

/// Whether `member` was removed somewhere in the applied history.
pub(crate) fn ever_removed(dcgka: &Dcgka, member: &MemberId) -> bool {
    dcgka
        .dgm()
        .is_some_and(|d| !d.removals_of(member).is_empty())
}

impl Book {
    /// Records a delivered create, add or remove (its DGM op id and its
    /// broadcast's `(sender, ACB seq)`).
    pub(crate) fn note_memop(&mut self, op: [u8; 32], sender: MemberId, seq: u64) {
        if !self.memops.iter().any(|(o, _, _)| o.0 == op) {
            self.memops.push((Hex(op.to_vec()), Mid(sender), seq));
        }
    }

    /// The recorded membership ops in the causal past described by `vv`,
    /// except `skip` (the message's own op).
    pub(crate) fn memops_in_vv(&self, vv: &Vv, skip: Option<&OpId>) -> Vec<OpId> {
        self.memops
            .iter()
            .filter(|(_, s, seq)| self.covers(vv, s, *seq))
            .filter_map(|(o, _, _)| <[u8; 32]>::try_from(o.0.as_slice()).ok().map(OpId))
            .filter(|o| Some(o) != skip)
            .collect()
    }

    /// The recorded membership ops in the causal past of `parents` (all
    /// delivered). A parent without a summary (evicted, or from before
    /// this member's checkpoint) stands for the checkpoint's past.
    pub(crate) fn memops_in_parents(&self, parents: &[MessageId]) -> Vec<OpId> {
        let known: Vec<&Vv> = parents
            .iter()
            .filter_map(|p| self.meta.get(&Mix(*p)))
            .map(|m| &m.vv)
            .collect();
        let base = self.base.as_ref().filter(|_| known.len() < parents.len());
        let vv = Vv::merge(known.into_iter().chain(base), None, self.index.len());
        self.memops_in_vv(&vv, None)
    }
}

/// How long a removed member stays a sync peer after this member processed
/// its removal (see the module docs). A removed member unreachable for
/// longer can leave what it sent concurrently with its removal undelivered
/// here.
pub const REMOVED_PEER_SYNC_MS: u64 = 120_000;

impl Book {
    /// Notes that `removed` left the membership at `now_ms`; forgets
    /// removals older than [`REMOVED_PEER_SYNC_MS`].
    pub(crate) fn note_removed(&mut self, removed: &[MemberId], now_ms: u64) {
        self.removed_at
            .retain(|_, t| now_ms.saturating_sub(*t) <= REMOVED_PEER_SYNC_MS);
        for m in removed {
            self.removed_at.insert(Mid(*m), now_ms);
        }
    }
}

impl Group {
    /// The peers to send sync requests to ([`Group::sync_request`]): the
    /// other members, and the members removed in the last
    /// [`REMOVED_PEER_SYNC_MS`] (what they sent concurrently with their
    /// removal may still be missing here). Empty once this member is
    /// removed.
    pub fn sync_peers(&self, now_ms: u64) -> Vec<MemberId> {
        if !self.is_member() {
            return Vec::new();
        }
        let me = self.me();
        let mut peers: Vec<MemberId> = self.members().into_iter().filter(|m| *m != me).collect();
        for (m, t) in &self.book.removed_at {
            if now_ms.saturating_sub(*t) <= REMOVED_PEER_SYNC_MS
                && m.0 != me
                && !peers.contains(&m.0)
            {
                peers.push(m.0);
            }
        }
        peers
    }
}
