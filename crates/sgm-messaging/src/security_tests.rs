//! Issue 10 items 4–7, as an attacker would try them: a malicious adder
//! editing the checkpoint, a relay swapping or adding member cards in a
//! welcome, a second "alice", and a rejected broadcast carrying cards.
//! (In the crate: the attacks need to build packets no honest member
//! builds.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cloned_ref_to_slice_refs
)]

use prost::Message as _;
use rand_chacha::ChaCha20Rng;
use sgm_crypto::{MemberId, SeedableRng, SigningKey};

use crate::packet::{Kind, Payload, WelcomePb, frame, unframe};
use crate::{
    Config, Destination, Event, ExpectedWelcome, Group, Invite, KeyServer, Output, UserId, Warning,
};

struct Net {
    rng: ChaCha20Rng,
    keys: KeyServer,
    groups: Vec<Group>,
}

/// Rewrites a packet on its way to a member (`None`: deliver as sent).
type Tamper<'a> = dyn FnMut(&[u8], MemberId) -> Option<Vec<u8>> + 'a;

impl Net {
    fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
            keys: KeyServer::new(),
            groups: Vec::new(),
        }
    }

    fn user(&mut self, name: &str) -> (usize, Invite) {
        let (g, inv, pk) = Group::new(UserId::from(name), Config::default(), 8, &mut self.rng);
        self.keys.publish(inv.member_id(), pk);
        self.groups.push(g);
        (self.groups.len() - 1, inv)
    }

    fn act(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Group, &mut ChaCha20Rng, &mut KeyServer) -> crate::Result<Output>,
    ) -> Output {
        let Net { rng, keys, groups } = self;
        f(&mut groups[i], rng, keys).unwrap()
    }

    /// Delivers `out` and everything it causes; returns (receiver, event).
    fn route(&mut self, out: Output, tamper: &mut Tamper<'_>) -> Vec<(MemberId, Event)> {
        let mut events = Vec::new();
        let mut queue: Vec<(Destination, Vec<u8>)> =
            out.packets.into_iter().map(|p| (p.to, p.bytes)).collect();
        while let Some((to, bytes)) = queue.pop() {
            for i in 0..self.groups.len() {
                let me = self.groups[i].me();
                let for_me = match &to {
                    Destination::Members(m) => m.contains(&me),
                    Destination::Member(m) => *m == me,
                };
                if !for_me {
                    continue;
                }
                let b = tamper(&bytes, me).unwrap_or_else(|| bytes.clone());
                let Net { rng, keys, groups } = self;
                if let Ok(o) = groups[i].receive(&b, 0, rng, keys) {
                    events.extend(o.events.into_iter().map(|e| (me, e)));
                    queue.extend(o.packets.into_iter().map(|p| (p.to, p.bytes)));
                }
            }
        }
        events
    }

    fn deliver(&mut self, out: Output) -> Vec<(MemberId, Event)> {
        self.route(out, &mut |_, _| None)
    }
}

/// Rewrites the welcome body of a packet, if it is one.
fn edit_welcome(bytes: &[u8], f: impl FnOnce(&mut WelcomePb)) -> Option<Vec<u8>> {
    let (gid, kind, body) = unframe(bytes).ok()?;
    if kind != Kind::Welcome {
        return None;
    }
    let mut w = WelcomePb::decode(body).ok()?;
    f(&mut w);
    Some(frame(&gid, Kind::Welcome, &w.encode_to_vec()))
}

fn messages_from(events: &[(MemberId, Event)], to: MemberId) -> Vec<(MemberId, UserId)> {
    events
        .iter()
        .filter(|(r, _)| *r == to)
        .filter_map(|(_, e)| match e {
            Event::Message { sender, user, .. } => Some((*sender, user.clone())),
            _ => None,
        })
        .collect()
}

/// alice creates the group with bob; carol's welcome passes through
/// `tamper`, the rest as sent.
fn create_with_tampered_welcome(seed: u64, tamper: &mut Tamper<'_>) -> (Net, [usize; 3]) {
    let mut net = Net::new(seed);
    let (a, _) = net.user("alice");
    let (b, bob) = net.user("bob");
    let (c, carol) = net.user("carol");
    let carol_id = carol.member_id();
    let out = net.act(a, |g, r, k| g.create(&[bob, carol], 0, r, k));
    net.route(out, &mut |bytes, to| {
        if to == carol_id {
            tamper(bytes, to)
        } else {
            None
        }
    });
    (net, [a, b, c])
}

#[test]
fn relay_swapping_user_names_on_welcome_cards_cannot_rename_members() {
    let (mut net, [a, b, c]) = create_with_tampered_welcome(1, &mut |bytes, _| {
        edit_welcome(bytes, |w| {
            let alice = w.cards.iter().position(|c| c.user == "alice").unwrap();
            let bob = w.cards.iter().position(|c| c.user == "bob").unwrap();
            let (x, y) = (w.cards[alice].user.clone(), w.cards[bob].user.clone());
            w.cards[alice].user = y;
            w.cards[bob].user = x;
        })
    });
    let (alice, carol) = (net.groups[a].me(), net.groups[c].me());
    // Carol either refused the tampered welcome (the adder re-sends it, and
    // the untampered copy gets her in) or knows everyone by their own names.
    if !net.groups[c].is_member() {
        let out = net.act(a, |g, r, k| g.tick(WELCOME_RESEND, r, k));
        net.deliver(out);
    }
    assert!(net.groups[c].is_member());
    assert_eq!(net.groups[c].user_of(&alice), Some(&UserId::from("alice")));
    let bob = net.groups[b].me();
    assert_eq!(net.groups[c].user_of(&bob), Some(&UserId::from("bob")));
    let out = net.act(a, |g, r, k| g.send(b"hi", 10, r, k));
    let ev = net.deliver(out);
    assert_eq!(
        messages_from(&ev, carol),
        vec![(alice, UserId::from("alice"))]
    );
}

const WELCOME_RESEND: u64 = crate::WELCOME_RESEND_MS + 1;

/// A member-shaped identity the relay holds, outside the group.
fn outsider(net: &mut Net, name: &str) -> (Group, Invite) {
    let (g, inv, _) = Group::new(UserId::from(name), Config::default(), 1, &mut net.rng);
    (g, inv)
}

#[test]
fn relay_adding_its_own_card_to_a_welcome_gets_no_broadcast_accepted() {
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let (mut relay, relay_card, _) =
        Group::new(UserId::from("relay"), Config::default(), 1, &mut rng);
    let card = crate::packet::CardPb::of(&relay_card);
    let (mut net, [a, _, c]) = create_with_tampered_welcome(2, &mut |bytes, _| {
        edit_welcome(bytes, |w| w.cards.push(card.clone()))
    });
    if !net.groups[c].is_member() {
        let out = net.act(a, |g, r, k| g.tick(WELCOME_RESEND, r, k));
        net.deliver(out);
    }
    assert!(net.groups[c].is_member());
    assert_eq!(net.groups[c].user_of(&relay_card.member_id()), None);
    // The relay broadcasts into the group under its own key.
    relay.group_id = net.groups[c].group_id;
    let (id, env) = relay.broadcast(Payload::Ack, Vec::new()).unwrap();
    let gid = net.groups[c].group_id.unwrap();
    let Net { rng, keys, groups } = &mut net;
    let _ = groups[c].receive(&frame(&gid, Kind::Broadcast, &env), 0, rng, keys);
    assert!(
        !net.groups[c].acb.is_delivered(&id),
        "a non-member's broadcast was delivered"
    );
    // Carol is not cut off: alice delivers her next message.
    let out = net.act(c, |g, r, k| g.send(b"still here", 20, r, k));
    let ev = net.deliver(out);
    let alice = net.groups[a].me();
    assert_eq!(messages_from(&ev, alice).len(), 1);
}

#[test]
fn malicious_adder_vouching_for_a_card_of_a_non_member_is_refused() {
    let mut net = Net::new(9);
    let (a, _) = net.user("alice");
    let (b, bob) = net.user("bob");
    let out = net.act(a, |g, r, k| g.create(&[bob], 0, r, k));
    net.deliver(out);
    // Bob (malicious) slips a card of a key he holds into the cards his
    // welcome carries (and its signed digest).
    let (_, sock) = outsider(&mut net, "sock");
    net.groups[b].register(&sock);
    let (c, carol) = net.user("carol");
    let out = net.act(b, |g, r, k| g.add(&[carol], 10, r, k));
    net.deliver(out);
    assert_eq!(net.groups[c].user_of(&sock.member_id()), None);
    assert!(!net.groups[c].is_member());
}

#[test]
fn second_alice_added_by_a_malicious_member_is_refused() {
    let mut net = Net::new(3);
    let (a, _) = net.user("alice");
    let (b, bob) = net.user("bob");
    let out = net.act(a, |g, r, k| g.create(&[bob], 0, r, k));
    net.deliver(out);
    // Mallory's invite, named "alice". Bob (malicious) skips the check an
    // honest adder makes.
    let (m, fake) = net.user("alice");
    let out = net.act(b, |g, r, k| g.add_unchecked(&[fake.clone()], 10, r, k));
    let ev = net.deliver(out);
    let alice = net.groups[a].me();
    assert!(
        !net.groups[a].members().contains(&fake.member_id()),
        "alice sees a second alice: {:?}",
        net.groups[a].users()
    );
    assert!(ev.iter().any(|(r, e)| *r == alice
        && matches!(
            e,
            Event::Warning(Warning::Rejected {
                error: crate::Error::CredentialRefused { .. },
                ..
            })
        )));
    // The impostor does not join either (its validator sees the real alice).
    assert!(!net.groups[m].is_member());
}

#[test]
fn rejected_broadcast_carrying_cards_registers_nothing() {
    let mut net = Net::new(4);
    let (a, _) = net.user("alice");
    let (b, bob) = net.user("bob");
    let out = net.act(a, |g, r, k| g.create(&[bob], 0, r, k));
    net.deliver(out);
    let before_cards = net.groups[a].book.cards.len();
    let before_bounds = *net.groups[a].acb.config();
    // Bob (malicious) broadcasts a control message DCGKA rejects, carrying
    // 300 cards of identities he holds.
    let mut holders = Vec::new();
    let mut cards = Vec::new();
    for i in 0..300 {
        let (g, inv) = outsider(&mut net, &format!("ghost{i}"));
        cards.push(inv);
        holders.push(g);
    }
    let payload = Payload::Control {
        control: b"not a control message".to_vec(),
        cards,
        welcome: None,
    };
    let (_, env) = net.groups[b].broadcast(payload, Vec::new()).unwrap();
    let gid = net.groups[a].group_id.unwrap();
    let Net { rng, keys, groups } = &mut net;
    groups[a]
        .receive(&frame(&gid, Kind::Broadcast, &env), 0, rng, keys)
        .unwrap();
    assert_eq!(net.groups[a].book.cards.len(), before_cards);
    assert_eq!(*net.groups[a].acb.config(), before_bounds);
    // A ghost's broadcast is not delivered.
    let ghost = &mut holders[0];
    ghost.group_id = Some(gid);
    let (id, env) = ghost.broadcast(Payload::Ack, Vec::new()).unwrap();
    let Net { rng, keys, groups } = &mut net;
    let _ = groups[a].receive(&frame(&gid, Kind::Broadcast, &env), 0, rng, keys);
    assert!(!net.groups[a].acb.is_delivered(&id));
}

#[test]
fn welcome_from_an_unexpected_group_or_adder_is_refused() {
    let mut net = Net::new(6);
    let (a, _) = net.user("alice");
    let (b, bob) = net.user("bob");
    let (m, _) = net.user("mallory");
    // Bob expects alice to add him; mallory's welcome arrives first.
    net.groups[b].expect_welcome(ExpectedWelcome {
        group: None,
        adder: Some(UserId::from("alice")),
    });
    let out = net.act(m, |g, r, k| g.create(&[bob.clone()], 0, r, k));
    net.deliver(out);
    assert!(!net.groups[b].is_member(), "the first welcome simply won");
    let out = net.act(a, |g, r, k| g.create(&[bob], 0, r, k));
    net.deliver(out);
    assert!(net.groups[b].is_member());
    assert_eq!(net.groups[b].group_id(), net.groups[a].group_id());
    // Carol expects alice's group; mallory adds her to another one first.
    let (c, carol) = net.user("carol");
    let gid = net.groups[a].group_id().unwrap();
    net.groups[c].expect_welcome(ExpectedWelcome {
        group: Some(gid),
        adder: None,
    });
    let (m2, _) = net.user("mallory2");
    let out = net.act(m2, |g, r, k| g.create(&[carol.clone()], 0, r, k));
    net.deliver(out);
    assert!(!net.groups[c].is_member());
    let out = net.act(a, |g, r, k| g.add(&[carol], 10, r, k));
    net.deliver(out);
    assert!(net.groups[c].is_member());
    assert_eq!(net.groups[c].group_id(), Some(gid));
}

#[test]
fn malicious_adder_editing_the_checkpoint_cannot_give_a_member_its_key() {
    let mut net = Net::new(5);
    let (a, _) = net.user("alice");
    let (b, bob) = net.user("bob");
    let (c, carol) = net.user("carol");
    let out = net.act(a, |g, r, k| g.create(&[bob, carol], 0, r, k));
    net.deliver(out);
    // Carol's update rotates her signing key.
    let out = net.act(c, |g, r, k| g.update(10, r, k));
    net.deliver(out);
    let out = net.act(a, |g, r, k| g.tick(1_000, r, k));
    net.deliver(out);
    // Bob (malicious) adds dave with a checkpoint in which carol's key from
    // her next message on is one bob holds.
    let (d, dave) = net.user("dave");
    let mallory = SigningKey::generate(&mut net.rng);
    let carol_id = net.groups[c].me();
    let cp = net.groups[b].acb.checkpoint();
    let tampered = crate::security_tests::with_key(&cp, carol_id, &mallory);
    let out = net.act(b, |g, r, k| {
        g.add_with_checkpoint(&[dave], tampered, 20, r, k)
    });
    net.deliver(out);
    let key_at_dave = net.groups[d].acb.current_key_of(&carol_id);
    assert_ne!(
        key_at_dave,
        Some(mallory.verifying_key()),
        "the joiner took the adder's key for carol"
    );
    // The welcome was refused (`AcbError::BadKeyChain`): dave is not in.
    assert!(!net.groups[d].is_member());
}

// The checkpoint's protobuf layout (docs/acb.md), as the adder re-encodes it.
#[derive(Clone, PartialEq, prost::Message)]
struct CheckpointWire {
    #[prost(uint32, tag = "1")]
    version: u32,
    #[prost(message, repeated, tag = "2")]
    senders: Vec<SenderWire>,
    #[prost(bytes = "vec", repeated, tag = "3")]
    delivered: Vec<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "4")]
    heads: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SenderWire {
    #[prost(bytes = "vec", tag = "1")]
    id: Vec<u8>,
    #[prost(uint64, tag = "2")]
    delivered_seq: u64,
    #[prost(message, repeated, tag = "3")]
    keys: Vec<KeyEpochWire>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct KeyEpochWire {
    #[prost(uint64, tag = "1")]
    from_seq: u64,
    #[prost(bytes = "vec", tag = "2")]
    key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    proof: Vec<u8>,
}

/// `cp` with `member`'s key from its next message on replaced by `key`'s.
fn with_key(cp: &[u8], member: MemberId, key: &SigningKey) -> Vec<u8> {
    let mut w = CheckpointWire::decode(cp).unwrap();
    let s = w
        .senders
        .iter_mut()
        .find(|s| s.id == member.as_bytes())
        .unwrap();
    s.keys.push(KeyEpochWire {
        from_seq: s.delivered_seq + 1,
        key: key.verifying_key().as_bytes().to_vec(),
        proof: key.sign(b"mine").to_bytes().to_vec(),
    });
    w.encode_to_vec()
}

impl Group {
    /// A malicious adder: no check of the invites.
    fn add_unchecked(
        &mut self,
        invites: &[Invite],
        now_ms: u64,
        rng: &mut ChaCha20Rng,
        directory: &mut KeyServer,
    ) -> crate::Result<Output> {
        self.act(|s, acc| {
            let cp = s.acb.checkpoint();
            s.do_add(acc, invites, cp, now_ms, rng, directory)
        })
    }

    /// A malicious adder: a checkpoint of its choosing.
    fn add_with_checkpoint(
        &mut self,
        invites: &[Invite],
        checkpoint: Vec<u8>,
        now_ms: u64,
        rng: &mut ChaCha20Rng,
        directory: &mut KeyServer,
    ) -> crate::Result<Output> {
        self.act(|s, acc| s.do_add(acc, invites, checkpoint, now_ms, rng, directory))
    }
}

#[test]
fn a_card_travels_as_bytes_and_an_edited_card_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let (_, card, _) = Group::new(UserId::from("alice"), Config::default(), 1, &mut rng);
    let bytes = card.to_bytes();
    assert_eq!(Invite::from_bytes(&bytes).unwrap(), card);
    // Renamed by whoever carried it: the signature no longer covers it.
    let mut renamed = card.clone();
    renamed.user = UserId::from("mallory");
    assert_eq!(
        Invite::from_bytes(&renamed.to_bytes()),
        Err(crate::Error::BadCard(card.member_id()))
    );
    // An adder given a renamed invite refuses it.
    let mut net = Net::new(8);
    let (a, _) = net.user("alice2");
    let (_, bob) = net.user("bob");
    let mut bad = bob.clone();
    bad.user = UserId::from("robert");
    let Net { rng, keys, groups } = &mut net;
    let before = groups[a].to_bytes().expose_secret().to_vec();
    assert_eq!(
        groups[a].create(&[bad], 0, rng, keys).map(|_| ()),
        Err(crate::Error::BadCard(bob.member_id()))
    );
    assert_eq!(groups[a].to_bytes().expose_secret(), &before[..]);
}
