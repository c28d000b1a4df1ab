//! The paper's scenarios as named tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Sim;
use sgm_dcgka::Config;

fn sim(n: usize, seed: u64) -> Sim {
    Sim::new(n, seed, Config::default())
}

#[test]
fn create_ack_and_messages() {
    let mut s = sim(4, 1);
    s.create(0, &[1, 2, 3]);
    s.run(false);
    s.assert_converged();
    for i in 0..4 {
        s.send(i, format!("hi from {i}").as_bytes());
    }
    s.run_apps();
    s.assert_apps_delivered();
}
