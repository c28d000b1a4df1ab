//! Replays the committed `test-vectors/mpenc.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_mpenc::vectors::{MpencVectors, generate, replay};

const COMMITTED: &str = include_str!("../../../test-vectors/mpenc.json");

fn committed() -> MpencVectors {
    serde_json::from_str(COMMITTED).expect("mpenc.json parses")
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
fn every_random_value_is_labelled() {
    for s in committed().scenarios {
        for step in s.steps {
            for r in step.randomness {
                assert_ne!(r.label, "unlabelled", "{} {}", s.name, step.op);
            }
        }
    }
}

#[test]
fn a_changed_random_value_changes_the_packets() {
    let mut v = committed();
    let r = &mut v.scenarios[0].steps[0].randomness[0].value;
    let mut b = hex::decode(&*r).unwrap();
    b[0] ^= 1;
    *r = hex::encode(b);
    assert!(replay(&v).is_err());
}
