//! # sgm-messaging: one `Group` type for decentralized group messaging
//!
//! [`Group`] puts the layers together with concrete types: authenticated
//! causal broadcast (`sgm-acb`), decentralized membership (`sgm-dgm`), the
//! DCGKA key agreement with per-member message ratchets (`sgm-dcgka`) and
//! two-party channels (`sgm-2sm`). An application never names a layer.
//!
//! - **Actions** ([`Group::create`], [`Group::add`], [`Group::remove`],
//!   [`Group::update`], [`Group::send`], [`Group::tick`],
//!   [`Group::sync_request`]) and **input** ([`Group::receive`]) return an
//!   [`Output`]: the packets to transmit, the events, and the new state.
//!   Nothing does I/O, reads a clock (the app passes `now_ms`) or draws
//!   randomness from the environment (the app passes an rng).
//! - **Crash consistency**: store `Output::state` and send `Output::packets`
//!   in one transaction; [`Group::from_bytes`] restores. On error nothing
//!   changed.
//! - **Users and member ids**: a user has one member id per membership.
//!   Re-adding a removed user takes a fresh [`Invite`] (fresh identity key,
//!   fresh member id, as DGM requires); [`Group::users`] maps users to their
//!   current member ids.
//! - **Member cards** (who is who): a card (user name + identity key) is
//!   signed by the member's own identity key when it is born
//!   ([`Group::new`]), accepted only from the signed create or add that
//!   introduces it (or a welcome whose cards that operation's digest
//!   names), registered only once that operation was accepted, and checked
//!   by the application's [`CredentialValidator`] (default
//!   [`UniqueUserNames`]: no second key for a current member's name)
//!   before use. A relay can neither rename members nor add one; a
//!   member waiting to join can name the group or adder it expects
//!   ([`Group::expect_welcome`]).
//! - **Keys are the members' own**: a member's current signing key is
//!   proven by its own chain of rotations rooted in its identity key; an
//!   adder's checkpoint cannot assign it (docs/acb.md).
//! - **Transcript consistency** (mpENC §3.4): every application message
//!   carries, inside its encryption, the ids of the latest messages its
//!   author had seen; [`Group::transcript`] is the log in delivery order,
//!   and entries whose parents are not the entry above are marked.
//! - **Delivery consistency** (mpENC §3.5): every broadcast acknowledges
//!   its causal past; messages not acknowledged by every intended reader
//!   within [`Config::delivery_timeout_ms`] raise
//!   [`Warning::Undelivered`]. Explicit acks are sent only by
//!   [`Group::tick`], at most one per [`Config::ack_delay_ms`], never in
//!   reply to an ack: no ack storms.
//! - **Length hiding** (mpENC §5.3): plaintexts padded to 128 bytes, then
//!   powers of two ([`Config::padding`]).
//! - **Update policy**: every k messages, after time t, and the §7 rule
//!   (several undominated concurrent updates/removals → update first).
//! - **Old epochs**: late messages under a sender's earlier epoch decrypt
//!   within [`Config::old_epochs_max_count`] and
//!   [`Config::old_epoch_max_age_ms`]; beyond, [`Error::EpochExpired`]
//!   (reported as [`Warning::Undecryptable`]).
//! - **No false alarms** (mpENC): a message whose sender did not count this
//!   member in (judged by the DGM view at the message's causal past) is
//!   [`Event::NotForMe`], not a warning; warnings mean a real failure.
//! - **Catch-up**: [`Group::sync_request`] asks a peer for what this member
//!   lacks (anti-entropy after partitions, loss, time offline), and fetches
//!   by id the parents it waits for that sequence numbers cannot name;
//!   [`Group::sync_peers`] names whom to ask, including members removed in
//!   the last [`REMOVED_PEER_SYNC_MS`], so concurrent removes reach
//!   everyone they concern.
//! - **Removed members stay out**: a broadcast whose causal past removes
//!   its sender is rejected by the broadcast layer's membership check (the
//!   DGM at that causal past) and reported as
//!   [`Warning::SentAfterRemoval`], never an [`Event::Message`]; membership
//!   ops are judged against their whole causal past, not the DGM parents
//!   they declare; a removed member's ratchet is dropped once every member
//!   has acknowledged its removal (docs/messaging.md, "Removed members").
//! - **Equivocation** (a member signing two broadcasts with one sequence
//!   number, for example from a restored copy of its state) is detected,
//!   raised as [`Warning::Equivocation`] naming the member, with evidence
//!   anyone can check ([`Equivocation`], [`Group::equivocations`]), and
//!   does not split the group: both branches are delivered, so honest
//!   members' messages reach each other; removing the member heals the
//!   key agreement (`docs/messaging.md`, "Equivocation").
//! - **Sync requests and fetches** are signed by the requester's identity
//!   key, bound to the responder and stamped: a relay or non-member cannot
//!   make a member send anything, and a replayed request is not answered
//!   again.
//! - **Unverified input is bounded**: broadcasts from senders not known
//!   yet are parked within [`MAX_PARKED`] packets and [`MAX_PARKED_BYTES`],
//!   in memory only (never persisted); packet bodies are counted before
//!   they are decoded, so memory follows the bytes received, not the
//!   counts they claim.
//!
//! Design notes, wire and state formats: `docs/messaging.md`.
//!
//! ## Example
//! ```
//! use sgm_crypto::OsRng;
//! use sgm_messaging::{Config, Destination, Event, Group, KeyServer, Output, UserId};
//!
//! // Keys come from the operating system's random source. (sgm's own tests
//! // and vectors use seeded generators so runs reproduce; an app never does:
//! // every user would get the same keys.)
//! let mut rng = OsRng;
//! let mut keys = KeyServer::new();
//! let mut make = |name: &str, keys: &mut KeyServer, rng: &mut OsRng| {
//!     let (g, invite, prekeys) = Group::new(UserId::from(name), Config::default(), 8, rng);
//!     keys.publish(invite.member_id(), prekeys);
//!     (g, invite)
//! };
//! let (mut alice, _) = make("alice", &mut keys, &mut rng);
//! let (mut bob, bob_invite) = make("bob", &mut keys, &mut rng);
//! let (mut carol, carol_invite) = make("carol", &mut keys, &mut rng);
//!
//! // A tiny network: deliver every packet to the members it names.
//! fn deliver(out: Output, now: u64, peers: &mut [&mut Group], rng: &mut OsRng,
//!            keys: &mut KeyServer) -> Vec<Event> {
//!     let mut events = Vec::new();
//!     let mut queue: Vec<_> = out.packets;
//!     while let Some(p) = queue.pop() {
//!         for g in peers.iter_mut() {
//!             let me = g.me();
//!             let for_me = match &p.to {
//!                 Destination::Members(m) => m.contains(&me),
//!                 Destination::Member(m) => *m == me,
//!             };
//!             if for_me {
//!                 let out = g.receive(&p.bytes, now, rng, keys).unwrap();
//!                 events.extend(out.events);
//!                 queue.extend(out.packets);
//!             }
//!         }
//!     }
//!     events
//! }
//!
//! let out = alice.create(&[bob_invite, carol_invite], 0, &mut rng, &mut keys)?;
//! deliver(out, 0, &mut [&mut bob, &mut carol], &mut rng, &mut keys);
//! assert_eq!(bob.members(), alice.members());
//!
//! let out = alice.send(b"meet at the square", 10, &mut rng, &mut keys)?;
//! let state_to_store = out.state.clone().unwrap(); // store with the packets, atomically
//! let events = deliver(out, 10, &mut [&mut bob, &mut carol], &mut rng, &mut keys);
//! assert!(events.iter().any(|e| matches!(e,
//!     Event::Message { plaintext, .. } if plaintext == b"meet at the square")));
//!
//! // Remove carol; her later messages' keys are unknown to her.
//! let out = bob.remove(&[UserId::from("carol")], 20, &mut rng, &mut keys)?;
//! deliver(out, 20, &mut [&mut alice, &mut carol], &mut rng, &mut keys);
//! assert!(carol.is_removed());
//! assert_eq!(alice.members().len(), 2);
//!
//! // Restore alice from what she stored and carry on.
//! let mut alice = Group::from_bytes(state_to_store.expose_secret())?;
//! assert_eq!(alice.transcript().len(), 1);
//! # Ok::<(), sgm_messaging::Error>(())
//! ```

mod book;
mod causal;
mod config;
mod credential;
mod directory;
mod error;
mod event;
mod fetch;
mod group;
mod ids;
mod packet;
mod padding;
mod persist;
mod prescan;
mod receive;
#[cfg(test)]
mod security_tests;
mod sync;
mod tick;
pub mod vectors;
mod vv;

pub use book::{MAX_PARKED, MAX_PARKED_BYTES};
pub use causal::REMOVED_PEER_SYNC_MS;
pub use config::{BOUNDS_SCALE_MEMBERS, Config, MAX_PARENTS};
pub use credential::{CARD_LABEL, CredentialValidator, ExpectedWelcome, UniqueUserNames};
pub use directory::KeyServer;
pub use error::{Error, Result};
pub use event::{Event, NotForMe, TranscriptEntry, Warning};
pub use fetch::{FETCH_CHAIN, FETCH_LABEL, MAX_FETCH_IDS};
pub use group::{
    ACK_SPREAD_PER_MEMBER_MS, DOMINATE_FALLBACK_MS, Group, MAX_PLAINTEXT, Output, WELCOME_RESEND_MS,
};
pub use ids::{GROUP_ID_LEN, GroupId, Invite, UserId};
pub use packet::{Destination, MAX_PACKET, PACKET_VERSION, Packet, PacketKind};
pub use padding::{PAD_BASELINE, padded_len};
pub use persist::STATE_VERSION;
pub use receive::{ASK_BACK_MS, MAX_BATCH_ENVELOPES, MAX_RESEND_BYTES};
pub use sgm_acb::{Bytes, Equivocation, MessageId};
pub use sgm_crypto::MemberId;
pub use sgm_dcgka::PrekeyDirectory;
pub use sync::{MAX_SYNC_BODY, SYNC_LABEL};
