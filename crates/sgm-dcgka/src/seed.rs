//! `generate-seed` and `process-seed` (Figure 4), with the forwarding of
//! member secrets to concurrently added members (§6.2.5, lines 14–19).

use std::collections::BTreeSet;

use sgm_crypto::{CryptoRng, MemberId, Secret};

use crate::error::{DcgkaError, Result};
use crate::key_schedule::{RatchetInput, SeedSecret, member_secret};
use crate::messages::{ControlKind, DirectKind, DirectMessage};
use crate::output::{Outgoing, ProcessOutput};
use crate::state::Dcgka;
use crate::two_party::PrekeyDirectory;

/// Where `process-seed` gets the seed from.
pub(crate) enum SeedSource<'a> {
    /// This member generated it (the paper's `γ.nextSeed`, here handed over
    /// directly so the seed is never part of the stored state).
    Own(SeedSecret),
    /// From the direct message that came with the control message.
    Received(Option<&'a DirectMessage>),
}

impl Dcgka {
    /// `generate-seed(γ, IDs)`: draws the seed (32 bytes, first), then
    /// 2SM-encrypts it to each recipient in ascending id order (each 2SM
    /// send draws its own values, see `sgm_2sm::SendRandomness`).
    pub(crate) fn generate_seed(
        &mut self,
        recipients: &BTreeSet<MemberId>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<(SeedSecret, Vec<DirectMessage>)> {
        let seed = Secret::random(rng);
        let mut direct = Vec::with_capacity(recipients.len());
        let me = self.me;
        for id in recipients.iter().filter(|id| **id != me) {
            let c = self.encrypt_to(id, seed.expose_secret(), rng, directory)?;
            direct.push(DirectMessage {
                recipient: *id,
                kind: DirectKind::Seed(c),
            });
        }
        Ok((seed, direct))
    }

    /// `process-seed(γ, sender, seq, dmsg)`. `recipients` is
    /// `member-view(sender) \ {sender}`: who the seed was encrypted for.
    pub(crate) fn process_seed(
        &mut self,
        sender: MemberId,
        seq: u64,
        recipients: &BTreeSet<MemberId>,
        source: SeedSource<'_>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<ProcessOutput> {
        let seed = match source {
            SeedSource::Own(seed) => seed,
            SeedSource::Received(direct) if recipients.contains(&self.me) => {
                let direct = direct.ok_or(DcgkaError::MissingDirectMessage("seed"))?;
                let DirectKind::Seed(c) = &direct.kind else {
                    return Err(DcgkaError::UnexpectedDirectMessage { expected: "seed" });
                };
                let plaintext = self.decrypt_from(&sender, c)?;
                Secret::from_slice(plaintext.expose_secret())
                    .map_err(|_| DcgkaError::Malformed("seed"))?
            }
            SeedSource::Received(direct) => {
                // Lines 6–7: not a recipient (added concurrently): ack only.
                if direct.is_some() {
                    return Err(DcgkaError::UnexpectedDirectMessage { expected: "none" });
                }
                if !self.dgm_ref()?.is_member(&self.me) {
                    // Removed by this message: nothing to acknowledge.
                    return Ok(ProcessOutput::default());
                }
                let control = self.next_control(ControlKind::Ack {
                    acked_sender: sender,
                    acked_seq: seq,
                })?;
                // Records the ack in the DGM (if the message was a
                // membership op) like every receiver of this ack will; no
                // member secret exists, so no update secret.
                let me = self.me;
                self.process_ack(me, &control, sender, seq, None)?;
                return Ok(ProcessOutput {
                    reply: Some(Outgoing {
                        control,
                        direct: Vec::new(),
                    }),
                    ..ProcessOutput::default()
                });
            }
        };
        // Lines 8–10: member secrets; the seed is dropped (zeroized) after.
        for id in recipients {
            self.member_secrets
                .insert((sender, seq, *id), member_secret(&seed, id)?);
        }
        let sender_secret = member_secret(&seed, &sender)?;
        drop(seed);
        // Line 11.
        let i_sender = self.update_ratchet(sender, RatchetInput::Member(&sender_secret))?;
        drop(sender_secret);
        let sender_update = self.install_update(sender, seq, i_sender)?;
        if sender == self.me {
            return Ok(ProcessOutput {
                sender_update_secret: Some(sender_update),
                ..ProcessOutput::default()
            });
        }
        // Line 13.
        let control = self.next_control(ControlKind::Ack {
            acked_sender: sender,
            acked_seq: seq,
        })?;
        // Lines 14–19: forward our member secret to members the sender did
        // not know about.
        let me = self.me;
        let forward_to: Vec<MemberId> = self
            .dgm_ref()?
            .members()
            .into_iter()
            .filter(|id| *id != sender && *id != me && !recipients.contains(id))
            .collect();
        let mut direct = Vec::with_capacity(forward_to.len());
        if !forward_to.is_empty() {
            let mine = self
                .member_secrets
                .get(&(sender, seq, me))
                .cloned()
                .ok_or(DcgkaError::UnknownReference("own member secret"))?;
            for id in forward_to {
                let c = self.encrypt_to(&id, mine.expose_secret(), rng, directory)?;
                direct.push(DirectMessage {
                    recipient: id,
                    kind: DirectKind::Forward(c),
                });
            }
        }
        // Lines 20–21.
        let acked = self.process_ack(me, &control, sender, seq, None)?;
        Ok(ProcessOutput {
            reply: Some(Outgoing { control, direct }),
            sender_update_secret: Some(sender_update),
            me_update_secret: acked,
            removed: false,
        })
    }
}
