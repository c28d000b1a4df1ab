//! The DCGKA adapter through the driver: outcomes, counts and rounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand_chacha::ChaCha20Rng;
use sgm_crypto::SeedableRng;
use sgm_crypto::rng::Rng;
use sgm_dcgka::Config;
use sgm_harness::dcgka::DcgkaScheme;
use sgm_harness::{Group, GroupScheme, MessageKind, Operation};

fn scheme() -> DcgkaScheme {
    DcgkaScheme::new(Config::default(), 8)
}

fn everyone_else_decrypts(g: &Group<DcgkaScheme>, from: usize, text: &[u8]) {
    let ids = g.ids().to_vec();
    let mut g = g.clone();
    let out = g.run(ids[from], Operation::Send(text.to_vec())).unwrap();
    for m in g.roster().clone() {
        if m != ids[from] {
            assert!(
                out.decrypted_by(&m, &ids[from], text),
                "{m} did not decrypt"
            );
        }
    }
}

#[test]
fn create_counts_and_rounds() {
    let n = 5;
    let (g, create) = Group::setup(scheme(), n, 7).unwrap();
    // One create, then n − 1 acks (each a broadcast, counted once).
    assert_eq!(create.messages, n);
    assert_eq!(create.rounds, 2);
    assert_eq!(create.key_rounds, 2);
    // The create's direct parts reach only their recipients.
    let ids = g.ids();
    assert!(create.received[&ids[1]] < create.bytes);
    assert_eq!(g.roster().len(), n);
    for i in 0..n {
        everyone_else_decrypts(&g, i, b"hello");
    }
}

#[test]
fn application_message_is_one_broadcast() {
    let (mut g, _) = Group::setup(scheme(), 4, 1).unwrap();
    let ids = g.ids().to_vec();
    let out = g.run(ids[2], Operation::Send(b"x".to_vec())).unwrap();
    assert_eq!(out.messages, 1);
    assert_eq!(out.by_kind[&MessageKind::Application].0, 1);
    assert_eq!(out.deliveries, 3);
    assert_eq!(out.decrypted.len(), 3);
    assert_eq!(out.rounds, 1);
}

#[test]
fn update_remove_add() {
    let (mut g, _) = Group::setup(scheme(), 4, 2).unwrap();
    let ids = g.ids().to_vec();
    let up = g.run(ids[1], Operation::Update).unwrap();
    // The update secret reaches everyone after one delay; each ack then
    // moves its sender's ratchet (DCGKA's process-ack), one delay later.
    assert_eq!(up.rounds, 2);
    assert_eq!(up.key_rounds, 2);
    assert_eq!(up.messages, 4);
    everyone_else_decrypts(&g, 1, b"after update");

    let rm = g.run(ids[0], Operation::Remove(ids[3])).unwrap();
    assert!(rm.removed.contains(&ids[3]));
    assert!(!g.roster().contains(&ids[3]));
    // The removed member is not a recipient any more, and cannot decrypt
    // what it is handed anyway.
    let mut g2 = g.clone();
    let out = g2.run(ids[1], Operation::Send(b"secret".to_vec())).unwrap();
    assert!(out.decrypted.iter().all(|d| d.recipient != ids[3]));
    let (scheme, member, _) = g2.parts(&ids[1]).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let msgs = scheme.send(member, b"secret", &mut rng).unwrap();
    let mut removed = g2.member(&ids[3]).unwrap().clone();
    let mut s = g2.scheme().clone();
    let app = msgs.last().unwrap();
    assert!(
        s.receive(&mut removed, &app.incoming_for(&ids[3]), &mut rng)
            .is_err()
    );

    let new = g.spawn(1).unwrap()[0];
    g.run(ids[0], Operation::Add(new)).unwrap();
    everyone_else_decrypts(&g, 2, b"welcome");
    let idx = g.ids().iter().position(|m| *m == new).unwrap();
    everyone_else_decrypts(&g, idx, b"from the new member");
}

/// Deliveries chosen at random within causal order give the same outcome.
#[test]
fn random_causal_delivery_order() {
    for seed in 0..4u64 {
        let mut g = Group::new(scheme(), 5, seed).unwrap();
        g.track_causality();
        let ids = g.ids().to_vec();
        let mut pick = ChaCha20Rng::seed_from_u64(seed);
        g.start(ids[0], Operation::Create(ids[1..].to_vec()))
            .unwrap();
        while !g.pending().is_empty() {
            let d = g.deliverable();
            assert!(!d.is_empty());
            let i = d[(pick.next_u32() as usize) % d.len()];
            g.deliver_at(i).unwrap();
        }
        g.take_outcome();
        g.start(ids[3], Operation::Update).unwrap();
        g.start(ids[2], Operation::Remove(ids[4])).unwrap();
        while !g.pending().is_empty() {
            let d = g.deliverable();
            let i = d[(pick.next_u32() as usize) % d.len()];
            g.deliver_at(i).unwrap();
        }
        for i in 0..4 {
            everyone_else_decrypts(&g, i, b"converged");
        }
    }
}
