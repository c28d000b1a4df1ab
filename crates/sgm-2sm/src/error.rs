//! The crate's one error type.

use sgm_crypto::MemberId;
use thiserror::Error;

/// Everything that can go wrong in 2SM.
///
/// Every method that returns this error leaves its state (session and
/// prekey store) exactly as it was, so the caller may drop the offending
/// input and carry on.
///
/// The variants fall into two groups (see [`TwoSmError::is_peer_misbehaviour`]):
/// *input errors*, raised by bytes from the network or a key server that are
/// wrong (malformed, forged, replayed, addressed elsewhere), and *API misuse*
/// by the local caller.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TwoSmError {
    // ---- input errors: the bytes we were given are wrong ----
    /// The bytes do not decode as the expected structure, or a field has the
    /// wrong length or an unknown value.
    #[error("malformed 2SM data: {what}")]
    Malformed {
        /// Which structure or field was wrong.
        what: &'static str,
    },
    /// The encoding names a format version this implementation does not speak.
    #[error("unsupported 2SM version {version} (this implementation speaks {supported})")]
    UnsupportedVersion {
        /// The version found.
        version: u32,
        /// The version this implementation supports.
        supported: u32,
    },
    /// The message's sequence number was already received: a replay or a
    /// duplicate delivery.
    #[error("replayed message: sequence number {seq}, expected {expected}")]
    Replay {
        /// The message's sequence number.
        seq: u64,
        /// The next sequence number this session expects.
        expected: u64,
    },
    /// A message was skipped: 2SM needs in-order delivery per direction.
    #[error("out-of-order message: sequence number {seq}, expected {expected}")]
    OutOfOrder {
        /// The message's sequence number.
        seq: u64,
        /// The next sequence number this session expects.
        expected: u64,
    },
    /// The message was encrypted to one of our key pairs that we never had or
    /// already deleted.
    #[error("unknown key index {index}")]
    UnknownKeyIndex {
        /// The index the message names.
        index: u64,
    },
    /// The message was encrypted to one of our key pairs that was evicted
    /// because more than the bound of unanswered keys were outstanding
    /// (see [`crate::MAX_PENDING_OWN_KEYS`]).
    #[error("key index {index} was evicted (oldest kept: {oldest_kept})")]
    EvictedKeyIndex {
        /// The index the message names.
        index: u64,
        /// The oldest index still kept.
        oldest_kept: u64,
    },
    /// The message was encrypted to a key the peer generated for us, but the
    /// peer never gave us one.
    #[error("message uses a peer-generated key, but none was received")]
    NoReceivedKey,
    /// Decryption failed: the ciphertext or its header was tampered with, or
    /// it was not encrypted to the key it names.
    #[error("authentication failed: ciphertext or header not authentic")]
    AuthenticationFailed,
    /// A public key in a message or bundle is unusable (a low-order point).
    #[error("invalid public key in {what}")]
    InvalidPublicKey {
        /// Where the key was found.
        what: &'static str,
    },
    /// A first-contact message names a signed prekey that this store does
    /// not hold (never published, or retired past its grace period).
    #[error("unknown signed prekey id {id}")]
    UnknownSignedPrekey {
        /// The signed prekey id the message names.
        id: u64,
    },
    /// A first-contact message names a one-time prekey that was never published.
    #[error("unknown one-time prekey id {id}")]
    UnknownOneTimePrekey {
        /// The one-time prekey id the message names.
        id: u64,
    },
    /// A first-contact message names a one-time prekey that was already used
    /// (or a key server handed the same one-time prekey out twice).
    #[error("one-time prekey {id} was already used")]
    PrekeyReused {
        /// The one-time prekey id.
        id: u64,
    },
    /// A prekey bundle's signed prekey is not signed by its identity key.
    #[error("bad signature on signed prekey {id}")]
    BadPrekeySignature {
        /// The signed prekey id.
        id: u64,
    },
    /// A first-contact message's identity signature does not verify.
    #[error("bad identity signature on first-contact message")]
    BadFirstContactSignature,
    /// An identity key does not belong to the member it was expected to be.
    #[error("identity key belongs to {actual}, expected {expected}")]
    IdentityMismatch {
        /// The member expected.
        expected: MemberId,
        /// The member the key belongs to.
        actual: MemberId,
    },
    /// A session can be created from a received message only if that
    /// message is a first-contact (prekey) message.
    #[error("not a first-contact message: a session must exist to receive it")]
    NotFirstContact,
    /// A bundle has no one-time prekey left to hand out.
    #[error("no one-time prekey left in the bundle")]
    NoOneTimePrekey,

    // ---- API misuse: the local caller did something wrong ----
    /// [`crate::SendRandomness`] does not match the session's phase (a
    /// first-contact send needs `ikm_first_contact`, a later one must not
    /// have it).
    #[error("send randomness does not match the session phase: {0}")]
    RandomnessMismatch(&'static str),
    /// A session with oneself was requested.
    #[error("a session needs two different members")]
    SelfSession,
    /// The prekey store does not belong to this session's local member.
    #[error("prekey store belongs to {actual}, session is for {expected}")]
    WrongStore {
        /// The session's local member.
        expected: MemberId,
        /// The store's member.
        actual: MemberId,
    },
}

impl TwoSmError {
    /// True for errors caused by the input (network bytes, a bundle), false
    /// for misuse of the API by the local caller.
    pub fn is_peer_misbehaviour(&self) -> bool {
        !matches!(
            self,
            Self::RandomnessMismatch(_) | Self::SelfSession | Self::WrongStore { .. }
        )
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = TwoSmError> = core::result::Result<T, E>;
