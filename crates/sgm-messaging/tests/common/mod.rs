//! A small direct-delivery harness (no simulator): every packet goes to
//! its destinations at once, replies included, until none is left.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use std::collections::VecDeque;

use rand_chacha::ChaCha20Rng;
use sgm_crypto::SeedableRng;
use sgm_messaging::{Config, Destination, Group, Invite, KeyServer, Output, Packet, UserId};

pub struct Direct {
    pub rng: ChaCha20Rng,
    pub keys: KeyServer,
    pub groups: Vec<Group>,
    pub now: u64,
}

impl Direct {
    /// `n` users; user 0 creates the group with all others, everything is
    /// delivered.
    pub fn group(n: usize, seed: u64) -> Self {
        Self::group_with(n, seed, Config::default())
    }

    /// [`Direct::group`] with `config` for every member.
    pub fn group_with(n: usize, seed: u64, config: Config) -> Self {
        let Users {
            inner: mut d,
            invites,
        } = Self::users_with(n, seed, config);
        let out = d.groups[0]
            .create(&invites[1..], 0, &mut d.rng, &mut d.keys)
            .unwrap();
        d.run(out);
        d
    }

    /// `n` users, no group yet.
    pub fn users(n: usize, seed: u64) -> Users {
        Self::users_with(n, seed, Config::default())
    }

    /// [`Direct::users`] with `config`.
    pub fn users_with(n: usize, seed: u64, config: Config) -> Users {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut keys = KeyServer::new();
        let mut groups = Vec::new();
        let mut invites = Vec::new();
        for i in 0..n {
            let (g, inv, pk) =
                Group::new(UserId::from(format!("u{i}").as_str()), config, 8, &mut rng);
            keys.publish(inv.member_id(), pk);
            groups.push(g);
            invites.push(inv);
        }
        Users {
            inner: Self {
                rng,
                keys,
                groups,
                now: 0,
            },
            invites,
        }
    }

    pub fn index_of(&self, m: &sgm_messaging::MemberId) -> Option<usize> {
        self.groups.iter().position(|g| g.me() == *m)
    }

    /// Delivers `out`'s packets and every reply, to everyone addressed.
    pub fn run(&mut self, out: Output) {
        let mut queue: VecDeque<Packet> = out.packets.into();
        let mut steps = 0;
        while let Some(p) = queue.pop_front() {
            steps += 1;
            assert!(steps < 100_000, "no quiescence");
            let to: Vec<usize> = match &p.to {
                Destination::Members(ms) => ms.iter().filter_map(|m| self.index_of(m)).collect(),
                Destination::Member(m) => self.index_of(m).into_iter().collect(),
            };
            for i in to {
                let out = self.groups[i]
                    .receive(&p.bytes, self.now, &mut self.rng, &mut self.keys)
                    .unwrap();
                queue.extend(out.packets);
            }
        }
    }

    /// Member `i` sends `text`; returns its output undelivered.
    pub fn send(&mut self, i: usize, text: &[u8]) -> Output {
        self.now += 1;
        self.groups[i]
            .send(text, self.now, &mut self.rng, &mut self.keys)
            .unwrap()
    }

    pub fn receive(&mut self, i: usize, packet: &[u8]) -> sgm_messaging::Result<Output> {
        self.groups[i].receive(packet, self.now, &mut self.rng, &mut self.keys)
    }
}

pub struct Users {
    pub inner: Direct,
    pub invites: Vec<Invite>,
}

/// `version ‖ group id ‖ kind ‖ body`.
pub fn frame(group: &[u8; 16], kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![1u8];
    out.extend_from_slice(group);
    out.push(kind);
    out.extend_from_slice(body);
    out
}

/// A protobuf length-delimited field.
pub fn field(tag: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![(tag << 3) | 2];
    let mut len = bytes.len() as u64;
    loop {
        let b = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend_from_slice(bytes);
    out
}
