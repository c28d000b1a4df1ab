//! White-box tests: forward secrecy and post-compromise security checked
//! against *every* secret key a state holds, and error paths that need a
//! crafted peer state.

use sgm_crypto::{
    HpkeCiphertext, MemberId, SeedableRng, SigningKey, X25519PublicKey, X25519SecretKey, hpke_open,
};

use crate::session::{INFO_MESSAGE, PeerKey};
use crate::wire::UnverifiedMessage;
use crate::{PrekeyStore, SendRandomness, Session, TwoSmError};

type Rng = rand_chacha::ChaCha20Rng;

struct Fixture {
    rng: Rng,
    a_store: PrekeyStore,
    b_store: PrekeyStore,
    a: Session,
    b: Session,
}

fn fixture(seed: u64) -> Fixture {
    let mut rng = Rng::seed_from_u64(seed);
    let ida = SigningKey::generate(&mut rng);
    let idb = SigningKey::generate(&mut rng);
    let (a_store, _) = PrekeyStore::publish(&mut rng, &ida, 4);
    let (mut b_store, mut b_pub) = PrekeyStore::publish(&mut rng, &idb, 4);
    let bundle = b_pub
        .fetch()
        .unwrap()
        .verify(&MemberId::from_identity_key(&idb.verifying_key()))
        .unwrap();
    let mut a = Session::initiate(&ida, &bundle).unwrap();
    let f = a.send(&mut rng, b"first").unwrap();
    let (b, _) = Session::accept(&mut b_store, &a.member_id(), &f).unwrap();
    Fixture {
        rng,
        a_store,
        b_store,
        a,
        b,
    }
}

/// Every secret key in a state: own keys, the received key, and (for an
/// adversary that also stole the prekey store) nothing else is needed here.
fn all_secret_keys(s: &Session) -> Vec<X25519SecretKey> {
    s.own_keys
        .values()
        .cloned()
        .chain(s.received_key.clone())
        .collect()
}

/// True if any key in `keys` opens the (regular) message, whichever of
/// the two members it is taken to be from.
fn any_key_opens(keys: &[X25519SecretKey], message: &[u8], f: &Fixture) -> bool {
    let (a, b) = (f.a.member_id(), f.b.member_id());
    [(a, b), (b, a)].into_iter().any(|(from, to)| {
        let msg = UnverifiedMessage::decode(message, from, to).unwrap();
        let sealed: &HpkeCiphertext = &msg.sealed;
        keys.iter()
            .any(|sk| hpke_open(sk, sealed, INFO_MESSAGE, &msg.associated_data).is_ok())
    })
}

#[test]
fn forward_secrecy_snapshot_after_k_cannot_open_k_or_earlier() {
    let mut f = fixture(40);
    // A mix of one-sided and alternating traffic from B to A.
    let mut sent = Vec::new();
    for i in 0..12u8 {
        sent.push(f.b.send(&mut f.rng, &[i]).unwrap());
        if i % 3 == 2 {
            // A answers now and then, so both key kinds get used.
            for c in sent.drain(..) {
                f.a.receive(&mut f.a_store, &c).unwrap();
            }
            let c = f.a.send(&mut f.rng, b"ack").unwrap();
            f.b.receive(&mut f.b_store, &c).unwrap();
        }
    }
    // Now one message at a time with snapshots.
    let mut history = Vec::new();
    for k in 0..8u8 {
        let c = f.b.send(&mut f.rng, &[k]).unwrap();
        // Before receiving, A's state can open it (the test can fail).
        assert!(any_key_opens(&all_secret_keys(&f.a), &c, &f));
        f.a.receive(&mut f.a_store, &c).unwrap();
        history.push(c);
        let snapshot = Session::from_bytes(f.a.to_bytes().expose_secret()).unwrap();
        let keys = all_secret_keys(&snapshot);
        for (j, old) in history.iter().enumerate() {
            assert!(
                !any_key_opens(&keys, old, &f),
                "snapshot after {k} opens {j}"
            );
        }
        if k % 2 == 1 {
            let r = f.a.send(&mut f.rng, b"r").unwrap();
            f.b.receive(&mut f.b_store, &r).unwrap();
        }
    }
}

#[test]
fn post_compromise_security_after_one_message() {
    let mut f = fixture(41);
    for _ in 0..3 {
        let c = f.a.send(&mut f.rng, b"x").unwrap();
        f.b.receive(&mut f.b_store, &c).unwrap();
        let c = f.b.send(&mut f.rng, b"y").unwrap();
        f.a.receive(&mut f.a_store, &c).unwrap();
    }
    // The adversary copies A's whole state.
    let mut adversary = Session::from_bytes(f.a.to_bytes().expose_secret()).unwrap();
    let mut adversary_store = f.a_store.clone();
    // Without healing, the copy reads B's next message (so the test can fail).
    let mut b_probe = f.b.clone();
    let probe = b_probe.send(&mut Rng::seed_from_u64(1), b"probe").unwrap();
    assert_eq!(
        adversary
            .clone()
            .receive(&mut adversary_store, &probe)
            .unwrap()
            .expose_secret(),
        b"probe"
    );
    // A sends once with randomness the adversary does not see.
    let mut hidden = Rng::seed_from_u64(0x5ec12e7);
    let heal = f.a.send(&mut hidden, b"heal").unwrap();
    f.b.receive(&mut f.b_store, &heal).unwrap();
    // Everything afterwards, both directions, is closed to the copy.
    let adversary_keys = all_secret_keys(&adversary);
    for i in 0..6u8 {
        let c = f.b.send(&mut f.rng, &[i]).unwrap();
        assert!(!any_key_opens(&adversary_keys, &c, &f));
        assert!(adversary.clone().receive(&mut adversary_store, &c).is_err());
        f.a.receive(&mut f.a_store, &c).unwrap();
        if i % 2 == 0 {
            let c = f.a.send(&mut f.rng, &[i]).unwrap();
            assert!(!any_key_opens(&adversary_keys, &c, &f));
            f.b.receive(&mut f.b_store, &c).unwrap();
        }
    }
    // Nor can it learn the new keys from the healing message: it was sealed
    // to B's key, which A's state never held.
    assert!(!any_key_opens(&adversary_keys, &heal, &f));
    assert!(adversary.receive(&mut adversary_store, &heal).is_err());
}

#[test]
fn unknown_key_index_is_typed() {
    let mut f = fixture(42);
    let c = f.b.send(&mut f.rng, b"b").unwrap();
    f.a.receive(&mut f.a_store, &c).unwrap();
    // A's view of B claims an index B never issued.
    let PeerKey::Announced { public, .. } = f.a.peer_key.clone() else {
        panic!("A received last")
    };
    f.a.peer_key = PeerKey::Announced { index: 999, public };
    let bad = f.a.send(&mut f.rng, b"?").unwrap();
    let before = f.b.to_bytes();
    assert_eq!(
        f.b.receive(&mut f.b_store, &bad).unwrap_err(),
        TwoSmError::UnknownKeyIndex { index: 999 }
    );
    assert_eq!(f.b.to_bytes(), before);
}

#[test]
fn missing_received_key_is_typed() {
    let mut f = fixture(43);
    // A initiated and never received, so it holds no peer-generated key;
    // B pretends it had sent before.
    f.b.peer_key = PeerKey::SenderGenerated(X25519PublicKey::basepoint());
    let bad = f.b.send(&mut f.rng, b"?").unwrap();
    assert_eq!(
        f.a.receive(&mut f.a_store, &bad).unwrap_err(),
        TwoSmError::NoReceivedKey
    );
}

#[test]
fn randomness_must_match_the_phase() {
    let mut f = fixture(44);
    let mut r = SendRandomness::draw(&mut f.rng, true);
    let before = f.a.to_bytes();
    assert!(matches!(
        f.a.send_with(r, b"x"),
        Err(TwoSmError::RandomnessMismatch(_))
    ));
    assert_eq!(f.a.to_bytes(), before);
    let mut rng = Rng::seed_from_u64(5);
    let ida = SigningKey::generate(&mut rng);
    let idb = SigningKey::generate(&mut rng);
    let (_, mut p) = PrekeyStore::publish(&mut rng, &idb, 1);
    let bundle = p
        .fetch()
        .unwrap()
        .verify(&MemberId::from_identity_key(&idb.verifying_key()))
        .unwrap();
    let mut s = Session::initiate(&ida, &bundle).unwrap();
    r = SendRandomness::draw(&mut rng, false);
    assert!(!TwoSmError::RandomnessMismatch("").is_peer_misbehaviour());
    assert!(matches!(
        s.send_with(r, b"x"),
        Err(TwoSmError::RandomnessMismatch(_))
    ));
    assert!(s.first_contact_pending());
    assert!(matches!(
        Session::initiate(&idb, &bundle),
        Err(TwoSmError::SelfSession)
    ));
}
