//! `cargo xtask demo`: the protester scenario of the DCGKA paper (§2) in the
//! deterministic simulator.
//!
//! A group of `--members` users is split across two locations. During the
//! partition each side chats, adds and removes members and updates keys
//! concurrently (one member is removed on one side while it updates on the
//! other). The partition heals, anti-entropy re-sends fill the gaps, a
//! removed user is re-added with a fresh identity, and everyone converges.
//! The demo computes a verdict and exits non-zero if it fails: members
//! disagree, a message missed an intended current reader, someone decrypted
//! a message outside its membership, a warning is not explained by the
//! schedule, or an `Event::NotForMe` contradicts what the sender saw.
//!
//! Cost grows as O(n²) packets received (every member acks each
//! key-agreement operation and each round of messages, to everyone), each
//! signature-checked: in the release build about 30 s at 100 members, 2
//! min at 200 and 17 min (13 GB) at 500 (docs/messaging.md, "Cost"). For
//! large groups use the release build:
//! `cargo run --release -p xtask -- demo --members 500` (a progress bar,
//! driven by simulated time, shows from 50 members on).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;
use sgm_crypto::SeedableRng;
use sgm_messaging::{
    Config, Destination, Event, Group, Invite, KeyServer, MemberId, MessageId, NotForMe, Output,
    PacketKind, UserId, Warning,
};
use sgm_sim::{LinkConfig, NodeId, SimConfig, Simulator};

struct Options {
    members: usize,
    seed: u64,
    loss: f64,
    verbose: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        members: 12,
        seed: 1,
        loss: 0.0,
        verbose: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--members" => {
                o.members = val("--members")?
                    .parse()
                    .map_err(|e| format!("--members: {e}"))?
            }
            "--seed" => o.seed = val("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--loss" => o.loss = val("--loss")?.parse().map_err(|e| format!("--loss: {e}"))?,
            "--verbose" | "-v" => o.verbose = true,
            other => {
                return Err(format!(
                    "unknown option {other}; options: --members N --seed S --loss P --verbose"
                ));
            }
        }
    }
    if o.members < 6 {
        return Err("--members must be at least 6".into());
    }
    if !(0.0..0.9).contains(&o.loss) {
        return Err("--loss must be in [0, 0.9)".into());
    }
    Ok(o)
}

/// One-time prekeys of each founding member.
const FOUNDER_PREKEYS: usize = 64;

/// Users beyond `--members`: the two newcomers, the re-added victim, and a
/// margin.
const EXTRA_USERS: usize = 8;

/// Simulated length of the scenario (ms): the progress bar's 100%.
const SCENARIO_MS: u64 = 27_400;

/// A minimal progress bar on stderr (long runs only), driven by simulated
/// time, with the current stage.
struct Progress {
    total: u64,
    done: u64,
    stage: &'static str,
    shown: bool,
    start: Instant,
}

impl Progress {
    fn new(total: u64, shown: bool) -> Self {
        Self {
            total,
            done: 0,
            stage: "",
            shown,
            start: Instant::now(),
        }
    }

    fn stage(&mut self, what: &'static str) {
        self.stage = what;
        self.draw();
    }

    fn at(&mut self, done: u64) {
        self.done = done.min(self.total);
        self.draw();
    }

    fn draw(&self) {
        if !self.shown {
            return;
        }
        let width = 30;
        let filled = (self.done * width / self.total.max(1)) as usize;
        eprint!(
            "\r[{}{}] {:>3}% {:<28} {:>6.1}s",
            "#".repeat(filled),
            "-".repeat(width as usize - filled),
            self.done * 100 / self.total.max(1),
            self.stage,
            self.start.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&mut self) {
        if self.shown {
            eprintln!();
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Cpu {
    count: u64,
    total: Duration,
}

/// The world: simulator, members, bookkeeping for the verdict.
struct World {
    sim: Simulator,
    rng: ChaCha20Rng,
    keys: KeyServer,
    config: Config,
    /// Current state per node (a re-added user gets a new `Group`).
    groups: BTreeMap<NodeId, Group>,
    node_of_user: HashMap<UserId, NodeId>,
    node_of_member: HashMap<MemberId, NodeId>,
    cpu: BTreeMap<&'static str, Cpu>,
    /// Per message: sender, plaintext, the sender's other members when sent.
    sent: BTreeMap<MessageId, (MemberId, Vec<u8>, BTreeSet<MemberId>)>,
    /// Per member id: the messages it decrypted.
    decrypted: BTreeMap<MemberId, BTreeMap<MessageId, Vec<u8>>>,
    warnings: Vec<(UserId, Warning)>,
    /// `Event::NotForMe` reports: (receiver, message, reason).
    not_for_me: Vec<(MemberId, MessageId, NotForMe)>,
    /// Simulated time of the partition and of the heal.
    partition: Option<(u64, u64)>,
    /// When each message was sent (simulated ms).
    sent_at: BTreeMap<MessageId, u64>,
    /// Whether links lose packets.
    lossy: bool,
    removed_ever: BTreeSet<MemberId>,
    progress: Progress,
    /// Scripted actions refused: count and first error, per operation.
    refused: BTreeMap<&'static str, (usize, String)>,
    counter: u64,
    verbose: bool,
    /// One-time prekeys each user added after the creation publishes.
    prekeys: usize,
    /// Per node, when it last asked a peer because something waited, and
    /// whether an answer (a resend packet) arrived since.
    asked: HashMap<NodeId, (u64, bool)>,
    /// How many users found the group.
    founders: usize,
}

impl World {
    fn now(&self) -> u64 {
        self.sim.now()
    }

    fn timed<T>(&mut self, op: &'static str, f: impl FnOnce(&mut Self) -> T) -> T {
        let t = Instant::now();
        let out = f(self);
        let c = self.cpu.entry(op).or_default();
        c.count += 1;
        c.total += t.elapsed();
        out
    }

    fn new_user(&mut self, name: &str) -> (NodeId, Invite) {
        let node = match self.node_of_user.get(&UserId::from(name)) {
            Some(n) => *n,
            None => {
                let n = self.sim.add_node();
                self.node_of_user.insert(UserId::from(name), n);
                n
            }
        };
        // One one-time prekey per peer that contacts this member first (a
        // shortfall refuses that peer's operation). A member added later is
        // contacted first by everyone (each add-ack carries a direct
        // message to it); a founding member only by those who update or
        // remove, a few per partition (§7 designates one member to
        // dominate concurrent updates). Generating prekeys for everyone
        // would cost n² key pairs at setup.
        let prekeys = if self.groups.len() < self.founders {
            FOUNDER_PREKEYS
        } else {
            self.prekeys
        };
        let (g, invite, published) =
            Group::new(UserId::from(name), self.config, prekeys, &mut self.rng);
        self.keys.publish(invite.member_id(), published);
        self.node_of_member.insert(invite.member_id(), node);
        self.groups.insert(node, g);
        (node, invite)
    }

    /// A scripted action the façade refused (none should be).
    fn refuse(&mut self, op: &'static str, e: &sgm_messaging::Error) {
        let r = self.refused.entry(op).or_insert((0, e.to_string()));
        r.0 += 1;
    }

    /// Records the output of `node`'s action and puts its packets on the wire.
    fn dispatch(&mut self, node: NodeId, out: Output) {
        for ev in &out.events {
            self.note_event(node, ev);
        }
        for p in out.packets {
            let to: Vec<NodeId> = match &p.to {
                Destination::Members(ms) => ms
                    .iter()
                    .filter_map(|m| self.node_of_member.get(m).copied())
                    .filter(|n| *n != node)
                    .collect(),
                Destination::Member(m) => self.node_of_member.get(m).copied().into_iter().collect(),
            };
            if to.is_empty() {
                continue;
            }
            // An offline sender cannot transmit; the re-send protocol heals it.
            let _ = self.sim.broadcast(node, &to, p.kind.name(), p.bytes);
        }
    }

    fn note_event(&mut self, node: NodeId, ev: &Event) {
        let Some(g) = self.groups.get(&node) else {
            return;
        };
        let me = g.me();
        let user = g.user().clone();
        if self.verbose {
            tracing::debug!(user = %user, ?ev, "event");
        }
        match ev {
            Event::Message { id, plaintext, .. } => {
                self.decrypted
                    .entry(me)
                    .or_default()
                    .insert(*id, plaintext.clone());
            }
            Event::MembershipChanged { removed, .. } => {
                self.removed_ever.extend(removed.iter().copied());
            }
            Event::NotForMe { id, reason, .. } => {
                self.not_for_me.push((me, *id, *reason));
            }
            Event::Warning(w) => {
                tracing::info!(user = %user, warning = ?w, "warning");
                self.warnings.push((user, w.clone()));
            }
            _ => {}
        }
    }

    fn user_node(&self, name: &str) -> NodeId {
        self.node_of_user[&UserId::from(name)]
    }

    fn send_text(&mut self, name: &str) {
        let node = self.user_node(name);
        let now = self.now();
        self.counter += 1;
        let text = format!("#{} from {name} at {now} ms", self.counter).into_bytes();
        let Some(g) = self.groups.get(&node) else {
            return;
        };
        if !g.is_member() {
            return;
        }
        let audience: BTreeSet<MemberId> =
            g.members().into_iter().filter(|m| *m != g.me()).collect();
        let sender = g.me();
        let out = self.timed("send", |w| {
            let g = w.groups.get_mut(&node)?;
            match g.send(&text, now, &mut w.rng, &mut w.keys) {
                Ok(o) => Some(o),
                Err(e) => {
                    w.refuse("send", &e);
                    None
                }
            }
        });
        if let Some(out) = out {
            if let Some(id) = out.sent {
                self.sent.insert(id, (sender, text.clone(), audience));
                self.sent_at.insert(id, now);
                self.decrypted.entry(sender).or_default().insert(id, text);
            }
            self.dispatch(node, out);
        }
    }

    fn op(
        &mut self,
        name: &str,
        op: &'static str,
        f: impl FnOnce(
            &mut Group,
            u64,
            &mut ChaCha20Rng,
            &mut KeyServer,
        ) -> sgm_messaging::Result<Output>,
    ) {
        let node = self.user_node(name);
        let now = self.now();
        let out = self.timed(op, |w| {
            let g = w.groups.get_mut(&node)?;
            match f(g, now, &mut w.rng, &mut w.keys) {
                Ok(o) => Some(o),
                Err(e) => {
                    tracing::warn!(user = name, op, error = %e, "operation refused");
                    w.refuse(op, &e);
                    None
                }
            }
        });
        if let Some(out) = out {
            self.dispatch(node, out);
        }
    }

    /// Delivers packets and ticks every member until `until` (simulated ms).
    fn run_until(&mut self, until: u64, sync_every: u64) {
        let step = 100;
        let mut t = self.now();
        while t < until {
            t = (t + step).min(until);
            while let Some(d) = self.sim.next_delivery_until(t) {
                let now = self.now();
                if d.kind == PacketKind::Resend.name()
                    && let Some(a) = self.asked.get_mut(&d.to)
                {
                    a.1 = true;
                }
                let out = self.timed("receive", |w| {
                    let g = w.groups.get_mut(&d.to)?;
                    g.receive_shared(d.bytes.clone(), now, &mut w.rng, &mut w.keys)
                        .ok()
                });
                if let Some(out) = out {
                    self.dispatch(d.to, out);
                }
            }
            self.progress.at(t);
            let nodes: Vec<NodeId> = self.groups.keys().copied().collect();
            for n in nodes {
                if !self.sim.is_online(n) {
                    continue;
                }
                let now = self.now();
                let out = self.timed("tick", |w| {
                    let g = w.groups.get_mut(&n)?;
                    g.tick(now, &mut w.rng, &mut w.keys).ok()
                });
                if let Some(out) = out {
                    self.dispatch(n, out);
                }
                // Anti-entropy: ask one random peer what we lack.
                // While something waits for predecessors, ask again once
                // the last answer arrived (or after 2 s without one): asking
                // every 500 ms regardless piled up answers to the same
                // question at 500 members.
                let waiting = t.is_multiple_of(500)
                    && self.groups.get(&n).is_some_and(|g| g.waiting() > 0)
                    && self
                        .asked
                        .get(&n)
                        .is_none_or(|(at, answered)| *answered || t >= at + 2_000);
                if waiting {
                    self.asked.insert(n, (t, false));
                }
                let due = t.is_multiple_of(sync_every) || waiting;
                if due {
                    let peer = {
                        let Some(g) = self.groups.get(&n) else {
                            continue;
                        };
                        if !g.is_member() {
                            continue;
                        }
                        if let Some(hint) = g.sync_hint() {
                            // Something waits for predecessors its sender has.
                            hint
                        } else {
                            let others: Vec<MemberId> =
                                g.members().into_iter().filter(|m| *m != g.me()).collect();
                            if others.is_empty() {
                                continue;
                            }
                            let i = (rand_index(&mut self.rng, others.len())) as usize;
                            others[i]
                        }
                    };
                    let out = self.timed("sync", |w| w.groups.get_mut(&n)?.sync_request(peer).ok());
                    if let Some(out) = out {
                        self.dispatch(n, out);
                    }
                }
            }
        }
    }
}

fn rand_index(rng: &mut ChaCha20Rng, n: usize) -> u64 {
    use sgm_crypto::rng::Rng;
    rng.next_u64() % n as u64
}

fn nodes_of(w: &World, names: &[String]) -> Vec<NodeId> {
    names.iter().map(|n| w.user_node(n)).collect()
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    if o.verbose {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let wall = Instant::now();
    let n = o.members;
    let mut sim_config = SimConfig::new(o.seed);
    sim_config.default_link = LinkConfig {
        latency_ms: 20,
        jitter_ms: 30,
        loss_ppm: LinkConfig::ppm(o.loss),
        duplicate_ppm: LinkConfig::ppm(0.01),
    };
    let config = Config {
        ack_delay_ms: 200,
        delivery_timeout_ms: 20_000,
        update_every_messages: Some(20),
        update_after_ms: None,
        state_in_output: std::env::var("SGM_DEMO_STATE").is_ok(),
        ..Config::default()
    };
    let mut w = World {
        sim: Simulator::new(sim_config),
        rng: ChaCha20Rng::seed_from_u64(o.seed),
        keys: KeyServer::new(),
        config,
        groups: BTreeMap::new(),
        node_of_user: HashMap::new(),
        node_of_member: HashMap::new(),
        cpu: BTreeMap::new(),
        sent: BTreeMap::new(),
        decrypted: BTreeMap::new(),
        warnings: Vec::new(),
        not_for_me: Vec::new(),
        partition: None,
        sent_at: BTreeMap::new(),
        lossy: o.loss > 0.0,
        removed_ever: BTreeSet::new(),
        progress: Progress::new(SCENARIO_MS, n >= 50 && !o.verbose),
        refused: BTreeMap::new(),
        counter: 0,
        verbose: o.verbose,
        prekeys: n + EXTRA_USERS,
        asked: HashMap::new(),
        founders: n,
    };
    let names: Vec<String> = (0..n).map(|i| format!("p{i:02}")).collect();
    let mut invites = Vec::new();
    for name in &names {
        let (_, inv) = w.new_user(name);
        invites.push(inv);
    }
    let sync_every = if n > 100 { 4000 } else { 1000 };

    println!("== sgm demo: the protester scenario (DCGKA paper §2) ==");
    println!(
        "{n} members, seed {}, loss {:.1}%, links 20±30 ms, 1% duplicates",
        o.seed,
        o.loss * 100.0
    );
    // 1. Create, everyone together.
    w.progress.stage("creating the group");
    let creator = names[0].clone();
    let rest: Vec<Invite> = invites[1..].to_vec();
    w.op(&creator, "create", |g, now, rng, keys| {
        g.create(&rest, now, rng, keys)
    });
    w.run_until(2_000, sync_every);
    w.progress.stage("chatting together");
    for name in names.iter().take(4) {
        w.send_text(name);
    }
    w.run_until(4_000, sync_every);

    // 2. Partition: location A (first half) and location B (second half).
    w.progress.stage("partition");
    let half = n / 2;
    let side_a: Vec<String> = names[..half].to_vec();
    let side_b: Vec<String> = names[half..].to_vec();
    let (new_a, inv_a) = w.new_user("newcomer-a");
    let (new_b, inv_b) = w.new_user("newcomer-b");
    let mut nodes_a = nodes_of(&w, &side_a);
    nodes_a.push(new_a);
    let mut nodes_b = nodes_of(&w, &side_b);
    nodes_b.push(new_b);
    w.sim
        .partition(&[&nodes_a, &nodes_b])
        .map_err(|e| e.to_string())?;
    println!(
        "t={:>6} ms  partition: A = {} .. {} (+newcomer-a), B = {} .. {} (+newcomer-b)",
        w.now(),
        side_a[0],
        side_a[half - 1],
        side_b[0],
        side_b[side_b.len() - 1]
    );
    let partition_start = w.now();
    let a0 = side_a[0].clone();
    let a1 = side_a[1].clone();
    let b0 = side_b[0].clone();
    let b1 = side_b[1].clone();
    // The member removed on side A while it updates on side B.
    let victim = side_b[side_b.len() - 1].clone();
    // The member removed on side B while it updates on side A.
    let victim2 = side_a[half - 1].clone();
    for round in 0..3u64 {
        for name in side_a
            .iter()
            .chain(side_b.iter())
            .skip(round as usize % 2)
            .step_by(2)
        {
            w.send_text(name);
        }
        w.run_until(w.now() + 600, sync_every);
    }
    w.op(&a0, "add", |g, now, rng, keys| {
        g.add(std::slice::from_ref(&inv_a), now, rng, keys)
    });
    w.op(&b0, "add", |g, now, rng, keys| {
        g.add(std::slice::from_ref(&inv_b), now, rng, keys)
    });
    let v = UserId::from(victim.as_str());
    let v2 = UserId::from(victim2.as_str());
    w.op(&a1, "remove", |g, now, rng, keys| {
        g.remove(std::slice::from_ref(&v), now, rng, keys)
    });
    w.op(&victim, "update", |g, now, rng, keys| {
        g.update(now, rng, keys)
    });
    w.op(&b1, "remove", |g, now, rng, keys| {
        g.remove(std::slice::from_ref(&v2), now, rng, keys)
    });
    w.op(&victim2, "update", |g, now, rng, keys| {
        g.update(now, rng, keys)
    });
    w.op(&side_a[2 % half], "update", |g, now, rng, keys| {
        g.update(now, rng, keys)
    });
    w.op(&side_b[2], "update", |g, now, rng, keys| {
        g.update(now, rng, keys)
    });
    w.run_until(w.now() + 1_500, sync_every);
    w.progress.stage("chatting apart");
    for round in 0..3u64 {
        for name in side_a
            .iter()
            .chain(side_b.iter())
            .chain(["newcomer-a".to_string(), "newcomer-b".to_string()].iter())
            .skip(round as usize % 3)
            .step_by(3)
        {
            w.send_text(name);
        }
        w.run_until(w.now() + 700, sync_every);
    }
    let partition_end = w.now() + 1_000;
    w.run_until(partition_end, sync_every);
    w.partition = Some((partition_start, partition_end));

    // 3. Heal; anti-entropy fills the gaps.
    w.progress.stage("healing");
    w.sim.heal();
    println!("t={:>6} ms  partition heals", w.now());
    w.run_until(w.now() + 6_000, sync_every);
    w.progress.stage("re-adding a removed user");
    // Re-add the victim with a fresh identity.
    let (_, inv_v) = w.new_user(&victim);
    w.op(&a0, "add", |g, now, rng, keys| {
        g.add(std::slice::from_ref(&inv_v), now, rng, keys)
    });
    w.run_until(w.now() + 3_000, sync_every);
    w.progress.stage("chatting together again");
    let everyone: Vec<String> = w
        .groups
        .values()
        .filter(|g| g.is_member())
        .map(|g| g.user().0.clone())
        .collect();
    for name in everyone.iter().step_by(2) {
        w.send_text(name);
    }
    w.run_until(w.now() + 8_000, sync_every);
    w.progress.stage("verdict");

    // ---- report ----
    let verdict = verdict(&w);
    w.progress.stage("done");
    w.progress.at(SCENARIO_MS);
    w.progress.finish();
    report(&w, &verdict, n <= 40);
    println!(
        "wall time {:.2} s for {} simulated ms",
        wall.elapsed().as_secs_f64(),
        w.now()
    );
    if verdict.failures.is_empty() {
        println!(
            "VERDICT: PASS: {} members agree on membership and on the plaintext of all {} messages; removed members decrypted nothing sent after their removal",
            verdict.members, verdict.messages
        );
        Ok(())
    } else {
        println!("VERDICT: FAIL: {}", verdict.failures.join("; "));
        Err("verdict failed".into())
    }
}

struct Verdict {
    members: usize,
    messages: usize,
    failures: Vec<String>,
}

fn verdict(w: &World) -> Verdict {
    let mut failures = Vec::new();
    let active: Vec<&Group> = w.groups.values().filter(|g| g.is_member()).collect();
    let views: BTreeSet<BTreeSet<MemberId>> = active.iter().map(|g| g.members()).collect();
    if views.len() != 1 {
        failures.push(format!("{} different membership views", views.len()));
    }
    let current: BTreeSet<MemberId> = active.iter().map(|g| g.me()).collect();
    if let Some(v) = views.iter().next()
        && *v != current
    {
        {
            failures.push("membership view differs from the members that think they are in".into());
        }
    }
    // Every message whose sender's view included a current member reached it
    // with the same plaintext.
    let mut missing = 0usize;
    for (id, (sender, text, audience)) in &w.sent {
        // Messages of members removed concurrently may be undecryptable by
        // those who processed the removal first (DCGKA semantics).
        if !current.contains(sender) {
            continue;
        }
        for m in audience.iter().filter(|m| current.contains(m)) {
            match w.decrypted.get(m).and_then(|d| d.get(id)) {
                Some(t) if t == text => {}
                Some(_) => failures.push(format!("plaintext mismatch for {id:?} at {m}")),
                None => missing += 1,
            }
        }
    }
    if missing > 0 {
        failures.push(format!(
            "{missing} (message, intended current member) pairs not delivered"
        ));
    }
    // Nobody decrypted a message whose sender did not count it a member.
    for (m, got) in &w.decrypted {
        for id in got.keys() {
            if let Some((sender, _, audience)) = w.sent.get(id)
                && sender != m
                && !audience.contains(m)
            {
                {
                    failures.push(format!(
                        "{m} decrypted {id:?} without being a member for it"
                    ));
                }
            }
        }
    }
    for (op, (count, first)) in &w.refused {
        failures.push(format!("{count} {op} action(s) refused (first: {first})"));
    }
    // No false alarms: every warning is explained by the schedule, and every
    // "not for me" report agrees with what the sender saw when it sent.
    let unexplained = unexplained_warnings(w);
    if unexplained > 0 {
        failures.push(format!(
            "{unexplained} warning(s) not explained by the schedule"
        ));
    }
    for (m, id, reason) in &w.not_for_me {
        let Some((sender, _, audience)) = w.sent.get(id) else {
            failures.push(format!(
                "{m} reported {id:?} not for it, but it was never sent"
            ));
            continue;
        };
        let explained = match reason {
            NotForMe::NotInSendersView => !audience.contains(m),
            NotForMe::SenderRemoved => w.removed_ever.contains(sender),
            _ => false,
        };
        if !explained {
            failures.push(format!(
                "{m} reported {id:?} not for it ({reason:?}), but its sender counted it in"
            ));
        }
    }
    Verdict {
        members: active.len(),
        messages: w.sent.len(),
        failures,
    }
}

/// Warnings the schedule does not explain. A delivery warning is explained
/// when the network was lossy or the message was sent during the partition
/// (its readers were cut off for longer than the timeout); nothing else is
/// expected in this scenario.
fn unexplained_warnings(w: &World) -> usize {
    let cut_off = |id: &MessageId| {
        w.partition.is_some_and(|(start, end)| {
            w.sent_at
                .get(id)
                .is_some_and(|t| *t + w.config.delivery_timeout_ms > start && *t < end)
        })
    };
    w.warnings
        .iter()
        .filter(|(_, warn)| match warn {
            Warning::Undelivered { id, .. } => !(w.lossy || cut_off(id)),
            _ => true,
        })
        .count()
}

fn report(w: &World, v: &Verdict, per_member: bool) {
    println!();
    println!("-- membership each member ends with --");
    let mut views: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for g in w.groups.values() {
        let state = if g.is_removed() {
            "removed".to_string()
        } else if g.is_member() {
            "member".to_string()
        } else {
            "not joined".to_string()
        };
        let mut view: Vec<String> = g
            .members()
            .iter()
            .map(|m| {
                g.user_of(m)
                    .map(|u| u.0.clone())
                    .unwrap_or_else(|| m.to_string())
            })
            .collect();
        view.sort();
        view.insert(0, format!("[{state}]"));
        views.entry(view).or_default().push(g.user().0.clone());
    }
    for (view, who) in &views {
        if per_member {
            println!("  {:<40} see {}", who.join(","), view.join(" "));
        } else {
            println!(
                "  {} members see {} members {}",
                who.len(),
                view.len() - 1,
                view[0]
            );
        }
    }
    println!();
    let delivered: usize = w.decrypted.values().map(BTreeMap::len).sum::<usize>();
    println!(
        "-- messages: {} sent, {} decryptions (own included) --",
        w.sent.len(),
        delivered
    );
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for (_, warn) in &w.warnings {
        let k = match warn {
            Warning::Undelivered { .. } => "undelivered (ack timeout)",
            Warning::Rejected { .. } => "rejected by key agreement",
            Warning::Undecryptable { .. } => "undecryptable",
            Warning::UnknownParent { .. } => "unknown transcript parent",
            Warning::Dropped { .. } => "dropped by broadcast layer",
            _ => "other",
        };
        *by_kind.entry(k.to_string()).or_default() += 1;
    }
    println!(
        "-- warnings: {} ({} not explained by the schedule) --",
        w.warnings.len(),
        unexplained_warnings(w)
    );
    for (k, c) in &by_kind {
        println!("  {c:>5} {k}");
    }
    println!();
    println!("-- traffic (simulator) --");
    let mut sent: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let mut total = (0u64, 0u64);
    for n in w.sim.nodes() {
        if let Some(s) = w.sim.stats(n) {
            for (k, c) in &s.sent_by_kind {
                let e = sent.entry(k).or_default();
                e.0 += c.packets;
                e.1 += c.bytes;
            }
            total.0 += s.received.packets;
            total.1 += s.received.bytes;
        }
    }
    println!("  {:<12} {:>9} {:>12}", "kind", "sent pkts", "sent bytes");
    for (k, (p, b)) in &sent {
        println!("  {k:<12} {p:>9} {b:>12}");
    }
    let ns = w.sim.network_stats();
    println!(
        "  received {} packets / {} bytes; lost {}, cut by partition {}, duplicated {}",
        total.0, total.1, ns.lost, ns.partitioned, ns.duplicated
    );
    println!();
    println!("-- CPU per operation --");
    println!(
        "  {:<10} {:>8} {:>12} {:>12}",
        "op", "count", "mean µs", "total ms"
    );
    for (op, c) in &w.cpu {
        println!(
            "  {op:<10} {:>8} {:>12.0} {:>12.1}",
            c.count,
            c.total.as_secs_f64() * 1e6 / c.count.max(1) as f64,
            c.total.as_secs_f64() * 1e3
        );
    }
    // Persistence: what one member's whole state weighs (the demo does not
    // serialize after every step; set SGM_DEMO_STATE=1 to do so).
    if let Some(g) = w.groups.values().find(|g| g.is_member()) {
        let t = Instant::now();
        let bytes = g.to_bytes();
        let ser = t.elapsed();
        let t = Instant::now();
        let ok = Group::from_bytes(bytes.expose_secret()).is_ok();
        println!(
            "-- state of {}: {} KiB, serialize {:.1} ms, restore {:.1} ms ({}) --",
            g.user(),
            bytes.len() / 1024,
            ser.as_secs_f64() * 1e3,
            t.elapsed().as_secs_f64() * 1e3,
            if ok { "ok" } else { "FAILED" }
        );
    }
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, r) in &w.not_for_me {
        *reasons.entry(format!("{r:?}")).or_default() += 1;
    }
    println!(
        "-- not for me (quiet, not warnings): {} messages whose sender did not count the receiver in; each checked against the sender's view at send time --",
        w.not_for_me.len()
    );
    for (k, c) in reasons {
        println!("  {c:>5} {k}");
    }
    println!();
    let _ = v;
}
