//! sgm-mpenc: the TLV decoder (`codec::decode_records`), wire packets
//! (`codec::decode_wire`), greeting content (`UnverifiedGreet::decode`)
//! and the persisted greeting store (`GreetStore::from_bytes`). Never
//! panic; records re-encode to exactly the input; a decoded packet's
//! content re-encodes to a packet that decodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sgm_fuzz::Input;
use sgm_mpenc::codec::{WirePacket, decode_records, decode_wire, encode_tlv, encode_wire};
use sgm_mpenc::greet_message::UnverifiedGreet;
use sgm_mpenc::greeter::GreetStore;

fuzz_target!(|data: &[u8]| {
    let input = Input::split(data, &[]);
    let bytes = &*input.bytes;
    match input.selector % 4 {
        0 => {
            if let Ok(records) = decode_records(bytes) {
                let mut out = Vec::with_capacity(bytes.len());
                for r in &records {
                    encode_tlv(&mut out, r.tlv_type, r.value).expect("a decoded value fits");
                }
                assert_eq!(out, bytes, "TLV records do not re-encode to their input");
            }
        }
        1 => {
            if let Ok(s) = core::str::from_utf8(bytes)
                && let Ok(WirePacket::Mpenc {
                    message_type,
                    content,
                }) = decode_wire(s)
            {
                let again = decode_wire(&encode_wire(&content)).expect("re-decode");
                assert_eq!(
                    again,
                    WirePacket::Mpenc {
                        message_type,
                        content
                    }
                );
            }
        }
        2 => {
            let _ = UnverifiedGreet::decode(bytes);
        }
        _ => {
            if let Ok(s) = GreetStore::from_bytes(bytes) {
                let once = s.to_bytes().expect("encode");
                let back = GreetStore::from_bytes(once.expose_secret()).expect("re-decode");
                let twice = back.to_bytes().expect("encode");
                assert_eq!(once.expose_secret(), twice.expose_secret());
            }
        }
    }
});
