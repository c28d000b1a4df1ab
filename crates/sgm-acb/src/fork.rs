//! Equivocation: two different messages of one sender with one sequence
//! number, and the evidence of it.
//!
//! A sender that restores two copies of its state (or whose key for a
//! seq leaked) can sign two different messages with the same `seq` and
//! show each to different members. Rejecting the second one split the
//! group for good: each honest member's later messages named an envelope
//! the other had rejected. ACB therefore keeps both branches of the
//! sender's line in its hash-linked DAG (Kleppmann & Howard, "Byzantine
//! Eventual Consistency", 2020): the message first delivered at a
//! `(sender, seq)` continues the sender's **main line**, a later, validly
//! signed one is delivered as a **fork** ([`crate::Delivered::fork`]) so
//! that everything naming it can be delivered too, and an
//! [`Equivocation`] (both signed envelopes) is reported as evidence
//! ([`crate::AcbEvent::Equivocation`]).
//!
//! ```text
//!            ┌─ A (seq n) ── b1        bob: A main, B fork
//!  ... m ────┤                         carol: B main, A fork
//!            └─ B (seq n) ── c1        both deliver {A, B, b1, c1}
//! ```
//!
//! Keys: a fork never changes the sender's key chain (a key announced on
//! a fork is not the key of the main line). It is remembered as a
//! **fork tip** `(seq, key after it)`, under which the fork's own next
//! message (seq + 1) verifies; that message is a fork too. So a key the
//! sender rotated away from can, at most, add fork messages (delivered
//! for causality, reported, their payload for the layer above to ignore),
//! never main-line messages: post-compromise security of the signing key
//! holds for what the layer above processes.
//!
//! Evidence encoding (documented in docs/acb.md):
//!
//! ```text
//! evidence = version (1 byte, = 1) ‖ len ‖ envelope ‖ len ‖ envelope
//!            (the two envelopes of one sender and one seq, different,
//!             ascending by message id; len = minimal LEB128)
//! ```

use bytes::Bytes;
use sgm_crypto::{MemberId, VerifyingKey};

use crate::body_codec::{Reader, put_len_prefixed};
use crate::wire::DecodeLimits;
use crate::{AcbConfig, AcbError, Malformed, MessageId, SignedEnvelope};

/// Version byte of the [`Equivocation`] encoding.
pub const EQUIVOCATION_VERSION: u8 = 1;

/// Most fork tips kept per sender (the oldest is forgotten beyond): a fork
/// whose tip was forgotten cannot be continued here.
pub const MAX_FORK_TIPS: usize = 64;

/// Transferable evidence that a sender signed two different messages with
/// one sequence number: both signed envelopes. Anyone who knows the
/// sender's key for that seq can check it ([`Equivocation::verify`]); for
/// the sender's first key epoch that is its identity key
/// ([`Equivocation::verify_identity`]).
///
/// It proves that the key signed both: the sender equivocated (for
/// example by restoring an old copy of its state), or that key leaked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equivocation {
    /// Ascending by id.
    first: SignedEnvelope,
    second: SignedEnvelope,
}

impl Equivocation {
    /// Evidence from two envelopes of one sender with one seq. Checks that
    /// they conflict (same sender and seq, different messages), not their
    /// signatures: see [`Equivocation::verify`].
    pub fn new(a: SignedEnvelope, b: SignedEnvelope) -> Result<Self, AcbError> {
        let (ea, eb) = (a.envelope(), b.envelope());
        if ea.sender != eb.sender || ea.seq != eb.seq || a.id() == b.id() {
            return Err(AcbError::Malformed(Malformed::NotAnEquivocation));
        }
        let (first, second) = if a.id() < b.id() { (a, b) } else { (b, a) };
        Ok(Self { first, second })
    }

    /// The sender that equivocated.
    pub fn sender(&self) -> MemberId {
        self.first.envelope().sender
    }

    /// The sequence number it used twice.
    pub fn seq(&self) -> u64 {
        self.first.envelope().seq
    }

    /// The two message ids, ascending.
    pub fn ids(&self) -> [MessageId; 2] {
        [self.first.id(), self.second.id()]
    }

    /// The two signed envelopes, ascending by id.
    pub fn envelopes(&self) -> [&SignedEnvelope; 2] {
        [&self.first, &self.second]
    }

    /// Checks both signatures under `key`, the sender's key for
    /// [`Equivocation::seq`] (for example [`crate::Acb::key_for`]).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), AcbError> {
        for m in [&self.first, &self.second] {
            if !m.verify(key) {
                return Err(AcbError::BadSignature {
                    id: m.id(),
                    sender: m.envelope().sender,
                    seq: m.envelope().seq,
                });
            }
        }
        Ok(())
    }

    /// [`Equivocation::verify`] for a seq signed with the sender's identity
    /// key (before its first rotation): also checks that the sender id is
    /// the one derived from `identity`.
    pub fn verify_identity(&self, identity: &VerifyingKey) -> Result<(), AcbError> {
        let derived = MemberId::from_identity_key(identity);
        if derived != self.sender() {
            return Err(AcbError::BadSignature {
                id: self.first.id(),
                sender: self.sender(),
                seq: self.seq(),
            });
        }
        self.verify(identity)
    }

    /// The encoding (module docs; docs/acb.md).
    pub fn encode(&self) -> Vec<u8> {
        let (a, b) = (self.first.bytes(), self.second.bytes());
        let mut out = Vec::with_capacity(1 + 10 + a.len() + 10 + b.len());
        out.push(EQUIVOCATION_VERSION);
        put_len_prefixed(&mut out, a);
        put_len_prefixed(&mut out, b);
        out
    }

    /// Strict decoding under the default [`AcbConfig`] limits: version 1,
    /// two canonical envelopes that conflict, ascending by id, nothing
    /// after them. Signatures are not checked ([`Equivocation::verify`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, AcbError> {
        Self::decode_with(bytes, AcbConfig::default().decode_limits())
    }

    pub(crate) fn decode_with(bytes: &[u8], limits: DecodeLimits) -> Result<Self, AcbError> {
        let mut r = Reader::new(bytes);
        let version = r.byte().map_err(AcbError::Malformed)?;
        if version != EQUIVOCATION_VERSION {
            return Err(AcbError::UnsupportedVersion {
                version: u32::from(version),
            });
        }
        let a = r.len_prefixed().map_err(AcbError::Malformed)?;
        let b = r.len_prefixed().map_err(AcbError::Malformed)?;
        r.finish().map_err(AcbError::Malformed)?;
        let a = SignedEnvelope::decode_with(Bytes::copy_from_slice(a), limits)?;
        let b = SignedEnvelope::decode_with(Bytes::copy_from_slice(b), limits)?;
        if a.id() >= b.id() {
            return Err(AcbError::Malformed(Malformed::NotCanonical));
        }
        Self::new(a, b)
    }
}

/// How a message delivered as a fork ([`crate::Delivered::fork`]) was
/// signed, which tells who could have made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fork {
    /// By the key the sender's main line uses now: only whoever holds the
    /// sender's current key (the sender itself, running a restored copy
    /// of its state) could sign it. The layer above may process its
    /// payload where it does not conflict with what it processed.
    CurrentKey,
    /// By a key the main line rotated away from, or one announced on a
    /// fork only: whoever learned an old key could sign it. Its payload
    /// should not be processed (post-compromise security).
    OtherKey,
}

/// A delivered fork message of one sender: its seq and the key its
/// successor on that fork must be signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ForkTip {
    pub(crate) seq: u64,
    pub(crate) key_after: VerifyingKey,
}

/// Remembers a fork tip, forgetting the oldest beyond [`MAX_FORK_TIPS`].
pub(crate) fn push_tip(tips: &mut Vec<ForkTip>, tip: ForkTip) {
    if tips.contains(&tip) {
        return;
    }
    tips.push(tip);
    if tips.len() > MAX_FORK_TIPS {
        tips.remove(0);
    }
}

/// The fork-tip key at `seq - 1` under which `msg` verifies, if any.
pub(crate) fn fork_key(tips: &[ForkTip], msg: &SignedEnvelope) -> Option<VerifyingKey> {
    let prev = msg.envelope().seq.checked_sub(1)?;
    tips.iter()
        .filter(|t| t.seq == prev)
        .map(|t| t.key_after)
        .find(|k| msg.verify(k))
}

/// Whether `key` is the key after a fork tip at `seq`.
pub(crate) fn is_tip(tips: &[ForkTip], seq: u64, key: &VerifyingKey) -> bool {
    tips.iter().any(|t| t.seq == seq && t.key_after == *key)
}
