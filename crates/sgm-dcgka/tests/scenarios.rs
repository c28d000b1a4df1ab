//! The paper's scenarios as named tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Sim;
use sgm_dcgka::Config;

fn sim(n: usize, seed: u64) -> Sim {
    Sim::new(n, seed, Config::default())
}

#[test]
fn create_ack_and_messages() {
    let mut s = sim(4, 1);
    s.create(0, &[1, 2, 3]);
    s.run(false);
    s.assert_converged();
    for i in 0..4 {
        s.send(i, format!("hi from {i}").as_bytes());
    }
    s.run_apps();
    s.assert_apps_delivered();
}

/// Figure 2: A creates {A, B}; B acks and adds C; C acks, updates (acked by
/// B) and removes A (acked by B); concurrently A updates, and nobody acks
/// A's update before A's removal takes effect.
#[test]
fn figure_2() {
    let mut s = sim(3, 2);
    let (a, b, c) = (s.id(0), s.id(1), s.id(2));
    let create = s.create(0, &[1])[0];
    s.deliver(b, create);
    s.run(false);
    let add = s.add(1, 2)[0];
    s.deliver(c, add);
    s.run(false);
    s.assert_converged();
    // Concurrently: A updates; C updates and then removes A.
    let a_update = s.update(0)[0];
    let c_update = s.update(2)[0];
    s.deliver(b, c_update);
    let remove = s.remove(2, &[0])[0];
    s.deliver(b, remove);
    // Now A's update reaches B and C, after A's removal took effect there.
    s.deliver(b, a_update);
    s.deliver(c, a_update);
    s.run(true);
    assert!(!s.nodes[&a].state.in_group() || !s.nodes[&b].state.members().contains(&a));
    assert_eq!(s.current_members(), vec![b, c]);
    s.assert_converged();
    s.send(1, b"from b");
    s.send(2, b"from c");
    s.run_apps();
    s.assert_apps_delivered();
    // A, removed, decrypts neither.
    let last = s.apps.len();
    assert!(s.nodes[&a].decrypted.keys().all(|k| *k < last - 2));
}

/// Figure 5: in {A, B, C}, A updates while C adds D. `b_sees_add_first`
/// picks the delivery order at B.
fn figure_5(b_sees_add_first: bool, seed: u64) {
    let mut s = sim(4, seed);
    let (b, c, d) = (s.id(1), s.id(2), s.id(3));
    s.create(0, &[1, 2]);
    s.run(false);
    let update = s.update(0)[0];
    let add = s.add(2, 3)[0];
    if b_sees_add_first {
        s.deliver(b, add);
        let out = s.deliver(b, update);
        // B forwards its member secret to D with its ack.
        let ack = out.reply.expect("ack");
        assert!(ack.direct_for(&d).is_some(), "no forward to D");
    } else {
        s.deliver(b, update);
        let out = s.deliver(b, add);
        assert!(out.reply.expect("add-ack").direct_for(&d).is_some());
    }
    s.deliver(d, add);
    s.run(true);
    assert_eq!(s.current_members().len(), 4);
    s.assert_converged();
    for i in 0..4 {
        s.send(i, &[i as u8]);
    }
    s.run_apps();
    s.assert_apps_delivered();
    let _ = c;
}

#[test]
fn figure_5_add_before_update() {
    figure_5(true, 3);
}

#[test]
fn figure_5_update_before_add() {
    figure_5(false, 4);
}

/// §6.2.5: in {A, B}, A adds C while B adds D.
#[test]
fn concurrent_adds() {
    for seed in 0..8 {
        let mut s = sim(4, 100 + seed);
        s.create(0, &[1]);
        s.run(false);
        s.add(0, 2);
        s.add(1, 3);
        s.run(true);
        assert_eq!(s.current_members().len(), 4, "seed {seed}");
        s.assert_converged();
        for i in 0..4 {
            s.send(i, &[i as u8]);
        }
        s.run_apps();
        s.assert_apps_delivered();
    }
}

/// In {A, B, C, D}, A removes C while B removes D: both are removed.
#[test]
fn concurrent_removes() {
    for seed in 0..8 {
        let mut s = sim(4, 200 + seed);
        s.create(0, &[1, 2, 3]);
        s.run(false);
        s.remove(0, &[2]);
        s.remove(1, &[3]);
        s.run(true);
        assert_eq!(s.current_members(), vec![s.id(0), s.id(1)], "seed {seed}");
        s.assert_converged();
        s.send(0, b"a");
        s.send(1, b"b");
        s.run_apps();
        s.assert_apps_delivered();
        for gone in [2, 3] {
            let id = s.id(gone);
            assert!(s.nodes[&id].decrypted.is_empty());
        }
    }
}

/// In {A, B, C}, A removes B while B removes A: both are removed.
#[test]
fn mutual_removal() {
    for seed in 0..8 {
        let mut s = sim(3, 300 + seed);
        s.create(0, &[1, 2]);
        s.run(false);
        s.remove(0, &[1]);
        s.remove(1, &[0]);
        s.run(true);
        assert_eq!(s.current_members(), vec![s.id(2)], "seed {seed}");
        let c = s.id(2);
        assert_eq!(s.nodes[&c].state.members().len(), 1);
        s.send(2, b"alone");
        s.run_apps();
        assert!(s.nodes.values().all(|n| n.decrypted.is_empty()));
    }
}

/// In {A, B, C}, B adds D while A removes B: D is removed with B (the
/// strong-remove rule of sgm-dgm) and receives nothing sent after that.
#[test]
fn add_by_concurrently_removed_member() {
    for seed in 0..8 {
        let mut s = sim(4, 400 + seed);
        s.create(0, &[1, 2]);
        s.run(false);
        s.remove(0, &[1]);
        s.add(1, 3);
        s.run(true);
        let (a, c, d) = (s.id(0), s.id(2), s.id(3));
        assert_eq!(s.current_members(), vec![a, c], "seed {seed}");
        s.assert_converged();
        s.update(0);
        s.run(true);
        s.send(0, b"a");
        s.send(2, b"c");
        s.run_apps();
        s.assert_apps_delivered();
        assert!(s.nodes[&d].decrypted.is_empty(), "seed {seed}");
    }
}

/// Ack coalescing (§8.1): acks are held and sent in front of the member's
/// next message; all members still converge, and held acks ride along.
#[test]
fn coalesced_acks_converge() {
    for seed in 0..6 {
        let config = Config {
            coalesce_acks: true,
            ..Config::default()
        };
        let mut s = Sim::new(5, 500 + seed, config);
        s.create(0, &[1, 2, 3]);
        s.run(true);
        s.update(1);
        s.add(2, 4);
        s.remove(0, &[3]);
        s.run(true);
        s.assert_converged();
        // Nothing is left held back after the final flush.
        assert!(s.nodes.values().all(|n| n.state.pending_len() == 0));
        for i in [0, 1, 2, 4] {
            s.send(i, &[i as u8]);
        }
        s.run_apps();
        s.assert_apps_delivered();
    }
}

/// An application message in an epoch whose control message has not been
/// processed yet says "wait" (EpochNotYetKnown) and decrypts afterwards;
/// one from an epoch this member was never given says "fail".
#[test]
fn early_application_message_waits() {
    let mut s = sim(3, 600);
    let (a, b) = (s.id(0), s.id(1));
    s.create(0, &[1, 2]);
    s.run(false);
    let update = s.update(0)[0];
    let app = s.send(0, b"after update");
    let bytes = s.apps[app].bytes.clone();
    let node = s.nodes.get_mut(&b).unwrap();
    let e = node.state.decrypt(&a, &bytes, b"").unwrap_err();
    assert!(
        matches!(e, sgm_dcgka::DcgkaError::EpochNotYetKnown { .. }),
        "{e}"
    );
    s.deliver(b, update);
    let node = s.nodes.get_mut(&b).unwrap();
    assert_eq!(
        node.state.decrypt(&a, &bytes, b"").unwrap().expose_secret(),
        b"after update"
    );
}
