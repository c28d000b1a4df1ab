//! Shared test fixtures: members with identity keys and prekey stores.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use rand_chacha::ChaCha20Rng;
use sgm_2sm::{PrekeyStore, PublishedPrekeys, Session, VerifiedBundle};
use sgm_crypto::{MemberId, SeedableRng, SigningKey};

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A member: identity key, prekey store, and what it published.
pub struct Member {
    pub identity: SigningKey,
    pub id: MemberId,
    pub store: PrekeyStore,
    pub published: PublishedPrekeys,
}

impl Member {
    pub fn new(rng: &mut ChaCha20Rng) -> Self {
        let identity = SigningKey::generate(rng);
        let id = MemberId::from_identity_key(&identity.verifying_key());
        let (store, published) = PrekeyStore::publish(rng, &identity, 8);
        Self {
            identity,
            id,
            store,
            published,
        }
    }

    /// Fetches and verifies one bundle of this member (as a peer would).
    pub fn bundle(&mut self) -> VerifiedBundle {
        self.published.fetch().unwrap().verify(&self.id).unwrap()
    }
}

/// Two members with an established session: A initiated, sent "hello",
/// B accepted it.
pub fn established(seed: u64) -> (ChaCha20Rng, Member, Member, Session, Session) {
    let mut rng = rng(seed);
    let mut a = Member::new(&mut rng);
    let mut b = Member::new(&mut rng);
    let mut sa = Session::initiate(&a.identity, &b.bundle()).unwrap();
    let c = sa.send(&mut rng, b"hello").unwrap();
    let (sb, m) = Session::accept(&mut b.store, &a.id, &c).unwrap();
    assert_eq!(m.expose_secret(), b"hello");
    let _ = &mut a;
    (rng, a, b, sa, sb)
}
