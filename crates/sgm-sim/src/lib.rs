//! # sgm-sim: a deterministic network simulator
//!
//! A seeded discrete-event network for testing and measuring group messaging
//! protocols: per-link latency and jitter (which reorders packets), loss,
//! duplication, partitions that split and heal, members that go offline and
//! come back, and an optional untrusted store-and-forward relay (the
//! "server-side fan-out" of Sender Keys deployments, trusted for nothing but
//! availability). It counts packets and bytes per node and per packet kind.
//!
//! The simulator carries opaque bytes and knows no protocol; it depends on
//! no other sgm crate. Same seed, same calls → same deliveries, byte for
//! byte, at the same simulated millisecond.
//!
//! ## Model
//! - Time is virtual (milliseconds); nothing sleeps.
//! - A packet's fate is decided when it is put on a link: lost with the
//!   link's loss probability, duplicated with its duplication probability,
//!   delayed by latency + uniform jitter. Partitions are checked when a
//!   packet is sent; packets already in flight when a partition starts
//!   still arrive.
//! - Without a relay, a packet for an offline node is dropped; the protocol
//!   must recover (for example by re-sending missing messages).
//! - With a relay, every packet goes sender → relay → recipients; the relay
//!   stores packets for recipients that are offline or cut off from it and
//!   hands them over when they come back or the partition heals.
//!
//! ## Example
//! ```
//! use sgm_sim::{LinkConfig, SimConfig, Simulator};
//!
//! let mut config = SimConfig::new(42);
//! config.default_link = LinkConfig::ideal(10);
//! let mut sim = Simulator::new(config);
//! let (a, b, c) = (sim.add_node(), sim.add_node(), sim.add_node());
//!
//! sim.partition(&[&[a, b], &[c]])?;
//! sim.broadcast(a, &[b, c], "chat", b"hello".to_vec())?;
//! let first = sim.next_delivery().expect("b is reachable");
//! assert_eq!((first.to, first.at), (b, 10));
//! assert!(sim.next_delivery().is_none(), "c is on the other side");
//! assert_eq!(sim.network_stats().partitioned, 1);
//! # Ok::<(), sgm_sim::SimError>(())
//! ```

mod config;
mod simulator;
mod stats;

pub use config::{LinkConfig, PPM, SimConfig};
pub use simulator::{Delivery, NodeId, SimError, Simulator};
pub use stats::{Counter, NetworkStats, NodeStats};
