//! `cargo xtask soak [--cases N] [-- cargo test args]`: the property tests
//! with many more cases than CI's 32, optimized (proptest reads
//! `PROPTEST_CASES`). Long runs belong here, not in `.ci/run`.

use std::process::Command;

/// Cases per property when `--cases` is not given.
const DEFAULT_CASES: u32 = 1000;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let (cases, extra) = match args {
        [flag, n, rest @ ..] if flag == "--cases" => (
            n.parse::<u32>()
                .map_err(|_| format!("--cases wants a number, got {n:?}"))?,
            rest,
        ),
        rest => (DEFAULT_CASES, rest),
    };
    let extra: Vec<&String> = extra.iter().filter(|a| a.as_str() != "--").collect();
    eprintln!("soak: PROPTEST_CASES={cases} cargo test --release --workspace --locked {extra:?}");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--release", "--workspace", "--locked"])
        .args(extra)
        .env("PROPTEST_CASES", cases.to_string())
        .status()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test failed ({status})"))
    }
}
