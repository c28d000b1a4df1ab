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
}

mod delivery;

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
