//! A `Group` of three (alice, bob, carol) and a fourth user (dave) not yet
//! in it, from a fixed seed; then a second phase (alice adds dave, messages,
//! acks, a sync request) recorded but not delivered to bob or dave. The
//! recorded packets are what bob (joined) and dave (unjoined) have not
//! seen yet, so an edited copy reaches the code behind the duplicate check.

use std::sync::OnceLock;

use sgm_messaging::{Config, Group, KeyServer};

use crate::net::Net;

/// Node indices in [`GroupFixture`]'s network.
pub const ALICE: usize = 0;
/// Bob: joined.
pub const BOB: usize = 1;
/// Carol: joined.
pub const CAROL: usize = 2;
/// Dave: invited in phase 2, not joined.
pub const DAVE: usize = 3;

/// The fixture.
pub struct GroupFixture {
    /// Bob after phase 1: a member that has not seen phase 2.
    pub joined: Group,
    /// Dave: a fresh member instance whose welcome is in phase 2.
    pub unjoined: Group,
    /// The key server after phase 2.
    pub keys: KeyServer,
    /// The time phase 2 ended (ms).
    pub now: u64,
    /// Phase 2's packets for bob, then the other packets of the run.
    pub to_joined: Vec<Vec<u8>>,
    /// Phase 2's packets for dave, then the other packets of the run.
    pub to_unjoined: Vec<Vec<u8>>,
    /// Persisted states of every node after phase 2.
    pub states: Vec<Vec<u8>>,
}

/// The fixture, built once per process.
pub fn fixture() -> &'static GroupFixture {
    static F: OnceLock<GroupFixture> = OnceLock::new();
    F.get_or_init(build)
}

#[allow(clippy::unwrap_used, clippy::expect_used)]
fn build() -> GroupFixture {
    let mut net = Net::new(7, Config::default());
    for name in ["alice", "bob", "carol", "dave"] {
        net.add_node(name);
    }
    let (bob, carol, dave) = (
        net.invites[BOB].clone(),
        net.invites[CAROL].clone(),
        net.invites[DAVE].clone(),
    );
    net.act(ALICE, |g, now, rng, keys| {
        g.create(&[bob, carol], now, rng, keys)
    })
    .expect("create");
    net.deliver_all(1000);
    net.now += 100;
    net.act(ALICE, |g, now, rng, keys| g.send(b"hello", now, rng, keys))
        .expect("send");
    net.act(BOB, |g, now, rng, keys| g.send(b"hi", now, rng, keys))
        .expect("send");
    net.act(CAROL, |g, now, rng, keys| g.update(now, rng, keys))
        .expect("update");
    net.deliver_all(1000);
    net.now += 1000;
    let joined = net.nodes[BOB].clone();
    let unjoined = net.nodes[DAVE].clone();

    // Phase 2: recorded, not delivered to bob or dave.
    let mut all = Vec::new();
    net.act(ALICE, |g, now, rng, keys| g.add(&[dave], now, rng, keys))
        .expect("add");
    net.act(ALICE, |g, now, rng, keys| g.send(b"after", now, rng, keys))
        .expect("send");
    net.act(CAROL, |g, now, rng, keys| g.send(&[7; 300], now, rng, keys))
        .expect("send");
    net.act(CAROL, |g, _, _, _| g.sync_request(joined.me()))
        .expect("sync");
    let (mut to_joined, mut to_unjoined) = (Vec::new(), Vec::new());
    for round in 0..4 {
        while let Some(p) = net.inflight.front() {
            match p.to {
                BOB => to_joined.push(net.inflight.pop_front().expect("front").bytes),
                DAVE => to_unjoined.push(net.inflight.pop_front().expect("front").bytes),
                _ => {
                    let (p, _) = net.deliver(0).expect("front");
                    all.push(p.bytes);
                }
            }
        }
        net.now += 3000;
        for i in [ALICE, CAROL] {
            let _ = net.act(i, |g, now, rng, keys| g.tick(now, rng, keys));
        }
        if round == 1 {
            // Someone asks bob and dave for what they lack.
            let _ = net.act(ALICE, |g, _, _, _| g.sync_request(unjoined.me()));
        }
    }
    to_joined.extend(all.iter().cloned());
    to_unjoined.extend(all);
    let states = net
        .nodes
        .iter()
        .map(|g| g.to_bytes().expose_secret().to_vec())
        .collect();
    GroupFixture {
        joined,
        unjoined,
        keys: net.keys.clone(),
        now: net.now,
        to_joined,
        to_unjoined,
        states,
    }
}
