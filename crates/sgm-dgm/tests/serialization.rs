//! State and welcome-history encoding: round trips, strictness, and no
//! panics on arbitrary bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{H, m, set};
use proptest::prelude::*;
use sgm_dgm::{Dgm, DgmError, HISTORY_VERSION, WelcomeHistory};

fn sample() -> H {
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let a1 = h.add('B', &[c], "D");
    let a2 = h.add('D', &[a1], "E");
    let k = h.ack('A', &[a2]);
    h.remove('C', &[c], "B");
    h.remove('A', &[k], "E");
    h
}

#[test]
fn state_round_trip() {
    let h = sample();
    let bytes = h.dgm.to_bytes();
    assert_eq!(bytes[0], HISTORY_VERSION);
    let back = Dgm::from_bytes(&bytes).unwrap();
    assert_eq!(back.members(), h.dgm.members());
    assert_eq!(back.members(), set("AC"));
    for c in "ABCDE".chars() {
        assert_eq!(back.member_view(&m(c)), h.dgm.member_view(&m(c)));
    }
    assert_eq!(back.heads(), h.dgm.heads());
    assert_eq!(back.to_bytes(), bytes);
}

#[test]
fn welcome_round_trip() {
    let h = sample();
    let w = h.dgm.history_for_welcome();
    assert_eq!(w.ops, h.ops);
    let w2 = WelcomeHistory::from_bytes(&w.to_bytes()).unwrap();
    assert_eq!(w2, w);
    let joined = Dgm::from_welcome(w2).unwrap();
    assert_eq!(joined.members(), h.dgm.members());
}

#[test]
fn strict_decoding() {
    let h = sample();
    let bytes = h.dgm.to_bytes();
    assert_eq!(
        Dgm::from_bytes(&[]).unwrap_err(),
        DgmError::Malformed {
            what: "empty input"
        }
    );
    let mut v2 = bytes.clone();
    v2[0] = 2;
    assert_eq!(
        Dgm::from_bytes(&v2).unwrap_err(),
        DgmError::UnsupportedVersion { version: 2 }
    );
    let mut trailing = bytes.clone();
    trailing.push(0xff);
    assert!(Dgm::from_bytes(&trailing).is_err());
    // A history listing an op twice is refused.
    let mut w = h.dgm.history_for_welcome();
    w.ops.push(w.ops[1].clone());
    assert_eq!(
        Dgm::from_welcome(w).unwrap_err(),
        DgmError::Malformed {
            what: "op listed twice"
        }
    );
    // A history with an op whose parent comes later is refused.
    let mut w = h.dgm.history_for_welcome();
    w.ops.swap(1, 2);
    assert!(WelcomeHistory::from_bytes(&w.to_bytes()).is_err());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Dgm::from_bytes(&bytes);
        let mut with_version = vec![HISTORY_VERSION];
        with_version.extend_from_slice(&bytes);
        let _ = Dgm::from_bytes(&with_version);
    }

    #[test]
    fn mutated_state_never_panics(pos in any::<usize>(), val in any::<u8>()) {
        let mut bytes = sample().dgm.to_bytes();
        let i = pos % bytes.len();
        bytes[i] = val;
        if let Ok(d) = Dgm::from_bytes(&bytes) {
            let _ = d.members();
        }
    }
}
