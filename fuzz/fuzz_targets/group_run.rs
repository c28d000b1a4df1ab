//! Whole-group runs driven by action bytes (after p2panda's
//! `fuzz/fuzz_targets/groups_2sm.rs`): a seed, the founders (u0 creates the
//! group with u1 and whoever else the mask names: a run that never created
//! a group would test nothing), and a list of actions among four users:
//! add, remove, update, send, tick, sync, restore, and the network's
//! deliver / drop / duplicate / reorder / wait; then the network settles
//! (everything delivered, ticks and sync requests all round).
//!
//! Invariants checked all along:
//! - no panic; every action and receive that fails leaves the state as it
//!   was (`to_bytes` compared);
//! - every message shown (`Event::Message`) was sent by the member it names
//!   with the plaintext shown (integrity), to an audience that included the
//!   receiver when it was sent (a member removed, or not yet added, reads
//!   nothing it was not sent), and is shown at most once per member
//!   (no replay);
//!
//! and after settling:
//! - members that count each other in agree on the membership;
//! - such members decrypted the same messages among those sent to both.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sgm_fuzz::net::Net;
use sgm_messaging::{Config, Event, MemberId, MessageId, Output, UserId};

const USERS: usize = 4;
/// Most member instances (a re-added user gets a fresh one).
const MAX_NODES: usize = 9;
const MAX_ACTIONS: usize = 48;

#[derive(Arbitrary, Debug)]
enum Action {
    Add { by: u8, who: u8 },
    Remove { by: u8, who: u8 },
    Update { by: u8 },
    Send { by: u8 },
    Tick { by: u8 },
    Sync { by: u8, peer: u8 },
    Deliver { count: u8 },
    DeliverAt { at: u8 },
    Drop { at: u8 },
    Duplicate { at: u8 },
    Reorder { a: u8, b: u8 },
    Wait { ms: u16 },
    Restore { who: u8 },
}

#[derive(Arbitrary, Debug)]
struct Run {
    seed: u64,
    founders: u8,
    actions: Vec<Action>,
}

/// A message sent: sender, plaintext, the members it was sent to.
struct Sent {
    sender: MemberId,
    plaintext: Vec<u8>,
    audience: BTreeSet<MemberId>,
}

struct World {
    net: Net,
    /// The current node of each user.
    current: [usize; USERS],
    /// Nodes whose invite was used (added or in a create).
    invited: BTreeSet<usize>,
    sent: BTreeMap<MessageId, Sent>,
    /// Messages shown, per node.
    shown: BTreeMap<usize, BTreeSet<MessageId>>,
    counter: u32,
}

fn user(i: usize) -> UserId {
    UserId::from(format!("u{i}").as_str())
}

fn state(w: &World, node: usize) -> Vec<u8> {
    w.net.nodes[node].to_bytes().expose_secret().to_vec()
}

impl World {
    fn new(seed: u64) -> Self {
        let mut net = Net::new(seed, Config::default());
        let current = core::array::from_fn(|i| net.add_node(&format!("u{i}")));
        Self {
            net,
            current,
            invited: BTreeSet::new(),
            sent: BTreeMap::new(),
            shown: BTreeMap::new(),
            counter: 0,
        }
    }

    fn node(&self, u: u8) -> usize {
        self.current[usize::from(u) % USERS]
    }

    /// The events of `out`, seen at `node`: the per-message invariants.
    fn observe(&mut self, node: usize, out: &Output) {
        let me = self.net.nodes[node].me();
        for e in &out.events {
            if let Event::Message {
                id,
                sender,
                plaintext,
                ..
            } = e
            {
                let sent = self.sent.get(id).expect("shown a message nobody sent");
                assert_eq!(sent.sender, *sender, "wrong sender shown");
                assert_eq!(&sent.plaintext, plaintext, "wrong plaintext shown");
                assert!(
                    sent.audience.contains(&me),
                    "a member read a message not sent to it"
                );
                let fresh = self.shown.entry(node).or_default().insert(*id);
                assert!(fresh, "a message shown twice");
            }
        }
    }

    /// Runs an action at `node`; on error the state must be unchanged.
    fn act(
        &mut self,
        node: usize,
        f: impl FnOnce(
            &mut sgm_messaging::Group,
            u64,
            &mut rand_chacha::ChaCha20Rng,
            &mut sgm_messaging::KeyServer,
        ) -> sgm_messaging::Result<Output>,
    ) -> Option<Output> {
        let before = state(self, node);
        match self.net.act(node, f) {
            Ok(out) => {
                self.observe(node, &out);
                Some(out)
            }
            Err(_) => {
                assert!(
                    before == state(self, node),
                    "failed action changed the state"
                );
                None
            }
        }
    }

    fn deliver(&mut self, k: usize) {
        let Some(p) = self.net.inflight.get(k) else {
            return;
        };
        let to = p.to;
        let before = state(self, to);
        if let Some((_, result)) = self.net.deliver(k) {
            match result {
                Ok(out) => self.observe(to, &out),
                Err(_) => assert!(
                    before == state(self, to),
                    "failed receive changed the state"
                ),
            }
        }
    }

    /// A node for `who` that can be invited: its current one if unused,
    /// else a fresh one (re-adding takes a fresh identity).
    fn invitable(&mut self, who: usize) -> Option<usize> {
        let n = self.current[who];
        if !self.invited.contains(&n) {
            return Some(n);
        }
        if self.net.nodes[n].is_member() || self.net.nodes.len() >= MAX_NODES {
            return None;
        }
        let fresh = self.net.add_node(&format!("u{who}"));
        self.current[who] = fresh;
        Some(fresh)
    }

    /// u0 creates the group with u1 and the users `mask` names.
    fn found(&mut self, mask: u8) {
        let by = self.current[0];
        let nodes: Vec<usize> = (1..USERS)
            .filter(|u| *u == 1 || mask & (1 << u) != 0)
            .map(|u| self.current[u])
            .collect();
        let invites: Vec<_> = nodes.iter().map(|n| self.net.invites[*n].clone()).collect();
        self.act(by, |g, now, rng, keys| g.create(&invites, now, rng, keys))
            .expect("create");
        self.invited.insert(by);
        self.invited.extend(nodes);
    }

    fn step(&mut self, a: &Action) {
        let now = self.net.now;
        match *a {
            Action::Add { by, who } => {
                let by = self.node(by);
                let Some(n) = self.invitable(usize::from(who) % USERS) else {
                    return;
                };
                let invite = self.net.invites[n].clone();
                if self
                    .act(by, |g, now, rng, keys| g.add(&[invite], now, rng, keys))
                    .is_some()
                {
                    self.invited.insert(n);
                }
            }
            Action::Remove { by, who } => {
                let (by, u) = (self.node(by), user(usize::from(who) % USERS));
                self.act(by, |g, now, rng, keys| g.remove(&[u], now, rng, keys));
            }
            Action::Update { by } => {
                let by = self.node(by);
                self.act(by, |g, now, rng, keys| g.update(now, rng, keys));
            }
            Action::Send { by } => {
                let by = self.node(by);
                self.counter += 1;
                let text = format!("m{}", self.counter).into_bytes();
                let g = &self.net.nodes[by];
                let (me, audience) = (g.me(), g.members());
                let t = text.clone();
                if let Some(out) = self.act(by, |g, now, rng, keys| g.send(&t, now, rng, keys)) {
                    let id = out.sent.expect("send names its message");
                    let audience = audience.into_iter().filter(|m| *m != me).collect();
                    self.sent.insert(
                        id,
                        Sent {
                            sender: me,
                            plaintext: text,
                            audience,
                        },
                    );
                }
            }
            Action::Tick { by } => {
                let by = self.node(by);
                self.act(by, |g, now, rng, keys| g.tick(now, rng, keys));
            }
            Action::Sync { by, peer } => {
                let (by, peer) = (self.node(by), self.node(peer));
                let peer = self.net.nodes[peer].me();
                self.act(by, |g, _, _, _| g.sync_request(peer));
            }
            Action::Deliver { count } => {
                for _ in 0..count % 16 {
                    self.deliver(0);
                }
            }
            Action::DeliverAt { at } => {
                let len = self.net.inflight.len().max(1);
                self.deliver(usize::from(at) % len);
            }
            Action::Drop { at } => {
                let len = self.net.inflight.len().max(1);
                self.net.inflight.remove(usize::from(at) % len);
            }
            Action::Duplicate { at } => {
                let len = self.net.inflight.len().max(1);
                if let Some(p) = self.net.inflight.get(usize::from(at) % len).cloned() {
                    self.net.inflight.push_back(p);
                }
            }
            Action::Reorder { a, b } => {
                let len = self.net.inflight.len().max(1);
                let (a, b) = (usize::from(a) % len, usize::from(b) % len);
                if a < self.net.inflight.len() && b < self.net.inflight.len() {
                    self.net.inflight.swap(a, b);
                }
            }
            Action::Wait { ms } => self.net.now = now + u64::from(ms),
            Action::Restore { who } => {
                let n = self.node(who);
                let bytes = self.net.nodes[n].to_bytes();
                let back = sgm_messaging::Group::from_bytes(bytes.expose_secret())
                    .expect("a state restores");
                assert!(back.to_bytes().expose_secret() == bytes.expose_secret());
                self.net.nodes[n] = back;
            }
        }
    }

    /// Delivers everything, then rounds of ticks and sync requests among
    /// members, each followed by delivering everything.
    fn settle(&mut self) {
        for _ in 0..4 {
            let mut budget = 4000;
            while !self.net.inflight.is_empty() && budget > 0 {
                self.deliver(0);
                budget -= 1;
            }
            self.net.now += 5_000;
            let members: Vec<usize> = (0..self.net.nodes.len())
                .filter(|n| self.net.nodes[*n].is_member())
                .collect();
            for &n in &members {
                self.act(n, |g, now, rng, keys| g.tick(now, rng, keys));
                for &p in &members {
                    if p != n {
                        let peer = self.net.nodes[p].me();
                        self.act(n, |g, _, _, _| g.sync_request(peer));
                    }
                }
            }
        }
        let mut budget = 4000;
        while !self.net.inflight.is_empty() && budget > 0 {
            self.deliver(0);
            budget -= 1;
        }
    }

    fn check_converged(&self) {
        let nodes = &self.net.nodes;
        let members: Vec<usize> = (0..nodes.len()).filter(|n| nodes[*n].is_member()).collect();
        for &a in &members {
            for &b in &members {
                let (ga, gb) = (&nodes[a], &nodes[b]);
                if a >= b || !ga.members().contains(&gb.me()) || !gb.members().contains(&ga.me()) {
                    continue;
                }
                assert_eq!(ga.members(), gb.members(), "members disagree");
                let empty = BTreeSet::new();
                let (sa, sb) = (
                    self.shown.get(&a).unwrap_or(&empty),
                    self.shown.get(&b).unwrap_or(&empty),
                );
                for (id, s) in &self.sent {
                    let both = s.audience.contains(&ga.me()) && s.audience.contains(&gb.me());
                    if both {
                        assert_eq!(sa.contains(id), sb.contains(id), "decrypted sets differ");
                    }
                }
            }
        }
    }
}

fuzz_target!(|run: Run| {
    let mut w = World::new(run.seed);
    w.found(run.founders);
    for a in run.actions.iter().take(MAX_ACTIONS) {
        w.step(a);
    }
    w.settle();
    w.check_converged();
});
