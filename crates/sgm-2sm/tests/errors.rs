//! Bad input: each gives its typed error and leaves the state usable and
//! unchanged.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Member, established, rng};
use sgm_2sm::{PrekeyStore, Session, TwoSmError};
use sgm_crypto::SecretBytes;

/// Receives `bad` and checks that it fails with an error matching `expect`
/// without changing B's session or store, then that B still works.
fn rejected(
    sb: &mut Session,
    store: &mut PrekeyStore,
    bad: &[u8],
    expect: impl Fn(&TwoSmError) -> bool,
) {
    let (before, store_before) = (sb.to_bytes(), store.to_bytes());
    let err = sb.receive(store, bad).unwrap_err();
    assert!(expect(&err), "unexpected error {err:?}");
    assert!(err.is_peer_misbehaviour());
    assert_eq!(sb.to_bytes(), before, "state changed on {err:?}");
    assert_eq!(store.to_bytes(), store_before, "store changed on {err:?}");
}

fn deliver_ok(sa: &mut Session, sb: &mut Session, b_store: &mut PrekeyStore, m: &[u8]) {
    let mut r = rng(99);
    let c = sa.send(&mut r, m).unwrap();
    assert_eq!(
        sb.receive(b_store, &c).unwrap(),
        SecretBytes::new(m.to_vec())
    );
}

#[test]
fn tampered_ciphertext_header_and_enc() {
    let (mut rng, _a, mut b, mut sa, mut sb) = established(20);
    let good = sa.send(&mut rng, b"secret").unwrap();
    // Flip one bit at every position: every flip is caught, most as
    // authentication failures (header and body are authenticated), some as
    // malformed encodings or header mismatches.
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        rejected(&mut sb, &mut b.store, &bad, |_| true);
    }
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 1] ^= 0x80;
    rejected(&mut sb, &mut b.store, &bad, |e| {
        matches!(e, TwoSmError::AuthenticationFailed)
    });
    assert_eq!(
        sb.receive(&mut b.store, &good).unwrap().expose_secret(),
        b"secret"
    );
}

#[test]
fn replayed_ciphertext() {
    let (mut rng, _a, mut b, mut sa, mut sb) = established(21);
    let c = sa.send(&mut rng, b"once").unwrap();
    sb.receive(&mut b.store, &c).unwrap();
    rejected(&mut sb, &mut b.store, &c, |e| {
        matches!(
            e,
            TwoSmError::Replay {
                seq: 1,
                expected: 2
            }
        )
    });
    deliver_ok(&mut sa, &mut sb, &mut b.store, b"still fine");
}

#[test]
fn out_of_order_is_rejected_then_in_order_works() {
    let (mut rng, _a, mut b, mut sa, mut sb) = established(22);
    let c1 = sa.send(&mut rng, b"1").unwrap();
    let c2 = sa.send(&mut rng, b"2").unwrap();
    rejected(&mut sb, &mut b.store, &c2, |e| {
        matches!(
            e,
            TwoSmError::OutOfOrder {
                seq: 2,
                expected: 1
            }
        )
    });
    sb.receive(&mut b.store, &c1).unwrap();
    sb.receive(&mut b.store, &c2).unwrap();
}

#[test]
fn ciphertext_for_another_peer() {
    let (mut rng, _a, mut b, mut sa, mut sb) = established(23);
    // C has its own session with A; A's message for B is delivered to C.
    let mut c = Member::new(&mut rng);
    let a2 = _a;
    let mut sac = Session::initiate(&a2.identity, &c.bundle()).unwrap();
    let f = sac.send(&mut rng, b"to C").unwrap();
    let (mut sc, _) = Session::accept(&mut c.store, &a2.id, &f).unwrap();
    let for_b = sa.send(&mut rng, b"to B").unwrap();
    // Both member ids are in the associated data (they do not travel), so a
    // message at the wrong recipient or from the wrong sender fails to open.
    rejected(&mut sc, &mut c.store, &for_b, |e| {
        matches!(e, TwoSmError::AuthenticationFailed)
    });
    // A's message for C is delivered to B's session with A.
    let for_c = sac.send(&mut rng, b"to C again").unwrap();
    rejected(&mut sb, &mut b.store, &for_c, |e| {
        matches!(e, TwoSmError::AuthenticationFailed)
    });
    // A message from C delivered to B's session with A: wrong sender.
    let mut sbc = Session::initiate(&c.identity, &b.bundle()).unwrap();
    let from_c = sbc.send(&mut rng, b"from C").unwrap();
    rejected(&mut sb, &mut b.store, &from_c, |e| {
        // C's first message has seq 0, which B's session with A is past.
        matches!(e, TwoSmError::Replay { seq: 0, .. })
    });
    let from_c_later = sbc.send(&mut rng, b"from C, seq 1").unwrap();
    rejected(&mut sb, &mut b.store, &from_c_later, |e| {
        matches!(e, TwoSmError::AuthenticationFailed)
    });
    assert_eq!(
        sb.receive(&mut b.store, &for_b).unwrap().expose_secret(),
        b"to B"
    );
}

#[test]
fn truncated_and_random_bytes() {
    let (mut rng, _a, mut b, mut sa, mut sb) = established(24);
    let good = sa.send(&mut rng, b"whole").unwrap();
    for len in 0..good.len() {
        rejected(&mut sb, &mut b.store, &good[..len], |e| {
            matches!(
                e,
                TwoSmError::Malformed { .. }
                    | TwoSmError::AuthenticationFailed
                    | TwoSmError::UnsupportedVersion { .. }
            )
        });
    }
    rejected(&mut sb, &mut b.store, &[0xff; 77], |e| {
        matches!(e, TwoSmError::Malformed { .. })
    });
    rejected(&mut sb, &mut b.store, b"", |e| {
        matches!(e, TwoSmError::UnsupportedVersion { version: 0, .. })
    });
    assert_eq!(
        sb.receive(&mut b.store, &good).unwrap().expose_secret(),
        b"whole"
    );
}

#[test]
fn accept_rejects_non_first_contact_and_wrong_sender() {
    let (mut rng, a, mut b, mut sa, _sb) = established(26);
    let regular = sa.send(&mut rng, b"r").unwrap();
    let store_before = b.store.to_bytes();
    assert_eq!(
        Session::accept(&mut b.store, &a.id, &regular).unwrap_err(),
        TwoSmError::NotFirstContact
    );
    let mut c = Member::new(&mut rng);
    let mut sac = Session::initiate(&a.identity, &c.bundle()).unwrap();
    let f = sac.send(&mut rng, b"f").unwrap();
    let c_before = c.store.to_bytes();
    // Claimed by the wrong sender, or delivered to the wrong responder: the
    // ids in the associated data differ, so the ciphertext does not open.
    assert_eq!(
        Session::accept(&mut c.store, &b.id, &f).unwrap_err(),
        TwoSmError::AuthenticationFailed
    );
    let e = Session::accept(&mut b.store, &a.id, &f).unwrap_err();
    assert!(
        matches!(
            e,
            TwoSmError::AuthenticationFailed
                | TwoSmError::UnknownOneTimePrekey { .. }
                | TwoSmError::PrekeyReused { .. }
        ),
        "{e:?}"
    );
    assert_eq!(b.store.to_bytes(), store_before);
    assert_eq!(c.store.to_bytes(), c_before);
    Session::accept(&mut c.store, &a.id, &f).unwrap();
}

#[test]
fn prekey_reuse_is_an_error() {
    let mut rng = rng(27);
    let a = Member::new(&mut rng);
    let mut b = Member::new(&mut rng);
    let bundle = b.bundle();
    // A buggy key server hands the same one-time prekey to two sessions.
    let mut s1 = Session::initiate(&a.identity, &bundle).unwrap();
    let mut s2 = Session::initiate(&a.identity, &bundle).unwrap();
    let f1 = s1.send(&mut rng, b"1").unwrap();
    let f2 = s2.send(&mut rng, b"2").unwrap();
    Session::accept(&mut b.store, &a.id, &f1).unwrap();
    let before = b.store.to_bytes();
    assert_eq!(
        Session::accept(&mut b.store, &a.id, &f2).unwrap_err(),
        TwoSmError::PrekeyReused {
            id: bundle.bundle().one_time_prekey.id
        }
    );
    // Replaying the very first message is also caught by the prekey.
    assert!(matches!(
        Session::accept(&mut b.store, &a.id, &f1),
        Err(TwoSmError::PrekeyReused { .. })
    ));
    assert_eq!(b.store.to_bytes(), before);
}

#[test]
fn bad_bundle_signature_and_identity() {
    let mut rng = rng(28);
    let mut b = Member::new(&mut rng);
    let c = Member::new(&mut rng);
    let bundle = b.published.fetch().unwrap();
    let mut bad = bundle;
    let mut sig = bad.signed_prekey.signature.to_bytes();
    sig[10] ^= 1;
    bad.signed_prekey.signature = sgm_crypto::Signature::from_bytes(sig);
    assert_eq!(
        bad.verify(&b.id).unwrap_err(),
        TwoSmError::BadPrekeySignature { id: 1 }
    );
    // A prekey swapped under a valid signature.
    let mut swapped = bundle;
    swapped.signed_prekey.public = swapped.one_time_prekey.public;
    assert!(matches!(
        swapped.verify(&b.id),
        Err(TwoSmError::BadPrekeySignature { .. })
    ));
    // A bundle served for the wrong member.
    assert!(matches!(
        bundle.verify(&c.id),
        Err(TwoSmError::IdentityMismatch { .. })
    ));
    // Low-order one-time prekey.
    let mut low = bundle;
    low.one_time_prekey.public = sgm_crypto::X25519PublicKey::from_bytes([0; 32]);
    assert!(matches!(
        low.verify(&b.id),
        Err(TwoSmError::InvalidPublicKey { .. })
    ));
    // Wire round trip of the bundle, and garbage.
    assert_eq!(
        sgm_2sm::PrekeyBundle::from_bytes(&bundle.to_bytes()).unwrap(),
        bundle
    );
    assert!(sgm_2sm::PrekeyBundle::from_bytes(&[1, 2, 3]).is_err());
    bundle.verify(&b.id).unwrap();
}

#[test]
fn exhausted_bundle() {
    let mut rng = rng(29);
    let identity = sgm_crypto::SigningKey::generate(&mut rng);
    let (mut store, mut published) = PrekeyStore::publish(&mut rng, &identity, 1);
    published.fetch().unwrap();
    assert_eq!(published.fetch().unwrap_err(), TwoSmError::NoOneTimePrekey);
    let more = store.add_one_time_prekeys(&mut rng, 2);
    assert_eq!(more.iter().map(|k| k.id).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(store.published().one_time_prekeys.len(), 3);
}

#[test]
fn signed_prekey_rotation_with_grace_period() {
    let mut rng = rng(30);
    let a = Member::new(&mut rng);
    let mut b = Member::new(&mut rng);
    let old_bundle = b.bundle();
    let mut s_old = Session::initiate(&a.identity, &old_bundle).unwrap();
    let f_old = s_old.send(&mut rng, b"made before rotation").unwrap();
    let mut s_old2 = Session::initiate(&a.identity, &b.bundle()).unwrap();
    let f_old2 = s_old2.send(&mut rng, b"also old").unwrap();

    let now = 1_000_000;
    let new_spk = b
        .store
        .rotate_signed_prekey(&mut rng, &b.identity, now)
        .unwrap();
    assert_eq!(new_spk.id, 2);
    // The key server learns the new signed prekey; it keeps serving the
    // one-time prekeys it has not handed out yet.
    b.published.signed_prekey = new_spk;
    // Within the grace period the retired prekey still opens.
    b.store
        .expire(now + sgm_2sm::SIGNED_PREKEY_GRACE_PERIOD_SECS - 1);
    Session::accept(&mut b.store, &a.id, &f_old).unwrap();
    // After it, it is gone.
    b.store
        .expire(now + sgm_2sm::SIGNED_PREKEY_GRACE_PERIOD_SECS);
    assert_eq!(
        Session::accept(&mut b.store, &a.id, &f_old2).unwrap_err(),
        TwoSmError::UnknownSignedPrekey { id: 1 }
    );
    // New bundles use the new prekey.
    let mut s_new = Session::initiate(&a.identity, &b.bundle()).unwrap();
    let f_new = s_new.send(&mut rng, b"new").unwrap();
    Session::accept(&mut b.store, &a.id, &f_new).unwrap();
    // Only the owner can rotate.
    assert!(matches!(
        b.store.rotate_signed_prekey(&mut rng, &a.identity, now),
        Err(TwoSmError::WrongStore { .. })
    ));
    // Rotating often keeps a bounded number of retired prekeys.
    for i in 0..10 {
        b.store
            .rotate_signed_prekey(&mut rng, &b.identity, now + i)
            .unwrap();
    }
    let dbg = format!("{:?}", b.store);
    assert!(dbg.contains("retired_ids: [8, 9, 10, 11]"), "{dbg}");
}

#[test]
fn debug_output_is_redacted() {
    let (_rng, _a, b, sa, _sb) = established(31);
    let s = format!("{sa:?} {:?}", b.store);
    assert!(s.contains("[redacted]"));
    let secret_hex = hex::encode(sa.to_bytes().expose_secret());
    // No 8-byte window of the serialized secrets appears in Debug output.
    assert!(!s.contains(&secret_hex[secret_hex.len() - 16..]));
}

#[test]
fn state_decoding_rejects_garbage() {
    let (_rng, _a, b, sa, _sb) = established(32);
    assert!(Session::from_bytes(&[0xff; 40]).is_err());
    assert!(PrekeyStore::from_bytes(&[0xff; 40]).is_err());
    let mut bytes = sa.to_bytes().expose_secret().to_vec();
    bytes[1] ^= 0x7f; // version
    assert!(matches!(
        Session::from_bytes(&bytes),
        Err(TwoSmError::UnsupportedVersion { .. }) | Err(TwoSmError::Malformed { .. })
    ));
    let _ = b;
}
