//! The protocol state `γ` (Figure 4, `init`) and the helpers every step
//! shares.

use std::collections::{BTreeMap, BTreeSet};

use sgm_2sm::{PrekeyStore, Session};
use sgm_crypto::{MemberId, SigningKey, sha256};
use sgm_dgm::{Dgm, Op, OpId, OpKind};

use crate::error::{DcgkaError, Result};
use crate::key_schedule::{
    MemberSecret, RatchetInput, RatchetState, UpdateSecret, update_ratchet as kdf_update_ratchet,
};
use crate::messages::{ControlKind, ControlMessage};
use crate::output::{Outgoing, UpdateSecretEvent};
use crate::ratchet::{RatchetConfig, ReceivingRatchet, SendingRatchet};

/// Label of the DGM op id of a control message.
pub const OP_ID_LABEL: &[u8] = b"sgm-dcgka v1 op id";

/// Options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// Bounds of the receiving message ratchets.
    pub ratchet: RatchetConfig,
    /// Ack coalescing (§8.1): acks and add-acks are not returned by
    /// `process` but held and sent, in order, in front of this member's next
    /// operation ([`Dcgka::take_pending`] releases them earlier, for example
    /// in front of an application message). Key schedule and security are
    /// the same; only when the acks leave changes.
    pub coalesce_acks: bool,
}

/// The DCGKA state of one member: the paper's `γ`.
///
/// A plain value: every operation is transactional (on error the value is
/// unchanged), secrets are zeroized on drop, and `Debug` shows no secret.
#[derive(Clone)]
pub struct Dcgka {
    pub(crate) me: MemberId,
    /// Long-term identity key (authenticates 2SM first contact).
    pub(crate) identity: SigningKey,
    /// Secret halves of this member's published prekeys.
    pub(crate) prekeys: PrekeyStore,
    /// `γ.2sm`.
    pub(crate) sessions: BTreeMap<MemberId, Session>,
    /// `γ.history`: `None` until this member creates or joins a group.
    pub(crate) dgm: Option<Dgm>,
    /// `γ.mySeq`: seq of the last control message sent (0: none).
    pub(crate) my_seq: u64,
    /// Per sender, the seq of its last control message processed.
    pub(crate) last_seq: BTreeMap<MemberId, u64>,
    /// `γ.memberSecret[sender, seq, ID]`.
    pub(crate) member_secrets: BTreeMap<(MemberId, u64, MemberId), MemberSecret>,
    /// `γ.ratchet[ID]`: the outer KDF ratchet per member.
    pub(crate) ratchet: BTreeMap<MemberId, RatchetState>,
    /// This member's message ratchet.
    pub(crate) sending: Option<SendingRatchet>,
    /// Copies of the other members' message ratchets.
    pub(crate) receiving: BTreeMap<MemberId, ReceivingRatchet>,
    /// Acks held back by ack coalescing.
    pub(crate) pending: Vec<Outgoing>,
    /// Removed from the group (by a remove or the strong-remove rule).
    pub(crate) removed: bool,
    pub(crate) config: Config,
}

impl core::fmt::Debug for Dcgka {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dcgka")
            .field("me", &self.me)
            .field("my_seq", &self.my_seq)
            .field("members", &self.dgm.as_ref().map(|d| d.members()))
            .field("member_secrets", &self.member_secrets.len())
            .field("pending", &self.pending.len())
            .field("removed", &self.removed)
            .field("secrets", &"[redacted]")
            .finish()
    }
}

/// The DGM op id of control message `seq` of `sender`:
/// `SHA-256(OP_ID_LABEL ‖ sender ‖ seq as u64 BE)`.
pub fn op_id(sender: &MemberId, seq: u64) -> OpId {
    OpId(sha256(&[
        OP_ID_LABEL,
        sender.as_bytes(),
        &seq.to_be_bytes(),
    ]))
}

impl Dcgka {
    /// `init(ID)`: a member with identity key `identity` and the prekey
    /// store holding the secrets of the prekeys it published.
    pub fn init(identity: SigningKey, prekeys: PrekeyStore, config: Config) -> Self {
        let me = MemberId::from_identity_key(&identity.verifying_key());
        Self {
            me,
            identity,
            prekeys,
            sessions: BTreeMap::new(),
            dgm: None,
            my_seq: 0,
            last_seq: BTreeMap::new(),
            member_secrets: BTreeMap::new(),
            ratchet: BTreeMap::new(),
            sending: None,
            receiving: BTreeMap::new(),
            pending: Vec::new(),
            removed: false,
            config,
        }
    }

    /// This member's id.
    pub fn id(&self) -> MemberId {
        self.me
    }

    /// The options.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current members (empty before joining).
    pub fn members(&self) -> BTreeSet<MemberId> {
        self.dgm.as_ref().map(Dgm::members).unwrap_or_default()
    }

    /// Whether this member is in a group now.
    pub fn in_group(&self) -> bool {
        self.dgm.is_some() && !self.removed
    }

    /// The 2SM session with `peer`, if one exists.
    pub fn two_party_session(&self, peer: &MemberId) -> Option<&Session> {
        self.sessions.get(peer)
    }

    /// The membership state (read only).
    pub fn dgm(&self) -> Option<&Dgm> {
        self.dgm.as_ref()
    }

    /// Number of member secrets waiting for acks (grows with unacknowledged
    /// messages; paper §8.1).
    pub fn pending_member_secrets(&self) -> usize {
        self.member_secrets.len()
    }

    /// The current epoch of this member's own message ratchet.
    pub fn epoch(&self) -> Option<u64> {
        self.sending.as_ref().map(SendingRatchet::epoch)
    }

    /// `member-view(γ, ID)` as of a cut: the membership over the causal past
    /// of `heads` (the DGM heads a control message carries).
    pub fn member_view(&self, heads: &[OpId]) -> BTreeSet<MemberId> {
        self.dgm
            .as_ref()
            .map(|d| d.view_at(heads))
            .unwrap_or_default()
    }

    pub(crate) fn dgm_mut(&mut self) -> Result<&mut Dgm> {
        self.dgm.as_mut().ok_or(DcgkaError::NoGroup)
    }

    pub(crate) fn dgm_ref(&self) -> Result<&Dgm> {
        self.dgm.as_ref().ok_or(DcgkaError::NoGroup)
    }

    /// Whether control message `(sender, seq)` is a DGM membership op
    /// (create, add, remove).
    pub(crate) fn is_membership_op(&self, sender: &MemberId, seq: u64) -> Result<bool> {
        Ok(self
            .dgm_ref()?
            .get(&op_id(sender, seq))
            .is_some_and(|op| op.kind.is_membership_change()))
    }

    /// Applies a DGM op.
    pub(crate) fn apply_op(
        &mut self,
        author: MemberId,
        seq: u64,
        parents: Vec<OpId>,
        kind: OpKind,
    ) -> Result<OpId> {
        let id = op_id(&author, seq);
        self.dgm_mut()?.apply(Op {
            id,
            author,
            parents,
            kind,
        })?;
        Ok(id)
    }

    /// Builds this member's next control message (`++γ.mySeq`).
    pub(crate) fn next_control(&mut self, kind: ControlKind) -> Result<ControlMessage> {
        self.my_seq = self
            .my_seq
            .checked_add(1)
            .ok_or(DcgkaError::State("sequence number overflow"))?;
        // DGM parents go with every DGM op (add, remove, acks of membership
        // ops); a create has none, and an update or an ack of an update is
        // no DGM op and needs none (its recipients are the DGM's
        // `member_view` of its sender). The parents are the DGM's
        // *membership* heads: an op's membership past is all that views and
        // checks depend on, and the plain heads would list every concurrent
        // ack (n of them after each membership op, 34 bytes each).
        let parents = match (&kind, kind.acknowledged()) {
            (ControlKind::Create { .. } | ControlKind::Update, _) => Vec::new(),
            (ControlKind::Ack { .. }, Some((sender, seq)))
                if !self.is_membership_op(&sender, seq)? =>
            {
                Vec::new()
            }
            (_, Some((sender, seq))) => {
                // The usual case, the acknowledged op as the only head, is
                // left implied (`ControlMessage::dgm_parents`): 34 bytes
                // less on each of the n acks of a membership op.
                let heads = self.dgm_ref()?.membership_heads();
                if heads == [op_id(&sender, seq)] {
                    Vec::new()
                } else {
                    heads
                }
            }
            _ => self.dgm_ref()?.membership_heads(),
        };
        Ok(ControlMessage {
            seq: self.my_seq,
            parents,
            kind,
        })
    }

    /// `update-ratchet(γ, ID, input)`; the old ratchet state is replaced
    /// (and zeroized).
    pub(crate) fn update_ratchet(
        &mut self,
        member: MemberId,
        input: RatchetInput<'_>,
    ) -> Result<UpdateSecret> {
        let (next, update) = kdf_update_ratchet(self.ratchet.get(&member), input)?;
        self.ratchet.insert(member, next);
        Ok(update)
    }

    /// Feeds an update secret into the member's message ratchet.
    pub(crate) fn install_update(
        &mut self,
        member: MemberId,
        epoch: u64,
        secret: UpdateSecret,
    ) -> Result<UpdateSecretEvent> {
        if member == self.me {
            self.sending = Some(SendingRatchet::new(epoch, &secret)?);
        } else if self.ratchet_dropped(&member) {
            // A removed member whose removal settled gets no ratchet back
            // (`causal.rs`, rule 3): the key schedule moves on without it.
        } else {
            self.receiving.entry(member).or_default().add_epoch(
                epoch,
                &secret,
                &self.config.ratchet,
            )?;
        }
        Ok(UpdateSecretEvent {
            member,
            epoch,
            secret,
        })
    }

    /// Acks held back by ack coalescing, to send now (in order).
    pub fn take_pending(&mut self) -> Vec<Outgoing> {
        core::mem::take(&mut self.pending)
    }

    /// The acks held back, without taking them: send them one by one and
    /// then [`Dcgka::confirm_pending_sent`] those that left, so a failure
    /// part-way loses none.
    pub fn pending(&self) -> &[Outgoing] {
        &self.pending
    }

    /// Drops the first `count` held-back acks (they were sent).
    pub fn confirm_pending_sent(&mut self, count: usize) {
        let count = count.min(self.pending.len());
        self.pending.drain(..count);
    }

    /// Number of acks held back.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Runs `step` on a copy and keeps the copy only if it succeeded.
    pub(crate) fn transact<T>(&mut self, step: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let mut next = self.clone();
        let out = step(&mut next)?;
        *self = next;
        Ok(out)
    }
}
