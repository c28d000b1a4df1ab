//! Replays the committed `test-vectors/dcgka.json` and `ratchet.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_dcgka::vectors::{DcgkaVectors, RatchetVectors, replay, replay_ratchet};

/// `SGM_DCGKA_WRITE_VECTORS=1 cargo test -p sgm-dcgka --test vectors write`
/// rewrites only this crate's files (`cargo xtask vectors` rewrites all).
#[test]
fn write() {
    if std::env::var_os("SGM_DCGKA_WRITE_VECTORS").is_none() {
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-vectors/");
    let d = serde_json::to_string_pretty(&sgm_dcgka::vectors::generate()).unwrap() + "\n";
    std::fs::write(format!("{dir}dcgka.json"), d).unwrap();
    let r = serde_json::to_string_pretty(&sgm_dcgka::vectors::generate_ratchet()).unwrap() + "\n";
    std::fs::write(format!("{dir}ratchet.json"), r).unwrap();
}

const DCGKA: &str = include_str!("../../../test-vectors/dcgka.json");
const RATCHET: &str = include_str!("../../../test-vectors/ratchet.json");

#[test]
fn committed_dcgka_vectors_replay() {
    let v: DcgkaVectors = serde_json::from_str(DCGKA).unwrap();
    assert_eq!(v.members.len(), 6);
    assert!(v.steps.iter().any(|s| s.op == "add"));
    replay(&v).unwrap();
}

#[test]
fn committed_ratchet_vectors_replay() {
    let v: RatchetVectors = serde_json::from_str(RATCHET).unwrap();
    replay_ratchet(&v).unwrap();
}

#[test]
fn a_changed_value_is_caught() {
    let mut v: DcgkaVectors = serde_json::from_str(DCGKA).unwrap();
    let s = v
        .steps
        .iter_mut()
        .find(|s| !s.randomness.is_empty())
        .unwrap();
    let flipped = if s.randomness[0].value.starts_with("ff") {
        "fe"
    } else {
        "ff"
    };
    s.randomness[0].value.replace_range(0..2, flipped);
    assert!(replay(&v).is_err());
    let mut v: DcgkaVectors = serde_json::from_str(DCGKA).unwrap();
    let last = v.applications.len() - 1;
    // Byte 5 is inside the ciphertext (version, epoch, index come first).
    let m = &mut v.applications[last].message;
    let flipped = format!("{:02x}", u8::from_str_radix(&m[10..12], 16).unwrap() ^ 1);
    m.replace_range(10..12, &flipped);
    let e = replay(&v).unwrap_err();
    assert!(e.contains("applications"), "{e}");
    let mut r: RatchetVectors = serde_json::from_str(RATCHET).unwrap();
    r.chains[0].messages[2].message.replace_range(8..10, "00");
    assert!(replay_ratchet(&r).unwrap_err().contains("chains[0]"));
}

#[test]
fn generation_is_deterministic_and_current() {
    let fresh = sgm_dcgka::vectors::generate();
    assert_eq!(
        fresh.version,
        1,
        "{:?}",
        fresh.steps.first().map(|s| &s.actor)
    );
    let committed: DcgkaVectors = serde_json::from_str(DCGKA).unwrap();
    assert_eq!(fresh, committed, "run `cargo xtask vectors`");
}
