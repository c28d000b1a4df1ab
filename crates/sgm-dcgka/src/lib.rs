//! # sgm-dcgka
//!
//! Decentralized continuous group key agreement: the DCGKA protocol of
//! Weidner, Kleppmann, Hugenroth and Beresford, *Key Agreement for
//! Decentralized Secure Group Messaging with Strong Security Guarantees*
//! (CCS 2021; Figure 4), with a forward-secure message ratchet per member
//! (Figure 1) fed by the outer KDF ratchet (Figure 3).
//!
//! ```text
//!   create/add/remove/update ──▶ control message (broadcast) + direct messages (2SM)
//!                                        │ sgm-acb: signed, causal
//!                                        ▼
//!   process(sender, control, my direct message) ──▶ ack / add-ack, I_sender, I_me
//!
//!   update secrets of member X (epoch = seq of X's control message)
//!        └─▶ X's message ratchet: one AEAD key per application message
//! ```
//!
//! Built on [`sgm_2sm`] (two-party channels for seeds, forwarded member
//! secrets and ratchet states), [`sgm_dgm`] (membership as a function of the
//! causal history, with the strong-remove rule) and, through the separate
//! [`broadcast`] module, [`sgm_acb`]. The key schedule and every label are in
//! `docs/dcgka.md`.
//!
//! ## Security properties
//! - **Forward secrecy.** Every application message has its own key, deleted
//!   after use; chain states are replaced; member secrets are deleted when
//!   used and the seed is never stored (it lives only inside the call that
//!   draws or decrypts it).
//! - **Post-compromise security.** A member's update (or a removal) heals its
//!   compromise: the fresh seed reaches the others over 2SM channels, which
//!   heal with every message. With several members compromised and updating
//!   concurrently, healing needs a *dominating* update or removal (§7).
//! - **Removal.** A removed member learns nothing a sender encrypts after
//!   processing the removal: the removal's seed excludes it and every member's
//!   ratchet moves on with it.
//! - **Removed members cannot speak after the fact** (given the causal
//!   past from the layer below, `check_causal_past` / `decrypt_in_past`):
//!   a message whose causal past removes its sender is refused
//!   ([`DcgkaError::SenderRemoved`]); an add or remove whose declared DGM
//!   parents miss a membership op of its causal past is refused
//!   ([`DcgkaError::InconsistentParents`]); a removed member's receiving
//!   ratchet is dropped once every current member has seen its removal,
//!   after which no message of it can still be legitimate. Rules and
//!   reasoning: `docs/dcgka.md`, "Judging a message by its causal past".
//! - **Consistency.** All members derive the same sequence of update secrets
//!   for each member, whatever the delivery order (tested by proptest).
//! - **Transactional.** Every operation either succeeds or leaves the state
//!   byte-for-byte unchanged. Decoding never panics.
//!
//! **Assumed** (the paper's §5.1): the `sender` given to `process` is
//! authenticated by the layer below (sgm-acb's signed envelopes do this;
//! use [`broadcast`]). 2SM first contacts rely on it and carry no identity
//! signature of their own.
//!
//! Not provided (as in the paper): protection against malicious insiders or
//! an adversary that uses a compromised state to impersonate (§7).
//!
//! ## Deviations from the paper
//! 1. **Epochs.** Each update secret of member X is named by the seq of X's
//!    control message that produced it; application messages carry that
//!    epoch, so a receiver can tell "wait for X's control message"
//!    ([`DcgkaError::EpochNotYetKnown`]) from "never given to me".
//! 2. **Membership views.** Create, add, remove and acks of them are DGM
//!    ops and carry their sender's DGM *membership* heads as parents (the
//!    membership ops not in another's past: the same membership past as all
//!    heads, without naming every concurrent ack; an ack whose only parent
//!    is the op it acknowledges leaves it implied); the recipients of
//!    a create or remove are the DGM over that op. Updates and acks of
//!    updates carry no parents: an update's recipients are sgm-dgm's
//!    `member_view(sender)` (the causal past of the sender's latest DGM op),
//!    computed the same by the sender and every receiver.
//! 3. **Welcome** carries, besides the history and the ratchet state, the
//!    adder's last processed seq per sender, so the new member detects
//!    replays and gaps from its first message on.
//! 4. **Cancelled adds.** An add cancelled by the strong-remove rule (its
//!    author was removed concurrently) gets no add-ack, so no ratchet state
//!    is sent to a member who is not in the group. The key schedule is the
//!    same in every order.
//! 5. **Removed members** stop: no ack for the removing message, later
//!    calls fail with [`DcgkaError::NoGroup`]. A member that is not a seed
//!    recipient still records its ack in the DGM locally (as every receiver
//!    of that ack does).
//! 6. **Batch remove** (`remove(&[ids])`); add is one member at a time.
//! 7. **Ack coalescing (§8.1)** is an option ([`Config::coalesce_acks`]):
//!    acks are still separate control messages with their own seq (same key
//!    schedule), held back and sent in front of the next outgoing message.
//! 8. **Bounded receivers.** Old epochs and skipped message keys are kept
//!    under [`ratchet::RatchetConfig`] bounds.
//! 9. **Rollback-safe message encryption.** The paper's ratchet keys each
//!    message once; a restored old state would reuse a key. Messages carry
//!    a synthetic nonce (HMAC of associated data and plaintext, see
//!    [`ratchet`]), so a rolled-back sender never reuses a (key, nonce)
//!    pair for a different plaintext.
//! 10. **Counters from input are checked**: a welcome's claimed last seq
//!     of `u64::MAX` gives [`DcgkaError::SeqOverflow`] for that sender's
//!     next message, never an arithmetic overflow.
//!
//! ## Example
//! ```
//! use std::collections::HashMap;
//! use sgm_crypto::OsRng;
//! use sgm_2sm::{PrekeyBundle, PrekeyStore, PublishedPrekeys};
//! use sgm_crypto::{MemberId, SigningKey};
//! use sgm_dcgka::{Config, Dcgka, PrekeyDirectory};
//!
//! #[derive(Default)]
//! struct Directory(HashMap<MemberId, PublishedPrekeys>);
//! impl PrekeyDirectory for Directory {
//!     fn fetch(&mut self, m: &MemberId) -> Option<PrekeyBundle> {
//!         self.0.get_mut(m)?.fetch().ok()
//!     }
//! }
//!
//! // The operating system's random source, as an application uses it. (Tests
//! // and vectors use seeded generators so runs reproduce byte for byte.)
//! let mut rng = OsRng;
//! let mut dir = Directory::default();
//! let mut member = || {
//!     let sk = SigningKey::generate(&mut rng);
//!     let (store, published) = PrekeyStore::publish(&mut rng, &sk, 4);
//!     dir.0.insert(MemberId::from_identity_key(&sk.verifying_key()), published);
//!     Dcgka::init(sk, store, Config::default())
//! };
//! let (mut alice, mut bob) = (member(), member());
//!
//! // Alice creates the group; the create reaches Bob (with his direct part).
//! let out = alice.create(&[bob.id()], &mut rng, &mut dir)?;
//! let create = &out.messages[0];
//! let processed = bob.process(
//!     alice.id(), &create.control, create.direct_for(&bob.id()), &mut rng, &mut dir)?;
//! // Bob's ack reaches Alice.
//! let ack = processed.reply.expect("bob acks");
//! alice.process(bob.id(), &ack.control, None, &mut rng, &mut dir)?;
//!
//! let sealed = bob.encrypt(b"hi alice", b"")?;
//! let plaintext = alice.decrypt(&bob.id(), &sealed.message, b"")?;
//! assert_eq!(plaintext.expose_secret(), b"hi alice");
//! # Ok::<(), sgm_dcgka::DcgkaError>(())
//! ```

mod ack;
mod add;
mod app;
pub mod broadcast;
mod causal;
pub mod error;
pub mod key_schedule;
pub mod messages;
mod ops;
mod output;
mod persist;
mod process;
pub mod ratchet;
pub mod scenario;
mod seed;
mod state;
pub mod statement;
mod two_party;
pub mod vectors;
mod wire;

pub use app::Sealed;
pub use error::DcgkaError;
pub use output::{OperationOutput, Outgoing, ProcessOutput, UpdateSecretEvent};
pub use state::{Config, Dcgka, OP_ID_LABEL, op_id};
pub use two_party::PrekeyDirectory;
pub use wire::{MAX_MESSAGE_LEN, WIRE_VERSION};
