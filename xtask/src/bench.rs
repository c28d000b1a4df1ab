//! `cargo xtask bench`: runs the criterion benchmarks of every crate.
//!
//! Extra arguments go to criterion (for example a filter such as `2sm`, or
//! `--quick`).

use std::process::Command;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
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
