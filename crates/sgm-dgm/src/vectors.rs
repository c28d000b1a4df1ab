//! Known-answer vectors for the DGM function (`test-vectors/dgm.json`).
//!
//! Format (documented in `docs/test-vectors.md`, section `dgm.json`):
//!
//! ```text
//! { "version": 1,
//!   "members": [ { "name": "A", "id": <16-byte hex> }, … ],
//!   "cases": [ { "name", "description",
//!                "ops": [ { "id": <32-byte hex>, "author": <hex>,
//!                           "parents": [<hex>…], "kind": "create|add|remove|ack",
//!                           "members": [<hex>…] } … ],      // a topological order
//!                "orders": [[<index into ops>…] …],         // the other delivery orders
//!                                                           // (all if ≤ ALL_ORDERS_UP_TO, else SAMPLED_ORDERS)
//!                "members_after": [<hex>…],                 // members()
//!                "member_views": [ { "member": <hex>, "view": [<hex>…] } … ],
//!                "views_at": [ { "heads": [<hex>…], "view": [<hex>…] } … ] } … ],
//!   "rejections": [ { "name", "history": <case name>, "op": {…},
//!                     "error": <DgmError::code()> } … ] }
//! ```
//!
//! Sets are sorted by bytes. Ids are arbitrary (here: SHA-256 of a label);
//! a replaying implementation uses them as opaque names. No randomness is
//! consumed: the random history is produced by a listed xorshift seed only
//! for convenience; its ops are listed in full.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sgm_crypto::{MemberId, sha256};

use crate::dgm::Dgm;
use crate::op::{OP_ID_LEN, Op, OpId, OpKind};

/// Format version of `dgm.json`.
pub const VECTORS_VERSION: u32 = 1;

/// A case with at most this many delivery orders (linear extensions of its
/// causal order, the listed one included) lists all of them in `orders`.
pub const ALL_ORDERS_UP_TO: usize = 24;
/// A case with more lists this many other distinct orders.
pub const SAMPLED_ORDERS: usize = 6;

/// The whole file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DgmVectors {
    /// Format version.
    pub version: u32,
    /// Readable names of the member ids used.
    pub members: Vec<MemberName>,
    /// Histories with their results.
    pub cases: Vec<CaseVector>,
    /// Ops rejected after a case's history, with the error code.
    pub rejections: Vec<RejectionVector>,
}

/// A member id and the letter the docs and tests use for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberName {
    /// The letter.
    pub name: String,
    /// The 16-byte id, hex.
    pub id: String,
}

/// One op.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpVector {
    /// 32-byte op id, hex.
    pub id: String,
    /// Author id, hex.
    pub author: String,
    /// Parent op ids, hex.
    pub parents: Vec<String>,
    /// `create`, `add`, `remove` or `ack`.
    pub kind: String,
    /// Target member ids, hex (empty for `ack`).
    pub members: Vec<String>,
}

/// A member's view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberViewVector {
    /// The member, hex.
    pub member: String,
    /// `member_view(member)`, sorted hex.
    pub view: Vec<String>,
}

/// A view at a set of heads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewAtVector {
    /// Op ids, hex.
    pub heads: Vec<String>,
    /// `view_at(heads)`, sorted hex.
    pub view: Vec<String>,
}

/// One history and its results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseVector {
    /// Case name (matches a named test).
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The ops, in a topological order.
    pub ops: Vec<OpVector>,
    /// Other delivery orders (indices into `ops`), each giving the same results.
    pub orders: Vec<Vec<usize>>,
    /// `members()` after all ops.
    pub members_after: Vec<String>,
    /// `member_view` of every member ever named.
    pub member_views: Vec<MemberViewVector>,
    /// `view_at` of each op alone.
    pub views_at: Vec<ViewAtVector>,
}

/// An op rejected after a case's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionVector {
    /// Name.
    pub name: String,
    /// The case whose history is applied first.
    pub history: String,
    /// The rejected op.
    pub op: OpVector,
    /// [`crate::DgmError::code`] of the expected error.
    pub error: String,
}

const NAMES: &str = "ABCDEFGHIJKL";

fn member(c: char) -> MemberId {
    let d = sha256(&[b"sgm dgm vector member ", c.to_string().as_bytes()]);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    MemberId::from_bytes(b)
}

fn hexs(set: &BTreeSet<MemberId>) -> Vec<String> {
    set.iter().map(|m| hex::encode(m.as_bytes())).collect()
}

/// Builds a case's history.
struct Builder {
    name: &'static str,
    ops: Vec<Op>,
}

impl Builder {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            ops: Vec::new(),
        }
    }

    fn op(&self, author: char, parents: &[OpId], kind: OpKind) -> Op {
        let n = self.ops.len().to_string();
        let id = sha256(&[
            b"sgm dgm vector op ",
            self.name.as_bytes(),
            b" ",
            n.as_bytes(),
        ]);
        let mut b = [0u8; OP_ID_LEN];
        b.copy_from_slice(&id[..OP_ID_LEN]);
        Op {
            id: OpId(b),
            author: member(author),
            parents: parents.to_vec(),
            kind,
        }
    }

    fn push(&mut self, author: char, parents: &[OpId], kind: OpKind) -> OpId {
        let op = self.op(author, parents, kind);
        let id = op.id;
        self.ops.push(op);
        id
    }

    fn create(&mut self, author: char, m: &str) -> OpId {
        self.push(author, &[], OpKind::Create { members: ms(m) })
    }
    fn add(&mut self, author: char, p: &[OpId], m: &str) -> OpId {
        self.push(author, p, OpKind::Add { members: ms(m) })
    }
    fn remove(&mut self, author: char, p: &[OpId], m: &str) -> OpId {
        self.push(author, p, OpKind::Remove { members: ms(m) })
    }
    fn ack(&mut self, author: char, p: &[OpId]) -> OpId {
        self.push(author, p, OpKind::Ack)
    }
}

fn ms(s: &str) -> Vec<MemberId> {
    s.chars().map(member).collect()
}

fn op_vector(op: &Op) -> OpVector {
    OpVector {
        id: hex::encode(op.id.0),
        author: hex::encode(op.author.as_bytes()),
        parents: op.parents.iter().map(|p| hex::encode(p.0)).collect(),
        kind: op.kind.name().to_string(),
        members: op
            .kind
            .targets()
            .iter()
            .map(|m| hex::encode(m.as_bytes()))
            .collect(),
    }
}

/// Up to `limit` linear extensions of `ops` (delivery orders that respect
/// every parent link), in lexicographic order of their index lists: the
/// listed order `0, 1, …` (a topological order) comes first.
fn linear_extensions(ops: &[Op], limit: usize) -> Vec<Vec<usize>> {
    fn extend(
        ops: &[Op],
        placed: &mut Vec<usize>,
        done: &mut BTreeSet<OpId>,
        out: &mut Vec<Vec<usize>>,
        limit: usize,
    ) {
        if out.len() >= limit {
            return;
        }
        if placed.len() == ops.len() {
            out.push(placed.clone());
            return;
        }
        for (i, op) in ops.iter().enumerate() {
            if !done.contains(&op.id) && op.parents.iter().all(|p| done.contains(p)) {
                placed.push(i);
                done.insert(op.id);
                extend(ops, placed, done, out, limit);
                done.remove(&op.id);
                placed.pop();
            }
        }
    }
    let mut out = Vec::new();
    extend(ops, &mut Vec::new(), &mut BTreeSet::new(), &mut out, limit);
    out
}

/// The `orders` of a case: every delivery order other than the listed one
/// if there are at most [`ALL_ORDERS_UP_TO`] in all, else
/// [`SAMPLED_ORDERS`] distinct pseudo-random ones.
fn other_orders(ops: &[Op]) -> Vec<Vec<usize>> {
    let listed: Vec<usize> = (0..ops.len()).collect();
    let all = linear_extensions(ops, ALL_ORDERS_UP_TO + 1);
    if all.len() <= ALL_ORDERS_UP_TO {
        return all.into_iter().filter(|o| *o != listed).collect();
    }
    let mut seen: BTreeSet<Vec<usize>> = BTreeSet::from([listed]);
    let mut out = Vec::new();
    for k in 1..=1000u64 {
        if out.len() == SAMPLED_ORDERS {
            break;
        }
        let order = shuffled_order(ops, k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        if seen.insert(order.clone()) {
            out.push(order);
        }
    }
    out
}

/// A deterministic linear extension of `ops` (xorshift-driven).
fn shuffled_order(ops: &[Op], seed: u64) -> Vec<usize> {
    let mut s = seed | 1;
    let mut placed: BTreeSet<OpId> = BTreeSet::new();
    let mut left: Vec<usize> = (0..ops.len()).collect();
    let mut out = Vec::new();
    while !left.is_empty() {
        let ready: Vec<usize> = left
            .iter()
            .copied()
            .filter(|i| {
                ops.get(*i)
                    .is_some_and(|o| o.parents.iter().all(|p| placed.contains(p)))
            })
            .collect();
        if ready.is_empty() {
            break;
        }
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let pick = ready
            .get((s % ready.len() as u64) as usize)
            .copied()
            .unwrap_or(0);
        left.retain(|i| *i != pick);
        if let Some(o) = ops.get(pick) {
            placed.insert(o.id);
        }
        out.push(pick);
    }
    out
}

fn case(b: Builder, description: &str) -> CaseVector {
    let mut dgm = Dgm::new();
    for op in &b.ops {
        // Generation never fails for these histories; replay would catch it.
        let _ = dgm.apply(op.clone());
    }
    let mut named: BTreeSet<MemberId> = BTreeSet::new();
    for op in &b.ops {
        named.insert(op.author);
        named.extend(op.kind.targets().iter().copied());
    }
    CaseVector {
        name: b.name.to_string(),
        description: description.to_string(),
        ops: b.ops.iter().map(op_vector).collect(),
        orders: other_orders(&b.ops),
        members_after: hexs(&dgm.members()),
        member_views: named
            .iter()
            .map(|m| MemberViewVector {
                member: hex::encode(m.as_bytes()),
                view: hexs(&dgm.member_view(m)),
            })
            .collect(),
        views_at: b
            .ops
            .iter()
            .map(|o| ViewAtVector {
                heads: vec![hex::encode(o.id.0)],
                view: hexs(&dgm.view_at(&[o.id])),
            })
            .collect(),
    }
}

/// A pseudo-random valid history among up to 12 members (xorshift seed).
fn random_history(seed: u64, len: usize) -> Builder {
    let mut b = Builder::new("random_history");
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let names: Vec<char> = NAMES.chars().collect();
    let mut dgm = Dgm::new();
    let c = b.create('A', "ABCD");
    if let Some(op) = b.ops.last() {
        let _ = dgm.apply(op.clone());
    }
    let _ = c;
    let mut tries = 0;
    while b.ops.len() < len && tries < len * 20 {
        tries += 1;
        let recent: Vec<OpId> = b.ops.iter().rev().take(6).map(|o| o.id).collect();
        let mut parents = Vec::new();
        for _ in 0..1 + next() % 2 {
            if let Some(p) = recent.get((next() % recent.len() as u64) as usize)
                && !parents.contains(p)
            {
                parents.push(*p);
            }
        }
        let view: Vec<MemberId> = dgm.view_at(&parents).into_iter().collect();
        let Some(author) = view.get((next() % view.len().max(1) as u64) as usize) else {
            continue;
        };
        let Some(name) = names.iter().find(|c| member(**c) == *author) else {
            continue;
        };
        let kind = match next() % 10 {
            0..=3 => OpKind::Ack,
            4..=7 => {
                let t = names.get((next() % names.len() as u64) as usize).copied();
                OpKind::Add {
                    members: t.map(member).into_iter().collect(),
                }
            }
            _ => OpKind::Remove {
                members: view
                    .get((next() % view.len() as u64) as usize)
                    .copied()
                    .into_iter()
                    .collect(),
            },
        };
        let op = b.op(*name, &parents, kind);
        if dgm.apply(op.clone()).is_ok() {
            b.ops.push(op);
        }
    }
    b
}

/// Generates the vectors.
pub fn generate() -> DgmVectors {
    let mut cases = Vec::new();

    let mut b = Builder::new("create");
    b.create('A', "ABC");
    cases.push(case(b, "create gives the initial members"));

    let mut b = Builder::new("simple_add_then_acks");
    let c = b.create('A', "ABC");
    let a = b.add('A', &[c], "D");
    b.ack('B', &[a]);
    cases.push(case(
        b,
        "A adds D; B acks; C has not seen the add so C's view lacks D",
    ));

    let mut b = Builder::new("concurrent_removes_both_take_effect");
    let c = b.create('A', "ABC");
    b.remove('B', &[c], "C");
    b.remove('C', &[c], "B");
    cases.push(case(b, "B removes C while C removes B: both removed"));

    let mut b = Builder::new("mutual_removal_removes_both");
    let c = b.create('A', "ABC");
    b.remove('A', &[c], "B");
    b.remove('B', &[c], "A");
    cases.push(case(b, "A removes B while B removes A: both removed"));

    let mut b = Builder::new("remove_cancels_concurrent_add_by_removed");
    let c = b.create('A', "ABC");
    b.add('B', &[c], "D");
    b.remove('C', &[c], "B");
    cases.push(case(b, "B adds D while C removes B: D is removed with B"));

    let mut b = Builder::new("remove_does_not_cancel_acked_add_by_removed");
    let c = b.create('A', "ABC");
    let a = b.add('B', &[c], "D");
    let k = b.ack('C', &[a]);
    b.remove('C', &[k], "B");
    cases.push(case(b, "C saw B's add of D before removing B: D stays"));

    let mut b = Builder::new("remove_cancels_concurrent_transitive_add");
    let c = b.create('A', "ABC");
    let a1 = b.add('B', &[c], "D");
    b.add('D', &[a1], "E");
    b.remove('C', &[c], "B");
    cases.push(case(
        b,
        "B adds D, D adds E, C concurrently removes B: B, D, E removed (cascade)",
    ));

    let mut b = Builder::new("concurrent_adds_both_take_effect");
    let c = b.create('A', "AB");
    b.add('A', &[c], "C");
    b.add('B', &[c], "D");
    cases.push(case(b, "A adds C while B adds D: both join"));

    let mut b = Builder::new("update_concurrent_with_add");
    let c = b.create('A', "ABC");
    let u = b.ack('A', &[c]);
    let a = b.add('C', &[c], "D");
    b.ack('B', &[u, a]);
    cases.push(case(
        b,
        "paper Fig. 5: A acts while C adds D; B sees both; A's view lacks D",
    ));

    let mut b = Builder::new("removed_member_concurrent_remove_takes_effect");
    let c = b.create('A', "ABCD");
    b.remove('A', &[c], "B");
    b.remove('B', &[c], "C");
    cases.push(case(
        b,
        "A removes B while B removes C: both removals take effect",
    ));

    let mut b = Builder::new("remove_concurrent_with_ack_of_add");
    let c = b.create('A', "ABC");
    let a = b.add('A', &[c], "D");
    b.ack('C', &[a]);
    b.remove('B', &[a], "D");
    cases.push(case(b, "B removes D while C acks D's add: D removed"));

    cases.push(case(
        random_history(0x5eed_d9f0_0000_0005, 40),
        "a pseudo-random history of 40 ops among 12 members",
    ));

    // Rejections after the "remove_cancels_concurrent_add_by_removed" history.
    let mut rejections = Vec::new();
    let mut b = Builder::new("remove_cancels_concurrent_add_by_removed");
    let c = b.create('A', "ABC");
    let a = b.add('B', &[c], "D");
    let r = b.remove('C', &[c], "B");
    let mut reject = |name: &str, op: Op, error: &str| {
        rejections.push(RejectionVector {
            name: name.to_string(),
            history: "remove_cancels_concurrent_add_by_removed".to_string(),
            op: op_vector(&op),
            error: error.to_string(),
        });
    };
    reject(
        "non_member_author",
        b.op('Z', &[c], OpKind::Ack),
        "NotAMember",
    );
    reject(
        "removed_author_after_removal",
        b.op('B', &[r], OpKind::Ack),
        "NotAMember",
    );
    reject(
        "cascaded_author_after_removal",
        b.op('D', &[a, r], OpKind::Ack),
        "NotAMember",
    );
    let mut unknown = b.op('A', &[c], OpKind::Ack);
    unknown.parents = vec![OpId([0xee; OP_ID_LEN])];
    reject("unknown_parent", unknown, "UnknownParent");
    reject(
        "second_create",
        b.op('A', &[], OpKind::Create { members: ms("A") }),
        "DuplicateCreate",
    );
    reject(
        "re_add_of_removed",
        b.op('A', &[r], OpKind::Add { members: ms("B") }),
        "ReAddOfRemoved",
    );
    reject(
        "add_of_member",
        b.op('A', &[c], OpKind::Add { members: ms("C") }),
        "AlreadyMember",
    );
    reject(
        "remove_of_removed",
        b.op('A', &[r], OpKind::Remove { members: ms("B") }),
        "AlreadyRemoved",
    );

    DgmVectors {
        version: VECTORS_VERSION,
        members: NAMES
            .chars()
            .chain(['Z'])
            .map(|c| MemberName {
                name: c.to_string(),
                id: hex::encode(member(c).as_bytes()),
            })
            .collect(),
        cases,
        rejections,
    }
}

fn parse_member(s: &str) -> Result<MemberId, String> {
    let b = hex::decode(s).map_err(|e| format!("member {s}: {e}"))?;
    MemberId::from_slice(&b).map_err(|e| format!("member {s}: {e}"))
}

fn parse_op_id(s: &str) -> Result<OpId, String> {
    let b = hex::decode(s).map_err(|e| format!("op id {s}: {e}"))?;
    <[u8; OP_ID_LEN]>::try_from(b.as_slice())
        .map(OpId)
        .map_err(|_| format!("op id {s}: wrong length"))
}

fn parse_op(v: &OpVector) -> Result<Op, String> {
    let members = v
        .members
        .iter()
        .map(|m| parse_member(m))
        .collect::<Result<Vec<_>, _>>()?;
    let kind = match v.kind.as_str() {
        "create" => OpKind::Create { members },
        "add" => OpKind::Add { members },
        "remove" => OpKind::Remove { members },
        "ack" => OpKind::Ack,
        k => return Err(format!("unknown kind {k}")),
    };
    Ok(Op {
        id: parse_op_id(&v.id)?,
        author: parse_member(&v.author)?,
        parents: v
            .parents
            .iter()
            .map(|p| parse_op_id(p))
            .collect::<Result<_, _>>()?,
        kind,
    })
}

fn check_case(c: &CaseVector, order: &[usize], ops: &[Op]) -> Result<Dgm, String> {
    let mut dgm = Dgm::new();
    for i in order {
        let op = ops.get(*i).ok_or(format!("{}: order index {i}", c.name))?;
        dgm.apply(op.clone())
            .map_err(|e| format!("{}: op {i} rejected: {e}", c.name))?;
    }
    if dgm.len() != ops.len() {
        return Err(format!("{}: order does not cover every op", c.name));
    }
    if hexs(&dgm.members()) != c.members_after {
        return Err(format!("{}: members differ", c.name));
    }
    for v in &c.member_views {
        if hexs(&dgm.member_view(&parse_member(&v.member)?)) != v.view {
            return Err(format!("{}: member_view({}) differs", c.name, v.member));
        }
    }
    for v in &c.views_at {
        let heads = v
            .heads
            .iter()
            .map(|h| parse_op_id(h))
            .collect::<Result<Vec<_>, _>>()?;
        if hexs(&dgm.view_at(&heads)) != v.view {
            return Err(format!("{}: view_at({:?}) differs", c.name, v.heads));
        }
    }
    Ok(dgm)
}

/// Replays the vectors: every case in its listed order and in every listed
/// alternative order, and every rejection; `Err` names the first mismatch.
pub fn replay(v: &DgmVectors) -> Result<(), String> {
    if v.version != VECTORS_VERSION {
        return Err(format!("unsupported version {}", v.version));
    }
    for c in &v.cases {
        let ops = c.ops.iter().map(parse_op).collect::<Result<Vec<_>, _>>()?;
        let listed: Vec<usize> = (0..ops.len()).collect();
        check_case(c, &listed, &ops)?;
        for order in &c.orders {
            check_case(c, order, &ops)?;
        }
    }
    for r in &v.rejections {
        let c = v
            .cases
            .iter()
            .find(|c| c.name == r.history)
            .ok_or(format!("{}: unknown history {}", r.name, r.history))?;
        let ops = c.ops.iter().map(parse_op).collect::<Result<Vec<_>, _>>()?;
        let listed: Vec<usize> = (0..ops.len()).collect();
        let mut dgm = check_case(c, &listed, &ops)?;
        let before = dgm.to_bytes();
        match dgm.apply(parse_op(&r.op)?) {
            Ok(_) => return Err(format!("{}: accepted", r.name)),
            Err(e) if e.code() == r.error => {}
            Err(e) => return Err(format!("{}: got {} not {}", r.name, e.code(), r.error)),
        }
        if dgm.to_bytes() != before {
            return Err(format!("{}: state changed", r.name));
        }
    }
    Ok(())
}
