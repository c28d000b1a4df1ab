//! `cargo xtask bench schemes`: the same operations over every scheme
//! behind sgm-harness (DCGKA, Sender Keys, pairwise fan-out), side by side
//! from one run.
//!
//! For each n a group is set up once per scheme (member 0 creates it, every
//! message delivered: the create's row is that one run). Each other
//! operation runs at member 0 on a fresh copy of the set-up group, `reps`
//! times; the counts are the same every time (seeded), the times are
//! medians. Bytes are counted as the DCGKA paper counts them: a broadcast
//! once, every unicast and direct part once; DCGKA without its sgm-acb
//! envelope. CPU is wall-clock time inside the scheme's calls: the sender's
//! (its operation and every reply it processes) and the mean over the other
//! members (each one's processing and its own replies).

use std::time::{Duration, Instant};

use sgm_dcgka::Config;
use sgm_harness::dcgka::DcgkaScheme;
use sgm_harness::mpenc::MpencScheme;
use sgm_harness::sender_keys::{PairwiseScheme, SenderKeysScheme};
use sgm_harness::{Group, GroupScheme, Operation, Outcome};

const REEXEC: &str = "SGM_XTASK_BENCH_RELEASE";
const DEFAULT_SIZES: [usize; 6] = [8, 16, 32, 64, 128, 256];
const PAYLOAD: usize = 32;
const OPS: [&str; 5] = ["create", "message", "update", "remove", "add"];

struct Options {
    sizes: Vec<usize>,
    reps: usize,
    schemes: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        sizes: DEFAULT_SIZES.to_vec(),
        reps: 5,
        schemes: vec!["dcgka".into(), "sender-keys".into(), "pairwise".into()],
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{a} needs a value\n{}", super::USAGE))
        };
        match a.as_str() {
            "--sizes" => {
                o.sizes = value()?
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .parse::<usize>()
                            .map_err(|e| format!("--sizes: {e}"))
                    })
                    .collect::<Result<_, _>>()?;
                if o.sizes.iter().any(|n| *n < 3) {
                    return Err("--sizes: every n must be at least 3".into());
                }
            }
            "--reps" => {
                o.reps = value()?
                    .parse::<usize>()
                    .map_err(|e| format!("--reps: {e}"))?
                    .max(1)
            }
            "--schemes" => o.schemes = value()?.split(',').map(|s| s.trim().to_string()).collect(),
            _ => return Err(format!("unknown option {a}\n{}", super::USAGE)),
        }
    }
    Ok(o)
}

/// One scheme's figures for one operation.
#[derive(Clone, Copy, Default)]
struct Cell {
    messages: usize,
    bytes: usize,
    rounds: usize,
    sender: Duration,
    recipient: Duration,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn cell(outcomes: &[Outcome]) -> Cell {
    let first = outcomes.first().cloned().unwrap_or_default();
    Cell {
        messages: first.messages,
        bytes: first.bytes,
        rounds: first.rounds,
        sender: median(outcomes.iter().map(Outcome::sender_cpu).collect()),
        recipient: median(outcomes.iter().map(|o| o.recipient_cpu().0).collect()),
    }
}

fn measure<S>(scheme: S, n: usize, reps: usize) -> Result<Vec<Cell>, String>
where
    S: GroupScheme + Clone,
    S::Member: Clone,
{
    let name = scheme.name();
    let t = Instant::now();
    let (mut g, create) = Group::setup(scheme, n, n as u64).map_err(|e| e.to_string())?;
    let spare = g.spawn(1).map_err(|e| e.to_string())?[0];
    eprintln!("{name} n = {n}: setup {:.1} s", t.elapsed().as_secs_f64());
    let ids = g.ids().to_vec();
    let (actor, removed) = (ids[0], ids[n - 1]);
    let mut cells = vec![cell(&[create])];
    for op in [
        Operation::Send(vec![7; PAYLOAD]),
        Operation::Update,
        Operation::Remove(removed),
        Operation::Add(spare),
    ] {
        let mut outcomes = Vec::with_capacity(reps);
        for _ in 0..reps {
            let mut copy = g.clone();
            outcomes.push(copy.run(actor, op.clone()).map_err(|e| e.to_string())?);
        }
        cells.push(cell(&outcomes));
    }
    eprintln!(
        "{name} n = {n}: done after {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(cells)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    if cfg!(debug_assertions) && std::env::var_os(REEXEC).is_none() {
        eprintln!("xtask bench schemes: re-running in release (cargo run --release -p xtask)");
        let status = super::cargo()
            .args([
                "run",
                "--release",
                "--quiet",
                "-p",
                "xtask",
                "--",
                "bench",
                "schemes",
            ])
            .args(args)
            .env(REEXEC, "1")
            .status()
            .map_err(|e| format!("could not start cargo: {e}"))?;
        return if status.success() {
            Ok(())
        } else {
            Err(format!("release run failed: {status}"))
        };
    }
    let started = Instant::now();
    let load_before = load();
    // rows[n index][scheme index][op index]
    let mut rows: Vec<Vec<Vec<Cell>>> = Vec::new();
    for &n in &opts.sizes {
        let prekeys = n + 4;
        let mut per_scheme = Vec::new();
        for s in &opts.schemes {
            per_scheme.push(match s.as_str() {
                "dcgka" => measure(DcgkaScheme::new(Config::default(), prekeys), n, opts.reps)?,
                "sender-keys" => measure(
                    SenderKeysScheme::new(Default::default(), prekeys),
                    n,
                    opts.reps,
                )?,
                "pairwise" => measure(PairwiseScheme::new(prekeys), n, opts.reps)?,
                "mpenc" => measure(MpencScheme::new(), n, opts.reps)?,
                other => return Err(format!("unknown scheme {other}")),
            });
        }
        rows.push(per_scheme);
    }
    let mut out = String::new();
    out.push_str(&format!(
        "sizes {:?}, {} reps (create: one run), payload {PAYLOAD} B; load average {} before, {} after; {:.0} s in all\n\n",
        opts.sizes,
        opts.reps,
        load_before,
        load(),
        started.elapsed().as_secs_f64()
    ));
    for (k, op) in OPS.iter().enumerate() {
        out.push_str(&format!("**{op}**\n\n| n |"));
        for s in &opts.schemes {
            out.push_str(&format!(
                " {s} msgs | bytes | rounds | sender ms | recipient ms |"
            ));
        }
        out.push_str("\n|---|");
        for _ in &opts.schemes {
            out.push_str("---|---|---|---|---|");
        }
        out.push('\n');
        for (i, n) in opts.sizes.iter().enumerate() {
            out.push_str(&format!("| {n} |"));
            for per_op in &rows[i] {
                let c = per_op[k];
                out.push_str(&format!(
                    " {} | {} | {} | {:.3} | {:.3} |",
                    c.messages,
                    c.bytes,
                    c.rounds,
                    ms(c.sender),
                    ms(c.recipient)
                ));
            }
            out.push('\n');
        }
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}
