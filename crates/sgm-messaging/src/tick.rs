//! [`Group::tick`] (time passes: held acks, time-based updates, welcome
//! re-sends, delivery warnings) and [`Group::sync_request`].

use std::collections::BTreeSet;

use sgm_crypto::{CryptoRng, MemberId};
use sgm_dcgka::{Outgoing, PrekeyDirectory};

use crate::error::Result;
use crate::event::Event;
use crate::group::{Acc, Group, Output, WELCOME_RESEND_MS};
use crate::ids::{Mid, Mix};
use crate::packet::{Destination, Kind, Packet, PacketKind, Payload, frame};

impl Group {
    /// Time passes: sends held-back acks once they waited
    /// [`crate::Config::ack_delay_ms`] (batched: one packet per held key-agreement
    /// ack, or a single delivery ack covering everything delivered), a
    /// time-based update if due, re-sends welcomes, and raises delivery
    /// warnings. An error means nothing changed; when a step fails after
    /// others completed, their packets are returned and the failed step is
    /// tried again on the next tick.
    pub fn tick(
        &mut self,
        now_ms: u64,
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<Output> {
        // In memory only (the stamp of the next sync request).
        self.book.clock_ms = self.book.clock_ms.max(now_ms);
        if !self.is_member() {
            return Ok(self.finish(Acc::default(), false));
        }
        // An update changes every layer at once: it runs on a copy (rare).
        let mut out = if self.tick_update_due(now_ms) {
            self.act(|s, acc| s.do_update(acc, now_ms, rng, directory))?
        } else {
            self.finish(Acc::default(), false)
        };
        // The rest runs in place: each step either completes or changes
        // nothing. (Run on a copy of the whole state, as first written,
        // the acks cost a tenth of the demo's CPU at 200 members.)
        let mut acc = Acc::default();
        let mut changed = false;
        let result = self.tick_in_place(&mut acc, now_ms, &mut changed);
        if let Err(e) = result
            && !changed
            && out.packets.is_empty()
            && out.state.is_none()
        {
            return Err(e);
        }
        out.packets.append(&mut acc.packets);
        out.events.append(&mut acc.events);
        if changed && self.config.state_in_output {
            out.state = Some(self.to_bytes());
        }
        Ok(out)
    }

    /// An update `tick` sends: time-based, or the §7 designee's.
    fn tick_update_due(&self, now_ms: u64) -> bool {
        self.config
            .update_after_ms
            .is_some_and(|t| now_ms.saturating_sub(self.book.last_update_ms) >= t)
            || self.dominating_update_due(now_ms, true)
    }

    /// Acks, welcomes and delivery checks of [`Group::tick`], in place;
    /// `changed` tells whether anything was done (also on error).
    fn tick_in_place(&mut self, acc: &mut Acc, now_ms: u64, changed: &mut bool) -> Result<()> {
        let delay = self.ack_delay();
        let due = |t: Option<u64>| t.is_none_or(|t| now_ms.saturating_sub(t) >= delay);
        let acks_due = self.dcgka.pending_len() > 0 && due(self.book.control_acks_since);
        let ack_due = self.book.ack_due_since.is_some() && due(self.book.ack_due_since);
        let welcomes_due = self
            .book
            .welcomes
            .values()
            .any(|at| now_ms.saturating_sub(*at) >= WELCOME_RESEND_MS);
        let checks_due = self.book.tracked.values().any(|t| now_ms >= t.check_ms);
        if !(acks_due || ack_due || welcomes_due || checks_due) {
            return Ok(());
        }
        let to = self.others();
        if acks_due {
            self.send_held_acks(acc, &to, changed)?;
        }
        if ack_due {
            // Sending it is atomic (ACB's broadcast changes nothing when it
            // fails, and the book records only afterwards).
            let (_, env) = self.broadcast_ack(Payload::Ack, Vec::new())?;
            *changed = true;
            self.emit(acc, Destination::Members(to), PacketKind::Ack, &env)?;
        }
        let members: BTreeSet<Mid> = self.members().into_iter().map(Mid).collect();
        if welcomes_due {
            *changed = true;
            self.resend_welcomes(acc, now_ms, &members);
        }
        if checks_due {
            *changed = true;
            self.check_tracked(acc, now_ms, &members);
        }
        Ok(())
    }

    /// Sends the key-agreement acks DCGKA holds back (to everyone in `to`),
    /// one by one; those sent are dropped from DCGKA only once they left,
    /// so a failure part-way loses none.
    fn send_held_acks(&mut self, acc: &mut Acc, to: &[MemberId], changed: &mut bool) -> Result<()> {
        let held: Vec<Outgoing> = self.dcgka.pending().to_vec();
        let mut sent = 0;
        let mut result = Ok(());
        for o in &held {
            match self.send_control(o, Vec::new()) {
                Ok((_, env)) => {
                    sent += 1;
                    *changed = true;
                    self.emit(
                        acc,
                        Destination::Members(to.to_vec()),
                        PacketKind::Control,
                        &env,
                    )?;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.dcgka.confirm_pending_sent(sent);
        if sent == held.len() {
            self.book.control_acks_since = None;
        }
        result
    }

    /// Welcomes are direct packets: re-send them until the new member is
    /// heard from (a lost welcome would leave it outside for good).
    fn resend_welcomes(&mut self, acc: &mut Acc, now_ms: u64, members: &BTreeSet<Mid>) {
        self.book.welcomes.retain(|m, _| members.contains(m));
        let welcomes = &self.book.welcomes;
        self.book
            .welcome_seeds
            .retain(|m, _| welcomes.contains_key(m));
        let due: Vec<MemberId> = self
            .book
            .welcomes
            .iter()
            .filter(|(_, at)| now_ms.saturating_sub(**at) >= WELCOME_RESEND_MS)
            .map(|(m, _)| m.0)
            .collect();
        for m in due {
            if self.welcome(acc, m).is_ok() {
                self.book.welcomes.insert(Mid(m), now_ms);
            } else {
                self.book.welcomes.remove(&Mid(m));
                self.book.welcome_seeds.remove(&Mid(m));
                acc.events
                    .push(Event::Warning(crate::event::Warning::WelcomeAbandoned {
                        member: m,
                    }));
            }
        }
    }

    /// Delivery consistency: tracked messages due for a check are dropped
    /// when every reader still in the group acknowledged them, or else
    /// warned about (once) and checked again a timeout later.
    fn check_tracked(&mut self, acc: &mut Acc, now_ms: u64, members: &BTreeSet<Mid>) {
        self.book.acked.retain(|m, _| members.contains(m));
        let due: Vec<Mix> = self
            .book
            .tracked
            .iter()
            .filter(|(_, t)| now_ms >= t.check_ms)
            .map(|(id, _)| *id)
            .collect();
        let timeout = self.config.delivery_timeout_ms;
        for id in due {
            let Some(t) = self.book.tracked.get(&id) else {
                continue;
            };
            let missing: Vec<MemberId> = self.book.missing(t, members).map(|m| m.0).collect();
            let (sender, warned) = (t.sender, t.warned);
            if missing.is_empty() {
                self.book.stop_tracking(&id);
                continue;
            }
            if !warned {
                acc.events
                    .push(Event::Warning(crate::event::Warning::Undelivered {
                        id: id.0,
                        sender: sender.0,
                        missing,
                    }));
            }
            if let Some(t) = self.book.tracked.get_mut(&id) {
                t.warned = true;
                t.check_ms = now_ms.saturating_add(timeout.max(1));
            }
        }
    }

    /// A request for what `peer` has and this member lacks (anti-entropy:
    /// call it periodically, after a partition heals, or while
    /// [`Group::waiting`] is non-zero). The answer is a resend packet.
    pub fn sync_request(&mut self, peer: MemberId) -> Result<Output> {
        let gid = self.gid()?;
        let mut acc = Acc::default();
        // Signed and stamped (see `sync.rs`); the stamp is kept in memory
        // only, so the persisted state is unchanged.
        let body = self.sync_body_for(peer)?;
        acc.packets.push(Packet {
            to: Destination::Member(peer),
            kind: PacketKind::Sync,
            bytes: frame(&gid, Kind::Sync, &body),
        });
        // Parents waited for that seqs cannot name (a fork's other branch).
        acc.packets.extend(self.fetch_packet(&gid, peer)?);
        Ok(self.finish(acc, false))
    }
}
