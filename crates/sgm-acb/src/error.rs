//! Errors and events.

use sgm_crypto::MemberId;
use thiserror::Error;

use crate::MessageId;

/// What was wrong with bytes that do not decode as an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The encoding is not the canonical one (trailing bytes, a non-minimal
    /// integer, an unknown rotation marker).
    #[error("not the canonical encoding")]
    NotCanonical,
    /// Ends before a field it announces (or before the version byte and
    /// signature), or announces more elements than the bytes left can hold.
    #[error("truncated: a field runs past the end")]
    Truncated,
    /// The sender id is not 16 bytes.
    #[error("sender id is not 16 bytes")]
    SenderLength,
    /// Sequence numbers start at 1.
    #[error("sequence number 0")]
    ZeroSeq,
    /// A parent id is not 32 bytes.
    #[error("parent id is not 32 bytes")]
    ParentLength,
    /// Parents are not strictly ascending (unsorted or repeated).
    #[error("parents not strictly ascending")]
    ParentsNotAscending,
    /// More parents than the configured bound.
    #[error("{count} parents, at most {max} allowed")]
    TooManyParents {
        /// Parents in the message.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// A direct-part recipient id is not 16 bytes.
    #[error("recipient id is not 16 bytes")]
    RecipientLength,
    /// Direct parts not strictly ascending by recipient.
    #[error("direct parts not strictly ascending by recipient")]
    RecipientsNotAscending,
    /// More direct parts than the configured bound.
    #[error("{count} direct parts, at most {max} allowed")]
    TooManyDirectParts {
        /// Parts in the message.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// The announced signing key is not a valid Ed25519 public key.
    #[error("announced signing key is not a valid Ed25519 key")]
    NewSigningKey,
    /// Equivocation evidence whose two envelopes do not conflict (another
    /// sender or seq, or the same message twice).
    #[error("the two envelopes are not an equivocation")]
    NotAnEquivocation,
}

/// Which buffer bound was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BufferLimit {
    /// `buffer_max_count`.
    Count,
    /// `buffer_max_bytes`.
    Bytes,
    /// `buffer_max_per_sender`.
    PerSender,
    /// `buffer_max_unverified_per_sender`.
    UnverifiedPerSender,
}

/// Errors of the ACB layer.
///
/// Peer misbehaviour (bad signature, malformed, non-member, ...) and API
/// misuse by the caller ([`AcbError::Api`]) are separate variants.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AcbError {
    /// The bytes are not a well-formed envelope.
    #[error("malformed envelope: {0}")]
    Malformed(Malformed),
    /// The envelope has a body version this implementation does not know.
    #[error("unsupported envelope version {version}")]
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// The envelope is larger than `max_message_bytes`.
    #[error("message of {size} bytes exceeds the bound of {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The bound.
        max: usize,
    },
    /// A checkpoint's key chain for `sender` is not provable from the
    /// sender's own signatures: its first key is not the one the id is
    /// derived from, or a rotation's proof does not verify under the key
    /// before it, or its seqs are out of order (a malicious adder assigning
    /// a member a key; issue 10 item 4).
    #[error("checkpoint key chain of {sender:?} is not the sender's own")]
    BadKeyChain {
        /// The sender whose chain is bad.
        sender: MemberId,
    },
    /// No verifying key is registered for the sender.
    #[error("unknown sender {sender:?}")]
    UnknownSender {
        /// The claimed sender.
        sender: MemberId,
    },
    /// The signature does not verify under the sender's key for that `seq`.
    #[error("bad signature on {id:?} from {sender:?} seq {seq}")]
    BadSignature {
        /// The message.
        id: MessageId,
        /// The claimed sender.
        sender: MemberId,
        /// Its sequence number.
        seq: u64,
    },
    /// The message is signed by a key the sender rotated away from before
    /// `seq` (paper §5.1: the old key is rejected after a PCS update).
    #[error("{sender:?} seq {seq} is signed by a key rotated out after seq {valid_until}")]
    RotatedOutKey {
        /// The message.
        id: MessageId,
        /// The sender.
        sender: MemberId,
        /// Its sequence number.
        seq: u64,
        /// The last seq the used key was valid for.
        valid_until: u64,
    },
    /// The membership check says the sender is not a member at the point of
    /// causal history the message refers to.
    #[error("{sender:?} is not a member (message {id:?})")]
    NonMember {
        /// The message.
        id: MessageId,
        /// The sender.
        sender: MemberId,
    },
    /// The message depends on a message that was rejected, so it can never
    /// be delivered.
    #[error("{id:?} depends on rejected {parent:?}")]
    UnsatisfiableParent {
        /// The message.
        id: MessageId,
        /// The rejected predecessor.
        parent: MessageId,
    },
    /// Buffering the message would exceed a bound that the message itself
    /// is responsible for (its sender's share, or it alone exceeds the byte
    /// bound). Re-send it later.
    #[error("buffer bound {limit:?} exceeded by {id:?} from {sender:?}")]
    BufferFull {
        /// The message.
        id: MessageId,
        /// Its sender.
        sender: MemberId,
        /// The bound.
        limit: BufferLimit,
    },
    /// The caller misused the API (see the message).
    #[error("API misuse: {0}")]
    Api(ApiMisuse),
}

/// Ways the caller can misuse the API.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApiMisuse {
    /// Two direct parts for the same recipient.
    #[error("two direct parts for {0:?}")]
    DuplicateRecipient(MemberId),
    /// A key was registered under an id that is not derived from it.
    #[error("member id {claimed:?} is not derived from the key (expected {derived:?})")]
    IdentityMismatch {
        /// The id given.
        claimed: MemberId,
        /// `MemberId::from_identity_key(key)`.
        derived: MemberId,
    },
    /// A member was registered twice with different keys.
    #[error("{0:?} is already registered with another key")]
    AlreadyRegistered(MemberId),
    /// The message we would send exceeds a configured bound.
    #[error("outgoing message exceeds a bound: {0}")]
    OutgoingTooLarge(String),
    /// The sequence number space is exhausted.
    #[error("sequence numbers exhausted")]
    SeqExhausted,
    /// A persisted state could not be decoded.
    #[error("invalid persisted state: {0}")]
    InvalidState(&'static str),
    /// A checkpoint can only be adopted by an instance that has not sent,
    /// received or delivered anything yet.
    #[error("a checkpoint can only be adopted before sending or receiving")]
    NotFresh,
}

/// Why a buffered message left the buffer without being delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcbEvent {
    /// It was checked when its predecessors were delivered and failed (bad
    /// signature, rotated-out key, non-member) or depends on a message
    /// that failed.
    Rejected {
        /// The message.
        id: MessageId,
        /// Its claimed sender.
        sender: MemberId,
        /// Why.
        error: AcbError,
    },
    /// It was dropped to keep the buffer within `buffer_max_count` /
    /// `buffer_max_bytes` (oldest first). It may be re-sent and accepted later.
    Evicted {
        /// The message.
        id: MessageId,
        /// Its sender.
        sender: MemberId,
        /// The bound.
        limit: BufferLimit,
    },
    /// It was delivered as a fork ([`crate::Delivered::fork`]): its sender
    /// signed it and the delivered `existing` with the same seq. Not a
    /// drop: reported so that the layer above can act on the evidence.
    Equivocation {
        /// The fork delivered.
        id: MessageId,
        /// The sender that equivocated.
        sender: MemberId,
        /// The seq it used twice.
        seq: u64,
        /// The message delivered first with that seq (the main line's).
        existing: MessageId,
        /// Both signed envelopes, if `existing` was still in the re-send
        /// store (bounded) to build it from.
        evidence: Option<Box<crate::Equivocation>>,
    },
    /// It waited more than `buffer_max_age` receive calls for predecessors
    /// that never arrived (forged or lost parent ids).
    Expired {
        /// The message.
        id: MessageId,
        /// Its sender.
        sender: MemberId,
        /// The predecessor ids it was still missing.
        missing: Vec<MessageId>,
    },
}
