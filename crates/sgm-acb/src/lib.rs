//! # sgm-acb: authenticated causal broadcast
//!
//! The broadcast layer DCGKA assumes (Weidner et al. 2021, §5.1), usable on
//! its own. Every message is an [`Envelope`] signed by its sender over all of
//! its fields; its [`MessageId`] is a hash of the signed bytes. Each envelope
//! names its causal predecessors: the sender's sequence number and the
//! sender's current DAG heads as `parents` (Kleppmann & Howard's hash-linked
//! DAG, mpENC's parent references, Git's commit parents), so the metadata
//! grows with the number of concurrent heads, not with the group size.
//! [`Acb`] hands a message to the layer above only after all of its
//! predecessors, buffering out-of-order arrivals within configured bounds.
//!
//! ```text
//!   wire bytes ──decode (strict)──▶ SignedEnvelope ──key for (sender, seq)──▶ verified
//!        ──buffer until parents + previous seq delivered──▶ membership check ──▶ Delivered
//! ```
//!
//! ## Security properties
//! - **Authenticity and integrity.** Every field (sender, seq, parents,
//!   payload, direct parts, key rotation) is covered by an Ed25519 signature
//!   (strict verification) under the key in effect for that sender and seq.
//!   Anyone may forward a message; relays cannot alter it.
//! - **Causal order.** A message is delivered only after every parent and
//!   the sender's previous message. Parents are hashes, so a delivered
//!   message fixes its whole causal past.
//! - **No replays; equivocation detected, and survived.** A message is
//!   delivered at most once. A second, different, validly signed message
//!   with a delivered `(sender, seq)` is an equivocation: it is reported
//!   with transferable evidence ([`Equivocation`],
//!   [`AcbEvent::Equivocation`]) and delivered as a fork
//!   ([`Delivered::fork`]), so that honest members' messages naming
//!   either branch are delivered everywhere (Kleppmann & Howard's
//!   Byzantine eventual consistency). A fork never changes its sender's
//!   key chain: a key the sender rotated away from can only add forks
//!   ([`Fork::OtherKey`]), never messages of its main line.
//! - **Signing-key rotation (PCS).** A sender announces a new key inside a
//!   message signed by the old one; messages with a higher seq must use the
//!   new key, and the old one is rejected for them
//!   ([`AcbError::RotatedOutKey`]), so an adversary holding an old key
//!   cannot impersonate the sender after its next update. Each rotation
//!   carries a proof (the old key's signature over sender, first seq and
//!   new key), so a sender's current key is provable from its own
//!   signatures alone: a [checkpoint](Acb::checkpoint) carries every
//!   sender's chain and [`Acb::adopt_checkpoint`] verifies it
//!   ([`AcbError::BadKeyChain`]); whoever hands a joiner a checkpoint
//!   cannot assign a member a key.
//! - **Membership.** A [`MembershipCheck`] is consulted just before each
//!   delivery; non-members are rejected ([`AcbError::NonMember`]).
//! - **Bounded memory.** Waiting messages are bounded by count, bytes, per
//!   sender and age ([`AcbConfig`]); what is dropped is reported
//!   ([`AcbEvent`]). Decoding never panics on arbitrary bytes.
//!
//! Not provided: confidentiality (payloads and direct parts are carried as
//! given; encrypt them above), and the set of delivered ids grows with the
//! history (see `docs/acb.md`, "State and compaction").
//!
//! ## Example
//! ```
//! use sgm_acb::{Acb, AcbConfig, AllowAll, DirectPart};
//! use sgm_crypto::{Secret, SigningKey};
//!
//! let alice_key = SigningKey::from_seed(&Secret::from_bytes([1; 32]));
//! let bob_key = SigningKey::from_seed(&Secret::from_bytes([2; 32]));
//! let mut alice = Acb::new(alice_key.clone(), AcbConfig::default());
//! let mut bob = Acb::new(bob_key.clone(), AcbConfig::default());
//! let bob_id = alice.register_member(bob_key.verifying_key());
//! bob.register_member(alice_key.verifying_key());
//!
//! let m1 = alice.broadcast(b"hello".to_vec(), vec![])?;
//! let m2 = alice.broadcast(
//!     b"control".to_vec(),
//!     vec![DirectPart { recipient: bob_id, body: b"for bob".to_vec() }],
//! )?;
//!
//! // m2 arrives first: it waits for m1.
//! assert!(bob.receive(&m2.bytes, &AllowAll)?.delivered.is_empty());
//! assert_eq!(bob.missing(), vec![m1.id]);
//! let got = bob.receive(&m1.bytes, &AllowAll)?.delivered;
//! assert_eq!(got.len(), 2);
//! assert_eq!(got[1].my_part.as_deref(), Some(&b"for bob"[..]));
//!
//! // Alice's next update rotates her signing key.
//! alice.rotate_signing_key(SigningKey::from_seed(&Secret::from_bytes([3; 32])));
//! let m3 = alice.broadcast(b"update".to_vec(), vec![])?;
//! assert!(bob.receive(&m3.bytes, &AllowAll)?.delivered[0].new_signing_key.is_some());
//! # Ok::<(), sgm_acb::AcbError>(())
//! ```

mod acb;
mod body_codec;
mod buffer;
mod checkpoint;
mod config;
mod error;
mod fork;
mod membership;
mod state;
mod store;
pub mod vectors;
mod wire;

pub use acb::{Acb, Accepted, Delivered, Outgoing, Receipt};
/// The shared byte buffer of [`Acb::receive_shared`] (re-exported so a
/// caller needs no direct dependency on `bytes`).
pub use bytes::Bytes;
pub use checkpoint::CHECKPOINT_VERSION;
pub use config::AcbConfig;
pub use error::{AcbError, AcbEvent, ApiMisuse, BufferLimit, Malformed};
pub use fork::{EQUIVOCATION_VERSION, Equivocation, Fork, MAX_FORK_TIPS};
pub use membership::{AllowAll, MembershipCheck};
pub use state::STATE_VERSION;
pub use wire::{
    DirectPart, Envelope, MESSAGE_ID_LABEL, MESSAGE_ID_LEN, MessageId, ROTATION_LABEL,
    SIGNATURE_LABEL, SignedEnvelope, WIRE_VERSION, rotation_statement,
};
