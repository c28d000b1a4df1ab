//! The membership check ACB consults at delivery (implemented by the
//! membership layer; ACB does not depend on it).

use std::collections::{BTreeSet, HashSet};

use sgm_crypto::MemberId;

use crate::MessageId;

/// Decides whether `sender` is a group member at the point of causal history
/// given by `causal_context` (the message's parents, all already delivered).
///
/// Consulted once per message, just before it is delivered. Use
/// [`crate::Acb::deliver_next`] when the answer depends on the messages
/// delivered just before (for example a DGM that must process an add before
/// the added member's first message is checked).
pub trait MembershipCheck {
    /// True if `sender` may send a message with these parents.
    fn is_member(&self, sender: &MemberId, causal_context: &[MessageId]) -> bool;
}

/// Accepts every registered sender (tests, and groups without membership).
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl MembershipCheck for AllowAll {
    fn is_member(&self, _: &MemberId, _: &[MessageId]) -> bool {
        true
    }
}

/// A fixed member set, regardless of causal context.
impl MembershipCheck for BTreeSet<MemberId> {
    fn is_member(&self, sender: &MemberId, _: &[MessageId]) -> bool {
        self.contains(sender)
    }
}

/// A fixed member set, regardless of causal context.
impl MembershipCheck for HashSet<MemberId> {
    fn is_member(&self, sender: &MemberId, _: &[MessageId]) -> bool {
        self.contains(sender)
    }
}

impl<T: MembershipCheck + ?Sized> MembershipCheck for &T {
    fn is_member(&self, sender: &MemberId, causal_context: &[MessageId]) -> bool {
        (**self).is_member(sender, causal_context)
    }
}
