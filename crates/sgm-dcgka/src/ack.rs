//! `process-ack` and `process-add-ack` (Figure 4).

use sgm_crypto::{MemberId, Secret};
use sgm_dgm::OpKind;

use crate::error::{DcgkaError, Result};
use crate::key_schedule::RatchetInput;
use crate::messages::{ControlMessage, DirectKind, DirectMessage};
use crate::output::UpdateSecretEvent;
use crate::state::{Dcgka, op_id};

impl Dcgka {
    /// Whether `(sender, seq)` was processed here (or sent by us).
    pub(crate) fn has_processed(&self, sender: &MemberId, seq: u64) -> bool {
        if *sender == self.me {
            seq <= self.my_seq
        } else {
            self.last_seq.get(sender).is_some_and(|last| seq <= *last)
        }
    }

    /// `process-ack(γ, sender, (ackID, ackSeq), dmsg)`; returns the
    /// update secret of the ack's sender, if one is derived.
    pub(crate) fn process_ack(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        acked_sender: MemberId,
        acked_seq: u64,
        direct: Option<&DirectMessage>,
    ) -> Result<Option<UpdateSecretEvent>> {
        if !self.has_processed(&acked_sender, acked_seq) {
            return Err(DcgkaError::UnknownReference("acknowledged message"));
        }
        // Lines 1–3: an ack of a membership op is itself a DGM op.
        let acked_op = op_id(&acked_sender, acked_seq);
        let is_membership = self
            .dgm_ref()?
            .get(&acked_op)
            .is_some_and(|op| op.kind.is_membership_change());
        if is_membership {
            self.apply_op(sender, control.seq, control.parents.clone(), OpKind::Ack)?;
        }
        // Lines 4–5: take (and delete) the member secret.
        let stored = self
            .member_secrets
            .remove(&(acked_sender, acked_seq, sender));
        let secret = match (stored, direct) {
            (None, None) => return Ok(None),
            (Some(s), None) => s,
            (Some(_), Some(_)) => {
                return Err(DcgkaError::UnexpectedDirectMessage { expected: "none" });
            }
            // Lines 6–7: a member secret forwarded to us.
            (None, Some(direct)) => {
                let DirectKind::Forward(c) = &direct.kind else {
                    return Err(DcgkaError::UnexpectedDirectMessage {
                        expected: "forward",
                    });
                };
                let plaintext = self.decrypt_from(&sender, c)?;
                Secret::from_slice(plaintext.expose_secret())
                    .map_err(|_| DcgkaError::Malformed("forwarded member secret"))?
            }
        };
        // Lines 8–9.
        let i = self.update_ratchet(sender, RatchetInput::Member(&secret))?;
        drop(secret);
        Ok(Some(self.install_update(sender, control.seq, i)?))
    }

    /// `process-add-ack(γ, sender, (ackID, ackSeq), dmsg)`.
    pub(crate) fn process_add_ack(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        acked_sender: MemberId,
        acked_seq: u64,
        direct: Option<&DirectMessage>,
    ) -> Result<Option<UpdateSecretEvent>> {
        if !self.has_processed(&acked_sender, acked_seq) {
            return Err(DcgkaError::UnknownReference("acknowledged add"));
        }
        let is_add = self
            .dgm_ref()?
            .get(&op_id(&acked_sender, acked_seq))
            .is_some_and(|op| matches!(op.kind, OpKind::Add { .. }));
        if !is_add {
            return Err(DcgkaError::UnknownReference(
                "add-ack of a message that is no add",
            ));
        }
        // Lines 1–2.
        let id = self.apply_op(sender, control.seq, control.parents.clone(), OpKind::Ack)?;
        // Lines 3–5: the sender's ratchet state, for the added member.
        if let Some(direct) = direct {
            let DirectKind::RatchetState(c) = &direct.kind else {
                return Err(DcgkaError::UnexpectedDirectMessage {
                    expected: "ratchet state",
                });
            };
            let plaintext = self.decrypt_from(&sender, c)?;
            let state = Secret::from_slice(plaintext.expose_secret())
                .map_err(|_| DcgkaError::Malformed("ratchet state"))?;
            self.ratchet.insert(sender, state);
        }
        // Lines 6–8.
        if self.dgm_ref()?.view_at(&[id]).contains(&self.me) {
            if !self.ratchet.contains_key(&sender) {
                return Err(DcgkaError::UnknownReference(
                    "ratchet state of add-ack sender",
                ));
            }
            let i = self.update_ratchet(sender, RatchetInput::Add)?;
            return Ok(Some(self.install_update(sender, control.seq, i)?));
        }
        Ok(None)
    }
}
