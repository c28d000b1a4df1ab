//! proptest: random schedules of sends, adds, removes, updates and
//! deliveries (in causal order) converge for every scheme: every member
//! decrypts every message sent while it was a member, and nothing sent
//! after its removal. Membership changes are started one at a time (each
//! and delivered to everyone before anything else happens); updates and
//! application messages interleave freely. Concurrent membership changes
//! are the subject of `tests/concurrency.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use sgm_crypto::MemberId;
use sgm_dcgka::Config;
use sgm_harness::dcgka::DcgkaScheme;
use sgm_harness::sender_keys::{PairwiseScheme, SenderKeysScheme};
use sgm_harness::{Group, GroupScheme, Operation};

const MAX_MEMBERS: usize = 6;

fn schedule<S: GroupScheme + Clone>(scheme: S, seed: u64, actions: &[(u8, u8, u8)])
where
    S::Member: Clone,
{
    let mut g = Group::new(scheme, 3, seed).unwrap();
    g.track_causality();
    let ids = g.ids().to_vec();
    g.start(ids[0], Operation::Create(ids[1..].to_vec()))
        .unwrap();
    g.deliver_all().unwrap();
    let mut expected: Vec<(MemberId, MemberId, Vec<u8>)> = Vec::new();
    let mut counter = 0u32;
    for &(kind, a, b) in actions {
        let roster: Vec<MemberId> = g.roster().iter().copied().collect();
        let actor = roster[usize::from(a) % roster.len()];
        match kind % 5 {
            0 | 1 => {
                counter += 1;
                let text = counter.to_be_bytes().to_vec();
                for r in roster.iter().filter(|r| **r != actor) {
                    expected.push((*r, actor, text.clone()));
                }
                g.start(actor, Operation::Send(text)).unwrap();
            }
            2 => {
                let d = g.deliverable();
                if !d.is_empty() {
                    g.deliver_at(d[usize::from(b) % d.len()]).unwrap();
                }
            }
            3 => {
                g.deliver_all().unwrap();
                if roster.len() < MAX_MEMBERS && b % 2 == 0 {
                    let new = g.spawn(1).unwrap()[0];
                    g.start(actor, Operation::Add(new)).unwrap();
                } else if roster.len() > 2 {
                    let others: Vec<_> = roster.iter().filter(|m| **m != actor).collect();
                    let victim = *others[usize::from(b) % others.len()];
                    g.start(actor, Operation::Remove(victim)).unwrap();
                }
                // "While it was a member" is the sender's view: let the
                // change reach everyone before the next send.
                g.deliver_all().unwrap();
            }
            _ => {
                g.deliver_all().unwrap();
                g.start(actor, Operation::Update).unwrap();
            }
        }
    }
    g.deliver_all().unwrap();
    let out = g.take_outcome();
    for (r, s, text) in &expected {
        assert!(
            out.decrypted_by(r, s, text),
            "{}: {r} did not decrypt {text:?} from {s}",
            g.scheme().name()
        );
    }
    assert_eq!(
        out.decrypted.len(),
        expected.len(),
        "{}: extra decryptions",
        g.scheme().name()
    );
}

fn actions() -> impl Strategy<Value = Vec<(u8, u8, u8)>> {
    proptest::collection::vec((any::<u8>(), any::<u8>(), any::<u8>()), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn sender_keys_converges(seed in any::<u64>(), a in actions()) {
        schedule(SenderKeysScheme::new(Default::default(), 24), seed, &a);
    }

    #[test]
    fn pairwise_converges(seed in any::<u64>(), a in actions()) {
        schedule(PairwiseScheme::new(24), seed, &a);
    }

    #[test]
    fn dcgka_converges(seed in any::<u64>(), a in actions()) {
        schedule(DcgkaScheme::new(Config::default(), 24), seed, &a);
    }
}
