//! A deterministic driver: members, a totally ordered channel (the
//! transport server's echo order) and the server-order acceptance rules of
//! [`crate::server_order`], as mpenc_js's `HybridSession` combines them.
//! Tests, vectors and benchmarks run greetings through it.
//!
//! The channel echoes every packet to every member in it, in one order.
//! Each member classifies the packet ([`partial_decode`]), lets its
//! [`ServerOrder`] accept or reject it if it is an operation packet, and
//! delivers it to its greeting; replies go to the back of the queue. A
//! member the server cannot reach ([`Driver::set_reachable`]) neither sends
//! nor receives: its operations stall.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use sgm_crypto::{CryptoRng, SigningKey, VerifyingKey};

use crate::greeter::{GreetState, GreetStore, Greeting};
use crate::server_order::{ServerOrder, make_packet_id, partial_decode};
use crate::{ApiMisuse, Id, MpencError};

/// A membership operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Start a session with these others.
    Start(Vec<Id>),
    /// Include these members.
    Include(Vec<Id>),
    /// Exclude these members.
    Exclude(Vec<Id>),
    /// Refresh the initiator's contribution.
    Refresh,
}

/// One member.
#[derive(Debug, Clone)]
pub struct Party {
    /// The member's state after its last completed greeting.
    pub store: GreetStore,
    /// The greeting in progress.
    pub greeting: Option<Greeting>,
    /// Its view of the server order.
    pub order: ServerOrder,
    /// Id of the accepted initial packet of the greeting in progress.
    pub current_pi: Option<[u8; 32]>,
}

/// One echoed packet, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// Sender.
    pub sender: Id,
    /// The wire packet.
    pub packet: String,
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every member of the new group completed it.
    Completed,
    /// Not every member completed it (the server did not relay, or the
    /// proposal was rejected).
    Stalled,
}

/// Members and the channel.
#[derive(Debug, Clone, Default)]
pub struct Driver {
    /// Members by id.
    pub parties: BTreeMap<Id, Party>,
    /// Static public keys.
    pub dir: BTreeMap<Id, VerifyingKey>,
    /// Every packet echoed, in channel order.
    pub log: Vec<Echo>,
    unreachable: BTreeSet<Id>,
}

impl Driver {
    /// No members.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a member with its static key.
    pub fn add(&mut self, id: Id, static_key: SigningKey) {
        self.dir.insert(id.clone(), static_key.verifying_key());
        self.parties.insert(id.clone(), Party::new(id, static_key));
    }

    /// Cuts `ids` off the server (a partition); `reachable = true` heals.
    pub fn set_reachable(&mut self, ids: &[Id], reachable: bool) {
        for id in ids {
            if reachable {
                self.unreachable.remove(id);
            } else {
                self.unreachable.insert(id.clone());
            }
        }
    }

    /// Proposes `op` by `initiator` and runs the channel until quiet.
    /// Randomness, in order: `prev_pf` if the initiator has no chain yet
    /// (32 bytes, [`ServerOrder::sync_new`]), then the greeting's draws.
    pub fn run(
        &mut self,
        initiator: &[u8],
        op: &Op,
        rng: &mut impl CryptoRng,
    ) -> Result<Outcome, MpencError> {
        let pending = self.propose(initiator, op, rng)?;
        Ok(self.deliver(vec![pending], rng))
    }

    /// Builds the initiator's proposal without sending it.
    pub fn propose(
        &mut self,
        initiator: &[u8],
        op: &Op,
        rng: &mut impl CryptoRng,
    ) -> Result<Echo, MpencError> {
        let party = self
            .parties
            .get_mut(initiator)
            .ok_or(ApiMisuse::NotExcludable)?;
        Ok(Echo {
            sender: initiator.to_vec(),
            packet: party.propose(op, rng)?,
        })
    }

    /// Echoes `packets` (and every reply) in FIFO order until quiet.
    pub fn deliver(&mut self, packets: Vec<Echo>, rng: &mut impl CryptoRng) -> Outcome {
        let mut queue: VecDeque<Echo> = packets.into();
        let channel: Vec<Id> = self
            .parties
            .keys()
            .filter(|id| !self.unreachable.contains(*id))
            .cloned()
            .collect();
        let mut involved: BTreeSet<Id> = BTreeSet::new();
        while let Some(echo) = queue.pop_front() {
            if self.unreachable.contains(&echo.sender) {
                continue; // the server never got it
            }
            self.log.push(echo.clone());
            let pid = make_packet_id(&echo.packet, &echo.sender, &channel);
            for id in &channel {
                let Some(party) = self.parties.get_mut(id) else {
                    continue;
                };
                if let Some(reply) = party_recv(party, id, &echo, pid, &channel, &self.dir, rng) {
                    queue.push_back(reply);
                }
                if party.greeting.is_some() {
                    involved.insert(id.clone());
                }
            }
        }
        let mut outcome = Outcome::Completed;
        for id in &involved {
            let Some(party) = self.parties.get_mut(id) else {
                continue;
            };
            let Some(g) = party.greeting.take() else {
                continue;
            };
            match g.result() {
                Ok(store) if store.state == GreetState::Quit => {
                    // Excluded: back to a fresh member.
                    party.store =
                        GreetStore::new(id.clone(), store.aske.static_signing_key().clone());
                    party.order = ServerOrder::new();
                    party.current_pi = None;
                }
                Ok(store) => {
                    party.store = store;
                    party.current_pi = None;
                }
                Err(_) => {
                    outcome = Outcome::Stalled;
                    party.greeting = Some(g);
                }
            }
        }
        if involved.is_empty() {
            outcome = Outcome::Stalled;
        }
        outcome
    }
}

fn party_recv(
    party: &mut Party,
    id: &[u8],
    echo: &Echo,
    pid: [u8; 32],
    channel: &[Id],
    dir: &BTreeMap<Id, VerifyingKey>,
    rng: &mut impl CryptoRng,
) -> Option<Echo> {
    party.receive(id, echo, pid, channel, dir, rng)
}

impl Party {
    /// A fresh member.
    pub fn new(id: Id, static_key: SigningKey) -> Self {
        Self {
            store: GreetStore::new(id, static_key),
            greeting: None,
            order: ServerOrder::new(),
            current_pi: None,
        }
    }

    /// Builds this member's proposal of `op` (see [`Driver::propose`]).
    pub fn propose(&mut self, op: &Op, rng: &mut impl CryptoRng) -> Result<String, MpencError> {
        if !self.order.is_synced() {
            self.order.sync_new(rng);
        }
        let md = self.order.metadata(Vec::new()).ok_or(ApiMisuse::NotReady)?;
        let mut g = Greeting::new(&self.store);
        let out = match op {
            Op::Start(others) => g.start(others, md, rng)?,
            Op::Include(new) => g.include(new, md, rng)?,
            Op::Exclude(ex) => g.exclude(ex, md, rng)?,
            Op::Refresh => g.refresh(md, rng)?,
        };
        self.greeting = Some(g);
        Ok(out.packet)
    }

    /// If the greeting in progress finished, adopts its result: returns
    /// `Some(true)` if we were excluded, `Some(false)` if we hold a new key.
    pub fn finish(&mut self, id: &[u8]) -> Option<bool> {
        let g = self.greeting.as_ref()?;
        let store = g.result().ok()?;
        self.greeting = None;
        self.current_pi = None;
        if store.state == GreetState::Quit {
            self.store = GreetStore::new(id.to_vec(), store.aske.static_signing_key().clone());
            self.order = ServerOrder::new();
            Some(true)
        } else {
            self.store = store;
            Some(false)
        }
    }

    /// One echoed packet: classify it, apply the server-order rules, and
    /// hand it to the greeting. Returns this member's reply, if any.
    /// Packets that are rejected, not for us or invalid are dropped.
    pub fn receive(
        &mut self,
        id: &[u8],
        echo: &Echo,
        pid: [u8; 32],
        channel: &[Id],
        dir: &BTreeMap<Id, VerifyingKey>,
        rng: &mut impl CryptoRng,
    ) -> Option<Echo> {
        let party = self;
        let greeting = party.greeting.as_ref();
        let summary = partial_decode(&echo.packet, pid, party.current_pi, |source| {
            greeting.map(|g| g.expects_final(source))
        })
        .ok()?;
        if let Some(op) = &summary {
            if party.order.try_op_packet(id, op, channel).is_err() {
                return None;
            }
            if op.is_initial() {
                party.current_pi = Some(op.packet_id);
                // Our own proposal keeps its greeting; anyone else's starts one.
                if echo.sender != id || party.greeting.is_none() {
                    party.greeting = Some(Greeting::new(&party.store));
                }
            }
        }
        let g = party.greeting.as_mut()?;
        if g.is_finished() {
            return None;
        }
        let out = g.recv(&echo.packet, dir, rng).ok()??;
        Some(Echo {
            sender: id.to_vec(),
            packet: out.packet,
        })
    }
}
