//! A tiny network of [`Group`]s for the fixtures and the whole-group
//! target: packets in flight are a queue that the caller delivers, drops,
//! duplicates and reorders; every output's packets are routed to the nodes
//! their destination names.

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::ChaCha20Rng;
use sgm_messaging::{
    Config, Destination, Error, Group, Invite, KeyServer, MemberId, Output, UserId,
};

/// One packet on its way to one node.
#[derive(Clone, Debug)]
pub struct InFlight {
    /// The node that sent it.
    pub from: usize,
    /// The node it is for.
    pub to: usize,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The nodes, the key server, the clock and the packets in flight.
pub struct Net {
    /// Every member instance ever made (a re-added user gets a new node).
    pub nodes: Vec<Group>,
    /// The invite each node was made with.
    pub invites: Vec<Invite>,
    /// Published prekeys.
    pub keys: KeyServer,
    /// The randomness of every action and receive.
    pub rng: ChaCha20Rng,
    /// The clock (ms), passed to every call.
    pub now: u64,
    /// Packets in flight, oldest first.
    pub inflight: VecDeque<InFlight>,
    node_of: BTreeMap<MemberId, usize>,
    config: Config,
}

impl Net {
    /// An empty network.
    pub fn new(seed: u64, config: Config) -> Self {
        Self {
            nodes: Vec::new(),
            invites: Vec::new(),
            keys: KeyServer::new(),
            rng: crate::rng(seed),
            now: 0,
            inflight: VecDeque::new(),
            node_of: BTreeMap::new(),
            config,
        }
    }

    /// A fresh member instance for `user` (prekeys published); its index.
    pub fn add_node(&mut self, user: &str) -> usize {
        let (g, invite, prekeys) = Group::new(UserId::from(user), self.config, 16, &mut self.rng);
        self.keys.publish(invite.member_id(), prekeys);
        let i = self.nodes.len();
        self.node_of.insert(invite.member_id(), i);
        self.nodes.push(g);
        self.invites.push(invite);
        i
    }

    /// The node of a member id.
    pub fn node_of(&self, member: &MemberId) -> Option<usize> {
        self.node_of.get(member).copied()
    }

    /// Queues `out`'s packets for the nodes they name (never the sender).
    pub fn route(&mut self, from: usize, out: &Output) {
        for p in &out.packets {
            let to: Vec<usize> = match &p.to {
                Destination::Members(ms) => ms.iter().filter_map(|m| self.node_of(m)).collect(),
                Destination::Member(m) => self.node_of(m).into_iter().collect(),
            };
            for to in to.into_iter().filter(|t| *t != from) {
                self.inflight.push_back(InFlight {
                    from,
                    to,
                    bytes: p.bytes.clone(),
                });
            }
        }
    }

    /// Runs an action at node `i` and routes its packets.
    pub fn act(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Group, u64, &mut ChaCha20Rng, &mut KeyServer) -> Result<Output, Error>,
    ) -> Result<Output, Error> {
        let out = f(&mut self.nodes[i], self.now, &mut self.rng, &mut self.keys)?;
        self.route(i, &out);
        Ok(out)
    }

    /// Delivers the packet in flight at position `k` (if any) and routes
    /// the answer; returns the receiving node and the result.
    pub fn deliver(&mut self, k: usize) -> Option<(InFlight, Result<Output, Error>)> {
        let p = self.inflight.remove(k)?;
        let result = self.nodes[p.to].receive(&p.bytes, self.now, &mut self.rng, &mut self.keys);
        if let Ok(out) = &result {
            self.route(p.to, out);
        }
        Some((p, result))
    }

    /// Delivers everything in flight, answers included, at most `max`
    /// packets; returns the packets and results, in delivery order.
    pub fn deliver_all(&mut self, max: usize) -> Vec<(InFlight, Result<Output, Error>)> {
        let mut done = Vec::new();
        while done.len() < max {
            match self.deliver(0) {
                Some(d) => done.push(d),
                None => break,
            }
        }
        done
    }
}
