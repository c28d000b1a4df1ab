//! Every rejection with its exact typed error, and the state unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{H, m, oid};
use sgm_dgm::{Dgm, DgmError, MAX_TARGETS, Op, OpKind};

/// Applies `op` and asserts the exact error and that nothing changed.
fn rejects(h: &mut H, op: Op, expected: DgmError) {
    let before = h.dgm.to_bytes();
    let members = h.dgm.members();
    let heads = h.dgm.heads();
    assert_eq!(h.dgm.apply(op), Err(expected));
    assert_eq!(h.dgm.to_bytes(), before, "state changed");
    assert_eq!(h.dgm.members(), members);
    assert_eq!(h.dgm.heads(), heads);
}

fn add(members: &str) -> OpKind {
    OpKind::Add {
        members: members.chars().map(m).collect(),
    }
}

fn remove(members: &str) -> OpKind {
    OpKind::Remove {
        members: members.chars().map(m).collect(),
    }
}

#[test]
fn non_member_author() {
    let mut h = H::new();
    let c = h.create('A', "AB");
    let op = h.op('Z', &[c], OpKind::Ack);
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::NotAMember {
            op: id,
            author: m('Z'),
        },
    );
}

#[test]
fn removed_member_cannot_act_after_its_removal() {
    let mut h = H::new();
    let c = h.create('A', "AB");
    let r = h.remove('A', &[c], "B");
    let op = h.op('B', &[r], add("C"));
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::NotAMember {
            op: id,
            author: m('B'),
        },
    );
    // Acking its own removal is the same case.
    let op = h.op('B', &[r], OpKind::Ack);
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::NotAMember {
            op: id,
            author: m('B'),
        },
    );
}

#[test]
fn cascaded_member_cannot_act_after_the_remove() {
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let a = h.add('B', &[c], "D");
    let r = h.remove('C', &[c], "B");
    let op = h.op('D', &[a, r], OpKind::Ack);
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::NotAMember {
            op: id,
            author: m('D'),
        },
    );
}

#[test]
fn unknown_parent() {
    let mut h = H::new();
    h.create('A', "AB");
    let op = h.op('A', &[oid(999)], OpKind::Ack);
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::UnknownParent {
            op: id,
            parent: oid(999),
        },
    );
}

#[test]
fn op_before_create() {
    let mut h = H::new();
    let op = h.op('A', &[oid(7)], add("B"));
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::UnknownParent {
            op: id,
            parent: oid(7),
        },
    );
}

#[test]
fn duplicate_create() {
    let mut h = H::new();
    let c = h.create('A', "AB");
    let op = h.op(
        'B',
        &[],
        OpKind::Create {
            members: vec![m('B')],
        },
    );
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::DuplicateCreate {
            op: id,
            existing: c,
        },
    );
}

#[test]
fn malformed_creates() {
    let mut h = H::new();
    let c = h.create('A', "AB");
    let op = h.op(
        'A',
        &[c],
        OpKind::Create {
            members: vec![m('A')],
        },
    );
    let id = op.id;
    rejects(&mut h, op, DgmError::CreateWithParents { op: id });
    let mut h = H::new();
    let op = h.op(
        'A',
        &[],
        OpKind::Create {
            members: vec![m('B')],
        },
    );
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::CreatorNotMember {
            op: id,
            author: m('A'),
        },
    );
    let op = h.op('A', &[], OpKind::Create { members: vec![] });
    let id = op.id;
    rejects(&mut h, op, DgmError::EmptyBatch { op: id });
}

#[test]
fn re_add_of_removed_id() {
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let r = h.remove('A', &[c], "C");
    let op = h.op('B', &[r], add("C"));
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::ReAddOfRemoved {
            op: id,
            member: m('C'),
        },
    );
}

#[test]
fn add_of_current_member() {
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let op = h.op('A', &[c], add("DB"));
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::AlreadyMember {
            op: id,
            member: m('B'),
        },
    );
}

#[test]
fn removes_of_unknown_and_removed() {
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let op = h.op('A', &[c], remove("Q"));
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::RemoveOfUnknown {
            op: id,
            member: m('Q'),
        },
    );
    let r = h.remove('A', &[c], "C");
    let op = h.op('B', &[r], remove("C"));
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::AlreadyRemoved {
            op: id,
            member: m('C'),
        },
    );
}

#[test]
fn malformed_batches_and_parents() {
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let op = h.op('A', &[c], add(""));
    let id = op.id;
    rejects(&mut h, op, DgmError::EmptyBatch { op: id });
    let op = h.op('A', &[c], add("DD"));
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::DuplicateTarget {
            op: id,
            member: m('D'),
        },
    );
    let op = h.op('A', &[], OpKind::Ack);
    let id = op.id;
    rejects(&mut h, op, DgmError::NoParents { op: id });
    let op = h.op('A', &[c, c], OpKind::Ack);
    let id = op.id;
    rejects(&mut h, op, DgmError::DuplicateParent { op: id, parent: c });
    let many: Vec<_> = (0..=MAX_TARGETS as u32)
        .map(|i| {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&i.to_be_bytes());
            sgm_dgm::MemberId::from_bytes(b)
        })
        .collect();
    let op = h.op('A', &[c], OpKind::Add { members: many });
    let id = op.id;
    rejects(
        &mut h,
        op,
        DgmError::TooManyTargets {
            op: id,
            count: MAX_TARGETS + 1,
            max: MAX_TARGETS,
        },
    );
}

#[test]
fn duplicates_idempotent_and_conflicting() {
    let mut h = H::new();
    let c = h.create('A', "AB");
    let a = h.add('A', &[c], "C");
    let same = h.dgm.get(&a).cloned().unwrap();
    let before = h.dgm.to_bytes();
    let applied = h.dgm.apply(same.clone()).unwrap();
    assert!(applied.duplicate && applied.joined.is_empty());
    assert_eq!(h.dgm.to_bytes(), before);
    let mut conflicting = same;
    conflicting.kind = add("D");
    rejects(
        &mut h,
        conflicting,
        DgmError::ConflictingDuplicate { op: a },
    );
}

#[test]
fn rejection_leaves_a_clone_equal_state() {
    // A rejected op changes nothing observable: heads, members, views.
    let mut h = H::new();
    let c = h.create('A', "AB");
    let copy: Dgm = h.dgm.clone();
    let op = h.op('B', &[c], add("A"));
    assert!(h.dgm.apply(op).is_err());
    assert_eq!(h.dgm.members(), copy.members());
    assert_eq!(h.dgm.member_view(&m('B')), copy.member_view(&m('B')));
    assert_eq!(h.dgm.len(), copy.len());
}
