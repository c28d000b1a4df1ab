//! `add`, `process-add` and `process-welcome` (Figure 4, §6.2.4), with
//! concurrent additions (§6.2.5).

use sgm_crypto::{CryptoRng, MemberId, Secret};
use sgm_dgm::{Dgm, OpKind, WelcomeHistory};

use crate::error::{DcgkaError, Result};
use crate::key_schedule::RatchetInput;
use crate::messages::{ControlKind, ControlMessage, DirectKind, DirectMessage, Welcome};
use crate::output::{OperationOutput, Outgoing, ProcessOutput};
use crate::state::Dcgka;
use crate::two_party::PrekeyDirectory;

impl Dcgka {
    /// `add(γ, ID)`: adds `added` (an id never in the group before).
    pub fn add(
        &mut self,
        added: MemberId,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<OperationOutput> {
        self.transact(|s| {
            if !s.in_group() {
                return Err(DcgkaError::NoGroup);
            }
            if added == s.me || s.dgm_ref()?.known_members().contains(&added) {
                return Err(DcgkaError::InvalidMembershipChange(added));
            }
            let mut messages = s.take_pending();
            let control = s.next_control(ControlKind::Add { added })?;
            let state = s
                .ratchet
                .get(&s.me)
                .cloned()
                .ok_or(DcgkaError::UnknownReference("own ratchet state"))?;
            let ratchet_ciphertext = s.encrypt_to(&added, state.expose_secret(), rng, directory)?;
            drop(state);
            let welcome = Welcome {
                ratchet_ciphertext,
                history: s.dgm_ref()?.history_for_welcome().to_bytes(),
                seqs: s.last_seq.iter().map(|(m, q)| (*m, *q)).collect(),
            };
            let out = s.process_add(s.me, &control, added, None, rng, directory)?;
            let update_secret = out
                .sender_update_secret
                .ok_or(DcgkaError::UnknownReference("own add"))?;
            messages.push(Outgoing {
                control,
                direct: vec![DirectMessage {
                    recipient: added,
                    kind: DirectKind::Welcome(welcome),
                }],
            });
            Ok(OperationOutput {
                messages,
                update_secret,
            })
        })
    }

    /// `process-add(γ, sender, seq, added, dmsg)`.
    pub(crate) fn process_add(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        added: MemberId,
        direct: Option<&DirectMessage>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<ProcessOutput> {
        let seq = control.seq;
        if added == self.me {
            return self.process_welcome(sender, control, direct);
        }
        if direct.is_some() {
            return Err(DcgkaError::UnexpectedDirectMessage { expected: "none" });
        }
        // Lines 3–4.
        let id = self.apply_op(
            sender,
            seq,
            control.parents.clone(),
            OpKind::Add {
                members: vec![added],
            },
        )?;
        // Lines 5–9.
        let mut out = ProcessOutput::default();
        if self.dgm_ref()?.is_member_at(&[id], &self.me) {
            if !self.ratchet.contains_key(&sender) {
                return Err(DcgkaError::UnknownReference("ratchet state of adder"));
            }
            let first = self.update_ratchet(sender, RatchetInput::Welcome)?;
            self.member_secrets.insert((sender, seq, added), first);
            let i = self.update_ratchet(sender, RatchetInput::Add)?;
            out.sender_update_secret = Some(self.install_update(sender, seq, i)?);
        }
        // Line 10.
        if sender == self.me {
            return Ok(out);
        }
        // Deviation: an add cancelled by the strong-remove rule (its author
        // was removed concurrently) gets no add-ack, so no ratchet state
        // goes to a member who is not in the group. The key schedule above
        // is the same in every delivery order.
        if !self.dgm_ref()?.is_member(&added) {
            return Ok(out);
        }
        // Lines 11–15.
        let reply = self.next_control(ControlKind::AddAck {
            acked_sender: sender,
            acked_seq: seq,
        })?;
        let state = self
            .ratchet
            .get(&self.me)
            .cloned()
            .ok_or(DcgkaError::UnknownReference("own ratchet state"))?;
        let c = self.encrypt_to(&added, state.expose_secret(), rng, directory)?;
        drop(state);
        let me = self.me;
        out.me_update_secret = self.process_add_ack(me, &reply, sender, seq, None)?;
        out.reply = Some(Outgoing {
            control: reply,
            direct: vec![DirectMessage {
                recipient: added,
                kind: DirectKind::RatchetState(c),
            }],
        });
        Ok(out)
    }

    /// `process-welcome(γ, sender, seq, adderHistory, c)`: this member is
    /// the one added.
    fn process_welcome(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        direct: Option<&DirectMessage>,
    ) -> Result<ProcessOutput> {
        if self.dgm.is_some() {
            return Err(DcgkaError::AlreadyInGroup);
        }
        let direct = direct.ok_or(DcgkaError::MissingDirectMessage("welcome"))?;
        let DirectKind::Welcome(welcome) = &direct.kind else {
            return Err(DcgkaError::UnexpectedDirectMessage {
                expected: "welcome",
            });
        };
        // Line 1.
        let history = WelcomeHistory::from_bytes(&welcome.history)
            .map_err(|_| DcgkaError::Malformed("welcome history"))?;
        let dgm = Dgm::from_welcome(history)?;
        self.dgm = Some(dgm);
        let seq = control.seq;
        self.apply_op(
            sender,
            seq,
            control.parents.clone(),
            OpKind::Add {
                members: vec![self.me],
            },
        )?;
        for (member, last) in &welcome.seqs {
            if *member != self.me {
                self.last_seq.insert(*member, *last);
            }
        }
        self.last_seq.insert(sender, seq);
        // Line 2.
        let plaintext = self.decrypt_from(&sender, &welcome.ratchet_ciphertext)?;
        let state = Secret::from_slice(plaintext.expose_secret())
            .map_err(|_| DcgkaError::Malformed("ratchet state"))?;
        self.ratchet.insert(sender, state);
        // Lines 3–5.
        let first = self.update_ratchet(sender, RatchetInput::Welcome)?;
        self.member_secrets.insert((sender, seq, self.me), first);
        let i = self.update_ratchet(sender, RatchetInput::Add)?;
        let sender_update = self.install_update(sender, seq, i)?;
        // Line 6.
        let reply = self.next_control(ControlKind::Ack {
            acked_sender: sender,
            acked_seq: seq,
        })?;
        let me = self.me;
        let me_update = self.process_ack(me, &reply, sender, seq, None)?;
        Ok(ProcessOutput {
            reply: Some(Outgoing {
                control: reply,
                direct: Vec::new(),
            }),
            sender_update_secret: Some(sender_update),
            me_update_secret: me_update,
            removed: false,
        })
    }
}
