//! Server order: concurrent proposals resolve identically at every member;
//! without the server, membership changes stall.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand_chacha::ChaCha20Rng;
use sgm_crypto::{SeedableRng, SigningKey};
use sgm_mpenc::Id;
use sgm_mpenc::drive::{Driver, Op, Outcome};
use sgm_mpenc::greet_message::GreetingMetadata;
use sgm_mpenc::greeter::GreetState;
use sgm_mpenc::server_order::{GreetingSummary, Rejection, ServerOrder, make_chain_hash};

fn ids(n: u8) -> Vec<Id> {
    (0..n).map(|i| vec![b'a' + i]).collect()
}

fn started(n: u8, seed: u64) -> (Driver, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut d = Driver::new();
    for id in ids(n) {
        d.add(id, SigningKey::generate(&mut rng));
    }
    let all = ids(n);
    assert_eq!(
        d.run(&all[0], &Op::Start(all[1..].to_vec()), &mut rng)
            .unwrap(),
        Outcome::Completed
    );
    (d, rng)
}

/// Two members propose on the same previous final packet; whichever the
/// server echoes first is accepted by everyone, the other by no one.
#[test]
fn concurrent_proposals_resolve_to_the_first_echoed_everywhere() {
    for a_first in [true, false] {
        let (mut d, mut rng) = started(4, 11);
        let all = ids(4);
        let pa = d.propose(&all[0], &Op::Refresh, &mut rng).unwrap();
        let pb = d
            .propose(&all[1], &Op::Exclude(vec![all[3].clone()]), &mut rng)
            .unwrap();
        let order = if a_first { vec![pa, pb] } else { vec![pb, pa] };
        d.deliver(order, &mut rng);
        let expected: Vec<Id> = if a_first {
            all.clone()
        } else {
            all[..3].to_vec()
        };
        let reference = d.parties[&all[0]].order.packet_ids().to_vec();
        let key = *d.parties[&all[0]]
            .store
            .group_key()
            .unwrap()
            .expose_secret();
        for m in &expected {
            let p = &d.parties[m];
            assert_eq!(p.store.state, GreetState::Ready);
            assert!(
                p.greeting.is_none(),
                "a rejected proposal left a greeting pending"
            );
            assert_eq!(
                p.order.packet_ids(),
                reference.as_slice(),
                "member {m:?} accepted other packets"
            );
            assert_eq!(p.store.group_key().unwrap().expose_secret(), &key);
            let mut got = p.store.members().to_vec();
            got.sort();
            assert_eq!(got, expected);
        }
    }
}

fn summary(pid: u8, prev_pf: &[u8], prev_ch: &[u8; 32], members: &[Id]) -> GreetingSummary {
    GreetingSummary {
        packet_id: [pid; 32],
        metadata: Some(GreetingMetadata {
            prev_pf: prev_pf.to_vec(),
            prev_ch: prev_ch.to_vec(),
            parents: vec![],
        }),
        prev_pi: None,
        members: members.to_vec(),
    }
}

#[test]
fn acceptance_rules() {
    let members = ids(2);
    let mut so = ServerOrder::new();
    so.sync_with_prev(vec![0; 32], [7; 32]);
    let ch = [7; 32];
    // [rule XP]: a member of the proposal is not in the channel.
    assert_eq!(
        so.try_op_packet(b"a", &summary(1, &[0; 32], &ch, &members), &members[..1]),
        Err(Rejection::NotEchoedToAll)
    );
    // Accepted, then the duplicate and a concurrent one are rejected.
    assert!(
        so.try_op_packet(b"a", &summary(1, &[0; 32], &ch, &members), &members)
            .is_ok()
    );
    assert_eq!(
        so.try_op_packet(b"a", &summary(1, &[0; 32], &ch, &members), &members),
        Err(Rejection::Duplicate)
    );
    assert_eq!(
        so.try_op_packet(b"a", &summary(2, &[0; 32], &ch, &members), &members),
        Err(Rejection::OngoingOperation)
    );
    // Its final packet ends it; a proposal on the old pF is then stale.
    let fin = GreetingSummary {
        packet_id: [3; 32],
        metadata: None,
        prev_pi: Some([1; 32]),
        members: members.clone(),
    };
    let wrong = GreetingSummary {
        prev_pi: Some([9; 32]),
        ..fin.clone()
    };
    assert_eq!(
        so.try_op_packet(b"a", &wrong, &members),
        Err(Rejection::WrongPrevPi)
    );
    assert!(so.try_op_packet(b"a", &fin, &members).is_ok());
    assert_eq!(
        so.try_op_packet(b"a", &fin, &members),
        Err(Rejection::Duplicate)
    );
    assert_eq!(
        so.try_op_packet(b"a", &summary(4, &[0; 32], &ch, &members), &members),
        Err(Rejection::StalePrevPf)
    );
    assert_eq!(so.prev_pf(), Some(&[3u8; 32][..]));
    // Chain hash: SHA-256(prev ‖ pid ‖ type) over "2" then "1".
    let h1 = make_chain_hash(&[7; 32], &[1; 32], b"2");
    assert_eq!(so.prev_ch(), Some(&make_chain_hash(&h1, &[3; 32], b"1")));
}

/// The demo's partition: c and d lose the server. Their side cannot change
/// membership at all (its proposal is never ordered), while the side with
/// the server excludes them and goes on. DCGKA has no such stall.
#[test]
fn partition_stalls_the_side_without_the_orderer() {
    let (mut d, mut rng) = started(4, 12);
    let all = ids(4);
    let old_key = *d.parties[&all[2]]
        .store
        .group_key()
        .unwrap()
        .expose_secret();
    d.set_reachable(&all[2..], false);
    let outcome = d
        .run(&all[2], &Op::Exclude(all[..2].to_vec()), &mut rng)
        .unwrap();
    assert_eq!(outcome, Outcome::Stalled);
    for m in &all[2..] {
        let p = &d.parties[m];
        assert_eq!(p.store.group_key().unwrap().expose_secret(), &old_key);
        assert_eq!(
            p.store.members().len(),
            4,
            "the cut-off side changed membership"
        );
    }
    assert!(
        d.parties[&all[2]]
            .greeting
            .as_ref()
            .is_some_and(|g| !g.is_finished())
    );
    // The side with the server proceeds.
    assert_eq!(
        d.run(&all[0], &Op::Exclude(all[2..].to_vec()), &mut rng)
            .unwrap(),
        Outcome::Completed
    );
    let k = *d.parties[&all[0]]
        .store
        .group_key()
        .unwrap()
        .expose_secret();
    assert_ne!(k, old_key);
    assert_eq!(
        d.parties[&all[1]]
            .store
            .group_key()
            .unwrap()
            .expose_secret(),
        &k
    );
}
