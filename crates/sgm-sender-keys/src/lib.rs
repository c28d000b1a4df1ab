//! # sgm-sender-keys
//!
//! Two baselines for the comparison with DCGKA, both over the project's own
//! pairwise channels ([`sgm_2sm`] sessions with prekey first contact), so
//! that what differs is the group scheme, not the two-party channel:
//!
//! - **Sender Keys** ([`SenderKeysMember`]), as Signal and WhatsApp run
//!   groups (the DCGKA paper's §3): each member owns a sender key (chain
//!   key, iteration, 31-bit chain id, Ed25519 signing key) that it
//!   distributes to every other member pairwise; an application message is
//!   one signed broadcast. Removal and PCS update make every member rotate:
//!   O(n²) pairwise messages.
//! - **Pairwise fan-out** ([`PairwiseMember`]), TextSecure v2 groups: no
//!   group key; every message is sealed separately to each other member.
//!
//! The key schedule, formats and labels are in `docs/sender-keys.md`.
//!
//! ## Security properties
//! - **Forward secrecy** (Sender Keys): each message has its own key,
//!   derived from the chain key, which then moves on; a state captured after
//!   decrypting message *k* cannot decrypt *k* (its key is gone) nor
//!   anything earlier. Pairwise: 2SM's.
//! - **No post-compromise security without rotation** (Sender Keys): a copy
//!   of a member's state reads every later message of every member until
//!   each member rotated its key (an update by the compromised member heals
//!   it, at O(n²) messages). Pairwise fan-out heals with every message.
//! - **Removal**: once every remaining member processed a removal, each has
//!   rotated to a key the removed member never received.
//! - **Authenticity**: a group message is signed with its sender key's
//!   signing key, whose secret half only its owner holds: members cannot
//!   forge each other's messages (the holder of a stolen state can forge
//!   the victim's); pairwise messages are authenticated by 2SM (first
//!   contact signed by the initiator's identity key).
//! - **Bounded**: Signal's bounds ([`MAX_FORWARD_JUMPS`], [`MAX_MESSAGE_KEYS`],
//!   [`MAX_SENDER_KEY_STATES`]), [`MAX_SENDERS`]; strict decoding with
//!   length bounds.
//! - **Transactional**: every call either succeeds or leaves the state
//!   unchanged; untrusted input never panics; randomness is injected.
//!
//! ## Membership in the decentralized setting
//! Nobody orders membership changes: each member keeps its own view,
//! changed by authenticated control messages from members of that view.
//! Concurrent changes can therefore leave views apart, and the scheme does
//! not repair them (`crates/sgm-harness/tests/concurrency.rs` shows both cases):
//! - **add concurrent with a removal** (A adds X while B removes D): B's
//!   notice reaches only the members B knows and nobody forwards it, so
//!   X's view keeps D; X sends its sender key to D and addresses its
//!   messages to D, and a D that ignores its own removal reads them;
//! - **add by a concurrently removed member** (A adds X while B removes A):
//!   members that process the add first accept X, those that process the
//!   removal first refuse an add from a non-member; the views diverge for
//!   good and those that refused never send X their key.
//!
//! sgm-dgm's deterministic membership (as DCGKA uses it) would make the
//! views converge; the baseline keeps Signal's behaviour.
//!
//! ## Deviations from Signal
//! 1. ChaCha20-Poly1305 (key from HKDF, nonce zero: one message per key)
//!    instead of AES-256-CBC with a derived IV; our own HKDF label.
//! 2. The signature covers a label before the message bytes; the AEAD
//!    authenticates the header.
//! 3. Fixed binary layouts instead of protobuf (`docs/sender-keys.md`).
//! 4. The pairwise channel is sgm-2sm, not the double ratchet.
//! 5. Membership control messages are our own (Signal's server tells
//!    clients); periodic rotation is by message count, not age.
//!
//! ## Example
//! ```
//! use std::collections::HashMap;
//! use rand_chacha::ChaCha20Rng;
//! use sgm_2sm::{PrekeyBundle, PrekeyStore, PublishedPrekeys};
//! use sgm_crypto::{MemberId, SeedableRng, SigningKey};
//! use sgm_sender_keys::{Config, PrekeyDirectory, SenderKeysMember};
//!
//! #[derive(Default)]
//! struct Directory(HashMap<MemberId, PublishedPrekeys>);
//! impl PrekeyDirectory for Directory {
//!     fn fetch(&mut self, m: &MemberId) -> Option<PrekeyBundle> {
//!         self.0.get_mut(m)?.fetch().ok()
//!     }
//! }
//!
//! let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let mut dir = Directory::default();
//! let mut member = || {
//!     let sk = SigningKey::generate(&mut rng);
//!     let (store, published) = PrekeyStore::publish(&mut rng, &sk, 4);
//!     dir.0.insert(MemberId::from_identity_key(&sk.verifying_key()), published);
//!     SenderKeysMember::new(sk, store, Config::default())
//! };
//! let (mut alice, mut bob) = (member(), member());
//!
//! // Alice creates the group: a welcome with her sender key reaches Bob,
//! // whose reply carries his.
//! let welcome = alice.create(&[bob.id()], &mut rng, &mut dir)?;
//! let reply = bob.receive(&alice.id(), &welcome[0].bytes, &mut rng, &mut dir)?;
//! alice.receive(&bob.id(), &reply.replies[0].bytes, &mut rng, &mut dir)?;
//!
//! // One signed group message, for every member.
//! let sealed = bob.encrypt(b"hi alice", &mut rng, &mut dir)?;
//! let plaintext = alice.decrypt(&bob.id(), &sealed.message)?;
//! assert_eq!(plaintext.expose_secret(), b"hi alice");
//! # Ok::<(), sgm_sender_keys::SenderKeysError>(())
//! ```

pub mod chain;
mod channels;
mod error;
mod pairwise;
pub mod payload;
mod persist;
mod sender_keys;
mod state;
pub mod vectors;
pub mod wire;

pub use channels::{Channels, Outgoing, PrekeyDirectory};
pub use error::{Result, SenderKeysError};
pub use pairwise::{PairwiseMember, PairwiseReceived};
pub use persist::STATE_VERSION;
pub use sender_keys::{Config, Encrypted, MAX_SENDERS, Received, SenderKeysMember};
pub use state::{
    MAX_FORWARD_JUMPS, MAX_MESSAGE_KEYS, MAX_SENDER_KEY_STATES, OwnSenderKey, SenderKeyRandomness,
    SenderKeyRecord, SenderKeyState,
};
