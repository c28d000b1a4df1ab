//! Known answers from mpenc_js's own test suite (`test/test_data.js`,
//! `test/mpenc/*_test.js` of meganz/mpenc_js): packets mpenc_js produced,
//! which this crate must reproduce byte for byte and parse.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sgm_crypto::{Secret, SigningKey, VerifyingKey};
use sgm_mpenc::aske::compute_sid;
use sgm_mpenc::cliques::derive_group_key;
use sgm_mpenc::codec::{self, WirePacket};
use sgm_mpenc::data;
use sgm_mpenc::greet_message::{GreetMessage, UnverifiedGreet, greet_type};

fn b64(s: &str) -> Vec<u8> {
    STANDARD.decode(s).unwrap()
}

const ED25519_PRIV_KEY: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
const ED25519_PUB_KEY: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const C25519_PUB_KEY: &str = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
const SESSION_ID: &str = "tmfwrDEJQq2dGb+yv1OVC6SIPOdqaEwju1J9++G/fJ8=";
const GROUP_KEY: &str = "Fla5bB1SQ2itQ+XRUXGAVg==";
const UPFLOW_MESSAGE_STRING: &str = concat!(
    "AAMAQBTmYCWuBrUMDbKr7Ue8vKla0lHIzJ+dGSvBPdqG",
    "RWFP9WOCzUxtfdQ1H6VLoIuqRNJtYhWptglzcyCkrc",
    "4jXAcAAQABAQACAAECAf8AAgCcAQAAATEBAQABMgEC",
    "AAExAQIAATIBAgABMwECAAE0AQIAATUBAgABNgEDAA",
    "ABAwAghSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066Sp",
    "jqqbTmoBBAAghSDwCYkwp1R0i33ctD73Wg2/Og0mOB",
    "r066SpjqqbTmoBBQAg11qYAYKxCrfVS/7TyWQHOg7h",
    "cvPapiMlrwIaaPcHURo="
);
const DOWNFLOW_MESSAGE_STRING: &str = concat!(
    "AAMAQEI7aL7VPi+ay79q4wImezN4Sc1qVmo1vUT3KZ",
    "z03btjuiiHHoN7H+nvWdtjoqWqn4Zuc6Gm7sPcfq",
    "bdLFsOPw0AAQABAQACAAECAf8AAgDTAQAAATEBAQ",
    "AAAQcAIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGX",
    "A7rAMcrn9g"
);
const DATA_MESSAGE_STRING: &str = concat!(
    "ABIAAVQAAwBAsqcfdFBp1P+ei9LTWIGpXn144fzi3UorsC",
    "G7moGQzsoJFCJeLJYcj358uISQqRPej+nuscs7PPcMH58G",
    "bn1iAwABAAEBAAIAAQMAEQAMevs2iGlNE8kspMvZABAACY",
    "wQ7EMaeuivXg=="
);
const DATA_MESSAGE_STRING2: &str = concat!(
    "ABIAAVQAAwBAh/aR5NsEbF0bqwjdIjGCM11653LX07Lvc",
    "t86jiSuawHF63N21R8s/cP2WTl4/j2rVcDxnMAeqghnN0",
    "NfI/GwAgABAAEBAAIAAQMAEQAMYEJcgRKug0h+aSSBABA",
    "ACWT5Ftq26HvaBQ=="
);
const DATA_MESSAGE_STRING32: &str = concat!(
    "ABIAAVQAAwBAkJN7pyCATSef9Li1omFV4AKMf4y5koDM",
    "Em5uEtwnT1D3WiMdJs2cA7dMh2JYo9lXtDBt1YadRmT4",
    "cQwa7v3rCAABAAEBAAIAAQMAEQAMy3mFpbiHeD4F3n0u",
    "ABAACfWUXRE7ijLczA=="
);

fn arr<const N: usize>(s: &str) -> [u8; N] {
    b64(s).try_into().unwrap()
}

fn ephemeral() -> SigningKey {
    SigningKey::from_seed(&Secret::from_bytes(arr(ED25519_PRIV_KEY)))
}

#[test]
fn ed25519_key_pair() {
    assert_eq!(
        ephemeral().verifying_key().as_bytes(),
        &arr::<32>(ED25519_PUB_KEY)
    );
}

/// `ske_test.js`, "compute SID": order of the input does not matter.
#[test]
fn session_id() {
    let members: Vec<Vec<u8>> = ["3", "1", "2", "4", "5"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let nonces = ["3333", "1111", "2222", "4444", "5555"];
    assert_eq!(compute_sid(&members, &nonces).to_vec(), b64(SESSION_ID));
}

/// `cliques_test.js`, "deriveGroupKey() base case".
#[test]
fn group_key_derivation() {
    let gk = derive_group_key(&[0x0b; 22]).unwrap();
    assert_eq!(
        hex::encode(gk.expose_secret()),
        "c9cc6b03feceadd360859a46932477ca924cc646be0d6f07dc8c4e2d49bd6301"
    );
}

fn upflow_content() -> GreetMessage {
    GreetMessage {
        greet_type: greet_type::INIT_INITIATOR_UP,
        source: b"1".to_vec(),
        dest: b"2".to_vec(),
        members: ["1", "2", "3", "4", "5", "6"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
        int_keys: vec![None, Some(arr(C25519_PUB_KEY))],
        nonces: vec![arr(C25519_PUB_KEY)],
        pub_keys: vec![arr(ED25519_PUB_KEY)],
        metadata: None,
        session_signature: None,
        signing_key: None,
    }
}

/// `greeter_test.js`, "upflow message binary" and "decodeGreetMessage()".
#[test]
fn greet_upflow_packet() {
    let bytes = upflow_content().encode(&ephemeral()).unwrap();
    assert_eq!(STANDARD.encode(&bytes), UPFLOW_MESSAGE_STRING);
    let vk = VerifyingKey::from_bytes(&arr(ED25519_PUB_KEY)).unwrap();
    let decoded = UnverifiedGreet::decode(&b64(UPFLOW_MESSAGE_STRING)).unwrap();
    assert_eq!(decoded.clone().verify(&vk).unwrap(), upflow_content());
    assert_eq!(decoded.verify_self_claimed().unwrap(), upflow_content());
    let wire = codec::encode_wire(&bytes);
    assert!(matches!(
        codec::decode_wire(&wire).unwrap(),
        WirePacket::Mpenc {
            message_type: 2,
            ..
        }
    ));
}

/// `greeter_test.js`, "downflow message for quit binary".
#[test]
fn greet_quit_packet() {
    let quit = GreetMessage {
        greet_type: greet_type::QUIT_DOWN,
        source: b"1".to_vec(),
        dest: Vec::new(),
        members: Vec::new(),
        int_keys: Vec::new(),
        nonces: Vec::new(),
        pub_keys: Vec::new(),
        metadata: None,
        session_signature: None,
        signing_key: Some(arr(ED25519_PRIV_KEY)),
    };
    let bytes = quit.encode(&ephemeral()).unwrap();
    assert_eq!(STANDARD.encode(&bytes), DOWNFLOW_MESSAGE_STRING);
    let vk = VerifyingKey::from_bytes(&arr(ED25519_PUB_KEY)).unwrap();
    assert_eq!(
        UnverifiedGreet::decode(&bytes)
            .unwrap()
            .verify(&vk)
            .unwrap(),
        quit
    );
}

/// `greeter_test.js`, "wrong protocol version".
#[test]
fn greet_wrong_version() {
    let mut bytes = b64(UPFLOW_MESSAGE_STRING);
    bytes[72] = 77;
    assert_eq!(
        UnverifiedGreet::decode(&bytes).unwrap_err(),
        sgm_mpenc::MpencError::Version(77)
    );
}

/// `message_test.js`, "MessageSecurity.decrypt()": data messages mpenc_js
/// produced with a 16-byte group key, without and with padding (32).
#[test]
fn data_messages_from_mpenc_js() {
    let vk = VerifyingKey::from_bytes(&arr(ED25519_PUB_KEY)).unwrap();
    for s in [
        DATA_MESSAGE_STRING,
        DATA_MESSAGE_STRING2,
        DATA_MESSAGE_STRING32,
    ] {
        let wire = codec::encode_wire(&b64(s));
        let (msg, _id) = data::decrypt(&b64(SESSION_ID), &b64(GROUP_KEY), &vk, &wire).unwrap();
        assert_eq!(msg.body, b"foo");
        assert!(msg.parents.is_empty());
    }
}

/// Re-encrypting with the IV of mpenc_js's packet reproduces it exactly
/// (the three fixtures are unpadded: their payloads are 9 bytes).
#[test]
fn data_messages_reproduced() {
    for (s, pad) in [
        (DATA_MESSAGE_STRING, 0),
        (DATA_MESSAGE_STRING2, 0),
        (DATA_MESSAGE_STRING32, 0),
    ] {
        let bytes = b64(s);
        let records = codec::decode_records(&bytes).unwrap();
        let iv: [u8; 12] = records[4].value.try_into().unwrap();
        let msg = data::DataMessage {
            parents: Vec::new(),
            body: b"foo".to_vec(),
        };
        let (wire, _) = data::encrypt_with_iv(
            &b64(SESSION_ID),
            &b64(GROUP_KEY),
            &ephemeral(),
            &msg,
            pad,
            iv,
        )
        .unwrap();
        assert_eq!(wire, codec::encode_wire(&bytes));
    }
}

/// `message_test.js`, "data messages with exponential padding" (unit 32):
/// the content (after the wire decoding) is 135 bytes, or 135 + 32 when the
/// body needs a second padding unit.
#[test]
fn padded_data_message_sizes() {
    let mut rng = <rand_chacha::ChaCha20Rng as sgm_crypto::SeedableRng>::seed_from_u64(1);
    for body in [
        "42",
        "Don't panic!",
        "Flying Spaghetti Monster",
        "Ph'nglui mglw'nafh Cthulhu R'lyeh wgah'nagl fhtagn",
    ] {
        let msg = data::DataMessage {
            parents: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        let (wire, _) = data::encrypt(
            &b64(SESSION_ID),
            &b64(GROUP_KEY),
            &ephemeral(),
            &msg,
            32,
            &mut rng,
        )
        .unwrap();
        let content = codec::decode_wire_of_type(&wire, 3).unwrap();
        let expected = if body.len() + 6 <= 32 { 135 } else { 135 + 32 };
        assert_eq!(content.len(), expected, "{body}");
    }
}
