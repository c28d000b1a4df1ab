//! `cargo xtask bench`: benchmarks.
//!
//! ```text
//! cargo xtask bench                      criterion benches of every crate, then the DCGKA table
//! cargo xtask bench criterion [ARGS]     criterion benches only; ARGS go to criterion
//!                                        (a filter such as `2sm`, or `--quick`)
//! cargo xtask bench dcgka [--sizes 8,16,...] [--reps R]
//!                                        the paper's Figures 6 and 7 for sgm-dcgka at
//!                                        n = 8..1,024 (markdown on stdout, progress on stderr)
//! cargo xtask bench schemes [--sizes 8,16,...] [--reps R] [--schemes dcgka,sender-keys,pairwise]
//!                                        every scheme behind sgm-harness, per operation,
//!                                        side by side from one run
//! ```
//!
//! The DCGKA table always runs optimized: from a debug build of xtask (what
//! `cargo xtask` runs) it re-invokes itself through
//! `cargo run --release -p xtask -- bench dcgka ...`.
//! For backward compatibility, any other first argument goes to criterion.

#[path = "bench/dcgka.rs"]
mod dcgka;
#[path = "bench/schemes.rs"]
mod schemes;

use std::process::Command;

/// Usage of `cargo xtask bench`.
pub(crate) const USAGE: &str =
    "usage: cargo xtask bench [criterion [criterion args] | dcgka [--sizes 8,16,...] [--reps R]]
  (no argument)  criterion benches of every crate, then the DCGKA table
  criterion      criterion benches only (arguments go to criterion)
  dcgka          sgm-dcgka at n = 8..1,024, paper Figures 6/7 (always --release)
    --sizes LIST   group sizes (default 8,16,32,64,128,256,512,1024)
    --reps R       repetitions per measurement (default: 31 up to n = 128, then 21, 11, 9)
  schemes        every scheme behind sgm-harness side by side (always --release)
    --sizes LIST   group sizes (default 8,16,32,64,128,256)
    --reps R       repetitions per operation (default 5)
    --schemes LIST dcgka,sender-keys,pairwise (default), or mpenc";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    match args.split_first() {
        None => {
            criterion(&[])?;
            dcgka::run(&[])
        }
        Some((c, rest)) if c == "criterion" => criterion(rest),
        Some((c, rest)) if c == "dcgka" => dcgka::run(rest),
        Some((c, rest)) if c == "schemes" => schemes::run(rest),
        Some((c, _)) if c == "help" || c == "--help" || c == "-h" => {
            eprintln!("{USAGE}");
            Ok(())
        }
        Some(_) => criterion(args),
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn criterion(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["bench", "--workspace", "--benches", "--"]);
    cmd.args(args);
    let status = cmd
        .status()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo bench failed: {status}"))
    }
}
