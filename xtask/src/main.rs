//! `cargo xtask`: the project's tasks.
//!
//! - `cargo xtask vectors [--check]`: write `test-vectors/*.json` from fixed
//!   seeds, or regenerate them in memory and fail on any difference.
//! - `cargo xtask bench [criterion args]`: run the criterion benchmarks.
//! - `cargo xtask demo [--members N] [--seed S] [--loss P] [--verbose]`: the
//!   protester scenario (DCGKA paper §2) in the simulator, with a verdict.
//! - `cargo xtask soak [--cases N]`: the property tests with N cases each
//!   (default 1000; CI runs 32), optimized.
//! - `cargo xtask fuzz [--seconds N] [--target T] [--build-only | --check]`: the
//!   cargo-fuzz targets in `fuzz/`, N seconds each, on nightly.

mod bench;
mod demo;
mod fuzz;
mod soak;
mod vectors;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => ("help", &[][..]),
    };
    let result = match cmd {
        "vectors" => vectors::run(rest),
        "bench" => bench::run(rest),
        "demo" => demo::run(rest),
        "soak" => soak::run(rest),
        "fuzz" => fuzz::run(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <vectors [--check] | bench [criterion [args] | dcgka [--sizes ..] [--reps ..]] | demo [--members N] [--seed S] [--loss P] [--verbose] | soak [--cases N] | fuzz [--seconds N] [--target T] [--build-only | --check]>"
            );
            return if cmd == "help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}
