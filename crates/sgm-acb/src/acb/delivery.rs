//! Admission and delivery: checking an envelope, holding it until its
//! causal past is delivered, delivering it (or a fork of its sender's
//! line), rejecting what depends on a rejected message, and expiry.

use super::*;

impl Acb {
    /// Validates `bytes` without changing the state. `Ok(None)`: duplicate.
    pub(super) fn check(
        &self,
        bytes: Bytes,
    ) -> Result<Option<(SignedEnvelope, Option<VerifyingKey>)>, AcbError> {
        let msg = SignedEnvelope::decode_with(bytes, self.config.decode_limits())?;
        let id = msg.id();
        if self.delivered.contains_key(&id) || self.buffer.contains(&id) {
            return Ok(None);
        }
        let env = msg.envelope();
        let sender = env.sender;
        let seq = env.seq;
        let st = self
            .senders
            .get(&sender)
            .ok_or(AcbError::UnknownSender { sender })?;
        if let Some(parent) = env.parents.iter().find(|p| self.rejected.contains(p)) {
            return Err(AcbError::UnsatisfiableParent {
                id,
                parent: *parent,
            });
        }
        let verified_with = if seq <= st.delivered_seq {
            // The seq is taken on the main line: a second message validly
            // signed under that seq's key (or continuing a fork) is a fork,
            // kept so that what names it can be delivered (fork.rs); a
            // forgery is reported as such.
            match st
                .key_for(seq)
                .filter(|k| msg.verify(k))
                .or_else(|| fork::fork_key(&st.forks, &msg))
            {
                Some(k) => Some(k),
                None => return Err(classify_bad_signature(&msg, st)),
            }
        } else {
            let (definitive, tentative) = self.key_outlook(&sender, st, seq);
            match tentative {
                Some(k) if msg.verify(&k) => Some(k),
                _ => match fork::fork_key(&st.forks, &msg) {
                    Some(k) => Some(k),
                    None if definitive => return Err(classify_bad_signature(&msg, st)),
                    None => None,
                },
            }
        };
        // Bounds apply to messages that will wait. A deliverable message
        // (which may be the one unblocking a full share) passes through.
        let waits = !matches!(self.unmet(env, verified_with), Unmet::Nothing);
        let (count, unverified) = self.buffer.counts(&sender);
        let limit = if !waits {
            None
        } else if verified_with.is_none()
            && unverified >= self.config.buffer_max_unverified_per_sender
        {
            Some(BufferLimit::UnverifiedPerSender)
        } else if count >= self.config.buffer_max_per_sender {
            Some(BufferLimit::PerSender)
        } else if msg.bytes().len() > self.config.buffer_max_bytes {
            Some(BufferLimit::Bytes)
        } else if self.config.buffer_max_count == 0 {
            Some(BufferLimit::Count)
        } else {
            None
        };
        if let Some(limit) = limit {
            return Err(AcbError::BufferFull { id, sender, limit });
        }
        Ok(Some((msg, verified_with)))
    }

    /// The key `seq` of `sender` should be signed with, as far as known, and
    /// whether that is certain (every earlier seq delivered or waiting with
    /// a verified signature, so no unseen rotation can intervene).
    fn key_outlook(
        &self,
        sender: &MemberId,
        st: &SenderState,
        seq: u64,
    ) -> (bool, Option<VerifyingKey>) {
        let mut key = st.current_key();
        let mut definitive = true;
        let mut expect = st.delivered_seq.saturating_add(1);
        if let Some(seqs) = self.buffer.of_sender(sender) {
            for (&s, ids) in seqs.range(expect..seq) {
                if s != expect {
                    definitive = false;
                }
                let verified = ids
                    .iter()
                    .filter_map(|id| self.buffer.get(id))
                    .find(|e| e.verified_with.is_some());
                match verified {
                    Some(e) => {
                        if let Some(k) = e.msg.envelope().new_signing_key {
                            key = Some(k);
                        }
                    }
                    None => definitive = false,
                }
                expect = s.saturating_add(1);
            }
        }
        if expect != seq {
            definitive = false;
        }
        (definitive, key)
    }

    /// The first dependency of `env` that is not delivered. The sender's
    /// previous seq is met by its main line, or, for a message verified
    /// under a fork tip's key (`verified_with`), by that fork.
    pub(super) fn unmet(&self, env: &Envelope, verified_with: Option<VerifyingKey>) -> Unmet {
        if !self.rejected.is_empty()
            && let Some(p) = env.parents.iter().find(|p| self.rejected.contains(p))
        {
            return Unmet::Rejected(*p);
        }
        let st = self.senders.get(&env.sender);
        let delivered_seq = st.map(|s| s.delivered_seq).unwrap_or(0);
        if env.seq > 1 && delivered_seq < env.seq - 1 {
            let on_fork = match (st, verified_with) {
                (Some(st), Some(k)) => fork::is_tip(&st.forks, env.seq - 1, &k),
                _ => false,
            };
            if !on_fork {
                return Unmet::Dep(Dep::Seq(env.sender, env.seq - 1));
            }
        }
        match env.parents.iter().find(|p| !self.delivered.contains_key(p)) {
            Some(p) => Unmet::Dep(Dep::Id(*p)),
            None => Unmet::Nothing,
        }
    }

    /// Buffers a checked message (after expiring and evicting as needed).
    /// Returns true if it is ready.
    pub(super) fn admit(
        &mut self,
        msg: SignedEnvelope,
        verified_with: Option<VerifyingKey>,
    ) -> bool {
        self.tick = self.tick.saturating_add(1);
        self.expire();
        let len = msg.bytes().len();
        // A message that is deliverable at once does not wait, so it does
        // not make room (it passes through the buffer only until the next
        // `deliver_next`).
        // Evicting waiting messages changes neither what is delivered nor
        // what is rejected, so this stays valid below.
        let unmet = self.unmet(msg.envelope(), verified_with);
        let ready = matches!(unmet, Unmet::Nothing);
        while !ready
            && self.buffer.len() > 0
            && (self.buffer.len() >= self.config.buffer_max_count
                || self.buffer.bytes() + len > self.config.buffer_max_bytes)
        {
            let limit = if self.buffer.len() >= self.config.buffer_max_count {
                BufferLimit::Count
            } else {
                BufferLimit::Bytes
            };
            let Some(old) = self.buffer.oldest().map(|e| e.msg.id()) else {
                break;
            };
            if let Some(e) = self.buffer.remove(&old) {
                self.push_event(AcbEvent::Evicted {
                    id: old,
                    sender: e.msg.envelope().sender,
                    limit,
                });
            }
        }
        match unmet {
            Unmet::Nothing => {
                self.buffer.insert(msg, verified_with, self.tick, None);
                true
            }
            Unmet::Dep(d) => {
                self.buffer.insert(msg, verified_with, self.tick, Some(d));
                false
            }
            Unmet::Rejected(parent) => {
                // Not reachable from `check`, which rejects these; kept total.
                let id = msg.id();
                self.push_event(AcbEvent::Rejected {
                    id,
                    sender: msg.envelope().sender,
                    error: AcbError::UnsatisfiableParent { id, parent },
                });
                false
            }
        }
    }

    /// Drops messages that waited longer than `buffer_max_age`.
    fn expire(&mut self) {
        let max_age = self.config.buffer_max_age;
        loop {
            let Some(e) = self.buffer.oldest() else {
                return;
            };
            if e.arrived.saturating_add(max_age) >= self.tick {
                return;
            }
            let id = e.msg.id();
            if let Some(e) = self.buffer.remove(&id) {
                let missing = e
                    .msg
                    .envelope()
                    .parents
                    .iter()
                    .filter(|p| !self.delivered.contains_key(p))
                    .copied()
                    .collect();
                self.push_event(AcbEvent::Expired {
                    id,
                    sender: e.msg.envelope().sender,
                    missing,
                });
            }
        }
    }

    /// The checks made when all predecessors are delivered. `Ok(None)`:
    /// the next message of the sender's main line; `Ok(Some(key))`: a fork
    /// (fork.rs), verified under `key`.
    pub(super) fn delivery_check(
        &self,
        msg: &SignedEnvelope,
        verified_with: Option<VerifyingKey>,
        membership: &impl MembershipCheck,
    ) -> Result<Option<VerifyingKey>, AcbError> {
        let env = msg.envelope();
        let id = msg.id();
        let st = self
            .senders
            .get(&env.sender)
            .ok_or(AcbError::UnknownSender { sender: env.sender })?;
        let verifies = |k: &VerifyingKey| verified_with == Some(*k) || msg.verify(k);
        let branch = if env.seq == st.delivered_seq.saturating_add(1)
            && st.current_key().is_some_and(|k| verifies(&k))
        {
            None
        } else {
            let key = if env.seq <= st.delivered_seq {
                st.key_for(env.seq).filter(verifies)
            } else {
                None
            };
            let key = key
                .or_else(|| {
                    verified_with.filter(|k| fork::is_tip(&st.forks, env.seq.saturating_sub(1), k))
                })
                .or_else(|| fork::fork_key(&st.forks, msg));
            match key {
                Some(k) => Some(k),
                None => return Err(classify_bad_signature(msg, st)),
            }
        };
        if !membership.is_member(&env.sender, &env.parents) {
            return Err(AcbError::NonMember {
                id,
                sender: env.sender,
            });
        }
        Ok(branch)
    }

    /// Marks a message delivered and wakes what waited on it. `fork`: it is
    /// a fork verified under that key (see [`Acb::delivery_check`]).
    pub(super) fn commit_delivery(
        &mut self,
        msg: SignedEnvelope,
        fork: Option<VerifyingKey>,
    ) -> Delivered {
        let id = msg.id();
        let kind = fork.map(|key| {
            let current = self.current_key_of(&msg.envelope().sender) == Some(key);
            self.note_fork(&msg, key);
            if current {
                Fork::CurrentKey
            } else {
                Fork::OtherKey
            }
        });
        let (env, bytes) = msg.into_parts();
        self.delivered.insert(id, (env.sender, env.seq));
        if fork.is_none() {
            self.delivered_by_seq.insert((env.sender, env.seq), id);
        }
        if !env.leaf {
            for p in &env.parents {
                self.heads.remove(p);
            }
            self.heads.insert(id);
        }
        if fork.is_none()
            && let Some(st) = self.senders.get_mut(&env.sender)
        {
            st.delivered_seq = env.seq;
            if let Some(k) = env.new_signing_key {
                st.keys.push(KeyEpoch {
                    from_seq: env.seq.saturating_add(1),
                    key: k,
                    proof: env.rotation_proof,
                });
            }
        }
        self.store.insert(
            id,
            bytes,
            self.config.store_max_count,
            self.config.store_max_bytes,
        );
        let deps = [Dep::Id(id), Dep::Seq(env.sender, env.seq)];
        for dep in deps {
            for woken in self.buffer.wake(&dep) {
                self.requeue(woken);
            }
        }
        Delivered::from_envelope(id, env, &self.me, kind)
    }

    /// Records a fork being delivered: its tip, and the evidence if it
    /// conflicts with the main line's message at its seq (signed by the
    /// same key).
    fn note_fork(&mut self, msg: &SignedEnvelope, key: VerifyingKey) {
        let env = msg.envelope();
        let (sender, seq) = (env.sender, env.seq);
        let tip = ForkTip {
            seq,
            key_after: env.new_signing_key.unwrap_or(key),
        };
        let Some(st) = self.senders.get_mut(&sender) else {
            return;
        };
        fork::push_tip(&mut st.forks, tip);
        if st.key_for(seq) != Some(key) || seq > st.delivered_seq {
            // Continues a fork (its conflict was reported at the fork).
            return;
        }
        let Some(existing) = self.delivered_by_seq.get(&(sender, seq)).copied() else {
            return;
        };
        let evidence = self
            .store
            .get(&existing)
            .and_then(|b| SignedEnvelope::decode_with(b.clone(), self.config.decode_limits()).ok())
            .and_then(|first| Equivocation::new(first, msg.clone()).ok())
            .map(Box::new);
        self.push_event(AcbEvent::Equivocation {
            id: msg.id(),
            sender,
            seq,
            existing,
            evidence,
        });
    }

    /// Re-examines a woken entry: wait on its next dependency, or ready.
    fn requeue(&mut self, id: MessageId) {
        let Some(entry) = self.buffer.get(&id) else {
            return;
        };
        let mut verified_with = entry.verified_with;
        if verified_with.is_none() {
            // It may continue a fork delivered since it arrived.
            let key = self
                .senders
                .get(&entry.msg.envelope().sender)
                .and_then(|st| fork::fork_key(&st.forks, &entry.msg));
            if let Some(k) = key {
                self.buffer.set_verified(&id, k);
                verified_with = Some(k);
            }
        }
        let Some(entry) = self.buffer.get(&id) else {
            return;
        };
        match self.unmet(entry.msg.envelope(), verified_with) {
            Unmet::Nothing => self.buffer.make_ready(id),
            Unmet::Dep(d) => self.buffer.wait(id, d),
            Unmet::Rejected(parent) => {
                if let Some(e) = self.buffer.remove(&id) {
                    let (sender, seq) = (e.msg.envelope().sender, e.msg.envelope().seq);
                    self.push_event(AcbEvent::Rejected {
                        id,
                        sender,
                        error: AcbError::UnsatisfiableParent { id, parent },
                    });
                    self.reject_cascade(id, sender, seq);
                }
            }
        }
    }

    /// Remembers `root` as rejected and drops every waiting message that
    /// depends on it (transitively). Messages waiting on the root's
    /// `(sender, seq)` slot are re-examined: they may name the root as a
    /// parent too, or wait for another message in that slot.
    pub(super) fn reject_cascade(&mut self, root: MessageId, sender: MemberId, seq: u64) {
        let mut work = vec![(root, sender, seq)];
        while let Some((parent, p_sender, p_seq)) = work.pop() {
            self.remember_rejected(parent);
            let mut woken = self.buffer.wake(&Dep::Id(parent));
            woken.extend(self.buffer.wake(&Dep::Seq(p_sender, p_seq)));
            for id in woken {
                let Some(e) = self.buffer.get(&id) else {
                    continue;
                };
                match self.unmet(e.msg.envelope(), e.verified_with) {
                    Unmet::Nothing => self.buffer.make_ready(id),
                    Unmet::Dep(d) => self.buffer.wait(id, d),
                    Unmet::Rejected(parent) => {
                        if let Some(e) = self.buffer.remove(&id) {
                            let env = e.msg.envelope();
                            self.push_event(AcbEvent::Rejected {
                                id,
                                sender: env.sender,
                                error: AcbError::UnsatisfiableParent { id, parent },
                            });
                            work.push((id, env.sender, env.seq));
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn remember_rejected_pub(&mut self, id: MessageId) {
        self.remember_rejected(id);
    }

    /// Puts a persisted waiting message back (no bounds, no expiry).
    pub(crate) fn restore_buffered(
        &mut self,
        msg: SignedEnvelope,
        verified_with: Option<VerifyingKey>,
        arrived: u64,
    ) {
        let dep = match self.unmet(msg.envelope(), verified_with) {
            Unmet::Dep(d) => Some(d),
            Unmet::Nothing | Unmet::Rejected(_) => None,
        };
        self.buffer.insert(msg, verified_with, arrived, dep);
    }

    fn remember_rejected(&mut self, id: MessageId) {
        if self.config.rejected_memory == 0 || !self.rejected.insert(id) {
            return;
        }
        self.rejected_order.push_back(id);
        while self.rejected_order.len() > self.config.rejected_memory {
            if let Some(old) = self.rejected_order.pop_front() {
                self.rejected.remove(&old);
            }
        }
    }

    pub(super) fn push_event(&mut self, event: AcbEvent) {
        self.events.push_back(event);
        let cap = self
            .config
            .buffer_max_count
            .saturating_add(self.config.rejected_memory)
            .max(1);
        while self.events.len() > cap {
            self.events.pop_front();
        }
    }
}
