//! What the driver measured for one operation and everything it caused.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sgm_crypto::MemberId;

use crate::scheme::MessageKind;

/// An application message a member decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decrypted {
    /// Who decrypted it.
    pub recipient: MemberId,
    /// Who sent it.
    pub sender: MemberId,
    /// The plaintext.
    pub plaintext: Vec<u8>,
}

/// Counts and times of one operation and every message it caused, until
/// nothing was left to deliver (or of whatever was delivered since the last
/// [`crate::Group::take_outcome`]).
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The member that ran the operation.
    pub actor: Option<MemberId>,
    /// Messages sent, a broadcast counted once (as the paper counts them).
    pub messages: usize,
    /// Bytes sent, a broadcast counted once, direct parts each once.
    pub bytes: usize,
    /// `(messages, bytes)` per kind.
    pub by_kind: BTreeMap<MessageKind, (usize, usize)>,
    /// Deliveries (one per message and recipient).
    pub deliveries: usize,
    /// Bytes each member received.
    pub received: BTreeMap<MemberId, usize>,
    /// Bytes each member sent (a broadcast once).
    pub sent: BTreeMap<MemberId, usize>,
    /// Time each member spent inside the scheme (wall clock of its calls).
    pub cpu: BTreeMap<MemberId, Duration>,
    /// Sequential message delays: round 1 delivers the operation's
    /// messages, round r + 1 the replies to round r.
    pub rounds: usize,
    /// The last round in which some member's keys changed: the message
    /// delays until everyone has the new keys.
    pub key_rounds: usize,
    /// Application messages decrypted, in delivery order.
    pub decrypted: Vec<Decrypted>,
    /// Members that learnt they were removed.
    pub removed: BTreeSet<MemberId>,
}

impl Outcome {
    /// Time the actor spent (its operation and every reply it processed).
    pub fn sender_cpu(&self) -> Duration {
        self.actor
            .and_then(|a| self.cpu.get(&a).copied())
            .unwrap_or_default()
    }

    /// `(mean, max)` time of the members other than the actor that did any
    /// work.
    pub fn recipient_cpu(&self) -> (Duration, Duration) {
        let times: Vec<Duration> = self
            .cpu
            .iter()
            .filter(|(m, _)| Some(**m) != self.actor)
            .map(|(_, t)| *t)
            .collect();
        let max = times.iter().max().copied().unwrap_or_default();
        let count = u32::try_from(times.len()).unwrap_or(u32::MAX).max(1);
        (times.iter().sum::<Duration>() / count, max)
    }

    /// `(mean, max)` bytes received by the members other than the actor.
    pub fn recipient_bytes(&self) -> (usize, usize) {
        let bytes: Vec<usize> = self
            .received
            .iter()
            .filter(|(m, _)| Some(**m) != self.actor)
            .map(|(_, b)| *b)
            .collect();
        let max = bytes.iter().max().copied().unwrap_or_default();
        (bytes.iter().sum::<usize>() / bytes.len().max(1), max)
    }

    /// Whether `recipient` decrypted `plaintext` from `sender`.
    pub fn decrypted_by(&self, recipient: &MemberId, sender: &MemberId, plaintext: &[u8]) -> bool {
        self.decrypted
            .iter()
            .any(|d| d.recipient == *recipient && d.sender == *sender && d.plaintext == plaintext)
    }
}
