//! A removed member who kept her state, attacking as she can: issue 10,
//! items 1 and 2 (and item 11, newcomers whose add is cancelled).
//!
//! The attacker is carol. She keeps a copy of her state from before bob
//! removes her (`Group::to_bytes`). Where an attack needs envelopes that
//! name the current heads, she combines that old key-agreement state with
//! her current broadcast state (she follows the group's traffic after her
//! removal): her envelopes then carry her removal in their causal past,
//! while her key agreement still believes she is a member.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{BTreeSet, VecDeque};

use prost::Message;
use rand_chacha::ChaCha20Rng;
use sgm_crypto::SeedableRng;
use sgm_messaging::{
    Config, Destination, Event, Group, Invite, KeyServer, MemberId, NotForMe, Output, UserId,
    Warning,
};

/// The persisted state's outer layout (docs: `crates/sgm-messaging/src/persist.rs`).
#[derive(Clone, PartialEq, Message)]
struct StatePb {
    #[prost(string, tag = "1")]
    user: String,
    #[prost(bytes = "vec", tag = "2")]
    group: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    acb: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    dcgka: Vec<u8>,
    #[prost(bytes = "vec", tag = "5")]
    book: Vec<u8>,
    #[prost(bytes = "vec", tag = "6")]
    config: Vec<u8>,
}

/// Carol's crafted state: her broadcast state and bookkeeping of now (so
/// her envelopes name the current heads), her key agreement from `old`
/// (before her removal), and the façade's "removed" flag cleared.
fn spliced(now: &[u8], old: &[u8]) -> Group {
    let mut cur = StatePb::decode(&now[1..]).unwrap();
    let old = StatePb::decode(&old[1..]).unwrap();
    cur.dcgka = old.dcgka.clone();
    let mut book: serde_json::Value = serde_json::from_slice(&cur.book).unwrap();
    book["removed"] = serde_json::Value::Bool(false);
    cur.book = serde_json::to_vec(&book).unwrap();
    let mut bytes = vec![now[0]];
    bytes.extend_from_slice(&cur.encode_to_vec());
    Group::from_bytes(&bytes).unwrap()
}

/// Members exchanging packets over an ideal network (every packet reaches
/// its destinations, in order), ticking every 500 ms.
struct Net {
    groups: Vec<Group>,
    rng: ChaCha20Rng,
    keys: KeyServer,
    queue: VecDeque<(usize, Vec<u8>)>,
    /// Per member, everything reported to it.
    events: Vec<Vec<Event>>,
    now: u64,
}

impl Net {
    fn new(users: &[&str], seed: u64) -> (Self, Vec<Invite>) {
        let mut net = Self {
            groups: Vec::new(),
            rng: ChaCha20Rng::seed_from_u64(seed),
            keys: KeyServer::new(),
            queue: VecDeque::new(),
            events: Vec::new(),
            now: 1_000,
        };
        let invites = users.iter().map(|u| net.user(u)).collect();
        (net, invites)
    }

    fn user(&mut self, name: &str) -> Invite {
        let (g, inv, pk) = Group::new(UserId::from(name), Config::default(), 20, &mut self.rng);
        self.keys.publish(inv.member_id(), pk);
        self.groups.push(g);
        self.events.push(Vec::new());
        inv
    }

    fn index(&self, m: &MemberId) -> Option<usize> {
        self.groups.iter().position(|g| g.me() == *m)
    }

    fn dispatch(&mut self, from: usize, out: Output) {
        self.events[from].extend(out.events);
        for p in out.packets {
            let to: Vec<MemberId> = match &p.to {
                Destination::Members(ms) => ms.clone(),
                Destination::Member(m) => vec![*m],
            };
            for m in to {
                if let Some(i) = self.index(&m).filter(|i| *i != from) {
                    self.queue.push_back((i, p.bytes.clone()));
                }
            }
        }
    }

    fn act(
        &mut self,
        who: usize,
        f: impl FnOnce(&mut Group, u64, &mut ChaCha20Rng, &mut KeyServer) -> Output,
    ) {
        let now = self.now;
        let out = f(&mut self.groups[who], now, &mut self.rng, &mut self.keys);
        self.dispatch(who, out);
    }

    /// Delivers everything in flight.
    fn pump(&mut self) {
        while let Some((to, bytes)) = self.queue.pop_front() {
            let now = self.now;
            if let Ok(out) = self.groups[to].receive(&bytes, now, &mut self.rng, &mut self.keys) {
                self.dispatch(to, out);
            }
        }
    }

    /// Delivers and ticks everyone for `rounds` × 500 ms (acks held back
    /// leave on ticks).
    fn settle(&mut self, rounds: usize) {
        self.pump();
        for _ in 0..rounds {
            self.now += 500;
            for i in 0..self.groups.len() {
                let now = self.now;
                let out = self.groups[i]
                    .tick(now, &mut self.rng, &mut self.keys)
                    .unwrap();
                self.dispatch(i, out);
            }
            self.pump();
        }
    }

    /// The events `who` reports while receiving `bytes`.
    fn receive(&mut self, who: usize, bytes: &[u8]) -> Vec<Event> {
        let now = self.now;
        let out = self.groups[who]
            .receive(bytes, now, &mut self.rng, &mut self.keys)
            .unwrap();
        let events = out.events.clone();
        self.dispatch(who, out);
        events
    }
}

const ALICE: usize = 0;
const BOB: usize = 1;
const CAROL: usize = 2;

/// alice creates {alice, bob, carol}; carol keeps her state; bob removes
/// carol; everyone processes the removal and acknowledges it.
fn carol_removed(seed: u64) -> (Net, Vec<u8>) {
    let (mut net, inv) = Net::new(&["alice", "bob", "carol"], seed);
    let rest = inv[1..].to_vec();
    net.act(ALICE, |g, now, rng, keys| {
        g.create(&rest, now, rng, keys).unwrap()
    });
    net.settle(4);
    net.act(CAROL, |g, now, rng, keys| {
        g.send(b"hello from carol", now, rng, keys).unwrap()
    });
    net.settle(4);
    let kept = net.groups[CAROL].to_bytes().expose_secret().to_vec();
    net.act(BOB, |g, now, rng, keys| {
        g.remove(&[UserId::from("carol")], now, rng, keys).unwrap()
    });
    net.settle(6);
    assert!(net.groups[CAROL].is_removed());
    let carol = net.groups[CAROL].me();
    for i in [ALICE, BOB] {
        assert!(!net.groups[i].members().contains(&carol));
    }
    // Everyone has spoken since (their acks name the removal).
    for i in [ALICE, BOB] {
        net.act(i, |g, now, rng, keys| {
            g.send(b"after", now, rng, keys).unwrap()
        });
    }
    net.settle(4);
    (net, kept)
}

fn messages_from(events: &[Event], sender: MemberId) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Message { sender: s, .. } if *s == sender))
        .count()
}

/// Item 1: carol's envelope names the current heads (her removal is in its
/// causal past) and carries a message encrypted under her old ratchet. It
/// must not be shown as a message of the group, and must be reported.
#[test]
fn removed_member_cannot_post_after_removal() {
    let (mut net, kept) = carol_removed(101);
    let carol_id = net.groups[CAROL].me();
    let now_state = net.groups[CAROL].to_bytes().expose_secret().to_vec();
    let mut evil = spliced(&now_state, &kept);
    assert!(
        evil.is_member(),
        "the crafted state believes it is a member"
    );
    let now = net.now;
    let out = evil
        .send(b"I am still here", now, &mut net.rng, &mut net.keys)
        .unwrap();
    assert!(!out.packets.is_empty());
    let mut seen = Vec::new();
    for p in &out.packets {
        seen.extend(net.receive(ALICE, &p.bytes));
    }
    assert_eq!(messages_from(&seen, carol_id), 0, "{seen:?}");
    assert!(
        seen.iter().any(|e| matches!(
            e,
            Event::Warning(Warning::SentAfterRemoval { sender, .. }) if *sender == carol_id
        )),
        "{seen:?}"
    );
    assert!(
        !net.groups[ALICE]
            .transcript()
            .iter()
            .any(|e| e.plaintext == b"I am still here")
    );
}

/// Item 1, back-dated: carol sends from her old state unchanged, naming
/// only parents from before her removal (indistinguishable from a message
/// sent concurrently with it). Once every member has acknowledged the
/// removal, no concurrent message of hers can still be legitimate: her
/// receiving ratchet is gone and the message is not shown.
#[test]
fn removed_member_cannot_post_backdated_once_removal_is_settled() {
    let (mut net, kept) = carol_removed(102);
    let carol_id = net.groups[CAROL].me();
    let mut evil = Group::from_bytes(&kept).unwrap();
    let now = net.now;
    let out = evil
        .send(
            b"sent before my removal, honest",
            now,
            &mut net.rng,
            &mut net.keys,
        )
        .unwrap();
    let mut seen = Vec::new();
    for p in &out.packets {
        seen.extend(net.receive(ALICE, &p.bytes));
    }
    assert_eq!(messages_from(&seen, carol_id), 0, "{seen:?}");
    assert!(
        seen.iter().any(|e| matches!(
            e,
            Event::NotForMe { sender, reason: NotForMe::SenderRemoved, .. } if *sender == carol_id
        )),
        "{seen:?}"
    );
}

/// Item 2: carol, from her pre-removal key-agreement state, removes alice
/// inside an envelope whose causal past holds her own removal (the DGM
/// parents she declares are from before it). Nobody applies it.
#[test]
fn removed_member_cannot_remove_others_with_stale_dgm_parents() {
    let (mut net, kept) = carol_removed(103);
    let alice_id = net.groups[ALICE].me();
    let carol_id = net.groups[CAROL].me();
    let now_state = net.groups[CAROL].to_bytes().expose_secret().to_vec();
    let mut evil = spliced(&now_state, &kept);
    let now = net.now;
    let out = evil
        .remove(&[UserId::from("alice")], now, &mut net.rng, &mut net.keys)
        .unwrap();
    let mut seen = Vec::new();
    for p in &out.packets {
        seen.extend(net.receive(ALICE, &p.bytes));
        seen.extend(net.receive(BOB, &p.bytes));
    }
    net.settle(4);
    assert!(net.groups[ALICE].is_member());
    for i in [ALICE, BOB] {
        let members: BTreeSet<MemberId> = net.groups[i].members();
        assert!(members.contains(&alice_id), "alice removed at {i}");
        assert!(!members.contains(&carol_id));
    }
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::MembershipChanged { by, .. } if *by == carol_id)),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| matches!(
            e,
            Event::Warning(Warning::SentAfterRemoval { sender, .. }) if *sender == carol_id
        )),
        "{seen:?}"
    );
}

impl Net {
    /// Every member that believes it is one asks every other member it
    /// knows for what it lacks.
    fn sync_all(&mut self) {
        for i in 0..self.groups.len() {
            if !self.groups[i].is_member() {
                continue;
            }
            let peers: Vec<MemberId> = self.groups[i].sync_peers(self.now);
            for p in peers {
                let out = self.groups[i].sync_request(p).unwrap();
                self.dispatch(i, out);
            }
        }
        self.pump();
    }
}

/// Item 11: alice, bob and carol remove each other concurrently while
/// alice adds u11 and u12. All three end removed, and so do u11 and u12
/// (strong remove: their adder was removed concurrently with their add).
/// The newcomers must learn it, not keep `is_member()` with an outdated
/// member list.
#[test]
fn newcomers_whose_add_is_cancelled_learn_it() {
    let (mut net, inv) = Net::new(&["alice", "bob", "carol"], 111);
    let rest = inv[1..].to_vec();
    net.act(ALICE, |g, now, rng, keys| {
        g.create(&rest, now, rng, keys).unwrap()
    });
    net.settle(4);
    let u11 = net.user("u11");
    let u12 = net.user("u12");
    net.act(ALICE, |g, now, rng, keys| {
        g.add(&[u11.clone(), u12.clone()], now, rng, keys).unwrap()
    });
    for (who, victim) in [(ALICE, "bob"), (BOB, "carol"), (CAROL, "alice")] {
        let now = net.now;
        let out = net.groups[who]
            .remove(&[UserId::from(victim)], now, &mut net.rng, &mut net.keys)
            .unwrap();
        let bob_id = net.groups[BOB].me();
        let mut out = out;
        if who == ALICE {
            // The packet telling bob of his removal is lost. bob then
            // processes carol's remove of alice and stops talking to her:
            // only a sync with a removed member can tell him.
            for p in &mut out.packets {
                if let Destination::Members(ms) = &mut p.to {
                    ms.retain(|m| *m != bob_id);
                }
            }
            out.packets
                .retain(|p| !matches!(&p.to, Destination::Member(m) if *m == bob_id));
        }
        net.dispatch(who, out);
    }
    for _ in 0..6 {
        net.settle(2);
        net.sync_all();
    }
    for i in [ALICE, BOB, CAROL] {
        let users: Vec<UserId> = net.groups[i]
            .members()
            .iter()
            .filter_map(|m| net.groups[i].user_of(m).cloned())
            .collect();
        assert!(
            !net.groups[i].is_member(),
            "{i} still a member, of {users:?}"
        );
    }
    let views: Vec<(bool, BTreeSet<MemberId>)> = (3..5)
        .map(|i| (net.groups[i].is_member(), net.groups[i].members()))
        .collect();
    for (i, (member, view)) in views.iter().enumerate() {
        assert!(
            !member,
            "u1{} still a member with {} members",
            i + 1,
            view.len()
        );
    }
}
