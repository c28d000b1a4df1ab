//! A Sender Keys member: its own sender key, the other members' sender
//! keys, its view of the membership and its pairwise channels.
//!
//! ```text
//!  create(others)  ─ Welcome{members, my key} ─────────▶ each other member
//!                    each: its new key ── Key ──────────▶ every other member    O(n²)
//!  add(x)          ─ Added{x} ──────────────────────────▶ each old member
//!                  ─ Welcome{members, my key} ──────────▶ x
//!                    each old member: its key ── Key ───▶ x
//!                    x: its new key ── Key ─────────────▶ every other member    O(n)
//!  remove(x)       ─ Removed{x, my new key} ────────────▶ each remaining member
//!                  ─ Removed{x} ────────────────────────▶ x
//!                    each: rotates, new key ── Key ─────▶ every other member    O(n²)
//!  update()        ─ Update{my new key} ────────────────▶ each other member
//!                    each: rotates, new key ── Key ─────▶ every other member    O(n²)
//!  encrypt(m)      ─ group message (one broadcast) ─────▶ every member          O(1)
//! ```
//!
//! Membership is this member's own view, changed only by authenticated
//! control messages from members (in the decentralized setting nobody
//! orders them: see the crate doc for what concurrent changes do).

use std::collections::{BTreeMap, BTreeSet};

use sgm_2sm::PrekeyStore;
use sgm_crypto::{CryptoRng, MemberId, SecretBytes, SigningKey};

use crate::channels::{Channels, Outgoing, PrekeyDirectory, Staged};
use crate::error::{Result, SenderKeysError};
use crate::payload::{Envelope, Payload};
use crate::state::{OwnSenderKey, SenderKeyRandomness, SenderKeyRecord};
use crate::wire::DistributionId;

/// Most senders whose keys a member holds (members, and keys that arrived
/// before the welcome that makes their senders members).
pub const MAX_SENDERS: usize = 1 << 16;

/// Options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Rotate the own sender key (and distribute it) before a message once
    /// this many were sent with the current one, as Signal rotates by age.
    pub rotate_after_messages: Option<u32>,
}

/// The group as one member sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupView {
    pub(crate) id: DistributionId,
    pub(crate) members: BTreeSet<MemberId>,
    pub(crate) own: OwnSenderKey,
}

/// One member's whole Sender Keys state: a plain value (clone it to keep a
/// copy; serialize it with [`Self::to_bytes`]).
#[derive(Clone, Debug)]
pub struct SenderKeysMember {
    pub(crate) channels: Channels,
    pub(crate) group: Option<GroupView>,
    pub(crate) records: BTreeMap<MemberId, SenderKeyRecord>,
    pub(crate) removed: bool,
    pub(crate) config: Config,
}

/// What receiving a pairwise message gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Pairwise messages to send in response.
    pub replies: Vec<Outgoing>,
    /// Whether a sender key this member uses changed (its own or another's).
    pub key_changed: bool,
    /// Whether this member was removed.
    pub removed: bool,
}

/// A group message and the distributions that must reach their
/// recipients before it (periodic rotation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encrypted {
    /// Distributions of a rotated key, if the key was rotated.
    pub distributions: Vec<Outgoing>,
    /// The group message (a broadcast to every member).
    pub message: Vec<u8>,
}

fn envelope(group: DistributionId, payload: Payload) -> SecretBytes {
    Envelope { group, payload }.to_bytes()
}

impl SenderKeysMember {
    /// A member with this identity and prekey store, not in a group.
    pub fn new(identity: SigningKey, store: PrekeyStore, config: Config) -> Self {
        Self {
            channels: Channels::new(identity, store),
            group: None,
            records: BTreeMap::new(),
            removed: false,
            config,
        }
    }

    /// Our member id.
    pub fn id(&self) -> MemberId {
        self.channels.id()
    }

    /// The members in this member's view (itself included); empty outside a
    /// group.
    pub fn members(&self) -> BTreeSet<MemberId> {
        self.group
            .as_ref()
            .map(|g| g.members.clone())
            .unwrap_or_default()
    }

    /// Whether this member was removed from its group (and not re-added).
    pub fn was_removed(&self) -> bool {
        self.removed
    }

    /// Whether this member is in a group.
    pub fn in_group(&self) -> bool {
        self.group.is_some()
    }

    /// The group's distribution id.
    pub fn distribution_id(&self) -> Option<DistributionId> {
        self.group.as_ref().map(|g| g.id)
    }

    /// The own sender key.
    pub fn own_key(&self) -> Option<&OwnSenderKey> {
        self.group.as_ref().map(|g| &g.own)
    }

    /// The sender-key record of `sender`.
    pub fn record(&self, sender: &MemberId) -> Option<&SenderKeyRecord> {
        self.records.get(sender)
    }

    /// The pairwise channels.
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    fn view(&self) -> Result<&GroupView> {
        self.group.as_ref().ok_or(SenderKeysError::NoGroup)
    }

    /// Seals `payload` to every member of `to` (not us).
    fn seal_to(
        &self,
        staged: &mut Staged,
        to: impl IntoIterator<Item = MemberId>,
        payload: &SecretBytes,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<()> {
        let me = self.id();
        for m in to.into_iter().filter(|m| *m != me) {
            self.channels
                .seal(staged, m, payload.expose_secret(), rng, directory)?;
        }
        Ok(())
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
        let me = self.id();
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        let mut members: BTreeSet<MemberId> = others.iter().copied().collect();
        members.insert(me);
        if members.len() > crate::payload::MAX_MEMBERS {
            return Err(SenderKeysError::InvalidMembershipChange(me));
        }
        let own = OwnSenderKey::generate(id, SenderKeyRandomness::draw(rng));
        let welcome = envelope(
            id,
            Payload::Welcome {
                members: members.iter().copied().collect(),
                key: Some(own.distribution()),
            },
        );
        let mut staged = Staged::default();
        self.seal_to(
            &mut staged,
            members.iter().copied(),
            &welcome,
            rng,
            directory,
        )?;
        self.records.retain(|m, _| members.contains(m));
        self.group = Some(GroupView { id, members, own });
        self.removed = false;
        Ok(self.channels.commit(staged))
    }

    /// Adds `added`: it is welcomed with our key, the others are told to
    /// send it theirs.
    pub fn add(
        &mut self,
        added: MemberId,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Vec<Outgoing>> {
        let g = self.view()?;
        if g.members.contains(&added) || g.members.len() >= crate::payload::MAX_MEMBERS {
            return Err(SenderKeysError::InvalidMembershipChange(added));
        }
        let mut members = g.members.clone();
        members.insert(added);
        let mut staged = Staged::default();
        let notice = envelope(g.id, Payload::Added(added));
        self.seal_to(
            &mut staged,
            g.members.iter().copied(),
            &notice,
            rng,
            directory,
        )?;
        let welcome = envelope(
            g.id,
            Payload::Welcome {
                members: members.iter().copied().collect(),
                key: Some(g.own.distribution()),
            },
        );
        self.channels
            .seal(&mut staged, added, welcome.expose_secret(), rng, directory)?;
        if let Some(g) = self.group.as_mut() {
            g.members = members;
        }
        Ok(self.channels.commit(staged))
    }

    /// Removes `removed`: our key rotates, the others are told to rotate.
    pub fn remove(
        &mut self,
        removed: MemberId,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Vec<Outgoing>> {
        let me = self.id();
        let g = self.view()?;
        if removed == me || !g.members.contains(&removed) {
            return Err(SenderKeysError::InvalidMembershipChange(removed));
        }
        let mut members = g.members.clone();
        members.remove(&removed);
        let own = OwnSenderKey::generate(g.id, SenderKeyRandomness::draw(rng));
        let mut staged = Staged::default();
        let notice = envelope(
            g.id,
            Payload::Removed {
                member: removed,
                key: Some(own.distribution()),
            },
        );
        self.seal_to(
            &mut staged,
            members.iter().copied(),
            &notice,
            rng,
            directory,
        )?;
        let told = envelope(
            g.id,
            Payload::Removed {
                member: removed,
                key: None,
            },
        );
        self.channels
            .seal(&mut staged, removed, told.expose_secret(), rng, directory)?;
        let id = g.id;
        self.records.remove(&removed);
        self.group = Some(GroupView { id, members, own });
        Ok(self.channels.commit(staged))
    }

    /// A post-compromise-security update: our key rotates, and every member
    /// that receives it rotates its own.
    pub fn update(
        &mut self,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Vec<Outgoing>> {
        let g = self.view()?;
        let own = OwnSenderKey::generate(g.id, SenderKeyRandomness::draw(rng));
        let mut staged = Staged::default();
        let notice = envelope(g.id, Payload::Update(Some(own.distribution())));
        self.seal_to(
            &mut staged,
            g.members.iter().copied(),
            &notice,
            rng,
            directory,
        )?;
        if let Some(g) = self.group.as_mut() {
            g.own = own;
        }
        Ok(self.channels.commit(staged))
    }

    /// Encrypts a group message (rotating first if [`Config`] says so).
    pub fn encrypt(
        &mut self,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Encrypted> {
        let g = self.view()?;
        let rotate = self
            .config
            .rotate_after_messages
            .is_some_and(|limit| g.own.iteration() >= limit);
        let mut own = if rotate {
            OwnSenderKey::generate(g.id, SenderKeyRandomness::draw(rng))
        } else {
            g.own.clone()
        };
        let mut staged = Staged::default();
        if rotate {
            let key = envelope(g.id, Payload::Key(own.distribution()));
            self.seal_to(&mut staged, g.members.iter().copied(), &key, rng, directory)?;
        }
        let message = own.encrypt(plaintext)?;
        if let Some(g) = self.group.as_mut() {
            g.own = own;
        }
        Ok(Encrypted {
            distributions: self.channels.commit(staged),
            message,
        })
    }

    /// Verifies and decrypts a group message from `sender`.
    pub fn decrypt(&mut self, sender: &MemberId, message: &[u8]) -> Result<SecretBytes> {
        let g = self.view()?;
        if !g.members.contains(sender) || *sender == self.id() {
            return Err(SenderKeysError::NotAMember(*sender));
        }
        let id = g.id;
        let record = self
            .records
            .get_mut(sender)
            .ok_or(SenderKeysError::UnknownChain {
                sender: *sender,
                chain_id: crate::wire::UnverifiedGroupMessage::decode(message)?.chain_id,
            })?;
        record.decrypt(sender, &id, message)
    }

    /// Processes a pairwise message from `from`. On error nothing changed.
    pub fn receive(
        &mut self,
        from: &MemberId,
        bytes: &[u8],
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Received> {
        let (mut staged, plaintext) = Staged::opened(self.channels.open(from, bytes)?);
        let env = Envelope::from_bytes(plaintext.expose_secret())?;
        let (next, out) = self.handle(*from, env, &mut staged, rng, directory)?;
        let replies = self.channels.commit(staged);
        next.apply(self);
        Ok(Received { replies, ..out })
    }

    /// Checks a payload and computes its effect without changing anything.
    fn handle(
        &self,
        from: MemberId,
        env: Envelope,
        staged: &mut Staged,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<(Effect, Received)> {
        let me = self.id();
        let mut out = Received {
            key_changed: true,
            ..Received::default()
        };
        if let Some(g) = &self.group {
            if env.group != g.id {
                return Err(SenderKeysError::WrongGroup);
            }
            if !matches!(env.payload, Payload::Key(_)) && !g.members.contains(&from) {
                return Err(SenderKeysError::NotAMember(from));
            }
        }
        let effect = match (env.payload, &self.group) {
            (Payload::Welcome { members, key }, None) => {
                let members: BTreeSet<MemberId> = members.into_iter().collect();
                let key = key.ok_or(SenderKeysError::Malformed("welcome without key"))?;
                if !members.contains(&me)
                    || !members.contains(&from)
                    || key.distribution_id != env.group
                {
                    return Err(SenderKeysError::UnexpectedControl(from));
                }
                let own = OwnSenderKey::generate(env.group, SenderKeyRandomness::draw(rng));
                let dist = envelope(env.group, Payload::Key(own.distribution()));
                self.seal_to(staged, members.iter().copied(), &dist, rng, directory)?;
                Effect::Join {
                    view: GroupView {
                        id: env.group,
                        members,
                        own,
                    },
                    from,
                    key,
                }
            }
            (Payload::Added(added), Some(g)) => {
                out.key_changed = false;
                if g.members.contains(&added) {
                    return Err(SenderKeysError::UnexpectedControl(from));
                }
                let dist = envelope(g.id, Payload::Key(g.own.distribution()));
                self.channels
                    .seal(staged, added, dist.expose_secret(), rng, directory)?;
                Effect::Added(added)
            }
            (Payload::Removed { member, .. }, Some(_)) if member == me => {
                out.removed = true;
                Effect::RemovedMe
            }
            (Payload::Removed { member, key }, Some(g)) => {
                let key = key.ok_or(SenderKeysError::Malformed("removal without key"))?;
                if key.distribution_id != g.id || member == from {
                    return Err(SenderKeysError::UnexpectedControl(from));
                }
                let mut members = g.members.clone();
                members.remove(&member);
                let own = OwnSenderKey::generate(g.id, SenderKeyRandomness::draw(rng));
                let dist = envelope(g.id, Payload::Key(own.distribution()));
                self.seal_to(staged, members.iter().copied(), &dist, rng, directory)?;
                Effect::Rotate {
                    members,
                    removed: Some(member),
                    own,
                    from,
                    key,
                }
            }
            (Payload::Update(key), Some(g)) => {
                let key = key.ok_or(SenderKeysError::Malformed("update without key"))?;
                if key.distribution_id != g.id {
                    return Err(SenderKeysError::WrongGroup);
                }
                let own = OwnSenderKey::generate(g.id, SenderKeyRandomness::draw(rng));
                let dist = envelope(g.id, Payload::Key(own.distribution()));
                self.seal_to(staged, g.members.iter().copied(), &dist, rng, directory)?;
                Effect::Rotate {
                    members: g.members.clone(),
                    removed: None,
                    own,
                    from,
                    key,
                }
            }
            (Payload::Key(key), _) => {
                if key.distribution_id != env.group {
                    return Err(SenderKeysError::WrongGroup);
                }
                if !self.records.contains_key(&from) && self.records.len() >= MAX_SENDERS {
                    return Err(SenderKeysError::TooManySenders);
                }
                Effect::Key { from, key }
            }
            (Payload::Application(_), _) => {
                return Err(SenderKeysError::Malformed("application payload"));
            }
            (_, None) => return Err(SenderKeysError::NoGroup),
            (Payload::Welcome { .. }, Some(_)) => {
                return Err(SenderKeysError::UnexpectedControl(from));
            }
        };
        Ok((effect, out))
    }
}

/// A checked change, applied only after everything else succeeded.
enum Effect {
    Join {
        view: GroupView,
        from: MemberId,
        key: crate::wire::Distribution,
    },
    Added(MemberId),
    RemovedMe,
    Rotate {
        members: BTreeSet<MemberId>,
        removed: Option<MemberId>,
        own: OwnSenderKey,
        from: MemberId,
        key: crate::wire::Distribution,
    },
    Key {
        from: MemberId,
        key: crate::wire::Distribution,
    },
}

impl Effect {
    fn apply(self, m: &mut SenderKeysMember) {
        match self {
            Effect::Join { view, from, key } => {
                // Keys that arrived before the welcome stay if they are of
                // this group and from its members.
                m.records.retain(|s, r| {
                    view.members.contains(s)
                        && r.states()
                            .all(|st| st.distribution.distribution_id == view.id)
                });
                m.records.entry(from).or_default().add(key);
                m.group = Some(view);
                m.removed = false;
            }
            Effect::Added(added) => {
                if let Some(g) = m.group.as_mut() {
                    g.members.insert(added);
                }
            }
            Effect::RemovedMe => {
                m.group = None;
                m.records.clear();
                m.removed = true;
            }
            Effect::Rotate {
                members,
                removed,
                own,
                from,
                key,
            } => {
                if let Some(r) = removed {
                    m.records.remove(&r);
                }
                m.records.entry(from).or_default().add(key);
                if let Some(g) = m.group.as_mut() {
                    g.members = members;
                    g.own = own;
                }
            }
            Effect::Key { from, key } => {
                m.records.entry(from).or_default().add(key);
            }
        }
    }
}
