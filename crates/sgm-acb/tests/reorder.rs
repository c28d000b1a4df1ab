//! Property tests: random DAGs delivered in random arrival orders, with
//! duplicates; arbitrary bytes never panic. `PROPTEST_CASES` is respected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sgm_acb::{AcbConfig, AllowAll, MessageId, Outgoing, SignedEnvelope};

/// A random history: `n` members broadcast `msgs` messages, each member
/// receiving a random subset of the others' messages in between (so the
/// DAG has concurrency), with rotations sprinkled in.
fn random_history(seed: u64, n: u8, msgs: usize) -> Vec<Outgoing> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut g = group(n, AcbConfig::default());
    let mut sent: Vec<Outgoing> = Vec::new();
    let mut next_key = 100u8;
    for _ in 0..msgs {
        let who = (rng.next_u32() % u32::from(n)) as usize;
        // Catch up on a random prefix-closed selection: try every message
        // with probability 1/2 (undeliverable ones just wait).
        for m in &sent {
            if rng.next_u32() % 2 == 0 {
                g[who].receive(&m.bytes, &AllowAll).unwrap();
            }
        }
        if rng.next_u32() % 8 == 0 {
            g[who].rotate_signing_key(key(next_key));
            next_key = next_key.wrapping_add(1);
        }
        let payload = rng.next_u64().to_le_bytes().to_vec();
        sent.push(g[who].broadcast(payload, vec![]).unwrap());
    }
    sent
}

fn shuffle<T>(v: &mut [T], rng: &mut ChaCha20Rng) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_arrival_order_delivers_each_once_in_causal_order(
        seed in any::<u64>(),
        n in 2u8..5,
        msgs in 1usize..40,
        dups in 0usize..10,
    ) {
        let sent = random_history(seed, n, msgs);
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5eed);
        let mut arrivals: Vec<&[u8]> = sent.iter().map(|m| m.bytes.as_slice()).collect();
        for _ in 0..dups {
            let i = (rng.next_u64() % sent.len() as u64) as usize;
            arrivals.push(&sent[i].bytes);
        }
        shuffle(&mut arrivals, &mut rng);

        // Messages after a rotation that has not arrived yet wait unverified;
        // this property is about ordering, so let all of them wait.
        let config = AcbConfig {
            buffer_max_unverified_per_sender: 64,
            ..AcbConfig::default()
        };
        let mut obs = observer(n, config);
        let mut order: Vec<MessageId> = Vec::new();
        for bytes in arrivals {
            let r = obs.receive(bytes, &AllowAll).unwrap();
            prop_assert!(r.events.is_empty());
            order.extend(r.delivered.iter().map(|d| d.id));
        }
        // Every message exactly once.
        prop_assert_eq!(order.len(), sent.len());
        let set: HashSet<_> = order.iter().copied().collect();
        prop_assert_eq!(set.len(), sent.len());
        // Causal: parents and the sender's previous message come first.
        let pos: HashMap<MessageId, usize> =
            order.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut by_seq = HashMap::new();
        for m in &sent {
            let e = SignedEnvelope::decode(&m.bytes).unwrap();
            by_seq.insert((e.envelope().sender, e.envelope().seq), m.id);
        }
        for m in &sent {
            let e = SignedEnvelope::decode(&m.bytes).unwrap();
            for p in &e.envelope().parents {
                prop_assert!(pos[p] < pos[&m.id]);
            }
            if e.envelope().seq > 1 {
                let prev = by_seq[&(e.envelope().sender, e.envelope().seq - 1)];
                prop_assert!(pos[&prev] < pos[&m.id]);
            }
        }
        prop_assert!(obs.missing().is_empty());
        prop_assert_eq!(obs.buffered().0, 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_deliver(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut obs = observer(2, AcbConfig::default());
        if let Ok(r) = obs.receive(&bytes, &AllowAll) {
            prop_assert!(r.delivered.is_empty());
        }
        let _ = SignedEnvelope::decode(&bytes);
    }

    #[test]
    fn mutated_envelopes_never_deliver_altered_content(
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut g = group(2, AcbConfig::default());
        let m = g[0].broadcast(b"original payload".to_vec(), vec![]).unwrap();
        let mut bytes = m.bytes.clone();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        // Either rejected, or (a seq beyond a gap, which might follow an
        // unseen key rotation) held unverified: never delivered.
        if let Ok(r) = g[1].receive(&bytes, &AllowAll) {
            prop_assert!(r.delivered.is_empty());
        }
        let r = g[1].receive(&m.bytes, &AllowAll).unwrap();
        prop_assert_eq!(ids(&r.delivered), vec![m.id]);
        prop_assert_eq!(&r.delivered[0].payload, b"original payload");
    }
}
