//! The crate's one error type.

use sgm_acb::AcbError;
use sgm_crypto::MemberId;
use sgm_dcgka::DcgkaError;
use thiserror::Error;

use crate::ids::{GroupId, UserId};

/// Everything that can go wrong in the façade.
///
/// Grouped by who is at fault: the peer or the network (bad packets), the
/// caller (API misuse), or the layers below. On every error the group state
/// is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    // ---- the peer or the network ------------------------------------------
    /// The packet does not decode.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// A packet or state version this implementation does not speak.
    #[error("unsupported version {0}")]
    UnsupportedVersion(u8),
    /// The packet belongs to another group.
    #[error("packet for group {got}, this is group {expected}")]
    WrongGroup {
        /// This group.
        expected: GroupId,
        /// The packet's group.
        got: GroupId,
    },
    /// The broadcast layer refused the packet (bad signature, equivocation,
    /// buffer bounds, …).
    #[error("broadcast layer: {0}")]
    Broadcast(#[from] AcbError),
    /// A sync request that is not answered: too large, unsigned, badly
    /// signed, or replayed (see the sync-request rules in
    /// docs/messaging.md).
    #[error("sync request refused: {0}")]
    SyncRejected(&'static str),
    /// A packet holds more entries than any legitimate one of its kind
    /// (counted before decoding, so that memory follows the bytes).
    #[error("{what}: {count} entries, at most {max}")]
    TooManyEntries {
        /// Which list.
        what: &'static str,
        /// How many it holds.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// A message under a sender's old epoch arrived later than the
    /// configured bound allows ([`crate::Config::old_epoch_max_age_ms`]), or
    /// the epoch's keys were already deleted.
    #[error(
        "message from {sender:?} under epoch {epoch}, superseded {age_ms} ms ago (max {max_age_ms})"
    )]
    EpochExpired {
        /// The sender.
        sender: MemberId,
        /// The message's epoch.
        epoch: u64,
        /// How long ago the epoch was superseded.
        age_ms: u64,
        /// The bound.
        max_age_ms: u64,
    },
    /// A member card whose signature is not its identity key's (a relay
    /// or an adder edited it).
    #[error("card of {0:?} is not signed by its identity key")]
    BadCard(MemberId),
    /// The [`crate::CredentialValidator`] refused a card (from a received
    /// operation or welcome, or an invite given to `create`/`add`).
    #[error("card of {member:?} as {user} refused: {reason}")]
    CredentialRefused {
        /// The member the card describes.
        member: MemberId,
        /// The user name it claims.
        user: UserId,
        /// The validator's reason.
        reason: String,
    },
    /// A welcome for another group or from another adder than
    /// [`crate::Group::expect_welcome`] named; the expected one still can
    /// arrive.
    #[error("unexpected welcome: {0}")]
    UnexpectedWelcome(&'static str),
    /// The key-agreement layer refused a message or an operation.
    #[error("key agreement: {0}")]
    KeyAgreement(#[from] DcgkaError),

    // ---- the caller misused the API ---------------------------------------
    /// The operation needs a group this member is not (or no longer) in.
    #[error("not a member of a group")]
    NotInGroup,
    /// `create` on a member that already has a group.
    #[error("already in a group")]
    AlreadyInGroup,
    /// Adding a user who is currently a member.
    #[error("user {0} is already a member")]
    UserAlreadyMember(UserId),
    /// Removing a user who is not a current member (or oneself).
    #[error("user {0} is not a current member")]
    NotAMember(UserId),
    /// An invite whose identity is already known to the group (each add
    /// needs a fresh identity).
    #[error("identity {0:?} was already used in this group")]
    IdentityReused(MemberId),
    /// An empty batch.
    #[error("nothing to do")]
    EmptyBatch,
    /// A plaintext over [`crate::MAX_PLAINTEXT`].
    #[error("plaintext of {len} bytes exceeds {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// A persisted state that does not decode.
    #[error("persisted state: {0}")]
    State(&'static str),
}

/// Short alias.
pub type Result<T, E = Error> = core::result::Result<T, E>;
