//! The ACB state machine: sending, receiving, causal delivery.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::ops::RangeInclusive;

use bytes::Bytes;

use sgm_crypto::{MemberId, Signature, SigningKey, VerifyingKey};

use crate::buffer::{Buffer, Dep};
use crate::fork::{self, Equivocation, Fork, ForkTip};
use crate::store::Store;
use crate::{
    AcbConfig, AcbError, AcbEvent, ApiMisuse, BufferLimit, DirectPart, Envelope, MembershipCheck,
    MessageId, SignedEnvelope,
};

/// A signing key's validity for one sender: from `from_seq` until the next
/// epoch's `from_seq - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyEpoch {
    pub(crate) from_seq: u64,
    pub(crate) key: VerifyingKey,
    /// The previous key's rotation proof (`None` for the identity key).
    pub(crate) proof: Option<Signature>,
}

/// What ACB knows about one sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SenderState {
    /// Never empty: the initial (identity) key first, then each rotation.
    pub(crate) keys: Vec<KeyEpoch>,
    /// Highest seq delivered on the main line (0: none).
    pub(crate) delivered_seq: u64,
    /// Delivered fork messages' tips (see `fork.rs`), oldest first,
    /// at most [`fork::MAX_FORK_TIPS`].
    pub(crate) forks: Vec<ForkTip>,
}

impl SenderState {
    fn new(initial: VerifyingKey) -> Self {
        Self {
            keys: vec![KeyEpoch {
                from_seq: 1,
                key: initial,
                proof: None,
            }],
            delivered_seq: 0,
            forks: Vec::new(),
        }
    }

    /// The key in effect for the next seq (all earlier ones delivered).
    fn current_key(&self) -> Option<VerifyingKey> {
        self.keys.last().map(|e| e.key)
    }

    /// The key valid for a delivered `seq`.
    fn key_for(&self, seq: u64) -> Option<VerifyingKey> {
        self.keys
            .iter()
            .rev()
            .find(|e| e.from_seq <= seq)
            .map(|e| e.key)
    }
}

/// A message handed to the layer above, in causal order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// Its id.
    pub id: MessageId,
    /// Its authenticated sender.
    pub sender: MemberId,
    /// The sender's sequence number.
    pub seq: u64,
    /// Its parents (all delivered before it).
    pub parents: Vec<MessageId>,
    /// The broadcast payload.
    pub payload: Vec<u8>,
    /// Recipients of the direct parts it carries (ascending).
    pub recipients: Vec<MemberId>,
    /// The direct part addressed to this member, if any.
    pub my_part: Option<Vec<u8>>,
    /// The signing key the sender rotated to with this message.
    pub new_signing_key: Option<VerifyingKey>,
    /// A leaf: it did not become a DAG head (see [`Envelope::leaf`]).
    pub leaf: bool,
    /// `Some`: a fork of its sender's line: another message of the sender
    /// with this seq was delivered here first, or it continues such a fork
    /// (see [`Equivocation`]). Delivered so that the messages naming it
    /// can be; what the layer above may do with its payload depends on
    /// the key that signed it ([`Fork`]).
    pub fork: Option<Fork>,
}

impl Delivered {
    fn from_envelope(id: MessageId, env: Envelope, me: &MemberId, fork: Option<Fork>) -> Self {
        let recipients = env.direct.iter().map(|d| d.recipient).collect();
        let my_part = env
            .direct
            .into_iter()
            .find(|d| d.recipient == *me)
            .map(|d| d.body);
        Self {
            id,
            sender: env.sender,
            seq: env.seq,
            parents: env.parents,
            payload: env.payload,
            recipients,
            my_part,
            new_signing_key: env.new_signing_key,
            leaf: env.leaf,
            fork,
        }
    }
}

/// A message this member sent: send `bytes` to the group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Its id.
    pub id: MessageId,
    /// Its sequence number.
    pub seq: u64,
    /// The encoded envelope (what to transmit).
    pub bytes: Vec<u8>,
}

/// What [`Acb::accept`] did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Accepted {
    /// Already delivered or already waiting: nothing changed.
    Duplicate,
    /// All predecessors are delivered: [`Acb::deliver_next`] will hand it up.
    Ready,
    /// Waiting in the buffer for predecessors.
    Waiting,
}

/// Result of [`Acb::receive`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Receipt {
    /// Every message that became deliverable, in causal order (the received
    /// one and any it unblocked).
    pub delivered: Vec<Delivered>,
    /// Buffered messages that were rejected, evicted or expired meanwhile.
    pub events: Vec<AcbEvent>,
    /// True if the message was already delivered or waiting.
    pub duplicate: bool,
}

/// Authenticated causal broadcast for one member.
///
/// Each method that returns `Result` is transactional: on `Err` the state is
/// unchanged.
#[derive(Clone, Debug)]
pub struct Acb {
    pub(crate) me: MemberId,
    pub(crate) signing_key: SigningKey,
    pub(crate) pending_rotation: Option<SigningKey>,
    pub(crate) config: AcbConfig,
    pub(crate) senders: BTreeMap<MemberId, SenderState>,
    /// Every delivered id with its sender and seq (see docs/acb.md on
    /// compaction).
    pub(crate) delivered: HashMap<MessageId, (MemberId, u64)>,
    pub(crate) delivered_by_seq: HashMap<(MemberId, u64), MessageId>,
    pub(crate) heads: BTreeSet<MessageId>,
    pub(crate) buffer: Buffer,
    pub(crate) store: Store,
    pub(crate) rejected: HashSet<MessageId>,
    pub(crate) rejected_order: VecDeque<MessageId>,
    pub(crate) events: VecDeque<AcbEvent>,
    pub(crate) tick: u64,
}

enum Unmet {
    Nothing,
    Dep(Dep),
    Rejected(MessageId),
}

impl Acb {
    /// A fresh instance for the member whose identity (initial signing) key
    /// is `signing_key`; its id is `MemberId::from_identity_key`.
    pub fn new(signing_key: SigningKey, config: AcbConfig) -> Self {
        let vk = signing_key.verifying_key();
        let me = MemberId::from_identity_key(&vk);
        let mut senders = BTreeMap::new();
        senders.insert(me, SenderState::new(vk));
        Self {
            me,
            signing_key,
            pending_rotation: None,
            config,
            senders,
            delivered: HashMap::new(),
            delivered_by_seq: HashMap::new(),
            heads: BTreeSet::new(),
            buffer: Buffer::default(),
            store: Store::default(),
            rejected: HashSet::new(),
            rejected_order: VecDeque::new(),
            events: VecDeque::new(),
            tick: 0,
        }
    }

    /// This member's id.
    pub fn me(&self) -> MemberId {
        self.me
    }

    /// The configuration.
    pub fn config(&self) -> &AcbConfig {
        &self.config
    }

    /// Replaces the bounds (for example as the group grows). Lower bounds
    /// apply from the next message stored or buffered; nothing is dropped
    /// now.
    pub fn set_config(&mut self, config: AcbConfig) {
        self.config = config;
    }

    /// Registers a sender by its identity key (the key its first message is
    /// signed with). Returns `MemberId::from_identity_key(identity_key)`.
    /// Registering the same key again does nothing.
    pub fn register_member(&mut self, identity_key: VerifyingKey) -> MemberId {
        let id = MemberId::from_identity_key(&identity_key);
        self.senders
            .entry(id)
            .or_insert_with(|| SenderState::new(identity_key));
        id
    }

    /// Registers `id` with `identity_key`, checking that the id is derived
    /// from the key.
    pub fn register_member_as(
        &mut self,
        id: MemberId,
        identity_key: VerifyingKey,
    ) -> Result<(), AcbError> {
        let derived = MemberId::from_identity_key(&identity_key);
        if derived != id {
            return Err(AcbError::Api(ApiMisuse::IdentityMismatch {
                claimed: id,
                derived,
            }));
        }
        self.register_member(identity_key);
        Ok(())
    }

    /// The key `sender` must sign its next undelivered message with.
    pub fn current_key_of(&self, sender: &MemberId) -> Option<VerifyingKey> {
        self.senders.get(sender).and_then(SenderState::current_key)
    }

    /// The key `sender`'s main line used (or, for the next seq, uses) for
    /// `seq`: what checks an [`Equivocation`] at that seq.
    pub fn key_for(&self, sender: &MemberId, seq: u64) -> Option<VerifyingKey> {
        self.senders.get(sender).and_then(|s| s.key_for(seq))
    }

    /// Checks evidence against what this member knows of the sender's keys
    /// (its main line's key for that seq).
    pub fn check_equivocation(&self, evidence: &Equivocation) -> Result<(), AcbError> {
        let sender = evidence.sender();
        let key = self
            .key_for(&sender, evidence.seq())
            .ok_or(AcbError::UnknownSender { sender })?;
        evidence.verify(&key)
    }

    /// The highest delivered seq of `sender` (0 if none; `None` if unknown).
    pub fn delivered_seq_of(&self, sender: &MemberId) -> Option<u64> {
        self.senders.get(sender).map(|s| s.delivered_seq)
    }

    /// The current DAG heads: delivered messages no delivered message names
    /// as a parent. The parents of the next broadcast.
    pub fn heads(&self) -> Vec<MessageId> {
        self.heads.iter().copied().collect()
    }

    /// True if `id` was delivered (sent or received).
    pub fn is_delivered(&self, id: &MessageId) -> bool {
        self.delivered.contains_key(id)
    }

    /// Number of delivered messages kept for re-sending.
    pub fn stored(&self) -> usize {
        self.store.len()
    }

    /// Number of messages waiting for predecessors, and their bytes.
    pub fn buffered(&self) -> (usize, usize) {
        (self.buffer.len(), self.buffer.bytes())
    }

    /// The encoded message `id`, if it is in the bounded store of delivered
    /// messages or waiting in the buffer with a verified signature; any
    /// member may forward it (messages are self-authenticating).
    pub fn get(&self, id: &MessageId) -> Option<&[u8]> {
        self.stored_envelope(id).map(Bytes::as_ref)
    }

    /// [`Acb::get`], shared: a reference to the stored bytes, not a copy.
    pub fn get_shared(&self, id: &MessageId) -> Option<Bytes> {
        self.stored_envelope(id).cloned()
    }

    fn stored_envelope(&self, id: &MessageId) -> Option<&Bytes> {
        self.store.get(id).or_else(|| {
            self.buffer
                .get(id)
                .filter(|e| e.verified_with.is_some())
                .map(|e| e.msg.bytes_shared_ref())
        })
    }

    /// The sender of the oldest message waiting for predecessors, if any.
    /// It delivered those predecessors before it sent the message, so it
    /// is a peer that can re-send them (a random peer, after a partition,
    /// often lacks them too).
    pub fn oldest_waiting_sender(&self) -> Option<MemberId> {
        self.buffer.oldest().map(|e| e.msg.envelope().sender)
    }

    /// Parent ids named by waiting messages that are neither delivered nor
    /// waiting themselves: ask the group to re-send these. Ascending.
    pub fn missing(&self) -> Vec<MessageId> {
        let mut out = BTreeSet::new();
        for e in self.buffer.iter_oldest_first() {
            for p in &e.msg.envelope().parents {
                if !self.delivered.contains_key(p) && !self.buffer.contains(p) {
                    out.insert(*p);
                }
            }
        }
        out.into_iter().collect()
    }

    /// Gaps in senders' sequence numbers below waiting messages: `(sender,
    /// seqs)` to ask the group for (their ids are not known yet).
    pub fn missing_seqs(&self) -> Vec<(MemberId, RangeInclusive<u64>)> {
        let mut out = Vec::new();
        for (sender, seqs) in self.buffer.senders() {
            let mut next = self
                .senders
                .get(sender)
                .map(|s| s.delivered_seq.saturating_add(1))
                .unwrap_or(1);
            for &s in seqs.keys() {
                if s > next {
                    out.push((*sender, next..=s - 1));
                }
                next = next.max(s.saturating_add(1));
            }
        }
        out.sort_by_key(|(m, r)| (*m, *r.start()));
        out
    }

    /// Announces `new` with the next broadcast (paper §5.1: on a PCS update
    /// the sender rotates its signing key; the announcing message is signed
    /// by the old key, every later one by `new`). Calling it again before
    /// broadcasting replaces the pending key.
    pub fn rotate_signing_key(&mut self, new: SigningKey) {
        self.pending_rotation = Some(new);
    }

    /// Signs and encodes a broadcast with `parents = heads()`. It counts as
    /// delivered locally: afterwards `heads() == [id]`.
    pub fn broadcast(
        &mut self,
        payload: Vec<u8>,
        direct: Vec<DirectPart>,
    ) -> Result<Outgoing, AcbError> {
        self.broadcast_as(payload, direct, false)
    }

    /// [`Acb::broadcast`] of a leaf ([`Envelope::leaf`]): it names the heads
    /// as parents but does not replace them, so afterwards `heads()` is what
    /// it was. Later messages of this member still follow it (by `seq`);
    /// nobody else's do.
    pub fn broadcast_leaf(
        &mut self,
        payload: Vec<u8>,
        direct: Vec<DirectPart>,
    ) -> Result<Outgoing, AcbError> {
        self.broadcast_as(payload, direct, true)
    }

    fn broadcast_as(
        &mut self,
        payload: Vec<u8>,
        mut direct: Vec<DirectPart>,
        leaf: bool,
    ) -> Result<Outgoing, AcbError> {
        direct.sort_by_key(|d| d.recipient);
        if let Some(w) = direct.windows(2).find(|w| w[0].recipient == w[1].recipient) {
            return Err(AcbError::Api(ApiMisuse::DuplicateRecipient(w[0].recipient)));
        }
        if direct.len() > self.config.max_direct_parts {
            return Err(AcbError::Api(ApiMisuse::OutgoingTooLarge(format!(
                "{} direct parts, max {}",
                direct.len(),
                self.config.max_direct_parts
            ))));
        }
        if self.heads.len() > self.config.max_parents {
            return Err(AcbError::Api(ApiMisuse::OutgoingTooLarge(format!(
                "{} heads, max {} parents",
                self.heads.len(),
                self.config.max_parents
            ))));
        }
        let delivered_seq = self
            .senders
            .get(&self.me)
            .map(|s| s.delivered_seq)
            .unwrap_or(0);
        let seq = delivered_seq
            .checked_add(1)
            .ok_or(AcbError::Api(ApiMisuse::SeqExhausted))?;
        let envelope = Envelope {
            sender: self.me,
            seq,
            parents: self.heads(),
            payload,
            direct,
            new_signing_key: self
                .pending_rotation
                .as_ref()
                .map(SigningKey::verifying_key),
            // Filled in by `sign`, with the current (old) key.
            rotation_proof: None,
            leaf,
        };
        let msg = SignedEnvelope::sign(envelope, &self.signing_key);
        if msg.bytes().len() > self.config.max_message_bytes {
            return Err(AcbError::Api(ApiMisuse::OutgoingTooLarge(format!(
                "{} bytes, max {}",
                msg.bytes().len(),
                self.config.max_message_bytes
            ))));
        }
        let out = Outgoing {
            id: msg.id(),
            seq,
            bytes: msg.bytes().to_vec(),
        };
        if let Some(new) = self.pending_rotation.take() {
            self.signing_key = new;
        }
        self.commit_delivery(msg, None);
        Ok(out)
    }

    /// Receives one encoded envelope (from its author or forwarded by
    /// anyone) and delivers everything that became deliverable, consulting
    /// `membership` for each message just before its delivery.
    ///
    /// Errors concern the received message itself and leave the state
    /// unchanged; problems with buffered messages it unblocked are reported
    /// in [`Receipt::events`]. A duplicate is not an error (`duplicate`).
    pub fn receive(
        &mut self,
        bytes: &[u8],
        membership: &impl MembershipCheck,
    ) -> Result<Receipt, AcbError> {
        self.receive_shared(Bytes::copy_from_slice(bytes), membership)
    }

    /// [`Acb::receive`] without a copy: the store and the buffer keep (a
    /// reference to) `bytes`. A slice of a larger buffer keeps all of it
    /// alive while the envelope is held.
    pub fn receive_shared(
        &mut self,
        bytes: Bytes,
        membership: &impl MembershipCheck,
    ) -> Result<Receipt, AcbError> {
        let msg = self.check(bytes)?;
        let Some((msg, key)) = msg else {
            return Ok(Receipt {
                duplicate: true,
                ..Receipt::default()
            });
        };
        // Immediately deliverable: check membership now, so a non-member's
        // message is an error for this call (and the state is untouched).
        if matches!(self.unmet(msg.envelope(), key), Unmet::Nothing)
            && !self.buffer.has_ready()
            && !membership.is_member(&msg.envelope().sender, &msg.envelope().parents)
        {
            return Err(AcbError::NonMember {
                id: msg.id(),
                sender: msg.envelope().sender,
            });
        }
        self.admit(msg, key);
        let mut receipt = Receipt::default();
        while let Some(d) = self.deliver_next(membership) {
            receipt.delivered.push(d);
        }
        receipt.events = self.take_events();
        Ok(receipt)
    }

    /// First half of [`Acb::receive`]: checks one envelope and buffers it,
    /// without delivering. Then call [`Acb::deliver_next`] until it returns
    /// `None`, updating the membership layer between calls.
    pub fn accept(&mut self, bytes: &[u8]) -> Result<Accepted, AcbError> {
        self.accept_shared(Bytes::copy_from_slice(bytes))
    }

    /// [`Acb::accept`] without a copy (see [`Acb::receive_shared`]).
    pub fn accept_shared(&mut self, bytes: Bytes) -> Result<Accepted, AcbError> {
        match self.check(bytes)? {
            None => Ok(Accepted::Duplicate),
            Some((msg, key)) => Ok(if self.admit(msg, key) {
                Accepted::Ready
            } else {
                Accepted::Waiting
            }),
        }
    }

    /// Delivers the next message whose predecessors are all delivered, or
    /// returns `None` if there is none. Messages that fail their delivery-time
    /// checks (membership, key in effect) are skipped and
    /// reported through [`Acb::take_events`].
    pub fn deliver_next(&mut self, membership: &impl MembershipCheck) -> Option<Delivered> {
        while let Some(entry) = self.buffer.pop_ready() {
            let id = entry.msg.id();
            let env = entry.msg.envelope();
            let sender = env.sender;
            match self.delivery_check(&entry.msg, entry.verified_with, membership) {
                Ok(fork) => return Some(self.commit_delivery(entry.msg, fork)),
                Err(error) => {
                    let seq = env.seq;
                    self.push_event(AcbEvent::Rejected { id, sender, error });
                    self.reject_cascade(id, sender, seq);
                }
            }
        }
        None
    }

    /// Reports since the last call: buffered messages rejected, evicted or
    /// expired. Bounded: the oldest reports are dropped beyond
    /// `buffer_max_count + rejected_memory` entries.
    pub fn take_events(&mut self) -> Vec<AcbEvent> {
        self.events.drain(..).collect()
    }

    // ----- internals -----

    /// Validates `bytes` without changing the state. `Ok(None)`: duplicate.
    fn check(
        &self,
        bytes: Bytes,
    ) -> Result<Option<(SignedEnvelope, Option<VerifyingKey>)>, AcbError> {
        let msg = SignedEnvelope::decode_with(bytes, self.config.decode_limits())?;
        let id = msg.id();
        if self.delivered.contains_key(&id) || self.buffer.contains(&id) {
            return Ok(None);
        }
        let env = msg.envelope();
        let sender = env.sender;
        let seq = env.seq;
        let st = self
            .senders
            .get(&sender)
            .ok_or(AcbError::UnknownSender { sender })?;
        if let Some(parent) = env.parents.iter().find(|p| self.rejected.contains(p)) {
            return Err(AcbError::UnsatisfiableParent {
                id,
                parent: *parent,
            });
        }
        let verified_with = if seq <= st.delivered_seq {
            // The seq is taken on the main line: a second message validly
            // signed under that seq's key (or continuing a fork) is a fork,
            // kept so that what names it can be delivered (fork.rs); a
            // forgery is reported as such.
            match st
                .key_for(seq)
                .filter(|k| msg.verify(k))
                .or_else(|| fork::fork_key(&st.forks, &msg))
            {
                Some(k) => Some(k),
                None => return Err(classify_bad_signature(&msg, st)),
            }
        } else {
            let (definitive, tentative) = self.key_outlook(&sender, st, seq);
            match tentative {
                Some(k) if msg.verify(&k) => Some(k),
                _ => match fork::fork_key(&st.forks, &msg) {
                    Some(k) => Some(k),
                    None if definitive => return Err(classify_bad_signature(&msg, st)),
                    None => None,
                },
            }
        };
        // Bounds apply to messages that will wait. A deliverable message
        // (which may be the one unblocking a full share) passes through.
        let waits = !matches!(self.unmet(env, verified_with), Unmet::Nothing);
        let (count, unverified) = self.buffer.counts(&sender);
        let limit = if !waits {
            None
        } else if verified_with.is_none()
            && unverified >= self.config.buffer_max_unverified_per_sender
        {
            Some(BufferLimit::UnverifiedPerSender)
        } else if count >= self.config.buffer_max_per_sender {
            Some(BufferLimit::PerSender)
        } else if msg.bytes().len() > self.config.buffer_max_bytes {
            Some(BufferLimit::Bytes)
        } else if self.config.buffer_max_count == 0 {
            Some(BufferLimit::Count)
        } else {
            None
        };
        if let Some(limit) = limit {
            return Err(AcbError::BufferFull { id, sender, limit });
        }
        Ok(Some((msg, verified_with)))
    }

    /// The key `seq` of `sender` should be signed with, as far as known, and
    /// whether that is certain (every earlier seq delivered or waiting with
    /// a verified signature, so no unseen rotation can intervene).
    fn key_outlook(
        &self,
        sender: &MemberId,
        st: &SenderState,
        seq: u64,
    ) -> (bool, Option<VerifyingKey>) {
        let mut key = st.current_key();
        let mut definitive = true;
        let mut expect = st.delivered_seq.saturating_add(1);
        if let Some(seqs) = self.buffer.of_sender(sender) {
            for (&s, ids) in seqs.range(expect..seq) {
                if s != expect {
                    definitive = false;
                }
                let verified = ids
                    .iter()
                    .filter_map(|id| self.buffer.get(id))
                    .find(|e| e.verified_with.is_some());
                match verified {
                    Some(e) => {
                        if let Some(k) = e.msg.envelope().new_signing_key {
                            key = Some(k);
                        }
                    }
                    None => definitive = false,
                }
                expect = s.saturating_add(1);
            }
        }
        if expect != seq {
            definitive = false;
        }
        (definitive, key)
    }

    /// The first dependency of `env` that is not delivered. The sender's
    /// previous seq is met by its main line, or, for a message verified
    /// under a fork tip's key (`verified_with`), by that fork.
    fn unmet(&self, env: &Envelope, verified_with: Option<VerifyingKey>) -> Unmet {
        if !self.rejected.is_empty()
            && let Some(p) = env.parents.iter().find(|p| self.rejected.contains(p))
        {
            return Unmet::Rejected(*p);
        }
        let st = self.senders.get(&env.sender);
        let delivered_seq = st.map(|s| s.delivered_seq).unwrap_or(0);
        if env.seq > 1 && delivered_seq < env.seq - 1 {
            let on_fork = match (st, verified_with) {
                (Some(st), Some(k)) => fork::is_tip(&st.forks, env.seq - 1, &k),
                _ => false,
            };
            if !on_fork {
                return Unmet::Dep(Dep::Seq(env.sender, env.seq - 1));
            }
        }
        match env.parents.iter().find(|p| !self.delivered.contains_key(p)) {
            Some(p) => Unmet::Dep(Dep::Id(*p)),
            None => Unmet::Nothing,
        }
    }

    /// Buffers a checked message (after expiring and evicting as needed).
    /// Returns true if it is ready.
    fn admit(&mut self, msg: SignedEnvelope, verified_with: Option<VerifyingKey>) -> bool {
        self.tick = self.tick.saturating_add(1);
        self.expire();
        let len = msg.bytes().len();
        // A message that is deliverable at once does not wait, so it does
        // not make room (it passes through the buffer only until the next
        // `deliver_next`).
        // Evicting waiting messages changes neither what is delivered nor
        // what is rejected, so this stays valid below.
        let unmet = self.unmet(msg.envelope(), verified_with);
        let ready = matches!(unmet, Unmet::Nothing);
        while !ready
            && self.buffer.len() > 0
            && (self.buffer.len() >= self.config.buffer_max_count
                || self.buffer.bytes() + len > self.config.buffer_max_bytes)
        {
            let limit = if self.buffer.len() >= self.config.buffer_max_count {
                BufferLimit::Count
            } else {
                BufferLimit::Bytes
            };
            let Some(old) = self.buffer.oldest().map(|e| e.msg.id()) else {
                break;
            };
            if let Some(e) = self.buffer.remove(&old) {
                self.push_event(AcbEvent::Evicted {
                    id: old,
                    sender: e.msg.envelope().sender,
                    limit,
                });
            }
        }
        match unmet {
            Unmet::Nothing => {
                self.buffer.insert(msg, verified_with, self.tick, None);
                true
            }
            Unmet::Dep(d) => {
                self.buffer.insert(msg, verified_with, self.tick, Some(d));
                false
            }
            Unmet::Rejected(parent) => {
                // Not reachable from `check`, which rejects these; kept total.
                let id = msg.id();
                self.push_event(AcbEvent::Rejected {
                    id,
                    sender: msg.envelope().sender,
                    error: AcbError::UnsatisfiableParent { id, parent },
                });
                false
            }
        }
    }

    /// Drops messages that waited longer than `buffer_max_age`.
    fn expire(&mut self) {
        let max_age = self.config.buffer_max_age;
        loop {
            let Some(e) = self.buffer.oldest() else {
                return;
            };
            if e.arrived.saturating_add(max_age) >= self.tick {
                return;
            }
            let id = e.msg.id();
            if let Some(e) = self.buffer.remove(&id) {
                let missing = e
                    .msg
                    .envelope()
                    .parents
                    .iter()
                    .filter(|p| !self.delivered.contains_key(p))
                    .copied()
                    .collect();
                self.push_event(AcbEvent::Expired {
                    id,
                    sender: e.msg.envelope().sender,
                    missing,
                });
            }
        }
    }

    /// The checks made when all predecessors are delivered. `Ok(None)`:
    /// the next message of the sender's main line; `Ok(Some(key))`: a fork
    /// (fork.rs), verified under `key`.
    fn delivery_check(
        &self,
        msg: &SignedEnvelope,
        verified_with: Option<VerifyingKey>,
        membership: &impl MembershipCheck,
    ) -> Result<Option<VerifyingKey>, AcbError> {
        let env = msg.envelope();
        let id = msg.id();
        let st = self
            .senders
            .get(&env.sender)
            .ok_or(AcbError::UnknownSender { sender: env.sender })?;
        let verifies = |k: &VerifyingKey| verified_with == Some(*k) || msg.verify(k);
        let branch = if env.seq == st.delivered_seq.saturating_add(1)
            && st.current_key().is_some_and(|k| verifies(&k))
        {
            None
        } else {
            let key = if env.seq <= st.delivered_seq {
                st.key_for(env.seq).filter(verifies)
            } else {
                None
            };
            let key = key
                .or_else(|| {
                    verified_with.filter(|k| fork::is_tip(&st.forks, env.seq.saturating_sub(1), k))
                })
                .or_else(|| fork::fork_key(&st.forks, msg));
            match key {
                Some(k) => Some(k),
                None => return Err(classify_bad_signature(msg, st)),
            }
        };
        if !membership.is_member(&env.sender, &env.parents) {
            return Err(AcbError::NonMember {
                id,
                sender: env.sender,
            });
        }
        Ok(branch)
    }

    /// Marks a message delivered and wakes what waited on it. `fork`: it is
    /// a fork verified under that key (see [`Acb::delivery_check`]).
    fn commit_delivery(&mut self, msg: SignedEnvelope, fork: Option<VerifyingKey>) -> Delivered {
        let id = msg.id();
        let kind = fork.map(|key| {
            let current = self.current_key_of(&msg.envelope().sender) == Some(key);
            self.note_fork(&msg, key);
            if current {
                Fork::CurrentKey
            } else {
                Fork::OtherKey
            }
        });
        let (env, bytes) = msg.into_parts();
        self.delivered.insert(id, (env.sender, env.seq));
        if fork.is_none() {
            self.delivered_by_seq.insert((env.sender, env.seq), id);
        }
        if !env.leaf {
            for p in &env.parents {
                self.heads.remove(p);
            }
            self.heads.insert(id);
        }
        if fork.is_none()
            && let Some(st) = self.senders.get_mut(&env.sender)
        {
            st.delivered_seq = env.seq;
            if let Some(k) = env.new_signing_key {
                st.keys.push(KeyEpoch {
                    from_seq: env.seq.saturating_add(1),
                    key: k,
                    proof: env.rotation_proof,
                });
            }
        }
        self.store.insert(
            id,
            bytes,
            self.config.store_max_count,
            self.config.store_max_bytes,
        );
        let deps = [Dep::Id(id), Dep::Seq(env.sender, env.seq)];
        for dep in deps {
            for woken in self.buffer.wake(&dep) {
                self.requeue(woken);
            }
        }
        Delivered::from_envelope(id, env, &self.me, kind)
    }

    /// Records a fork being delivered: its tip, and the evidence if it
    /// conflicts with the main line's message at its seq (signed by the
    /// same key).
    fn note_fork(&mut self, msg: &SignedEnvelope, key: VerifyingKey) {
        let env = msg.envelope();
        let (sender, seq) = (env.sender, env.seq);
        let tip = ForkTip {
            seq,
            key_after: env.new_signing_key.unwrap_or(key),
        };
        let Some(st) = self.senders.get_mut(&sender) else {
            return;
        };
        fork::push_tip(&mut st.forks, tip);
        if st.key_for(seq) != Some(key) || seq > st.delivered_seq {
            // Continues a fork (its conflict was reported at the fork).
            return;
        }
        let Some(existing) = self.delivered_by_seq.get(&(sender, seq)).copied() else {
            return;
        };
        let evidence = self
            .store
            .get(&existing)
            .and_then(|b| SignedEnvelope::decode_with(b.clone(), self.config.decode_limits()).ok())
            .and_then(|first| Equivocation::new(first, msg.clone()).ok())
            .map(Box::new);
        self.push_event(AcbEvent::Equivocation {
            id: msg.id(),
            sender,
            seq,
            existing,
            evidence,
        });
    }

    /// Re-examines a woken entry: wait on its next dependency, or ready.
    fn requeue(&mut self, id: MessageId) {
        let Some(entry) = self.buffer.get(&id) else {
            return;
        };
        let mut verified_with = entry.verified_with;
        if verified_with.is_none() {
            // It may continue a fork delivered since it arrived.
            let key = self
                .senders
                .get(&entry.msg.envelope().sender)
                .and_then(|st| fork::fork_key(&st.forks, &entry.msg));
            if let Some(k) = key {
                self.buffer.set_verified(&id, k);
                verified_with = Some(k);
            }
        }
        let Some(entry) = self.buffer.get(&id) else {
            return;
        };
        match self.unmet(entry.msg.envelope(), verified_with) {
            Unmet::Nothing => self.buffer.make_ready(id),
            Unmet::Dep(d) => self.buffer.wait(id, d),
            Unmet::Rejected(parent) => {
                if let Some(e) = self.buffer.remove(&id) {
                    let (sender, seq) = (e.msg.envelope().sender, e.msg.envelope().seq);
                    self.push_event(AcbEvent::Rejected {
                        id,
                        sender,
                        error: AcbError::UnsatisfiableParent { id, parent },
                    });
                    self.reject_cascade(id, sender, seq);
                }
            }
        }
    }

    /// Remembers `root` as rejected and drops every waiting message that
    /// depends on it (transitively). Messages waiting on the root's
    /// `(sender, seq)` slot are re-examined: they may name the root as a
    /// parent too, or wait for another message in that slot.
    fn reject_cascade(&mut self, root: MessageId, sender: MemberId, seq: u64) {
        let mut work = vec![(root, sender, seq)];
        while let Some((parent, p_sender, p_seq)) = work.pop() {
            self.remember_rejected(parent);
            let mut woken = self.buffer.wake(&Dep::Id(parent));
            woken.extend(self.buffer.wake(&Dep::Seq(p_sender, p_seq)));
            for id in woken {
                let Some(e) = self.buffer.get(&id) else {
                    continue;
                };
                match self.unmet(e.msg.envelope(), e.verified_with) {
                    Unmet::Nothing => self.buffer.make_ready(id),
                    Unmet::Dep(d) => self.buffer.wait(id, d),
                    Unmet::Rejected(parent) => {
                        if let Some(e) = self.buffer.remove(&id) {
                            let env = e.msg.envelope();
                            self.push_event(AcbEvent::Rejected {
                                id,
                                sender: env.sender,
                                error: AcbError::UnsatisfiableParent { id, parent },
                            });
                            work.push((id, env.sender, env.seq));
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn remember_rejected_pub(&mut self, id: MessageId) {
        self.remember_rejected(id);
    }

    /// Puts a persisted waiting message back (no bounds, no expiry).
    pub(crate) fn restore_buffered(
        &mut self,
        msg: SignedEnvelope,
        verified_with: Option<VerifyingKey>,
        arrived: u64,
    ) {
        let dep = match self.unmet(msg.envelope(), verified_with) {
            Unmet::Dep(d) => Some(d),
            Unmet::Nothing | Unmet::Rejected(_) => None,
        };
        self.buffer.insert(msg, verified_with, arrived, dep);
    }

    fn remember_rejected(&mut self, id: MessageId) {
        if self.config.rejected_memory == 0 || !self.rejected.insert(id) {
            return;
        }
        self.rejected_order.push_back(id);
        while self.rejected_order.len() > self.config.rejected_memory {
            if let Some(old) = self.rejected_order.pop_front() {
                self.rejected.remove(&old);
            }
        }
    }

    fn push_event(&mut self, event: AcbEvent) {
        self.events.push_back(event);
        let cap = self
            .config
            .buffer_max_count
            .saturating_add(self.config.rejected_memory)
            .max(1);
        while self.events.len() > cap {
            self.events.pop_front();
        }
    }
}

/// Why `msg` does not verify under the key in effect: signed by a key the
/// sender rotated away from before `seq`, or simply bad.
fn classify_bad_signature(msg: &SignedEnvelope, st: &SenderState) -> AcbError {
    let env = msg.envelope();
    for pair in st.keys.windows(2) {
        let (old, next) = (pair[0], pair[1]);
        let valid_until = next.from_seq.saturating_sub(1);
        if valid_until < env.seq && msg.verify(&old.key) {
            return AcbError::RotatedOutKey {
                id: msg.id(),
                sender: env.sender,
                seq: env.seq,
                valid_until,
            };
        }
    }
    AcbError::BadSignature {
        id: msg.id(),
        sender: env.sender,
        seq: env.seq,
    }
}
