//! The driver: members of one scheme, the messages in flight between them,
//! and what every call cost.
//!
//! ```text
//!   run(actor, op) = start(actor, op)          round 1: the operation's messages
//!                  + deliver_all()             round r + 1: replies to round r
//!                  + take_outcome()            bytes, CPU, rounds, plaintexts
//! ```
//!
//! Delivery is first in, first out by default: every message produced is
//! queued behind everything already in flight, so each recipient receives
//! messages in one total order that is also causal (a reply is queued only
//! after its cause was delivered to the replier, and behind the cause's
//! copies for everyone else). Schemes that need a totally ordered channel
//! ([`Capabilities::total_order`], mpENC) get exactly that; with
//! [`Capabilities::echo`] a broadcast also comes back to its sender in its
//! place in the order.
//!
//! Tests can instead pick what to deliver ([`Group::deliverable`],
//! [`Group::deliver_at`]): with [`Group::track_causality`] the driver
//! records each message's causal past and refuses deliveries that would
//! break causal order (total order, for schemes that need it).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use rand_chacha::ChaCha20Rng;
use sgm_crypto::{MemberId, SeedableRng};

use crate::error::{HarnessError, Result};
use crate::outcome::{Decrypted, Outcome};
use crate::scheme::{Delivery, GroupScheme, Message, MessageKind};

/// An operation the driver runs at one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Create a group with these other members.
    Create(Vec<MemberId>),
    /// Add a member.
    Add(MemberId),
    /// Remove a member.
    Remove(MemberId),
    /// A post-compromise-security update.
    Update,
    /// An application message.
    Send(Vec<u8>),
}

impl Operation {
    /// Lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Create(_) => "create",
            Self::Add(_) => "add",
            Self::Remove(_) => "remove",
            Self::Update => "update",
            Self::Send(_) => "send",
        }
    }
}

/// One message on its way to one recipient.
#[derive(Clone, Debug)]
pub struct InFlight {
    /// The message (shared by all its recipients).
    pub message: Arc<Message>,
    /// This copy's recipient.
    pub recipient: MemberId,
    /// The round it is delivered in.
    pub round: usize,
    /// The message's number (in sending order).
    id: u64,
    /// Numbers of the messages in its causal past (with tracking only).
    past: Arc<BTreeSet<u64>>,
}

/// A group of members of scheme `S` and the network between them.
#[derive(Clone)]
pub struct Group<S: GroupScheme> {
    scheme: S,
    members: BTreeMap<MemberId, S::Member>,
    ids: Vec<MemberId>,
    roster: BTreeSet<MemberId>,
    rng: ChaCha20Rng,
    pending: VecDeque<InFlight>,
    next_id: u64,
    tracking: bool,
    seen: BTreeMap<MemberId, BTreeSet<u64>>,
    outcome: Outcome,
}

impl<S: GroupScheme> std::fmt::Debug for Group<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("scheme", &self.scheme.name())
            .field("members", &self.ids.len())
            .field("roster", &self.roster.len())
            .field("pending", &self.pending.len())
            .finish()
    }
}

fn scheme_error<E: std::error::Error + Send + Sync + 'static>(
    scheme: &'static str,
    call: &'static str,
    member: MemberId,
) -> impl FnOnce(E) -> HarnessError {
    move |e| HarnessError::Scheme {
        scheme,
        call,
        member,
        source: Box::new(e),
    }
}

impl<S: GroupScheme> Group<S> {
    /// `count` fresh members of `scheme` (not yet in a group), with
    /// randomness from `seed`.
    pub fn new(scheme: S, count: usize, seed: u64) -> Result<Self> {
        let mut g = Self {
            scheme,
            members: BTreeMap::new(),
            ids: Vec::new(),
            roster: BTreeSet::new(),
            rng: ChaCha20Rng::seed_from_u64(seed),
            pending: VecDeque::new(),
            next_id: 0,
            tracking: false,
            seen: BTreeMap::new(),
            outcome: Outcome::default(),
        };
        g.spawn(count)?;
        Ok(g)
    }

    /// `n` members, member 0 creates the group of all of them and every
    /// message is delivered; returns the group and the create's outcome.
    pub fn setup(scheme: S, n: usize, seed: u64) -> Result<(Self, Outcome)> {
        let mut g = Self::new(scheme, n, seed)?;
        let ids = g.ids().to_vec();
        let (first, rest) = ids.split_first().ok_or(HarnessError::NoSuchDelivery(0))?;
        let outcome = g.run(*first, Operation::Create(rest.to_vec()))?;
        Ok((g, outcome))
    }

    /// Adds `count` fresh members (not in the group); returns their ids.
    pub fn spawn(&mut self, count: usize) -> Result<Vec<MemberId>> {
        let name = self.scheme.name();
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let m = self
                .scheme
                .new_member(&mut self.rng)
                .map_err(|e| HarnessError::Scheme {
                    scheme: name,
                    call: "new_member",
                    member: MemberId::from_bytes([0; 16]),
                    source: Box::new(e),
                })?;
            let id = self.scheme.member_id(&m);
            self.members.insert(id, m);
            self.ids.push(id);
            out.push(id);
        }
        Ok(out)
    }

    /// Records causal pasts from now on, so that [`Self::deliver_at`] can
    /// refuse out-of-order deliveries (costs memory: for tests).
    pub fn track_causality(&mut self) {
        self.tracking = true;
    }

    /// Every member ever spawned, in spawn order.
    pub fn ids(&self) -> &[MemberId] {
        &self.ids
    }

    /// The harness's view of the membership (after every operation started).
    pub fn roster(&self) -> &BTreeSet<MemberId> {
        &self.roster
    }

    /// The scheme (its shared infrastructure).
    pub fn scheme(&self) -> &S {
        &self.scheme
    }

    /// A member's state.
    pub fn member(&self, id: &MemberId) -> Result<&S::Member> {
        self.members.get(id).ok_or(HarnessError::UnknownMember(*id))
    }

    /// A member's state, to change (tests: restore a stolen copy).
    pub fn member_mut(&mut self, id: &MemberId) -> Result<&mut S::Member> {
        self.members
            .get_mut(id)
            .ok_or(HarnessError::UnknownMember(*id))
    }

    /// The scheme and a member at once, with the driver's randomness (tests:
    /// call the scheme directly).
    pub fn parts(&mut self, id: &MemberId) -> Result<(&mut S, &mut S::Member, &mut ChaCha20Rng)> {
        let m = self
            .members
            .get_mut(id)
            .ok_or(HarnessError::UnknownMember(*id))?;
        Ok((&mut self.scheme, m, &mut self.rng))
    }

    /// Messages in flight, in delivery order.
    pub fn pending(&self) -> &VecDeque<InFlight> {
        &self.pending
    }

    /// Starts `op` at `actor` and queues its messages (round 1).
    pub fn start(&mut self, actor: MemberId, op: Operation) -> Result<()> {
        let name = self.scheme.name();
        let member = self
            .members
            .get_mut(&actor)
            .ok_or(HarnessError::UnknownMember(actor))?;
        let scheme = &mut self.scheme;
        let rng = &mut self.rng;
        let t = Instant::now();
        let result = match &op {
            Operation::Create(others) => scheme.create(member, others, rng),
            Operation::Add(added) => scheme.add(member, *added, rng),
            Operation::Remove(removed) => scheme.remove(member, *removed, rng),
            Operation::Update => scheme.update(member, rng),
            Operation::Send(plaintext) => scheme.send(member, plaintext, rng),
        };
        let elapsed = t.elapsed();
        let messages = result.map_err(scheme_error(name, op.name(), actor))?;
        *self.outcome.cpu.entry(actor).or_default() += elapsed;
        self.outcome.actor = Some(actor);
        match &op {
            Operation::Create(others) => {
                self.roster = others.iter().copied().collect();
                self.roster.insert(actor);
            }
            Operation::Add(added) => {
                self.roster.insert(*added);
            }
            Operation::Remove(removed) => {
                self.roster.remove(removed);
            }
            Operation::Update | Operation::Send(_) => {}
        }
        self.queue(actor, messages, 1);
        Ok(())
    }

    fn queue(&mut self, from: MemberId, messages: Vec<Message>, round: usize) {
        let echo = self.scheme.capabilities().echo;
        for message in messages {
            let id = self.next_id;
            self.next_id += 1;
            let past = if self.tracking {
                let seen = self.seen.entry(from).or_default();
                let past = Arc::new(seen.clone());
                seen.insert(id);
                past
            } else {
                Arc::default()
            };
            let o = &mut self.outcome;
            o.messages += 1;
            o.bytes += message.bytes();
            let k = o.by_kind.entry(message.kind).or_default();
            k.0 += 1;
            k.1 += message.bytes();
            *o.sent.entry(message.sender).or_default() += message.bytes();
            let message = Arc::new(message);
            let mut recipients = message.recipients().to_vec();
            if echo && matches!(message.delivery, Delivery::Broadcast(_)) {
                recipients.push(message.sender);
            }
            for recipient in recipients {
                self.pending.push_back(InFlight {
                    message: Arc::clone(&message),
                    recipient,
                    round,
                    id,
                    past: Arc::clone(&past),
                });
            }
        }
    }

    /// Whether pending entry `i` can be delivered now without breaking the
    /// order the scheme needs (always true without tracking, for the first).
    pub fn is_deliverable(&self, i: usize) -> bool {
        let Some(e) = self.pending.get(i) else {
            return false;
        };
        let earlier = self
            .pending
            .iter()
            .take(i)
            .filter(|p| p.recipient == e.recipient);
        if self.scheme.capabilities().total_order {
            return earlier.count() == 0;
        }
        if !self.tracking {
            // Without the causal pasts only FIFO order is known to be safe.
            return earlier.count() == 0;
        }
        !earlier
            .into_iter()
            .any(|p| e.past.contains(&p.id) || p.message.sender == e.message.sender)
    }

    /// Indices of the pending entries that [`Self::deliver_at`] accepts now.
    pub fn deliverable(&self) -> Vec<usize> {
        (0..self.pending.len())
            .filter(|i| self.is_deliverable(*i))
            .collect()
    }

    /// Delivers pending entry `i`; its replies are queued for the next round.
    pub fn deliver_at(&mut self, i: usize) -> Result<()> {
        if i >= self.pending.len() {
            return Err(HarnessError::NoSuchDelivery(i));
        }
        if !self.is_deliverable(i) {
            return Err(HarnessError::NotDeliverable(i));
        }
        let e = self
            .pending
            .remove(i)
            .ok_or(HarnessError::NoSuchDelivery(i))?;
        self.deliver(e)
    }

    /// Drops pending entry `i` without delivering it (a lost message).
    pub fn drop_at(&mut self, i: usize) -> Result<InFlight> {
        self.pending
            .remove(i)
            .ok_or(HarnessError::NoSuchDelivery(i))
    }

    /// Delivers everything in flight, replies included, first in first out.
    pub fn deliver_all(&mut self) -> Result<()> {
        while let Some(e) = self.pending.pop_front() {
            self.deliver(e)?;
        }
        Ok(())
    }

    fn deliver(&mut self, e: InFlight) -> Result<()> {
        let name = self.scheme.name();
        let to = e.recipient;
        let member = self
            .members
            .get_mut(&to)
            .ok_or(HarnessError::UnknownMember(to))?;
        let incoming = e.message.incoming_for(&to);
        let t = Instant::now();
        let result = self.scheme.receive(member, &incoming, &mut self.rng);
        let elapsed = t.elapsed();
        let processed = result.map_err(scheme_error(name, "receive", to))?;
        if self.tracking {
            let seen = self.seen.entry(to).or_default();
            seen.extend(e.past.iter().copied());
            seen.insert(e.id);
        }
        let o = &mut self.outcome;
        *o.cpu.entry(to).or_default() += elapsed;
        *o.received.entry(to).or_default() += e.message.bytes_for(&to);
        o.deliveries += 1;
        o.rounds = o.rounds.max(e.round);
        if processed.key_changed {
            o.key_rounds = o.key_rounds.max(e.round);
        }
        if processed.removed {
            o.removed.insert(to);
        }
        if let Some(plaintext) = processed.plaintext
            && e.message.kind == MessageKind::Application
        {
            o.decrypted.push(Decrypted {
                recipient: to,
                sender: e.message.sender,
                plaintext,
            });
        }
        self.queue(to, processed.replies, e.round + 1);
        Ok(())
    }

    /// What was measured since the last call (and resets it).
    pub fn take_outcome(&mut self) -> Outcome {
        std::mem::take(&mut self.outcome)
    }

    /// [`Self::start`], [`Self::deliver_all`], [`Self::take_outcome`].
    pub fn run(&mut self, actor: MemberId, op: Operation) -> Result<Outcome> {
        self.take_outcome();
        self.start(actor, op)?;
        self.deliver_all()?;
        Ok(self.take_outcome())
    }
}
