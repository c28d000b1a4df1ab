//! # sgm: decentralized secure group messaging
//!
//! The umbrella crate: every layer of the workspace under one roof.
//!
//! | module | crate | what it is |
//! |---|---|---|
//! | [`crypto`] | `sgm-crypto` | typed wrappers over dalek/RustCrypto primitives |
//! | [`two_sm`] | `sgm-2sm` | two-party secure messaging with prekey bundles |
//! | [`acb`] | `sgm-acb` | authenticated causal broadcast |
//! | [`dgm`] | `sgm-dgm` | decentralized group membership |
//! | [`dcgka`] | `sgm-dcgka` | DCGKA and per-member message ratchets |
//! | [`sender_keys`] | `sgm-sender-keys` | baseline: Sender Keys and pairwise fan-out |
//! | [`mpenc`] | `sgm-mpenc` | baseline: mpENC (CLIQUES, ASKE, greeter, mpenc_js wire format) |
//! | [`prelude`] | | the application-facing names, without clashes |
//! | [`messaging`] | `sgm-messaging` | the façade an application uses |
//! | [`sim`] | `sgm-sim` | deterministic network simulator |
//!
//! Depend on the layer crates one by one if you need only some of them; this
//! crate adds nothing but the names.
//!
//! ## A whole group session
//!
//! An application touches one type, [`messaging::Group`]: one member's
//! state in one group. Every action and every received packet returns an
//! [`messaging::Output`]: the packets to transmit, the events, and the new
//! state to store **together with** the packets (one transaction). Nothing
//! does I/O, reads a clock or draws randomness from the environment: the
//! application passes `now_ms` and an rng, and moves the packets itself.
//! `examples/group_chat.rs` is the same session with narration
//! (`cargo run -p sgm --example group_chat`).
//!
//! ```
//! use sgm::crypto::OsRng;
//! use sgm::messaging::{
//!     Config, Destination, Event, Group, KeyServer, MemberId, Output, Packet, UserId,
//! };
//!
//! // Keys come from the operating system's random source. (sgm's own tests
//! // and vectors use seeded generators so runs reproduce; an app never does:
//! // every user would get the same keys.)
//! let mut rng = OsRng;
//! // Where members publish their prekeys (a real app: a key server).
//! let mut keys = KeyServer::new();
//!
//! // 1. Each user makes a fresh identity for the group: the state, an invite
//! //    to hand to whoever adds them, and prekeys to publish.
//! let mut member = |name: &str, rng: &mut OsRng, keys: &mut KeyServer| {
//!     let (group, invite, prekeys) = Group::new(UserId::from(name), Config::default(), 8, rng);
//!     keys.publish(invite.member_id(), prekeys);
//!     (group, invite)
//! };
//! let (mut alice, _) = member("alice", &mut rng, &mut keys);
//! let (mut bob, bob_invite) = member("bob", &mut rng, &mut keys);
//! let (mut carol, carol_invite) = member("carol", &mut rng, &mut keys);
//! let (mut dave, dave_invite) = member("dave", &mut rng, &mut keys);
//!
//! // The network: a lossless in-memory one that hands every packet to the
//! // members it names, and every reply on, until nothing is left.
//! fn run(from: MemberId, packets: Vec<Packet>, now: u64, peers: &mut [&mut Group],
//!        rng: &mut OsRng, keys: &mut KeyServer) -> Vec<Event> {
//!     let mut events = Vec::new();
//!     let mut queue: Vec<(MemberId, Packet)> = packets.into_iter().map(|p| (from, p)).collect();
//!     while let Some((sender, p)) = queue.pop() {
//!         for g in peers.iter_mut().filter(|g| g.me() != sender) {
//!             let for_g = match &p.to {
//!                 Destination::Members(m) => m.contains(&g.me()),
//!                 Destination::Member(m) => *m == g.me(),
//!             };
//!             if for_g {
//!                 let out = g.receive(&p.bytes, now, rng, keys).expect("a good packet");
//!                 events.extend(out.events);
//!                 queue.extend(out.packets.into_iter().map(|q| (g.me(), q)));
//!             }
//!         }
//!     }
//!     events
//! }
//!
//! // 2. Create: alice starts the group with bob and carol. Each gets a
//! //    welcome packet and joins.
//! let out: Output = alice.create(&[bob_invite, carol_invite], 0, &mut rng, &mut keys)?;
//! run(alice.me(), out.packets, 0, &mut [&mut bob, &mut carol], &mut rng, &mut keys);
//! assert!(bob.is_member() && carol.is_member());
//! assert_eq!(bob.members(), alice.members());
//!
//! // 3. Send and receive. The state to store comes with the packets.
//! let out = alice.send(b"meet at the square at noon", 1_000, &mut rng, &mut keys)?;
//! let to_store = out.state.clone().expect("state_in_output is on by default");
//! assert_eq!(to_store.expose_secret(), alice.to_bytes().expose_secret());
//! let events = run(alice.me(), out.packets, 1_000, &mut [&mut bob, &mut carol], &mut rng, &mut keys);
//! let got = events.iter().filter(|e| matches!(e,
//!     Event::Message { user, plaintext, .. }
//!         if user.0 == "alice" && plaintext == b"meet at the square at noon")).count();
//! assert_eq!(got, 2); // bob and carol
//! // Held-back key-agreement acks and delivery acks leave on `tick`.
//! let mut acks = Vec::new();
//! for g in [&mut alice, &mut bob, &mut carol] {
//!     acks.push((g.me(), g.tick(2_000, &mut rng, &mut keys)?.packets));
//! }
//! for (from, packets) in acks {
//!     run(from, packets, 2_000, &mut [&mut alice, &mut bob, &mut carol], &mut rng, &mut keys);
//! }
//!
//! // 4. Add: bob adds dave; dave joins with the history in his welcome and
//! //    reads what is sent from now on.
//! let out = bob.add(&[dave_invite], 3_000, &mut rng, &mut keys)?;
//! run(bob.me(), out.packets, 3_000, &mut [&mut alice, &mut carol, &mut dave], &mut rng, &mut keys);
//! assert_eq!(dave.members().len(), 4);
//! let out = carol.send(b"welcome, dave", 3_500, &mut rng, &mut keys)?;
//! let events = run(carol.me(), out.packets, 3_500, &mut [&mut alice, &mut bob, &mut dave],
//!                  &mut rng, &mut keys);
//! assert_eq!(events.iter().filter(|e| matches!(e, Event::Message { .. })).count(), 3);
//!
//! // 5. Remove: alice removes carol (a PCS update comes with it); carol can
//! //    read nothing sent afterwards.
//! let out = alice.remove(&[UserId::from("carol")], 4_000, &mut rng, &mut keys)?;
//! run(alice.me(), out.packets, 4_000, &mut [&mut bob, &mut carol, &mut dave], &mut rng, &mut keys);
//! assert!(carol.is_removed());
//! assert_eq!(bob.users().keys().map(|u| u.0.as_str()).collect::<Vec<_>>(),
//!            ["alice", "bob", "dave"]);
//! let out = bob.send(b"carol is out", 4_500, &mut rng, &mut keys)?;
//! let events = run(bob.me(), out.packets, 4_500, &mut [&mut alice, &mut carol, &mut dave],
//!                  &mut rng, &mut keys);
//! assert_eq!(events.iter().filter(|e| matches!(e, Event::Message { .. })).count(), 2);
//! assert!(carol.transcript().iter().all(|e| e.plaintext != b"carol is out"));
//!
//! // 6. Persist and restore: every `Output` carried alice's new state; say
//! //    her app stored the last one (here: the same bytes, `to_bytes`), and
//! //    she crashes. She restores it and carries on where she was.
//! let stored = alice.to_bytes();
//! drop(alice);
//! let mut alice = Group::from_bytes(stored.expose_secret())?;
//! assert_eq!(alice.transcript().len(), 3);
//! let out = alice.send(b"back online", 6_000, &mut rng, &mut keys)?;
//! let events = run(alice.me(), out.packets, 6_000, &mut [&mut bob, &mut dave], &mut rng, &mut keys);
//! assert_eq!(events.iter().filter(|e| matches!(e, Event::Message { .. })).count(), 2);
//! // Never restore an older state than the one whose packets went out
//! // (it would reuse sequence numbers): store state and packets in one
//! // transaction, as `Output` hands them over.
//! # Ok::<(), sgm::messaging::Error>(())
//! ```

/// What an application names, without clashes: the façade's types (its
/// `Config` is the group's configuration, its `Error` the façade's error)
/// and the OS random source. Layer types with the same short names
/// (`sgm::acb::Config`, `sgm::dcgka::Config`, `sgm::sim::Config`, the
/// layers' `Outgoing`s) stay under their modules: `use sgm::prelude::*;`
/// never brings two of them in.
///
/// ```
/// use sgm::prelude::*;
/// let (group, invite, prekeys) = Group::new(UserId::from("alice"), Config::default(), 8, &mut OsRng);
/// let mut keys = KeyServer::new();
/// keys.publish(invite.member_id(), prekeys);
/// assert!(!group.is_member());
/// ```
pub mod prelude {
    pub use sgm_crypto::OsRng;
    pub use sgm_messaging::{
        Config, CredentialValidator, Destination, Error, Event, ExpectedWelcome, Group, GroupId,
        Invite, KeyServer, MemberId, NotForMe, Output, Packet, PacketKind, PrekeyDirectory, Result,
        TranscriptEntry, UniqueUserNames, UserId, Warning,
    };
}

pub use sgm_2sm as two_sm;
pub use sgm_acb as acb;
pub use sgm_crypto as crypto;
pub use sgm_dcgka as dcgka;
pub use sgm_dgm as dgm;
pub use sgm_messaging as messaging;
pub use sgm_mpenc as mpenc;
pub use sgm_sender_keys as sender_keys;
pub use sgm_sim as sim;
