//! Pairwise fan-out (TextSecure v2 groups): no group key; every message is
//! sealed separately to each other member over that member's 2SM session.
//!
//! ```text
//!  send(m)     ─ Application{m} ─▶ each other member     n − 1 ciphertexts, n − 1 HPKE seals
//!  create      ─ Welcome{members} ─▶ each other member
//!  add(x)      ─ Added{x} ─▶ each old member, Welcome{members} ─▶ x
//!  remove(x)   ─ Removed{x} ─▶ each other member and x
//!  update()    ─ Update ─▶ each other member (every 2SM send heals that direction)
//! ```
//! Membership is entirely in each sender's hands: a message goes to the
//! members of the sender's view, and a receiver accepts it from members of
//! its own view.

use std::collections::BTreeSet;

use sgm_2sm::PrekeyStore;
use sgm_crypto::{CryptoRng, MemberId, SecretBytes, SigningKey};

use crate::channels::{Channels, Outgoing, PrekeyDirectory, Staged};
use crate::error::{Result, SenderKeysError};
use crate::payload::{Envelope, MAX_MEMBERS, Payload};
use crate::wire::DistributionId;

/// One member's pairwise fan-out state: a plain value.
#[derive(Clone, Debug)]
pub struct PairwiseMember {
    pub(crate) channels: Channels,
    pub(crate) group: Option<(DistributionId, BTreeSet<MemberId>)>,
    pub(crate) removed: bool,
}

/// What receiving a pairwise message gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairwiseReceived {
    /// The plaintext of an application message.
    pub plaintext: Option<SecretBytes>,
    /// Whether this member was removed.
    pub removed: bool,
    /// Whether the message was a membership change or update.
    pub control: bool,
}

impl PairwiseMember {
    /// A member with this identity and prekey store, not in a group.
    pub fn new(identity: SigningKey, store: PrekeyStore) -> Self {
        Self {
            channels: Channels::new(identity, store),
            group: None,
            removed: false,
        }
    }

    /// Our member id.
    pub fn id(&self) -> MemberId {
        self.channels.id()
    }

    /// The members in this member's view (itself included).
    pub fn members(&self) -> BTreeSet<MemberId> {
        self.group.as_ref().map(|g| g.1.clone()).unwrap_or_default()
    }

    /// Whether this member was removed from its group (and not re-added).
    pub fn was_removed(&self) -> bool {
        self.removed
    }

    /// The pairwise channels.
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    fn fan_out(
        &mut self,
        to: &BTreeSet<MemberId>,
        extra: Option<(MemberId, Envelope)>,
        env: &Envelope,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Staged> {
        let me = self.id();
        let bytes = env.to_bytes();
        let mut staged = Staged::default();
        for m in to.iter().filter(|m| **m != me) {
            self.channels
                .seal(&mut staged, *m, bytes.expose_secret(), rng, directory)?;
        }
        if let Some((m, e)) = extra {
            self.channels
                .seal(&mut staged, m, e.to_bytes().expose_secret(), rng, directory)?;
        }
        Ok(staged)
    }

    fn view(&self) -> Result<(DistributionId, BTreeSet<MemberId>)> {
        self.group.clone().ok_or(SenderKeysError::NoGroup)
    }

    /// Creates a group with `others` (and us).
    pub fn create(
        &mut self,
        others: &[MemberId],
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Vec<Outgoing>> {
        if self.group.is_some() {
            return Err(SenderKeysError::AlreadyInGroup);
        }
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        let mut members: BTreeSet<MemberId> = others.iter().copied().collect();
        members.insert(self.id());
        if members.len() > MAX_MEMBERS {
            return Err(SenderKeysError::InvalidMembershipChange(self.id()));
        }
        let env = Envelope {
            group: id,
            payload: Payload::Welcome {
                members: members.iter().copied().collect(),
                key: None,
            },
        };
        let staged = self.fan_out(&members, None, &env, rng, directory)?;
        self.group = Some((id, members));
        self.removed = false;
        Ok(self.channels.commit(staged))
    }

    /// Adds `added`.
    pub fn add(
        &mut self,
        added: MemberId,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Vec<Outgoing>> {
        let (id, old) = self.view()?;
        if old.contains(&added) || old.len() >= MAX_MEMBERS {
            return Err(SenderKeysError::InvalidMembershipChange(added));
        }
        let mut members = old.clone();
        members.insert(added);
        let welcome = Envelope {
            group: id,
            payload: Payload::Welcome {
                members: members.iter().copied().collect(),
                key: None,
            },
        };
        let env = Envelope {
            group: id,
            payload: Payload::Added(added),
        };
        let staged = self.fan_out(&old, Some((added, welcome)), &env, rng, directory)?;
        self.group = Some((id, members));
        Ok(self.channels.commit(staged))
    }

    /// Removes `removed` (it is told).
    pub fn remove(
        &mut self,
        removed: MemberId,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Vec<Outgoing>> {
        let (id, mut members) = self.view()?;
        if removed == self.id() || !members.remove(&removed) {
            return Err(SenderKeysError::InvalidMembershipChange(removed));
        }
        let env = Envelope {
            group: id,
            payload: Payload::Removed {
                member: removed,
                key: None,
            },
        };
        let staged = self.fan_out(&members, Some((removed, env.clone())), &env, rng, directory)?;
        self.group = Some((id, members));
        Ok(self.channels.commit(staged))
    }

    /// A post-compromise-security update: one 2SM message to each member
    /// (each heals our sending direction of that session).
    pub fn update(
        &mut self,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Vec<Outgoing>> {
        let (id, members) = self.view()?;
        let env = Envelope {
            group: id,
            payload: Payload::Update(None),
        };
        let staged = self.fan_out(&members, None, &env, rng, directory)?;
        Ok(self.channels.commit(staged))
    }

    /// An application message: one 2SM message to each other member.
    pub fn send(
        &mut self,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Vec<Outgoing>> {
        let (id, members) = self.view()?;
        let env = Envelope {
            group: id,
            payload: Payload::Application(plaintext.to_vec()),
        };
        let staged = self.fan_out(&members, None, &env, rng, directory)?;
        Ok(self.channels.commit(staged))
    }

    /// Processes a pairwise message from `from`. On error nothing changed.
    pub fn receive(&mut self, from: &MemberId, bytes: &[u8]) -> Result<PairwiseReceived> {
        let me = self.id();
        let (staged, plaintext) = Staged::opened(self.channels.open(from, bytes)?);
        let env = Envelope::from_bytes(plaintext.expose_secret())?;
        let mut out = PairwiseReceived {
            control: true,
            ..PairwiseReceived::default()
        };
        let next = match (&self.group, env.payload) {
            (None, Payload::Welcome { members, key: None }) => {
                let members: BTreeSet<MemberId> = members.into_iter().collect();
                if !members.contains(&me) || !members.contains(from) {
                    return Err(SenderKeysError::UnexpectedControl(*from));
                }
                Some((env.group, members))
            }
            (None, _) => return Err(SenderKeysError::NoGroup),
            (Some((id, _)), _) if *id != env.group => return Err(SenderKeysError::WrongGroup),
            (Some((_, members)), _) if !members.contains(from) => {
                return Err(SenderKeysError::NotAMember(*from));
            }
            (Some((id, members)), Payload::Added(added)) => {
                if members.contains(&added) {
                    return Err(SenderKeysError::UnexpectedControl(*from));
                }
                let mut members = members.clone();
                members.insert(added);
                Some((*id, members))
            }
            (Some(_), Payload::Removed { member, key: None }) if member == me => {
                out.removed = true;
                None
            }
            (Some((id, members)), Payload::Removed { member, key: None }) => {
                if member == *from {
                    return Err(SenderKeysError::UnexpectedControl(*from));
                }
                let mut members = members.clone();
                members.remove(&member);
                Some((*id, members))
            }
            (Some(g), Payload::Update(None)) => Some(g.clone()),
            (Some(g), Payload::Application(p)) => {
                out.control = false;
                out.plaintext = Some(SecretBytes::new(p));
                Some(g.clone())
            }
            (Some(_), _) => return Err(SenderKeysError::UnexpectedControl(*from)),
        };
        self.channels.commit(staged);
        self.removed = next.is_none();
        self.group = next;
        Ok(out)
    }
}
