//! # sgm-harness
//!
//! One interface over every group scheme of the project, so that one
//! benchmark and one set of scenario tests compare them: DCGKA
//! ([`dcgka::DcgkaScheme`]), Sender Keys ([`sender_keys::SenderKeysScheme`]),
//! pairwise fan-out ([`sender_keys::PairwiseScheme`]) and mpENC
//! ([`mpenc::MpencScheme`]).
//!
//! ```text
//!   GroupScheme (one adapter per scheme)        Group<S> (the driver)
//!     new_member, create, add, remove,   ◀───   members, the network between them,
//!     update, send, receive                     rounds, bytes, CPU, plaintexts
//!        │ every call returns Vec<Message>            │
//!        └─ Broadcast(recipients) | Unicast(one) ─────┘ counted as the paper counts:
//!                                                       a broadcast once
//! ```
//!
//! A tooling crate (like sgm-sim): it depends on every scheme crate and no
//! protocol crate depends on it; `cargo xtask bench schemes` and the
//! schemes' scenario tests use it.
//!
//! ## What the driver measures ([`Outcome`])
//! - **Messages and bytes** as the DCGKA paper counts them: a broadcast
//!   once, each unicast and each direct part once; and bytes received per
//!   member.
//! - **CPU** per member: wall-clock time inside the scheme's calls (the
//!   actor's operation and the replies it processes; each recipient's
//!   processing). Single-threaded, so wall clock is CPU time on an idle core.
//! - **Rounds**: sequential message delays until nothing is in flight, and
//!   until the last member's keys changed ([`Processed::key_changed`]).
//!   mpENC's greetings take O(n) rounds; DCGKA's update one.
//! - **Outcomes**: which members decrypted which application messages, and
//!   which learnt they were removed.
//!
//! ## Delivery
//! First in, first out by default, which is a total order consistent with
//! causality; schemes that need a totally ordered channel say so
//! ([`Capabilities`]). Tests can choose deliveries themselves, within causal
//! order ([`Group::track_causality`], [`Group::deliver_at`]).
//!
//! ## Example
//! ```
//! use sgm_dcgka::Config;
//! use sgm_harness::{Group, Operation, dcgka::DcgkaScheme};
//!
//! let (mut group, create) = Group::setup(DcgkaScheme::new(Config::default(), 4), 4, 1)?;
//! assert_eq!(create.rounds, 2); // create, then every member's ack
//! let ids = group.ids().to_vec();
//! let sent = group.run(ids[1], Operation::Send(b"hi".to_vec()))?;
//! assert_eq!(sent.messages, 1); // one broadcast
//! assert!(ids.iter().filter(|m| **m != ids[1]).all(|m| sent.decrypted_by(m, &ids[1], b"hi")));
//! # Ok::<(), sgm_harness::HarnessError>(())
//! ```

pub mod dcgka;
mod directory;
mod driver;
mod error;
pub mod mpenc;
mod outcome;
mod scheme;
pub mod sender_keys;

pub use directory::Directory;
pub use driver::{Group, InFlight, Operation};
pub use error::{HarnessError, Result};
pub use outcome::{Decrypted, Outcome};
pub use scheme::{Capabilities, Delivery, GroupScheme, Incoming, Message, MessageKind, Processed};
