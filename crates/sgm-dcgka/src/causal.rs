//! Judging a message by its causal past (issue 10, items 1 and 2).
//!
//! The layer below (sgm-acb) delivers every message after its causal past.
//! The *causal past* a caller passes here is the set of membership ops
//! (create, add, remove) whose control messages are in that past, as far
//! as the caller knows them: a subset only makes the checks miss, never
//! refuse an honest message.
//!
//! Rules:
//!
//! 1. **A removed sender is not a member in its own causal past.** A
//!    message whose causal past removes its sender (directly or by the
//!    strong-remove rule) was sent after the sender processed — or could
//!    have processed — its removal: refused with
//!    [`DcgkaError::SenderRemoved`]. Messages *concurrent* with the
//!    removal are legitimate (the sender had not seen it).
//! 2. **Declared DGM parents are consistent with the causal past.** The
//!    DGM parents of an add or remove must have every membership op of
//!    the message's causal past in their past (`∀ x ∈ past: x ∈
//!    past(parents)`); otherwise [`DcgkaError::InconsistentParents`]. An
//!    honest sender names its DGM membership heads, which cover every
//!    membership op it has processed, and it has processed everything in
//!    its causal past. Without this, a member could declare old parents
//!    to make its op look concurrent with ops it had seen (a removed
//!    member's remove would look like one made before its removal; a
//!    remove would cascade over an add its author had seen).
//! 3. **A removed member's ratchet is dropped once settled.** A remove `r`
//!    of `X` is *settled* here when every current member other than this
//!    one has seen `r` (`r` is in the causal past of one of its DGM ops,
//!    for an existing member its ack of `r`, or of the add that added it).
//!    A message of `X` concurrent with `r` that some member delivered
//!    before seeing `r` is in the causal past of that member's ack, so it
//!    was delivered here before `r` settled (causal delivery). Any message
//!    of `X` still to come was delivered by no current member before it
//!    processed `r`: it is not a message of the group. So once one remove
//!    of `X` is settled and `X` is not a member, `X`'s receiving ratchet
//!    is dropped and never re-created ([`Dcgka::decrypt_in_past`] then
//!    answers [`DcgkaError::SenderRemoved`]). A member that never
//!    acknowledges (offline for good) keeps the ratchet alive: until it is
//!    removed too, a removed member's back-dated messages still decrypt.

use sgm_crypto::{MemberId, SecretBytes};
use sgm_dgm::OpId;

use crate::error::{DcgkaError, Result};
use crate::messages::{ControlKind, ControlMessage};
use crate::state::Dcgka;

impl Dcgka {
    /// Checks rules 1 and 2 for a control message from `sender` whose
    /// causal past holds the membership ops `past`. Call before
    /// [`Dcgka::process`]; changes nothing.
    pub fn check_causal_past(
        &self,
        sender: &MemberId,
        control: &ControlMessage,
        past: &[OpId],
    ) -> Result<()> {
        let Some(dgm) = self.dgm.as_ref() else {
            // Not in a group yet: the welcome's history is all there is.
            return Ok(());
        };
        if dgm.is_removed_at(past, sender) {
            return Err(DcgkaError::SenderRemoved { sender: *sender });
        }
        if matches!(
            control.kind,
            ControlKind::Add { .. } | ControlKind::Remove { .. }
        ) {
            let declared = control.dgm_parents();
            if let Some(missing) = past
                .iter()
                .find(|x| dgm.contains(x) && !dgm.in_past_of(&declared, x))
            {
                return Err(DcgkaError::InconsistentParents {
                    sender: *sender,
                    missing: *missing,
                });
            }
        }
        Ok(())
    }

    /// Whether `sender` is removed in the membership over `past` (rule 1).
    pub fn removed_in_past(&self, sender: &MemberId, past: &[OpId]) -> bool {
        self.dgm
            .as_ref()
            .is_some_and(|d| d.is_removed_at(past, sender))
    }

    /// [`Dcgka::decrypt`] of an application message whose causal past
    /// holds the membership ops `past`: refuses a sender removed in that
    /// past (rule 1) or whose ratchet was dropped (rule 3) with
    /// [`DcgkaError::SenderRemoved`].
    pub fn decrypt_in_past(
        &mut self,
        sender: &MemberId,
        past: &[OpId],
        message: &[u8],
        aad: &[u8],
    ) -> Result<SecretBytes> {
        if self.removed_in_past(sender, past) || self.ratchet_dropped(sender) {
            return Err(DcgkaError::SenderRemoved { sender: *sender });
        }
        self.decrypt(sender, message, aad)
    }

    /// Whether `member` is no member and one of its removes is settled
    /// (rule 3): its ratchet is gone for good.
    pub fn ratchet_dropped(&self, member: &MemberId) -> bool {
        let Some(dgm) = self.dgm.as_ref() else {
            return false;
        };
        *member != self.me && !dgm.is_member(member) && self.settled_removal(member)
    }

    /// Whether some remove of `member` has been seen by every current
    /// member other than this one.
    fn settled_removal(&self, member: &MemberId) -> bool {
        let Some(dgm) = self.dgm.as_ref() else {
            return false;
        };
        dgm.removals_of(member)
            .iter()
            .any(|r| dgm.seen_by_all(r, &self.me))
    }

    /// Rule 3 after a processed control message: drops the receiving
    /// ratchets of removed members whose removal is settled. Only removed
    /// ids that still hold a ratchet are looked at (usually none).
    pub(crate) fn drop_settled_ratchets(&mut self) {
        let Some(dgm) = self.dgm.as_ref() else {
            return;
        };
        let candidates: Vec<MemberId> = dgm
            .removed_ids()
            .filter(|m| *m != self.me && self.receiving.contains_key(m) && !dgm.is_member(m))
            .collect();
        for m in candidates {
            if self.settled_removal(&m) {
                // Zeroized on drop.
                self.receiving.remove(&m);
                tracing::debug!(member = ?m, "dcgka: removal settled, ratchet dropped");
            }
        }
    }
}
