//! A removed member that kept its state, at the key-agreement layer
//! (issue 10, items 1 and 2; docs/dcgka.md "Judging a message by its
//! causal past").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Sim;
use sgm_dcgka::{Config, DcgkaError, op_id};

fn group(n: usize, members: usize, seed: u64) -> Sim {
    let mut s = Sim::new(n, seed, Config::default());
    let rest: Vec<usize> = (1..members).collect();
    s.create(0, &rest);
    s.run(false);
    s
}

/// Rule 3: once every remaining member has seen carol's removal, her
/// old sending ratchet no longer works at alice, even for a message that
/// names nothing (back-dated). Before settlement it still does (the
/// message could be concurrent with the removal).
#[test]
fn removed_members_ratchet_is_dropped_once_every_member_has_seen_the_removal() {
    let mut s = group(4, 4, 21);
    let (alice, carol, dave) = (s.id(0), s.id(2), s.id(3));
    let mut kept = s.nodes[&carol].state.clone();
    let early = kept.encrypt(b"before settlement", b"").unwrap().message;
    let late = kept.encrypt(b"after settlement", b"").unwrap().message;
    let removal = s.remove(1, &[2]);
    // alice processes the removal; dave has not acknowledged it yet.
    for id in removal.clone() {
        s.deliver(alice, id);
    }
    let at_alice = &mut s.nodes.get_mut(&alice).unwrap().state;
    assert!(!at_alice.members().contains(&carol));
    assert!(
        at_alice.decrypt(&carol, &early, b"").is_ok(),
        "a message concurrent with an unsettled removal is legitimate"
    );
    s.run(false);
    let r = *removal.last().unwrap();
    let r_op = op_id(&s.id(1), s.msgs[r].out.control.seq);
    let at_alice = &mut s.nodes.get_mut(&alice).unwrap().state;
    assert!(at_alice.dgm().unwrap().has_seen(&dave, &r_op));
    assert!(at_alice.ratchet_dropped(&carol));
    assert!(matches!(
        at_alice.decrypt(&carol, &late, b""),
        Err(DcgkaError::SenderRemoved { .. })
    ));
    assert!(matches!(
        at_alice.decrypt_in_past(&carol, &[], &late, b""),
        Err(DcgkaError::SenderRemoved { .. })
    ));
}

/// Rule 1: a control message whose causal past holds its sender's
/// removal is refused, whatever DGM parents it declares.
#[test]
fn removed_sender_is_refused_in_its_causal_past() {
    let mut s = group(3, 3, 22);
    let (alice, bob, carol) = (s.id(0), s.id(1), s.id(2));
    let mut kept = s.nodes[&carol].state.clone();
    let removal = s.remove(1, &[2]);
    s.run(false);
    let r = *removal.last().unwrap();
    let r_op = op_id(&bob, s.msgs[r].out.control.seq);
    let create_op = op_id(&alice, 1);
    // carol, from her old state, removes alice (DGM parents: the create).
    let out = kept.remove(&[alice], &mut s.rng, &mut s.dir).unwrap();
    let control = &out.messages.last().unwrap().control;
    let at_alice = &s.nodes[&alice].state;
    assert!(
        at_alice
            .check_causal_past(&carol, control, &[create_op])
            .is_ok()
    );
    assert!(matches!(
        at_alice.check_causal_past(&carol, control, &[create_op, r_op]),
        Err(DcgkaError::SenderRemoved { .. })
    ));
}

/// Rule 2: an add or remove whose declared DGM parents miss a membership
/// op of its causal past is inconsistent (here: erin's add, which dave
/// had delivered, omitted so that a remove of bob would look as if dave
/// had not seen it).
#[test]
fn membership_op_with_stale_parents_is_inconsistent_with_its_causal_past() {
    let mut s = group(5, 4, 23);
    let (alice, dave) = (s.id(0), s.id(3));
    let mut kept = s.nodes[&dave].state.clone();
    let add = s.add(0, 4);
    s.run(false);
    let a = *add.last().unwrap();
    let add_op = op_id(&alice, s.msgs[a].out.control.seq);
    let create_op = op_id(&alice, 1);
    let out = kept.remove(&[s.id(1)], &mut s.rng, &mut s.dir).unwrap();
    let control = &out.messages.last().unwrap().control;
    assert_eq!(control.dgm_parents(), vec![create_op]);
    let at_alice = &s.nodes[&alice].state;
    assert!(
        at_alice
            .check_causal_past(&dave, control, &[create_op])
            .is_ok()
    );
    assert!(matches!(
        at_alice.check_causal_past(&dave, control, &[create_op, add_op]),
        Err(DcgkaError::InconsistentParents { missing, .. }) if missing == add_op
    ));
    // The honest op from the current state is consistent.
    let mut now = s.nodes[&dave].state.clone();
    let out = now.remove(&[s.id(1)], &mut s.rng, &mut s.dir).unwrap();
    let control = &out.messages.last().unwrap().control;
    assert!(
        at_alice
            .check_causal_past(&dave, control, &[create_op, add_op])
            .is_ok()
    );
}
