//! Replays the committed `test-vectors/acb.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_acb::vectors::{AcbVectors, generate, replay};

const JSON: &str = include_str!("../../../test-vectors/acb.json");

#[test]
fn committed_vectors_replay() {
    let v: AcbVectors = serde_json::from_str(JSON).unwrap();
    assert_eq!(v.messages.len(), 6);
    assert!(v.messages.iter().any(|m| m.new_signing_key.is_some()));
    replay(&v).unwrap();
}

#[test]
fn committed_vectors_match_the_generator() {
    let v: AcbVectors = serde_json::from_str(JSON).unwrap();
    assert_eq!(v, generate());
}

#[test]
fn a_changed_output_is_caught() {
    let original: AcbVectors = serde_json::from_str(JSON).unwrap();
    let mut v = original.clone();
    let flip = if v.messages[1].bytes.ends_with('0') {
        "1"
    } else {
        "0"
    };
    let n = v.messages[1].bytes.len();
    v.messages[1].bytes.replace_range(n - 1.., flip);
    assert!(replay(&v).unwrap_err().contains("messages[1].bytes"));

    let mut v = original.clone();
    let repl = if v.messages[2].id.starts_with("00") {
        "01"
    } else {
        "00"
    };
    v.messages[2].id.replace_range(0..2, repl);
    assert!(replay(&v).unwrap_err().contains("messages[2].id"));

    let mut v = original;
    v.delivery.delivered.swap(0, 1);
    assert!(replay(&v).unwrap_err().contains("delivery.delivered"));
}
