//! Helpers shared by the integration tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeSet;

use sgm_dgm::{Applied, Dgm, DgmError, MemberId, Op, OpId, OpKind};

/// Member `c`: sixteen bytes of the letter.
pub fn m(c: char) -> MemberId {
    MemberId::from_bytes([c as u8; 16])
}

/// A set of members by letter.
pub fn set(s: &str) -> BTreeSet<MemberId> {
    s.chars().map(m).collect()
}

/// Op id number `n`.
pub fn oid(n: u32) -> OpId {
    let mut b = [0u8; 32];
    b[..4].copy_from_slice(&n.to_be_bytes());
    b[31] = 0xd6;
    OpId(b)
}

/// Builds a history op by op, applying each to `dgm` and keeping the ops.
#[derive(Default)]
pub struct H {
    pub dgm: Dgm,
    pub ops: Vec<Op>,
    next: u32,
}

impl H {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn op(&mut self, author: char, parents: &[OpId], kind: OpKind) -> Op {
        self.next += 1;
        Op {
            id: oid(self.next),
            author: m(author),
            parents: parents.to_vec(),
            kind,
        }
    }

    pub fn try_push(&mut self, op: Op) -> Result<Applied, DgmError> {
        let r = self.dgm.apply(op.clone());
        if r.is_ok() {
            self.ops.push(op);
        }
        r
    }

    pub fn push(&mut self, author: char, parents: &[OpId], kind: OpKind) -> OpId {
        let op = self.op(author, parents, kind);
        let id = op.id;
        self.try_push(op).expect("op applies");
        id
    }

    pub fn create(&mut self, author: char, members: &str) -> OpId {
        self.push(
            author,
            &[],
            OpKind::Create {
                members: members.chars().map(m).collect(),
            },
        )
    }

    pub fn add(&mut self, author: char, parents: &[OpId], members: &str) -> OpId {
        self.push(
            author,
            parents,
            OpKind::Add {
                members: members.chars().map(m).collect(),
            },
        )
    }

    pub fn remove(&mut self, author: char, parents: &[OpId], members: &str) -> OpId {
        self.push(
            author,
            parents,
            OpKind::Remove {
                members: members.chars().map(m).collect(),
            },
        )
    }

    pub fn ack(&mut self, author: char, parents: &[OpId]) -> OpId {
        self.push(author, parents, OpKind::Ack)
    }

    pub fn view(&self, c: char) -> BTreeSet<MemberId> {
        self.dgm.member_view(&m(c))
    }

    /// Replays the ops in every topological order reachable by a few
    /// deterministic shuffles and checks members and views agree.
    pub fn check_orders(&self, viewers: &str) {
        let reference = &self.dgm;
        for seed in 0..24u64 {
            let order = topo_shuffle(&self.ops, seed);
            let mut d = Dgm::new();
            for op in order {
                d.apply(op.clone()).expect("applies in any causal order");
            }
            assert_eq!(d.members(), reference.members(), "order seed {seed}");
            for c in viewers.chars() {
                assert_eq!(
                    d.member_view(&m(c)),
                    reference.member_view(&m(c)),
                    "view of {c}, seed {seed}"
                );
            }
            assert_eq!(d.heads(), reference.heads());
            assert_eq!(d.membership_heads(), reference.membership_heads());
        }
    }
}

/// A linear extension of `ops` (given in some topological order) chosen by
/// `seed`: repeatedly picks a pseudo-random op whose parents are all placed.
pub fn topo_shuffle(ops: &[Op], seed: u64) -> Vec<&Op> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut placed: BTreeSet<OpId> = BTreeSet::new();
    let mut left: Vec<&Op> = ops.iter().collect();
    let mut out = Vec::with_capacity(ops.len());
    while !left.is_empty() {
        let ready: Vec<usize> = (0..left.len())
            .filter(|i| left[*i].parents.iter().all(|p| placed.contains(p)))
            .collect();
        let pick = ready[(next() % ready.len() as u64) as usize];
        let op = left.remove(pick);
        placed.insert(op.id);
        out.push(op);
    }
    out
}
