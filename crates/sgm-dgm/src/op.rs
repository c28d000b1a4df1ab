//! Membership operations: the input of the DGM function.

use core::fmt;

use serde::{Deserialize, Serialize};
use sgm_crypto::MemberId;

/// Size of an [`OpId`] in bytes.
pub const OP_ID_LEN: usize = 32;

/// Most members one `Create`, `Add` or `Remove` may name.
///
/// A bound on what one op can make every replica store and evaluate; a
/// group of this size is far beyond what DCGKA's O(n) direct messages per
/// update make practical.
pub const MAX_TARGETS: usize = 16_384;

/// Most parents one op may have.
///
/// Parents are the author's DGM heads, so their number is bounded by the
/// number of concurrent ops the author had not yet built upon (at most about
/// one per member); this bound is generous for [`MAX_TARGETS`] members.
pub const MAX_PARENTS: usize = 65_536;

/// An opaque op id chosen by the caller, for example the hash of the signed
/// message that carries the op. The DGM never derives or checks it; it only
/// requires that different ops have different ids.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId(pub [u8; OP_ID_LEN]);

impl OpId {
    /// The id bytes.
    pub fn as_bytes(&self) -> &[u8; OP_ID_LEN] {
        &self.0
    }
}

impl fmt::Debug for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpId(")?;
        for b in &self.0[..6] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..6] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// What an op does to the membership.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// Creates the group with these initial members; the author must be one
    /// of them. Exactly one per group, with no parents.
    Create {
        /// The initial members, the author included.
        members: Vec<MemberId>,
    },
    /// Adds these members (a batch). Each must be an id never seen in the
    /// op's causal past (added users are unique).
    Add {
        /// The members to add.
        members: Vec<MemberId>,
    },
    /// Removes these members (a batch). Each must be a member in the op's
    /// causal past. An author may remove itself (leave).
    Remove {
        /// The members to remove.
        members: Vec<MemberId>,
    },
    /// "The author has seen the op's parents." Changes no membership; it
    /// records what the author saw, which [`crate::Dgm::member_view`] and the
    /// strong-remove rule use.
    Ack,
}

impl OpKind {
    /// The members the op names (empty for `Ack`).
    pub fn targets(&self) -> &[MemberId] {
        match self {
            OpKind::Create { members } | OpKind::Add { members } | OpKind::Remove { members } => {
                members
            }
            OpKind::Ack => &[],
        }
    }

    /// A short name of the kind: `"create"`, `"add"`, `"remove"`, `"ack"`.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Create { .. } => "create",
            OpKind::Add { .. } => "add",
            OpKind::Remove { .. } => "remove",
            OpKind::Ack => "ack",
        }
    }

    /// Whether the op changes membership (everything but `Ack`).
    pub fn is_membership_change(&self) -> bool {
        !matches!(self, OpKind::Ack)
    }
}

/// One membership operation as a node of the causal DAG.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Op {
    /// The caller-chosen id.
    pub id: OpId,
    /// Who issued the op.
    pub author: MemberId,
    /// The op's direct causal predecessors among DGM ops: the author's DGM
    /// heads ([`crate::Dgm::heads`]) when it issued the op. Empty only for
    /// `Create`.
    pub parents: Vec<OpId>,
    /// What the op does.
    pub kind: OpKind,
}
