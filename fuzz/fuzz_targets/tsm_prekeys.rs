//! sgm-2sm prekey bundles (`PrekeyBundle::from_bytes` + `verify`) and
//! persisted prekey stores (`PrekeyStore::from_bytes`): never panic, and
//! what decodes re-encodes to a value that decodes the same.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sgm_2sm::{PrekeyBundle, PrekeyStore};
use sgm_crypto::{MemberId, SigningKey};
use sgm_fuzz::{Input, rng};

struct Fixture {
    owner: MemberId,
    recorded: Vec<Vec<u8>>,
}

#[allow(clippy::unwrap_used)]
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = rng(3);
        let sk = SigningKey::generate(&mut rng);
        let (store, mut published) = PrekeyStore::publish(&mut rng, &sk, 3);
        let bundle = published.fetch().unwrap();
        Fixture {
            owner: MemberId::from_identity_key(&sk.verifying_key()),
            recorded: vec![bundle.to_bytes(), store.to_bytes().expose_secret().to_vec()],
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let input = Input::split(data, &f.recorded);
    let bytes = &*input.bytes;
    if input.selector.is_multiple_of(2) {
        if let Ok(b) = PrekeyBundle::from_bytes(bytes) {
            assert_eq!(PrekeyBundle::from_bytes(&b.to_bytes()).ok(), Some(b));
            let own = MemberId::from_identity_key(&b.identity);
            // Whether it verifies depends on the signature; it must not
            // panic, and it verifies only for the member its key names.
            let _ = b.verify(&own);
            if own != f.owner {
                assert!(b.verify(&f.owner).is_err());
            }
        }
    } else if let Ok(s) = PrekeyStore::from_bytes(bytes) {
        let once = s.to_bytes();
        let back = PrekeyStore::from_bytes(once.expose_secret()).expect("re-decode");
        assert_eq!(once.expose_secret(), back.to_bytes().expose_secret());
    }
});
