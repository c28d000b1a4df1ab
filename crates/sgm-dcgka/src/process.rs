//! `process(γ, sender, control, dmsg)`: checks, then dispatch to the
//! `process-*` function of the message's type.

use sgm_crypto::{CryptoRng, MemberId};

use crate::error::{DcgkaError, Result};
use crate::messages::{ControlKind, ControlMessage, DirectMessage};
use crate::output::ProcessOutput;
use crate::seed::SeedSource;
use crate::state::Dcgka;
use crate::two_party::PrekeyDirectory;

impl Dcgka {
    /// `process(γ, sender, control, dmsg)`: a control message from `sender`
    /// (authenticated by the layer below) with this member's direct message,
    /// if any.
    ///
    /// Ordering required of the layer below: each sender's control messages
    /// in seq order (a gap or replay is [`DcgkaError::UnexpectedSeq`]); an
    /// ack or add-ack after the message it acknowledges; every message after
    /// the DGM ops its `parents` name. Acks need not be ordered with respect
    /// to each other (§8.1). A message that arrives too early gives a typed
    /// error and can be retried once its predecessors were processed.
    ///
    /// Transactional: on error the state is unchanged.
    pub fn process(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        direct: Option<&DirectMessage>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<ProcessOutput> {
        // Acks and add-acks without a direct message (n per operation)
        // change the state only after their last fallible step, so they run
        // in place; everything else runs on a copy.
        let in_place = direct.is_none()
            && self.dgm.is_some()
            && matches!(
                control.kind,
                ControlKind::Ack { .. } | ControlKind::AddAck { .. }
            );
        if in_place {
            self.process_inner(sender, control, direct, rng, directory)
        } else {
            self.transact(|s| s.process_inner(sender, control, direct, rng, directory))
        }
    }

    /// [`Self::process`] on wire bytes.
    pub fn process_bytes(
        &mut self,
        sender: MemberId,
        control: &[u8],
        direct: Option<&[u8]>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<ProcessOutput> {
        let control = ControlMessage::from_bytes(control)?;
        let direct = direct.map(DirectMessage::from_bytes).transpose()?;
        self.process(sender, &control, direct.as_ref(), rng, directory)
    }

    fn process_inner(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        direct: Option<&DirectMessage>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<ProcessOutput> {
        if sender == self.me {
            return Err(DcgkaError::OwnMessage);
        }
        if self.removed {
            return Err(DcgkaError::NoGroup);
        }
        if let Some(d) = direct.filter(|d| d.recipient != self.me) {
            return Err(DcgkaError::NotForUs {
                recipient: d.recipient,
            });
        }
        let joining = match &control.kind {
            ControlKind::Create { members } if self.dgm.is_none() => {
                if !members.contains(&self.me) {
                    return Err(DcgkaError::NotAMember(self.me));
                }
                true
            }
            ControlKind::Add { added } if *added == self.me => true,
            _ if self.dgm.is_none() => return Err(DcgkaError::NoGroup),
            _ => false,
        };
        if !joining {
            // Checked: the last seq may come from a welcome, which an
            // adder wrote (issue 10: `u64::MAX` panicked here in debug).
            let last = self.last_seq.get(&sender).copied().unwrap_or(0);
            let expected = last
                .checked_add(1)
                .ok_or(DcgkaError::SeqOverflow { sender, last })?;
            if control.seq != expected {
                return Err(DcgkaError::UnexpectedSeq {
                    sender,
                    expected,
                    got: control.seq,
                });
            }
            let dgm = self.dgm_ref()?;
            // Current members first (O(log n)); anyone ever added may still
            // send messages concurrent with its removal.
            if !dgm.is_member(&sender)
                && !self.last_seq.contains_key(&sender)
                && !dgm.known_members().contains(&sender)
            {
                return Err(DcgkaError::NotAMember(sender));
            }
        }
        let is_ack = matches!(
            control.kind,
            ControlKind::Ack { .. } | ControlKind::AddAck { .. }
        );
        if !is_ack {
            // The message's own ack (`process-ack(γ, γ.myId, (sender, seq))`)
            // needs it counted as processed. Acks are counted after their
            // last fallible step (they may run in place).
            self.last_seq.insert(sender, control.seq);
        }
        let mut out = match &control.kind {
            ControlKind::Create { .. } => self.process_create(
                sender,
                control,
                SeedSource::Received(direct),
                rng,
                directory,
            )?,
            ControlKind::Update => self.process_update(sender, control, direct, rng, directory)?,
            ControlKind::Remove { .. } => {
                self.process_remove(sender, control, direct, rng, directory)?
            }
            ControlKind::Add { added } => {
                self.process_add(sender, control, *added, direct, rng, directory)?
            }
            ControlKind::Ack {
                acked_sender,
                acked_seq,
            } => ProcessOutput {
                sender_update_secret: self.process_ack(
                    sender,
                    control,
                    *acked_sender,
                    *acked_seq,
                    direct,
                )?,
                ..ProcessOutput::default()
            },
            ControlKind::AddAck {
                acked_sender,
                acked_seq,
            } => ProcessOutput {
                sender_update_secret: self.process_add_ack(
                    sender,
                    control,
                    *acked_sender,
                    *acked_seq,
                    direct,
                )?,
                ..ProcessOutput::default()
            },
        };
        self.last_seq.insert(sender, control.seq);
        self.receiving
            .entry(sender)
            .or_default()
            .mark_processed(control.seq);
        // A removal may have settled (`causal.rs`, rule 3): O(removed ids).
        self.drop_settled_ratchets();
        if !self.dgm_ref()?.is_member(&self.me) {
            // Removed (directly or by the strong-remove rule): no reply.
            self.removed = true;
            out.reply = None;
            out.removed = true;
            return Ok(out);
        }
        if self.config.coalesce_acks
            && let Some(reply) = out.reply.take()
        {
            self.pending.push(reply);
        }
        Ok(out)
    }
}
