//! The DGM state: the applied op DAG, its indexes, and the incrementally
//! maintained membership over all applied ops.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use sgm_crypto::MemberId;

use crate::bits::Bits;
use crate::error::DgmError;
use crate::eval::Cut;
use crate::op::{MAX_PARENTS, MAX_TARGETS, Op, OpId, OpKind};

/// What [`Dgm::apply`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The op.
    pub op: OpId,
    /// The op had been applied before with the same content; nothing changed.
    pub duplicate: bool,
    /// Ids that are members now and were not before ([`Dgm::members`]).
    pub joined: BTreeSet<MemberId>,
    /// Ids that were members before and are not now: the targets of a
    /// `Remove` and everyone the strong-remove rule removed with them.
    pub left: BTreeSet<MemberId>,
    /// For an `Add`: targets that are not members after it, because a
    /// concurrent remove of its author (or of the author's adder, …) already
    /// cancels it.
    pub cancelled: BTreeSet<MemberId>,
}

impl Applied {
    fn empty(op: OpId) -> Self {
        Self {
            op,
            duplicate: false,
            joined: BTreeSet::new(),
            left: BTreeSet::new(),
            cancelled: BTreeSet::new(),
        }
    }
}

/// One applied op and what is precomputed about it.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) op: Op,
    /// Node indices of the parents.
    pub(crate) parents: Vec<u32>,
    /// Membership ops in the inclusive causal past (indices into `memops`).
    pub(crate) mpast: Arc<Bits>,
    /// This op's index in `memops`, if it is a membership op.
    pub(crate) memop: Option<u32>,
    /// Length of the longest parent chain down to the create.
    pub(crate) depth: u32,
}

/// Decentralized group membership: a deterministic function from a causal
/// DAG of membership ops to member sets. See the crate docs for the rules.
///
/// A plain value: `Clone`, encodable with [`Dgm::to_bytes`] and restorable
/// with [`Dgm::from_bytes`].
#[derive(Clone, Debug, Default)]
pub struct Dgm {
    /// Applied ops in application order (a topological order).
    pub(crate) nodes: Vec<Node>,
    pub(crate) index: HashMap<OpId, u32>,
    /// Node index of each membership op, in application order.
    pub(crate) memops: Vec<u32>,
    pub(crate) create: Option<u32>,
    heads: BTreeSet<OpId>,
    /// The membership ops no other applied membership op has in its causal
    /// past (see [`Dgm::membership_heads`]).
    membership_heads: BTreeSet<OpId>,
    /// Membership ops (create/add) that add each id.
    pub(crate) adders_of: HashMap<MemberId, Vec<u32>>,
    /// `Add` ops authored by each id.
    pub(crate) adds_by: HashMap<MemberId, Vec<u32>>,
    /// Per id: the membership ops in the causal past of its own ops and of
    /// the ops that added it (what it has seen).
    pub(crate) seen: HashMap<MemberId, Arc<Bits>>,
    // Evaluation over everything applied, maintained incrementally.
    members: BTreeSet<MemberId>,
    /// Per remove (memop index): everyone it removes, cascades included.
    removed_by: HashMap<u32, BTreeSet<MemberId>>,
    /// Per id: the removes (memop indices) that remove it.
    pub(crate) removers: HashMap<MemberId, Vec<u32>>,
}

impl Dgm {
    /// An empty DGM; the first op applied must be the `Create`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one op. Its parents must have been applied (causal
    /// delivery). Transactional: on error nothing changes.
    ///
    /// Re-applying an op with the same id and content is a no-op that returns
    /// `Applied { duplicate: true, .. }`.
    ///
    /// Cost: O(p + M/64) for p parents and M membership ops applied so far,
    /// plus, for a membership op, the cascade work of the strong-remove rule
    /// (proportional to the members it removes). Only an op that involves an
    /// id removed somewhere in the history and whose author has not seen all
    /// membership ops pays for one evaluation of its causal past, O(M + T)
    /// for T targets in that past.
    pub fn apply(&mut self, op: Op) -> Result<Applied, DgmError> {
        if let Some(&i) = self.index.get(&op.id) {
            return match self.nodes.get(i as usize) {
                Some(node) if node.op == op => Ok(Applied {
                    duplicate: true,
                    ..Applied::empty(op.id)
                }),
                _ => Err(DgmError::ConflictingDuplicate { op: op.id }),
            };
        }
        let (past, parents) = match self.validate(&op) {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(op = %op.id, error = %e, "dgm: op rejected");
                return Err(e);
            }
        };
        Ok(self.commit(op, past, parents))
    }

    /// Checks `op` against the current state; returns the membership ops in
    /// its strict causal past and its parents' node indices.
    fn validate(&self, op: &Op) -> Result<(Arc<Bits>, Vec<u32>), DgmError> {
        let id = op.id;
        if op.parents.len() > MAX_PARENTS {
            return Err(DgmError::TooManyParents {
                op: id,
                count: op.parents.len(),
                max: MAX_PARENTS,
            });
        }
        let targets = op.kind.targets();
        if targets.len() > MAX_TARGETS {
            return Err(DgmError::TooManyTargets {
                op: id,
                count: targets.len(),
                max: MAX_TARGETS,
            });
        }
        if op.kind.is_membership_change() {
            if targets.is_empty() {
                return Err(DgmError::EmptyBatch { op: id });
            }
            let mut distinct = BTreeSet::new();
            for m in targets {
                if !distinct.insert(m) {
                    return Err(DgmError::DuplicateTarget { op: id, member: *m });
                }
            }
        }

        if let OpKind::Create { members } = &op.kind {
            if !op.parents.is_empty() {
                return Err(DgmError::CreateWithParents { op: id });
            }
            if let Some(existing) = self.create.and_then(|c| self.nodes.get(c as usize)) {
                return Err(DgmError::DuplicateCreate {
                    op: id,
                    existing: existing.op.id,
                });
            }
            if !members.contains(&op.author) {
                return Err(DgmError::CreatorNotMember {
                    op: id,
                    author: op.author,
                });
            }
            return Ok((Arc::new(Bits::default()), Vec::new()));
        }

        if op.parents.is_empty() {
            return Err(DgmError::NoParents { op: id });
        }
        let mut parents = Vec::with_capacity(op.parents.len());
        let mut distinct = HashSet::with_capacity(op.parents.len());
        for p in &op.parents {
            if !distinct.insert(p) {
                return Err(DgmError::DuplicateParent { op: id, parent: *p });
            }
            match self.index.get(p) {
                Some(&i) => parents.push(i),
                None => return Err(DgmError::UnknownParent { op: id, parent: *p }),
            }
        }
        let past = self.union_past(&parents);
        let cut = Cut::new(self, &past);

        if !cut.is_member(&op.author) {
            return Err(DgmError::NotAMember {
                op: id,
                author: op.author,
            });
        }
        match &op.kind {
            OpKind::Add { members } => {
                for m in members {
                    if cut.is_known(m) {
                        return Err(if cut.is_removed(m) {
                            DgmError::ReAddOfRemoved { op: id, member: *m }
                        } else {
                            DgmError::AlreadyMember { op: id, member: *m }
                        });
                    }
                }
            }
            OpKind::Remove { members } => {
                for m in members {
                    if !cut.is_known(m) {
                        return Err(DgmError::RemoveOfUnknown { op: id, member: *m });
                    }
                    if cut.is_removed(m) {
                        return Err(DgmError::AlreadyRemoved { op: id, member: *m });
                    }
                }
            }
            OpKind::Create { .. } | OpKind::Ack => {}
        }
        Ok((past, parents))
    }

    /// The union of the parents' membership pasts, sharing an existing set
    /// when one parent's covers the others' (the common case).
    pub(crate) fn union_past(&self, parents: &[u32]) -> Arc<Bits> {
        let mut acc: Option<Arc<Bits>> = None;
        for p in parents {
            let Some(node) = self.nodes.get(*p as usize) else {
                continue;
            };
            acc = Some(match acc {
                None => Arc::clone(&node.mpast),
                Some(a) if node.mpast.is_subset(&a) => a,
                Some(a) if a.is_subset(&node.mpast) => Arc::clone(&node.mpast),
                Some(a) => {
                    let mut u = (*a).clone();
                    u.union_with(&node.mpast);
                    Arc::new(u)
                }
            });
        }
        acc.unwrap_or_default()
    }

    /// Records a validated op and updates the membership incrementally.
    fn commit(&mut self, op: Op, past: Arc<Bits>, parents: Vec<u32>) -> Applied {
        let node_idx = self.nodes.len() as u32;
        let depth = parents
            .iter()
            .filter_map(|p| self.nodes.get(*p as usize))
            .map(|n| n.depth.saturating_add(1))
            .max()
            .unwrap_or(0);
        let (memop, mpast) = if op.kind.is_membership_change() {
            let k = self.memops.len() as u32;
            // Membership heads the new op has in its past stop being heads.
            let (index, nodes) = (&self.index, &self.nodes);
            self.membership_heads.retain(|h| {
                let memop = index
                    .get(h)
                    .and_then(|i| nodes.get(*i as usize))
                    .and_then(|n| n.memop);
                !memop.is_some_and(|m| past.contains(m as usize))
            });
            self.membership_heads.insert(op.id);
            self.memops.push(node_idx);
            let mut b = (*past).clone();
            b.insert(k as usize);
            (Some(k), Arc::new(b))
        } else {
            (None, past)
        };

        for p in &op.parents {
            self.heads.remove(p);
        }
        self.heads.insert(op.id);
        self.index.insert(op.id, node_idx);
        Self::note_seen(&mut self.seen, op.author, &mpast);

        let mut applied = Applied::empty(op.id);
        let mut was_member: BTreeMap<MemberId, bool> = BTreeMap::new();
        if let Some(k) = memop {
            match &op.kind {
                OpKind::Create { members } | OpKind::Add { members } => {
                    for m in members {
                        self.adders_of.entry(*m).or_default().push(k);
                        Self::note_seen(&mut self.seen, *m, &mpast);
                    }
                }
                OpKind::Remove { .. } | OpKind::Ack => {}
            }
            if let OpKind::Add { .. } = &op.kind {
                self.adds_by.entry(op.author).or_default().push(k);
            }
        }
        let kind = op.kind.clone();
        self.nodes.push(Node {
            op,
            parents,
            mpast,
            memop,
            depth,
        });

        let Some(k) = memop else {
            return applied;
        };
        match &kind {
            OpKind::Create { members } | OpKind::Add { members } => {
                for m in members {
                    was_member
                        .entry(*m)
                        .or_insert_with(|| self.members.contains(m));
                    if !self.removers.contains_key(m) {
                        self.members.insert(*m);
                    }
                }
                if let OpKind::Add { .. } = &kind {
                    // A new add is never in the past of an earlier remove, so
                    // every remove of its author cancels it.
                    let author = self.nodes.get(node_idx as usize).map(|n| n.op.author);
                    let removes = author
                        .and_then(|a| self.removers.get(&a))
                        .cloned()
                        .unwrap_or_default();
                    for r in removes {
                        self.cascade(r, members, &mut was_member);
                    }
                }
                for m in members {
                    if !self.members.contains(m) {
                        applied.cancelled.insert(*m);
                    }
                }
            }
            OpKind::Remove { members } => {
                self.removed_by.insert(k, BTreeSet::new());
                self.cascade(k, members, &mut was_member);
            }
            OpKind::Ack => {}
        }
        if let OpKind::Create { .. } = &kind {
            self.create = Some(node_idx);
        }
        for (m, was) in was_member {
            let is = self.members.contains(&m);
            if is && !was {
                applied.joined.insert(m);
            } else if was && !is {
                applied.left.insert(m);
            }
        }
        applied
    }

    fn note_seen(seen: &mut HashMap<MemberId, Arc<Bits>>, who: MemberId, mpast: &Arc<Bits>) {
        let entry = seen.entry(who).or_default();
        if entry.is_subset(mpast) {
            *entry = Arc::clone(mpast);
        } else if !mpast.is_subset(entry) {
            let mut u = (**entry).clone();
            u.union_with(mpast);
            *entry = Arc::new(u);
        }
    }

    /// Strong remove over everything applied: remove `r` removes `start`,
    /// and whoever was added, by someone it removes, in an add that `r`'s
    /// author had not seen.
    fn cascade(&mut self, r: u32, start: &[MemberId], was_member: &mut BTreeMap<MemberId, bool>) {
        let r_past = self
            .memops
            .get(r as usize)
            .and_then(|n| self.nodes.get(*n as usize))
            .map(|n| Arc::clone(&n.mpast))
            .unwrap_or_default();
        let mut stack: Vec<MemberId> = start.to_vec();
        while let Some(x) = stack.pop() {
            let set = self.removed_by.entry(r).or_default();
            if !set.insert(x) {
                continue;
            }
            self.removers.entry(x).or_default().push(r);
            was_member
                .entry(x)
                .or_insert_with(|| self.members.contains(&x));
            self.members.remove(&x);
            for a in self.adds_by.get(&x).into_iter().flatten() {
                if r_past.contains(*a as usize) {
                    continue;
                }
                if let Some(node) = self
                    .memops
                    .get(*a as usize)
                    .and_then(|n| self.nodes.get(*n as usize))
                {
                    stack.extend_from_slice(node.op.kind.targets());
                }
            }
        }
    }

    /// The current members: the DGM function over every applied op. O(n)
    /// to copy; see [`Dgm::is_member`] for a single lookup.
    pub fn members(&self) -> BTreeSet<MemberId> {
        self.members.clone()
    }

    /// The current members, without a copy.
    pub(crate) fn members_iter(&self) -> impl Iterator<Item = &MemberId> {
        self.members.iter()
    }

    /// Whether `member` is a current member. O(log n).
    pub fn is_member(&self, member: &MemberId) -> bool {
        self.members.contains(member)
    }

    /// Every id ever removed (directly or by the strong-remove rule) over
    /// all applied ops. Removal is permanent.
    pub fn removed(&self) -> BTreeSet<MemberId> {
        self.removers.keys().copied().collect()
    }

    /// The membership as `member` saw it: the DGM function over the causal
    /// past (inclusive) of `member`'s latest op, or, if it has issued none,
    /// of the op(s) that added it (a new member has seen the history in its
    /// welcome). If `member` issued concurrent ops (a fork), the union of
    /// their pasts. Empty for an id never added.
    ///
    /// Cost: O(n) when `member` has seen every membership op (the common
    /// case: a copy of [`Dgm::members`]); otherwise one evaluation of its
    /// past, O(M/64 + T + cascades) for M membership ops with T targets.
    pub fn member_view(&self, member: &MemberId) -> BTreeSet<MemberId> {
        match self.seen.get(member) {
            Some(s) => self.eval_bits(s),
            None => BTreeSet::new(),
        }
    }

    /// The membership over the causal past (inclusive) of `heads`. Ids
    /// never applied are ignored; no known head gives the empty set.
    /// Same cost as [`Dgm::member_view`], plus O(h·M/64) for h heads.
    pub fn view_at(&self, heads: &[OpId]) -> BTreeSet<MemberId> {
        let idx: Vec<u32> = heads
            .iter()
            .filter_map(|h| self.index.get(h).copied())
            .collect();
        if idx.is_empty() {
            return BTreeSet::new();
        }
        let past = self.union_past(&idx);
        self.eval_bits(&past)
    }

    /// Whether `member` is in [`Dgm::view_at`]`(heads)`, without building
    /// the view (a copy of O(members) per call: DCGKA asks this for every
    /// add-ack it processes, n times per add at n members).
    pub fn is_member_at(&self, heads: &[OpId], member: &MemberId) -> bool {
        let idx: Vec<u32> = heads
            .iter()
            .filter_map(|h| self.index.get(h).copied())
            .collect();
        if idx.is_empty() {
            return false;
        }
        let past = self.union_past(&idx);
        if past.is_full(self.memops.len()) {
            return self.members.contains(member);
        }
        Cut::new(self, &past).is_member(member)
    }

    fn eval_bits(&self, s: &Bits) -> BTreeSet<MemberId> {
        if s.is_full(self.memops.len()) {
            return self.members.clone();
        }
        Cut::new(self, s).members()
    }

    /// The current DAG heads, sorted: the parents of the next local op.
    pub fn heads(&self) -> Vec<OpId> {
        self.heads.iter().copied().collect()
    }

    /// The membership ops (create, add, remove) that no other applied
    /// membership op has in its causal past, sorted.
    ///
    /// As the parents of a new op they give it the same membership past as
    /// [`Dgm::heads`] do (every membership op applied here is one of them or
    /// in the past of one), and membership, views and every check of
    /// [`Dgm::apply`] depend on an op's membership past only. Their number
    /// is bounded by the concurrent membership ops, not by the concurrent
    /// acks: after everyone acks a remove, `heads` holds every member's ack
    /// and this holds the remove alone.
    pub fn membership_heads(&self) -> Vec<OpId> {
        self.membership_heads.iter().copied().collect()
    }

    /// Whether `a` is a strict causal ancestor of `b` (`a` happened before
    /// `b`). False if `a == b` or either is unknown.
    ///
    /// O(1) when `a` is a membership op; for an `Ack`, a backward search from
    /// `b` pruned to ops applied after `a` and deeper than it.
    pub fn is_ancestor(&self, a: &OpId, b: &OpId) -> bool {
        let (Some(&ia), Some(&ib)) = (self.index.get(a), self.index.get(b)) else {
            return false;
        };
        if ia >= ib {
            return false;
        }
        let (Some(na), Some(nb)) = (self.nodes.get(ia as usize), self.nodes.get(ib as usize))
        else {
            return false;
        };
        if let Some(k) = na.memop {
            return nb.mpast.contains(k as usize);
        }
        if na.depth >= nb.depth || !na.mpast.is_subset(&nb.mpast) {
            return false;
        }
        let mut visited = HashSet::new();
        let mut stack = vec![ib];
        while let Some(i) = stack.pop() {
            let Some(n) = self.nodes.get(i as usize) else {
                continue;
            };
            for &p in &n.parents {
                if p == ia {
                    return true;
                }
                let deeper = self
                    .nodes
                    .get(p as usize)
                    .is_some_and(|pn| pn.depth > na.depth);
                if p > ia && deeper && visited.insert(p) {
                    stack.push(p);
                }
            }
        }
        false
    }

    /// Whether `a` and `b` are distinct known ops neither of which happened
    /// before the other.
    pub fn is_concurrent(&self, a: &OpId, b: &OpId) -> bool {
        a != b
            && self.contains(a)
            && self.contains(b)
            && !self.is_ancestor(a, b)
            && !self.is_ancestor(b, a)
    }

    /// Whether an op with this id was applied.
    pub fn contains(&self, id: &OpId) -> bool {
        self.index.contains_key(id)
    }

    /// The applied op with this id.
    pub fn get(&self, id: &OpId) -> Option<&Op> {
        self.index
            .get(id)
            .and_then(|i| self.nodes.get(*i as usize))
            .map(|n| &n.op)
    }

    /// Applied ops in application order (a topological order of the DAG).
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.nodes.iter().map(|n| &n.op)
    }

    /// Number of applied ops.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether nothing was applied yet.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The id of the `Create`, once applied.
    pub fn create_id(&self) -> Option<OpId> {
        self.create
            .and_then(|c| self.nodes.get(c as usize))
            .map(|n| n.op.id)
    }

    /// Everyone a `Remove` removes over all applied ops, strong-remove
    /// cascades included. `None` if `id` is not an applied `Remove`.
    pub fn removed_by(&self, id: &OpId) -> Option<BTreeSet<MemberId>> {
        let node = self
            .index
            .get(id)
            .and_then(|i| self.nodes.get(*i as usize))?;
        let k = node.memop?;
        self.removed_by.get(&k).cloned()
    }

    /// Every id ever added (or created), current or removed.
    pub fn known_members(&self) -> BTreeSet<MemberId> {
        self.adders_of.keys().copied().collect()
    }

    pub(crate) fn node(&self, i: u32) -> Option<&Node> {
        self.nodes.get(i as usize)
    }

    pub(crate) fn memop_node(&self, k: u32) -> Option<&Node> {
        self.memops.get(k as usize).and_then(|n| self.node(*n))
    }

    /// Ids removed somewhere in the applied history (cheap pre-check before
    /// evaluating a cut).
    pub(crate) fn ever_removed(&self, m: &MemberId) -> bool {
        self.removers.contains_key(m)
    }

    pub(crate) fn memop_count(&self) -> usize {
        self.memops.len()
    }

    /// Membership-op words stored, for cost reporting in docs/benches.
    pub fn storage_words(&self) -> usize {
        let mut seen = HashSet::new();
        self.nodes
            .iter()
            .filter(|n| seen.insert(Arc::as_ptr(&n.mpast)))
            .map(|n| n.mpast.word_count())
            .sum()
    }
}
