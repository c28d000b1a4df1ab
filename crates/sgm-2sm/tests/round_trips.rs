//! Round trips, long runs, crossing messages and crossing first contact.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Member, established, rng};
use sgm_2sm::{MAX_PENDING_OWN_KEYS, Session, TwoSmError};

#[test]
fn round_trip_both_directions() {
    let (mut rng, mut a, mut b, mut sa, mut sb) = established(1);
    let c = sb.send(&mut rng, b"B to A").unwrap();
    assert_eq!(
        sa.receive(&mut a.store, &c).unwrap().expose_secret(),
        b"B to A"
    );
    let c = sa.send(&mut rng, b"A to B").unwrap();
    assert_eq!(
        sb.receive(&mut b.store, &c).unwrap().expose_secret(),
        b"A to B"
    );
    assert_eq!(sa.peer_id(), b.id);
    assert_eq!(sb.peer_id(), a.id);
    assert_eq!(sb.peer_identity(), &a.identity.verifying_key());
}

#[test]
fn empty_and_large_plaintexts() {
    let (mut rng, _a, mut b, mut sa, mut sb) = established(2);
    for pt in [vec![], vec![0xab; 100_000]] {
        let c = sa.send(&mut rng, &pt).unwrap();
        assert_eq!(
            sb.receive(&mut b.store, &c).unwrap().expose_secret(),
            pt.as_slice()
        );
    }
}

#[test]
fn long_alternating_run() {
    let (mut rng, mut a, mut b, mut sa, mut sb) = established(3);
    for i in 0..60u32 {
        let m = i.to_be_bytes();
        let c = sb.send(&mut rng, &m).unwrap();
        assert_eq!(sa.receive(&mut a.store, &c).unwrap().expose_secret(), &m);
        let c = sa.send(&mut rng, &m).unwrap();
        assert_eq!(sb.receive(&mut b.store, &c).unwrap().expose_secret(), &m);
        // Alternating: each side keeps exactly the key its last send announced.
        assert_eq!(sa.pending_own_keys(), 1);
    }
}

#[test]
fn long_one_sided_runs_then_reply() {
    let (mut rng, mut a, mut b, mut sa, mut sb) = established(4);
    let sent: Vec<Vec<u8>> = (0..100u32)
        .map(|i| sa.send(&mut rng, &i.to_be_bytes()).unwrap())
        .collect();
    assert_eq!(sa.pending_own_keys(), 101);
    for (i, c) in sent.iter().enumerate() {
        let m = sb.receive(&mut b.store, c).unwrap();
        assert_eq!(m.expose_secret(), &(i as u32).to_be_bytes());
    }
    // B replies to the newest key; A drops all older ones.
    let c = sb.send(&mut rng, b"ack").unwrap();
    assert_eq!(
        sa.receive(&mut a.store, &c).unwrap().expose_secret(),
        b"ack"
    );
    assert_eq!(sa.pending_own_keys(), 0);
    // And the other direction one-sided.
    for i in 0..50u32 {
        let c = sb.send(&mut rng, &i.to_be_bytes()).unwrap();
        assert_eq!(
            sa.receive(&mut a.store, &c).unwrap().expose_secret(),
            &i.to_be_bytes()
        );
    }
}

#[test]
fn crossing_messages() {
    let (mut rng, mut a, mut b, mut sa, mut sb) = established(5);
    // Several rounds of both sides sending before either receives.
    for round in 0..10u8 {
        let from_a: Vec<_> = (0..=round % 3)
            .map(|i| sa.send(&mut rng, &[round, i, 0xa]).unwrap())
            .collect();
        let from_b: Vec<_> = (0..=(round + 1) % 3)
            .map(|i| sb.send(&mut rng, &[round, i, 0xb]).unwrap())
            .collect();
        for (i, c) in from_b.iter().enumerate() {
            assert_eq!(
                sa.receive(&mut a.store, c).unwrap().expose_secret(),
                &[round, i as u8, 0xb]
            );
        }
        for (i, c) in from_a.iter().enumerate() {
            assert_eq!(
                sb.receive(&mut b.store, c).unwrap().expose_secret(),
                &[round, i as u8, 0xa]
            );
        }
    }
}

#[test]
fn reply_from_old_prefix_while_more_messages_in_flight() {
    let (mut rng, mut a, mut b, mut sa, mut sb) = established(6);
    let c1 = sa.send(&mut rng, b"1").unwrap();
    let c2 = sa.send(&mut rng, b"2").unwrap();
    sb.receive(&mut b.store, &c1).unwrap();
    // B replies having seen only c1: it encrypts to the key c1 announced.
    let r = sb.send(&mut rng, b"r").unwrap();
    assert_eq!(sa.receive(&mut a.store, &r).unwrap().expose_secret(), b"r");
    // c2's key is newer, so A kept it.
    assert_eq!(sa.pending_own_keys(), 1);
    sb.receive(&mut b.store, &c2).unwrap();
    let r = sb.send(&mut rng, b"r2").unwrap();
    assert_eq!(sa.receive(&mut a.store, &r).unwrap().expose_secret(), b"r2");
}

/// DCGKA creates a session on first use by either side; both may do so
/// concurrently, each consuming the other's one-time prekey.
#[test]
fn crossing_first_contact_converges() {
    let mut rng = rng(7);
    let mut a = Member::new(&mut rng);
    let mut b = Member::new(&mut rng);
    let mut sa = Session::initiate(&a.identity, &b.bundle()).unwrap();
    let mut sb = Session::initiate(&b.identity, &a.bundle()).unwrap();
    let fa = sa.send(&mut rng, b"from A first").unwrap();
    let fa2 = sa.send(&mut rng, b"from A second").unwrap();
    let fb = sb.send(&mut rng, b"from B first").unwrap();
    assert!(!sa.first_contact_pending() && !sb.first_contact_pending());
    // Each first-contact message arrives at an existing session.
    assert_eq!(
        sa.receive(&mut a.store, &fb).unwrap().expose_secret(),
        b"from B first"
    );
    assert_eq!(
        sb.receive(&mut b.store, &fa).unwrap().expose_secret(),
        b"from A first"
    );
    assert_eq!(
        sb.receive(&mut b.store, &fa2).unwrap().expose_secret(),
        b"from A second"
    );
    assert_eq!(a.store.one_time_prekeys_left(), 7);
    assert_eq!(b.store.one_time_prekeys_left(), 7);
    for i in 0..10u8 {
        let c = sa.send(&mut rng, &[i]).unwrap();
        let d = sb.send(&mut rng, &[i, i]).unwrap();
        assert_eq!(sb.receive(&mut b.store, &c).unwrap().expose_secret(), &[i]);
        assert_eq!(
            sa.receive(&mut a.store, &d).unwrap().expose_secret(),
            &[i, i]
        );
    }
    // A replayed first-contact message is a replay, not a second session.
    assert!(matches!(
        sb.receive(&mut b.store, &fa),
        Err(TwoSmError::Replay { seq: 0, .. })
    ));
}

/// One side initiated but had not sent yet when the other's first message
/// arrived: the pending first contact is dropped, no prekey is wasted on
/// the receiving side, and the session continues normally.
#[test]
fn first_contact_arrives_before_own_first_send() {
    let mut rng = rng(8);
    let mut a = Member::new(&mut rng);
    let mut b = Member::new(&mut rng);
    let mut sa = Session::initiate(&a.identity, &b.bundle()).unwrap();
    let mut sb = Session::initiate(&b.identity, &a.bundle()).unwrap();
    let fb = sb.send(&mut rng, b"B first").unwrap();
    assert!(sa.first_contact_pending());
    assert_eq!(
        sa.receive(&mut a.store, &fb).unwrap().expose_secret(),
        b"B first"
    );
    assert!(!sa.first_contact_pending());
    let c = sa.send(&mut rng, b"A reply").unwrap();
    assert_eq!(
        sb.receive(&mut b.store, &c).unwrap().expose_secret(),
        b"A reply"
    );
    assert_eq!(b.store.one_time_prekeys_left(), 8);
}

#[test]
fn initiator_sends_several_before_any_reply() {
    let mut rng = rng(9);
    let a = Member::new(&mut rng);
    let mut b = Member::new(&mut rng);
    let mut sa = Session::initiate(&a.identity, &b.bundle()).unwrap();
    let cs: Vec<_> = (0..5u8).map(|i| sa.send(&mut rng, &[i]).unwrap()).collect();
    let (mut sb, m) = Session::accept(&mut b.store, &a.id, &cs[0]).unwrap();
    assert_eq!(m.expose_secret(), &[0]);
    for (i, c) in cs.iter().enumerate().skip(1) {
        assert_eq!(
            sb.receive(&mut b.store, c).unwrap().expose_secret(),
            &[i as u8]
        );
    }
}

#[test]
fn state_survives_persistence_mid_run() {
    let (mut rng, mut a, mut b, sa, mut sb) = established(10);
    let mut sa = Session::from_bytes(sa.to_bytes().expose_secret()).unwrap();
    for i in 0..5u8 {
        let c = sa.send(&mut rng, &[i]).unwrap();
        sb = Session::from_bytes(sb.to_bytes().expose_secret()).unwrap();
        assert_eq!(sb.receive(&mut b.store, &c).unwrap().expose_secret(), &[i]);
        let c = sb.send(&mut rng, &[i]).unwrap();
        sa = Session::from_bytes(sa.to_bytes().expose_secret()).unwrap();
        assert_eq!(sa.receive(&mut a.store, &c).unwrap().expose_secret(), &[i]);
    }
    // The pending first-contact phase persists too.
    let mut c = Member::new(&mut rng);
    let sc = Session::initiate(&a.identity, &c.bundle()).unwrap();
    let mut sc = Session::from_bytes(sc.to_bytes().expose_secret()).unwrap();
    assert!(sc.first_contact_pending());
    let f = sc.send(&mut rng, b"x").unwrap();
    let (_, m) = Session::accept(&mut c.store, &a.id, &f).unwrap();
    assert_eq!(m.expose_secret(), b"x");
    // So does the prekey store.
    let restored = sgm_2sm::PrekeyStore::from_bytes(c.store.to_bytes().expose_secret()).unwrap();
    assert_eq!(restored.to_bytes(), c.store.to_bytes());
}

#[test]
fn pending_keys_are_bounded_and_eviction_is_typed() {
    let (mut rng, mut a, mut b, mut sa, mut sb) = established(11);
    let first = sa.send(&mut rng, b"first").unwrap();
    sb.receive(&mut b.store, &first).unwrap();
    // B's reply to `first`'s key is held back while A keeps sending.
    let stale_reply = sb.clone().send(&mut rng, b"stale").unwrap();
    let mut sb_later = sb.clone();
    let mut last = Vec::new();
    for _ in 0..MAX_PENDING_OWN_KEYS + 5 {
        last = sa.send(&mut rng, b"x").unwrap();
        assert!(sa.pending_own_keys() <= MAX_PENDING_OWN_KEYS);
    }
    assert_eq!(sa.pending_own_keys(), MAX_PENDING_OWN_KEYS);
    let before = sa.to_bytes();
    assert!(matches!(
        sa.receive(&mut a.store, &stale_reply),
        Err(TwoSmError::EvictedKeyIndex { .. })
    ));
    assert_eq!(sa.to_bytes(), before);
    let _ = (&mut sb_later, last);
}
