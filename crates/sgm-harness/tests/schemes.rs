//! The same scenarios over every scheme behind the harness: DCGKA, Sender
//! Keys and pairwise fan-out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_dcgka::Config;
use sgm_harness::dcgka::DcgkaScheme;
use sgm_harness::sender_keys::{PairwiseScheme, SenderKeysScheme};
use sgm_harness::{Group, GroupScheme, MessageKind, Operation};

fn everyone_reads<S: GroupScheme + Clone>(g: &mut Group<S>, from: usize, text: &[u8])
where
    S::Member: Clone,
{
    let ids = g.ids().to_vec();
    let out = g.run(ids[from], Operation::Send(text.to_vec())).unwrap();
    for m in g.roster().clone() {
        if m != ids[from] {
            assert!(
                out.decrypted_by(&m, &ids[from], text),
                "{} : {m} did not decrypt",
                g.scheme().name()
            );
        }
    }
}

fn lifecycle<S: GroupScheme + Clone>(scheme: S, n: usize)
where
    S::Member: Clone,
{
    let (mut g, _) = Group::setup(scheme, n, n as u64).unwrap();
    for i in 0..n {
        everyone_reads(&mut g, i, format!("hello from {i}").as_bytes());
    }
    let ids = g.ids().to_vec();
    g.run(ids[n - 1], Operation::Update).unwrap();
    everyone_reads(&mut g, 0, b"after update");
    let new = g.spawn(1).unwrap()[0];
    g.run(ids[0], Operation::Add(new)).unwrap();
    everyone_reads(&mut g, n, b"from the new member");
    everyone_reads(&mut g, 1 % n, b"to the new member");
    let rm = g.run(ids[0], Operation::Remove(ids[1])).unwrap();
    assert!(rm.removed.contains(&ids[1]), "{}", g.scheme().name());
    let out = g
        .run(ids[0], Operation::Send(b"after removal".to_vec()))
        .unwrap();
    assert!(out.decrypted.iter().all(|d| d.recipient != ids[1]));
    assert_eq!(out.decrypted.len(), g.roster().len() - 1);
}

#[test]
fn round_trips_2_to_32() {
    for n in [2, 3, 5, 8, 32] {
        lifecycle(SenderKeysScheme::new(Default::default(), n + 2), n);
        lifecycle(PairwiseScheme::new(n + 2), n);
    }
    for n in [2, 3, 8] {
        lifecycle(DcgkaScheme::new(Config::default(), n + 2), n);
    }
}

/// The counts the comparison rests on: a Sender Keys message is one
/// broadcast, a pairwise one n − 1 unicasts; a Sender Keys removal or update
/// is O(n²) pairwise messages, DCGKA's O(n) broadcasts.
#[test]
fn message_counts() {
    let n = 8;
    let (mut sk, create) =
        Group::setup(SenderKeysScheme::new(Default::default(), n), n, 1).unwrap();
    // Welcome to n − 1 members, then each of them sends its key to n − 1.
    assert_eq!(create.messages, (n - 1) + (n - 1) * (n - 1));
    let ids = sk.ids().to_vec();
    let m = sk.run(ids[0], Operation::Send(b"x".to_vec())).unwrap();
    assert_eq!((m.messages, m.deliveries), (1, n - 1));
    assert_eq!(
        m.by_kind[&MessageKind::Application].1,
        1 + sgm_sender_keys::wire::GROUP_MESSAGE_OVERHEAD
    );
    let up = sk.clone().run(ids[0], Operation::Update).unwrap();
    assert_eq!(up.messages, (n - 1) + (n - 1) * (n - 1));
    assert_eq!(up.key_rounds, 2);
    let rm = sk.run(ids[0], Operation::Remove(ids[n - 1])).unwrap();
    // n − 2 notices with the remover's key, one to the removed member, then
    // each of the n − 2 others sends its new key to n − 2 members.
    assert_eq!(rm.messages, (n - 2) + 1 + (n - 2) * (n - 2));

    let (mut pw, _) = Group::setup(PairwiseScheme::new(n), n, 1).unwrap();
    let ids = pw.ids().to_vec();
    let m = pw.run(ids[0], Operation::Send(b"x".to_vec())).unwrap();
    assert_eq!((m.messages, m.deliveries), (n - 1, n - 1));
}
