//! sgm-dgm: sequences of membership ops (`Dgm::apply`) over a small
//! alphabet of ids, so that parents, authors and targets collide often.
//! On error the state is unchanged; a duplicate changes nothing; the state
//! survives `to_bytes`/`from_bytes` with the same members, removed set and
//! heads; `is_member` agrees with `members`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sgm_crypto::{MEMBER_ID_LEN, MemberId};
use sgm_dgm::{Dgm, OP_ID_LEN, Op, OpId, OpKind};

#[derive(Arbitrary, Debug)]
enum Kind {
    Create(Vec<u8>),
    Add(Vec<u8>),
    Remove(Vec<u8>),
    Ack,
}

#[derive(Arbitrary, Debug)]
struct FuzzOp {
    id: u8,
    author: u8,
    parents: Vec<u8>,
    kind: Kind,
}

fn member(m: u8) -> MemberId {
    MemberId::from_bytes([m % 8; MEMBER_ID_LEN])
}

fn op_id(i: u8) -> OpId {
    OpId([i % 32; OP_ID_LEN])
}

fn members(ms: &[u8]) -> Vec<MemberId> {
    ms.iter().take(8).map(|m| member(*m)).collect()
}

fn to_op(f: &FuzzOp) -> Op {
    Op {
        id: op_id(f.id),
        author: member(f.author),
        parents: f.parents.iter().take(8).map(|p| op_id(*p)).collect(),
        kind: match &f.kind {
            Kind::Create(ms) => OpKind::Create {
                members: members(ms),
            },
            Kind::Add(ms) => OpKind::Add {
                members: members(ms),
            },
            Kind::Remove(ms) => OpKind::Remove {
                members: members(ms),
            },
            Kind::Ack => OpKind::Ack,
        },
    }
}

fuzz_target!(|ops: Vec<FuzzOp>| {
    let mut dgm = Dgm::new();
    for f in ops.iter().take(64) {
        let before = (dgm.to_bytes(), dgm.members(), dgm.len());
        match dgm.apply(to_op(f)) {
            Err(_) => assert_eq!(before, (dgm.to_bytes(), dgm.members(), dgm.len())),
            Ok(a) if a.duplicate => assert_eq!(before.0, dgm.to_bytes()),
            Ok(_) => {}
        }
    }
    let all = dgm.members();
    for m in 0..8 {
        assert_eq!(dgm.is_member(&member(m)), all.contains(&member(m)));
    }
    assert!(all.is_subset(&dgm.known_members()));
    let back = Dgm::from_bytes(&dgm.to_bytes()).expect("restore");
    assert_eq!(back.members(), all);
    assert_eq!(back.removed(), dgm.removed());
    assert_eq!(back.heads(), dgm.heads());
    assert_eq!(back.to_bytes(), dgm.to_bytes());
});
