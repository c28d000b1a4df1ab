//! The causal transcript and its consistency checks (`impl/transcript.js`,
//! `helper/graph.js`), and acknowledgement tracking (`impl/liveness.js`).
//!
//! Each data message names its parents (the author's latest messages); the
//! transcript is the DAG they form. A message is added only if it passes
//! every check below, in mpenc_js's order; on failure nothing changes.
//!
//! 1. it does not reference itself;
//! 2. it is not already in the transcript;
//! 3. its author is not among its readers;
//! 4. every parent is present (the caller buffers messages until then);
//! 5. its author was a member (author or reader) of every parent: nobody
//!    references a message it could not have read ("secret parents");
//! 6. its parents are from distinct authors;
//! 7. it references (is after) the author's previous message: each
//!    author's messages are totally ordered;
//! 8. its parents form an anti-chain: no parent precedes another
//!    (`graph.js`; a redundant parent would hide a missing reference).
//!
//! Acknowledgement: reader `r` has acknowledged `m` once the transcript
//! holds a message by `r` that follows `m`. [`Transcript::ack_warnings`]
//! reports a message not acknowledged by every reader `timeout` after it was
//! added, and nothing earlier: no false alarms when the network is merely
//! slow within the bound.

use std::collections::{BTreeMap, BTreeSet};

use crate::Id;

/// A message id (20 bytes in data messages; any bytes here).
pub type MessageId = Vec<u8>;

/// A transcript entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// Its author.
    pub author: Id,
    /// Its parents.
    pub parents: BTreeSet<MessageId>,
    /// Its readers (members other than the author).
    pub readers: BTreeSet<Id>,
}

/// Why a message was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    /// Rule 1.
    #[error("message references itself")]
    SelfReference,
    /// Rule 2.
    #[error("message already in the transcript")]
    Duplicate,
    /// Rule 3.
    #[error("author is among the readers")]
    AuthorIsReader,
    /// Rule 4.
    #[error("parent {0} not in the transcript")]
    MissingParent(String),
    /// Rule 5.
    #[error("author could not have read parent {0}")]
    SecretParent(String),
    /// Rule 6.
    #[error("parents are not from distinct authors")]
    ParentsNotDistinctAuthors,
    /// Rule 7.
    #[error("message does not follow the author's previous message")]
    DoesNotFollowPrevious,
    /// Rule 8.
    #[error("parents are not an anti-chain")]
    ParentsNotAntichain,
    /// Bound on the transcript reached.
    #[error("transcript full ({0} messages)")]
    Full(usize),
}

/// A full-ack warning: `message` was not acknowledged by `missing` within
/// the timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckWarning {
    /// The message.
    pub message: MessageId,
    /// Readers that did not acknowledge it.
    pub missing: BTreeSet<Id>,
}

struct Entry {
    msg: Message,
    /// Every strict ancestor.
    ancestors: BTreeSet<MessageId>,
    added_at: u64,
    acked_by: BTreeSet<Id>,
}

/// The transcript of one session.
#[derive(Default)]
pub struct Transcript {
    entries: BTreeMap<MessageId, Entry>,
    last_by_author: BTreeMap<Id, MessageId>,
    order: Vec<MessageId>,
}

/// Bound on the messages of one transcript.
pub const MAX_TRANSCRIPT: usize = 1 << 16;

impl Transcript {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// True if `a` precedes or equals `b`.
    pub fn le(&self, a: &[u8], b: &[u8]) -> bool {
        a == b || self.entries.get(b).is_some_and(|e| e.ancestors.contains(a))
    }

    /// The latest messages (no successor): the parents of our next message.
    pub fn max(&self) -> BTreeSet<MessageId> {
        let mut out: BTreeSet<MessageId> = self.order.iter().cloned().collect();
        for e in self.entries.values() {
            for p in &e.msg.parents {
                out.remove(p);
            }
        }
        out
    }

    fn show(id: &[u8]) -> String {
        hex::encode(id)
    }

    /// Checks `msg` against rules 1-8 and adds it at time `now`.
    pub fn add(&mut self, msg: Message, now: u64) -> Result<(), TranscriptError> {
        if msg.parents.contains(&msg.id) {
            return Err(TranscriptError::SelfReference);
        }
        if self.entries.contains_key(&msg.id) {
            return Err(TranscriptError::Duplicate);
        }
        if msg.readers.contains(&msg.author) {
            return Err(TranscriptError::AuthorIsReader);
        }
        if self.order.len() >= MAX_TRANSCRIPT {
            return Err(TranscriptError::Full(MAX_TRANSCRIPT));
        }
        let mut parents = Vec::with_capacity(msg.parents.len());
        for p in &msg.parents {
            let e = self
                .entries
                .get(p)
                .ok_or_else(|| TranscriptError::MissingParent(Self::show(p)))?;
            parents.push(e);
        }
        for e in &parents {
            if e.msg.author != msg.author && !e.msg.readers.contains(&msg.author) {
                return Err(TranscriptError::SecretParent(Self::show(&e.msg.id)));
            }
        }
        let authors: BTreeSet<&Id> = parents.iter().map(|e| &e.msg.author).collect();
        if authors.len() != parents.len() {
            return Err(TranscriptError::ParentsNotDistinctAuthors);
        }
        if let Some(prev) = self.last_by_author.get(&msg.author)
            && !msg.parents.iter().any(|p| self.le(prev, p))
        {
            return Err(TranscriptError::DoesNotFollowPrevious);
        }
        for a in &msg.parents {
            for b in &msg.parents {
                if a != b && self.le(a, b) {
                    return Err(TranscriptError::ParentsNotAntichain);
                }
            }
        }
        let mut ancestors = BTreeSet::new();
        for e in &parents {
            ancestors.insert(e.msg.id.clone());
            ancestors.extend(e.ancestors.iter().cloned());
        }
        // Acknowledgements: this message acknowledges every ancestor of
        // which its author is a reader.
        for a in &ancestors {
            if let Some(e) = self.entries.get_mut(a)
                && e.msg.readers.contains(&msg.author)
            {
                e.acked_by.insert(msg.author.clone());
            }
        }
        self.last_by_author
            .insert(msg.author.clone(), msg.id.clone());
        self.order.push(msg.id.clone());
        self.entries.insert(
            msg.id.clone(),
            Entry {
                msg,
                ancestors,
                added_at: now,
                acked_by: BTreeSet::new(),
            },
        );
        Ok(())
    }

    /// Readers of `id` that have not acknowledged it.
    pub fn unacked(&self, id: &[u8]) -> Option<BTreeSet<Id>> {
        let e = self.entries.get(id)?;
        Some(e.msg.readers.difference(&e.acked_by).cloned().collect())
    }

    /// Messages by `author` not fully acknowledged `timeout` after they were
    /// added, as of `now`. Empty while every delay is within the bound.
    pub fn ack_warnings(&self, author: &[u8], now: u64, timeout: u64) -> Vec<AckWarning> {
        self.order
            .iter()
            .filter_map(|id| self.entries.get(id))
            .filter(|e| e.msg.author == author && now.saturating_sub(e.added_at) > timeout)
            .filter_map(|e| {
                let missing: BTreeSet<Id> =
                    e.msg.readers.difference(&e.acked_by).cloned().collect();
                (!missing.is_empty()).then(|| AckWarning {
                    message: e.msg.id.clone(),
                    missing,
                })
            })
            .collect()
    }
}
