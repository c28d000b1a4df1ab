//! DGM evaluation at 128 and 1,024 members with long, concurrent histories:
//! apply-all (a replica processing the whole history), member_view for
//! every member, and view_at of an old op.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use sgm_dgm::{Dgm, MemberId, Op, OpId, OpKind};

fn member(i: u32) -> MemberId {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&i.to_be_bytes());
    MemberId::from_bytes(b)
}

/// Create with `n` members, then `rounds` rounds: one membership op (add a
/// fresh id or remove a random member; every 8th round two concurrent
/// removes), then `acks` acks by random members, concurrent with each other,
/// each on top of the op and the ack author's own previous op.
fn history(n: u32, rounds: u32, acks: u32) -> Vec<Op> {
    let mut rng = ChaCha8Rng::seed_from_u64(u64::from(n));
    let mut dgm = Dgm::new();
    let mut ops = Vec::new();
    let mut next_id = 0u64;
    let mut id = || {
        next_id += 1;
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&next_id.to_be_bytes());
        OpId(b)
    };
    let push = |dgm: &mut Dgm, ops: &mut Vec<Op>, op: Op| {
        dgm.apply(op.clone()).unwrap();
        ops.push(op);
    };
    let create = Op {
        id: id(),
        author: member(0),
        parents: vec![],
        kind: OpKind::Create {
            members: (0..n).map(member).collect(),
        },
    };
    push(&mut dgm, &mut ops, create);
    let mut fresh = n;
    for round in 0..rounds {
        let heads = dgm.heads();
        let members: Vec<MemberId> = dgm.members().into_iter().collect();
        let pick = |rng: &mut ChaCha8Rng| members[(rng.next_u64() % members.len() as u64) as usize];
        let author = pick(&mut rng);
        let mut round_ops = Vec::new();
        if round % 2 == 0 {
            fresh += 1;
            round_ops.push(Op {
                id: id(),
                author,
                parents: heads.clone(),
                kind: OpKind::Add {
                    members: vec![member(fresh)],
                },
            });
        } else {
            let concurrent = if round % 8 == 7 { 2 } else { 1 };
            for _ in 0..concurrent {
                let remover = pick(&mut rng);
                let mut target = pick(&mut rng);
                while target == remover {
                    target = pick(&mut rng);
                }
                round_ops.push(Op {
                    id: id(),
                    author: remover,
                    parents: heads.clone(),
                    kind: OpKind::Remove {
                        members: vec![target],
                    },
                });
            }
        }
        for op in round_ops.clone() {
            push(&mut dgm, &mut ops, op);
        }
        let members: Vec<MemberId> = dgm.members().into_iter().collect();
        for _ in 0..acks {
            let acker = members[(rng.next_u64() % members.len() as u64) as usize];
            let parents: Vec<OpId> = round_ops.iter().map(|o| o.id).collect();
            let op = Op {
                id: id(),
                author: acker,
                parents,
                kind: OpKind::Ack,
            };
            // An ack by someone removed in this round is refused; skip it.
            if dgm.apply(op.clone()).is_ok() {
                ops.push(op);
            }
        }
    }
    ops
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dgm");
    g.sample_size(10);
    for &(n, rounds, acks) in &[(128u32, 400u32, 32u32), (1024, 400, 32)] {
        let ops = history(n, rounds, acks);
        let label = format!("{n}m_{}ops", ops.len());
        g.bench_with_input(BenchmarkId::new("apply_all", &label), &ops, |b, ops| {
            b.iter(|| {
                let mut d = Dgm::new();
                for op in ops {
                    d.apply(op.clone()).unwrap();
                }
                black_box(d.members().len())
            })
        });
        let mut d = Dgm::new();
        for op in &ops {
            d.apply(op.clone()).unwrap();
        }
        let everyone: Vec<MemberId> = d.known_members().into_iter().collect();
        g.bench_with_input(BenchmarkId::new("member_view_all", &label), &d, |b, d| {
            b.iter(|| {
                everyone
                    .iter()
                    .map(|m| d.member_view(m).len())
                    .sum::<usize>()
            })
        });
        let mid = ops[ops.len() / 2].id;
        g.bench_with_input(BenchmarkId::new("view_at_mid", &label), &d, |b, d| {
            b.iter(|| d.view_at(black_box(&[mid])).len())
        });
        let bytes = d.to_bytes();
        g.bench_with_input(
            BenchmarkId::new("from_bytes", &label),
            &bytes,
            |b, bytes| b.iter(|| Dgm::from_bytes(bytes).unwrap().len()),
        );
        println!(
            "{label}: {} members at end, {} ever, state {} bytes",
            d.members().len(),
            everyone.len(),
            bytes.len()
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
