//! A group chat over `sgm::messaging` on the deterministic simulator:
//! create, chat, add, remove, a crash and restore, printed as it happens.
//!
//! `cargo run -p sgm --example group_chat`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use sgm::crypto::OsRng;
use sgm::messaging::{
    Config, Destination, Event, Group, Invite, KeyServer, MemberId, Output, UserId,
};
use sgm::sim::{LinkConfig, NodeId, SimConfig, Simulator};

/// Members on simulated nodes; each node's app stores the state handed out
/// with its packets ("the database").
struct Chat {
    sim: Simulator,
    rng: OsRng,
    keys: KeyServer,
    groups: BTreeMap<NodeId, Group>,
    stored: BTreeMap<NodeId, Vec<u8>>,
    node_of: BTreeMap<MemberId, NodeId>,
}

impl Chat {
    fn user(&mut self, name: &str) -> (NodeId, Invite) {
        let node = self.sim.add_node();
        let (g, invite, prekeys) =
            Group::new(UserId::from(name), Config::default(), 8, &mut self.rng);
        self.keys.publish(invite.member_id(), prekeys);
        self.node_of.insert(invite.member_id(), node);
        self.groups.insert(node, g);
        (node, invite)
    }

    fn name(&self, node: NodeId) -> String {
        self.groups[&node].user().0.clone()
    }

    /// Stores the new state and puts the packets on the wire, as one step.
    fn handle(&mut self, node: NodeId, out: Output) {
        if let Some(state) = &out.state {
            self.stored.insert(node, state.expose_secret().to_vec());
        }
        let who = self.name(node);
        for ev in &out.events {
            match ev {
                Event::Message {
                    user,
                    plaintext,
                    out_of_line,
                    ..
                } => println!(
                    "  {who:<6} reads {:<6}: {}{}",
                    user.0,
                    String::from_utf8_lossy(plaintext),
                    if *out_of_line {
                        "   (not written after the line above)"
                    } else {
                        ""
                    }
                ),
                Event::Joined { .. } => println!("  {who:<6} joined"),
                Event::RemovedFromGroup { .. } => println!("  {who:<6} was removed"),
                Event::NotForMe { .. } => println!("  {who:<6} skips a message not meant for it"),
                Event::Warning(w) => println!("  {who:<6} WARNING {w:?}"),
                _ => {}
            }
        }
        for p in out.packets {
            let to: Vec<NodeId> = match &p.to {
                Destination::Members(m) => m
                    .iter()
                    .filter_map(|m| self.node_of.get(m).copied())
                    .collect(),
                Destination::Member(m) => self.node_of.get(m).copied().into_iter().collect(),
            };
            let _ = self.sim.broadcast(node, &to, p.kind.name(), p.bytes);
        }
    }

    fn act(
        &mut self,
        node: NodeId,
        f: impl FnOnce(&mut Group, u64, &mut OsRng, &mut KeyServer) -> sgm::messaging::Result<Output>,
    ) {
        let now = self.sim.now();
        let g = self.groups.get_mut(&node).expect("node");
        let out = f(g, now, &mut self.rng, &mut self.keys).expect("action");
        self.handle(node, out);
    }

    /// Lets the network run for `ms`: deliveries, then ticks (acks).
    fn run(&mut self, ms: u64) {
        let end = self.sim.now() + ms;
        while self.sim.now() < end {
            let t = (self.sim.now() + 50).min(end);
            while let Some(d) = self.sim.next_delivery_until(t) {
                let now = self.sim.now();
                let g = self.groups.get_mut(&d.to).expect("node");
                if let Ok(out) = g.receive(&d.bytes, now, &mut self.rng, &mut self.keys) {
                    self.handle(d.to, out);
                }
            }
            let nodes: Vec<NodeId> = self.groups.keys().copied().collect();
            for n in nodes {
                let g = self.groups.get_mut(&n).expect("node");
                let out = g.tick(t, &mut self.rng, &mut self.keys).expect("tick");
                self.handle(n, out);
            }
        }
    }
}

fn main() {
    let mut config = SimConfig::new(2024);
    config.default_link = LinkConfig {
        latency_ms: 20,
        jitter_ms: 30,
        loss_ppm: 0,
        duplicate_ppm: 0,
    };
    let mut chat = Chat {
        sim: Simulator::new(config),
        // Keys from the operating system, as in an application.
        rng: OsRng,
        keys: KeyServer::new(),
        groups: BTreeMap::new(),
        stored: BTreeMap::new(),
        node_of: BTreeMap::new(),
    };
    let (alice, _) = chat.user("alice");
    let (bob, bob_inv) = chat.user("bob");
    let (carol, carol_inv) = chat.user("carol");
    let (dave, dave_inv) = chat.user("dave");

    println!("alice creates the group with bob and carol");
    chat.act(alice, |g, now, rng, keys| {
        g.create(&[bob_inv, carol_inv], now, rng, keys)
    });
    chat.run(500);

    println!("they chat (bob and carol at the same time)");
    chat.act(alice, |g, now, rng, keys| {
        g.send(b"meet at the square at noon", now, rng, keys)
    });
    chat.run(300);
    chat.act(bob, |g, now, rng, keys| {
        g.send(b"on my way", now, rng, keys)
    });
    chat.act(carol, |g, now, rng, keys| g.send(b"me too", now, rng, keys));
    chat.run(500);

    println!("bob adds dave");
    chat.act(bob, |g, now, rng, keys| g.add(&[dave_inv], now, rng, keys));
    chat.run(500);
    chat.act(dave, |g, now, rng, keys| {
        g.send(b"hi, thanks for adding me", now, rng, keys)
    });
    chat.run(500);

    println!("alice removes carol (with a key update); carol reads nothing after");
    let carol_user = UserId::from("carol");
    chat.act(alice, |g, now, rng, keys| {
        g.remove(std::slice::from_ref(&carol_user), now, rng, keys)
    });
    chat.run(500);
    chat.act(bob, |g, now, rng, keys| {
        g.send(b"carol is out", now, rng, keys)
    });
    chat.run(500);

    println!("dave's device crashes; he restores what his app stored and carries on");
    let restored = Group::from_bytes(&chat.stored[&dave]).expect("restore");
    chat.groups.insert(dave, restored);
    chat.act(dave, |g, now, rng, keys| {
        g.send(b"back after a crash", now, rng, keys)
    });
    chat.run(1_000);

    println!();
    for (node, g) in &chat.groups {
        let members: Vec<String> = g.users().keys().map(|u| u.0.clone()).collect();
        println!(
            "{:<6} {:<8} sees {:?}, transcript of {} messages",
            chat.name(*node),
            if g.is_member() { "member" } else { "removed" },
            members,
            g.transcript().len()
        );
    }
    let views: std::collections::BTreeSet<_> = chat
        .groups
        .values()
        .filter(|g| g.is_member())
        .map(Group::members)
        .collect();
    assert_eq!(views.len(), 1, "members disagree");
    println!("all current members agree on the membership");
}
