//! [`Group::receive`]: packets in, events and replies out.

use bytes::Bytes;

use sgm_acb::{AcbError, AcbEvent, Delivered, Fork, MessageId};
use sgm_crypto::{CryptoRng, MemberId};
use sgm_dcgka::messages::{ControlKind, ControlMessage};
use sgm_dcgka::ratchet::ApplicationMessage;
use sgm_dcgka::{DcgkaError, PrekeyDirectory};
use sgm_dgm::OpId;

use crate::book::{MAX_PARKED, MAX_PARKED_BYTES};
use crate::causal::{CausalMembership, ever_removed};
use crate::config::{MAX_PARENTS, acb_config};
use crate::credential::welcome_digest;
use crate::error::{Error, Result};
use crate::event::{Event, NotForMe, Warning};
use crate::fetch::quiet_fork_failures;
use crate::group::{Acc, Group, Output};
use crate::ids::Invite;
use crate::ids::{GroupId, Hex, Mid, Mix, UserId};
use crate::packet::{
    AppBodyPb, BatchPb, CardPb, Destination, Kind, Packet, PacketKind, Payload, WelcomePb, frame,
    member, unframe_shared,
};
use crate::padding::unpad;
use crate::prescan::field_counts;
use crate::vv::Vv;

/// Most bytes of envelopes in one sync answer. A member far behind catches
/// up over several requests (its periodic sync asks again), and one answer
/// stays well inside the receiver's packet and broadcast-buffer bounds.
pub const MAX_RESEND_BYTES: usize = 4 << 20;

/// A member asks a peer back (because the peer's sync request showed it
/// has something this member lacks) at most once per this long.
pub const ASK_BACK_MS: u64 = 1_000;

/// Most envelopes in one resend batch, sent or received (counted before
/// decoding: a 16 MiB batch of empty envelopes allocated 288 MiB). A
/// member sends at most `min(Config::max_resend_batch, this)`.
pub const MAX_BATCH_ENVELOPES: usize = 4096;

/// An envelope from a resend batch or a welcome, copied out of it. Those
/// packets are built for one member, so there is nothing to share, and a
/// slice would keep the whole batch (up to [`MAX_RESEND_BYTES`], most of
/// it often duplicates) alive while any one of its envelopes is stored.
fn unpinned(envelope: &Bytes) -> Bytes {
    Bytes::copy_from_slice(envelope)
}

impl Group {
    /// Processes one received packet. A packet this member sent itself
    /// (echoed by a relay) and duplicates are no-ops. Errors concern the
    /// packet itself, and leave the state unchanged.
    pub fn receive(
        &mut self,
        packet: &[u8],
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Output> {
        self.receive_shared(Bytes::copy_from_slice(packet), now_ms, rng, directory)
    }

    /// [`Group::receive`] without a copy: the envelopes kept for re-sending
    /// are slices of `packet` (one allocation however many members, or
    /// copies of the state, hold them; a simulator delivering one packet
    /// to many members keeps one copy).
    pub fn receive_shared(
        &mut self,
        packet: Bytes,
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Output> {
        let (gid, kind, body) = unframe_shared(&packet)?;
        // In memory only (the stamp of the next sync request).
        self.book.clock_ms = self.book.clock_ms.max(now_ms);
        if let Some(mine) = self.group_id {
            if mine != gid {
                return Err(Error::WrongGroup {
                    expected: mine,
                    got: gid,
                });
            }
            // These paths validate before they change anything and cannot
            // fail afterwards, so they run in place (no copy of the state).
            let mut acc = Acc::default();
            let changed = match kind {
                Kind::Broadcast => {
                    // The id is a hash of the bytes: a duplicate costs no
                    // decoding (at 500 members an envelope names ~500
                    // parents, and most re-sent envelopes are duplicates).
                    if self.has_envelope(&MessageId::of_envelope(&body)) {
                        // A duplicate, or our own packet echoed by a relay.
                        false
                    } else {
                        self.ingest(&gid, body, false)?;
                        self.deliver_all(&mut acc, now_ms, rng, directory);
                        true
                    }
                }
                Kind::Resend => {
                    let [count] = field_counts::<1>(&body, "resend batch")?;
                    if count > MAX_BATCH_ENVELOPES {
                        return Err(Error::TooManyEntries {
                            what: "resend batch",
                            count,
                            max: MAX_BATCH_ENVELOPES,
                        });
                    }
                    let batch = BatchPb::decode_strict(&body)?;
                    let mut any = false;
                    for e in batch.envelopes {
                        let fresh = !self.has_envelope(&MessageId::of_envelope(&e));
                        // One bad or duplicate envelope does not spoil the
                        // batch (anyone may forward; duplicates are normal).
                        // Delivered one by one: a batch is in causal order,
                        // so nothing waits in ACB's bounded buffer (a large
                        // batch accepted whole would overflow it).
                        if fresh && self.ingest(&gid, unpinned(&e), true).is_ok() {
                            any = true;
                            self.deliver_all(&mut acc, now_ms, rng, directory);
                        }
                    }
                    any
                }
                Kind::Welcome => {
                    // Already joined: an echo or a duplicate. Not decoded
                    // (a 16 MiB welcome allocated 416 MiB here, for
                    // nothing).
                    false
                }
                Kind::Sync => {
                    self.answer_sync(&gid, &body, now_ms, &mut acc)?;
                    false
                }
                Kind::Fetch => {
                    self.answer_fetch(&gid, &body, &mut acc)?;
                    false
                }
            };
            return Ok(self.finish(acc, changed));
        }
        // Not in a group yet: only a welcome changes that; broadcasts that
        // arrive before it wait.
        match kind {
            Kind::Welcome => self.act(|s, acc| s.join(gid, &body, acc, now_ms, rng, directory)),
            Kind::Broadcast => {
                // Parked in memory only (not persisted: a sync request
                // after joining fetches it again), within small bounds.
                self.park(&packet);
                Ok(self.finish(Acc::default(), false))
            }
            // Nothing asked for a resend before joining (sync requests need
            // a group), and nothing here can answer a sync request.
            Kind::Resend | Kind::Sync | Kind::Fetch => Ok(self.finish(Acc::default(), false)),
        }
    }

    /// Whether `id` is one of the broadcasts from before this member's add
    /// that its checkpoint counts as delivered (never seen here, so
    /// references to it are expected).
    fn before_checkpoint(&self, id: &MessageId) -> bool {
        self.book.base.is_some()
            && self.acb.is_delivered(id)
            && !self.book.pos.contains_key(&Mix(*id))
    }

    /// Whether the envelope `id` was delivered or waits (signature checked)
    /// for its predecessors: receiving it again changes nothing.
    fn has_envelope(&self, id: &MessageId) -> bool {
        self.acb.is_delivered(id) || self.acb.get(id).is_some()
    }

    /// Keeps a broadcast whose sender is not known yet, within
    /// [`MAX_PARKED`] packets and [`MAX_PARKED_BYTES`] (the oldest are
    /// dropped first; one larger than the byte bound is not kept). Nothing
    /// parked was verified, so nothing parked is persisted.
    fn park(&mut self, packet: &[u8]) {
        if packet.len() > MAX_PARKED_BYTES {
            return;
        }
        self.book.parked.push_back(Hex(packet.to_vec()));
        self.book.parked_bytes = self.book.parked_bytes.saturating_add(packet.len());
        while self.book.parked.len() > MAX_PARKED || self.book.parked_bytes > MAX_PARKED_BYTES {
            let Some(old) = self.book.parked.pop_front() else {
                break;
            };
            self.book.parked_bytes = self.book.parked_bytes.saturating_sub(old.0.len());
        }
    }

    /// Takes every parked packet out.
    fn unpark(&mut self) -> Vec<Hex> {
        self.book.parked_bytes = 0;
        self.book.parked.drain(..).collect()
    }

    /// Checks an envelope and hands it to ACB (not delivered yet).
    ///
    /// The payload (and the group id it names) is checked at delivery, like
    /// every other payload field: decoding an envelope here too cost a
    /// fifth of the CPU at 500 members (~500 parents each), and a payload
    /// naming another group can only come from a member of this group
    /// (member ids are per group, and ACB checks the signature).
    fn ingest(&mut self, gid: &GroupId, envelope: Bytes, park_unknown: bool) -> Result<()> {
        match self.acb.accept_shared(envelope.clone()) {
            Ok(_) => Ok(()),
            Err(AcbError::UnknownSender { .. }) if park_unknown => {
                // A member added concurrently whose add has not arrived yet:
                // retried when new member keys are learned. (A packet
                // received directly gets the error instead, so that bad
                // input never changes the state; re-sends recover it.)
                self.park(&frame(gid, Kind::Broadcast, &envelope));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Delivers everything ACB can deliver, retrying parked envelopes when
    /// new members become known.
    fn deliver_all(
        &mut self,
        acc: &mut Acc,
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) {
        loop {
            let cards_before = self.book.cards.len();
            loop {
                let next = {
                    // Registered, and not removed in the causal past.
                    let check = CausalMembership {
                        book: &self.book,
                        dcgka: &self.dcgka,
                    };
                    self.acb.deliver_next(&check)
                };
                match next {
                    Some(d) => {
                        let fork = d.fork.map(|_| (d.id, acc.events.len()));
                        self.handle(d, acc, now_ms, rng, directory);
                        if let Some((id, mark)) = fork {
                            quiet_fork_failures(acc, id, mark);
                        }
                    }
                    None => break,
                }
            }
            for ev in self.acb.take_events() {
                let (id, sender, reason) = match ev {
                    AcbEvent::Equivocation {
                        id,
                        sender,
                        seq,
                        existing,
                        evidence,
                    } => {
                        self.note_equivocation(acc, sender, seq, [existing, id], evidence);
                        continue;
                    }
                    AcbEvent::Rejected {
                        id,
                        sender,
                        error: AcbError::NonMember { .. },
                    } if ever_removed(&self.dcgka, &sender) => {
                        acc.events
                            .push(Event::Warning(Warning::SentAfterRemoval { id, sender }));
                        continue;
                    }
                    AcbEvent::Rejected { id, sender, error } => (id, sender, error.to_string()),
                    AcbEvent::Evicted { id, sender, limit } => {
                        (id, sender, format!("evicted ({limit:?})"))
                    }
                    AcbEvent::Expired { id, sender, .. } => (id, sender, "expired".into()),
                    _ => continue,
                };
                acc.events
                    .push(Event::Warning(Warning::Dropped { id, sender, reason }));
            }
            if self.book.cards.len() == cards_before || self.book.parked.is_empty() {
                return;
            }
            let Some(gid) = self.group_id else { return };
            let parked = self.unpark();
            for p in parked {
                if let Ok((g, Kind::Broadcast, body)) = unframe_shared(&Bytes::from(p.0))
                    && g == gid
                {
                    let _ = self.ingest(&gid, body, true);
                }
            }
        }
    }

    /// Processes the welcome for this member: learns the group and its
    /// member keys, replays the history (only the messages from this
    /// member's add on are processed by the key agreement), then any
    /// packets that arrived before the welcome.
    fn join(
        &mut self,
        gid: GroupId,
        body: &Bytes,
        acc: &mut Acc,
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<()> {
        let [_, cards, history, _] = field_counts::<4>(body, "welcome")?;
        let max_history = acb_config(&self.config, MAX_PARENTS).store_max_count;
        for (what, count, max) in [
            ("welcome cards", cards, MAX_PARENTS),
            ("welcome history", history, max_history),
        ] {
            if count > max {
                return Err(Error::TooManyEntries { what, count, max });
            }
        }
        let w = WelcomePb::decode_strict(body)?;
        if member(&w.recipient)? != self.me() {
            // Someone else's welcome (an echo or misrouted): ignore.
            return Ok(());
        }
        let expected = self.book.expected.clone().unwrap_or_default();
        if expected.group.is_some_and(|g| g != gid) {
            return Err(Error::UnexpectedWelcome("another group"));
        }
        self.group_id = Some(gid);
        if !w.checkpoint.is_empty() {
            // Joining mid-history: what the adder had delivered before the
            // add counts as delivered here (it is never received). ACB
            // checks every sender's key chain.
            self.acb.adopt_checkpoint(&w.checkpoint)?;
        }
        // Each card signed by its member; the set is checked against the
        // signed operation's digest below (the whole join is undone if it
        // differs).
        let cards = w
            .cards
            .iter()
            .map(CardPb::invite)
            .collect::<Result<Vec<Invite>>>()?;
        for c in &cards {
            self.register(c);
        }
        if !w.checkpoint.is_empty() {
            let mut base = vec![0u64; self.book.index.len()];
            for (i, m) in self.book.index.iter().enumerate() {
                if let Some(b) = base.get_mut(i) {
                    *b = self.acb.delivered_seq_of(&m.0).unwrap_or(0);
                }
            }
            self.book.base = Some(Vv::from(base));
        }
        for e in w.history {
            self.ingest(&gid, unpinned(&e), true)?;
            self.deliver_all(acc, now_ms, rng, directory);
        }
        if !self.book.joined {
            return Err(Error::Malformed("welcome does not add this member"));
        }
        let encoded: Vec<Vec<u8>> = w.cards.iter().map(prost::Message::encode_to_vec).collect();
        let named = self.book.join_digest.as_ref().map(|h| h.0.as_slice());
        if named != Some(welcome_digest(&w.checkpoint, &encoded).as_slice()) {
            return Err(Error::Malformed(
                "welcome differs from the signed operation's",
            ));
        }
        if let Some(adder) = &expected.adder {
            let by = self
                .book
                .added_by
                .as_ref()
                .and_then(|(m, _)| self.user_of(&m.0));
            if by != Some(adder) {
                return Err(Error::UnexpectedWelcome("another adder"));
            }
        }
        self.check_welcome_cards(&cards)?;
        self.book.expected = None;
        for p in self.unpark() {
            if let Ok((g, Kind::Broadcast, body)) = unframe_shared(&Bytes::from(p.0))
                && g == gid
            {
                let _ = self.ingest(&gid, body, true);
            }
        }
        self.deliver_all(acc, now_ms, rng, directory);
        Ok(())
    }

    /// Handles one delivered broadcast.
    fn handle(
        &mut self,
        d: Delivered,
        acc: &mut Acc,
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) {
        let vv = self.book.record(
            d.id,
            d.sender,
            d.seq,
            &d.parents,
            self.config.max_tracked_messages,
        );
        if !self.book.welcomes.is_empty() {
            // Heard from a member we welcomed: its welcome arrived.
            self.book.welcomes.remove(&Mid(d.sender));
            self.book.welcome_seeds.remove(&Mid(d.sender));
        }
        // Delivery consistency: this broadcast acknowledges its causal past.
        self.book.acknowledged(Mid(d.sender), &vv);
        if d.fork == Some(Fork::OtherKey) {
            // A fork signed by a key its sender rotated away from (or one
            // announced on a fork only): recorded above so that what names
            // it is delivered, its payload never processed
            // (docs/messaging.md, "Equivocation").
            return;
        }
        if d.sender == self.me() || self.book.removed {
            return;
        }
        let decoded = Payload::decode(&d.payload).and_then(|(g, p)| match self.group_id {
            Some(mine) if mine != g => Err(Error::WrongGroup {
                expected: mine,
                got: g,
            }),
            _ => Ok(p),
        });
        let payload = match decoded {
            Ok(p) => p,
            Err(error) => {
                acc.events.push(Event::Warning(Warning::Rejected {
                    id: d.id,
                    sender: d.sender,
                    error,
                }));
                return;
            }
        };
        match payload {
            Payload::Control {
                control,
                cards,
                welcome,
            } => {
                let was_joined = self.book.joined;
                self.handle_control(&d, &control, &cards, &vv, acc, now_ms, rng, directory);
                if !was_joined && self.book.joined {
                    // The signed create or add that added this member: what
                    // it says of the welcome is checked by `join`.
                    self.book.join_digest = welcome.map(|c| Hex(c.to_vec()));
                    self.book.added_by = Some((Mid(d.sender), d.seq));
                }
            }
            Payload::App(bytes) => {
                if self.book.joined {
                    self.handle_app(&d, &bytes, &vv, now_ms, acc);
                } else {
                    self.book.skip(d.id, self.config.max_tracked_messages);
                }
            }
            Payload::Ack => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn handle_control(
        &mut self,
        d: &Delivered,
        control: &[u8],
        cards: &[Invite],
        vv: &Vv,
        acc: &mut Acc,
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) {
        let reject = |acc: &mut Acc, error: Error| {
            acc.events.push(Event::Warning(Warning::Rejected {
                id: d.id,
                sender: d.sender,
                error,
            }));
        };
        let msg = match ControlMessage::from_bytes(control) {
            Ok(m) => m,
            Err(e) => return reject(acc, e.into()),
        };
        let op = sgm_dcgka::op_id(&d.sender, msg.seq);
        self.book.note_op(d.id, op.0);
        // Only membership ops change the membership: the O(n) copies are
        // skipped for updates and acks (n of them per operation).
        let membership_op = msg.kind.is_membership_change();
        let me = self.me();
        if !self.book.joined {
            let mine = match &msg.kind {
                ControlKind::Create { members } => members.contains(&me),
                ControlKind::Add { added } => *added == me,
                _ => false,
            };
            if !mine {
                // History from before this member joined (its DGM comes
                // with the welcome and holds these ops).
                if membership_op {
                    self.book.note_memop(op.0, d.sender, d.seq);
                }
                return;
            }
        }
        // Judged against its whole causal past, not only the DGM parents
        // it declares (`causal.rs`). The past is computed only where a
        // check can fail: O(membership ops) each.
        if membership_op || ever_removed(&self.dcgka, &d.sender) {
            let past = self.book.memops_in_vv(vv, Some(&op));
            if let Err(e) = self.dcgka.check_causal_past(&d.sender, &msg, &past) {
                if matches!(e, DcgkaError::SenderRemoved { .. }) {
                    acc.events.push(Event::Warning(Warning::SentAfterRemoval {
                        id: d.id,
                        sender: d.sender,
                    }));
                    return;
                }
                return reject(acc, e.into());
            }
        }
        // Cards are checked before the key agreement sees the operation
        // and registered only once it accepted it (issue 10 item 7).
        if let Err(e) = self.admit_cards(d.sender, &msg.kind, cards) {
            return reject(acc, e);
        }
        let before = if membership_op {
            self.dcgka.members()
        } else {
            Default::default()
        };
        let direct = d.my_part.as_deref();
        let out = match self
            .dcgka
            .process_bytes(d.sender, control, direct, rng, directory)
        {
            Ok(o) => o,
            Err(e) => return reject(acc, e.into()),
        };
        for c in cards {
            self.register(c);
        }
        if membership_op {
            // Recorded once accepted: a rejected op changes nothing.
            self.book.note_memop(op.0, d.sender, d.seq);
        }
        if !self.book.joined {
            self.book.joined = true;
            self.book.last_update_ms = now_ms;
            if let Some(gid) = self.group_id {
                acc.events.push(Event::Joined {
                    group: gid,
                    by: d.sender,
                });
            }
        }
        let keep = self.config.old_epochs_max_count;
        for ev in [&out.sender_update_secret, &out.me_update_secret]
            .into_iter()
            .flatten()
        {
            self.book.note_epoch(ev.member, ev.epoch, now_ms, keep);
            acc.events.push(Event::KeyUpdated {
                member: ev.member,
                epoch: ev.epoch,
            });
        }
        if membership_op {
            self.book.readers = None;
        }
        let after = if membership_op {
            self.dcgka.members()
        } else {
            before.clone()
        };
        let added: Vec<MemberId> = after.difference(&before).copied().collect();
        let removed: Vec<MemberId> = before.difference(&after).copied().collect();
        self.book.note_removed(&removed, now_ms);
        if !before.is_empty() && (!added.is_empty() || !removed.is_empty()) {
            acc.events.push(Event::MembershipChanged {
                added,
                removed,
                by: d.sender,
            });
        }
        if out.removed {
            self.book.removed = true;
            acc.events.push(Event::RemovedFromGroup { by: d.sender });
            return;
        }
        if matches!(msg.kind, ControlKind::Update | ControlKind::Remove { .. }) {
            self.book.note_pcs(d.id, vv, now_ms);
        }
        if let Some(reply) = out.reply {
            // Only without ack coalescing (not the façade's default).
            let to: Vec<MemberId> = self
                .dcgka
                .members()
                .into_iter()
                .filter(|m| *m != me)
                .collect();
            if let Ok((_, env)) = self.send_control(&reply, Vec::new())
                && let Ok(gid) = self.gid()
            {
                {
                    acc.packets.push(Packet {
                        to: Destination::Members(to),
                        kind: PacketKind::Control,
                        bytes: frame(&gid, Kind::Broadcast, &env),
                    });
                }
            }
        }
        if self.dcgka.pending_len() > 0 && self.book.control_acks_since.is_none() {
            self.book.control_acks_since = Some(now_ms);
        }
    }

    /// Why an application message that did not decrypt was never meant for
    /// this member, judged by the membership its sender had seen (DGM view
    /// at the message's causal past, which ACB delivered before it); `None`
    /// when it was meant for this member (a real failure).
    fn why_not_for_me(&self, d: &Delivered, vv: &Vv) -> Option<NotForMe> {
        let dgm = self.dcgka.dgm()?;
        if !dgm.is_member(&d.sender) && dgm.removed().contains(&d.sender) {
            // Removed concurrently with this message: DCGKA dropped the
            // sender's ratchet when this member processed the removal.
            return Some(NotForMe::SenderRemoved);
        }
        if let Some((adder, seq)) = &self.book.added_by
            && !self.book.covers(vv, adder, *seq)
        {
            // Sent without this member's add in its past (member ids are
            // fresh per add, so nothing else could have counted it in).
            return Some(NotForMe::NotInSendersView);
        }
        let heads: Vec<OpId> = self
            .book
            .ops_in_past(vv)
            .into_iter()
            .map(OpId)
            .filter(|o| dgm.contains(o))
            .collect();
        if heads.is_empty() {
            // Nothing known of the sender's past (summaries evicted): do
            // not guess.
            return None;
        }
        if dgm.view_at(&heads).contains(&self.me()) {
            None
        } else {
            Some(NotForMe::NotInSendersView)
        }
    }

    fn handle_app(&mut self, d: &Delivered, bytes: &[u8], vv: &Vv, now_ms: u64, acc: &mut Acc) {
        self.book.skip(d.id, self.config.max_tracked_messages);
        let fail = |acc: &mut Acc, error: Error| {
            acc.events.push(Event::Warning(Warning::Undecryptable {
                id: d.id,
                sender: d.sender,
                error,
            }));
        };
        let Ok(gid) = self.gid() else { return };
        let epoch = match ApplicationMessage::from_bytes(bytes) {
            Ok(m) => m.epoch,
            Err(e) => return fail(acc, e.into()),
        };
        let superseded = self
            .book
            .epochs
            .get(&Mid(d.sender))
            .and_then(|m| m.get(&epoch))
            .copied()
            .flatten();
        if let Some(at) = superseded {
            let age = now_ms.saturating_sub(at);
            if age > self.config.old_epoch_max_age_ms {
                return fail(
                    acc,
                    Error::EpochExpired {
                        sender: d.sender,
                        epoch,
                        age_ms: age,
                        max_age_ms: self.config.old_epoch_max_age_ms,
                    },
                );
            }
        }
        // The causal past matters only for a sender removed somewhere.
        let past = if ever_removed(&self.dcgka, &d.sender) {
            self.book.memops_in_vv(vv, None)
        } else {
            Vec::new()
        };
        let padded = match self.dcgka.decrypt_in_past(&d.sender, &past, bytes, &gid.0) {
            Ok(p) => p,
            Err(e) => {
                return match self.why_not_for_me(d, vv) {
                    Some(reason) => {
                        self.book.not_for_me = self.book.not_for_me.saturating_add(1);
                        acc.events.push(Event::NotForMe {
                            id: d.id,
                            sender: d.sender,
                            reason,
                        });
                    }
                    None => fail(acc, e.into()),
                };
            }
        };
        let body = match unpad(padded.expose_secret()).and_then(AppBodyPb::decode_strict) {
            Ok(b) => b,
            Err(e) => return fail(acc, e),
        };
        let mut parents = Vec::new();
        for p in &body.parents {
            match <[u8; 32]>::try_from(p.as_slice()) {
                Ok(b) => parents.push(Mix(MessageId::from_bytes(b))),
                Err(_) => return fail(acc, Error::Malformed("transcript parent")),
            }
        }
        for p in &parents {
            if !self.book.transcript.iter().rev().any(|e| e.id == *p)
                && !self.book.skipped.contains(p)
                && !self.before_checkpoint(&p.0)
            {
                acc.events.push(Event::Warning(Warning::UnknownParent {
                    id: d.id,
                    parent: p.0,
                }));
            }
        }
        if let Some(pos) = self.book.skipped.iter().rposition(|s| s.0 == d.id) {
            self.book.skipped.remove(pos);
        }
        self.push_transcript(d.id, d.sender, body.text.clone(), parents.clone());
        let out_of_line = self.book.transcript.back().is_some_and(|e| e.out_of_line);
        self.track(d.id, d.sender, d.seq, now_ms);
        self.book.ack_due_since.get_or_insert(now_ms);
        acc.events.push(Event::Message {
            id: d.id,
            sender: d.sender,
            user: self
                .user_of(&d.sender)
                .cloned()
                .unwrap_or_else(|| UserId(String::new())),
            plaintext: body.text,
            parents: parents.iter().map(|p| p.0).collect(),
            out_of_line,
        });
    }
}
