//! Queries about removals in a causal past, for the layers that must judge
//! a message by what its sender had seen (its transport-level causal past)
//! rather than by the DGM parents it declares: issue 10, items 1 and 2.
//!
//! - [`Dgm::is_removed_at`]: is an id removed in the cut `past(heads)`?
//!   A message whose causal past removes its own sender is not a message
//!   of the group.
//! - [`Dgm::in_past_of`]: is an op in `past(heads)`? A membership op must
//!   declare DGM parents whose past holds every membership op of its
//!   causal past (else it could, for example, trigger a strong-remove
//!   cascade of an add its author had seen).
//! - [`Dgm::removals_of`] and [`Dgm::has_seen`]: when every member has
//!   seen a removal, no message concurrent with it can still be
//!   legitimate, and DCGKA drops the removed member's ratchet.

use sgm_crypto::MemberId;

use crate::dgm::Dgm;
use crate::eval::Cut;
use crate::op::OpId;

impl Dgm {
    /// Whether `member` is removed (directly or by the strong-remove rule)
    /// in the membership over the inclusive causal past of `heads`. Unknown
    /// heads are ignored; no known head: false. O(log n) when `member` was
    /// never removed; otherwise one evaluation of the cut.
    pub fn is_removed_at(&self, heads: &[OpId], member: &MemberId) -> bool {
        if !self.ever_removed(member) {
            return false;
        }
        let idx: Vec<u32> = heads
            .iter()
            .filter_map(|h| self.index.get(h).copied())
            .collect();
        if idx.is_empty() {
            return false;
        }
        let past = self.union_past(&idx);
        Cut::new(self, &past).is_removed(member)
    }

    /// Whether `op` is one of `heads` or in their causal past. False for
    /// an unknown `op`. O(h) for a membership op; for an ack, a search as
    /// in [`Dgm::is_ancestor`].
    pub fn in_past_of(&self, heads: &[OpId], op: &OpId) -> bool {
        if !self.contains(op) {
            return false;
        }
        heads.iter().any(|h| h == op || self.is_ancestor(op, h))
    }

    /// The removes that remove `member` over everything applied (cascades
    /// included), in application order. Empty for an id never removed.
    pub fn removals_of(&self, member: &MemberId) -> Vec<OpId> {
        self.removers
            .get(member)
            .into_iter()
            .flatten()
            .filter_map(|k| self.memop_node(*k))
            .map(|n| n.op.id)
            .collect()
    }

    /// Every id removed somewhere in the applied history (unordered).
    /// O(1) per item, without building a set ([`Dgm::removed`] does).
    pub fn removed_ids(&self) -> impl Iterator<Item = MemberId> + '_ {
        self.removers.keys().copied()
    }

    /// Whether every current member except `except` has seen the
    /// membership op `op` ([`Dgm::has_seen`]). Stops at the first that
    /// has not: O(n) at worst.
    pub fn seen_by_all(&self, op: &OpId, except: &MemberId) -> bool {
        self.memop_index(op).is_some_and(|k| {
            self.members_iter()
                .filter(|m| *m != except)
                .all(|m| self.seen.get(m).is_some_and(|s| s.contains(k as usize)))
        })
    }

    fn memop_index(&self, op: &OpId) -> Option<u32> {
        self.index
            .get(op)
            .and_then(|i| self.node(*i))
            .and_then(|n| n.memop)
    }

    /// Whether `member` has seen the membership op `op`: it is in the
    /// causal past of one of `member`'s own ops or of the op that added
    /// it. False for an ack or an unknown op.
    pub fn has_seen(&self, member: &MemberId, op: &OpId) -> bool {
        let Some(k) = self.memop_index(op) else {
            return false;
        };
        self.seen
            .get(member)
            .is_some_and(|s| s.contains(k as usize))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::op::{Op, OpKind};

    fn id(n: u8) -> OpId {
        OpId([n; 32])
    }

    #[test]
    fn removal_in_a_causal_past() {
        let [a, b, c, d] = [1u8, 2, 3, 4].map(|i| MemberId::from_bytes([i; 16]));
        let mut dgm = Dgm::new();
        let op = |n, author, parents: Vec<OpId>, kind| Op {
            id: id(n),
            author,
            parents,
            kind,
        };
        dgm.apply(op(
            1,
            a,
            vec![],
            OpKind::Create {
                members: vec![a, b, c],
            },
        ))
        .unwrap();
        // c adds d concurrently with b removing c.
        dgm.apply(op(2, c, vec![id(1)], OpKind::Add { members: vec![d] }))
            .unwrap();
        dgm.apply(op(3, b, vec![id(1)], OpKind::Remove { members: vec![c] }))
            .unwrap();
        dgm.apply(op(4, a, vec![id(3)], OpKind::Ack)).unwrap();
        assert!(!dgm.is_removed_at(&[id(1)], &c));
        assert!(!dgm.is_removed_at(&[id(2)], &c));
        assert!(dgm.is_removed_at(&[id(3)], &c));
        assert!(dgm.is_removed_at(&[id(4)], &c));
        // d: cascaded out in a cut that holds its add and the remove.
        assert!(!dgm.is_removed_at(&[id(3)], &d));
        assert!(dgm.is_removed_at(&[id(2), id(3)], &d));
        assert!(!dgm.is_removed_at(&[id(9)], &c));
        assert_eq!(dgm.removals_of(&c), vec![id(3)]);
        assert_eq!(dgm.removals_of(&d), vec![id(3)]);
        assert!(dgm.removals_of(&a).is_empty());
        assert!(dgm.in_past_of(&[id(4)], &id(1)));
        assert!(dgm.in_past_of(&[id(4)], &id(4)));
        assert!(!dgm.in_past_of(&[id(4)], &id(2)));
        assert!(dgm.has_seen(&a, &id(3)));
        assert!(dgm.has_seen(&b, &id(3)));
        assert!(!dgm.has_seen(&c, &id(3)));
        assert!(dgm.has_seen(&d, &id(2)));
        assert!(!dgm.has_seen(&a, &id(4)));
    }
}
