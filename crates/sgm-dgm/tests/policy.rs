//! The admin policy as a layer over the mechanism.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{H, m, set};
use sgm_dgm::{AdminPolicy, AllowAll, DgmError, OpKind};

#[test]
fn only_admins_add_and_remove() {
    let mut h = H::new();
    let policy = AdminPolicy::new([m('A')]);
    let create = h.op(
        'A',
        &[],
        OpKind::Create {
            members: vec![m('A'), m('B'), m('C')],
        },
    );
    let c = create.id;
    h.dgm.apply_with(create, &policy).unwrap();

    let by_b = h.op(
        'B',
        &[c],
        OpKind::Add {
            members: vec![m('D')],
        },
    );
    let id = by_b.id;
    let before = h.dgm.to_bytes();
    assert_eq!(
        h.dgm.apply_with(by_b.clone(), &policy),
        Err(DgmError::PermissionDenied {
            op: id,
            author: m('B'),
            action: "add"
        })
    );
    assert_eq!(h.dgm.to_bytes(), before);
    // The same op passes the mechanism without the policy.
    assert!(h.dgm.clone().apply_with(by_b, &AllowAll).is_ok());

    let rm = h.op(
        'B',
        &[c],
        OpKind::Remove {
            members: vec![m('C')],
        },
    );
    let id = rm.id;
    assert_eq!(
        h.dgm.apply_with(rm, &policy),
        Err(DgmError::PermissionDenied {
            op: id,
            author: m('B'),
            action: "remove"
        })
    );

    let ack = h.op('B', &[c], OpKind::Ack);
    let k = ack.id;
    h.dgm.apply_with(ack, &policy).unwrap();
    let leave = h.op(
        'C',
        &[c],
        OpKind::Remove {
            members: vec![m('C')],
        },
    );
    h.dgm.apply_with(leave, &policy).unwrap();
    let add = h.op(
        'A',
        &[k],
        OpKind::Add {
            members: vec![m('D')],
        },
    );
    h.dgm.apply_with(add, &policy).unwrap();
    assert_eq!(h.dgm.members(), set("ABD"));
}

#[test]
fn non_admin_cannot_create() {
    let mut h = H::new();
    let policy = AdminPolicy::new([m('A')]);
    let create = h.op(
        'B',
        &[],
        OpKind::Create {
            members: vec![m('B')],
        },
    );
    let id = create.id;
    assert_eq!(
        h.dgm.apply_with(create, &policy),
        Err(DgmError::PermissionDenied {
            op: id,
            author: m('B'),
            action: "create"
        })
    );
    assert!(h.dgm.is_empty());
}
