//! Pairwise fan-out: every message is n − 1 2SM messages; membership is the
//! sender's; tampered, mis-addressed and replayed input is refused with the
//! state unchanged; the state round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Dir;
use rand_chacha::ChaCha20Rng;
use sgm_2sm::PrekeyStore;
use sgm_crypto::{MemberId, SeedableRng, SigningKey};
use sgm_sender_keys::{Outgoing, PairwiseMember, SenderKeysError};

struct Net {
    dir: Dir,
    rng: ChaCha20Rng,
    m: Vec<PairwiseMember>,
}

impl Net {
    fn group(n: usize) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
        let mut dir = Dir::default();
        let m: Vec<PairwiseMember> = (0..n)
            .map(|_| {
                let sk = SigningKey::generate(&mut rng);
                let (store, published) = PrekeyStore::publish(&mut rng, &sk, n + 2);
                dir.0
                    .insert(MemberId::from_identity_key(&sk.verifying_key()), published);
                PairwiseMember::new(sk, store)
            })
            .collect();
        let mut net = Self { dir, rng, m };
        let others: Vec<MemberId> = net.m[1..].iter().map(|m| m.id()).collect();
        let out = net.m[0]
            .create(&others, &mut net.rng, &mut net.dir)
            .unwrap();
        net.deliver(0, &out);
        net
    }

    fn deliver(&mut self, from: usize, out: &[Outgoing]) -> Vec<(usize, Vec<u8>)> {
        let sender = self.m[from].id();
        let mut got = Vec::new();
        for o in out {
            let to = self.m.iter().position(|m| m.id() == o.to).unwrap();
            let r = self.m[to].receive(&sender, &o.bytes).unwrap();
            if let Some(p) = r.plaintext {
                got.push((to, p.expose_secret().to_vec()));
            }
        }
        got
    }
}

fn state(m: &PairwiseMember) -> Vec<u8> {
    m.to_bytes().expose_secret().to_vec()
}

#[test]
fn fan_out_round_trips() {
    for n in [2, 5, 16] {
        let mut net = Net::group(n);
        for i in 0..n {
            let out = net.m[i].send(b"hi", &mut net.rng, &mut net.dir).unwrap();
            assert_eq!(out.len(), n - 1);
            let got = net.deliver(i, &out);
            assert_eq!(got.len(), n - 1);
            assert!(got.iter().all(|(_, p)| p == b"hi"));
        }
    }
}

#[test]
fn removed_member_is_not_addressed_and_refused() {
    let mut net = Net::group(4);
    let carol = net.m[3].id();
    let out = net.m[0].remove(carol, &mut net.rng, &mut net.dir).unwrap();
    net.deliver(0, &out);
    assert!(net.m[3].was_removed());
    let out = net.m[1].send(b"after", &mut net.rng, &mut net.dir).unwrap();
    assert!(out.iter().all(|o| o.to != carol));
    assert_eq!(net.deliver(1, &out).len(), 2);
    // A message claimed to be from the removed member is refused.
    let bob = net.m[1].id();
    let out = net.m[1].send(b"x", &mut net.rng, &mut net.dir).unwrap();
    let to_alice = out.iter().find(|o| o.to == net.m[0].id()).unwrap();
    let before = state(&net.m[0]);
    assert!(net.m[0].receive(&carol, &to_alice.bytes).is_err());
    assert_eq!(state(&net.m[0]), before);
    net.m[0].receive(&bob, &to_alice.bytes).unwrap();
}

#[test]
fn tampered_misaddressed_replayed_rejected_state_unchanged() {
    let mut net = Net::group(3);
    let alice = net.m[0].id();
    let out = net.m[0]
        .send(b"secret", &mut net.rng, &mut net.dir)
        .unwrap();
    let to_bob = out.iter().find(|o| o.to == net.m[1].id()).unwrap().clone();
    let to_carol = out.iter().find(|o| o.to == net.m[2].id()).unwrap().clone();
    let before = state(&net.m[1]);
    assert!(matches!(
        net.m[1].receive(&alice, &to_carol.bytes),
        Err(SenderKeysError::Channel(_))
    ));
    for i in (0..to_bob.bytes.len()).step_by(5) {
        let mut t = to_bob.bytes.clone();
        t[i] ^= 0x80;
        assert!(net.m[1].receive(&alice, &t).is_err(), "flip at {i}");
    }
    assert!(
        net.m[1]
            .receive(&alice, &to_bob.bytes[..to_bob.bytes.len() - 1])
            .is_err()
    );
    assert_eq!(state(&net.m[1]), before);
    let r = net.m[1].receive(&alice, &to_bob.bytes).unwrap();
    assert_eq!(r.plaintext.unwrap().expose_secret(), b"secret");
    let after = state(&net.m[1]);
    assert!(net.m[1].receive(&alice, &to_bob.bytes).is_err());
    assert_eq!(state(&net.m[1]), after);
}

#[test]
fn state_round_trips() {
    let mut net = Net::group(3);
    let bytes = state(&net.m[1]);
    let restored = PairwiseMember::from_bytes(&bytes).unwrap();
    assert_eq!(state(&restored), bytes);
    net.m[1] = restored;
    let out = net.m[0].send(b"again", &mut net.rng, &mut net.dir).unwrap();
    assert_eq!(net.deliver(0, &out).len(), 2);
    for len in (0..bytes.len()).step_by(11) {
        assert!(PairwiseMember::from_bytes(&bytes[..len]).is_err());
    }
}
