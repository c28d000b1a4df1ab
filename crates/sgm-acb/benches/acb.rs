//! ACB benchmarks: sign+encode, verify+deliver, and delivery of a
//! 10,000-message DAG arriving in random order.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sgm_acb::{Acb, AcbConfig, AllowAll};
use sgm_crypto::{Secret, SigningKey};

fn key(i: u8) -> SigningKey {
    SigningKey::from_seed(&Secret::from_bytes([i; 32]))
}

fn group(n: u8, config: AcbConfig) -> Vec<Acb> {
    (0..n)
        .map(|i| {
            let mut a = Acb::new(key(i), config);
            for j in 0..n {
                a.register_member(key(j).verifying_key());
            }
            a
        })
        .collect()
}

/// `total` messages from `n` senders; each sender sees each other message
/// with probability 1/2 when it arrives, so the DAG has concurrent heads.
fn dag(n: u8, total: usize, seed: u64) -> Vec<Vec<u8>> {
    let config = AcbConfig {
        buffer_max_count: total,
        buffer_max_per_sender: total,
        buffer_max_bytes: usize::MAX,
        ..AcbConfig::default()
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut g = group(n, config);
    let mut sent: Vec<Vec<u8>> = Vec::with_capacity(total);
    // Per member, how far into `sent` it has looked.
    let mut cursor = vec![0usize; usize::from(n)];
    let mut held: Vec<Vec<usize>> = vec![Vec::new(); usize::from(n)];
    for _ in 0..total {
        let who = (rng.next_u32() % u32::from(n)) as usize;
        // New messages reach `who` now or later (held back with p = 1/2).
        for i in cursor[who]..sent.len() {
            held[who].push(i);
        }
        cursor[who] = sent.len();
        let mut keep = Vec::new();
        for i in std::mem::take(&mut held[who]) {
            if rng.next_u32() % 2 == 0 {
                g[who].receive(&sent[i], &AllowAll).unwrap();
            } else {
                keep.push(i);
            }
        }
        held[who] = keep;
        sent.push(g[who].broadcast(vec![0u8; 64], vec![]).unwrap().bytes);
    }
    sent
}

fn benches(c: &mut Criterion) {
    let mut g = group(2, AcbConfig::default());
    c.bench_function("acb/sign_encode_one", |b| {
        b.iter(|| g[0].broadcast(vec![0u8; 64], vec![]).unwrap())
    });

    let mut g = group(2, AcbConfig::default());
    let m = g[0].broadcast(vec![0u8; 64], vec![]).unwrap();
    let receiver = g[1].clone();
    c.bench_function("acb/verify_deliver_one", |b| {
        b.iter_batched(
            || receiver.clone(),
            |mut r| {
                let d = r.receive(&m.bytes, &AllowAll).unwrap();
                assert_eq!(d.delivered.len(), 1);
                r
            },
            BatchSize::SmallInput,
        )
    });

    let total = 10_000;
    let mut arrivals = dag(8, total, 7);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    for i in (1..arrivals.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        arrivals.swap(i, j);
    }
    let config = AcbConfig {
        buffer_max_count: total,
        buffer_max_per_sender: total,
        buffer_max_bytes: usize::MAX,
        store_max_count: total,
        ..AcbConfig::default()
    };
    let fresh = {
        let mut a = Acb::new(key(200), config);
        for j in 0..8 {
            a.register_member(key(j).verifying_key());
        }
        a
    };
    let mut group = c.benchmark_group("acb");
    group.sample_size(10);
    group.bench_function("deliver_dag_10k_8_senders_random_order", |b| {
        b.iter_batched(
            || fresh.clone(),
            |mut r| {
                let mut n = 0;
                for bytes in &arrivals {
                    n += r.receive(bytes, &AllowAll).unwrap().delivered.len();
                }
                assert_eq!(n, total);
                r
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(acb, benches);
criterion_main!(acb);
