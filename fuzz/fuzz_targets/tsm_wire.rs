//! sgm-2sm wire messages: first contact (`Session::accept`), later
//! messages (`Session::receive`) and persisted sessions
//! (`Session::from_bytes`). On error the session and the prekey store are
//! unchanged; what decodes re-encodes to a value that decodes the same.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sgm_2sm::{PrekeyStore, Session};
use sgm_crypto::{MemberId, SigningKey};
use sgm_fuzz::{Input, rng};

struct Fixture {
    alice: MemberId,
    /// Bob's store before alice's first contact.
    fresh_store: PrekeyStore,
    /// Bob's session and store after the first contact and one reply.
    session: Session,
    store: PrekeyStore,
    recorded: Vec<Vec<u8>>,
}

#[allow(clippy::unwrap_used)]
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = rng(2);
        let (a, b) = (
            SigningKey::generate(&mut rng),
            SigningKey::generate(&mut rng),
        );
        let (mut a_store, _) = PrekeyStore::publish(&mut rng, &a, 2);
        let (b_store, mut b_published) = PrekeyStore::publish(&mut rng, &b, 2);
        let b_id = MemberId::from_identity_key(&b.verifying_key());
        let bundle = b_published.fetch().unwrap().verify(&b_id).unwrap();
        let mut sa = Session::initiate(&a, &bundle).unwrap();
        let m1 = sa.send(&mut rng, b"first contact").unwrap();
        let alice = MemberId::from_identity_key(&a.verifying_key());
        let mut store = b_store.clone();
        let (mut sb, _) = Session::accept(&mut store, &alice, &m1).unwrap();
        let r1 = sb.send(&mut rng, b"reply").unwrap();
        sa.receive(&mut a_store, &r1).unwrap();
        let m2 = sa.send(&mut rng, b"second").unwrap();
        let m3 = sa.send(&mut rng, b"third").unwrap();
        let recorded = vec![
            m1,
            m2,
            m3,
            r1,
            sb.to_bytes().expose_secret().to_vec(),
            sa.to_bytes().expose_secret().to_vec(),
        ];
        Fixture {
            alice,
            fresh_store: b_store,
            session: sb,
            store,
            recorded,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let input = Input::split(data, &f.recorded);
    let bytes = &*input.bytes;
    match input.selector % 3 {
        0 => {
            let mut store = f.fresh_store.clone();
            let before = store.to_bytes();
            if Session::accept(&mut store, &f.alice, bytes).is_err() {
                assert_eq!(before.expose_secret(), store.to_bytes().expose_secret());
            }
        }
        1 => {
            let (mut session, mut store) = (f.session.clone(), f.store.clone());
            let (s0, k0) = (session.to_bytes(), store.to_bytes());
            match session.receive(&mut store, bytes) {
                Err(_) => {
                    assert_eq!(s0.expose_secret(), session.to_bytes().expose_secret());
                    assert_eq!(k0.expose_secret(), store.to_bytes().expose_secret());
                }
                Ok(_) => {
                    // The new state persists and restores.
                    let s1 = session.to_bytes();
                    let back = Session::from_bytes(s1.expose_secret()).expect("restore");
                    assert_eq!(s1.expose_secret(), back.to_bytes().expose_secret());
                }
            }
        }
        _ => {
            if let Ok(s) = Session::from_bytes(bytes) {
                let once = s.to_bytes();
                let back = Session::from_bytes(once.expose_secret()).expect("re-decode");
                assert_eq!(once.expose_secret(), back.to_bytes().expose_secret());
            }
        }
    }
});
