//! Property: for random causal histories of adds, removes and acks among up
//! to 12 members, every linear extension (delivery order) gives the same
//! membership, the same member_view for every member and the same view_at;
//! and all of them equal a naive oracle written straight from the rules in
//! docs/dgm.md. Honours PROPTEST_CASES.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{m, oid, topo_shuffle};
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use sgm_dgm::{Dgm, MemberId, Op, OpId, OpKind};

const POOL: &str = "ABCDEFGHIJKL";

fn pick<'a, T>(rng: &mut ChaCha8Rng, v: &'a [T]) -> &'a T {
    &v[(rng.next_u64() % v.len() as u64) as usize]
}

/// A random valid history: every op is accepted by the DGM when generated.
fn history(seed: u64, len: usize) -> Vec<Op> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pool: Vec<MemberId> = POOL.chars().map(m).collect();
    let mut dgm = Dgm::new();
    let mut ops = Vec::new();
    let initial = 2 + (rng.next_u32() % 4) as usize;
    let create = Op {
        id: oid(0),
        author: pool[0],
        parents: vec![],
        kind: OpKind::Create {
            members: pool[..initial].to_vec(),
        },
    };
    dgm.apply(create.clone()).unwrap();
    ops.push(create);
    let mut n = 1;
    let mut attempts = 0;
    while ops.len() < len && attempts < len * 20 {
        attempts += 1;
        // Parents: 1-3 distinct ops among the 8 most recent.
        let recent: Vec<OpId> = ops.iter().rev().take(8).map(|o| o.id).collect();
        let mut parents: Vec<OpId> = Vec::new();
        for _ in 0..1 + rng.next_u32() % 3 {
            let p = *pick(&mut rng, &recent);
            if !parents.contains(&p) {
                parents.push(p);
            }
        }
        let view: Vec<MemberId> = dgm.view_at(&parents).into_iter().collect();
        if view.is_empty() {
            continue;
        }
        let author = *pick(&mut rng, &view);
        let kind = match rng.next_u32() % 10 {
            0..=3 => OpKind::Ack,
            4..=6 => {
                let mut members = vec![*pick(&mut rng, &pool)];
                if rng.next_u32() % 3 == 0 {
                    let x = *pick(&mut rng, &pool);
                    if !members.contains(&x) {
                        members.push(x);
                    }
                }
                OpKind::Add { members }
            }
            _ => {
                let mut members = vec![*pick(&mut rng, &view)];
                if rng.next_u32() % 4 == 0 {
                    let x = *pick(&mut rng, &view);
                    if !members.contains(&x) {
                        members.push(x);
                    }
                }
                OpKind::Remove { members }
            }
        };
        let op = Op {
            id: oid(n),
            author,
            parents,
            kind,
        };
        if dgm.apply(op.clone()).is_ok() {
            n += 1;
            ops.push(op);
        }
    }
    ops
}

/// The rules of docs/dgm.md, evaluated naively from the op list.
struct Oracle<'a> {
    ops: HashMap<OpId, &'a Op>,
    past: HashMap<OpId, BTreeSet<OpId>>,
}

impl<'a> Oracle<'a> {
    fn new(list: &'a [Op]) -> Self {
        let ops: HashMap<OpId, &Op> = list.iter().map(|o| (o.id, o)).collect();
        let mut past: HashMap<OpId, BTreeSet<OpId>> = HashMap::new();
        for op in list {
            // Inclusive causal past by explicit search.
            let mut seen = BTreeSet::new();
            let mut stack = vec![op.id];
            while let Some(x) = stack.pop() {
                if seen.insert(x) {
                    stack.extend(ops[&x].parents.iter().copied());
                }
            }
            past.insert(op.id, seen);
        }
        Self { ops, past }
    }

    fn eval(&self, cut: &BTreeSet<OpId>) -> BTreeSet<MemberId> {
        let mut added = BTreeSet::new();
        let mut removed = BTreeSet::new();
        for id in cut {
            if let OpKind::Create { members } | OpKind::Add { members } = &self.ops[id].kind {
                added.extend(members.iter().copied());
            }
        }
        for r in cut {
            let OpKind::Remove { members } = &self.ops[r].kind else {
                continue;
            };
            let mut by_r: BTreeSet<MemberId> = members.iter().copied().collect();
            loop {
                let mut grew = false;
                for a in cut {
                    let op = self.ops[a];
                    if let OpKind::Add { members } = &op.kind
                        && by_r.contains(&op.author)
                        && !self.past[r].contains(a)
                    {
                        for x in members {
                            grew |= by_r.insert(*x);
                        }
                    }
                }
                if !grew {
                    break;
                }
            }
            removed.extend(by_r);
        }
        added.difference(&removed).copied().collect()
    }

    fn all(&self) -> BTreeSet<OpId> {
        self.ops.keys().copied().collect()
    }

    fn cut_of(&self, heads: &[OpId]) -> BTreeSet<OpId> {
        heads
            .iter()
            .flat_map(|h| self.past[h].iter().copied())
            .collect()
    }

    fn seen_by(&self, who: &MemberId) -> BTreeSet<OpId> {
        let mut cut = BTreeSet::new();
        for op in self.ops.values() {
            let adds_who = matches!(&op.kind,
                OpKind::Create { members } | OpKind::Add { members } if members.contains(who));
            if op.author == *who || adds_who {
                cut.extend(self.past[&op.id].iter().copied());
            }
        }
        cut
    }
}

fn check(seed: u64, len: usize, orders: u64) {
    let ops = history(seed, len);
    let oracle = Oracle::new(&ops);
    let pool: Vec<MemberId> = POOL.chars().map(m).collect();
    let mut reference = Dgm::new();
    for op in &ops {
        reference.apply(op.clone()).unwrap();
    }
    // The DGM against the oracle.
    assert_eq!(reference.members(), oracle.eval(&oracle.all()), "members");
    for who in &pool {
        assert_eq!(
            reference.member_view(who),
            oracle.eval(&oracle.seen_by(who)),
            "member_view({who:?})"
        );
    }
    for op in &ops {
        let view = oracle.eval(&oracle.cut_of(&[op.id]));
        assert_eq!(reference.view_at(&[op.id]), view, "view_at({:?})", op.id);
        for who in &pool {
            assert_eq!(
                reference.is_member_at(&[op.id], who),
                view.contains(who),
                "is_member_at({:?}, {who:?})",
                op.id
            );
        }
        // The author was a member in the op's strict causal past.
        if !op.parents.is_empty() {
            assert!(
                oracle
                    .eval(&oracle.cut_of(&op.parents))
                    .contains(&op.author)
            );
        }
    }
    for a in ops.iter().step_by(3) {
        for b in ops.iter().step_by(2) {
            let expected = a.id != b.id && oracle.past[&b.id].contains(&a.id);
            assert_eq!(reference.is_ancestor(&a.id, &b.id), expected, "is_ancestor");
        }
    }
    // Every delivery order gives the same answers.
    for k in 0..orders {
        let order = topo_shuffle(&ops, seed ^ (k + 1).wrapping_mul(0x5851_f42d_4c95_7f2d));
        let mut d = Dgm::new();
        for op in order {
            d.apply(op.clone()).unwrap();
        }
        assert_eq!(d.members(), reference.members(), "members, order {k}");
        for who in &pool {
            assert_eq!(
                d.member_view(who),
                reference.member_view(who),
                "view, order {k}"
            );
        }
        assert_eq!(d.heads(), reference.heads());
        for op in ops.iter().step_by(4) {
            assert_eq!(d.view_at(&[op.id]), reference.view_at(&[op.id]));
        }
        assert_eq!(d.removed(), reference.removed());
    }
}

proptest! {
    #[test]
    fn every_delivery_order_agrees(seed in any::<u64>(), len in 4usize..48) {
        check(seed, len, 12);
    }
}

#[test]
fn generator_makes_concurrent_removes_and_cascades() {
    // The property is only as good as its histories: make sure they contain
    // the interesting cases (an add cancelled by a concurrent remove).
    let mut cancelled = 0;
    let mut removes = 0;
    for seed in 0..60 {
        let ops = history(seed, 40);
        let mut d = Dgm::new();
        for op in ops {
            let is_remove = matches!(op.kind, OpKind::Remove { .. });
            let a = d.apply(op).unwrap();
            cancelled += a.cancelled.len();
            removes += usize::from(is_remove);
        }
        check(seed, 40, 2);
    }
    assert!(cancelled > 0, "no add was cancelled by a concurrent remove");
    assert!(removes > 30);
}
