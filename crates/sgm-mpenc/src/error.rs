//! The crate's one error type.
//!
//! Variants under "the peer misbehaved" are caused by bytes received from the
//! network (malformed, forged, out of protocol); variants under "API misuse"
//! are caused by the local caller. Every receive path returns one of these
//! and leaves the receiver's state as it was.

/// Everything that can go wrong in sgm-mpenc.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MpencError {
    // ---- the peer misbehaved: framing ----
    /// The packet does not start with `?mpENC:` and end with `.`.
    #[error("not an mpENC wire packet (missing \"?mpENC:\" prefix or \".\" suffix)")]
    NotMpenc,
    /// The packet is larger than [`crate::codec::MAX_PACKET_BYTES`].
    #[error("packet of {0} bytes exceeds the bound")]
    PacketTooLarge(usize),
    /// The body between prefix and suffix is not standard base64.
    #[error("packet body is not valid base64")]
    Base64,
    /// A TLV record claims more bytes than remain.
    #[error("TLV record truncated: needs {needed} bytes, {available} remain")]
    Truncated {
        /// Bytes the record header claims (header included).
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// A required TLV record has another type.
    #[error("expected TLV type {expected:#06x}, found {found:#06x}")]
    UnexpectedTlv {
        /// The type the format requires here.
        expected: u16,
        /// The type found.
        found: u16,
    },
    /// A required TLV record is missing at the end of the input.
    #[error("missing TLV record of type {0:#06x}")]
    MissingTlv(u16),
    /// Bytes follow the last record of the format.
    #[error("{0} trailing bytes after the last record")]
    TrailingBytes(usize),
    /// A field has the wrong length.
    #[error("field {field} has {actual} bytes, expected {expected}")]
    BadLength {
        /// Which field.
        field: &'static str,
        /// Required length.
        expected: usize,
        /// Length found.
        actual: usize,
    },
    /// More repeated records than the bound allows.
    #[error("too many {what}: more than {max}")]
    TooMany {
        /// What was repeated.
        what: &'static str,
        /// The bound.
        max: usize,
    },
    /// Protocol version other than 1.
    #[error("unsupported protocol version {0}")]
    Version(u8),
    /// Message type other than the one expected.
    #[error("unexpected message type {found:#04x}, expected {expected:#04x}")]
    MessageType {
        /// Expected type.
        expected: u8,
        /// Found type.
        found: u8,
    },
    /// A greet type that is not one of the twelve defined.
    #[error("unknown greet type {0:#06x}")]
    GreetType(u16),
    /// The padded plaintext's length prefix exceeds its size.
    #[error("plaintext length prefix {claimed} exceeds the {available} bytes decrypted")]
    BadPlaintextLength {
        /// The length the prefix claims.
        claimed: usize,
        /// Bytes after the prefix.
        available: usize,
    },

    // ---- the peer misbehaved: authentication ----
    /// A packet signature does not verify.
    #[error("packet signature does not verify")]
    BadSignature,
    /// An ASKE session acknowledgement does not verify.
    #[error("session acknowledgement of member {member} does not verify")]
    BadSessionSignature {
        /// Hex of the member id.
        member: String,
    },
    /// The data message's SIDKEY hint does not match our session.
    #[error("data message is for another session or group key")]
    SidkeyHint,
    /// No ephemeral signing key is known for the claimed author.
    #[error("no ephemeral key known for member {member}")]
    UnknownAuthor {
        /// Hex of the member id.
        member: String,
    },
    /// No static (long-term) key is known for a member.
    #[error("no static key known for member {member}")]
    UnknownStaticKey {
        /// Hex of the member id.
        member: String,
    },

    // ---- the peer misbehaved: protocol ----
    /// A member list contains an id twice.
    #[error("member list contains a duplicate")]
    DuplicateMember,
    /// A member list contains an empty id.
    #[error("member list contains an empty id")]
    EmptyMemberId,
    /// The packet's member list does not contain us (or its source).
    #[error("member {member} is not in the packet's member list")]
    NotInMemberList {
        /// Hex of the member id.
        member: String,
    },
    /// More intermediate keys, nonces or public keys than members.
    #[error("{what}: {count} values for {members} members")]
    CountMismatch {
        /// Which list.
        what: &'static str,
        /// Values in the list.
        count: usize,
        /// Members.
        members: usize,
    },
    /// An initial key agreement downflow names other members than the upflow did.
    #[error("downflow member list differs from the upflow's")]
    MemberListMismatch,
    /// A CLIQUES value is a low-order point (the exponentiation gave zero).
    #[error("intermediate key is a low-order point")]
    LowOrderPoint,
    /// A greeting packet that does not fit the greeting's current state.
    #[error("greeting packet {greet_type:#06x} does not fit state {state}")]
    UnexpectedGreeting {
        /// The packet's greet type.
        greet_type: u16,
        /// The state name.
        state: &'static str,
    },

    // ---- local storage ----
    /// Persisted state that does not parse.
    #[error("persisted state is malformed: {0}")]
    BadState(&'static str),

    // ---- the caller misused the API ----
    /// The caller asked for something the current state does not allow.
    #[error("API misuse: {0}")]
    ApiMisuse(ApiMisuse),
}

/// Ways the local caller can misuse the API.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiMisuse {
    /// An operation needs at least one member.
    #[error("no members given")]
    NoMembers,
    /// A member to include is already a member.
    #[error("member already present")]
    AlreadyMember,
    /// A member to exclude is not a member, or is ourselves.
    #[error("member to exclude is not another current member")]
    NotExcludable,
    /// The operation needs a completed key agreement.
    #[error("no key agreement completed yet")]
    NotReady,
    /// The operation is not allowed in the greeting's current state.
    #[error("operation not allowed in state {0}")]
    WrongState(&'static str),
    /// A value is longer than a TLV record can carry (65535 bytes).
    #[error("value of {0} bytes does not fit a TLV record")]
    ValueTooLong(usize),
    /// Plaintext too large for the u16 length prefix.
    #[error("message of {0} bytes is too large for a data message")]
    MessageTooLarge(usize),
    /// A group key must be 16 or 32 bytes.
    #[error("group key of {0} bytes (AES needs 16 or 32)")]
    BadGroupKeyLength(usize),
}

impl From<ApiMisuse> for MpencError {
    fn from(e: ApiMisuse) -> Self {
        MpencError::ApiMisuse(e)
    }
}

/// Hex of a member id, for error messages.
pub(crate) fn show(id: &[u8]) -> String {
    hex::encode(id)
}
