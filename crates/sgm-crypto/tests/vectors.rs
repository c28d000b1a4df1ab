//! Replays the committed `test-vectors/crypto.json`.

use sgm_crypto::vectors::{CryptoVectors, replay};

#[test]
fn committed_vectors_replay() {
    let json = include_str!("../../../test-vectors/crypto.json");
    let v: CryptoVectors = serde_json::from_str(json).unwrap();
    assert!(!v.member_ids.is_empty() && !v.hpke.is_empty());
    replay(&v).unwrap();
}

#[test]
fn a_changed_output_is_caught() {
    let json = include_str!("../../../test-vectors/crypto.json");
    let mut v: CryptoVectors = serde_json::from_str(json).unwrap();
    v.hpke[0].ciphertext.replace_range(0..2, "00");
    if v.hpke[0].ciphertext
        == serde_json::from_str::<CryptoVectors>(json).unwrap().hpke[0].ciphertext
    {
        v.hpke[0].ciphertext.replace_range(0..2, "01");
    }
    assert!(replay(&v).unwrap_err().contains("hpke[0].ciphertext"));
}
