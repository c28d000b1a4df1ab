//! The committed vectors replay, and generation reproduces them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_sender_keys::vectors::{
    PairwiseVectors, SenderKeysVectors, generate, generate_pairwise, replay, replay_pairwise,
};

const SENDER_KEYS: &str = include_str!("../../../test-vectors/sender-keys.json");
const PAIRWISE: &str = include_str!("../../../test-vectors/pairwise.json");

#[test]
fn sender_keys_vectors_replay() {
    let v: SenderKeysVectors = serde_json::from_str(SENDER_KEYS).unwrap();
    replay(&v).unwrap();
    assert_eq!(v, generate());
}

#[test]
fn pairwise_vectors_replay() {
    let v: PairwiseVectors = serde_json::from_str(PAIRWISE).unwrap();
    replay_pairwise(&v).unwrap();
    assert_eq!(v, generate_pairwise());
}

#[test]
fn altered_vectors_fail() {
    let mut v: SenderKeysVectors = serde_json::from_str(SENDER_KEYS).unwrap();
    v.messages[1].bytes.replace_range(0..2, "02");
    assert!(replay(&v).is_err());
    let mut v: PairwiseVectors = serde_json::from_str(PAIRWISE).unwrap();
    v.fan_out[0].ikm_ephemeral.replace_range(0..2, "00");
    assert!(replay_pairwise(&v).is_err());
}
