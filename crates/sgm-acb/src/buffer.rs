//! The bounded buffer of messages waiting for their predecessors.
//!
//! Each waiting message is registered under exactly one unmet dependency at
//! a time (a missing parent id, or its sender's previous seq). When that
//! dependency is delivered the message is woken, looks for its next unmet
//! dependency, and either waits on that or becomes ready. Total work is
//! linear in the number of parent references.

use std::collections::{BTreeMap, HashMap, VecDeque};

use sgm_crypto::{MemberId, VerifyingKey};

use crate::{MessageId, SignedEnvelope};

/// Something a waiting message needs delivered first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Dep {
    /// A parent.
    Id(MessageId),
    /// The sender's message with this seq (the previous one).
    Seq(MemberId, u64),
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) msg: SignedEnvelope,
    /// The key the signature verified under at arrival, if any. Checked
    /// again against the key in effect at delivery.
    pub(crate) verified_with: Option<VerifyingKey>,
    /// Value of the receive counter at arrival.
    pub(crate) arrived: u64,
    order: u64,
    waiting_on: Option<Dep>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Buffer {
    entries: HashMap<MessageId, Entry>,
    by_order: BTreeMap<u64, MessageId>,
    by_sender: HashMap<MemberId, BTreeMap<u64, Vec<MessageId>>>,
    sender_counts: HashMap<MemberId, (usize, usize)>,
    waiting: HashMap<Dep, Vec<MessageId>>,
    ready: VecDeque<MessageId>,
    bytes: usize,
    next_order: u64,
}

impl Buffer {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn contains(&self, id: &MessageId) -> bool {
        self.entries.contains_key(id)
    }

    pub(crate) fn get(&self, id: &MessageId) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// (all, unverified) entries of `sender`.
    pub(crate) fn counts(&self, sender: &MemberId) -> (usize, usize) {
        self.sender_counts.get(sender).copied().unwrap_or((0, 0))
    }

    /// Entries of `sender` by seq.
    pub(crate) fn of_sender(&self, sender: &MemberId) -> Option<&BTreeMap<u64, Vec<MessageId>>> {
        self.by_sender.get(sender)
    }

    pub(crate) fn senders(
        &self,
    ) -> impl Iterator<Item = (&MemberId, &BTreeMap<u64, Vec<MessageId>>)> {
        self.by_sender.iter()
    }

    /// Entries, oldest first.
    pub(crate) fn iter_oldest_first(&self) -> impl Iterator<Item = &Entry> {
        self.by_order.values().filter_map(|id| self.entries.get(id))
    }

    pub(crate) fn oldest(&self) -> Option<&Entry> {
        self.by_order
            .values()
            .next()
            .and_then(|id| self.entries.get(id))
    }

    /// Adds an entry that waits on `dep` (or is ready when `None`).
    pub(crate) fn insert(
        &mut self,
        msg: SignedEnvelope,
        verified_with: Option<VerifyingKey>,
        arrived: u64,
        dep: Option<Dep>,
    ) {
        let id = msg.id();
        let sender = msg.envelope().sender;
        let seq = msg.envelope().seq;
        self.bytes += msg.bytes().len();
        let order = self.next_order;
        self.next_order += 1;
        self.by_order.insert(order, id);
        self.by_sender
            .entry(sender)
            .or_default()
            .entry(seq)
            .or_default()
            .push(id);
        let c = self.sender_counts.entry(sender).or_insert((0, 0));
        c.0 += 1;
        if verified_with.is_none() {
            c.1 += 1;
        }
        self.entries.insert(
            id,
            Entry {
                msg,
                verified_with,
                arrived,
                order,
                waiting_on: None,
            },
        );
        match dep {
            Some(d) => self.wait(id, d),
            None => self.ready.push_back(id),
        }
    }

    /// Registers `id` as waiting on `dep`.
    pub(crate) fn wait(&mut self, id: MessageId, dep: Dep) {
        if let Some(e) = self.entries.get_mut(&id) {
            e.waiting_on = Some(dep);
            self.waiting.entry(dep).or_default().push(id);
        }
    }

    /// Records that a waiting entry's signature verified under `key` (it
    /// continues a fork delivered after it arrived).
    pub(crate) fn set_verified(&mut self, id: &MessageId, key: VerifyingKey) {
        if let Some(e) = self.entries.get_mut(id) {
            if e.verified_with.is_none()
                && let Some(c) = self.sender_counts.get_mut(&e.msg.envelope().sender)
            {
                c.1 = c.1.saturating_sub(1);
            }
            e.verified_with = Some(key);
        }
    }

    pub(crate) fn make_ready(&mut self, id: MessageId) {
        if let Some(e) = self.entries.get_mut(&id) {
            e.waiting_on = None;
            self.ready.push_back(id);
        }
    }

    /// The entries that waited on `dep` (no longer registered under it).
    pub(crate) fn wake(&mut self, dep: &Dep) -> Vec<MessageId> {
        let woken = self.waiting.remove(dep).unwrap_or_default();
        for id in &woken {
            if let Some(e) = self.entries.get_mut(id) {
                e.waiting_on = None;
            }
        }
        woken
    }

    /// Removes and returns the next ready entry.
    pub(crate) fn pop_ready(&mut self) -> Option<Entry> {
        while let Some(id) = self.ready.pop_front() {
            // Skip ids evicted after they became ready, and ids that were
            // woken again (cannot happen, but be robust).
            if self
                .entries
                .get(&id)
                .is_some_and(|e| e.waiting_on.is_none())
            {
                return self.remove(&id);
            }
        }
        None
    }

    pub(crate) fn has_ready(&self) -> bool {
        self.ready.iter().any(|id| self.entries.contains_key(id))
    }

    /// Removes an entry from every index.
    pub(crate) fn remove(&mut self, id: &MessageId) -> Option<Entry> {
        let e = self.entries.remove(id)?;
        self.bytes -= e.msg.bytes().len();
        self.by_order.remove(&e.order);
        let env = e.msg.envelope();
        if let Some(seqs) = self.by_sender.get_mut(&env.sender) {
            if let Some(ids) = seqs.get_mut(&env.seq) {
                ids.retain(|x| x != id);
                if ids.is_empty() {
                    seqs.remove(&env.seq);
                }
            }
            if seqs.is_empty() {
                self.by_sender.remove(&env.sender);
            }
        }
        if let Some(c) = self.sender_counts.get_mut(&env.sender) {
            c.0 -= 1;
            if e.verified_with.is_none() {
                c.1 -= 1;
            }
            if c.0 == 0 {
                self.sender_counts.remove(&env.sender);
            }
        }
        if let Some(dep) = e.waiting_on
            && let Some(list) = self.waiting.get_mut(&dep)
        {
            list.retain(|x| x != id);
            if list.is_empty() {
                self.waiting.remove(&dep);
            }
        }
        // A stale id left in `ready` is skipped by `pop_ready`.
        Some(e)
    }
}
