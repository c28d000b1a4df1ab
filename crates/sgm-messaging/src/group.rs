//! [`Group`]: the state of one member in one group, and its actions.

use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use bytes::Bytes;
use sgm_2sm::{PrekeyStore, PublishedPrekeys};
use sgm_acb::{Acb, DirectPart, MessageId};
use sgm_crypto::{CryptoRng, MemberId, Secret, SecretBytes, SigningKey};
use sgm_dcgka::{Dcgka, Outgoing, PrekeyDirectory};

use crate::book::{Book, Entry, Readers, Tracked, WelcomeSeed};
use crate::config::Config;
use crate::credential::{CredentialValidator, default_validator, welcome_digest};
use crate::error::{Error, Result};
use crate::event::{Event, TranscriptEntry};
use crate::ids::{GroupId, Hex, Invite, Mid, Mix, UserId};
use crate::packet::{
    AppBodyPb, CardPb, Destination, Kind, Packet, PacketKind, Payload, WelcomePb, frame,
};
use crate::padding::pad;

/// A welcome not answered (nothing heard from the new member) is re-sent
/// by [`Group::tick`] after this long.
pub const WELCOME_RESEND_MS: u64 = 2_000;

/// §7 fallback: concurrent updates/removals that the designated member
/// (see [`Group::dominating_update_due`]) has not dominated after this
/// long are dominated by whichever member sends next, as the rule
/// originally asks (the designee may be offline, partitioned or gone).
pub const DOMINATE_FALLBACK_MS: u64 = 10_000;

/// Acks are spread over this many ms per known member (see
/// `Group::ack_delay`): 48 ms at 12 members, 2 s at 500.
pub const ACK_SPREAD_PER_MEMBER_MS: u64 = 4;

/// Largest application plaintext.
pub const MAX_PLAINTEXT: usize = 256 * 1024;

/// What every action and every received packet yields: the packets to send,
/// what happened, and the new state to persist **together with** the
/// packets (one transaction), so a crash never loses or repeats an action.
#[derive(Clone)]
pub struct Output {
    /// Packets to transmit.
    pub packets: Vec<Packet>,
    /// What happened.
    pub events: Vec<Event>,
    /// The new state ([`Group::from_bytes`] restores it); zeroized on drop.
    /// `None` when nothing changed (a duplicate, an echo, a tick with
    /// nothing to do) or when [`Config::state_in_output`] is off.
    pub state: Option<SecretBytes>,
    /// The id of the application message sent, for [`Group::send`].
    pub sent: Option<MessageId>,
}

impl core::fmt::Debug for Output {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Output")
            .field("packets", &self.packets.len())
            .field("events", &self.events)
            .field("state", &self.state.as_ref().map(SecretBytes::len))
            .field("sent", &self.sent)
            .finish()
    }
}

/// One member's state in one group: ACB + DGM + DCGKA + message ratchets
/// behind one type. See the crate documentation.
#[derive(Clone)]
pub struct Group {
    pub(crate) config: Config,
    pub(crate) user: UserId,
    pub(crate) group_id: Option<GroupId>,
    pub(crate) acb: Acb,
    pub(crate) dcgka: Dcgka,
    pub(crate) book: Book,
    /// The application's check of member cards (not persisted).
    pub(crate) validator: Arc<dyn CredentialValidator>,
}

impl core::fmt::Debug for Group {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Group")
            .field("user", &self.user)
            .field("me", &self.me())
            .field("group", &self.group_id)
            .field("members", &self.members().len())
            .field("secrets", &"[redacted]")
            .finish()
    }
}

/// Working buffers of one action.
#[derive(Default)]
pub(crate) struct Acc {
    pub(crate) packets: Vec<Packet>,
    pub(crate) events: Vec<Event>,
    pub(crate) sent: Option<MessageId>,
}

impl Group {
    /// A fresh member identity for `user`, for one group: returns the state
    /// (not in a group yet), the invite to hand to whoever creates the group
    /// or adds this user, and the prekeys to publish on the key server
    /// (`one_time_prekeys` of them: one is used per peer that contacts this
    /// member first).
    pub fn new(
        user: UserId,
        config: Config,
        one_time_prekeys: usize,
        rng: &mut impl CryptoRng,
    ) -> (Self, Invite, PublishedPrekeys) {
        let sk = SigningKey::generate(rng);
        let (store, published) = PrekeyStore::publish(rng, &sk, one_time_prekeys);
        // The card is born here, signed by the fresh identity key.
        let invite = Invite::sign(user.clone(), &sk);
        let acb = Acb::new(sk.clone(), crate::config::acb_config(&config, 1));
        let dcgka = Dcgka::init(sk, store, config.dcgka());
        let mut book = Book::default();
        book.add_card(&invite);
        (
            Self {
                config,
                user,
                group_id: None,
                acb,
                dcgka,
                book,
                validator: default_validator(),
            },
            invite,
            published,
        )
    }

    // ----- queries -------------------------------------------------------

    /// This member's id in this group.
    pub fn me(&self) -> MemberId {
        self.dcgka.id()
    }

    /// This member's user.
    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// The group, once created or joined.
    pub fn group_id(&self) -> Option<GroupId> {
        self.group_id
    }

    /// The options.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether this member is in the group now.
    pub fn is_member(&self) -> bool {
        self.book.joined && !self.book.removed
    }

    /// Whether this member was removed.
    pub fn is_removed(&self) -> bool {
        self.book.removed
    }

    /// The current members (as this member sees them).
    pub fn members(&self) -> BTreeSet<MemberId> {
        self.dcgka.members()
    }

    /// The user of a member id (current or past).
    pub fn user_of(&self, member: &MemberId) -> Option<&UserId> {
        self.book.cards.get(&Mid(*member)).map(|c| &c.user)
    }

    /// The current members by user: user → current member id.
    pub fn users(&self) -> BTreeMap<UserId, MemberId> {
        self.members()
            .into_iter()
            .filter_map(|m| self.user_of(&m).map(|u| (u.clone(), m)))
            .collect()
    }

    /// The current member id of `user`.
    pub fn member_of(&self, user: &UserId) -> Option<MemberId> {
        self.users().get(user).copied()
    }

    /// The transcript in display order (this member's delivery order, a
    /// linearization of the causal order), oldest first.
    pub fn transcript(&self) -> Vec<TranscriptEntry> {
        self.book
            .transcript
            .iter()
            .map(TranscriptEntry::of)
            .collect()
    }

    /// The messages some intended reader has not acknowledged yet, with
    /// those readers.
    pub fn unacknowledged(&self) -> BTreeMap<MessageId, BTreeSet<MemberId>> {
        let members: BTreeSet<Mid> = self.members().into_iter().map(Mid).collect();
        self.book
            .tracked
            .iter()
            .map(|(id, t)| {
                let missing = self.book.missing(t, &members).map(|m| m.0).collect();
                (id.0, missing)
            })
            .filter(|(_, missing): &(MessageId, BTreeSet<MemberId>)| !missing.is_empty())
            .collect()
    }

    /// The other members, shared while the membership is unchanged (the
    /// readers of tracked messages).
    pub(crate) fn readers(&mut self) -> Readers {
        if let Some(r) = &self.book.readers {
            return r.clone();
        }
        let me = self.me();
        let others = self.members().into_iter().filter(|m| *m != me).map(Mid);
        let r = Readers(std::sync::Arc::new(others.collect()));
        self.book.readers = Some(r.clone());
        r
    }

    /// Whether the §7 rule asks for an update before the next message:
    /// several concurrent updates/removals with nothing dominating them yet.
    pub fn needs_dominating_update(&self) -> bool {
        self.config.dominate_concurrent && self.book.undominated.len() >= 2
    }

    /// Whether this member should send the §7 dominating update now.
    ///
    /// One update whose causal past holds the concurrent operations
    /// dominates them all. If every member that sends did one (the rule as
    /// written), concurrent senders would make concurrent updates, each
    /// again needing domination: at n members that is O(n) updates per
    /// round of messages, each acked by everyone, O(n³) packets received
    /// (the 500-member demo never finished). So one member is designated:
    /// the author of the smallest undominated operation id that is still a
    /// member (members that delivered the same operations agree on it). It
    /// updates from `tick` after [`Config::ack_delay_ms`] (more concurrent
    /// operations may arrive meanwhile) or before its next message. Anyone
    /// else does so only after [`DOMINATE_FALLBACK_MS`].
    pub(crate) fn dominating_update_due(&self, now_ms: u64, from_tick: bool) -> bool {
        if !self.needs_dominating_update() {
            return false;
        }
        let since = self.book.undominated_since.unwrap_or(now_ms);
        let waited = now_ms.saturating_sub(since);
        if waited >= DOMINATE_FALLBACK_MS {
            return !from_tick;
        }
        self.dominator() == Some(self.me()) && (!from_tick || waited >= self.config.ack_delay_ms)
    }

    /// How long this member's acks wait: [`Config::ack_delay_ms`] plus a
    /// fixed per-member offset below [`ACK_SPREAD_PER_MEMBER_MS`] × the
    /// members known. Every member acks each round of messages or each
    /// key-agreement operation; sent at the same instant, the acks are all
    /// concurrent, every member becomes a head, and every later broadcast
    /// names all n of them (16 KiB of parents each at 500 members, decoded
    /// by everyone). Spread out, each ack sees the earlier ones and names
    /// only the few heads since.
    pub(crate) fn ack_delay(&self) -> u64 {
        let spread = ACK_SPREAD_PER_MEMBER_MS.saturating_mul(self.book.cards.len() as u64);
        let me = self.me();
        let seed = me
            .as_bytes()
            .first_chunk::<8>()
            .map_or(0, |b| u64::from_le_bytes(*b));
        let offset = seed % spread.max(1);
        self.config.ack_delay_ms.saturating_add(offset)
    }

    /// The member designated to dominate the undominated operations.
    fn dominator(&self) -> Option<MemberId> {
        let members = self.dcgka.members();
        self.book
            .undominated
            .iter()
            .filter_map(|u| self.book.meta.get(u))
            .map(|m| m.sender.0)
            .find(|s| members.contains(s))
            .or_else(|| members.first().copied())
    }

    /// How many application messages were never meant for this member
    /// ([`Event::NotForMe`]).
    pub fn not_for_me_count(&self) -> u64 {
        self.book.not_for_me
    }

    /// Broadcasts waiting for missing predecessors (call
    /// [`Group::sync_request`] if this stays non-zero).
    pub fn waiting(&self) -> usize {
        self.acb.buffered().0 + self.book.parked.len()
    }

    /// Whom to send the next [`Group::sync_request`] to while
    /// [`Group::waiting`] is non-zero: the sender of the oldest broadcast
    /// waiting for predecessors, which it had delivered before sending
    /// (`None`: nothing waits, or that sender is no longer a member; ask
    /// any peer).
    pub fn sync_hint(&self) -> Option<MemberId> {
        self.acb
            .oldest_waiting_sender()
            .filter(|m| *m != self.me() && self.dcgka.members().contains(m))
    }

    /// The newest delivered sequence number of each known member: what this
    /// member has seen.
    pub fn seen(&self) -> BTreeMap<MemberId, u64> {
        self.book
            .cards
            .keys()
            .map(|m| (m.0, self.acb.delivered_seq_of(&m.0).unwrap_or(0)))
            .collect()
    }

    // ----- actions -------------------------------------------------------

    /// Runs `step` on a copy; commits it and serializes it only on success.
    pub(crate) fn act(
        &mut self,
        step: impl FnOnce(&mut Self, &mut Acc) -> Result<()>,
    ) -> Result<Output> {
        let mut next = self.clone();
        let mut acc = Acc::default();
        step(&mut next, &mut acc)?;
        *self = next;
        Ok(self.finish(acc, true))
    }

    /// Wraps up an action's results.
    pub(crate) fn finish(&self, acc: Acc, changed: bool) -> Output {
        Output {
            packets: acc.packets,
            events: acc.events,
            state: (changed && self.config.state_in_output).then(|| self.to_bytes()),
            sent: acc.sent,
        }
    }

    /// Sends `to` its welcome, from its seed (see [`Group::add`]): the
    /// checkpoint and every broadcast delivered here since the add. Fails
    /// if the store no longer holds one of them (the add was more than
    /// [`Config::history_max_count`] broadcasts ago, scaled with the
    /// group): the new member must then be removed and added again.
    pub(crate) fn welcome(&self, acc: &mut Acc, to: MemberId) -> Result<()> {
        let seed = self
            .book
            .welcome_seeds
            .get(&Mid(to))
            .ok_or(Error::State("welcome without a seed"))?;
        let ids = self.book.log.get(seed.from..).unwrap_or_default();
        let history = ids
            .iter()
            .map(|id| self.acb.get_shared(&id.0))
            .collect::<Option<Vec<Bytes>>>()
            .ok_or(Error::State("welcome history evicted from the store"))?;
        self.push_welcome(acc, to, seed, history)
    }

    pub(crate) fn gid(&self) -> Result<GroupId> {
        self.group_id.ok_or(Error::NotInGroup)
    }

    fn require_member(&self) -> Result<GroupId> {
        if !self.is_member() {
            return Err(Error::NotInGroup);
        }
        self.gid()
    }

    pub(crate) fn register(&mut self, invite: &Invite) -> bool {
        self.acb.register_member(invite.identity);
        let added = self.book.add_card(invite);
        if added {
            // The bounds grow with the group (`BOUNDS_SCALE_MEMBERS`).
            let bounds = crate::config::acb_config(&self.config, self.book.cards.len());
            if bounds != *self.acb.config() {
                self.acb.set_config(bounds);
            }
        }
        added
    }

    /// Others in the group now.
    pub(crate) fn others(&self) -> Vec<MemberId> {
        let me = self.me();
        self.members().into_iter().filter(|m| *m != me).collect()
    }

    /// Signs and records one broadcast; returns its id and envelope bytes.
    pub(crate) fn broadcast(
        &mut self,
        payload: Payload,
        direct: Vec<DirectPart>,
    ) -> Result<(MessageId, Vec<u8>)> {
        self.broadcast_as(payload, direct, false)
    }

    /// Broadcasts an acknowledgment (a DCGKA ack or a delivery ack) as an
    /// sgm-acb leaf: nothing later names it as a parent, so after everyone
    /// acks an operation the next message names one parent, not one per
    /// member (acks need no causal order among themselves, §8.1, and an
    /// ack is never acknowledged).
    pub(crate) fn broadcast_ack(
        &mut self,
        payload: Payload,
        direct: Vec<DirectPart>,
    ) -> Result<(MessageId, Vec<u8>)> {
        self.broadcast_as(payload, direct, true)
    }

    fn broadcast_as(
        &mut self,
        payload: Payload,
        direct: Vec<DirectPart>,
        leaf: bool,
    ) -> Result<(MessageId, Vec<u8>)> {
        let gid = self.gid()?;
        let parents = self.acb.heads();
        let payload = payload.encode(&gid);
        let out = if leaf {
            self.acb.broadcast_leaf(payload, direct)?
        } else {
            self.acb.broadcast(payload, direct)?
        };
        let me = self.me();
        self.book.record(
            out.id,
            me,
            out.seq,
            &parents,
            self.config.max_tracked_messages,
        );
        // Anything we send acknowledges everything we delivered.
        self.book.ack_due_since = None;
        Ok((out.id, out.bytes))
    }

    pub(crate) fn emit(
        &self,
        acc: &mut Acc,
        to: Destination,
        kind: PacketKind,
        envelope: &[u8],
    ) -> Result<()> {
        acc.packets.push(Packet {
            to,
            kind,
            bytes: frame(&self.gid()?, Kind::Broadcast, envelope),
        });
        Ok(())
    }

    /// Broadcasts one DCGKA control message (with its direct messages).
    pub(crate) fn send_control(
        &mut self,
        out: &Outgoing,
        cards: Vec<Invite>,
    ) -> Result<(MessageId, Vec<u8>)> {
        self.send_control_with(out, cards, None)
    }

    /// [`Group::send_control`] naming a welcome's digest.
    fn send_control_with(
        &mut self,
        out: &Outgoing,
        cards: Vec<Invite>,
        welcome: Option<[u8; 32]>,
    ) -> Result<(MessageId, Vec<u8>)> {
        let direct = out
            .direct
            .iter()
            .map(|d| DirectPart {
                recipient: d.recipient,
                body: d.to_bytes(),
            })
            .collect();
        let payload = Payload::Control {
            control: out.control.to_bytes(),
            cards,
            welcome,
        };
        let (id, env) = if out.control.kind.acknowledged().is_some() {
            self.broadcast_ack(payload, direct)?
        } else {
            self.broadcast(payload, direct)?
        };
        let me = self.me();
        let op = sgm_dcgka::op_id(&me, out.control.seq).0;
        self.book.note_op(id, op);
        if out.control.kind.is_membership_change() {
            // Own membership ops count in later messages' causal past too
            // (`causal.rs`).
            let seq = self.acb.delivered_seq_of(&me).unwrap_or(0);
            self.book.note_memop(op, me, seq);
        }
        Ok((id, env))
    }

    /// Creates the group with `invites` (plus this member). Each invitee gets
    /// a welcome packet.
    pub fn create(
        &mut self,
        invites: &[Invite],
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Output> {
        self.act(|s, acc| {
            if s.group_id.is_some() || s.book.joined {
                return Err(Error::AlreadyInGroup);
            }
            let mut ids = Vec::new();
            s.check_invites(invites, &BTreeMap::new())?;
            for inv in invites {
                let id = inv.member_id();
                if id == s.me() || !s.register(inv) {
                    return Err(Error::IdentityReused(id));
                }
                ids.push(id);
            }
            s.group_id = Some(GroupId(*Secret::<16>::random(rng).expose_secret()));
            let out = s.dcgka.create(&ids, rng, directory)?;
            s.book.readers = None;
            s.book.joined = true;
            s.book.last_update_ms = now_ms;
            let mut cards: Vec<Invite> = invites.to_vec();
            cards.push(s.own_card()?);
            // A create's welcome has no checkpoint: the history is the
            // whole (short) group history, from the create on. Its cards
            // are everyone's, named by the signed create.
            let seed = WelcomeSeed {
                checkpoint: Hex(Vec::new()),
                from: s.book.log.len(),
                cards: s.book.cards.keys().copied().collect(),
            };
            let digest = s.seed_digest(&seed);
            for (i, o) in out.messages.iter().enumerate() {
                // Members get it in their welcome.
                if i + 1 == out.messages.len() {
                    s.send_control_with(o, cards.clone(), Some(digest))?;
                } else {
                    s.send_control(o, Vec::new())?;
                }
            }
            let ev = &out.update_secret;
            s.book
                .note_epoch(ev.member, ev.epoch, now_ms, s.config.old_epochs_max_count);
            acc.events.push(Event::KeyUpdated {
                member: ev.member,
                epoch: ev.epoch,
            });
            for id in ids {
                s.book.welcome_seeds.insert(Mid(id), seed.clone());
                s.welcome(acc, id)?;
                s.book.welcomes.insert(Mid(id), now_ms);
            }
            Ok(())
        })
    }

    fn own_card(&self) -> Result<Invite> {
        self.book
            .cards
            .get(&Mid(self.me()))
            .map(|c| c.invite())
            .ok_or(Error::State("own card"))
    }

    /// The encoded cards a welcome from `seed` carries.
    fn seed_cards(&self, seed: &WelcomeSeed) -> Vec<CardPb> {
        seed.cards
            .iter()
            .filter_map(|m| self.book.cards.get(m))
            .map(|c| CardPb::of(&c.invite()))
            .collect()
    }

    /// What the signed create or add names of the welcome from `seed`.
    fn seed_digest(&self, seed: &WelcomeSeed) -> [u8; 32] {
        let cards: Vec<Vec<u8>> = self
            .seed_cards(seed)
            .iter()
            .map(prost::Message::encode_to_vec)
            .collect();
        welcome_digest(&seed.checkpoint.0, &cards)
    }

    fn push_welcome(
        &self,
        acc: &mut Acc,
        to: MemberId,
        seed: &WelcomeSeed,
        history: Vec<Bytes>,
    ) -> Result<()> {
        let checkpoint = Bytes::from(seed.checkpoint.0.clone());
        let cards = self.seed_cards(seed);
        let body = prost::Message::encode_to_vec(&WelcomePb {
            recipient: to.as_bytes().to_vec(),
            cards,
            history,
            checkpoint,
        });
        acc.packets.push(Packet {
            to: Destination::Member(to),
            kind: PacketKind::Welcome,
            bytes: frame(&self.gid()?, Kind::Welcome, &body),
        });
        Ok(())
    }

    /// Adds users (a batch). A user removed earlier can be added again with
    /// a fresh invite: it gets a new member id, and [`Group::users`] maps
    /// the user to it. Each new member gets a welcome packet carrying the
    /// member cards, this member's ACB checkpoint from just before the add
    /// (what counts as delivered; its digest is in the signed add) and the
    /// broadcasts from the add on: its size grows with the history by
    /// about 60 bytes per delivered broadcast, not by the broadcasts.
    pub fn add(
        &mut self,
        invites: &[Invite],
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Output> {
        self.act(|s, acc| {
            s.require_member()?;
            if invites.is_empty() {
                return Err(Error::EmptyBatch);
            }
            let current = s.users();
            let mut seen_users = BTreeSet::new();
            for inv in invites {
                if current.contains_key(&inv.user) || !seen_users.insert(inv.user.clone()) {
                    return Err(Error::UserAlreadyMember(inv.user.clone()));
                }
                if s.book.cards.contains_key(&Mid(inv.member_id())) {
                    return Err(Error::IdentityReused(inv.member_id()));
                }
            }
            let others = s.current_others(None);
            s.check_invites(invites, &others)?;
            let checkpoint = s.acb.checkpoint();
            s.do_add(acc, invites, checkpoint, now_ms, rng, directory)
        })
    }

    /// The add itself, after [`Group::add`]'s checks, with the welcome
    /// checkpoint given (tests play a malicious adder through it).
    pub(crate) fn do_add(
        &mut self,
        acc: &mut Acc,
        invites: &[Invite],
        checkpoint: Vec<u8>,
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<()> {
        {
            let s = self;
            let to = s.others();
            let from = s.book.log.len();
            let mut new = Vec::new();
            let mut seeds = Vec::new();
            for inv in invites {
                // Every card accepted so far (earlier invitees of the
                // batch included), named by this add's signed digest.
                let seed = WelcomeSeed {
                    checkpoint: Hex(checkpoint.clone()),
                    from,
                    cards: s.book.cards.keys().copied().collect(),
                };
                let digest = s.seed_digest(&seed);
                seeds.push(seed);
                s.register(inv);
                let id = inv.member_id();
                let out = s.dcgka.add(id, rng, directory)?;
                s.book.readers = None;
                for (i, o) in out.messages.iter().enumerate() {
                    let last = i + 1 == out.messages.len();
                    let (_, env) = if last {
                        s.send_control_with(o, vec![inv.clone()], Some(digest))?
                    } else {
                        s.send_control(o, vec![])?
                    };
                    s.emit(
                        acc,
                        Destination::Members(to.clone()),
                        PacketKind::Control,
                        &env,
                    )?;
                }
                let ev = &out.update_secret;
                s.book
                    .note_epoch(ev.member, ev.epoch, now_ms, s.config.old_epochs_max_count);
                new.push(id);
            }
            s.book.control_acks_since = None;
            for (id, seed) in new.iter().zip(seeds) {
                s.book.welcome_seeds.insert(Mid(*id), seed);
                s.welcome(acc, *id)?;
                s.book.welcomes.insert(Mid(*id), now_ms);
            }
            acc.events.push(Event::MembershipChanged {
                added: new,
                removed: Vec::new(),
                by: s.me(),
            });
            Ok(())
        }
    }

    /// Removes users (a batch; not oneself).
    pub fn remove(
        &mut self,
        users: &[UserId],
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Output> {
        self.act(|s, acc| {
            s.require_member()?;
            if users.is_empty() {
                return Err(Error::EmptyBatch);
            }
            let current = s.users();
            let mut ids = Vec::new();
            for u in users {
                match current.get(u) {
                    Some(id) if *id != s.me() => ids.push(*id),
                    _ => return Err(Error::NotAMember(u.clone())),
                }
            }
            let to = s.others();
            let out = s.dcgka.remove(&ids, rng, directory)?;
            s.book.readers = None;
            s.send_pcs(acc, &out.messages, &to, rng)?;
            s.note_own_pcs(out.update_secret.epoch, now_ms);
            s.book.note_removed(&ids, now_ms);
            acc.events.push(Event::MembershipChanged {
                added: Vec::new(),
                removed: ids,
                by: s.me(),
            });
            Ok(())
        })
    }

    /// Broadcasts the messages of an update or removal, rotating the
    /// signing key with the operation's own message (paper §5.1).
    fn send_pcs(
        &mut self,
        acc: &mut Acc,
        messages: &[Outgoing],
        to: &[MemberId],
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let mut last = None;
        for (i, o) in messages.iter().enumerate() {
            if i + 1 == messages.len() {
                self.acb.rotate_signing_key(SigningKey::generate(rng));
            }
            let (id, env) = self.send_control(o, Vec::new())?;
            self.emit(
                acc,
                Destination::Members(to.to_vec()),
                PacketKind::Control,
                &env,
            )?;
            last = Some(id);
        }
        self.book.control_acks_since = None;
        if let Some(id) = last {
            self.book.dominated_by_own(id);
        }
        Ok(())
    }

    pub(crate) fn do_update(
        &mut self,
        acc: &mut Acc,
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<()> {
        let to = self.others();
        let out = self.dcgka.update(rng, directory)?;
        self.send_pcs(acc, &out.messages, &to, rng)?;
        let ev = &out.update_secret;
        acc.events.push(Event::KeyUpdated {
            member: ev.member,
            epoch: ev.epoch,
        });
        self.note_own_pcs(ev.epoch, now_ms);
        Ok(())
    }

    /// Records this member's new epoch after an update or removal and
    /// restarts the update policy's counters.
    fn note_own_pcs(&mut self, epoch: u64, now_ms: u64) {
        let me = self.me();
        self.book
            .note_epoch(me, epoch, now_ms, self.config.old_epochs_max_count);
        self.book.last_update_ms = now_ms;
        self.book.sent_since_update = 0;
    }

    /// A PCS update (also rotates this member's signing key).
    pub fn update(
        &mut self,
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Output> {
        self.act(|s, acc| {
            s.require_member()?;
            s.do_update(acc, now_ms, rng, directory)
        })
    }

    fn update_due(&self, now_ms: u64) -> bool {
        self.config
            .update_every_messages
            .is_some_and(|k| self.book.sent_since_update >= k.max(1))
            || self
                .config
                .update_after_ms
                .is_some_and(|t| now_ms.saturating_sub(self.book.last_update_ms) >= t)
            || self.dominating_update_due(now_ms, false)
    }

    /// Sends an application message. The update policy may put a PCS update
    /// in front of it (in the same output).
    pub fn send(
        &mut self,
        plaintext: &[u8],
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Output> {
        self.act(|s, acc| {
            let gid = s.require_member()?;
            if plaintext.len() > MAX_PLAINTEXT {
                return Err(Error::TooLarge {
                    len: plaintext.len(),
                    max: MAX_PLAINTEXT,
                });
            }
            if s.update_due(now_ms) {
                s.do_update(acc, now_ms, rng, directory)?;
            }
            let parents: Vec<Mix> = s.book.app_heads.iter().copied().collect();
            let body = prost::Message::encode_to_vec(&AppBodyPb {
                parents: parents.iter().map(|p| p.0.as_bytes().to_vec()).collect(),
                text: plaintext.to_vec(),
            });
            let padded = zeroize::Zeroizing::new(pad(&body, s.config.padding)?);
            let sealed = s.dcgka.encrypt(&padded, &gid.0)?;
            let to = s.others();
            for o in &sealed.control {
                let (_, env) = s.send_control(o, Vec::new())?;
                s.emit(
                    acc,
                    Destination::Members(to.clone()),
                    PacketKind::Control,
                    &env,
                )?;
            }
            s.book.control_acks_since = None;
            let (id, env) = s.broadcast(Payload::App(sealed.message), Vec::new())?;
            s.emit(
                acc,
                Destination::Members(to.clone()),
                PacketKind::Application,
                &env,
            )?;
            let me = s.me();
            s.push_transcript(id, me, plaintext.to_vec(), parents);
            let seq = s.acb.delivered_seq_of(&me).unwrap_or(0);
            s.track(id, me, seq, now_ms);
            s.book.sent_since_update += 1;
            acc.sent = Some(id);
            Ok(())
        })
    }

    pub(crate) fn push_transcript(
        &mut self,
        id: MessageId,
        sender: MemberId,
        text: Vec<u8>,
        parents: Vec<Mix>,
    ) {
        let above = self.book.transcript.back().map(|e| e.id);
        let out_of_line = match above {
            Some(a) => parents != [a],
            None => !parents.is_empty(),
        };
        for p in &parents {
            self.book.app_heads.remove(p);
        }
        self.book.app_heads.insert(Mix(id));
        let user = self
            .user_of(&sender)
            .cloned()
            .unwrap_or_else(|| UserId(String::new()));
        self.book.transcript.push_back(Entry {
            id: Mix(id),
            sender: Mid(sender),
            user,
            text: Hex(text),
            parents,
            out_of_line,
        });
        while self.book.transcript.len() > self.config.max_transcript.max(1) {
            self.book.transcript.pop_front();
        }
    }

    pub(crate) fn track(&mut self, id: MessageId, sender: MemberId, seq: u64, now_ms: u64) {
        let readers = self.readers();
        if readers.0.iter().all(|r| r.0 == sender) {
            return;
        }
        self.book.start_tracking(
            Mix(id),
            Tracked {
                sender: Mid(sender),
                seq,
                at_ms: now_ms,
                readers,
                warned: false,
                check_ms: now_ms.saturating_add(self.config.delivery_timeout_ms),
            },
        );
        while self.book.tracked.len() > self.config.max_tracked_messages.max(1) {
            // Drop the oldest by time.
            let oldest = self
                .book
                .tracked
                .iter()
                .min_by_key(|(_, t)| t.at_ms)
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => self.book.stop_tracking(&k),
                None => break,
            }
        }
    }
}
