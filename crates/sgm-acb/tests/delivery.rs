//! Causal delivery, duplicates, loss and re-send, direct parts, persistence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::*;
use sgm_acb::{Acb, AcbConfig, AcbError, Accepted, AllowAll, ApiMisuse, DirectPart, MessageId};

#[test]
fn causal_order_is_enforced_and_heads_track_the_dag() {
    let mut g = group(3, AcbConfig::default());
    let a1 = g[0].broadcast(b"a1".to_vec(), vec![]).unwrap();
    assert_eq!(a1.seq, 1);
    assert_eq!(g[0].heads(), vec![a1.id]);
    assert_eq!(recv(&mut g[1], &a1.bytes), vec![a1.id]);
    let b1 = g[1].broadcast(b"b1".to_vec(), vec![]).unwrap();
    // Concurrent with b1.
    let a2 = g[0].broadcast(b"a2".to_vec(), vec![]).unwrap();

    // C receives b1 and a2 before a1: both wait, then a1 releases them.
    let c = &mut g[2];
    assert_eq!(recv(c, &b1.bytes), Vec::<MessageId>::new());
    assert_eq!(recv(c, &a2.bytes), Vec::<MessageId>::new());
    assert_eq!(c.missing(), vec![a1.id]);
    assert_eq!(c.buffered().0, 2);
    let got = recv(c, &a1.bytes);
    assert_eq!(got, vec![a1.id, b1.id, a2.id]);
    assert!(c.missing().is_empty());
    let mut heads = vec![b1.id, a2.id];
    heads.sort();
    assert_eq!(c.heads(), heads);

    // C's next message names both concurrent heads.
    let c1 = c.broadcast(b"c1".to_vec(), vec![]).unwrap();
    let d = recv(&mut g[0], &b1.bytes);
    assert_eq!(d, vec![b1.id]);
    let r = g[0].receive(&c1.bytes, &AllowAll).unwrap();
    assert_eq!(r.delivered[0].parents, heads);
    assert_eq!(r.delivered[0].payload, b"c1");
    assert_eq!(g[0].heads(), vec![c1.id]);
}

#[test]
fn a_gap_in_a_senders_seq_waits_and_is_reported() {
    let mut g = group(2, AcbConfig::default());
    let a1 = g[0].broadcast(b"1".to_vec(), vec![]).unwrap();
    let a2 = g[0].broadcast(b"2".to_vec(), vec![]).unwrap();
    let a3 = g[0].broadcast(b"3".to_vec(), vec![]).unwrap();
    let b = &mut g[1];
    assert!(recv(b, &a3.bytes).is_empty());
    assert_eq!(b.missing_seqs(), vec![(id_of(0), 1..=2)]);
    assert_eq!(b.missing(), vec![a2.id]);
    assert!(recv(b, &a1.bytes) == vec![a1.id]);
    assert_eq!(recv(b, &a2.bytes), vec![a2.id, a3.id]);
    assert!(b.missing_seqs().is_empty());
}

#[test]
fn duplicates_are_delivered_once() {
    let mut g = group(3, AcbConfig::default());
    let a1 = g[0].broadcast(b"a1".to_vec(), vec![]).unwrap();
    let a2 = g[0].broadcast(b"a2".to_vec(), vec![]).unwrap();
    let b = &mut g[1];
    // Duplicate of a waiting message.
    assert!(recv(b, &a2.bytes).is_empty());
    let r = b.receive(&a2.bytes, &AllowAll).unwrap();
    assert!(r.duplicate && r.delivered.is_empty());
    assert_eq!(b.buffered().0, 1);
    assert_eq!(recv(b, &a1.bytes), vec![a1.id, a2.id]);
    // Duplicates of delivered messages.
    for bytes in [&a1.bytes, &a2.bytes] {
        let r = b.receive(bytes, &AllowAll).unwrap();
        assert!(r.duplicate && r.delivered.is_empty());
    }
    assert_eq!(b.accept(&a1.bytes).unwrap(), Accepted::Duplicate);
    // The sender's own echo is a duplicate, not an error.
    let r = g[0].receive(&a1.bytes, &AllowAll).unwrap();
    assert!(r.duplicate);
}

#[test]
fn loss_is_repaired_by_resend_from_another_member() {
    let mut g = group(3, AcbConfig::default());
    let a1 = g[0].broadcast(b"a1".to_vec(), vec![]).unwrap();
    recv(&mut g[1], &a1.bytes);
    let b1 = g[1].broadcast(b"b1".to_vec(), vec![]).unwrap();
    // C never got a1 from A.
    assert!(recv(&mut g[2], &b1.bytes).is_empty());
    let missing = g[2].missing();
    assert_eq!(missing, vec![a1.id]);
    // B forwards its stored copy; it authenticates as A's.
    let copy = g[1].get(&missing[0]).unwrap().to_vec();
    assert_eq!(copy, a1.bytes);
    let r = g[2].receive(&copy, &AllowAll).unwrap();
    assert_eq!(ids(&r.delivered), vec![a1.id, b1.id]);
    assert_eq!(r.delivered[0].sender, id_of(0));
    // A waiting message can be forwarded too.
    let mut d = observer(3, AcbConfig::default());
    recv(&mut d, &b1.bytes);
    assert_eq!(d.get(&b1.id).unwrap(), b1.bytes.as_slice());
}

#[test]
fn store_is_bounded_fifo() {
    let config = AcbConfig {
        store_max_count: 2,
        ..AcbConfig::default()
    };
    let mut g = group(1, config);
    let m: Vec<_> = (0..3)
        .map(|i| g[0].broadcast(vec![i], vec![]).unwrap())
        .collect();
    assert_eq!(g[0].stored(), 2);
    assert!(g[0].get(&m[0].id).is_none());
    assert!(g[0].get(&m[2].id).is_some());
}

#[test]
fn direct_parts_reach_their_recipient_only() {
    let mut g = group(3, AcbConfig::default());
    let parts = vec![
        DirectPart {
            recipient: id_of(2),
            body: b"for C".to_vec(),
        },
        DirectPart {
            recipient: id_of(1),
            body: b"for B".to_vec(),
        },
    ];
    let m = g[0].broadcast(b"ctl".to_vec(), parts).unwrap();
    let rb = g[1].receive(&m.bytes, &AllowAll).unwrap();
    let rc = g[2].receive(&m.bytes, &AllowAll).unwrap();
    let mut recipients = vec![id_of(1), id_of(2)];
    recipients.sort();
    assert_eq!(rb.delivered[0].my_part.as_deref(), Some(&b"for B"[..]));
    assert_eq!(rc.delivered[0].my_part.as_deref(), Some(&b"for C"[..]));
    assert_eq!(rb.delivered[0].recipients, recipients);
    let mut d = observer(3, AcbConfig::default());
    let rd = d.receive(&m.bytes, &AllowAll).unwrap();
    assert_eq!(rd.delivered[0].my_part, None);
    assert_eq!(rd.delivered[0].payload, b"ctl");

    let dup = vec![
        DirectPart {
            recipient: id_of(1),
            body: vec![],
        };
        2
    ];
    let before = snapshot(&g[0]);
    assert_eq!(
        g[0].broadcast(vec![], dup),
        Err(AcbError::Api(ApiMisuse::DuplicateRecipient(id_of(1))))
    );
    assert_eq!(snapshot(&g[0]), before);
}

#[test]
fn pull_api_lets_membership_change_between_deliveries() {
    // B's first message may only be accepted after A's message "add B"
    // was processed by the membership layer.
    let mut g = group(3, AcbConfig::default());
    let add = g[0].broadcast(b"add B".to_vec(), vec![]).unwrap();
    recv(&mut g[1], &add.bytes);
    let b1 = g[1].broadcast(b"hi".to_vec(), vec![]).unwrap();
    let c = &mut g[2];
    let mut members: BTreeSet<_> = [id_of(0), id_of(2)].into();
    assert_eq!(c.accept(&b1.bytes).unwrap(), Accepted::Waiting);
    assert_eq!(c.accept(&add.bytes).unwrap(), Accepted::Ready);
    let first = c.deliver_next(&members).unwrap();
    assert_eq!(first.payload, b"add B");
    members.insert(id_of(1));
    let second = c.deliver_next(&members).unwrap();
    assert_eq!(second.id, b1.id);
    assert!(c.deliver_next(&members).is_none());
    assert!(c.take_events().is_empty());
}

#[test]
fn state_round_trips_with_waiting_messages() {
    let mut g = group(3, AcbConfig::default());
    let a1 = g[0].broadcast(b"a1".to_vec(), vec![]).unwrap();
    g[0].rotate_signing_key(key(50));
    let a2 = g[0].broadcast(b"a2".to_vec(), vec![]).unwrap();
    let a3 = g[0].broadcast(b"a3".to_vec(), vec![]).unwrap();
    let b = &mut g[1];
    recv(b, &a3.bytes);
    recv(b, &a2.bytes);
    let state = b.to_state_bytes();
    let mut restored = Acb::restore(state.expose_secret(), AcbConfig::default()).unwrap();
    assert_eq!(snapshot(&restored), state.expose_secret());
    assert_eq!(restored.heads(), b.heads());
    assert_eq!(restored.missing(), vec![a1.id]);
    assert_eq!(recv(&mut restored, &a1.bytes), vec![a1.id, a2.id, a3.id]);
    // The sender's own state (rotated key) survives too.
    let mut a = Acb::restore(g[0].to_state_bytes().expose_secret(), AcbConfig::default()).unwrap();
    let a4 = a.broadcast(b"a4".to_vec(), vec![]).unwrap();
    assert_eq!(recv(&mut restored, &a4.bytes), vec![a4.id]);
    assert!(matches!(
        Acb::restore(b"\x08\x02", AcbConfig::default()),
        Err(AcbError::Api(ApiMisuse::InvalidState(_)))
    ));
}

#[test]
fn register_member_as_checks_the_derivation() {
    let mut a = Acb::new(key(0), AcbConfig::default());
    assert_eq!(
        a.register_member_as(id_of(1), key(2).verifying_key()),
        Err(AcbError::Api(ApiMisuse::IdentityMismatch {
            claimed: id_of(1),
            derived: id_of(2)
        }))
    );
    assert!(
        a.register_member_as(id_of(2), key(2).verifying_key())
            .is_ok()
    );
    assert_eq!(a.current_key_of(&id_of(2)), Some(key(2).verifying_key()));
}
