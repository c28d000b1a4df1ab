//! Tampered, truncated, forged and replayed packets: typed errors, state
//! unchanged (the protocol still completes afterwards).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_chacha::ChaCha20Rng;
use sgm_crypto::{SeedableRng, SigningKey, VerifyingKey};
use sgm_mpenc::codec;
use sgm_mpenc::data::DataMessage;
use sgm_mpenc::drive::{Driver, Op};
use sgm_mpenc::greet_message::{GreetingMetadata, UnverifiedGreet};
use sgm_mpenc::greeter::{GreetState, GreetStore, Greeting};
use sgm_mpenc::{Id, MpencError};

struct Trio {
    stores: Vec<GreetStore>,
    dir: BTreeMap<Id, VerifyingKey>,
    ids: Vec<Id>,
}

fn trio(rng: &mut ChaCha20Rng) -> Trio {
    let ids: Vec<Id> = ["alice", "bob", "carol"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let mut dir = BTreeMap::new();
    let mut stores = Vec::new();
    for i in &ids {
        let k = SigningKey::generate(rng);
        dir.insert(i.clone(), k.verifying_key());
        stores.push(GreetStore::new(i.clone(), k));
    }
    Trio { stores, dir, ids }
}

fn md() -> GreetingMetadata {
    GreetingMetadata {
        prev_pf: vec![1; 32],
        prev_ch: vec![2; 32],
        parents: vec![],
    }
}

/// Flips one bit of the packet's content at `offset` and re-wraps it.
fn flip(packet: &str, offset: usize) -> String {
    let mut c = match codec::decode_wire(packet).unwrap() {
        codec::WirePacket::Mpenc { content, .. } => content,
        codec::WirePacket::Plain(_) => unreachable!(),
    };
    let i = offset % c.len();
    c[i] ^= 0x01;
    codec::encode_wire(&c)
}

fn content(packet: &str) -> Vec<u8> {
    STANDARD.decode(&packet[7..packet.len() - 1]).unwrap()
}

#[test]
fn tampered_and_truncated_greeting_packets_are_rejected_without_effect() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let t = trio(&mut rng);
    let mut a = Greeting::new(&t.stores[0]);
    let p1 = a.start(&t.ids[1..], md(), &mut rng).unwrap().packet;
    let mut b = Greeting::new(&t.stores[1]);
    let len = content(&p1).len();
    // Every byte position: a flipped bit is caught (signature or framing).
    for offset in 0..len {
        let bad = flip(&p1, offset);
        assert!(
            b.recv(&bad, &t.dir, &mut rng).is_err(),
            "offset {offset} accepted"
        );
        assert_eq!(b.state(), GreetState::Null);
    }
    // Truncations at every length.
    let c = content(&p1);
    for cut in 0..c.len() {
        let bad = codec::encode_wire(&c[..cut]);
        assert!(
            b.recv(&bad, &t.dir, &mut rng).is_err(),
            "cut {cut} accepted"
        );
    }
    assert_eq!(b.state(), GreetState::Null);
    // The untouched packet still works: the failures changed nothing.
    assert!(b.recv(&p1, &t.dir, &mut rng).unwrap().is_some());
    assert_eq!(b.state(), GreetState::InitUpflow);
}

#[test]
fn forged_greeting_packet_is_rejected() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let t = trio(&mut rng);
    let mut a = Greeting::new(&t.stores[0]);
    let p1 = a.start(&t.ids[1..], md(), &mut rng).unwrap().packet;
    // Mallory re-signs alice's packet with her own key, keeping alice's
    // claimed ephemeral public key: the self-claimed key does not verify.
    let mallory = SigningKey::generate(&mut rng);
    let msg = UnverifiedGreet::decode_wire(&p1).unwrap().peek().clone();
    let forged = msg.encode_wire(&mallory).unwrap();
    let mut b = Greeting::new(&t.stores[1]);
    assert_eq!(
        b.recv(&forged, &t.dir, &mut rng),
        Err(MpencError::BadSignature)
    );
    assert_eq!(b.state(), GreetState::Null);
}

#[test]
fn forged_session_acknowledgement_is_rejected() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let t = trio(&mut rng);
    let mut g: Vec<Greeting> = t.stores.iter().map(Greeting::new).collect();
    let p1 = g[0].start(&t.ids[1..], md(), &mut rng).unwrap().packet;
    let p2 = g[1].recv(&p1, &t.dir, &mut rng).unwrap().unwrap().packet;
    g[2].recv(&p1, &t.dir, &mut rng).unwrap();
    let p3 = g[2].recv(&p2, &t.dir, &mut rng).unwrap().unwrap().packet;
    // alice sees her own proposal and bob's upflow (addressed to carol).
    assert_eq!(g[0].recv(&p1, &t.dir, &mut rng).unwrap(), None);
    assert_eq!(g[0].recv(&p2, &t.dir, &mut rng).unwrap(), None);
    // A directory in which carol has another static key: carol's
    // acknowledgement no longer verifies (the packet signature, by her
    // ephemeral key, still does).
    let mut wrong_dir = t.dir.clone();
    wrong_dir.insert(
        t.ids[2].clone(),
        SigningKey::generate(&mut rng).verifying_key(),
    );
    let before = g[0].state();
    assert!(matches!(
        g[0].recv(&p3, &wrong_dir, &mut rng),
        Err(MpencError::BadSessionSignature { .. })
    ));
    assert_eq!(g[0].state(), before);
    // With the right directory the same packet is accepted.
    assert!(g[0].recv(&p3, &t.dir, &mut rng).unwrap().is_some());
}

#[test]
fn replayed_greeting_packet_is_rejected() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let t = trio(&mut rng);
    let mut a = Greeting::new(&t.stores[0]);
    let p1 = a.start(&t.ids[1..], md(), &mut rng).unwrap().packet;
    let mut b = Greeting::new(&t.stores[1]);
    b.recv(&p1, &t.dir, &mut rng).unwrap();
    let state = b.state();
    assert!(matches!(
        b.recv(&p1, &t.dir, &mut rng),
        Err(MpencError::UnexpectedGreeting { .. })
    ));
    assert_eq!(b.state(), state);
}

#[test]
fn replayed_proposal_is_rejected_by_server_order() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut d = Driver::new();
    for i in 0..3u8 {
        d.add(vec![b'a' + i], SigningKey::generate(&mut rng));
    }
    d.run(
        b"a",
        &Op::Start(vec![b"b".to_vec(), b"c".to_vec()]),
        &mut rng,
    )
    .unwrap();
    d.run(b"b", &Op::Refresh, &mut rng).unwrap();
    let key = *d.parties[&b"a".to_vec()]
        .store
        .group_key()
        .unwrap()
        .expose_secret();
    let ids_before: Vec<_> = d
        .parties
        .values()
        .map(|p| p.order.packet_ids().len())
        .collect();
    // The server replays the refresh: it refers to a final packet that is
    // no longer the last, so nobody accepts it.
    let replay = d
        .log
        .iter()
        .rev()
        .find(|e| e.sender == b"b")
        .unwrap()
        .clone();
    d.deliver(vec![replay], &mut rng);
    let ids_after: Vec<_> = d
        .parties
        .values()
        .map(|p| p.order.packet_ids().len())
        .collect();
    assert_eq!(ids_before, ids_after);
    assert_eq!(
        d.parties[&b"a".to_vec()]
            .store
            .group_key()
            .unwrap()
            .expose_secret(),
        &key
    );
}

#[test]
fn tampered_forged_truncated_and_misdirected_data_messages() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let mut d = Driver::new();
    for i in 0..3u8 {
        d.add(vec![b'a' + i], SigningKey::generate(&mut rng));
    }
    d.run(
        b"a",
        &Op::Start(vec![b"b".to_vec(), b"c".to_vec()]),
        &mut rng,
    )
    .unwrap();
    let a = d.parties[&b"a".to_vec()].store.clone();
    let b = d.parties[&b"b".to_vec()].store.clone();
    let msg = DataMessage {
        parents: vec![vec![9; 20]],
        body: b"hello".to_vec(),
    };
    let (packet, id) = a.encrypt(&msg, &mut rng).unwrap();
    assert_eq!(b.decrypt(b"a", &packet).unwrap(), (msg.clone(), id));
    let c = content(&packet);
    for offset in 0..c.len() {
        assert!(
            b.decrypt(b"a", &flip(&packet, offset)).is_err(),
            "offset {offset}"
        );
    }
    for cut in 0..c.len() {
        assert!(
            b.decrypt(b"a", &codec::encode_wire(&c[..cut])).is_err(),
            "cut {cut}"
        );
    }
    // Claimed by another member: that member's key does not verify it.
    assert_eq!(b.decrypt(b"c", &packet), Err(MpencError::BadSignature));
    // Unknown author.
    assert!(matches!(
        b.decrypt(b"zed", &packet),
        Err(MpencError::UnknownAuthor { .. })
    ));
    // After a refresh (new group key), the old packet is for another key.
    d.run(b"c", &Op::Refresh, &mut rng).unwrap();
    let b2 = &d.parties[&b"b".to_vec()].store;
    assert!(matches!(
        b2.decrypt(b"a", &packet),
        Err(MpencError::SidkeyHint | MpencError::BadSignature)
    ));
}
