//! Criterion benches per operation: group message encrypt / decrypt (the
//! O(1) part), a 2SM-carried key distribution, and one pairwise fan-out
//! message. Group-size tables: `cargo xtask bench schemes`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use sgm_2sm::{PrekeyBundle, PrekeyStore, PublishedPrekeys};
use sgm_crypto::{MemberId, SeedableRng, SigningKey};
use sgm_sender_keys::{Config, PairwiseMember, PrekeyDirectory, SenderKeysMember};

#[derive(Default, Clone)]
struct Dir(HashMap<MemberId, PublishedPrekeys>);

impl PrekeyDirectory for Dir {
    fn fetch(&mut self, m: &MemberId) -> Option<PrekeyBundle> {
        self.0.get_mut(m)?.fetch().ok()
    }
}

fn keys(rng: &mut ChaCha20Rng, dir: &mut Dir) -> (SigningKey, PrekeyStore) {
    let sk = SigningKey::generate(rng);
    let (store, published) = PrekeyStore::publish(rng, &sk, 8);
    dir.0
        .insert(MemberId::from_identity_key(&sk.verifying_key()), published);
    (sk, store)
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut dir = Dir::default();
    let (a, sa) = keys(&mut rng, &mut dir);
    let (b, sb) = keys(&mut rng, &mut dir);
    let mut alice = SenderKeysMember::new(a.clone(), sa.clone(), Config::default());
    let mut bob = SenderKeysMember::new(b.clone(), sb.clone(), Config::default());
    let w = alice.create(&[bob.id()], &mut rng, &mut dir).unwrap();
    let r = bob
        .receive(&alice.id(), &w[0].bytes, &mut rng, &mut dir)
        .unwrap();
    alice
        .receive(&bob.id(), &r.replies[0].bytes, &mut rng, &mut dir)
        .unwrap();

    c.bench_function("sender_keys/encrypt_32B", |bn| {
        bn.iter_batched(
            || alice.clone(),
            |mut m| {
                black_box(
                    m.encrypt(
                        &[7; 32],
                        &mut ChaCha20Rng::seed_from_u64(2),
                        &mut Dir::default(),
                    )
                    .unwrap(),
                )
            },
            BatchSize::SmallInput,
        )
    });
    let msg = alice
        .clone()
        .encrypt(&[7; 32], &mut rng, &mut dir)
        .unwrap()
        .message;
    let aid = alice.id();
    c.bench_function("sender_keys/decrypt_32B", |bn| {
        bn.iter_batched(
            || bob.clone(),
            |mut m| black_box(m.decrypt(&aid, &msg).unwrap()),
            BatchSize::SmallInput,
        )
    });
    // A rotation notice from Alice: Bob stores her key, rotates and seals
    // his new key back (one 2SM open, one 2SM seal).
    let up = alice.clone().update(&mut rng, &mut dir).unwrap();
    c.bench_function("sender_keys/receive_update_2_members", |bn| {
        bn.iter_batched(
            || (bob.clone(), dir.clone(), ChaCha20Rng::seed_from_u64(3)),
            |(mut m, mut d, mut r)| {
                black_box(m.receive(&aid, &up[0].bytes, &mut r, &mut d).unwrap())
            },
            BatchSize::SmallInput,
        )
    });

    let mut pa = PairwiseMember::new(a, sa);
    let mut pb = PairwiseMember::new(b, sb);
    let mut dir2 = dir.clone();
    let w = pa.create(&[pb.id()], &mut rng, &mut dir2).unwrap();
    pb.receive(&pa.id(), &w[0].bytes).unwrap();
    c.bench_function("pairwise/send_32B_to_1", |bn| {
        bn.iter_batched(
            || pa.clone(),
            |mut m| {
                black_box(
                    m.send(
                        &[7; 32],
                        &mut ChaCha20Rng::seed_from_u64(4),
                        &mut Dir::default(),
                    )
                    .unwrap(),
                )
            },
            BatchSize::SmallInput,
        )
    });
    let m = pa.clone().send(&[7; 32], &mut rng, &mut dir2).unwrap();
    let paid = pa.id();
    c.bench_function("pairwise/receive_32B", |bn| {
        bn.iter_batched(
            || pb.clone(),
            |mut x| black_box(x.receive(&paid, &m[0].bytes).unwrap()),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
