//! A few members, their prekey server and a first-in-first-out network.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::{HashMap, VecDeque};

use rand_chacha::ChaCha20Rng;
use sgm_2sm::{PrekeyBundle, PrekeyStore, PublishedPrekeys};
use sgm_crypto::{MemberId, SeedableRng, SigningKey};
use sgm_sender_keys::{Config, Outgoing, PrekeyDirectory, SenderKeysMember};

#[derive(Default, Clone)]
pub struct Dir(pub HashMap<MemberId, PublishedPrekeys>);

impl PrekeyDirectory for Dir {
    fn fetch(&mut self, m: &MemberId) -> Option<PrekeyBundle> {
        self.0.get_mut(m)?.fetch().ok()
    }
}

pub struct Net {
    pub dir: Dir,
    pub rng: ChaCha20Rng,
    pub m: Vec<SenderKeysMember>,
}

impl Net {
    pub fn new(n: usize, seed: u64) -> Self {
        let mut net = Self {
            dir: Dir::default(),
            rng: ChaCha20Rng::seed_from_u64(seed),
            m: Vec::new(),
        };
        for _ in 0..n {
            net.spawn();
        }
        net
    }

    pub fn spawn(&mut self) -> usize {
        let sk = SigningKey::generate(&mut self.rng);
        let (store, published) = PrekeyStore::publish(&mut self.rng, &sk, 16);
        self.dir
            .0
            .insert(MemberId::from_identity_key(&sk.verifying_key()), published);
        self.m
            .push(SenderKeysMember::new(sk, store, Config::default()));
        self.m.len() - 1
    }

    /// n members in a group created by member 0, everything delivered.
    pub fn group(n: usize, seed: u64) -> Self {
        let mut net = Self::new(n, seed);
        let others: Vec<MemberId> = net.m[1..].iter().map(|m| m.id()).collect();
        let out = net.m[0]
            .create(&others, &mut net.rng, &mut net.dir)
            .unwrap();
        net.deliver(0, out);
        net
    }

    pub fn id(&self, i: usize) -> MemberId {
        self.m[i].id()
    }

    pub fn index(&self, id: &MemberId) -> usize {
        self.m.iter().position(|m| m.id() == *id).unwrap()
    }

    /// Delivers `out` (sent by member `from`) and every reply, FIFO.
    pub fn deliver(&mut self, from: usize, out: Vec<Outgoing>) {
        let mut q: VecDeque<(usize, Outgoing)> = out.into_iter().map(|o| (from, o)).collect();
        while let Some((f, o)) = q.pop_front() {
            let to = self.index(&o.to);
            let sender = self.id(f);
            let r = self.m[to]
                .receive(&sender, &o.bytes, &mut self.rng, &mut self.dir)
                .unwrap();
            q.extend(r.replies.into_iter().map(|o| (to, o)));
        }
    }

    pub fn update(&mut self, i: usize) {
        let out = self.m[i].update(&mut self.rng, &mut self.dir).unwrap();
        self.deliver(i, out);
    }

    pub fn encrypt(&mut self, i: usize, text: &[u8]) -> Vec<u8> {
        let e = self.m[i]
            .encrypt(text, &mut self.rng, &mut self.dir)
            .unwrap();
        assert!(e.distributions.is_empty());
        e.message
    }
}
