//! DCGKA operations at group size n: CPU per sender and per recipient
//! (the whole operation at that client, acks included, as the paper's
//! Figure 7 counts) and total bytes (Figure 6: a broadcast counted once,
//! acks included). `SGM_BENCH_SIZES=8,16,32` picks the sizes (default
//! 8, 16, 32, 64, 128); `SGM_BENCH_BYTES_ONLY=1` prints only the bytes.
//!
//! The scenario is `sgm_dcgka::scenario`, shared with `cargo xtask bench
//! dcgka` (which covers n up to 1,024 with medians of repeated runs).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sgm_crypto::SigningKey;
use sgm_dcgka::Config;
use sgm_dcgka::scenario::{Operation, Scenario, message_bytes};

fn sizes() -> Vec<usize> {
    std::env::var("SGM_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 16, 32, 64, 128])
}

fn bench(c: &mut Criterion) {
    let bytes_only = std::env::var_os("SGM_BENCH_BYTES_ONLY").is_some();
    // Single-operation costs, measured in the same run, for the floor.
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    let a = sgm_crypto::X25519SecretKey::generate(&mut rng);
    let b = sgm_crypto::X25519SecretKey::generate(&mut rng).public_key();
    let sk = SigningKey::generate(&mut rng);
    let sig = sk.sign(b"msg");
    let mut prim = c.benchmark_group("primitives");
    prim.sample_size(20);
    prim.bench_function("x25519_dh", |bch| {
        bch.iter(|| black_box(a.diffie_hellman(&b)))
    });
    prim.bench_function("x25519_public_key", |bch| {
        bch.iter(|| black_box(a.public_key()))
    });
    prim.bench_function("ed25519_sign", |bch| {
        bch.iter(|| black_box(sk.sign(b"msg")))
    });
    prim.bench_function("ed25519_verify", |bch| {
        bch.iter(|| black_box(sk.verifying_key().verify(b"msg", &sig)))
    });
    prim.finish();
    for n in sizes() {
        let mut sc = Scenario::new(n, Config::default());
        let create = sc.setup().unwrap();
        eprintln!("bytes n={n} create={}", create.bytes());
        let mut group_bench = c.benchmark_group(format!("dcgka/n={n}"));
        group_bench.sample_size(10);
        group_bench.warm_up_time(std::time::Duration::from_millis(300));
        group_bench.measurement_time(std::time::Duration::from_secs(2));
        for op in [Operation::Update, Operation::Remove, Operation::Add] {
            let r = sc.round(op).unwrap();
            let (enveloped, coalesced) = r.envelope_bytes().unwrap();
            eprintln!(
                "bytes n={n} {}={} enveloped={enveloped} coalesced={coalesced}",
                op.name(),
                r.bytes()
            );
            if bytes_only {
                continue;
            }
            group_bench.bench_function(format!("{}/sender", op.name()), |b| {
                b.iter_batched(
                    || sc.client(0),
                    |mut cl| {
                        r.sender(&mut cl).unwrap();
                        black_box(cl)
                    },
                    BatchSize::LargeInput,
                )
            });
            group_bench.bench_function(format!("{}/recipient", op.name()), |b| {
                b.iter_batched(
                    || sc.client(1),
                    |mut cl| {
                        r.recipient(&mut cl).unwrap();
                        black_box(cl)
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        // One 32-byte application message.
        let mut sender = sc.states[0].clone();
        let (len, enveloped) = message_bytes(&mut sender, 32).unwrap();
        eprintln!(
            "bytes n={n} message={len} (overhead {}) enveloped={enveloped} (overhead {})",
            len - 32,
            enveloped - 32
        );
        if bytes_only {
            group_bench.finish();
            continue;
        }
        let sealed = sc.states[0].clone().encrypt(&[7u8; 32], b"").unwrap();
        let from = sc.states[0].id();
        group_bench.bench_function("message/sender", |b| {
            b.iter_batched(
                || sc.states[0].clone(),
                |mut st| {
                    let sealed = st.encrypt(&[7u8; 32], b"").unwrap();
                    (st, black_box(sealed))
                },
                BatchSize::LargeInput,
            )
        });
        group_bench.bench_function("message/recipient", |b| {
            b.iter_batched(
                || sc.states[1].clone(),
                |mut st| {
                    let pt = st.decrypt(&from, &sealed.message, b"").unwrap();
                    (st, black_box(pt))
                },
                BatchSize::LargeInput,
            )
        });
        group_bench.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
