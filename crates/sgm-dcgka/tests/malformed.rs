//! Malformed, truncated, replayed and mis-addressed control messages: typed
//! errors, state unchanged (compared byte for byte through `to_bytes`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Sim;
use sgm_dcgka::messages::{ControlKind, DirectKind};
use sgm_dcgka::{Config, DcgkaError};

fn group(n: usize, seed: u64) -> Sim {
    let mut s = Sim::new(n, seed, Config::default());
    let rest: Vec<usize> = (1..n).collect();
    s.create(0, &rest);
    s.run(false);
    s
}

/// Processes `control`/`direct` bytes at `to` and checks the error and that
/// the state did not change.
fn rejects(
    s: &mut Sim,
    to: usize,
    sender: usize,
    control: &[u8],
    direct: Option<&[u8]>,
) -> DcgkaError {
    let (to, sender) = (s.id(to), s.id(sender));
    let node = s.nodes.get_mut(&to).unwrap();
    let before = node.state.to_bytes();
    let err = node
        .state
        .process_bytes(sender, control, direct, &mut s.rng, &mut s.dir)
        .unwrap_err();
    assert_eq!(node.state.to_bytes(), before, "state changed on {err}");
    err
}

#[test]
fn truncated_and_garbage_control_messages() {
    let mut s = group(3, 21);
    let m = s.update(0)[0];
    let control = s.msgs[m].out.control.to_bytes();
    let direct = s.msgs[m].out.direct_for(&s.id(1)).unwrap().to_bytes();
    for cut in 0..control.len() {
        // A cut inside the parents list can still decode (to an update with
        // fewer parents); it is then refused by the membership check.
        rejects(&mut s, 1, 0, &control[..cut], Some(&direct));
    }
    for cut in 0..direct.len() {
        let e = rejects(&mut s, 1, 0, &control, Some(&direct[..cut]));
        assert!(
            matches!(
                e,
                DcgkaError::Malformed(_) | DcgkaError::UnsupportedVersion(_)
            ),
            "{e}"
        );
    }
    let mut flipped = direct.clone();
    // A byte inside the 2SM ciphertext (the recipient id is encoded last).
    let inside = flipped.len() - 40;
    flipped[inside] ^= 1;
    let e = rejects(&mut s, 1, 0, &control, Some(&flipped));
    assert!(matches!(e, DcgkaError::TwoParty { .. }), "{e}");
    for garbage in [vec![], vec![1], vec![1, 0xff, 0xff], vec![9; 40]] {
        rejects(&mut s, 1, 0, &garbage, None);
    }
    // The genuine message still works afterwards.
    s.run(false);
    s.assert_converged();
}

#[test]
fn replayed_control_message() {
    let mut s = group(3, 22);
    let m = s.update(0)[0];
    s.run(false);
    let control = s.msgs[m].out.control.to_bytes();
    let direct = s.msgs[m].out.direct_for(&s.id(1)).unwrap().to_bytes();
    let e = rejects(&mut s, 1, 0, &control, Some(&direct));
    assert!(matches!(e, DcgkaError::UnexpectedSeq { .. }), "{e}");
    // The create, replayed to a member already in the group.
    let create = s.msgs[0].out.control.to_bytes();
    let e = rejects(&mut s, 2, 0, &create, None);
    assert!(matches!(e, DcgkaError::UnexpectedSeq { .. }), "{e}");
}

#[test]
fn mis_addressed_direct_message() {
    let mut s = group(4, 23);
    let m = s.update(0)[0];
    let control = s.msgs[m].out.control.to_bytes();
    let for_c = s.msgs[m].out.direct_for(&s.id(2)).unwrap().to_bytes();
    let e = rejects(&mut s, 1, 0, &control, Some(&for_c));
    assert!(matches!(e, DcgkaError::NotForUs { .. }), "{e}");
    // Missing direct message.
    let e = rejects(&mut s, 1, 0, &control, None);
    assert!(matches!(e, DcgkaError::MissingDirectMessage(_)), "{e}");
    // Wrong claimed sender: C says it is from D.
    let for_b = s.msgs[m].out.direct_for(&s.id(1)).unwrap().to_bytes();
    let e = rejects(&mut s, 1, 3, &control, Some(&for_b));
    assert!(
        matches!(
            e,
            DcgkaError::UnexpectedSeq { .. } | DcgkaError::TwoParty { .. }
        ),
        "{e}"
    );
    s.run(false);
    s.assert_converged();
}

#[test]
fn ack_before_acked_message_waits() {
    let mut s = group(3, 24);
    let (b, c) = (s.id(1), s.id(2));
    let m = s.update(0)[0];
    let out = s.deliver(b, m);
    let ack = out.reply.unwrap();
    assert!(matches!(ack.control.kind, ControlKind::Ack { .. }));
    let e = rejects(&mut s, 2, 1, &ack.control.to_bytes(), None);
    assert!(matches!(e, DcgkaError::UnknownReference(_)), "{e}");
    s.run(false);
    s.assert_converged();
    let _ = c;
}

#[test]
fn wrong_direct_kind() {
    let mut s = group(3, 25);
    let m = s.update(0)[0];
    let mut direct = s.msgs[m].out.direct_for(&s.id(1)).unwrap().clone();
    if let DirectKind::Seed(c) = &direct.kind {
        direct.kind = DirectKind::Forward(c.clone());
    }
    let control = s.msgs[m].out.control.to_bytes();
    let e = rejects(&mut s, 1, 0, &control, Some(&direct.to_bytes()));
    assert!(
        matches!(e, DcgkaError::UnexpectedDirectMessage { .. }),
        "{e}"
    );
}

#[test]
fn own_message_and_not_in_group() {
    let mut s = group(3, 26);
    let m = s.update(0)[0];
    let control = s.msgs[m].out.control.to_bytes();
    let e = rejects(&mut s, 0, 0, &control, None);
    assert_eq!(e, DcgkaError::OwnMessage);
}

#[test]
fn state_round_trips() {
    let mut s = group(4, 27);
    s.update(1);
    s.send(2, b"x");
    s.run(true);
    s.run_apps();
    for node in s.nodes.values() {
        let bytes = node.state.to_bytes();
        let back = sgm_dcgka::Dcgka::from_bytes(bytes.expose_secret()).unwrap();
        assert_eq!(back.to_bytes(), bytes);
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert!(sgm_dcgka::Dcgka::from_bytes(&bytes.expose_secret()[..cut]).is_err());
        }
    }
}

/// Acks run without a state copy: a failure at the DGM step (here an
/// unknown parent) must still leave the state unchanged.
#[test]
fn ack_with_unknown_parent_changes_nothing() {
    let mut s = group(4, 28);
    let (b, c) = (s.id(1), s.id(2));
    let m = s.remove(0, &[3])[0];
    let out = s.deliver(b, m);
    s.deliver(c, m);
    let mut ack = out.reply.unwrap().control;
    // B had seen nothing newer than the remove: its only parent is implied.
    assert!(ack.parents.is_empty());
    let remove_op = sgm_dcgka::op_id(&s.id(0), s.msgs[m].out.control.seq);
    assert_eq!(ack.dgm_parents(), vec![remove_op]);
    ack.parents = vec![sgm_dgm::OpId([0xab; 32])];
    let e = rejects(&mut s, 2, 1, &ack.to_bytes(), None);
    assert!(matches!(e, DcgkaError::Membership(_)), "{e}");
    // An unknown parent next to the real one is refused too.
    ack.parents = vec![remove_op, sgm_dgm::OpId([0xab; 32])];
    ack.parents.sort();
    let e = rejects(&mut s, 2, 1, &ack.to_bytes(), None);
    assert!(matches!(e, DcgkaError::Membership(_)), "{e}");
    s.run(false);
    s.assert_converged();
}
