//! `cargo xtask bench dcgka`: the paper's Figures 6 and 7 for sgm-dcgka.
//!
//! For each n: a group is set up once (create + every ack at every member,
//! O(n²) acks), and each operation's round (`sgm_dcgka::scenario`) is
//! recorded once; every timed repetition then replays one client's part on
//! a fresh copy of that client (the copy is made and dropped outside the
//! timing). Times are wall-clock medians of single-threaded runs
//! (`Instant`); std offers no per-thread CPU clock without `unsafe`, so the
//! output reports the machine's load instead. Single-operation costs of
//! X25519 and Ed25519 are measured in the same run, for the floor at n = 128.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;
use sgm_crypto::{SeedableRng, SigningKey, X25519SecretKey};
use sgm_dcgka::Config;
use sgm_dcgka::scenario::{Client, Operation, Round, Scenario, message_bytes};

/// Environment variable set on the release re-invocation.
const REEXEC: &str = "SGM_XTASK_BENCH_RELEASE";
const DEFAULT_SIZES: [usize; 8] = [8, 16, 32, 64, 128, 256, 512, 1024];
/// Application messages per timed batch (a single one is a few µs).
const MESSAGE_BATCH: usize = 64;
const PAYLOAD: usize = 32;

/// The Java prototype at n = 128 (`../shared/reference/paper-java-figures.md`).
mod java {
    pub(super) const CREATE_B: usize = 44_454;
    pub(super) const UPDATE_B: usize = 40_553;
    pub(super) const REMOVE_B: usize = 40_269;
    pub(super) const ADD_B: usize = 77_306;
    pub(super) const MESSAGE_OVERHEAD_B: usize = 139;
    /// (sender, recipient) ms.
    pub(super) const UPDATE_MS: (f64, f64) = (58.75, 65.48);
    pub(super) const REMOVE_MS: (f64, f64) = (50.94, 52.71);
    pub(super) const ADD_MS: (f64, f64) = (56.84, 59.57);
    pub(super) const MESSAGE_MS: (f64, f64) = (0.071, 0.436);
}

struct Options {
    sizes: Vec<usize>,
    reps: Option<usize>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        sizes: DEFAULT_SIZES.to_vec(),
        reps: None,
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
                if o.sizes.iter().any(|n| *n < 2) {
                    return Err("--sizes: every n must be at least 2".into());
                }
            }
            "--reps" => {
                let r: usize = value()?.parse().map_err(|e| format!("--reps: {e}"))?;
                o.reps = Some(r.max(1));
            }
            _ => return Err(format!("unknown option {a}\n{}", super::USAGE)),
        }
    }
    Ok(o)
}

/// Repetitions at group size n: the whole default run takes about 3
/// minutes on a quiet 2-core VM (well within 10-15 minutes under load).
fn default_reps(n: usize) -> usize {
    match n {
        0..=128 => 31,
        129..=256 => 21,
        257..=512 => 11,
        _ => 9,
    }
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    if cfg!(debug_assertions) && std::env::var_os(REEXEC).is_none() {
        eprintln!("xtask bench dcgka: re-running in release (cargo run --release -p xtask)");
        let status = super::cargo()
            .args([
                "run",
                "--release",
                "--quiet",
                "-p",
                "xtask",
                "--",
                "bench",
                "dcgka",
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
    let prim_before = Primitives::measure();
    let mut rows = Vec::new();
    for &n in &opts.sizes {
        let reps = opts.reps.unwrap_or_else(|| default_reps(n));
        rows.push(measure(n, reps).map_err(|e| format!("n = {n}: {e}"))?);
    }
    let prim_after = Primitives::measure();
    let prim = prim_before.mean(&prim_after);
    let report = Report {
        rows,
        prim_before,
        prim_after,
        prim,
        load_before,
        load_after: load(),
        total: started.elapsed(),
    };
    print!("{}", report.markdown());
    Ok(())
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Median of `reps` runs of `run` on a fresh `prepare()` each; preparing
/// and dropping are not timed.
fn time<T>(
    reps: usize,
    mut prepare: impl FnMut() -> T,
    mut run: impl FnMut(&mut T) -> Result<(), String>,
) -> Result<Duration, String> {
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let mut x = prepare();
        let t = Instant::now();
        run(&mut x)?;
        times.push(t.elapsed());
        drop(black_box(x));
    }
    Ok(median(times))
}

/// Single-operation costs (median of 15 batches of 100).
#[derive(Clone, Copy)]
struct Primitives {
    x25519_base: Duration,
    x25519_dh: Duration,
    ed25519_sign: Duration,
    ed25519_verify: Duration,
}

impl Primitives {
    fn measure() -> Self {
        const BATCH: u32 = 100;
        let mut rng = ChaCha20Rng::seed_from_u64(0);
        let a = X25519SecretKey::generate(&mut rng);
        let b = X25519SecretKey::generate(&mut rng).public_key();
        let sk = SigningKey::generate(&mut rng);
        let vk = sk.verifying_key();
        let sig = sk.sign(b"msg");
        let per_op = |f: &mut dyn FnMut()| {
            let v = (0..15)
                .map(|_| {
                    let t = Instant::now();
                    for _ in 0..BATCH {
                        f();
                    }
                    t.elapsed() / BATCH
                })
                .collect();
            median(v)
        };
        Self {
            x25519_base: per_op(&mut || {
                black_box(black_box(&a).public_key());
            }),
            x25519_dh: per_op(&mut || {
                let _ = black_box(black_box(&a).diffie_hellman(&b));
            }),
            ed25519_sign: per_op(&mut || {
                black_box(black_box(&sk).sign(b"msg"));
            }),
            ed25519_verify: per_op(&mut || {
                let _ = black_box(black_box(&vk).verify(b"msg", &sig));
            }),
        }
    }

    fn mean(&self, o: &Self) -> Self {
        Self {
            x25519_base: (self.x25519_base + o.x25519_base) / 2,
            x25519_dh: (self.x25519_dh + o.x25519_dh) / 2,
            ed25519_sign: (self.ed25519_sign + o.ed25519_sign) / 2,
            ed25519_verify: (self.ed25519_verify + o.ed25519_verify) / 2,
        }
    }

    fn line(&self) -> String {
        format!(
            "X25519 base-point {:.1} µs, X25519 DH {:.1} µs, Ed25519 sign {:.1} µs, Ed25519 verify {:.1} µs",
            us(self.x25519_base),
            us(self.x25519_dh),
            us(self.ed25519_sign),
            us(self.ed25519_verify)
        )
    }
}

/// Sender and recipient medians of one operation.
#[derive(Clone, Copy, Default)]
struct Cpu {
    sender: Duration,
    recipient: Duration,
}

#[derive(Default)]
struct OpRow {
    bytes: usize,
    enveloped: usize,
    coalesced: usize,
    cpu: Cpu,
}

struct Row {
    n: usize,
    reps: usize,
    setup: Duration,
    ops: Vec<(Operation, OpRow)>,
    /// The added member processing the welcome and every add-ack.
    joiner: Duration,
    message: (usize, usize),
    message_cpu: Cpu,
    /// One steady-state 2SM send and receive (member 0 to member 1).
    two_sm: Cpu,
    /// A copy of member 0's state (what a transactional operation makes).
    state_copy: Duration,
}

impl Row {
    fn op(&self, op: Operation) -> Option<&OpRow> {
        self.ops.iter().find(|(o, _)| *o == op).map(|(_, r)| r)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn measure_round(
    sc_before: &Scenario,
    round: &Round,
    reps: usize,
    recipient: usize,
) -> Result<OpRow, String> {
    let (enveloped, coalesced) = round.envelope_bytes().map_err(err)?;
    let sender = time(
        reps,
        || sc_before.client(0),
        |c: &mut Client| round.sender(c).map_err(err),
    )?;
    let recipient = time(
        reps,
        || sc_before.client(recipient),
        |c: &mut Client| round.recipient(c).map_err(err),
    )?;
    Ok(OpRow {
        bytes: round.bytes(),
        enveloped,
        coalesced,
        cpu: Cpu { sender, recipient },
    })
}

fn measure(n: usize, reps: usize) -> Result<Row, String> {
    eprintln!("n = {n}: setup (create + all acks), {reps} reps per measurement");
    let before = Scenario::new(n, Config::default());
    let mut sc = before.clone();
    let t = Instant::now();
    let create = sc.setup().map_err(err)?;
    let setup = t.elapsed();
    eprintln!("n = {n}: setup {:.1} s", setup.as_secs_f64());
    let mut ops = vec![(Operation::Create, measure_round(&before, &create, reps, 1)?)];
    drop(before);
    let mut joiner = Duration::ZERO;
    for op in [Operation::Update, Operation::Remove, Operation::Add] {
        let round = sc.round(op).map_err(err)?;
        ops.push((op, measure_round(&sc, &round, reps, 1)?));
        if op == Operation::Add {
            joiner = time(
                reps,
                || sc.client(n),
                |c: &mut Client| round.recipient(c).map_err(err),
            )?;
        }
        eprintln!("n = {n}: {} done", op.name());
    }
    // One 32-byte application message, in batches.
    let message = message_bytes(&mut sc.states[0].clone(), PAYLOAD).map_err(err)?;
    let from = sc.states[0].id();
    let batch = u32::try_from(MESSAGE_BATCH).map_err(err)?;
    let msg_reps = reps.max(11);
    let m_sender = time(
        msg_reps,
        || sc.states[0].clone(),
        |st| {
            for _ in 0..MESSAGE_BATCH {
                black_box(st.encrypt(&[7u8; PAYLOAD], b"").map_err(err)?);
            }
            Ok(())
        },
    )? / batch;
    let mut source = sc.states[0].clone();
    let sealed: Vec<Vec<u8>> = (0..MESSAGE_BATCH)
        .map(|_| source.encrypt(&[7u8; PAYLOAD], b"").map(|s| s.message))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let m_recipient = time(
        msg_reps,
        || sc.states[1].clone(),
        |st| {
            for m in &sealed {
                black_box(st.decrypt(&from, m, b"").map_err(err)?);
            }
            Ok(())
        },
    )? / batch;
    let two_sm = two_sm(&sc, msg_reps)?;
    let state_copy = time(
        msg_reps,
        || (),
        |_| {
            black_box(sc.states[0].clone());
            Ok(())
        },
    )?;
    Ok(Row {
        n,
        reps,
        setup,
        ops,
        joiner,
        message,
        message_cpu: Cpu {
            sender: m_sender,
            recipient: m_recipient,
        },
        two_sm,
        state_copy,
    })
}

/// One steady-state 2SM send (member 0 to member 1) and its receive.
fn two_sm(sc: &Scenario, reps: usize) -> Result<Cpu, String> {
    let ids = sc.ids();
    let out = sc.states[0]
        .two_party_session(&ids[1])
        .ok_or("no 2SM session 0 → 1")?;
    let inb = sc.states[1]
        .two_party_session(&ids[0])
        .ok_or("no 2SM session 1 → 0")?;
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    // `receive` reads the prekey store only for first-contact messages.
    let probe = SigningKey::generate(&mut rng);
    let (mut store, _) = sgm_2sm::PrekeyStore::publish(&mut rng, &probe, 1);
    let sender = time(
        reps,
        || (out.clone(), rng.clone()),
        |(s, r)| s.send(r, &[7u8; 32]).map(drop).map_err(err),
    )?;
    let msg = out.clone().send(&mut rng, &[7u8; 32]).map_err(err)?;
    let recipient = time(
        reps,
        || inb.clone(),
        |s| s.receive(&mut store, &msg).map(drop).map_err(err),
    )?;
    Ok(Cpu { sender, recipient })
}

/// Public-key operations of one client, counted by analysis of the code
/// paths (hpke 0.15's DHKEM, sgm-2sm, sgm-acb), not by instrumentation.
#[derive(Clone, Copy)]
struct OpCount {
    x25519_base: u32,
    x25519_dh: u32,
    ed25519_sign: u32,
    ed25519_verify: u32,
}

impl OpCount {
    fn floor(&self, p: &Primitives) -> Duration {
        p.x25519_base * self.x25519_base
            + p.x25519_dh * self.x25519_dh
            + p.ed25519_sign * self.ed25519_sign
            + p.ed25519_verify * self.ed25519_verify
    }
}

/// Steady-state 2SM send: `DeriveKeyPair` of the own key pair (public key
/// reused), HPKE `Encap` (hpke 0.15 derives the ephemeral key pair, 1
/// base-point multiplication, and computes its public key again in
/// `encap_with_eph`, 1 more, plus DH(skE, pkR)), then `DeriveKeyPair` of
/// the key pair exported for the peer (its public key is kept).
const SEND: OpCount = OpCount {
    x25519_base: 4,
    x25519_dh: 1,
    ed25519_sign: 0,
    ed25519_verify: 0,
};
/// Steady-state 2SM receive: HPKE `Decap` = DH(skR, enc) + pk(skR) (hpke
/// recomputes the recipient's public key), `DeriveKeyPair` of the exported
/// key pair (hpke computes its public key too), then the low-order check of
/// the announced key (one DH with a fixed probe scalar).
const RECEIVE: OpCount = OpCount {
    x25519_base: 2,
    x25519_dh: 2,
    ed25519_sign: 0,
    ed25519_verify: 0,
};

struct Report {
    rows: Vec<Row>,
    prim_before: Primitives,
    prim_after: Primitives,
    prim: Primitives,
    load_before: String,
    load_after: String,
    total: Duration,
}

fn thousands(x: usize) -> String {
    let s = x.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Milliseconds with three significant digits.
fn fmt_ms(d: Duration) -> String {
    let x = ms(d);
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets" } else { "**misses**" }
}

impl Report {
    fn markdown(&self) -> String {
        let mut s = String::new();
        let mut line = |l: String| {
            s.push_str(&l);
            s.push('\n');
        };
        line(format!(
            "Load average (1/5/15 min) before: {}; after: {}. Whole run: {:.0} s.",
            self.load_before,
            self.load_after,
            self.total.as_secs_f64()
        ));
        line(format!(
            "Single operations, same run (median of 15 batches of 100), before: {}; after: {}.",
            self.prim_before.line(),
            self.prim_after.line()
        ));
        line(String::new());
        line("| n | reps | create B | update B | remove B | add B | message B | create ms s / r | update ms s / r | remove ms s / r | add ms s / r / joiner | message µs s / r | setup s |".into());
        line("|---|---|---|---|---|---|---|---|---|---|---|---|---|".into());
        for r in &self.rows {
            let b = |op| r.op(op).map_or(0, |o| o.bytes);
            let c = |op| r.op(op).map(|o| o.cpu).unwrap_or_default();
            let sr = |op| {
                let c = c(op);
                format!("{} / {}", fmt_ms(c.sender), fmt_ms(c.recipient))
            };
            let add = c(Operation::Add);
            line(format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} | {:.1} / {:.1} | {:.1} |",
                thousands(r.n),
                r.reps,
                thousands(b(Operation::Create)),
                thousands(b(Operation::Update)),
                thousands(b(Operation::Remove)),
                thousands(b(Operation::Add)),
                r.message.0,
                sr(Operation::Create),
                sr(Operation::Update),
                sr(Operation::Remove),
                fmt_ms(add.sender),
                fmt_ms(add.recipient),
                fmt_ms(r.joiner),
                us(r.message_cpu.sender),
                us(r.message_cpu.recipient),
                r.setup.as_secs_f64(),
            ));
        }
        line(String::new());
        line(
            "Bytes: DCGKA only / each message in its own sgm-acb envelope / with ack coalescing."
                .into(),
        );
        line(String::new());
        line("| n | create | update | remove | add | message (overhead) |".into());
        line("|---|---|---|---|---|---|".into());
        for r in &self.rows {
            let t = |op| {
                r.op(op).map_or(String::new(), |o| {
                    format!(
                        "{} / {} / {}",
                        thousands(o.bytes),
                        thousands(o.enveloped),
                        thousands(o.coalesced)
                    )
                })
            };
            line(format!(
                "| {} | {} | {} | {} | {} | {} ({}) / {} ({}) |",
                thousands(r.n),
                t(Operation::Create),
                t(Operation::Update),
                t(Operation::Remove),
                t(Operation::Add),
                r.message.0,
                r.message.0 - PAYLOAD,
                r.message.1,
                r.message.1 - PAYLOAD,
            ));
        }
        if let Some(r) = self.rows.iter().find(|r| r.n == 128) {
            line(String::new());
            for l in self.comparison(r) {
                line(l);
            }
            line(String::new());
            for l in self.floor(r) {
                line(l);
            }
        }
        s
    }

    fn comparison(&self, r: &Row) -> Vec<String> {
        let mut out = vec![
            "Against the Java prototype at n = 128 (bytes: at most Java's; CPU: at most Java ÷ 10):".into(),
            String::new(),
            "| | Java | ours: DCGKA | enveloped | coalesced | target (enveloped / coalesced) |".into(),
            "|---|---|---|---|---|---|".into(),
        ];
        for (op, java) in [
            (Operation::Update, java::UPDATE_B),
            (Operation::Remove, java::REMOVE_B),
            (Operation::Add, java::ADD_B),
            (Operation::Create, java::CREATE_B),
        ] {
            if let Some(o) = r.op(op) {
                out.push(format!(
                    "| {} B | {} | {} | {} | {} | {} / {} |",
                    op.name(),
                    thousands(java),
                    thousands(o.bytes),
                    thousands(o.enveloped),
                    thousands(o.coalesced),
                    verdict(o.enveloped <= java),
                    verdict(o.coalesced <= java),
                ));
            }
        }
        let (dcgka_ovh, env_ovh) = (r.message.0 - PAYLOAD, r.message.1 - PAYLOAD);
        out.push(format!(
            "| message overhead B | {} | {} | {} | | {} |",
            java::MESSAGE_OVERHEAD_B,
            dcgka_ovh,
            env_ovh,
            verdict(env_ovh <= java::MESSAGE_OVERHEAD_B)
        ));
        out.push(String::new());
        out.push("| CPU ms, sender / recipient | Java | Java ÷ 10 | ours | target |".into());
        out.push("|---|---|---|---|---|".into());
        for (name, java, cpu) in [
            (
                "update",
                java::UPDATE_MS,
                r.op(Operation::Update).map(|o| o.cpu),
            ),
            (
                "remove",
                java::REMOVE_MS,
                r.op(Operation::Remove).map(|o| o.cpu),
            ),
            ("add", java::ADD_MS, r.op(Operation::Add).map(|o| o.cpu)),
            ("message", java::MESSAGE_MS, Some(r.message_cpu)),
        ] {
            let Some(c) = cpu else { continue };
            out.push(format!(
                "| {name} | {} / {} | {:.3} / {:.3} | {:.3} / {:.3} | {} / {} |",
                java.0,
                java.1,
                java.0 / 10.0,
                java.1 / 10.0,
                ms(c.sender),
                ms(c.recipient),
                verdict(ms(c.sender) <= java.0 / 10.0),
                verdict(ms(c.recipient) <= java.1 / 10.0),
            ));
        }
        out
    }

    fn floor(&self, r: &Row) -> Vec<String> {
        let p = &self.prim;
        let peers = u32::try_from(r.n - 1).unwrap_or(u32::MAX);
        let times = |c: OpCount, k: u32| OpCount {
            x25519_base: c.x25519_base * k,
            x25519_dh: c.x25519_dh * k,
            ed25519_sign: c.ed25519_sign * k,
            ed25519_verify: c.ed25519_verify * k,
        };
        // The sgm-acb layer (not in the measured DCGKA times): the sender
        // signs its envelope (and draws a new signing key: one more
        // base-point multiplication, costed as a sign) and verifies n − 1
        // ack envelopes; a recipient verifies n − 1 envelopes and signs its
        // ack's.
        let acb_sender = OpCount {
            x25519_base: 0,
            x25519_dh: 0,
            ed25519_sign: 2,
            ed25519_verify: peers,
        };
        let acb_recipient = OpCount {
            x25519_base: 0,
            x25519_dh: 0,
            ed25519_sign: 1,
            ed25519_verify: peers,
        };
        let Some(update) = r.op(Operation::Update) else {
            return Vec::new();
        };
        let mut out = vec![
            format!(
                "Floor, update at n = {} (operation counts by analysis of the code paths; costs: the mean of the two primitive measurements above):",
                r.n
            ),
            String::new(),
            "| client | X25519 base-point | X25519 DH | Ed25519 sign / verify (sgm-acb) | floor ms (DCGKA) | measured ms | measured / floor | + sgm-acb floor ms |".into(),
            "|---|---|---|---|---|---|---|---|".into(),
        ];
        for (who, c, acb, measured) in [
            ("sender", times(SEND, peers), acb_sender, update.cpu.sender),
            ("recipient", RECEIVE, acb_recipient, update.cpu.recipient),
        ] {
            let f = c.floor(p);
            out.push(format!(
                "| {who} | {} | {} | {} / {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                c.x25519_base,
                c.x25519_dh,
                acb.ed25519_sign,
                acb.ed25519_verify,
                ms(f),
                ms(measured),
                measured.as_secs_f64() / f.as_secs_f64(),
                ms(acb.floor(p)),
            ));
        }
        out.push(String::new());
        out.push(format!(
            "One steady-state 2SM send, measured in the same run: {:.1} µs against its floor of {:.1} µs (4 base-point + 1 DH; ratio {:.2}); receive {:.1} µs against {:.1} µs (2 base-point + 2 DH; ratio {:.2}).",
            us(r.two_sm.sender),
            us(SEND.floor(p)),
            r.two_sm.sender.as_secs_f64() / SEND.floor(p).as_secs_f64(),
            us(r.two_sm.recipient),
            us(RECEIVE.floor(p)),
            r.two_sm.recipient.as_secs_f64() / RECEIVE.floor(p).as_secs_f64(),
        ));
        out.push(format!(
            "A copy of the sender's whole state (each operation runs on one; clone and drop): {:.2} ms.",
            ms(r.state_copy)
        ));
        out
    }
}
