//! Replays the committed `test-vectors/2sm.json`.

#![allow(clippy::unwrap_used, clippy::panic)]

use sgm_2sm::vectors::{TwoSmVectors, replay};

const JSON: &str = include_str!("../../../test-vectors/2sm.json");

fn load() -> TwoSmVectors {
    serde_json::from_str(JSON).unwrap()
}

#[test]
fn committed_vectors_replay() {
    let v = load();
    assert_eq!(v.members.len(), 2);
    assert!(v.steps.iter().any(|s| s.op == "accept"));
    assert!(
        v.steps
            .iter()
            .any(|s| s.randomness.iter().any(|r| r.label == "ikm_first_contact"))
    );
    replay(&v).unwrap();
}

#[test]
fn committed_vectors_match_the_generator() {
    assert_eq!(load(), sgm_2sm::vectors::generate());
}

fn flip_first_hex_digit(s: &mut String) {
    let first = if s.starts_with('0') { "1" } else { "0" };
    s.replace_range(0..1, first);
}

#[test]
fn a_changed_output_is_caught() {
    let mut v = load();
    let i = v.steps.iter().position(|s| s.op == "send").unwrap();
    let n = v.steps[i].message.len();
    let mut last = v.steps[i].message[n - 2..].to_string();
    flip_first_hex_digit(&mut last);
    v.steps[i].message.replace_range(n - 2.., &last);
    assert!(
        replay(&v)
            .unwrap_err()
            .contains(&format!("steps[{i}].message"))
    );

    let mut v = load();
    let j = v.steps.len() - 1;
    flip_first_hex_digit(&mut v.steps[j].session_state);
    assert!(
        replay(&v)
            .unwrap_err()
            .contains(&format!("steps[{j}].session_state"))
    );

    let mut v = load();
    flip_first_hex_digit(&mut v.steps[1].randomness[0].value);
    assert!(replay(&v).unwrap_err().contains("steps[1]"));
}
