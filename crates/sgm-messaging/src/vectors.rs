//! Storage-stability vector for the persisted [`Group`] state
//! (`test-vectors/state.json`): a change of the state format, or of what a
//! restored state can do, is noticed.
//!
//! Format (documented in `docs/test-vectors.md`, section `state.json`):
//!
//! ```text
//! { "version": 1, "state_version": <STATE_VERSION>, "seed": <u64>,
//!   "script": [<step, in words>…],
//!   "states": [ { "user", "member_id": <hex>, "state": <hex: Group::to_bytes>,
//!                 "members": [<hex>…],                  // sorted
//!                 "transcript": [ { "user", "plaintext": <hex> } … ] } … ],
//!   "next": { "user", "plaintext": <hex>, "packets": [<hex>…] },
//!   "reply": { "seed": <u64>, "plaintext": <hex>, "packets": [<hex>…] } }
//! ```
//!
//! `states` are the persisted states of two members at the end of a
//! scripted, seeded session (create, messages, an update, an add, a
//! removal). Unlike the other vector files the randomness is not listed:
//! the states themselves hold every secret, and the replay needs none.
//! A replay restores each state and checks: re-serializing gives the same
//! bytes; its member id, members and transcript are as listed; each
//! restored member decrypts `next` (a message sent by another member after
//! the snapshot, as its packets); then the first restored member sends
//! `reply.plaintext` drawing randomness from ChaCha20 seeded with
//! `reply.seed`, which must give exactly `reply.packets`, and the second
//! restored member decrypts it.

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use sgm_crypto::MemberId;

use crate::config::Config;
use crate::directory::KeyServer;
use crate::event::Event;
use crate::group::Group;
use crate::ids::{Invite, UserId};
use crate::packet::Destination;
use crate::persist::STATE_VERSION;

/// Format version of `state.json`.
pub const VECTORS_VERSION: u32 = 1;

/// Seed of the scripted session.
const SEED: u64 = 0x5347_4d5f_5354_4154;
/// Seed of the reply's randomness.
const REPLY_SEED: u64 = 7;

/// The whole file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateVectors {
    /// Format version of this file.
    pub version: u32,
    /// [`STATE_VERSION`] of the listed states.
    pub state_version: u8,
    /// ChaCha20 seed of the scripted session (informative).
    pub seed: u64,
    /// The session's steps, in words.
    pub script: Vec<String>,
    /// Persisted states and what restoring them gives.
    pub states: Vec<StateVector>,
    /// A message sent after the snapshot, which every restored state
    /// decrypts.
    pub next: NextVector,
    /// A message the first restored state sends and the second decrypts.
    pub reply: ReplyVector,
}

/// One member's persisted state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateVector {
    /// The member's user.
    pub user: String,
    /// Its member id, hex.
    pub member_id: String,
    /// [`Group::to_bytes`], hex.
    pub state: String,
    /// [`Group::members`], sorted hex.
    pub members: Vec<String>,
    /// [`Group::transcript`], oldest first.
    pub transcript: Vec<LineVector>,
}

/// One transcript line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineVector {
    /// The sender's user.
    pub user: String,
    /// The plaintext, hex.
    pub plaintext: String,
}

/// A message sent after the snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextVector {
    /// Its sender's user.
    pub user: String,
    /// Its plaintext, hex.
    pub plaintext: String,
    /// The packets, in sending order (held-back acks first), hex.
    pub packets: Vec<String>,
}

/// A message sent by the first restored state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyVector {
    /// ChaCha20 seed of the randomness `send` draws.
    pub seed: u64,
    /// The plaintext, hex.
    pub plaintext: String,
    /// The packets `send` returns, hex.
    pub packets: Vec<String>,
}

type VResult<T> = Result<T, String>;

fn err(e: impl core::fmt::Display) -> String {
    e.to_string()
}

/// A tiny lossless network of named members.
struct Session {
    rng: ChaCha20Rng,
    keys: KeyServer,
    groups: BTreeMap<String, Group>,
    names: BTreeMap<MemberId, String>,
    invites: BTreeMap<String, Invite>,
    now: u64,
}

impl Session {
    fn new(users: &[&str]) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(SEED);
        let mut keys = KeyServer::new();
        let mut groups = BTreeMap::new();
        let mut names = BTreeMap::new();
        let mut invites = BTreeMap::new();
        for u in users {
            let (g, inv, pk) = Group::new(UserId::from(*u), Config::default(), 8, &mut rng);
            keys.publish(inv.member_id(), pk);
            names.insert(inv.member_id(), (*u).to_string());
            invites.insert((*u).to_string(), inv);
            groups.insert((*u).to_string(), g);
        }
        Self {
            rng,
            keys,
            groups,
            names,
            invites,
            now: 0,
        }
    }

    fn invite(&self, user: &str) -> VResult<Invite> {
        self.invites
            .get(user)
            .cloned()
            .ok_or_else(|| format!("no user {user}"))
    }

    /// Runs an action of `user`, then delivers everything and flushes acks.
    fn act(
        &mut self,
        user: &str,
        f: impl FnOnce(
            &mut Group,
            u64,
            &mut ChaCha20Rng,
            &mut KeyServer,
        ) -> crate::Result<crate::Output>,
    ) -> VResult<()> {
        self.now += 1_000;
        let g = self.groups.get_mut(user).ok_or("no such user")?;
        let out = f(g, self.now, &mut self.rng, &mut self.keys).map_err(err)?;
        self.deliver(user, out.packets)?;
        // Let held-back acks leave and arrive.
        self.now += 1_000;
        let users: Vec<String> = self.groups.keys().cloned().collect();
        for u in users {
            let g = self.groups.get_mut(&u).ok_or("no such user")?;
            let out = g
                .tick(self.now, &mut self.rng, &mut self.keys)
                .map_err(err)?;
            self.deliver(&u, out.packets)?;
        }
        Ok(())
    }

    fn deliver(&mut self, from: &str, packets: Vec<crate::Packet>) -> VResult<()> {
        let mut queue: VecDeque<(String, crate::Packet)> =
            packets.into_iter().map(|p| (from.to_string(), p)).collect();
        while let Some((sender, p)) = queue.pop_front() {
            let to: Vec<MemberId> = match &p.to {
                Destination::Members(m) => m.clone(),
                Destination::Member(m) => vec![*m],
            };
            for m in to {
                let Some(name) = self.names.get(&m).cloned() else {
                    continue;
                };
                if name == sender {
                    continue;
                }
                let g = self.groups.get_mut(&name).ok_or("no such user")?;
                let out = g
                    .receive(&p.bytes, self.now, &mut self.rng, &mut self.keys)
                    .map_err(err)?;
                queue.extend(out.packets.into_iter().map(|q| (name.clone(), q)));
            }
        }
        Ok(())
    }

    fn group(&self, user: &str) -> VResult<&Group> {
        self.groups
            .get(user)
            .ok_or_else(|| format!("no user {user}"))
    }
}

fn snapshot(g: &Group) -> StateVector {
    StateVector {
        user: g.user().0.clone(),
        member_id: hex::encode(g.me().as_bytes()),
        state: hex::encode(g.to_bytes().expose_secret()),
        members: g
            .members()
            .iter()
            .map(|m| hex::encode(m.as_bytes()))
            .collect(),
        transcript: g
            .transcript()
            .iter()
            .map(|e| LineVector {
                user: e.user.0.clone(),
                plaintext: hex::encode(&e.plaintext),
            })
            .collect(),
    }
}

const SCRIPT: &[&str] = &[
    "alice creates the group with bob, carol, dave",
    "alice sends \"hello\"",
    "bob sends \"hi all\"",
    "carol updates",
    "alice adds erin",
    "erin sends \"thanks for adding me\"",
    "dave removes carol",
    "bob sends \"carol is out\"",
    "snapshot: alice and erin",
    "next: dave sends \"after the snapshot\"",
    "reply: restored alice sends \"restored and well\"",
];

fn run_script() -> VResult<StateVectors> {
    let mut s = Session::new(&["alice", "bob", "carol", "dave", "erin"]);
    let rest = [s.invite("bob")?, s.invite("carol")?, s.invite("dave")?];
    s.act("alice", |g, now, rng, keys| g.create(&rest, now, rng, keys))?;
    s.act("alice", |g, now, rng, keys| {
        g.send(b"hello", now, rng, keys)
    })?;
    s.act("bob", |g, now, rng, keys| g.send(b"hi all", now, rng, keys))?;
    s.act("carol", |g, now, rng, keys| g.update(now, rng, keys))?;
    let erin = s.invite("erin")?;
    s.act("alice", |g, now, rng, keys| {
        g.add(core::slice::from_ref(&erin), now, rng, keys)
    })?;
    s.act("erin", |g, now, rng, keys| {
        g.send(b"thanks for adding me", now, rng, keys)
    })?;
    let carol = UserId::from("carol");
    s.act("dave", |g, now, rng, keys| {
        g.remove(core::slice::from_ref(&carol), now, rng, keys)
    })?;
    s.act("bob", |g, now, rng, keys| {
        g.send(b"carol is out", now, rng, keys)
    })?;
    let states = vec![snapshot(s.group("alice")?), snapshot(s.group("erin")?)];
    // The next message, sent by a member not listed.
    let next_text = b"after the snapshot";
    s.now += 1_000;
    let dave = s.groups.get_mut("dave").ok_or("no dave")?;
    let out = dave
        .send(next_text, s.now, &mut s.rng, &mut s.keys)
        .map_err(err)?;
    let next = NextVector {
        user: "dave".into(),
        plaintext: hex::encode(next_text),
        packets: out.packets.iter().map(|p| hex::encode(&p.bytes)).collect(),
    };
    let mut v = StateVectors {
        version: VECTORS_VERSION,
        state_version: STATE_VERSION,
        seed: SEED,
        script: SCRIPT.iter().map(|s| (*s).to_string()).collect(),
        states,
        next,
        reply: ReplyVector {
            seed: REPLY_SEED,
            plaintext: hex::encode(b"restored and well"),
            packets: Vec::new(),
        },
    };
    // The reply comes from the restored state, exactly as `replay` does it.
    v.reply.packets = restore_and_run(&v)?;
    Ok(v)
}

/// Generates `state.json`'s content (version 0 with the error as the only
/// script line on internal failure).
pub fn generate() -> StateVectors {
    run_script().unwrap_or_else(|e| StateVectors {
        version: 0,
        state_version: STATE_VERSION,
        seed: SEED,
        script: vec![e],
        states: Vec::new(),
        next: NextVector {
            user: String::new(),
            plaintext: String::new(),
            packets: Vec::new(),
        },
        reply: ReplyVector {
            seed: REPLY_SEED,
            plaintext: String::new(),
            packets: Vec::new(),
        },
    })
}

fn unhex(s: &str) -> VResult<Vec<u8>> {
    hex::decode(s).map_err(err)
}

/// Restores every listed state, checks it, delivers `next` and sends the
/// reply; returns the reply's packets (hex).
fn restore_and_run(v: &StateVectors) -> VResult<Vec<String>> {
    if v.states.len() < 2 {
        return Err("need two states".into());
    }
    let mut keys = KeyServer::new();
    let mut rng = ChaCha20Rng::seed_from_u64(v.seed);
    let now = 100_000;
    let mut restored = Vec::new();
    for sv in &v.states {
        let bytes = unhex(&sv.state)?;
        let g = Group::from_bytes(&bytes).map_err(err)?;
        if g.to_bytes().expose_secret() != bytes.as_slice() {
            return Err(format!("{}: re-serializing changes the bytes", sv.user));
        }
        if g.user().0 != sv.user || hex::encode(g.me().as_bytes()) != sv.member_id {
            return Err(format!("{}: user or member id differs", sv.user));
        }
        if !g.is_member() {
            return Err(format!("{}: not a member after restoring", sv.user));
        }
        let members: Vec<String> = g
            .members()
            .iter()
            .map(|m| hex::encode(m.as_bytes()))
            .collect();
        if members != sv.members {
            return Err(format!("{}: members differ", sv.user));
        }
        let transcript: Vec<LineVector> = g
            .transcript()
            .iter()
            .map(|e| LineVector {
                user: e.user.0.clone(),
                plaintext: hex::encode(&e.plaintext),
            })
            .collect();
        if transcript != sv.transcript {
            return Err(format!("{}: transcript differs", sv.user));
        }
        restored.push(g);
    }
    let next_text = unhex(&v.next.plaintext)?;
    for g in &mut restored {
        let mut got = false;
        for p in &v.next.packets {
            let out = g
                .receive(&unhex(p)?, now, &mut rng, &mut keys)
                .map_err(err)?;
            got |= out.events.iter().any(|e| {
                matches!(e, Event::Message { user, plaintext, .. }
                    if user.0 == v.next.user && *plaintext == next_text)
            });
        }
        if !got {
            return Err(format!("{}: did not decrypt the next message", g.user()));
        }
    }
    let reply_text = unhex(&v.reply.plaintext)?;
    let mut reply_rng = ChaCha20Rng::seed_from_u64(v.reply.seed);
    let (first, rest) = restored.split_at_mut(1);
    let sender = first.first_mut().ok_or("no state")?;
    let out = sender
        .send(&reply_text, now, &mut reply_rng, &mut keys)
        .map_err(err)?;
    let sender_user = sender.user().clone();
    let packets: Vec<String> = out.packets.iter().map(|p| hex::encode(&p.bytes)).collect();
    for g in rest.iter_mut() {
        let mut got = false;
        for p in &out.packets {
            let o = g.receive(&p.bytes, now, &mut rng, &mut keys).map_err(err)?;
            got |= o.events.iter().any(|e| {
                matches!(e, Event::Message { user, plaintext, .. }
                    if *user == sender_user && *plaintext == reply_text)
            });
        }
        if !got {
            return Err(format!("{}: did not decrypt the reply", g.user()));
        }
    }
    Ok(packets)
}

/// Replays `state.json`: restores the listed states and checks everything
/// listed (see the module documentation).
pub fn replay(v: &StateVectors) -> Result<(), String> {
    if v.version != VECTORS_VERSION {
        return Err(format!("version {}", v.version));
    }
    if v.state_version != STATE_VERSION {
        return Err(format!("state version {}", v.state_version));
    }
    let packets = restore_and_run(v)?;
    if packets != v.reply.packets {
        return Err("the reply's packets differ".into());
    }
    Ok(())
}
