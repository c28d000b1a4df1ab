//! First contact over an authenticated transport (`InitiatorAuth::Transport`):
//! no identity signature in the message, the rest as with a signed one; and
//! neither side accepts the other mode.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Member, rng};
use sgm_2sm::{InitiatorAuth, Session, TwoSmError};

const TRANSPORT: InitiatorAuth = InitiatorAuth::Transport;

#[test]
fn transport_authenticated_first_contact_round_trips_and_is_shorter_by_the_signature() {
    let mut r = rng(71);
    let a = Member::new(&mut r);
    let mut b = Member::new(&mut r);
    let mut signed = Session::initiate(&a.identity, &b.bundle()).unwrap();
    let mut plain = Session::initiate_with(&a.identity, &b.bundle(), TRANSPORT).unwrap();
    let with_signature = signed.send(&mut r, b"seed").unwrap();
    let first = plain.send(&mut r, b"seed").unwrap();
    // The 64-byte signature and its field header; enclosing lengths may
    // shrink by a byte more.
    let saved = with_signature.len() - first.len();
    assert!((66..=68).contains(&saved), "{saved}");

    let (mut sb, m) = Session::accept_with(&mut b.store, &a.id, &first, TRANSPORT).unwrap();
    assert_eq!(m.expose_secret(), b"seed");
    assert_eq!(sb.peer_identity(), &a.identity.verifying_key());
    // The session goes on as any other, in both directions, and persists.
    let reply = sb.send(&mut r, b"ack").unwrap();
    assert_eq!(
        plain
            .receive(&mut b.store.clone(), &reply)
            .unwrap()
            .expose_secret(),
        b"ack"
    );
    let restored = Session::from_bytes(sb.to_bytes().expose_secret()).unwrap();
    assert_eq!(
        restored.to_bytes().expose_secret(),
        sb.to_bytes().expose_secret()
    );
}

#[test]
fn a_pending_transport_session_persists() {
    let mut r = rng(72);
    let a = Member::new(&mut r);
    let mut b = Member::new(&mut r);
    let pending = Session::initiate_with(&a.identity, &b.bundle(), TRANSPORT).unwrap();
    let mut restored = Session::from_bytes(pending.to_bytes().expose_secret()).unwrap();
    assert!(restored.first_contact_pending());
    let first = restored.send(&mut r, b"x").unwrap();
    Session::accept_with(&mut b.store, &a.id, &first, TRANSPORT).unwrap();
}

#[test]
fn each_mode_refuses_the_other_and_changes_nothing() {
    let mut r = rng(73);
    let a = Member::new(&mut r);
    let mut b = Member::new(&mut r);
    let unsigned = Session::initiate_with(&a.identity, &b.bundle(), TRANSPORT)
        .unwrap()
        .send(&mut r, b"u")
        .unwrap();
    let signed = Session::initiate(&a.identity, &b.bundle())
        .unwrap()
        .send(&mut r, b"s")
        .unwrap();
    let before = b.store.to_bytes();
    // Over an unauthenticated transport a first contact must be signed:
    // anyone can seal to published prekeys.
    assert!(matches!(
        Session::accept(&mut b.store, &a.id, &unsigned),
        Err(TwoSmError::Malformed { .. } | TwoSmError::BadFirstContactSignature)
    ));
    // A signed first contact where the transport authenticates: the two
    // sides disagree on the session's authentication.
    assert!(matches!(
        Session::accept_with(&mut b.store, &a.id, &signed, TRANSPORT),
        Err(TwoSmError::Malformed { .. })
    ));
    assert_eq!(b.store.to_bytes(), before);
    // Each is accepted in its own mode.
    Session::accept_with(&mut b.store, &a.id, &unsigned, TRANSPORT).unwrap();
    Session::accept(&mut b.store, &a.id, &signed).unwrap();
}

#[test]
fn the_transport_named_sender_must_match_the_identity_key() {
    let mut r = rng(74);
    let a = Member::new(&mut r);
    let mut b = Member::new(&mut r);
    let c = Member::new(&mut r);
    let first = Session::initiate_with(&a.identity, &b.bundle(), TRANSPORT)
        .unwrap()
        .send(&mut r, b"from A")
        .unwrap();
    let before = b.store.to_bytes();
    // Claimed by C: the sender id in the associated data differs.
    assert_eq!(
        Session::accept_with(&mut b.store, &c.id, &first, TRANSPORT).unwrap_err(),
        TwoSmError::AuthenticationFailed
    );
    assert_eq!(b.store.to_bytes(), before);
}

#[test]
fn crossing_transport_first_contacts() {
    let mut r = rng(75);
    let mut a = Member::new(&mut r);
    let mut b = Member::new(&mut r);
    let mut sa = Session::initiate_with(&a.identity, &b.bundle(), TRANSPORT).unwrap();
    let mut sb = Session::initiate_with(&b.identity, &a.bundle(), TRANSPORT).unwrap();
    let from_a = sa.send(&mut r, b"a1").unwrap();
    let from_b = sb.send(&mut r, b"b1").unwrap();
    assert_eq!(
        sa.receive(&mut a.store, &from_b).unwrap().expose_secret(),
        b"b1"
    );
    assert_eq!(
        sb.receive(&mut b.store, &from_a).unwrap().expose_secret(),
        b"a1"
    );
    let next = sa.send(&mut r, b"a2").unwrap();
    assert_eq!(
        sb.receive(&mut b.store, &next).unwrap().expose_secret(),
        b"a2"
    );
}
