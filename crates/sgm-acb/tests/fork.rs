//! Equivocation (issue 10, item 3): a sender that signs two different
//! messages with one seq must not split the honest members. Both branches
//! are kept in the DAG, what names either is delivered, the evidence is
//! reported, and a key rotated away from cannot add main-line messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sgm_acb::{Acb, AcbConfig, AcbEvent, AllowAll, Delivered, Fork, MessageId};

/// Mallory (0) restores a copy of her state: `a` goes to bob (1), `b` to
/// carol (2), both with seq 2 after a shared first message.
struct Forked {
    g: Vec<Acb>,
    a: sgm_acb::Outgoing,
    b: sgm_acb::Outgoing,
}

fn fork() -> Forked {
    let mut g = group(3, AcbConfig::default());
    let m1 = g[0].broadcast(b"m1".to_vec(), vec![]).unwrap();
    for member in &mut g[1..3] {
        recv(member, &m1.bytes);
    }
    let mut twin = g[0].clone();
    let a = g[0].broadcast(b"A".to_vec(), vec![]).unwrap();
    let b = twin.broadcast(b"B".to_vec(), vec![]).unwrap();
    assert_eq!((a.seq, b.seq), (2, 2));
    assert_ne!(a.id, b.id);
    assert_eq!(recv(&mut g[1], &a.bytes), vec![a.id]);
    assert_eq!(recv(&mut g[2], &b.bytes), vec![b.id]);
    Forked { g, a, b }
}

fn delivered_set(acb: &Acb, ids: &[MessageId]) -> Vec<bool> {
    ids.iter().map(|i| acb.is_delivered(i)).collect()
}

/// Regression: bob's and carol's messages after the fork never reached
/// each other (the other branch was rejected as an equivocation, and
/// everything naming it with it).
#[test]
fn both_branches_are_delivered_and_so_is_what_names_them() {
    let Forked { mut g, a, b } = fork();
    let b1 = g[1].broadcast(b"bob".to_vec(), vec![]).unwrap();
    let c1 = g[2].broadcast(b"carol".to_vec(), vec![]).unwrap();
    // Bob gets carol's message, then (fetched by id) the branch it names.
    assert!(recv(&mut g[1], &c1.bytes).is_empty());
    assert_eq!(g[1].missing(), vec![b.id]);
    let r = g[1].receive(&b.bytes, &AllowAll).unwrap();
    assert_eq!(ids(&r.delivered), vec![b.id, c1.id]);
    assert_eq!(r.delivered[0].fork, Some(Fork::CurrentKey));
    assert_eq!(r.delivered[1].fork, None);
    // Carol, the other way round.
    assert!(recv(&mut g[2], &b1.bytes).is_empty());
    let r = g[2].receive(&a.bytes, &AllowAll).unwrap();
    assert_eq!(ids(&r.delivered), vec![a.id, b1.id]);
    assert_eq!(r.delivered[0].fork, Some(Fork::CurrentKey));
    // Both hold the same DAG.
    let all = [a.id, b.id, b1.id, c1.id];
    assert_eq!(delivered_set(&g[1], &all), vec![true; 4]);
    assert_eq!(delivered_set(&g[2], &all), vec![true; 4]);
    assert_eq!(g[1].heads(), g[2].heads());
    // And they keep talking.
    let b2 = g[1].broadcast(b"bob 2".to_vec(), vec![]).unwrap();
    assert_eq!(recv(&mut g[2], &b2.bytes), vec![b2.id]);
}

#[test]
fn the_fork_is_reported_with_evidence_a_third_party_can_check() {
    let Forked { mut g, a, b } = fork();
    let r = g[1].receive(&b.bytes, &AllowAll).unwrap();
    let [
        AcbEvent::Equivocation {
            id,
            sender,
            seq,
            existing,
            evidence: Some(evidence),
        },
    ] = r.events.as_slice()
    else {
        panic!("no evidence: {:?}", r.events);
    };
    assert_eq!((*id, *sender, *seq, *existing), (b.id, id_of(0), 2, a.id));
    let mut want = [a.id, b.id];
    want.sort();
    assert_eq!(evidence.ids(), want);
    // A third party decodes it and checks it under mallory's identity key.
    let bytes = evidence.encode();
    let decoded = sgm_acb::Equivocation::decode(&bytes).unwrap();
    assert_eq!(&decoded, evidence.as_ref());
    decoded.verify_identity(&key(0).verifying_key()).unwrap();
    assert!(decoded.verify_identity(&key(1).verifying_key()).is_err());
    g[2].check_equivocation(&decoded).unwrap();
    // Not canonical: the envelopes swapped, or one twice.
    let [x, y] = decoded.envelopes();
    let mut swapped = vec![sgm_acb::EQUIVOCATION_VERSION];
    for e in [y, x] {
        swapped.push(e.bytes().len() as u8);
        swapped.extend_from_slice(e.bytes());
    }
    assert!(sgm_acb::Equivocation::decode(&swapped).is_err());
    assert!(sgm_acb::Equivocation::new(x.clone(), x.clone()).is_err());
    // Truncated or extended: an error, never a panic.
    for n in 0..bytes.len() {
        assert!(sgm_acb::Equivocation::decode(&bytes[..n]).is_err());
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(sgm_acb::Equivocation::decode(&longer).is_err());
}

/// Any order of arrival at an observer gives the same delivered set.
#[test]
fn an_observer_delivers_both_branches_in_any_order() {
    let Forked { mut g, a, b } = fork();
    let b1 = g[1].broadcast(b"bob".to_vec(), vec![]).unwrap();
    let c1 = g[2].broadcast(b"carol".to_vec(), vec![]).unwrap();
    let msgs = [
        a.bytes.clone(),
        b.bytes.clone(),
        b1.bytes.clone(),
        c1.bytes.clone(),
    ];
    let first = first_message(&g[1]);
    for perm in permutations(4) {
        let mut o = observer(3, AcbConfig::default());
        recv(&mut o, &first);
        let mut got: Vec<Delivered> = Vec::new();
        for i in perm {
            got.extend(o.receive(&msgs[i], &AllowAll).unwrap().delivered);
        }
        let mut delivered: Vec<MessageId> = ids(&got);
        delivered.sort();
        let mut want = vec![a.id, b.id, b1.id, c1.id];
        want.sort();
        assert_eq!(delivered, want);
        assert_eq!(got.iter().filter(|d| d.fork.is_some()).count(), 1);
        assert_eq!(o.buffered().0, 0);
    }
}

/// Mallory's first message (seq 1), as stored by `acb`.
fn first_message(acb: &Acb) -> Vec<u8> {
    let m1 = sgm_acb::SignedEnvelope::sign(
        sgm_acb::Envelope {
            sender: id_of(0),
            seq: 1,
            parents: vec![],
            payload: b"m1".to_vec(),
            direct: vec![],
            new_signing_key: None,
            rotation_proof: None,
            leaf: false,
        },
        &key(0),
    );
    assert!(acb.is_delivered(&m1.id()));
    m1.bytes().to_vec()
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

/// A key the sender rotated away from (say it leaked) can sign a fork at
/// a seq it was valid for, and continue that fork under a key it
/// announces there: all of it is delivered as a fork, never as the
/// sender's main line, whose next message is still the sender's own.
#[test]
fn a_rotated_out_key_only_adds_forks() {
    let mut g = group(2, AcbConfig::default());
    g[0].rotate_signing_key(key(50));
    let m1 = g[0].broadcast(b"m1 rotates".to_vec(), vec![]).unwrap();
    recv(&mut g[1], &m1.bytes);
    let signed = |seq: u64, parents: Vec<MessageId>, rotate: Option<u8>, k: u8| {
        sgm_acb::SignedEnvelope::sign(
            sgm_acb::Envelope {
                sender: id_of(0),
                seq,
                parents,
                payload: b"evil".to_vec(),
                direct: vec![],
                new_signing_key: rotate.map(|r| key(r).verifying_key()),
                rotation_proof: None,
                leaf: false,
            },
            &key(k),
        )
    };
    let evil1 = signed(1, vec![], Some(66), 0);
    let evil2 = signed(2, vec![evil1.id()], None, 66);
    // The continuation arrives first: no key known here verifies it, so it
    // is refused like a forgery (not remembered: re-sent after its fork,
    // it is accepted; sgm-messaging's fetch answer sends the sender's
    // previous messages first).
    let before = snapshot(&g[1]);
    assert!(matches!(
        g[1].receive(evil2.bytes(), &AllowAll),
        Err(sgm_acb::AcbError::BadSignature { .. })
    ));
    assert_eq!(snapshot(&g[1]), before);
    let r = g[1].receive(evil1.bytes(), &AllowAll).unwrap();
    assert_eq!(ids(&r.delivered), vec![evil1.id()]);
    assert_eq!(r.delivered[0].fork, Some(Fork::OtherKey));
    assert!(matches!(
        r.events.as_slice(),
        [AcbEvent::Equivocation { .. }]
    ));
    let r = g[1].receive(evil2.bytes(), &AllowAll).unwrap();
    assert_eq!(ids(&r.delivered), vec![evil2.id()]);
    assert_eq!(r.delivered[0].fork, Some(Fork::OtherKey));
    assert_eq!(g[1].delivered_seq_of(&id_of(0)), Some(1));
    assert_eq!(
        g[1].current_key_of(&id_of(0)),
        Some(key(50).verifying_key())
    );
    // Mallory's own next message is her main line.
    let m2 = g[0].broadcast(b"m2".to_vec(), vec![]).unwrap();
    let r = g[1].receive(&m2.bytes, &AllowAll).unwrap();
    assert_eq!(ids(&r.delivered), vec![m2.id]);
    assert_eq!(r.delivered[0].fork, None);
    // A forgery is still a forgery, at a taken seq as anywhere.
    let forged = signed(1, vec![], None, 9);
    assert!(matches!(
        g[1].receive(forged.bytes(), &AllowAll),
        Err(sgm_acb::AcbError::BadSignature { .. })
    ));
    // The fork tips survive a restart.
    let restored =
        Acb::restore(g[1].to_state_bytes().expose_secret(), AcbConfig::default()).unwrap();
    assert_eq!(snapshot(&restored), snapshot(&g[1]));
    let evil3 = signed(3, vec![evil2.id()], None, 66);
    let mut restored = restored;
    let r = restored.receive(evil3.bytes(), &AllowAll).unwrap();
    assert!(r.delivered.len() == 1 && r.delivered[0].fork == Some(Fork::OtherKey));
}
