//! criterion benchmarks: 2SM send, receive, first contact, bundle verify.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use sgm_2sm::{PrekeyStore, Session};
use sgm_crypto::{MemberId, SeedableRng, SigningKey};

struct Pair {
    rng: ChaCha20Rng,
    a_id: MemberId,
    b_id: MemberId,
    a: SigningKey,
    b_store: PrekeyStore,
    b_published: sgm_2sm::PublishedPrekeys,
}

fn pair(one_time: usize) -> Pair {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let a = SigningKey::generate(&mut rng);
    let b = SigningKey::generate(&mut rng);
    let (b_store, b_published) = PrekeyStore::publish(&mut rng, &b, one_time);
    Pair {
        rng,
        a_id: MemberId::from_identity_key(&a.verifying_key()),
        b_id: MemberId::from_identity_key(&b.verifying_key()),
        a,
        b_store,
        b_published,
    }
}

fn established() -> (Pair, Session, Session) {
    let mut p = pair(1);
    let bundle = p.b_published.fetch().unwrap().verify(&p.b_id).unwrap();
    let mut sa = Session::initiate(&p.a, &bundle).unwrap();
    let f = sa.send(&mut p.rng, b"hello").unwrap();
    let (mut sb, _) = Session::accept(&mut p.b_store, &p.a_id, &f).unwrap();
    // One round trip so both sides are in the steady state.
    let c = sb.send(&mut p.rng, b"hi").unwrap();
    let (mut a_store, _) = PrekeyStore::publish(&mut p.rng, &p.a, 0);
    sa.receive(&mut a_store, &c).unwrap();
    (p, sa, sb)
}

fn benches(c: &mut Criterion) {
    let payload = [0x42u8; 32]; // a DCGKA seed secret
    let mut g = c.benchmark_group("2sm");

    g.bench_function("send (32-byte payload)", |bch| {
        let (mut p, sa, _) = established();
        bch.iter_batched(
            || sa.clone(),
            |mut s| s.send(&mut p.rng, &payload).unwrap(),
            BatchSize::SmallInput,
        );
    });

    g.bench_function("receive (32-byte payload)", |bch| {
        let (mut p, mut sa, sb) = established();
        let c = sa.send(&mut p.rng, &payload).unwrap();
        bch.iter_batched(
            || (sb.clone(), p.b_store.clone()),
            |(mut s, mut st)| s.receive(&mut st, &c).unwrap(),
            BatchSize::SmallInput,
        );
    });

    g.bench_function("first contact (initiate + first send + accept)", |bch| {
        let mut p = pair(1);
        let bundle = p.b_published.fetch().unwrap().verify(&p.b_id).unwrap();
        bch.iter_batched(
            || p.b_store.clone(),
            |mut store| {
                let mut sa = Session::initiate(&p.a, &bundle).unwrap();
                let f = sa.send(&mut p.rng, &payload).unwrap();
                Session::accept(&mut store, &p.a_id, &f).unwrap()
            },
            BatchSize::SmallInput,
        );
    });

    g.bench_function("bundle verify", |bch| {
        let mut p = pair(1);
        let bundle = p.b_published.fetch().unwrap();
        bch.iter(|| bundle.verify(&p.b_id).unwrap());
    });
    g.finish();
}

criterion_group!(two_sm, benches);
criterion_main!(two_sm);
