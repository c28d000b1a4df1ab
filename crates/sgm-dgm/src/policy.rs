//! Permission policies: a separate layer over the membership mechanism.
//!
//! The DGM decides *who is a member*; a [`Policy`] decides *which members
//! may do what*. [`Dgm::apply_with`] consults the policy before applying.
//! To keep the result independent of delivery order, a policy may look only
//! at the op and at its causal past (for example
//! `dgm.view_at(&op.parents)`), never at ops concurrent with it or later.

use std::collections::BTreeSet;

use sgm_crypto::MemberId;

use crate::dgm::{Applied, Dgm};
use crate::error::DgmError;
use crate::op::{Op, OpKind};

/// Decides whether an op's author may perform it.
pub trait Policy {
    /// `Ok(())` to allow `op`, otherwise the refusal
    /// (usually [`DgmError::PermissionDenied`]). `dgm` is the state before
    /// `op`; consult only the op's causal past.
    fn authorize(&self, dgm: &Dgm, op: &Op) -> Result<(), DgmError>;
}

/// Every member may add and remove: the plain mechanism.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Policy for AllowAll {
    fn authorize(&self, _dgm: &Dgm, _op: &Op) -> Result<(), DgmError> {
        Ok(())
    }
}

/// Only admins may add or remove; anyone may ack; a member may always
/// remove itself (leave). The admin set is fixed when the group is created
/// (the creator and whoever it names), so the decision depends on the op
/// alone and is order-independent. An admin who is removed loses its
/// rights with its membership (the DGM rejects its later ops).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminPolicy {
    admins: BTreeSet<MemberId>,
}

impl AdminPolicy {
    /// A policy with these admins.
    pub fn new(admins: impl IntoIterator<Item = MemberId>) -> Self {
        Self {
            admins: admins.into_iter().collect(),
        }
    }

    /// The admins.
    pub fn admins(&self) -> &BTreeSet<MemberId> {
        &self.admins
    }

    /// Whether `member` is an admin.
    pub fn is_admin(&self, member: &MemberId) -> bool {
        self.admins.contains(member)
    }
}

impl Policy for AdminPolicy {
    fn authorize(&self, _dgm: &Dgm, op: &Op) -> Result<(), DgmError> {
        let denied = |action| DgmError::PermissionDenied {
            op: op.id,
            author: op.author,
            action,
        };
        match &op.kind {
            OpKind::Ack => Ok(()),
            OpKind::Create { .. } if self.is_admin(&op.author) => Ok(()),
            OpKind::Create { .. } => Err(denied("create")),
            OpKind::Add { .. } if self.is_admin(&op.author) => Ok(()),
            OpKind::Add { .. } => Err(denied("add")),
            OpKind::Remove { members } => {
                if self.is_admin(&op.author) || members.as_slice() == [op.author] {
                    Ok(())
                } else {
                    Err(denied("remove"))
                }
            }
        }
    }
}

impl Dgm {
    /// [`Dgm::apply`] behind a permission policy: an op the policy refuses
    /// is rejected and the state is unchanged. Duplicates of applied ops are
    /// still idempotent no-ops.
    pub fn apply_with(&mut self, op: Op, policy: &impl Policy) -> Result<Applied, DgmError> {
        if !self.contains(&op.id) {
            policy.authorize(self, &op)?;
        }
        self.apply(op)
    }
}
