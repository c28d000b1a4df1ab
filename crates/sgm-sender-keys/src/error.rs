//! The crate's one error type.

use sgm_2sm::TwoSmError;
use sgm_crypto::{CryptoError, MemberId};
use thiserror::Error;

/// Everything that can go wrong in the Sender Keys and pairwise baselines.
///
/// Every method that returns this error leaves the member's state exactly as
/// it was. Variants fall into *input errors* (the bytes or their sender were
/// wrong: [`SenderKeysError::is_peer_misbehaviour`]) and *API misuse*.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SenderKeysError {
    // ---- input errors ----
    /// The bytes do not decode as the expected structure.
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// The message names a format version this implementation does not speak.
    #[error("unsupported version {0}")]
    UnsupportedVersion(u8),
    /// The message is for another group (another distribution id).
    #[error("message for another group")]
    WrongGroup,
    /// The group message's signature does not verify under the sender key's
    /// signing key: forged or tampered.
    #[error("signature of {sender}'s group message does not verify")]
    BadSignature {
        /// The claimed sender.
        sender: MemberId,
    },
    /// The ciphertext did not authenticate under its message key.
    #[error("group message from {sender} does not decrypt")]
    DecryptionFailed {
        /// The claimed sender.
        sender: MemberId,
    },
    /// No sender key of this sender with this chain id is held (never
    /// received, rotated out of the last [`crate::MAX_SENDER_KEY_STATES`],
    /// or deleted on a removal).
    #[error("no sender key of {sender} with chain id {chain_id}")]
    UnknownChain {
        /// The claimed sender.
        sender: MemberId,
        /// The message's chain id.
        chain_id: u32,
    },
    /// The message's key was used already or not kept: a duplicate, a replay,
    /// or a message older than the last [`crate::MAX_MESSAGE_KEYS`] skipped.
    #[error("duplicate or expired message: iteration {iteration}, chain at {current}")]
    DuplicateMessage {
        /// The message's iteration.
        iteration: u32,
        /// The chain's next iteration.
        current: u32,
    },
    /// The message is more than [`crate::MAX_FORWARD_JUMPS`] iterations
    /// ahead of the chain.
    #[error("message {jump} iterations ahead (at most {max})")]
    TooFarAhead {
        /// How far ahead.
        jump: u32,
        /// The bound.
        max: u32,
    },
    /// The sender is not a member in this member's view.
    #[error("{0} is not a member")]
    NotAMember(MemberId),
    /// A welcome or control message from someone who may not send it.
    #[error("control message from {0}, who may not send it")]
    UnexpectedControl(MemberId),
    /// Too many senders' keys held (bound [`crate::MAX_SENDERS`]).
    #[error("too many senders")]
    TooManySenders,
    /// The pairwise channel refused the message.
    #[error("pairwise channel: {0}")]
    Channel(#[from] TwoSmError),
    /// A primitive failed on input.
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),

    // ---- API misuse ----
    /// The member is not in a group (never joined, or removed).
    #[error("not in a group")]
    NoGroup,
    /// The member is in a group already.
    #[error("already in a group")]
    AlreadyInGroup,
    /// A membership change that does not apply (adding a member, removing a
    /// non-member or oneself).
    #[error("invalid membership change for {0}")]
    InvalidMembershipChange(MemberId),
    /// No prekey bundle could be fetched for a member.
    #[error("no prekey bundle for {0}")]
    NoPrekeys(MemberId),
    /// The chain would pass 2³² iterations.
    #[error("chain exhausted")]
    ChainExhausted,
}

impl SenderKeysError {
    /// Whether the error was caused by input (a peer or the network), not by
    /// the local caller.
    pub fn is_peer_misbehaviour(&self) -> bool {
        match self {
            Self::Channel(e) => e.is_peer_misbehaviour(),
            Self::NoGroup
            | Self::AlreadyInGroup
            | Self::InvalidMembershipChange(_)
            | Self::NoPrekeys(_)
            | Self::ChainExhausted => false,
            _ => true,
        }
    }
}

/// Result with [`SenderKeysError`].
pub type Result<T> = std::result::Result<T, SenderKeysError>;
