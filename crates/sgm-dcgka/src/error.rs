//! The crate's one error type.

use sgm_crypto::{CryptoError, MemberId};
use thiserror::Error;

/// Everything that can go wrong in sgm-dcgka.
///
/// Variants are grouped by who is at fault: the peer (malformed or
/// inconsistent input), the caller (API misuse), or timing (a message that
/// can be retried once an earlier one was processed). On every error the
/// state the call was made on is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DcgkaError {
    // ---- timing: retry later -------------------------------------------
    /// An application message names an epoch (a control message of its
    /// sender) that this member has not processed yet: wait for that control
    /// message and retry.
    #[error("epoch {epoch} of {sender:?} not yet known (processed through {known:?})")]
    EpochNotYetKnown {
        /// The message's sender.
        sender: MemberId,
        /// The epoch the message names.
        epoch: u64,
        /// The newest control sequence number processed from that sender.
        known: Option<u64>,
    },

    // ---- the peer or the network misbehaved -----------------------------
    /// Bytes that do not decode as the expected message.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A wire version this implementation does not speak.
    #[error("unsupported wire version {0}")]
    UnsupportedVersion(u8),
    /// Authenticated decryption failed (wrong key, tampered ciphertext or
    /// associated data).
    #[error("decryption failed")]
    DecryptionFailed,
    /// An application message for an epoch this member has no key for: the
    /// epoch was never given to it (it was not a member then) or its keys
    /// were deleted (too old).
    #[error("no key for epoch {epoch} of {sender:?}")]
    EpochUnavailable {
        /// The message's sender.
        sender: MemberId,
        /// The epoch the message names.
        epoch: u64,
    },
    /// The message key for this index was already used (a replay) or
    /// deleted.
    #[error("message {index} of epoch {epoch} already decrypted or expired")]
    MessageKeyUsed {
        /// Epoch of the message.
        epoch: u64,
        /// Index of the message in the epoch.
        index: u64,
    },
    /// An application message skips more keys than the configured bound.
    #[error("message gap {gap} exceeds the bound {max}")]
    TooManySkipped {
        /// How many keys would have to be skipped.
        gap: u64,
        /// The configured bound.
        max: u64,
    },
    /// A control message's sequence number is not the next one expected from
    /// its sender: a replay (`got <= last`) or a gap.
    #[error("control message from {sender:?}: expected seq {expected}, got {got}")]
    UnexpectedSeq {
        /// The sender.
        sender: MemberId,
        /// The sequence number expected next.
        expected: u64,
        /// The sequence number received.
        got: u64,
    },
    /// The next sequence number of a sender would overflow: a welcome
    /// (from a malicious adder) claimed its last seq is `u64::MAX`. Every
    /// later message of that sender is refused with this error.
    #[error("control message from {sender:?}: sequence number overflow after {last}")]
    SeqOverflow {
        /// The sender.
        sender: MemberId,
        /// Its last processed seq, as claimed.
        last: u64,
    },
    /// A direct message was required by the protocol but none came.
    #[error("missing direct message ({0})")]
    MissingDirectMessage(&'static str),
    /// The direct message is of the wrong kind for this control message.
    #[error("unexpected direct message: wanted {expected}")]
    UnexpectedDirectMessage {
        /// The kind expected.
        expected: &'static str,
    },
    /// The direct message is addressed to somebody else.
    #[error("direct message for {recipient:?}, not for us")]
    NotForUs {
        /// The member it is addressed to.
        recipient: MemberId,
    },
    /// A control message refers to a message or member this state does not
    /// know (an ack of an unknown message, a sender who is no member).
    #[error("unknown reference: {0}")]
    UnknownReference(&'static str),
    /// A control message from a member this state does not consider part of
    /// the group.
    #[error("{0:?} is not a member")]
    NotAMember(MemberId),
    /// The sender is removed in the message's own causal past (it sent
    /// after its removal), or its removal is settled and its ratchet
    /// dropped (`causal.rs`, rules 1 and 3). The peer misbehaved.
    #[error("{sender:?} is removed in the message's causal past")]
    SenderRemoved {
        /// The removed sender.
        sender: MemberId,
    },
    /// An add or remove whose declared DGM parents miss a membership op of
    /// its causal past (`causal.rs`, rule 2). The peer misbehaved.
    #[error("{sender:?} declared DGM parents without {missing:?} of its causal past")]
    InconsistentParents {
        /// The sender.
        sender: MemberId,
        /// A membership op of the causal past not in the declared parents' past.
        missing: sgm_dgm::OpId,
    },
    /// A control message sent by this member itself arrived through
    /// `process` (own messages are applied when they are made).
    #[error("own control message passed to process")]
    OwnMessage,
    /// The membership layer rejected an op (for example a parent not yet
    /// applied: retry after the missing message).
    #[error("membership: {0}")]
    Membership(#[from] sgm_dgm::DgmError),
    /// The two-party layer failed.
    #[error("two-party channel with {peer:?}: {source}")]
    TwoParty {
        /// The peer.
        peer: MemberId,
        /// What went wrong.
        source: sgm_2sm::TwoSmError,
    },
    /// No prekey bundle for a peer this member must start a 2SM session
    /// with.
    #[error("no prekey bundle for {0:?}")]
    NoPrekeyBundle(MemberId),

    /// The broadcast layer (sgm-acb) refused an outgoing message.
    #[error("broadcast: {0}")]
    Broadcast(#[from] sgm_acb::AcbError),

    // ---- the caller misused the API ---------------------------------------
    /// The operation needs a group this state is not (yet) part of.
    #[error("not in a group")]
    NoGroup,
    /// `create` on a state that is already in a group.
    #[error("already in a group")]
    AlreadyInGroup,
    /// Adding a member who is already in the group, or removing one who is
    /// not, or removing oneself.
    #[error("invalid membership change for {0:?}")]
    InvalidMembershipChange(MemberId),
    /// A randomness struct did not match what the operation needs (for
    /// example too few per-recipient values).
    #[error("randomness: {0}")]
    Randomness(&'static str),
    /// Encoding or decoding the persisted state failed.
    #[error("state encoding: {0}")]
    State(&'static str),
    /// A primitive failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Short alias.
pub type Result<T, E = DcgkaError> = core::result::Result<T, E>;
