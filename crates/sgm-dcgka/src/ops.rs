//! `create`, `update`, `remove` and their `process-*` counterparts
//! (Figure 4, §6.2.2–6.2.3).

use std::collections::BTreeSet;

use sgm_crypto::{CryptoRng, MemberId};
use sgm_dgm::{Dgm, OpKind};

use crate::error::{DcgkaError, Result};
use crate::messages::{ControlKind, ControlMessage, DirectMessage};
use crate::output::{OperationOutput, Outgoing, ProcessOutput};
use crate::seed::SeedSource;
use crate::state::Dcgka;
use crate::two_party::PrekeyDirectory;

impl Dcgka {
    /// `create(γ, IDs)`: a new group of `members` (this member is added if
    /// missing).
    pub fn create(
        &mut self,
        members: &[MemberId],
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<OperationOutput> {
        self.transact(|s| {
            if s.dgm.is_some() || s.removed {
                return Err(DcgkaError::AlreadyInGroup);
            }
            let mut set: BTreeSet<MemberId> = members.iter().copied().collect();
            set.insert(s.me);
            s.dgm = Some(Dgm::new());
            let control = s.next_control(ControlKind::Create {
                members: set.iter().copied().collect(),
            })?;
            let (seed, direct) = s.generate_seed(&set, rng, directory)?;
            let me = s.me;
            let out = s.process_create(me, &control, SeedSource::Own(seed), rng, directory)?;
            s.finish_operation(control, direct, out)
        })
    }

    /// `update(γ)`: a PCS update.
    pub fn update(
        &mut self,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<OperationOutput> {
        self.transact(|s| {
            if !s.in_group() {
                return Err(DcgkaError::NoGroup);
            }
            let control = s.next_control(ControlKind::Update)?;
            let me = s.me;
            // `member-view(γ, γ.myId)`: what every receiver computes as
            // `member-view(sender)` from the same ops.
            let recipients: BTreeSet<MemberId> = s
                .dgm_ref()?
                .member_view(&me)
                .into_iter()
                .filter(|m| *m != me)
                .collect();
            s.seed_own_operation(control, &recipients, rng, directory)
        })
    }

    /// `remove(γ, IDs)`: removes current members (a batch; not oneself).
    pub fn remove(
        &mut self,
        removed: &[MemberId],
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<OperationOutput> {
        self.transact(|s| {
            if !s.in_group() {
                return Err(DcgkaError::NoGroup);
            }
            let set: BTreeSet<MemberId> = removed.iter().copied().collect();
            let members = s.dgm_ref()?.members();
            if let Some(bad) = set.iter().find(|m| **m == s.me || !members.contains(m)) {
                return Err(DcgkaError::InvalidMembershipChange(*bad));
            }
            if set.is_empty() {
                return Err(DcgkaError::InvalidMembershipChange(s.me));
            }
            let control = s.next_control(ControlKind::Remove {
                members: set.iter().copied().collect(),
            })?;
            let me = s.me;
            let (_, recipients) = s.apply_remove(me, &control, &set)?;
            s.seed_own_operation(control, &recipients, rng, directory)
        })
    }

    /// The common end of `update` and `remove`: `generate-seed` for
    /// `recipients`, then `process-seed` of our own message.
    fn seed_own_operation(
        &mut self,
        control: ControlMessage,
        recipients: &BTreeSet<MemberId>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<OperationOutput> {
        let me = self.me;
        let (seed, direct) = self.generate_seed(recipients, rng, directory)?;
        let out = self.process_seed(
            me,
            control.seq,
            recipients,
            SeedSource::Own(seed),
            rng,
            directory,
        )?;
        self.finish_operation(control, direct, out)
    }

    fn finish_operation(
        &mut self,
        control: ControlMessage,
        direct: Vec<DirectMessage>,
        out: ProcessOutput,
    ) -> Result<OperationOutput> {
        let update_secret = out
            .sender_update_secret
            .ok_or(DcgkaError::UnknownReference("own update secret"))?;
        let mut messages = self.take_pending();
        messages.push(Outgoing { control, direct });
        Ok(OperationOutput {
            messages,
            update_secret,
        })
    }

    /// `process-create`.
    pub(crate) fn process_create(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        source: SeedSource<'_>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<ProcessOutput> {
        let ControlKind::Create { members } = &control.kind else {
            return Err(DcgkaError::Malformed("create"));
        };
        if !control.parents.is_empty() {
            return Err(DcgkaError::Malformed("create with parents"));
        }
        if self.dgm.as_ref().is_some_and(|d| !d.is_empty()) {
            return Err(DcgkaError::AlreadyInGroup);
        }
        if self.dgm.is_none() {
            self.dgm = Some(Dgm::new());
        }
        let id = self.apply_op(
            sender,
            control.seq,
            Vec::new(),
            OpKind::Create {
                members: members.clone(),
            },
        )?;
        let recipients: BTreeSet<MemberId> = self
            .dgm_ref()?
            .view_at(&[id])
            .into_iter()
            .filter(|m| *m != sender)
            .collect();
        self.process_seed(sender, control.seq, &recipients, source, rng, directory)
    }

    /// `process-update`.
    pub(crate) fn process_update(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        direct: Option<&DirectMessage>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<ProcessOutput> {
        if !control.parents.is_empty() {
            return Err(DcgkaError::Malformed("update with parents"));
        }
        let view = self.dgm_ref()?.member_view(&sender);
        if !view.contains(&sender) {
            return Err(DcgkaError::NotAMember(sender));
        }
        let recipients: BTreeSet<MemberId> = view.into_iter().filter(|m| *m != sender).collect();
        self.process_seed(
            sender,
            control.seq,
            &recipients,
            SeedSource::Received(direct),
            rng,
            directory,
        )
    }

    /// Applies a remove op; returns its id and the seed's recipients (the
    /// membership after it, without the sender).
    fn apply_remove(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        removed: &BTreeSet<MemberId>,
    ) -> Result<(sgm_dgm::OpId, BTreeSet<MemberId>)> {
        let id = self.apply_op(
            sender,
            control.seq,
            control.parents.clone(),
            OpKind::Remove {
                members: removed.iter().copied().collect(),
            },
        )?;
        let recipients = self
            .dgm_ref()?
            .view_at(&[id])
            .into_iter()
            .filter(|m| *m != sender)
            .collect();
        Ok((id, recipients))
    }

    /// `process-remove`.
    pub(crate) fn process_remove(
        &mut self,
        sender: MemberId,
        control: &ControlMessage,
        direct: Option<&DirectMessage>,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<ProcessOutput> {
        let ControlKind::Remove { members } = &control.kind else {
            return Err(DcgkaError::Malformed("remove"));
        };
        let set: BTreeSet<MemberId> = members.iter().copied().collect();
        let (_, recipients) = self.apply_remove(sender, control, &set)?;
        self.process_seed(
            sender,
            control.seq,
            &recipients,
            SeedSource::Received(direct),
            rng,
            directory,
        )
    }
}
