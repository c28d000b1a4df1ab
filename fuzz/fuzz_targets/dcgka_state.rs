//! sgm-dcgka: persisted state (`Dcgka::from_bytes`), `process_bytes` on a
//! member and on a non-member (the spare, whose welcome is recorded), and
//! `decrypt`. State unchanged on error; accepted states round-trip.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sgm_dcgka::Dcgka;
use sgm_fuzz::dcgka_fixture::{fixture, unframe};
use sgm_fuzz::{Input, rng};

fn recorded() -> &'static Vec<Vec<u8>> {
    static R: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    R.get_or_init(|| {
        let f = fixture();
        [&f.framed, &f.states, &f.application]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    })
}

fn state(d: &Dcgka) -> Vec<u8> {
    d.to_bytes().expose_secret().to_vec()
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let input = Input::split(data, recorded());
    let bytes = &*input.bytes;
    match input.selector % 4 {
        0 => {
            if let Ok(d) = Dcgka::from_bytes(bytes) {
                let once = state(&d);
                let back = Dcgka::from_bytes(&once).expect("re-decode");
                assert_eq!(once, state(&back));
            }
        }
        s @ (1 | 2) => {
            let mut d = if s == 1 {
                f.member.clone()
            } else {
                f.spare.clone()
            };
            let (sender, control, direct) = unframe(bytes);
            let sender = f.ids[usize::from(sender) % f.ids.len()];
            let mut directory = f.directory.clone();
            let before = state(&d);
            let result = d.process_bytes(sender, control, direct, &mut rng(5), &mut directory);
            match result {
                Err(_) => assert_eq!(before, state(&d)),
                Ok(_) => {
                    let once = state(&d);
                    let back = Dcgka::from_bytes(&once).expect("restore");
                    assert_eq!(once, state(&back));
                }
            }
        }
        _ => {
            let mut d = f.member.clone();
            let sender = f.ids[usize::from(input.selector >> 2) % f.ids.len()];
            let before = state(&d);
            if d.decrypt(&sender, bytes, b"aad").is_err() {
                assert_eq!(before, state(&d));
            }
        }
    }
});
