//! Replays the committed `test-vectors/state.json` (storage stability of
//! the persisted `Group` state).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_messaging::vectors::{StateVectors, generate, replay};

const COMMITTED: &str = include_str!("../../../test-vectors/state.json");

fn committed() -> StateVectors {
    serde_json::from_str(COMMITTED).unwrap()
}

#[test]
fn committed_vectors_replay() {
    replay(&committed()).unwrap();
}

#[test]
fn committed_vectors_match_the_generator() {
    assert_eq!(committed(), generate(), "run `cargo xtask vectors`");
}

#[test]
fn changed_outputs_are_caught() {
    let v = committed();
    assert_eq!(v.version, 1);
    // A flipped byte in a state's framing (version, protobuf tag, the
    // config's JSON) is caught; `committed_vectors_match_the_generator`
    // catches any other byte the code would now write differently.
    let len = hex::decode(&v.states[0].state).unwrap().len();
    for i in [0usize, 1, len - 1] {
        let mut s = v.clone();
        let mut bytes = hex::decode(&s.states[0].state).unwrap();
        bytes[i] ^= 0x01;
        s.states[0].state = hex::encode(bytes);
        assert!(replay(&s).is_err(), "flip at byte {i} not caught");
    }
    let mut members = v.clone();
    members.states[1].members.pop();
    assert!(replay(&members).is_err());
    let mut transcript = v.clone();
    transcript.states[0].transcript[0].plaintext = hex::encode(b"HELLO");
    assert!(replay(&transcript).is_err());
    let mut id = v.clone();
    id.states[1].member_id = v.states[0].member_id.clone();
    assert!(replay(&id).is_err());
    let mut next = v.clone();
    next.next.plaintext = hex::encode(b"something else");
    assert!(replay(&next).is_err());
    let mut reply = v.clone();
    reply.reply.plaintext = hex::encode(b"restored and unwell");
    assert!(replay(&reply).is_err());
    let mut version = v;
    version.state_version += 1;
    assert!(replay(&version).is_err());
}
