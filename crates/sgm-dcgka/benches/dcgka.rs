//! DCGKA operations at group size n: CPU per sender and per recipient
//! (the whole operation at that client, acks included, as the paper's
//! Figure 7 counts) and total bytes (Figure 6: a broadcast counted once,
//! acks included). `SGM_BENCH_SIZES=8,16,32` picks the sizes (default
//! 8, 16, 32, 64, 128).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sgm_2sm::{PrekeyBundle, PrekeyStore, PublishedPrekeys};
use sgm_acb::{Acb, AcbConfig};
use sgm_crypto::{MemberId, SigningKey};
use sgm_dcgka::broadcast::seal;
use sgm_dcgka::{Config, Dcgka, Outgoing, PrekeyDirectory};

#[derive(Default, Clone)]
struct Dir(HashMap<MemberId, PublishedPrekeys>);

impl PrekeyDirectory for Dir {
    fn fetch(&mut self, m: &MemberId) -> Option<PrekeyBundle> {
        self.0.get_mut(m)?.fetch().ok()
    }
}

struct Group {
    states: Vec<Dcgka>,
    spare: Dcgka,
    dir: Dir,
    rng: ChaCha20Rng,
}

fn bytes(o: &Outgoing) -> usize {
    o.control.to_bytes().len() + o.direct.iter().map(|d| d.to_bytes().len()).sum::<usize>()
}

/// A group of n after create and all acks, plus one member not yet added.
fn group(n: usize) -> (Group, usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
    let mut dir = Dir::default();
    let make = |rng: &mut ChaCha20Rng, dir: &mut Dir| {
        let sk = SigningKey::generate(rng);
        let (store, published) = PrekeyStore::publish(rng, &sk, n + 4);
        dir.0
            .insert(MemberId::from_identity_key(&sk.verifying_key()), published);
        Dcgka::init(sk, store, Config::default())
    };
    let mut states: Vec<Dcgka> = (0..n).map(|_| make(&mut rng, &mut dir)).collect();
    let spare = make(&mut rng, &mut dir);
    let ids: Vec<MemberId> = states.iter().map(Dcgka::id).collect();
    let out = states[0].create(&ids[1..], &mut rng, &mut dir).unwrap();
    let mut total = out.messages.iter().map(bytes).sum::<usize>();
    let create = out.messages[0].clone();
    let mut acks = Vec::new();
    for i in 1..n {
        let p = states[i]
            .process(
                ids[0],
                &create.control,
                create.direct_for(&ids[i]),
                &mut rng,
                &mut dir,
            )
            .unwrap();
        let ack = p.reply.unwrap();
        total += bytes(&ack);
        acks.push((i, ack));
    }
    for (from, ack) in &acks {
        for (i, st) in states.iter_mut().enumerate() {
            if i != *from {
                st.process(
                    ids[*from],
                    &ack.control,
                    ack.direct_for(&ids[i]),
                    &mut rng,
                    &mut dir,
                )
                .unwrap();
            }
        }
    }
    (
        Group {
            states,
            spare,
            dir,
            rng,
        },
        total,
    )
}

/// One operation's messages: the operation's own (from member 0) and every
/// reply, with their senders, collected by running it once.
struct Round {
    first: Vec<Outgoing>,
    replies: Vec<(usize, Outgoing)>,
    bytes: usize,
}

fn round(g: &Group, op: &str) -> Round {
    let mut states = g.states.clone();
    let mut dir = g.dir.clone();
    let mut rng = g.rng.clone();
    let mut spare = g.spare.clone();
    let n = states.len();
    let ids: Vec<MemberId> = states.iter().map(Dcgka::id).collect();
    let out = match op {
        "update" => states[0].update(&mut rng, &mut dir),
        "remove" => states[0].remove(&[ids[n - 1]], &mut rng, &mut dir),
        "add" => states[0].add(spare.id(), &mut rng, &mut dir),
        _ => panic!(),
    }
    .unwrap();
    let first = out.messages;
    let mut bytes_total: usize = first.iter().map(bytes).sum();
    let mut replies = Vec::new();
    let m = &first[0];
    let last = if op == "remove" { n - 1 } else { n };
    for i in 1..last {
        let p = states[i]
            .process(
                ids[0],
                &m.control,
                m.direct_for(&ids[i]),
                &mut rng,
                &mut dir,
            )
            .unwrap();
        if let Some(r) = p.reply {
            bytes_total += bytes(&r);
            replies.push((i, r));
        }
    }
    if op == "add" {
        let p = spare
            .process(
                ids[0],
                &m.control,
                m.direct_for(&spare.id()),
                &mut rng,
                &mut dir,
            )
            .unwrap();
        let r = p.reply.unwrap();
        bytes_total += bytes(&r);
        replies.push((n, r));
    }
    Round {
        first,
        replies,
        bytes: bytes_total,
    }
}

fn sizes() -> Vec<usize> {
    std::env::var("SGM_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 16, 32, 64, 128])
}

/// Bytes when every message travels in its own sgm-acb envelope (one
/// parent each, signing-key rotation on update/remove), and with ack
/// coalescing (acks add their bytes to the sender's next envelope, which
/// exists anyway, and no envelope of their own).
fn with_envelopes(r: &Round) -> (usize, usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut acb = Acb::new(SigningKey::generate(&mut rng), AcbConfig::default());
    // One message first, so that every envelope below has one parent.
    seal(&mut acb, &[], Some(b"x"), &mut rng).unwrap();
    let (op, _) = seal(&mut acb, &r.first, None, &mut rng).unwrap();
    let mut enveloped = op.bytes.len();
    let mut coalesced = op.bytes.len();
    for (_, rep) in &r.replies {
        let (env, _) = seal(&mut acb, std::slice::from_ref(rep), None, &mut rng).unwrap();
        enveloped += env.bytes.len();
        coalesced += bytes(rep);
    }
    (enveloped, coalesced)
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
        let (g, create_bytes) = group(n);
        let ids: Vec<MemberId> = g.states.iter().map(Dcgka::id).collect();
        let spare_id = g.spare.id();
        let sender_of = |i: usize| if i == n { spare_id } else { ids[i] };
        if bytes_only {
            eprintln!("bytes n={n} create={create_bytes}");
        }
        let mut group_bench = c.benchmark_group(format!("dcgka/n={n}"));
        group_bench.sample_size(10);
        group_bench.warm_up_time(std::time::Duration::from_millis(300));
        group_bench.measurement_time(std::time::Duration::from_secs(2));
        if !bytes_only {
            eprintln!("bytes n={n} create={create_bytes}");
        }
        for op in ["update", "remove", "add"] {
            let r = round(&g, op);
            let (enveloped, coalesced) = with_envelopes(&r);
            eprintln!(
                "bytes n={n} {op}={} enveloped={enveloped} coalesced={coalesced}",
                r.bytes
            );
            if bytes_only {
                continue;
            }
            // Sender: the operation, then every reply.
            group_bench.bench_function(format!("{op}/sender"), |b| {
                b.iter_batched(
                    || (g.states[0].clone(), g.dir.clone(), g.rng.clone()),
                    |(mut st, mut dir, mut rng)| {
                        match op {
                            "update" => st.update(&mut rng, &mut dir),
                            "remove" => st.remove(&[ids[n - 1]], &mut rng, &mut dir),
                            _ => st.add(spare_id, &mut rng, &mut dir),
                        }
                        .unwrap();
                        for (from, rep) in &r.replies {
                            st.process(sender_of(*from), &rep.control, None, &mut rng, &mut dir)
                                .unwrap();
                        }
                        black_box(st)
                    },
                    BatchSize::LargeInput,
                )
            });
            // Recipient (member 1): the operation's message, then the others'
            // replies.
            group_bench.bench_function(format!("{op}/recipient"), |b| {
                b.iter_batched(
                    || (g.states[1].clone(), g.dir.clone(), g.rng.clone()),
                    |(mut st, mut dir, mut rng)| {
                        let m = &r.first[0];
                        st.process(
                            ids[0],
                            &m.control,
                            m.direct_for(&ids[1]),
                            &mut rng,
                            &mut dir,
                        )
                        .unwrap();
                        for (from, rep) in &r.replies {
                            if *from != 1 {
                                st.process(
                                    sender_of(*from),
                                    &rep.control,
                                    rep.direct_for(&ids[1]),
                                    &mut rng,
                                    &mut dir,
                                )
                                .unwrap();
                            }
                        }
                        black_box(st)
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        // One 32-byte application message.
        let mut sender = g.states[0].clone();
        let sealed = sender.encrypt(&[7u8; 32], b"").unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut acb = Acb::new(SigningKey::generate(&mut rng), AcbConfig::default());
        seal(&mut acb, &[], Some(b"x"), &mut rng).unwrap();
        let (env, _) = seal(&mut acb, &[], Some(&sealed.message), &mut rng).unwrap();
        eprintln!(
            "bytes n={n} message={} (overhead {}) enveloped={} (overhead {})",
            sealed.message.len(),
            sealed.message.len() - 32,
            env.bytes.len(),
            env.bytes.len() - 32
        );
        if bytes_only {
            group_bench.finish();
            continue;
        }
        group_bench.bench_function("message/sender", |b| {
            b.iter_batched(
                || g.states[0].clone(),
                |mut st| {
                    let sealed = st.encrypt(&[7u8; 32], b"").unwrap();
                    (st, black_box(sealed))
                },
                BatchSize::LargeInput,
            )
        });
        group_bench.bench_function("message/recipient", |b| {
            b.iter_batched(
                || g.states[1].clone(),
                |mut st| {
                    let pt = st.decrypt(&ids[0], &sealed.message, b"").unwrap();
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
