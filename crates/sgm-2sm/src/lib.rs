//! # sgm-2sm: two-party secure messaging
//!
//! The two-party secure messaging (2SM) scheme that DCGKA (Weidner,
//! Kleppmann, Hugenroth, Beresford, CCS 2021, §5.3) uses to send seed
//! secrets to one member at a time: the scheme of Jost, Maurer and
//! Mularczyk (Eurocrypt 2019, §2.2) in its simplified form, formalized in
//! the DCGKA paper's extended version (eprint 2020/1281). Unlike the Signal
//! double ratchet it heals after *every* message, not after a round trip.
//!
//! ```text
//!  A                                                     B
//!  send(m):  (sk_A', pk_A') <- fresh, kept by A (index i)
//!            (sk_B', pk_B') <- fresh, sk_B' handed to B
//!            c = HPKE-Seal(pk_B, hdr, m || sk_B' || pk_A' || i)
//!            A now encrypts to pk_B'          ---- c ---->
//!                                      receive(c): open with sk_B (found by
//!                                      the header's key reference), delete it
//!                                      and every older own key; keep sk_B',
//!                                      encrypt to pk_A' (index i) next.
//! ```
//!
//! `pk_B` is the newest public key B gave A: either the one B announced
//! (with its index) in its latest message, or, if A sent last, the public
//! half of the key pair A generated and handed to B. First contact uses B's
//! prekey bundle (identity key, signed prekey, one one-time prekey) instead.
//!
//! ## Security properties
//! - **Confidentiality** of each message against anyone without the
//!   recipient's current secret keys (HPKE base mode, RFC 9180, with the
//!   header as associated data, so the header is authenticated too).
//! - **Forward secrecy**: a secret key is deleted as soon as a message sealed
//!   to it (or to a newer one) is received, so a state taken after receiving
//!   message *k* opens neither *k* nor any earlier message.
//! - **Post-compromise security after one message**: every send makes two
//!   fresh key pairs the adversary has not seen (one from fresh randomness,
//!   one exported from the message's fresh HPKE encapsulation); once the peer has received
//!   that message, a copy of the sender's old state no longer opens anything.
//! - **Initial authentication**: the responder verifies the initiator's
//!   Ed25519 signature over both identities and the exact prekeys used (or,
//!   with [`InitiatorAuth::Transport`], relies on the transport having
//!   authenticated the sender its identity key hashes to); the
//!   initiator authenticates the responder implicitly, through the signed
//!   prekey only the responder can use. This is not deniable. Later messages
//!   are authenticated only by the secrecy of the keys exchanged; DCGKA
//!   additionally signs every message in its broadcast layer. See
//!   `docs/2sm.md`.
//! - **Replay and ordering**: per-direction sequence numbers in the
//!   authenticated header; 2SM needs in-order delivery per direction
//!   (DCGKA's causal broadcast provides it) and rejects replays and gaps
//!   with typed errors.
//! - Secrets are zeroized on drop; `Debug` output is redacted; every
//!   operation is transactional (on error, nothing changed).
//!
//! ## Example
//! ```
//! use sgm_crypto::{MemberId, OsRng, SigningKey};
//! use sgm_2sm::{PrekeyStore, Session};
//!
//! // The operating system's random source, as an application uses it. (Tests
//! // and vectors use seeded generators so runs reproduce byte for byte.)
//! let mut rng = OsRng;
//! let alice = SigningKey::generate(&mut rng);
//! let bob = SigningKey::generate(&mut rng);
//! let alice_id = MemberId::from_identity_key(&alice.verifying_key());
//! let bob_id = MemberId::from_identity_key(&bob.verifying_key());
//! let (mut alice_store, _) = PrekeyStore::publish(&mut rng, &alice, 10);
//! let (mut bob_store, mut bob_published) = PrekeyStore::publish(&mut rng, &bob, 10);
//!
//! // Alice starts a session from Bob's bundle, while Bob is offline.
//! let bundle = bob_published.fetch()?.verify(&bob_id)?;
//! let mut a = Session::initiate(&alice, &bundle)?;
//! let c1 = a.send(&mut rng, b"hello Bob")?;
//!
//! // Bob comes online and creates his side from the first message.
//! let (mut b, m1) = Session::accept(&mut bob_store, &alice_id, &c1)?;
//! assert_eq!(m1.expose_secret(), b"hello Bob");
//! let c2 = b.send(&mut rng, b"hi Alice")?;
//! assert_eq!(a.receive(&mut alice_store, &c2)?.expose_secret(), b"hi Alice");
//!
//! // The state is a plain value.
//! let saved = a.to_bytes();
//! let a = Session::from_bytes(saved.expose_secret())?;
//! assert_eq!(a.peer_id(), bob_id);
//! # Ok::<(), sgm_2sm::TwoSmError>(())
//! ```
//!
//! ## Randomness
//! Each operation draws all its random values up front into a named struct
//! ([`SendRandomness`], [`PublishRandomness`]) in a documented order, and a
//! deterministic `*_with` variant does the work, so test vectors
//! (`test-vectors/2sm.json`, [`vectors`]) list every random value consumed.

mod error;
mod keys;
mod prekeys;
mod session;
mod state;
pub mod vectors;
mod wire;

pub use error::{Result, TwoSmError};
pub use keys::{PublishRandomness, SendRandomness};
pub use prekeys::{
    MAX_RETIRED_SIGNED_PREKEYS, OneTimePrekey, PrekeyBundle, PrekeyStore, PublishedPrekeys,
    SIGNED_PREKEY_GRACE_PERIOD_SECS, SignedPrekey, VerifiedBundle,
};
pub use session::{InitiatorAuth, MAX_PENDING_OWN_KEYS, Session};
pub use wire::VERSION;

#[cfg(test)]
mod session_tests;
