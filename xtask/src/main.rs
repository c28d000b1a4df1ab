//! `cargo xtask`: the project's tasks.
//!
//! - `cargo xtask vectors [--check]`: write `test-vectors/*.json` from fixed
//!   seeds, or regenerate them in memory and fail on any difference.
//! - `cargo xtask bench [criterion args]`: run the criterion benchmarks.
//! - `cargo xtask demo`: the main job (arrives with the façade).

mod bench;
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
        "demo" => {
            Err("the demo arrives with the messaging façade (issue 5); nothing to run yet".into())
        }
        _ => {
            eprintln!("usage: cargo xtask <vectors [--check] | bench [args] | demo>");
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
