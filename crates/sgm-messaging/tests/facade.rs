//! Façade tests: persistence at every step, bad input, and a proptest over
//! random actions and random simulator schedules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cloned_ref_to_slice_refs,
    clippy::collapsible_if,
    missing_docs
)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use sgm_crypto::SeedableRng;
use sgm_messaging::{
    Config, Destination, Error, Event, Group, Invite, KeyServer, MAX_RESEND_BYTES, MemberId,
    MessageId, NotForMe, Output, PacketKind, UserId, WELCOME_RESEND_MS, Warning,
};
use sgm_sim::{LinkConfig, NodeId, SimConfig, Simulator};

struct Net {
    sim: Simulator,
    rng: ChaCha20Rng,
    keys: KeyServer,
    groups: BTreeMap<NodeId, Group>,
    node_of: BTreeMap<MemberId, NodeId>,
    node_of_user: BTreeMap<String, NodeId>,
    /// message → (sender, plaintext, audience)
    sent: BTreeMap<MessageId, (MemberId, Vec<u8>, BTreeSet<MemberId>)>,
    decrypted: BTreeMap<MemberId, BTreeMap<MessageId, Vec<u8>>>,
    warnings: Vec<Warning>,
    /// `Event::NotForMe` reports: (receiver, message, reason).
    not_for_me: Vec<(MemberId, MessageId, NotForMe)>,
    removed_ever: BTreeSet<MemberId>,
    /// Last persisted state per node (the "database").
    stored: BTreeMap<NodeId, Vec<u8>>,
    config: Config,
}

impl Net {
    fn new(seed: u64, link: LinkConfig, config: Config) -> Self {
        let mut c = SimConfig::new(seed);
        c.default_link = link;
        Self {
            sim: Simulator::new(c),
            rng: ChaCha20Rng::seed_from_u64(seed),
            keys: KeyServer::new(),
            groups: BTreeMap::new(),
            node_of: BTreeMap::new(),
            node_of_user: BTreeMap::new(),
            sent: BTreeMap::new(),
            decrypted: BTreeMap::new(),
            warnings: Vec::new(),
            not_for_me: Vec::new(),
            removed_ever: BTreeSet::new(),
            stored: BTreeMap::new(),
            config,
        }
    }

    fn user(&mut self, name: &str) -> (NodeId, Invite) {
        let node = match self.node_of_user.get(name) {
            Some(n) => *n,
            None => {
                let n = self.sim.add_node();
                self.node_of_user.insert(name.into(), n);
                n
            }
        };
        let (g, inv, pk) = Group::new(UserId::from(name), self.config, 40, &mut self.rng);
        self.keys.publish(inv.member_id(), pk);
        self.node_of.insert(inv.member_id(), node);
        self.stored
            .insert(node, g.to_bytes().expose_secret().to_vec());
        self.groups.insert(node, g);
        (node, inv)
    }

    fn dispatch(&mut self, node: NodeId, out: Output) {
        if let Some(s) = &out.state {
            self.stored.insert(node, s.expose_secret().to_vec());
        }
        let me = self.groups[&node].me();
        for ev in &out.events {
            match ev {
                Event::Message { id, plaintext, .. } => {
                    self.decrypted
                        .entry(me)
                        .or_default()
                        .insert(*id, plaintext.clone());
                }
                Event::Warning(w) => self.warnings.push(w.clone()),
                Event::NotForMe { id, reason, .. } => self.not_for_me.push((me, *id, *reason)),
                Event::MembershipChanged { removed, .. } => {
                    self.removed_ever.extend(removed.iter().copied())
                }
                _ => {}
            }
        }
        for p in out.packets {
            let to: Vec<NodeId> = match &p.to {
                Destination::Members(ms) => ms
                    .iter()
                    .filter_map(|m| self.node_of.get(m).copied())
                    .collect(),
                Destination::Member(m) => self.node_of.get(m).copied().into_iter().collect(),
            };
            let to: Vec<NodeId> = to.into_iter().filter(|n| *n != node).collect();
            if !to.is_empty() {
                let _ = self.sim.broadcast(node, &to, p.kind.name(), p.bytes);
            }
        }
    }

    fn act(
        &mut self,
        node: NodeId,
        f: impl FnOnce(&mut Group, u64, &mut ChaCha20Rng, &mut KeyServer) -> Result<Output, Error>,
    ) -> Result<(), Error> {
        let now = self.sim.now();
        let g = self.groups.get_mut(&node).unwrap();
        let out = f(g, now, &mut self.rng, &mut self.keys)?;
        self.dispatch(node, out);
        Ok(())
    }

    fn send(&mut self, node: NodeId, text: &str) -> Option<MessageId> {
        let g = &self.groups[&node];
        if !g.is_member() {
            return None;
        }
        let me = g.me();
        let audience: BTreeSet<MemberId> = g.members().into_iter().filter(|m| *m != me).collect();
        let now = self.sim.now();
        let g = self.groups.get_mut(&node).unwrap();
        let out = g
            .send(text.as_bytes(), now, &mut self.rng, &mut self.keys)
            .ok()?;
        let id = out.sent?;
        self.sent
            .insert(id, (me, text.as_bytes().to_vec(), audience));
        self.decrypted
            .entry(me)
            .or_default()
            .insert(id, text.as_bytes().to_vec());
        self.dispatch(node, out);
        Some(id)
    }

    /// Runs the network for `ms`, ticking and syncing every 100 ms.
    fn run(&mut self, ms: u64, sync: bool) {
        let end = self.sim.now() + ms;
        let mut t = self.sim.now();
        let mut round = 0u64;
        while t < end {
            t = (t + 100).min(end);
            while let Some(d) = self.sim.next_delivery_until(t) {
                let now = self.sim.now();
                let g = self.groups.get_mut(&d.to).unwrap();
                if let Ok(out) =
                    g.receive_shared(d.bytes.clone(), now, &mut self.rng, &mut self.keys)
                {
                    self.dispatch(d.to, out);
                }
            }
            round += 1;
            let nodes: Vec<NodeId> = self.groups.keys().copied().collect();
            for (i, n) in nodes.iter().enumerate() {
                if !self.sim.is_online(*n) {
                    continue;
                }
                let now = self.sim.now();
                let out = self
                    .groups
                    .get_mut(n)
                    .unwrap()
                    .tick(now, &mut self.rng, &mut self.keys)
                    .unwrap();
                self.dispatch(*n, out);
                let g = &self.groups[n];
                if sync && g.is_member() && round % 3 == (i as u64) % 3 {
                    let others: Vec<MemberId> = g.sync_peers(now);
                    if !others.is_empty() {
                        // Rotate through the peers (with `round + i` alone, `round % 3`
                        // fixed per node would pick the same peer forever).
                        let peer = others[(round as usize / 3 + i) % others.len()];
                        let out = self.groups.get_mut(n).unwrap().sync_request(peer).unwrap();
                        self.dispatch(*n, out);
                    }
                }
            }
        }
    }

    /// Every current member agrees on membership; every message reached
    /// every intended reader that is still a member, with the same
    /// plaintext; nobody decrypted a message it was not an audience of.
    fn check(&self) -> Result<(), String> {
        let active: Vec<&Group> = self.groups.values().filter(|g| g.is_member()).collect();
        let views: BTreeSet<BTreeSet<MemberId>> = active.iter().map(|g| g.members()).collect();
        if views.len() > 1 {
            return Err(format!("{} membership views", views.len()));
        }
        let current: BTreeSet<MemberId> = active.iter().map(|g| g.me()).collect();
        for (id, (sender, text, audience)) in &self.sent {
            // A member removed concurrently may have sent messages that
            // members who processed its removal first cannot decrypt
            // (DCGKA drops a removed member's ratchet); only messages of
            // current members must reach everyone.
            if !current.contains(sender) {
                continue;
            }
            for m in audience.iter().filter(|m| current.contains(m)) {
                match self.decrypted.get(m).and_then(|d| d.get(id)) {
                    Some(t) if t == text => {}
                    other => return Err(format!("{m} has {other:?} for {id:?}")),
                }
            }
        }
        for (m, got) in &self.decrypted {
            for id in got.keys() {
                let (s, _, aud) = &self.sent[id];
                if s != m && !aud.contains(m) {
                    return Err(format!("{m} decrypted {id:?} outside its membership"));
                }
            }
        }
        // Every "not for me" agrees with what the sender saw when it sent.
        for (m, id, reason) in &self.not_for_me {
            let (s, _, aud) = &self.sent[id];
            let ok = match reason {
                NotForMe::NotInSendersView => !aud.contains(m),
                NotForMe::SenderRemoved => self.removed_ever.contains(s),
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "{m}: {id:?} reported {reason:?}, but its sender counted it in"
                ));
            }
        }
        // Transcripts agree on content for common messages.
        for g in &active {
            for e in g.transcript() {
                if let Some((_, text, _)) = self.sent.get(&e.id) {
                    if *text != e.plaintext {
                        return Err("transcript plaintext mismatch".into());
                    }
                }
            }
        }
        Ok(())
    }
}

fn ideal() -> LinkConfig {
    LinkConfig::ideal(10)
}

fn start(n: usize, seed: u64, link: LinkConfig, config: Config) -> (Net, Vec<NodeId>) {
    let mut net = Net::new(seed, link, config);
    let mut nodes = Vec::new();
    let mut invites = Vec::new();
    for i in 0..n {
        let (node, inv) = net.user(&format!("u{i}"));
        nodes.push(node);
        invites.push(inv);
    }
    let rest = invites[1..].to_vec();
    net.act(nodes[0], |g, now, rng, keys| {
        g.create(&rest, now, rng, keys)
    })
    .unwrap();
    net.run(1_000, true);
    (net, nodes)
}

#[test]
fn persistence_round_trip_at_every_step() {
    let (mut net, nodes) = start(4, 7, ideal(), Config::default());
    let victim = nodes[2];
    let mut script_step = 0u64;
    let (new_node, new_inv) = net.user("u4");
    for step in 0..14u64 {
        match step {
            3 => net
                .act(nodes[0], |g, now, rng, keys| {
                    g.add(&[new_inv.clone()], now, rng, keys)
                })
                .unwrap(),
            6 => net
                .act(nodes[1], |g, now, rng, keys| g.update(now, rng, keys))
                .unwrap(),
            9 => net
                .act(nodes[3], |g, now, rng, keys| {
                    g.remove(&[UserId::from("u1")], now, rng, keys)
                })
                .unwrap(),
            _ => {
                let who = nodes[(step as usize) % 4];
                net.send(who, &format!("step {step}"));
                net.send(victim, &format!("victim {step}"));
            }
        }
        net.run(300, true);
        // Kill the victim and restore it from what it stored last.
        let restored = Group::from_bytes(&net.stored[&victim]).unwrap();
        assert_eq!(
            restored.to_bytes().expose_secret(),
            net.groups[&victim].to_bytes().expose_secret(),
            "state changed without being handed out at step {step}"
        );
        net.groups.insert(victim, restored);
        script_step += 1;
    }
    net.run(3_000, true);
    assert_eq!(script_step, 14);
    net.check().unwrap();
    assert!(net.groups[&new_node].is_member());
    // The restored victim has the whole transcript.
    let t = net.groups[&victim].transcript();
    assert!(t.len() >= 20, "{}", t.len());
}

#[test]
fn bad_input_is_a_typed_error_and_changes_nothing() {
    let (mut net, nodes) = start(3, 9, ideal(), Config::default());
    let a = nodes[0];
    let now = net.sim.now();
    let g = net.groups.get_mut(&a).unwrap();
    let out = g.send(b"hello", now, &mut net.rng, &mut net.keys).unwrap();
    let packet = out.packets[0].bytes.clone();
    let b = nodes[1];
    let before = net.groups[&b].to_bytes().expose_secret().to_vec();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for len in 0..64 {
        let mut v = vec![0u8; len];
        for x in &mut v {
            *x = (sgm_crypto::rng::Rng::next_u32(&mut rng) & 0xff) as u8;
        }
        cases.push(v);
    }
    for cut in [0, 1, 17, 18, 19, packet.len() / 2, packet.len() - 1] {
        cases.push(packet[..cut].to_vec());
    }
    // The sender's seq in the ACB envelope: packet header (18), envelope
    // version (1), signature (64), sender (16).
    const SEQ_AT: usize = 18 + 1 + 64 + 16;
    assert_eq!(
        packet[SEQ_AT], 2,
        "layout moved: A's create was seq 1, this is 2"
    );
    for i in (18..packet.len()).step_by(7) {
        if i == SEQ_AT {
            continue; // checked below
        }
        let mut t = packet.clone();
        t[i] ^= 0x20;
        cases.push(t);
    }
    // A tampered seq claims a future message (34): its signing key is not
    // certain until 3..33 arrive (one of them may rotate it), so ACB parks
    // it unverified (bounded per sender) instead of rejecting it. Nothing
    // is delivered, and it never verifies later.
    {
        let mut future = packet.clone();
        future[SEQ_AT] ^= 0x20;
        let mut probe = Group::from_bytes(&before).unwrap();
        let out = probe
            .receive(&future, now, &mut net.rng, &mut net.keys)
            .unwrap();
        assert!(out.events.is_empty() && out.packets.is_empty(), "{out:?}");
        let out = probe
            .receive(&packet, now, &mut net.rng, &mut net.keys)
            .unwrap();
        assert!(
            out.events
                .iter()
                .any(|e| matches!(e, Event::Message { .. }))
        );
    }
    let mut other_group = packet.clone();
    other_group[1] ^= 1;
    let gb = net.groups.get_mut(&b).unwrap();
    for c in &cases {
        let r = gb.receive(c, now, &mut net.rng, &mut net.keys);
        assert!(r.is_err(), "accepted garbage {c:02x?}");
        assert_eq!(gb.to_bytes().expose_secret(), &before[..]);
    }
    match gb.receive(&other_group, now, &mut net.rng, &mut net.keys) {
        Err(Error::WrongGroup { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(gb.to_bytes().expose_secret(), &before[..]);
    // The genuine packet still works, twice (the second is a no-op), and
    // the sender's own echo is a no-op.
    let out = gb
        .receive(&packet, now, &mut net.rng, &mut net.keys)
        .unwrap();
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e, Event::Message { .. }))
    );
    let again = gb
        .receive(&packet, now, &mut net.rng, &mut net.keys)
        .unwrap();
    assert!(again.events.is_empty() && again.state.is_none());
    let ga = net.groups.get_mut(&a).unwrap();
    let echo = ga
        .receive(&packet, now, &mut net.rng, &mut net.keys)
        .unwrap();
    assert!(echo.events.is_empty() && echo.packets.is_empty());
}

#[test]
fn readd_gets_a_fresh_member_id_and_padding_hides_length() {
    let (mut net, nodes) = start(3, 11, ideal(), Config::default());
    let old = net.groups[&nodes[2]].me();
    net.act(nodes[0], |g, now, rng, keys| {
        g.remove(&[UserId::from("u2")], now, rng, keys)
    })
    .unwrap();
    net.run(1_000, true);
    assert!(net.groups[&nodes[2]].is_removed());
    let (_, inv) = net.user("u2");
    net.act(nodes[1], |g, now, rng, keys| {
        g.add(&[inv.clone()], now, rng, keys)
    })
    .unwrap();
    net.run(1_000, true);
    let users = net.groups[&nodes[0]].users();
    assert_eq!(users[&UserId::from("u2")], inv.member_id());
    assert_ne!(inv.member_id(), old);
    let short = net.send(nodes[0], "a").unwrap();
    let long = net.send(nodes[0], &"b".repeat(100)).unwrap();
    net.run(1_000, true);
    net.check().unwrap();
    let _ = (short, long);
    assert_eq!(
        sgm_messaging::padded_len(1, true),
        sgm_messaging::padded_len(100, true)
    );
}

#[test]
fn a_lost_welcome_is_resent_until_the_member_is_heard_from() {
    let mut net = Net::new(21, ideal(), Config::default());
    let (a, _) = net.user("u0");
    let (b, inv) = net.user("u1");
    let g = net.groups.get_mut(&a).unwrap();
    // The welcome is lost.
    let _lost = g
        .create(&[inv.clone()], 0, &mut net.rng, &mut net.keys)
        .unwrap();
    let welcomes = |out: &Output| {
        out.packets
            .iter()
            .filter(|p| {
                p.kind == PacketKind::Welcome && p.to == Destination::Member(inv.member_id())
            })
            .count()
    };
    let early = g
        .tick(WELCOME_RESEND_MS - 1, &mut net.rng, &mut net.keys)
        .unwrap();
    assert_eq!(welcomes(&early), 0);
    let out = g
        .tick(WELCOME_RESEND_MS, &mut net.rng, &mut net.keys)
        .unwrap();
    assert_eq!(welcomes(&out), 1);
    net.dispatch(a, out);
    net.run(3_000, true);
    assert!(net.groups[&b].is_member());
    // Heard from: no more welcomes.
    let g = net.groups.get_mut(&a).unwrap();
    let later = g.tick(60_000, &mut net.rng, &mut net.keys).unwrap();
    assert_eq!(welcomes(&later), 0);
}

#[test]
fn a_member_added_after_a_long_history_joins_from_a_checkpoint() {
    // A store far smaller than the history: with a welcome that carried
    // the whole history (as first written) the joiner could not deliver
    // anything once the group's first broadcasts were evicted.
    let config = Config {
        history_max_count: 24,
        ..Config::default()
    };
    let (mut net, nodes) = start(3, 41, ideal(), config);
    for i in 0..60 {
        net.send(nodes[i % 3], &format!("old {i}"));
        net.run(100, false);
    }
    net.run(1_000, true);
    let broadcast_bytes: u64 = nodes
        .iter()
        .map(|n| net.sim.stats(*n).unwrap().sent.bytes)
        .sum();
    let (joiner, inv) = net.user("u3");
    let now = net.sim.now();
    let out = net
        .groups
        .get_mut(&nodes[1])
        .unwrap()
        .add(&[inv.clone()], now, &mut net.rng, &mut net.keys)
        .unwrap();
    let welcome = out
        .packets
        .iter()
        .find(|p| p.kind == PacketKind::Welcome)
        .unwrap()
        .bytes
        .clone();
    // The checkpoint is ~60 bytes per delivered broadcast; the broadcasts
    // themselves are not in the welcome.
    assert!(
        (welcome.len() as u64) * 4 < broadcast_bytes,
        "welcome {} B, history {} B",
        welcome.len(),
        broadcast_bytes
    );

    // A welcome whose checkpoint was tampered with (the end of the packet
    // is the checkpoint) is refused and changes nothing.
    let before = net.groups[&joiner].to_bytes().expose_secret().to_vec();
    for back in [1, 40, 200] {
        let mut bad = welcome.clone();
        let at = bad.len() - back;
        bad[at] ^= 0x01;
        let now = net.sim.now();
        let g = net.groups.get_mut(&joiner).unwrap();
        assert!(g.receive(&bad, now, &mut net.rng, &mut net.keys).is_err());
        assert!(!g.is_member());
        assert_eq!(g.to_bytes().expose_secret(), &before[..]);
    }

    net.dispatch(nodes[1], out);
    net.run(2_000, true);
    assert!(net.groups[&joiner].is_member());
    for i in 0..6 {
        net.send(nodes[i % 3], &format!("new {i}"));
        net.send(joiner, &format!("joiner {i}"));
        net.run(200, true);
    }
    net.run(3_000, true);
    net.check().unwrap();
    assert!(net.warnings.is_empty(), "{:?}", net.warnings);
    // The joiner has the messages from its add on, not the old ones.
    let t = net.groups[&joiner].transcript();
    assert!(t.iter().any(|e| e.plaintext == b"new 5"));
    assert!(!t.iter().any(|e| e.plaintext.starts_with(b"old")));
}

#[test]
fn a_welcome_that_outgrew_the_store_is_abandoned_with_a_warning() {
    let config = Config {
        history_max_count: 8,
        ..Config::default()
    };
    let (mut net, nodes) = start(3, 45, ideal(), config);
    let (_, inv) = net.user("u3");
    let a = nodes[0];
    let now = net.sim.now();
    // The welcome is lost (never dispatched) and the new member is never
    // heard from; the group moves on past the store's bound.
    let g = net.groups.get_mut(&a).unwrap();
    let _lost = g
        .add(&[inv.clone()], now, &mut net.rng, &mut net.keys)
        .unwrap();
    for i in 0..12 {
        net.send(nodes[i % 3], &format!("after {i}"));
        net.run(100, false);
    }
    let now = net.sim.now() + WELCOME_RESEND_MS;
    let g = net.groups.get_mut(&a).unwrap();
    let out = g.tick(now, &mut net.rng, &mut net.keys).unwrap();
    let abandoned = out
        .events
        .iter()
        .filter(|e| {
            matches!(e, Event::Warning(Warning::WelcomeAbandoned { member })
                if *member == inv.member_id())
        })
        .count();
    assert_eq!(abandoned, 1);
    assert!(!out.packets.iter().any(|p| p.kind == PacketKind::Welcome));
    // Reported once: the welcome is no longer pending.
    let later = g
        .tick(now + WELCOME_RESEND_MS, &mut net.rng, &mut net.keys)
        .unwrap();
    assert!(
        !later
            .events
            .iter()
            .any(|e| matches!(e, Event::Warning(Warning::WelcomeAbandoned { .. })))
    );
}

#[test]
fn the_sync_hint_names_the_sender_of_what_waits() {
    let (mut net, nodes) = start(3, 43, ideal(), Config::default());
    let (b, c) = (nodes[1], nodes[2]);
    let b_id = net.groups[&b].me();
    assert_eq!(net.groups[&c].sync_hint(), None);
    let now = net.sim.now();
    let gb = net.groups.get_mut(&b).unwrap();
    // C misses B's first message and gets the second: it waits.
    let _lost = gb.send(b"one", now, &mut net.rng, &mut net.keys).unwrap();
    let two = gb.send(b"two", now, &mut net.rng, &mut net.keys).unwrap();
    let gc = net.groups.get_mut(&c).unwrap();
    gc.receive(&two.packets[0].bytes, now, &mut net.rng, &mut net.keys)
        .unwrap();
    assert!(gc.waiting() > 0);
    assert_eq!(gc.sync_hint(), Some(b_id));
    // Asking B fills the gap.
    let out = gc.sync_request(b_id).unwrap();
    net.dispatch(c, out);
    net.run(500, false);
    assert_eq!(net.groups[&c].waiting(), 0);
    assert_eq!(net.groups[&c].sync_hint(), None);
    let t = net.groups[&c].transcript();
    assert!(t.iter().any(|e| e.plaintext == b"one") && t.iter().any(|e| e.plaintext == b"two"));
}

#[test]
fn messages_not_meant_for_a_member_are_not_warnings() {
    let (mut net, nodes) = start(3, 13, ideal(), Config::default());
    let (new_node, inv) = net.user("u3");
    // u0 adds u3 while u1, not having seen the add, sends; u1 is removed
    // by u2 while u1 sends again (concurrently).
    net.act(nodes[0], |g, now, rng, keys| {
        g.add(&[inv.clone()], now, rng, keys)
    })
    .unwrap();
    let before_add = net.send(nodes[1], "not for u3").unwrap();
    net.act(nodes[2], |g, now, rng, keys| {
        g.remove(&[UserId::from("u1")], now, rng, keys)
    })
    .unwrap();
    let concurrent = net.send(nodes[1], "sent while being removed").unwrap();
    net.run(5_000, true);
    net.check().unwrap();
    assert!(net.warnings.is_empty(), "{:?}", net.warnings);
    let new_id = net.groups[&new_node].me();
    let reported: BTreeSet<(MemberId, MessageId)> =
        net.not_for_me.iter().map(|(m, id, _)| (*m, *id)).collect();
    // u3 got both (through anti-entropy or its welcome) and decrypted
    // neither, quietly.
    assert!(
        reported.contains(&(new_id, before_add))
            || !net.groups[&new_node]
                .transcript()
                .iter()
                .any(|e| e.id == before_add)
    );
    assert!(
        !net.decrypted
            .get(&new_id)
            .is_some_and(|d| d.contains_key(&before_add))
    );
    let _ = concurrent;
    assert!(!net.not_for_me.is_empty());
}

/// Delivers what is in flight for `ms` without ticking anyone.
fn deliver_only(net: &mut Net, ms: u64) {
    let end = net.sim.now() + ms;
    while let Some(d) = net.sim.next_delivery_until(end) {
        let now = net.sim.now();
        let g = net.groups.get_mut(&d.to).unwrap();
        if let Ok(out) = g.receive(&d.bytes, now, &mut net.rng, &mut net.keys) {
            net.dispatch(d.to, out);
        }
    }
}

/// Regression (500-member demo): after concurrent updates, members that
/// send concurrently must not each update first (each such update is
/// concurrent with the others and acked by everyone: O(n) updates per
/// round). One designated member dominates them, from `tick`.
#[test]
fn concurrent_senders_leave_domination_to_one_member() {
    let (mut net, nodes) = start(6, 31, ideal(), Config::default());
    for &n in &nodes[1..3] {
        net.act(n, |g, now, rng, keys| g.update(now, rng, keys))
            .unwrap();
    }
    deliver_only(&mut net, 500);
    assert!(net.groups[&nodes[4]].needs_dominating_update());
    let mut updated_first = 0;
    for &n in &nodes[3..] {
        let me = net.groups[&n].me();
        let audience = net.groups[&n].members().into_iter().filter(|m| *m != me);
        let audience: BTreeSet<MemberId> = audience.collect();
        let now = net.sim.now();
        let g = net.groups.get_mut(&n).unwrap();
        let out = g.send(b"hi", now, &mut net.rng, &mut net.keys).unwrap();
        let id = out.sent.unwrap();
        net.sent.insert(id, (me, b"hi".to_vec(), audience));
        let mine = net.decrypted.entry(me).or_default();
        mine.insert(id, b"hi".to_vec());
        let own_update = out
            .events
            .iter()
            .any(|e| matches!(e, Event::KeyUpdated { member, .. } if *member == me));
        updated_first += usize::from(own_update);
        net.dispatch(n, out);
    }
    // The designee is one of the two updaters, so none of these three.
    assert_eq!(updated_first, 0);
    net.run(3_000, true);
    net.check().unwrap();
    for g in net.groups.values() {
        assert!(
            !g.needs_dominating_update(),
            "{} still undominated",
            g.user()
        );
    }
}

/// Regression (500-member demo): a sync answer is bounded in bytes and is
/// a causal prefix, so a member far behind catches up over a few requests
/// instead of getting (and buffering) everything in one packet.
#[test]
fn a_member_far_behind_catches_up_in_bounded_answers() {
    // Serializing megabytes of state after every step is slow in debug.
    let config = Config {
        state_in_output: false,
        ..Config::default()
    };
    let (mut net, nodes) = start(3, 37, ideal(), config);
    net.sim.set_online(nodes[2], false).unwrap();
    let big = "x".repeat(200_000);
    let mut ids = Vec::new();
    for _ in 0..24 {
        ids.push(net.send(nodes[0], &big).unwrap());
    }
    net.run(500, false);
    net.sim.set_online(nodes[2], true).unwrap();
    let peer = net.groups[&nodes[0]].me();
    let mut rounds = 0;
    while ids.iter().any(|id| {
        !net.decrypted
            .get(&net.groups[&nodes[2]].me())
            .is_some_and(|d| d.contains_key(id))
    }) {
        rounds += 1;
        assert!(
            rounds <= 3,
            "not caught up after {} sync rounds",
            rounds - 1
        );
        let now = net.sim.now();
        let ask = net
            .groups
            .get_mut(&nodes[2])
            .unwrap()
            .sync_request(peer)
            .unwrap();
        let g0 = net.groups.get_mut(&nodes[0]).unwrap();
        let answer = g0
            .receive(&ask.packets[0].bytes, now, &mut net.rng, &mut net.keys)
            .unwrap();
        let resends: Vec<_> = answer
            .packets
            .iter()
            .filter(|p| p.kind == PacketKind::Resend)
            .collect();
        assert_eq!(resends.len(), 1);
        // Framing and length prefixes on top of the envelopes.
        assert!(resends[0].bytes.len() <= MAX_RESEND_BYTES + 4096);
        let g2 = net.groups.get_mut(&nodes[2]).unwrap();
        let out = g2
            .receive(&resends[0].bytes, now, &mut net.rng, &mut net.keys)
            .unwrap();
        // A causal prefix: nothing waits for a predecessor.
        assert_eq!(g2.waiting(), 0);
        net.dispatch(nodes[2], out);
    }
    assert!(rounds >= 2, "{rounds}");
}

#[derive(Debug, Clone)]
enum Action {
    Send(usize),
    Update(usize),
    Remove(usize, usize),
    Add(usize),
    Partition(usize),
    Heal,
    Offline(usize),
    Online(usize),
    Wait,
    /// Issue 10 item 11: the first three members remove each other in a
    /// ring, concurrently, while the first adds two newcomers.
    RemoveRingWhileAdding,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..8usize).prop_map(Action::Send),
        1 => (0..8usize).prop_map(Action::Update),
        1 => (0..8usize, 0..8usize).prop_map(|(a, b)| Action::Remove(a, b)),
        1 => (0..8usize).prop_map(Action::Add),
        1 => (1..4usize).prop_map(Action::Partition),
        1 => Just(Action::Heal),
        1 => (0..8usize).prop_map(Action::Offline),
        1 => (0..8usize).prop_map(Action::Online),
        2 => Just(Action::Wait),
        1 => Just(Action::RemoveRingWhileAdding),
    ]
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_actions_over_random_schedules_converge(
        n in 3..6usize,
        seed in any::<u64>(),
        loss in prop_oneof![Just(0u32), 0..150_000u32],
        dup in 0..100_000u32,
        actions in proptest::collection::vec(action(), 4..14),
    ) {
        let link = LinkConfig { latency_ms: 10, jitter_ms: 40, loss_ppm: loss, duplicate_ppm: dup };
        let config = Config { delivery_timeout_ms: 60_000, update_every_messages: Some(5), ..Config::default() };
        let (mut net, mut nodes) = start(n, seed, link, config);
        let mut disturbed = loss > 0;
        let mut added = 0;
        for a in actions {
            let pick = |i: usize, nodes: &[NodeId]| nodes[i % nodes.len()];
            match a {
                Action::Send(i) => { net.send(pick(i, &nodes), "m"); }
                Action::Update(i) => { let _ = net.act(pick(i, &nodes), |g, now, rng, keys| g.update(now, rng, keys)); }
                Action::Remove(i, j) => {
                    let victim = net.groups[&pick(j, &nodes)].user().clone();
                    let _ = net.act(pick(i, &nodes), |g, now, rng, keys| g.remove(&[victim.clone()], now, rng, keys));
                }
                Action::Add(i) => {
                    added += 1;
                    let (node, inv) = net.user(&format!("new{added}"));
                    if net.act(pick(i, &nodes), |g, now, rng, keys| g.add(&[inv.clone()], now, rng, keys)).is_ok() {
                        nodes.push(node);
                    }
                }
                Action::Partition(k) => {
                    let (a, b) = nodes.split_at(k.min(nodes.len() - 1));
                    let _ = net.sim.partition(&[a, b]);
                    disturbed = true;
                }
                Action::Heal => net.sim.heal(),
                Action::Offline(i) => { let _ = net.sim.set_online(pick(i, &nodes), false); disturbed = true; }
                Action::Online(i) => { let _ = net.sim.set_online(pick(i, &nodes), true); }
                Action::Wait => {}
                Action::RemoveRingWhileAdding => {
                    let ring: Vec<NodeId> = nodes.iter().copied().filter(|n| net.groups[n].is_member()).take(3).collect();
                    if ring.len() == 3 {
                        let mut invites = Vec::new();
                        for _ in 0..2 {
                            added += 1;
                            let (node, inv) = net.user(&format!("new{added}"));
                            nodes.push(node);
                            invites.push(inv);
                        }
                        let _ = net.act(ring[0], |g, now, rng, keys| g.add(&invites, now, rng, keys));
                        for k in 0..3 {
                            let victim = net.groups[&ring[(k + 1) % 3]].user().clone();
                            let _ = net.act(ring[k], |g, now, rng, keys| g.remove(&[victim.clone()], now, rng, keys));
                        }
                    }
                }
            }
            net.run(300, true);
        }
        net.sim.heal();
        for n in nodes.clone() { let _ = net.sim.set_online(n, true); }
        net.run(8_000, true);
        if let Err(e) = net.check() { return Err(TestCaseError::fail(e)); }
        // No false alarms (mpENC): every warning is explained by the
        // schedule. A delivery warning needs a disturbed network (loss,
        // partition, a member offline); nothing else is ever expected here
        // (messages a member was not meant to read are `NotForMe`, checked
        // against the senders' views by `check`).
        for w in &net.warnings {
            let explained = matches!(w, Warning::Undelivered { .. }) && disturbed;
            prop_assert!(explained, "unexplained warning {w:?} (disturbed: {disturbed})");
        }
    }
}
