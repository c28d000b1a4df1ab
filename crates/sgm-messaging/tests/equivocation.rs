//! Equivocation at the façade (issue 10, item 3): a member restores two
//! copies of its state and sends a different broadcast with the same
//! sequence number to bob and to carol. The group must not split: bob's
//! and carol's later messages reach each other, both learn who forked
//! (with evidence a third party can check), and removing the equivocator
//! leaves a group that converges.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::ChaCha20Rng;
use sgm_crypto::SeedableRng;
use sgm_messaging::{
    Config, Destination, Event, Group, Invite, KeyServer, MemberId, Output, UserId, Warning,
};

/// Node indices.
const ALICE: usize = 0;
const BOB: usize = 1;
const CAROL: usize = 2;
const MALLORY: usize = 3;
/// Mallory's second copy of her state (same member id).
const MALLORY_TWIN: usize = 4;

/// A simple in-test network: FIFO per run, every packet delivered to the
/// nodes it names, except what a filter keeps from someone.
struct Net {
    rng: ChaCha20Rng,
    keys: KeyServer,
    groups: Vec<Group>,
    node_of: BTreeMap<MemberId, usize>,
    queue: VecDeque<(usize, Vec<u8>)>,
    /// Nodes whose outgoing packets are dropped (offline).
    silent: Vec<usize>,
    now: u64,
    events: Vec<Vec<Event>>,
    /// Identity keys, from the invites.
    identity: Vec<sgm_crypto::VerifyingKey>,
}

impl Net {
    fn new() -> (Self, Vec<Invite>) {
        let mut rng = ChaCha20Rng::seed_from_u64(10_003);
        let mut keys = KeyServer::new();
        let mut groups = Vec::new();
        let mut invites = Vec::new();
        let mut node_of = BTreeMap::new();
        for (i, name) in ["alice", "bob", "carol", "mallory"].iter().enumerate() {
            let (g, inv, pk) = Group::new(UserId::from(*name), Config::default(), 8, &mut rng);
            keys.publish(inv.member_id(), pk);
            node_of.insert(inv.member_id(), i);
            groups.push(g);
            invites.push(inv);
        }
        let net = Self {
            rng,
            keys,
            groups,
            node_of,
            queue: VecDeque::new(),
            silent: Vec::new(),
            now: 1_000,
            events: vec![Vec::new(); 5],
            identity: invites.iter().map(|i| i.identity).collect(),
        };
        (net, invites)
    }

    fn me(&self, node: usize) -> MemberId {
        self.groups[node].me()
    }

    /// Queues `out`'s packets for their recipients; `only` (if given)
    /// restricts them to these nodes.
    fn dispatch(&mut self, from: usize, out: Output, only: Option<&[usize]>) {
        self.events[from].extend(out.events);
        if self.silent.contains(&from) {
            return;
        }
        for p in out.packets {
            let to: Vec<usize> = match &p.to {
                Destination::Members(ms) => ms
                    .iter()
                    .filter_map(|m| self.node_of.get(m))
                    .copied()
                    .collect(),
                Destination::Member(m) => self.node_of.get(m).copied().into_iter().collect(),
            };
            for n in to {
                if n != from && only.is_none_or(|o| o.contains(&n)) {
                    self.queue.push_back((n, p.bytes.clone()));
                }
            }
        }
    }

    fn deliver_all(&mut self) {
        let mut budget = 100_000;
        while let Some((to, bytes)) = self.queue.pop_front() {
            budget -= 1;
            assert!(budget > 0, "packet storm");
            let g = &mut self.groups[to];
            if let Ok(out) = g.receive(&bytes, self.now, &mut self.rng, &mut self.keys) {
                self.dispatch(to, out, None);
            }
        }
    }

    /// Ticks every node and has every member ask every other for what it
    /// lacks, `rounds` times, 200 ms apart.
    fn run(&mut self, rounds: usize) {
        for _ in 0..rounds {
            self.now += 200;
            for n in 0..self.groups.len() {
                let out = self.groups[n]
                    .tick(self.now, &mut self.rng, &mut self.keys)
                    .unwrap();
                self.dispatch(n, out, None);
                self.deliver_all();
                let g = &self.groups[n];
                if !g.is_member() {
                    continue;
                }
                let peers: Vec<MemberId> =
                    g.members().into_iter().filter(|m| *m != g.me()).collect();
                for p in peers {
                    let out = self.groups[n].sync_request(p).unwrap();
                    self.dispatch(n, out, None);
                }
                self.deliver_all();
            }
        }
    }

    fn send(&mut self, node: usize, text: &str, only: Option<&[usize]>) {
        let out = self.groups[node]
            .send(text.as_bytes(), self.now, &mut self.rng, &mut self.keys)
            .unwrap();
        self.dispatch(node, out, only);
    }

    fn saw(&self, node: usize, text: &str) -> bool {
        self.groups[node]
            .transcript()
            .iter()
            .any(|e| e.plaintext == text.as_bytes())
    }
}

/// Alice creates the group of four; mallory restores a second copy of her
/// state and sends "to bob" from one copy (to bob only) and "to carol"
/// from the other (to carol only), with the same sequence number.
fn forked_group() -> Net {
    forked_group_with(false)
}

/// [`forked_group`]; with `rotating_twin`, the twin's branch starts with
/// an update (which rotates mallory's signing key on that branch only)
/// and goes on with "to carol" under the new key.
fn forked_group_with(rotating_twin: bool) -> Net {
    let (mut net, invites) = Net::new();
    let out = net.groups[ALICE]
        .create(&invites[1..], net.now, &mut net.rng, &mut net.keys)
        .unwrap();
    net.dispatch(ALICE, out, None);
    net.deliver_all();
    net.run(5);
    for n in 0..4 {
        assert!(net.groups[n].is_member(), "node {n} not a member");
    }
    let twin = Group::from_bytes(net.groups[MALLORY].to_bytes().expose_secret()).unwrap();
    net.groups.push(twin);
    net.send(MALLORY, "to bob", Some(&[BOB]));
    if rotating_twin {
        let out = net.groups[MALLORY_TWIN]
            .update(net.now, &mut net.rng, &mut net.keys)
            .unwrap();
        net.dispatch(MALLORY_TWIN, out, Some(&[CAROL]));
    }
    net.send(MALLORY_TWIN, "to carol", Some(&[CAROL]));
    // From here on neither copy of mallory says anything more: the twin
    // is offline for good, mallory answers nothing.
    net.silent = vec![MALLORY, MALLORY_TWIN];
    net.deliver_all();
    assert!(net.saw(BOB, "to bob") && net.saw(CAROL, "to carol"));
    net
}

/// Regression: after the fork, bob's and carol's own new messages never
/// reached each other (each depended on an envelope the other rejected as
/// an equivocation), however long the group ran.
#[test]
fn honest_members_keep_talking_after_a_third_members_fork() {
    let mut net = forked_group();
    net.send(BOB, "bob after the fork", None);
    net.send(CAROL, "carol after the fork", None);
    net.deliver_all();
    net.run(20);
    assert!(
        net.saw(CAROL, "bob after the fork"),
        "carol never got bob's message"
    );
    assert!(
        net.saw(BOB, "carol after the fork"),
        "bob never got carol's message"
    );
    assert!(net.saw(ALICE, "bob after the fork") && net.saw(ALICE, "carol after the fork"));
}

/// Both honest members that hold a branch learn who forked, with evidence
/// anyone can check against mallory's identity key; a restart keeps it.
#[test]
fn both_sides_warn_naming_the_equivocator_with_checkable_evidence() {
    let mut net = forked_group();
    net.send(BOB, "bob after the fork", None);
    net.send(CAROL, "carol after the fork", None);
    net.deliver_all();
    net.run(20);
    let mallory = net.me(MALLORY);
    let mallory_key = net.groups[ALICE]
        .users()
        .get(&UserId::from("mallory"))
        .copied()
        .unwrap();
    assert_eq!(mallory_key, mallory);
    for n in [ALICE, BOB, CAROL] {
        let warned: Vec<&Warning> = net.events[n]
            .iter()
            .filter_map(|e| match e {
                Event::Warning(w @ Warning::Equivocation { .. }) => Some(w),
                _ => None,
            })
            .collect();
        assert_eq!(warned.len(), 1, "node {n}: {warned:?}");
        let Warning::Equivocation {
            sender,
            user,
            evidence: Some(evidence),
            ..
        } = warned[0]
        else {
            panic!("node {n}: no evidence");
        };
        assert_eq!(*sender, mallory);
        assert_eq!(user.as_ref(), Some(&UserId::from("mallory")));
        // Transferable: encoded, decoded elsewhere, checked under the
        // identity key in mallory's invite.
        let decoded = sgm_messaging::Equivocation::decode(&evidence.encode()).unwrap();
        decoded.verify_identity(&net.identity[MALLORY]).unwrap();
        let restored = Group::from_bytes(net.groups[n].to_bytes().expose_secret()).unwrap();
        assert_eq!(restored.equivocations(), vec![(mallory, decoded)]);
        // Only the fork was not processed: every other warning is absent.
        assert!(
            net.events[n].iter().all(|e| !matches!(
                e,
                Event::Warning(Warning::Rejected { .. } | Warning::Undecryptable { .. })
            )),
            "node {n}: {:?}",
            net.events[n]
        );
    }
    // Each honest member processed one of mallory's two messages.
    assert!(net.saw(BOB, "to bob") && !net.saw(BOB, "to carol"));
    assert!(net.saw(CAROL, "to carol") && !net.saw(CAROL, "to bob"));
}

/// Recovery: alice removes mallory on the evidence; the rest converge on
/// membership and keep exchanging messages.
#[test]
fn removing_the_equivocator_leaves_a_group_that_converges() {
    let mut net = forked_group();
    net.send(BOB, "bob after the fork", None);
    net.send(CAROL, "carol after the fork", None);
    net.deliver_all();
    net.run(10);
    let mallory = net.me(MALLORY);
    assert_eq!(net.groups[ALICE].equivocations().len(), 1);
    let out = net.groups[ALICE]
        .remove(
            &[UserId::from("mallory")],
            net.now,
            &mut net.rng,
            &mut net.keys,
        )
        .unwrap();
    net.dispatch(ALICE, out, None);
    net.deliver_all();
    net.run(10);
    for n in [ALICE, BOB, CAROL] {
        let members = net.groups[n].members();
        assert!(!members.contains(&mallory), "node {n} still has mallory");
        assert_eq!(members, net.groups[ALICE].members(), "node {n} disagrees");
        assert_eq!(members.len(), 3);
    }
    for (i, n) in [ALICE, BOB, CAROL].into_iter().enumerate() {
        net.send(n, &format!("after removal {i}"), None);
    }
    net.deliver_all();
    net.run(10);
    for n in [ALICE, BOB, CAROL] {
        for i in 0..3 {
            assert!(
                net.saw(n, &format!("after removal {i}")),
                "node {n} lacks {i}"
            );
        }
        assert_eq!(net.groups[n].waiting(), 0, "node {n} still waits");
    }
    for n in [ALICE, BOB, CAROL] {
        let bad: Vec<&Event> = net.events[n]
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::Warning(
                        Warning::Rejected { .. }
                            | Warning::Undecryptable { .. }
                            | Warning::Dropped { .. }
                    )
                )
            })
            .collect();
        assert!(bad.is_empty(), "node {n}: {bad:?}");
    }
}

/// The twin's branch is an update (which rotates mallory's signing key on
/// that branch only) followed by "to carol" under the new key. Bob, who
/// never saw the update, can verify "to carol" only after it; fetching
/// carol's parents brings both (oldest first), so nothing waits. The key
/// agreement diverges (each side processed a different operation of
/// mallory's, and acks of the other are refused): removing mallory heals
/// it, and afterwards everyone reads everyone.
#[test]
fn a_fork_that_rotates_the_key_does_not_stall_and_removal_heals_it() {
    let mut net = forked_group_with(true);
    net.send(BOB, "bob after the fork", None);
    net.send(CAROL, "carol after the fork", None);
    net.deliver_all();
    net.run(20);
    for n in [ALICE, BOB, CAROL] {
        assert_eq!(net.groups[n].waiting(), 0, "node {n} still waits");
        assert!(
            net.events[n]
                .iter()
                .any(|e| matches!(e, Event::Warning(Warning::Equivocation { .. }))),
            "node {n} was not warned"
        );
    }
    let mallory = net.me(MALLORY);
    let out = net.groups[ALICE]
        .remove(
            &[UserId::from("mallory")],
            net.now,
            &mut net.rng,
            &mut net.keys,
        )
        .unwrap();
    net.dispatch(ALICE, out, None);
    net.deliver_all();
    net.run(10);
    for n in [ALICE, BOB, CAROL] {
        assert!(!net.groups[n].members().contains(&mallory), "node {n}");
        assert_eq!(net.groups[n].members(), net.groups[ALICE].members());
    }
    for n in [ALICE, BOB, CAROL] {
        net.send(n, &format!("healed {n}"), None);
    }
    net.deliver_all();
    net.run(10);
    for n in [ALICE, BOB, CAROL] {
        for m in [ALICE, BOB, CAROL] {
            assert!(
                net.saw(n, &format!("healed {m}")),
                "node {n} lacks {m}'s message"
            );
        }
        assert_eq!(net.groups[n].waiting(), 0, "node {n} still waits");
    }
}

/// The fork arriving as a direct broadcast packet (not in a resend
/// batch) is detected too, and receiving it again is a no-op.
#[test]
fn a_fork_received_directly_is_reported_once() {
    let (mut net, invites) = Net::new();
    let out = net.groups[ALICE]
        .create(&invites[1..], net.now, &mut net.rng, &mut net.keys)
        .unwrap();
    net.dispatch(ALICE, out, None);
    net.deliver_all();
    net.run(5);
    let mut twin = Group::from_bytes(net.groups[MALLORY].to_bytes().expose_secret()).unwrap();
    net.send(MALLORY, "first", Some(&[BOB]));
    net.deliver_all();
    let out = twin
        .send(b"second", net.now, &mut net.rng, &mut net.keys)
        .unwrap();
    let fork = out.packets[0].bytes.clone();
    let got = net.groups[BOB]
        .receive(&fork, net.now, &mut net.rng, &mut net.keys)
        .unwrap();
    let warned = got
        .events
        .iter()
        .filter(|e| matches!(e, Event::Warning(Warning::Equivocation { sender, .. }) if *sender == net.me(MALLORY)))
        .count();
    assert_eq!(warned, 1, "{:?}", got.events);
    assert!(got.state.is_some(), "the fork and the evidence are state");
    let again = net.groups[BOB]
        .receive(&fork, net.now, &mut net.rng, &mut net.keys)
        .unwrap();
    assert!(again.events.is_empty() && again.state.is_none());
    assert_eq!(net.groups[BOB].equivocations().len(), 1);
}

/// A member added after the fork joins from a checkpoint that holds both
/// branches, and reads what bob and carol send afterwards.
#[test]
fn a_member_added_after_the_fork_joins_and_reads_both_sides() {
    let mut net = forked_group();
    net.send(BOB, "bob after the fork", None);
    net.send(CAROL, "carol after the fork", None);
    net.deliver_all();
    net.run(10);
    let (dave, inv, pk) = Group::new(UserId::from("dave"), Config::default(), 8, &mut net.rng);
    net.keys.publish(inv.member_id(), pk);
    net.node_of.insert(inv.member_id(), net.groups.len());
    net.groups.push(dave);
    net.events.push(Vec::new());
    let dave = net.groups.len() - 1;
    let out = net.groups[ALICE]
        .add(&[inv], net.now, &mut net.rng, &mut net.keys)
        .unwrap();
    net.dispatch(ALICE, out, None);
    net.deliver_all();
    net.run(10);
    assert!(net.groups[dave].is_member());
    net.send(BOB, "bob to dave", None);
    net.send(CAROL, "carol to dave", None);
    net.deliver_all();
    net.run(10);
    assert!(net.saw(dave, "bob to dave") && net.saw(dave, "carol to dave"));
    assert_eq!(net.groups[dave].waiting(), 0);
}

/// A fetch is bounded before it is decoded, answered only with what was
/// named, and changes nothing.
#[test]
fn fetch_requests_are_bounded_and_change_nothing() {
    let mut net = forked_group();
    let before = net.groups[CAROL].to_bytes().expose_secret().to_vec();
    let gid = net.groups[CAROL].group_id().unwrap();
    let frame = |body: &[u8]| {
        let mut p = vec![sgm_messaging::PACKET_VERSION];
        p.extend_from_slice(&gid.0);
        p.push(5);
        p.extend_from_slice(body);
        p
    };
    // 65 ids (one too many), and a large body of empty ids.
    let mut too_many = vec![0x0a, 16];
    too_many.extend_from_slice(net.me(BOB).as_bytes());
    for _ in 0..65 {
        too_many.extend_from_slice(&[0x12, 32]);
        too_many.extend_from_slice(&[7; 32]);
    }
    let huge = [0x12, 0].repeat(1 << 20);
    for body in [too_many, huge, vec![0xff]] {
        let r = net.groups[CAROL].receive(&frame(&body), net.now, &mut net.rng, &mut net.keys);
        assert!(r.is_err());
        assert_eq!(net.groups[CAROL].to_bytes().expose_secret(), &before[..]);
    }
}
