//! `cargo xtask fuzz [--seconds N] [--target T] [--build-only | --check]`:
//! builds the cargo-fuzz targets in `fuzz/` and runs every one (or `T`) for
//! N seconds (default 60) on the nightly toolchain, one after the other, at
//! the lowest CPU priority. Installs cargo-fuzz (`cargo install --locked
//! cargo-fuzz`) when it is missing. `--check` only type-checks the targets
//! (`cargo check`, no sanitizers, no cargo-fuzz): what CI runs, so that API
//! changes cannot leave the targets broken. Without a nightly toolchain it
//! says so and succeeds, so CI can call it everywhere. See docs/fuzzing.md.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Seconds per target when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 60;

struct Args {
    seconds: u64,
    target: Option<String>,
    build_only: bool,
    check: bool,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        seconds: DEFAULT_SECONDS,
        target: None,
        build_only: false,
        check: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--seconds" => {
                let n = it.next().ok_or("--seconds wants a number")?;
                a.seconds = n
                    .parse()
                    .map_err(|_| format!("--seconds wants a number, got {n:?}"))?;
            }
            "--target" => a.target = Some(it.next().ok_or("--target wants a name")?.clone()),
            "--build-only" => a.build_only = true,
            "--check" => a.check = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("fuzz")
}

/// `cargo +nightly <args>` in `fuzz/`, at the lowest CPU priority where
/// `nice` exists. The toolchain is named explicitly, so the caller's
/// `RUSTUP_TOOLCHAIN` and `CARGO` (set by the stable `cargo xtask`) must
/// not leak in.
fn nightly(args: &[&str]) -> Command {
    let nice = Command::new("nice").arg("--version").output().is_ok();
    let mut c = if nice {
        let mut c = Command::new("nice");
        c.args(["-n", "19", "cargo", "+nightly"]);
        c
    } else {
        let mut c = Command::new("cargo");
        c.arg("+nightly");
        c
    };
    c.args(args)
        .current_dir(fuzz_dir())
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC");
    c
}

fn has_nightly() -> bool {
    Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn has_cargo_fuzz() -> bool {
    nightly(&["fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn run_checked(mut c: Command, what: &str) -> Result<(), String> {
    let status = c
        .status()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// The targets, as cargo-fuzz lists them (every `[[bin]]` of
/// `fuzz/Cargo.toml`).
fn targets() -> Result<Vec<String>, String> {
    let out = nightly(&["fuzz", "list"])
        .output()
        .map_err(|e| format!("could not start cargo fuzz list: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo fuzz list failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let a = parse(args)?;
    if !has_nightly() {
        eprintln!(
            "fuzz: no nightly toolchain; skipping (install with: rustup toolchain install nightly)"
        );
        return Ok(());
    }
    if a.check {
        // Not `--locked`: a dependency added to a crate of the workspace
        // would make fuzz/Cargo.lock stale and fail CI; cargo adds only
        // what is missing (commit the updated lock file).
        eprintln!(
            "fuzz: type-checking the fuzz targets (cargo +nightly check --bins); \
             the sanitizer build is `cargo xtask fuzz --build-only`"
        );
        return run_checked(nightly(&["check", "--bins"]), "cargo check of fuzz/");
    }
    if !has_cargo_fuzz() {
        eprintln!("fuzz: installing cargo-fuzz (cargo install --locked cargo-fuzz)");
        let mut c = Command::new("cargo");
        c.args(["install", "--locked", "cargo-fuzz"]);
        run_checked(c, "cargo install --locked cargo-fuzz").map_err(|e| {
            format!("{e}; install it by hand with: cargo install --locked cargo-fuzz")
        })?;
    }
    let all = targets()?;
    let chosen: Vec<String> = match &a.target {
        Some(t) if all.contains(t) => vec![t.clone()],
        Some(t) => return Err(format!("no fuzz target {t:?}; targets: {}", all.join(", "))),
        None => all,
    };
    // One build for all targets (shared dependencies), checked by debug
    // assertions as cargo-fuzz does by default.
    let mut build = nightly(&["fuzz", "build"]);
    if let Some(t) = &a.target {
        build.arg(t);
    }
    eprintln!("fuzz: building {} target(s)", chosen.len());
    run_checked(build, "cargo fuzz build")?;
    if a.build_only {
        return Ok(());
    }
    let max_time = format!("-max_total_time={}", a.seconds);
    let mut failed = Vec::new();
    for t in &chosen {
        eprintln!("fuzz: {t} for {} s", a.seconds);
        // One job, no extra workers; a crash leaves its input in
        // fuzz/artifacts/<target>/ (minimise with `cargo fuzz tmin`).
        // `-len_control=0`: inputs up to the default 4 KiB from the start;
        // libFuzzer's slow ramp from a few bytes would keep short runs of
        // the whole-group target at one or two actions.
        let c = nightly(&[
            "fuzz",
            "run",
            t,
            "--",
            &max_time,
            "-len_control=0",
            "-print_final_stats=1",
        ]);
        if let Err(e) = run_checked(c, &format!("fuzz target {t}")) {
            eprintln!("fuzz: {e}");
            failed.push(t.clone());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "crashes in {} (inputs under fuzz/artifacts/)",
            failed.join(", ")
        ))
    }
}
