//! sgm-dcgka wire decoders: control, direct (standalone and addressed; the
//! welcome is a direct message) and application messages. Never panic;
//! what decodes re-encodes to bytes that decode to the same message.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sgm_crypto::{MEMBER_ID_LEN, MemberId};
use sgm_dcgka::messages::{ControlMessage, DirectMessage};
use sgm_dcgka::ratchet::ApplicationMessage;
use sgm_fuzz::Input;
use sgm_fuzz::dcgka_fixture::fixture;

fn recorded() -> &'static Vec<Vec<u8>> {
    static R: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    R.get_or_init(|| {
        let f = fixture();
        [&f.control, &f.direct, &f.application]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let input = Input::split(data, recorded());
    let bytes = &*input.bytes;
    match input.selector % 4 {
        0 => {
            if let Ok(m) = ControlMessage::from_bytes(bytes) {
                assert_eq!(ControlMessage::from_bytes(&m.to_bytes()).ok(), Some(m));
            }
        }
        1 => {
            if let Ok(m) = DirectMessage::from_bytes(bytes) {
                assert_eq!(DirectMessage::from_bytes(&m.to_bytes()).ok(), Some(m));
            }
        }
        2 => {
            let to = MemberId::from_bytes([input.selector; MEMBER_ID_LEN]);
            if let Ok(m) = DirectMessage::from_addressed_bytes(bytes, to) {
                let again = DirectMessage::from_addressed_bytes(&m.to_addressed_bytes(), to);
                assert_eq!(again.ok(), Some(m));
            }
        }
        _ => {
            if let Ok(m) = ApplicationMessage::from_bytes(bytes) {
                assert_eq!(ApplicationMessage::from_bytes(&m.to_bytes()).ok(), Some(m));
            }
        }
    }
});
