//! sgm-acb: envelope decode + verify (`SignedEnvelope`), `Acb::receive` on
//! a member that knows the sender (state unchanged on error), persisted
//! state (`Acb::restore`) and checkpoints (`Acb::adopt_checkpoint`).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sgm_acb::{Acb, AcbConfig, AllowAll, DirectPart, SignedEnvelope};
use sgm_crypto::{SigningKey, VerifyingKey};
use sgm_fuzz::{Input, rng};

struct Fixture {
    alice_key: VerifyingKey,
    /// Bob: knows alice, has delivered her first envelope only.
    bob: Acb,
    /// A fresh instance (for checkpoints).
    fresh: Acb,
    recorded: Vec<Vec<u8>>,
}

#[allow(clippy::unwrap_used)]
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = rng(4);
        let a = SigningKey::generate(&mut rng);
        let b = SigningKey::generate(&mut rng);
        let mut alice = Acb::new(a.clone(), AcbConfig::default());
        let mut bob = Acb::new(b.clone(), AcbConfig::default());
        let bob_id = alice.register_member(b.verifying_key());
        bob.register_member(a.verifying_key());
        let first = alice.broadcast(b"one".to_vec(), Vec::new()).unwrap();
        bob.receive(&first.bytes, &AllowAll).unwrap();
        let direct = vec![DirectPart {
            recipient: bob_id,
            body: vec![5; 40],
        }];
        let second = alice.broadcast(b"two".to_vec(), direct).unwrap();
        alice.rotate_signing_key(SigningKey::generate(&mut rng));
        let third = alice.broadcast(b"three".to_vec(), Vec::new()).unwrap();
        let fourth = alice.broadcast_leaf(b"leaf".to_vec(), Vec::new()).unwrap();
        let recorded = vec![
            second.bytes,
            third.bytes,
            fourth.bytes,
            first.bytes,
            alice.checkpoint(),
            bob.to_state_bytes().expose_secret().to_vec(),
        ];
        Fixture {
            alice_key: a.verifying_key(),
            bob,
            fresh: Acb::new(SigningKey::generate(&mut rng), AcbConfig::default()),
            recorded,
        }
    })
}

fn state(acb: &Acb) -> Vec<u8> {
    acb.to_state_bytes().expose_secret().to_vec()
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let input = Input::split(data, &f.recorded);
    let bytes = &*input.bytes;
    match input.selector % 4 {
        0 => {
            if let Ok(e) = SignedEnvelope::decode(bytes) {
                // Strict decoding: the envelope is exactly the input.
                assert_eq!(e.bytes(), bytes);
                let _ = e.verify(&f.alice_key);
            }
        }
        1 => {
            let mut bob = f.bob.clone();
            let before = state(&bob);
            if bob.receive(bytes, &AllowAll).is_err() {
                assert_eq!(before, state(&bob));
            }
        }
        2 => {
            if let Ok(acb) = Acb::restore(bytes, AcbConfig::default()) {
                let once = state(&acb);
                let back = Acb::restore(&once, AcbConfig::default()).expect("re-restore");
                assert_eq!(once, state(&back));
            }
        }
        _ => {
            let mut acb = f.fresh.clone();
            let before = state(&acb);
            if acb.adopt_checkpoint(bytes).is_err() {
                assert_eq!(before, state(&acb));
            }
        }
    }
});
