//! What [`crate::Group::receive`] and the actions report.

use sgm_acb::MessageId;
use sgm_crypto::MemberId;

use crate::book::Entry;
use crate::error::Error;
use crate::ids::{GroupId, UserId};

/// Something that happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// This member joined the group (its welcome was processed).
    Joined {
        /// The group.
        group: GroupId,
        /// Who added (or created the group with) this member.
        by: MemberId,
    },
    /// An application message.
    Message {
        /// Its id (the id of the broadcast carrying it).
        id: MessageId,
        /// Its sender.
        sender: MemberId,
        /// The sender's user.
        user: UserId,
        /// The plaintext.
        plaintext: Vec<u8>,
        /// The latest messages its sender had seen (authenticated: carried
        /// inside the encryption).
        parents: Vec<MessageId>,
        /// Its parents are not exactly the message shown just above it in
        /// this member's log (it was written concurrently with, or without
        /// seeing, that message): a UI should show the context.
        out_of_line: bool,
    },
    /// The membership changed.
    MembershipChanged {
        /// Members added.
        added: Vec<MemberId>,
        /// Members removed.
        removed: Vec<MemberId>,
        /// Whose operation it was.
        by: MemberId,
    },
    /// This member was removed.
    RemovedFromGroup {
        /// By whom.
        by: MemberId,
    },
    /// A member's sending key changed (a new update secret).
    KeyUpdated {
        /// Whose.
        member: MemberId,
        /// The new epoch.
        epoch: u64,
    },
    /// An application message this member was never meant to read: its
    /// sender did not count this member in when it sent it. Not a warning
    /// (mpENC: no false alarms); [`crate::Group::not_for_me_count`] counts them.
    NotForMe {
        /// The message.
        id: MessageId,
        /// Its sender.
        sender: MemberId,
        /// Why it was not for this member.
        reason: NotForMe,
    },
    /// Something the application should know about.
    Warning(Warning),
}

/// Why an application message was not meant for this member. Judged from
/// the message's causal past (which the broadcast layer delivered before
/// it) and the membership function over it, not guessed from the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotForMe {
    /// The membership its sender had seen did not include this member:
    /// sent before the sender processed this member's add.
    NotInSendersView,
    /// Its sender was removed concurrently with sending it; this member
    /// processed the removal first, and DCGKA dropped the sender's ratchet.
    SenderRemoved,
}

/// Warnings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// Delivery consistency (mpENC §3.5): these intended readers have not
    /// acknowledged the message within [`crate::Config::delivery_timeout_ms`].
    Undelivered {
        /// The message.
        id: MessageId,
        /// Its sender.
        sender: MemberId,
        /// Who has not acknowledged it.
        missing: Vec<MemberId>,
    },
    /// A delivered broadcast that the key agreement refused (the peer
    /// misbehaved or the layers disagree).
    Rejected {
        /// The broadcast.
        id: MessageId,
        /// Its sender.
        sender: MemberId,
        /// Why.
        error: Error,
    },
    /// An application message meant for this member (its sender counted it
    /// in) that could not be decrypted, for example [`Error::EpochExpired`].
    /// Messages not meant for this member are [`Event::NotForMe`] instead.
    Undecryptable {
        /// The message.
        id: MessageId,
        /// Its sender.
        sender: MemberId,
        /// Why.
        error: Error,
    },
    /// A transcript parent that is not in this member's transcript (too old,
    /// or a message it could not decrypt).
    UnknownParent {
        /// The message.
        id: MessageId,
        /// The unknown parent.
        parent: MessageId,
    },
    /// The broadcast layer dropped a waiting message (bounds, rejection).
    Dropped {
        /// The message.
        id: MessageId,
        /// Its sender.
        sender: MemberId,
        /// What happened (from `sgm_acb::AcbEvent`).
        reason: String,
    },
    /// A broadcast whose causal past holds its sender's removal (a removed
    /// member that kept its state, or an envelope crafted from it): not a
    /// message of the group. ACB rejected it (and everything depending on
    /// it); the key agreement never saw it.
    SentAfterRemoval {
        /// The broadcast.
        id: MessageId,
        /// Its sender (removed).
        sender: MemberId,
    },
    /// A member this member added was never heard from, and its welcome
    /// can no longer be re-sent: the broadcasts since the add outgrew
    /// [`crate::Config::history_max_count`] / `history_max_bytes`. It stays
    /// in the group until removed; remove it and add the user again.
    WelcomeAbandoned {
        /// The member.
        member: MemberId,
    },
    /// `sender` signed two different broadcasts with one sequence number
    /// (it restored an old copy of its state, or its signing key for that
    /// seq leaked). Both are kept, so that other members' messages naming
    /// either are delivered; only the first seen here was processed, the
    /// other is a fork (docs/messaging.md, "Equivocation"). Once per fork.
    /// [`crate::Group::equivocations`] keeps the evidence; removing the
    /// member ends it.
    Equivocation {
        /// Who equivocated.
        sender: MemberId,
        /// Its user, if known.
        user: Option<UserId>,
        /// The sequence number used twice.
        seq: u64,
        /// The message processed here, then the fork.
        ids: [MessageId; 2],
        /// Both signed envelopes, transferable (`None` if the first had
        /// left the bounded re-send store).
        evidence: Option<Box<sgm_acb::Equivocation>>,
    },
}

/// One line of the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptEntry {
    /// The message id.
    pub id: MessageId,
    /// Its sender.
    pub sender: MemberId,
    /// The sender's user.
    pub user: UserId,
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// Its transcript parents.
    pub parents: Vec<MessageId>,
    /// Parents differ from the entry just above (see [`Event::Message`]).
    pub out_of_line: bool,
}

impl TranscriptEntry {
    pub(crate) fn of(e: &Entry) -> Self {
        Self {
            id: e.id.0,
            sender: e.sender.0,
            user: e.user.clone(),
            plaintext: e.text.0.clone(),
            parents: e.parents.iter().map(|p| p.0).collect(),
            out_of_line: e.out_of_line,
        }
    }
}
