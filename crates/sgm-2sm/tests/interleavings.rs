//! proptest: random interleavings of sends and deliveries (with crossing
//! first contact and attempted reordering) always decrypt to the sent
//! plaintexts; arbitrary bytes never panic a decoder.
//!
//! 2SM needs in-order delivery per direction (DCGKA's causal broadcast gives
//! it); reordering attempts must fail with `OutOfOrder` and change nothing.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::VecDeque;

use common::{Member, rng};
use proptest::prelude::*;
use sgm_2sm::{PrekeyBundle, PrekeyStore, Session, TwoSmError};

#[derive(Clone, Copy, Debug)]
enum Action {
    /// Side 0 (A) or 1 (B) sends a message.
    Send(usize),
    /// Deliver the oldest in-flight message to side 0 or 1.
    Deliver(usize),
    /// Try to deliver the second-oldest first: must be refused.
    Reorder(usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0..2usize).prop_map(Action::Send),
        3 => (0..2usize).prop_map(Action::Deliver),
        1 => (0..2usize).prop_map(Action::Reorder),
    ]
}

struct Side {
    member: Member,
    session: Option<Session>,
    /// Messages in flight *to* this side, oldest first.
    inbox: VecDeque<(Vec<u8>, Vec<u8>)>,
}

fn run(seed: u64, both_initiate: bool, actions: &[Action]) -> Result<(), TestCaseError> {
    let mut rng = rng(seed);
    let mut a = Member::new(&mut rng);
    let mut b = Member::new(&mut rng);
    let sa = Session::initiate(&a.identity, &b.bundle()).unwrap();
    let sb = both_initiate.then(|| Session::initiate(&b.identity, &a.bundle()).unwrap());
    let mut sides = [
        Side {
            member: a,
            session: Some(sa),
            inbox: VecDeque::new(),
        },
        Side {
            member: b,
            session: sb,
            inbox: VecDeque::new(),
        },
    ];
    let mut counter = 0u32;
    for &act in actions {
        match act {
            Action::Send(s) => {
                let Some(session) = sides[s].session.as_mut() else {
                    continue; // B has no session until A's first message arrives
                };
                counter += 1;
                let pt = format!("{s}:{counter}").into_bytes();
                let c = session.send(&mut rng, &pt).unwrap();
                sides[1 - s].inbox.push_back((c, pt));
            }
            Action::Deliver(s) => {
                let Some((c, pt)) = sides[s].inbox.pop_front() else {
                    continue;
                };
                let peer = sides[1 - s].member.id;
                let side = &mut sides[s];
                let got = match side.session.as_mut() {
                    Some(session) => session.receive(&mut side.member.store, &c).unwrap(),
                    None => {
                        let (session, m) =
                            Session::accept(&mut side.member.store, &peer, &c).unwrap();
                        side.session = Some(session);
                        m
                    }
                };
                prop_assert_eq!(got.expose_secret(), pt.as_slice());
            }
            Action::Reorder(s) => {
                let side = &mut sides[s];
                if side.inbox.len() < 2 {
                    continue;
                }
                let Some(session) = side.session.as_mut() else {
                    continue;
                };
                let before = session.to_bytes();
                let err = session
                    .receive(&mut side.member.store, &side.inbox[1].0)
                    .unwrap_err();
                prop_assert!(matches!(err, TwoSmError::OutOfOrder { .. }), "{:?}", err);
                prop_assert_eq!(session.to_bytes(), before);
            }
        }
    }
    // Drain everything: every message still decrypts.
    for s in [0, 1, 0, 1] {
        while let Some((c, pt)) = sides[s].inbox.pop_front() {
            let peer = sides[1 - s].member.id;
            let side = &mut sides[s];
            let got = match side.session.as_mut() {
                Some(session) => session.receive(&mut side.member.store, &c).unwrap(),
                None => {
                    let (session, m) = Session::accept(&mut side.member.store, &peer, &c).unwrap();
                    side.session = Some(session);
                    m
                }
            };
            prop_assert_eq!(got.expose_secret(), pt.as_slice());
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn interleavings_decrypt_to_sent_plaintexts(
        seed in any::<u64>(),
        both_initiate in any::<bool>(),
        actions in prop::collection::vec(action(), 0..40),
    ) {
        run(seed, both_initiate, &actions)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let (mut r, mut a, mut b, mut sa, mut sb) = common::established(7);
        let before = sb.to_bytes();
        prop_assert!(sb.receive(&mut b.store, &bytes).is_err());
        prop_assert_eq!(sb.to_bytes(), before);
        let _ = Session::accept(&mut b.store, &a.id, &bytes);
        let _ = Session::from_bytes(&bytes);
        let _ = PrekeyStore::from_bytes(&bytes);
        let _ = PrekeyBundle::from_bytes(&bytes);
        // Still usable.
        let c = sa.send(&mut r, b"ok").unwrap();
        let m = sb.receive(&mut b.store, &c).unwrap();
        prop_assert_eq!(m.expose_secret(), b"ok");
        let _ = &mut a;
    }

    #[test]
    fn mutated_messages_are_rejected_without_state_change(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        first_contact in any::<bool>(),
    ) {
        let (mut r, a, mut b, mut sa, mut sb) = common::established(8);
        let good = if first_contact {
            // A fresh first-contact message to B from a third member.
            let mut c = Member::new(&mut r);
            let mut s = Session::initiate(&c.identity, &b.bundle()).unwrap();
            let _ = &mut c;
            (s.send(&mut r, b"fc").unwrap(), Some(c.id))
        } else {
            (sa.send(&mut r, b"regular").unwrap(), None)
        };
        let mut bad = good.0.clone();
        for (i, x) in &edits {
            let i = i.index(bad.len());
            bad[i] ^= x | 1;
        }
        let store_before = b.store.to_bytes();
        match good.1 {
            Some(sender) => prop_assert!(Session::accept(&mut b.store, &sender, &bad).is_err()),
            None => {
                let before = sb.to_bytes();
                prop_assert!(sb.receive(&mut b.store, &bad).is_err());
                prop_assert_eq!(sb.to_bytes(), before);
            }
        }
        prop_assert_eq!(b.store.to_bytes(), store_before);
        let _ = a;
    }
}
