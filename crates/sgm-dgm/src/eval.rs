//! The DGM function over a causal cut, evaluated from scratch.
//!
//! A cut is a downward-closed set of ops, given by the membership ops it
//! contains (acks change no membership, so they need not be listed). This
//! is the definition the incremental state in [`crate::Dgm`] must agree
//! with; the property tests check both against a naive oracle.

use std::cell::OnceCell;
use std::collections::BTreeSet;

use sgm_crypto::MemberId;

use crate::bits::Bits;
use crate::dgm::Dgm;
use crate::op::OpKind;

/// A causal cut of a [`Dgm`] with lazily evaluated removals.
pub(crate) struct Cut<'a> {
    dgm: &'a Dgm,
    bits: &'a Bits,
    full: bool,
    removed: OnceCell<BTreeSet<MemberId>>,
}

impl<'a> Cut<'a> {
    pub(crate) fn new(dgm: &'a Dgm, bits: &'a Bits) -> Self {
        Self {
            dgm,
            bits,
            full: bits.is_full(dgm.memop_count()),
            removed: OnceCell::new(),
        }
    }

    /// Whether some create/add of `m` is in the cut.
    pub(crate) fn is_known(&self, m: &MemberId) -> bool {
        self.dgm
            .adders_of
            .get(m)
            .is_some_and(|ks| ks.iter().any(|k| self.bits.contains(*k as usize)))
    }

    /// Whether some remove in the cut removes `m` (cascades included).
    pub(crate) fn is_removed(&self, m: &MemberId) -> bool {
        // Removal is monotone in the cut: never removed over everything
        // applied means never removed in any cut.
        if !self.dgm.ever_removed(m) {
            return false;
        }
        if self.full {
            return true;
        }
        self.removed().contains(m)
    }

    pub(crate) fn is_member(&self, m: &MemberId) -> bool {
        self.is_known(m) && !self.is_removed(m)
    }

    /// The members of the cut: added and not removed.
    pub(crate) fn members(&self) -> BTreeSet<MemberId> {
        let removed = self.removed();
        let mut out = BTreeSet::new();
        for k in self.bits.iter() {
            let Some(node) = self.dgm.memop_node(k as u32) else {
                continue;
            };
            if let OpKind::Create { members } | OpKind::Add { members } = &node.op.kind {
                out.extend(members.iter().filter(|m| !removed.contains(*m)));
            }
        }
        out
    }

    fn removed(&self) -> &BTreeSet<MemberId> {
        self.removed.get_or_init(|| self.compute_removed())
    }

    /// Strong remove restricted to the cut: each remove `r` in the cut
    /// removes its targets and, transitively, the targets of every add in
    /// the cut that is authored by someone `r` removes and is not in `r`'s
    /// causal past.
    fn compute_removed(&self) -> BTreeSet<MemberId> {
        let mut removed = BTreeSet::new();
        for k in self.bits.iter() {
            let Some(r) = self.dgm.memop_node(k as u32) else {
                continue;
            };
            let OpKind::Remove { members } = &r.op.kind else {
                continue;
            };
            let mut by_r: BTreeSet<MemberId> = BTreeSet::new();
            let mut stack: Vec<MemberId> = members.clone();
            while let Some(x) = stack.pop() {
                if !by_r.insert(x) {
                    continue;
                }
                removed.insert(x);
                for a in self.dgm.adds_by.get(&x).into_iter().flatten() {
                    let a = *a as usize;
                    if self.bits.contains(a)
                        && !r.mpast.contains(a)
                        && let Some(add) = self.dgm.memop_node(a as u32)
                    {
                        stack.extend_from_slice(add.op.kind.targets());
                    }
                }
            }
        }
        removed
    }
}
