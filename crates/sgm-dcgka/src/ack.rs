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
        // Every fallible step comes before the first change (the DGM apply
        // is itself transactional), so `process` can run an ack without
        // copying the state. After the DGM apply only HKDF runs.
        let is_membership = self.is_membership_op(&acked_sender, acked_seq)?;
        let key = (acked_sender, acked_seq, sender);
        let forwarded = match (self.member_secrets.contains_key(&key), direct) {
            (true, Some(_)) => {
                return Err(DcgkaError::UnexpectedDirectMessage { expected: "none" });
            }
            // Lines 6–7: a member secret forwarded to us.
            (false, Some(direct)) => {
                let DirectKind::Forward(c) = &direct.kind else {
                    return Err(DcgkaError::UnexpectedDirectMessage {
                        expected: "forward",
                    });
                };
                let plaintext = self.decrypt_from(&sender, c)?;
                Some(
                    Secret::from_slice(plaintext.expose_secret())
                        .map_err(|_| DcgkaError::Malformed("forwarded member secret"))?,
                )
            }
            _ => None,
        };
        // Lines 1–3: an ack of a membership op is itself a DGM op.
        if is_membership {
            self.apply_op(sender, control.seq, control.dgm_parents(), OpKind::Ack)?;
        }
        // Lines 4–5: take (and delete) the member secret.
        let Some(secret) = self.member_secrets.remove(&key).or(forwarded) else {
            return Ok(None);
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
        // Lines 3–5 (decrypted first: every fallible step before the
        // first change): the sender's ratchet state, for the added member.
        let state = match direct {
            Some(direct) => {
                let DirectKind::RatchetState(c) = &direct.kind else {
                    return Err(DcgkaError::UnexpectedDirectMessage {
                        expected: "ratchet state",
                    });
                };
                let plaintext = self.decrypt_from(&sender, c)?;
                Some(
                    Secret::from_slice(plaintext.expose_secret())
                        .map_err(|_| DcgkaError::Malformed("ratchet state"))?,
                )
            }
            None => None,
        };
        let in_view = self
            .dgm_ref()?
            .is_member_at(&control.dgm_parents(), &self.me);
        if in_view && state.is_none() && !self.ratchet.contains_key(&sender) {
            return Err(DcgkaError::UnknownReference(
                "ratchet state of add-ack sender",
            ));
        }
        // Lines 1–2.
        self.apply_op(sender, control.seq, control.dgm_parents(), OpKind::Ack)?;
        if let Some(state) = state {
            self.ratchet.insert(sender, state);
        }
        // Lines 6–8 (an ack changes no membership: the view at the add-ack
        // is the view at its parents).
        if in_view {
            let i = self.update_ratchet(sender, RatchetInput::Add)?;
            return Ok(Some(self.install_update(sender, control.seq, i)?));
        }
        Ok(None)
    }
}
