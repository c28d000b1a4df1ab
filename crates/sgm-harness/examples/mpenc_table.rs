//! Per-operation table for mpENC through the harness: messages, bytes,
//! sequential rounds (and the latency they imply at 50 ms per hop) and CPU.
//! `cargo run --release -p sgm-harness --example mpenc_table [sizes…]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_harness::mpenc::MpencScheme;
use sgm_harness::{Group, Operation, Outcome};

fn row(n: usize, op: &str, o: &Outcome) {
    let (rmean, rmax) = o.recipient_cpu();
    println!(
        "| {n} | {op} | {} | {} | {} | {} ms | {:.2} ms | {:.2} / {:.2} ms |",
        o.messages,
        o.bytes,
        o.rounds,
        o.rounds * 50,
        o.sender_cpu().as_secs_f64() * 1e3,
        rmean.as_secs_f64() * 1e3,
        rmax.as_secs_f64() * 1e3,
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![8, 16, 32, 64, 128]
    } else {
        sizes
    };
    println!(
        "| n | operation | messages | bytes | rounds | latency at 50 ms/hop | sender CPU | recipient CPU (mean / max) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let (mut g, create) = Group::setup(MpencScheme::new(), n, 1).unwrap();
        row(n, "create", &create);
        let ids = g.ids().to_vec();
        row(
            n,
            "send",
            &g.run(ids[1], Operation::Send(vec![0x61; 100])).unwrap(),
        );
        row(n, "update", &g.run(ids[1], Operation::Update).unwrap());
        let new = g.spawn(1).unwrap()[0];
        row(n, "add", &g.run(ids[1], Operation::Add(new)).unwrap());
        row(n, "remove", &g.run(ids[1], Operation::Remove(new)).unwrap());
    }
}
