//! What the operations return.

use sgm_crypto::MemberId;

use crate::key_schedule::UpdateSecret;
use crate::messages::{ControlMessage, DirectMessage};

/// One control message with the direct messages that ride with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Broadcast to the group.
    pub control: ControlMessage,
    /// One per recipient; each recipient gets only its own.
    pub direct: Vec<DirectMessage>,
}

impl Outgoing {
    /// The direct message for `member`, if any.
    pub fn direct_for(&self, member: &MemberId) -> Option<&DirectMessage> {
        self.direct.iter().find(|d| d.recipient == *member)
    }
}

/// An update secret and whose epoch it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateSecretEvent {
    /// Whose sequence of update secrets it extends.
    pub member: MemberId,
    /// The epoch: the seq of `member`'s control message that produced it.
    pub epoch: u64,
    /// The secret (already fed into the message ratchet; returned for the
    /// application, tests and vectors).
    pub secret: UpdateSecret,
}

/// Result of `create`, `add`, `remove`, `update` (the paper's
/// `(control, dmsgs, I)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationOutput {
    /// Messages to send, in order: acks held back by ack coalescing first,
    /// then the operation's own control message. Send them together (one
    /// envelope) and in this order.
    pub messages: Vec<Outgoing>,
    /// The sender's new update secret `I`.
    pub update_secret: UpdateSecretEvent,
}

/// Result of `process` (the paper's `(control, dmsgs, I_s, I_r)`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessOutput {
    /// The reply (an ack or add-ack) to send now; `None` if there is none or
    /// if ack coalescing holds it back for the next outgoing message.
    pub reply: Option<Outgoing>,
    /// `I_s`: an update secret of the message's sender.
    pub sender_update_secret: Option<UpdateSecretEvent>,
    /// `I_r`: a new update secret of this member.
    pub me_update_secret: Option<UpdateSecretEvent>,
    /// This member is no longer in the group after the message.
    pub removed: bool,
}
