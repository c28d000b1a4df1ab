//! Counters an insider's bytes can set never overflow (issue 10 item 10):
//! checked arithmetic gives a typed error and leaves the state unchanged,
//! in debug and release builds alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Sim;
use sgm_dcgka::Config;
use sgm_dcgka::messages::DirectKind;

/// A malicious adder claims in the welcome that member 1's last control
/// seq is `u64::MAX`. The joiner must refuse member 1's next message with
/// a typed error (debug builds used to panic on "attempt to add with
/// overflow" in `process.rs`; release builds wrapped to 0).
#[test]
fn welcome_claiming_last_seq_u64_max_does_not_overflow() {
    let mut s = Sim::new(4, 77, Config::default());
    s.create(0, &[1, 2]);
    s.run(false);
    let add = s.add(0, 3)[0];
    let one = s.id(1);
    let joiner = s.id(3);
    for d in &mut s.msgs[add].out.direct {
        if let DirectKind::Welcome(w) = &mut d.kind {
            for (m, q) in &mut w.seqs {
                if *m == one {
                    *q = u64::MAX;
                }
            }
        }
    }
    s.deliver(joiner, add);
    let upd = s.update(1)[0];
    let control = s.msgs[upd].out.control.to_bytes();
    let direct = s.msgs[upd].out.direct_for(&joiner).map(|d| d.to_bytes());
    let node = s.nodes.get_mut(&joiner).unwrap();
    let before = node.state.to_bytes();
    let err = node
        .state
        .process_bytes(one, &control, direct.as_deref(), &mut s.rng, &mut s.dir)
        .unwrap_err();
    // By its message, so that this test also compiles (and fails) against
    // the code before `DcgkaError::SeqOverflow` existed.
    assert!(
        err.to_string().contains("overflow"),
        "unexpected error {err}"
    );
    assert_eq!(node.state.to_bytes(), before, "state changed on {err}");
}
