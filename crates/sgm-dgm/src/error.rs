//! The crate's one error type.

use sgm_crypto::MemberId;

use crate::op::OpId;

/// Why an op was rejected, or why bytes could not be decoded.
///
/// Every rejection by [`crate::Dgm::apply`] leaves the state unchanged.
/// All variants except [`DgmError::Malformed`], [`DgmError::UnsupportedVersion`]
/// and [`DgmError::UnknownOp`] describe an op that a peer should not have
/// sent (or that arrived before its parents); the caller's own ops are built
/// against [`crate::Dgm::heads`] and never hit them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DgmError {
    /// A parent of the op has not been applied (causal delivery was not
    /// respected, or the parent does not exist).
    #[error("op {op}: parent {parent} has not been applied")]
    UnknownParent {
        /// The rejected op.
        op: OpId,
        /// The missing parent.
        parent: OpId,
    },
    /// A parent appears twice in the op's parent list.
    #[error("op {op}: parent {parent} listed twice")]
    DuplicateParent {
        /// The rejected op.
        op: OpId,
        /// The repeated parent.
        parent: OpId,
    },
    /// A non-`Create` op without parents.
    #[error("op {op}: only a create may have no parents")]
    NoParents {
        /// The rejected op.
        op: OpId,
    },
    /// A `Create` with parents.
    #[error("op {op}: a create must have no parents")]
    CreateWithParents {
        /// The rejected op.
        op: OpId,
    },
    /// A second `Create` in the same group.
    #[error("op {op}: the group was already created by {existing}")]
    DuplicateCreate {
        /// The rejected op.
        op: OpId,
        /// The create already applied.
        existing: OpId,
    },
    /// A `Create` whose author is not among the initial members.
    #[error("op {op}: creator {author} is not among the initial members")]
    CreatorNotMember {
        /// The rejected op.
        op: OpId,
        /// The creator.
        author: MemberId,
    },
    /// An op whose id was applied before with different content.
    #[error("op {op}: id already applied with different content")]
    ConflictingDuplicate {
        /// The id used twice.
        op: OpId,
    },
    /// The author is not a member in the op's own causal past (never added,
    /// or removed before it issued the op).
    #[error("op {op}: author {author} is not a member in the op's causal past")]
    NotAMember {
        /// The rejected op.
        op: OpId,
        /// The author.
        author: MemberId,
    },
    /// A `Create`, `Add` or `Remove` naming no member.
    #[error("op {op}: names no member")]
    EmptyBatch {
        /// The rejected op.
        op: OpId,
    },
    /// A member named twice in one op.
    #[error("op {op}: member {member} named twice")]
    DuplicateTarget {
        /// The rejected op.
        op: OpId,
        /// The repeated member.
        member: MemberId,
    },
    /// More members in one op than [`crate::MAX_TARGETS`].
    #[error("op {op}: names {count} members, at most {max} allowed")]
    TooManyTargets {
        /// The rejected op.
        op: OpId,
        /// How many it names.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// More parents than [`crate::MAX_PARENTS`].
    #[error("op {op}: has {count} parents, at most {max} allowed")]
    TooManyParents {
        /// The rejected op.
        op: OpId,
        /// How many it has.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// An `Add` of an id that is already a member in the op's causal past.
    #[error("op {op}: {member} is already a member")]
    AlreadyMember {
        /// The rejected op.
        op: OpId,
        /// The member.
        member: MemberId,
    },
    /// An `Add` of an id that was removed in the op's causal past. Added
    /// users are unique: a returning user joins under a fresh id.
    #[error("op {op}: {member} was removed; a returning user needs a fresh id")]
    ReAddOfRemoved {
        /// The rejected op.
        op: OpId,
        /// The removed id.
        member: MemberId,
    },
    /// A `Remove` of an id never added in the op's causal past.
    #[error("op {op}: {member} was never added")]
    RemoveOfUnknown {
        /// The rejected op.
        op: OpId,
        /// The unknown id.
        member: MemberId,
    },
    /// A `Remove` of an id already removed in the op's causal past.
    #[error("op {op}: {member} was already removed")]
    AlreadyRemoved {
        /// The rejected op.
        op: OpId,
        /// The removed id.
        member: MemberId,
    },
    /// A permission policy ([`crate::Policy`]) refused the op.
    #[error("op {op}: {author} may not {action}")]
    PermissionDenied {
        /// The rejected op.
        op: OpId,
        /// The author.
        author: MemberId,
        /// What was refused (`"add"`, `"remove"`, …).
        action: &'static str,
    },
    /// A query or compaction named an op that was never applied.
    #[error("unknown op {op}")]
    UnknownOp {
        /// The unknown id.
        op: OpId,
    },
    /// Encoded state or history with an unknown format version.
    #[error("unsupported encoding version {version}")]
    UnsupportedVersion {
        /// The version byte found.
        version: u8,
    },
    /// Encoded state or history that does not decode.
    #[error("malformed encoding: {what}")]
    Malformed {
        /// What is wrong.
        what: &'static str,
    },
}

impl DgmError {
    /// The variant's name, stable across versions (used by the vectors).
    pub fn code(&self) -> &'static str {
        match self {
            DgmError::UnknownParent { .. } => "UnknownParent",
            DgmError::DuplicateParent { .. } => "DuplicateParent",
            DgmError::NoParents { .. } => "NoParents",
            DgmError::CreateWithParents { .. } => "CreateWithParents",
            DgmError::DuplicateCreate { .. } => "DuplicateCreate",
            DgmError::CreatorNotMember { .. } => "CreatorNotMember",
            DgmError::ConflictingDuplicate { .. } => "ConflictingDuplicate",
            DgmError::NotAMember { .. } => "NotAMember",
            DgmError::EmptyBatch { .. } => "EmptyBatch",
            DgmError::DuplicateTarget { .. } => "DuplicateTarget",
            DgmError::TooManyTargets { .. } => "TooManyTargets",
            DgmError::TooManyParents { .. } => "TooManyParents",
            DgmError::AlreadyMember { .. } => "AlreadyMember",
            DgmError::ReAddOfRemoved { .. } => "ReAddOfRemoved",
            DgmError::RemoveOfUnknown { .. } => "RemoveOfUnknown",
            DgmError::AlreadyRemoved { .. } => "AlreadyRemoved",
            DgmError::PermissionDenied { .. } => "PermissionDenied",
            DgmError::UnknownOp { .. } => "UnknownOp",
            DgmError::UnsupportedVersion { .. } => "UnsupportedVersion",
            DgmError::Malformed { .. } => "Malformed",
        }
    }
}
