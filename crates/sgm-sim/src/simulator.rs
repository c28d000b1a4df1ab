//! The event queue and the network model.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

use crate::config::{LinkConfig, PPM, SimConfig};
use crate::stats::{NetworkStats, NodeStats};

/// A simulated participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// A packet arriving at a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Simulated time of arrival, in milliseconds.
    pub at: u64,
    /// The original sender (also when the packet came through the relay).
    pub from: NodeId,
    /// The receiving node.
    pub to: NodeId,
    /// The label given at send time, for traffic accounting.
    pub kind: &'static str,
    /// The packet: one shared allocation for every recipient of a
    /// broadcast (cloning it is a reference count).
    pub bytes: Bytes,
}

/// Errors from driving the simulator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The node id was never returned by [`Simulator::add_node`].
    #[error("unknown node {0:?}")]
    UnknownNode(NodeId),
    /// An offline node tried to send.
    #[error("node {0:?} is offline and cannot send")]
    Offline(NodeId),
}

/// Where a packet in flight is headed.
#[derive(Debug, Clone)]
enum Hop {
    /// Straight to a node.
    Direct(NodeId),
    /// Up to the relay, which then fans out to these recipients.
    ToRelay(Vec<NodeId>),
}

#[derive(Debug, Clone)]
struct InFlight {
    from: NodeId,
    hop: Hop,
    kind: &'static str,
    bytes: Bytes,
}

/// A packet the relay holds for a recipient it cannot reach yet.
#[derive(Debug, Clone)]
struct Stored {
    from: NodeId,
    kind: &'static str,
    bytes: Bytes,
}

#[derive(Debug, Clone)]
struct Node {
    online: bool,
    side: u32,
    stats: NodeStats,
}

/// A seeded, deterministic network: the same seed and the same calls give the
/// same deliveries at the same simulated times, byte for byte.
///
/// The simulator decides only *when* and *whether* bytes arrive; it never
/// looks inside them, so it can carry any protocol.
#[derive(Debug, Clone)]
pub struct Simulator {
    config: SimConfig,
    rng: ChaCha8Rng,
    now: u64,
    next_seq: u64,
    nodes: Vec<Node>,
    links: BTreeMap<(NodeId, NodeId), LinkConfig>,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    in_flight: BTreeMap<u64, InFlight>,
    /// The relay's mailbox per recipient, in arrival order.
    mailbox: BTreeMap<NodeId, Vec<Stored>>,
    relay_side: u32,
    network: NetworkStats,
    relay_stats: NodeStats,
}

impl Simulator {
    /// An empty network.
    pub fn new(config: SimConfig) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            now: 0,
            next_seq: 0,
            nodes: Vec::new(),
            links: BTreeMap::new(),
            queue: BinaryHeap::new(),
            in_flight: BTreeMap::new(),
            mailbox: BTreeMap::new(),
            relay_side: 0,
            network: NetworkStats::default(),
            relay_stats: NodeStats::default(),
        }
    }

    /// Adds an online node on the main side of any partition.
    pub fn add_node(&mut self) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(Node {
            online: true,
            side: 0,
            stats: NodeStats::default(),
        });
        id
    }

    /// All nodes, in the order they were added.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// Simulated time in milliseconds.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Overrides the behaviour of the directed link `from → to`.
    pub fn set_link(&mut self, from: NodeId, to: NodeId, link: LinkConfig) {
        self.links.insert((from, to), link);
    }

    fn node(&self, id: NodeId) -> Result<&Node, SimError> {
        self.nodes
            .get(id.0 as usize)
            .ok_or(SimError::UnknownNode(id))
    }

    fn node_mut(&mut self, id: NodeId) -> Result<&mut Node, SimError> {
        self.nodes
            .get_mut(id.0 as usize)
            .ok_or(SimError::UnknownNode(id))
    }

    /// Whether `node` is online.
    pub fn is_online(&self, node: NodeId) -> bool {
        self.node(node).map(|n| n.online).unwrap_or(false)
    }

    /// Takes a node offline or brings it back. Coming back, it receives what
    /// the relay stored for it (if there is a relay and it can reach it);
    /// without a relay it must catch up through its protocol's re-send.
    pub fn set_online(&mut self, node: NodeId, online: bool) -> Result<(), SimError> {
        self.node_mut(node)?.online = online;
        if online {
            self.flush_mailbox(node);
        }
        Ok(())
    }

    /// Splits the network: nodes in `sides[i]` can reach only nodes in the
    /// same side. Nodes not listed form one more side of their own. The relay
    /// (if any) sits on the first side. Packets already in flight still
    /// arrive.
    pub fn partition(&mut self, sides: &[&[NodeId]]) -> Result<(), SimError> {
        let unlisted = sides.len() as u32 + 1;
        for node in &mut self.nodes {
            node.side = unlisted;
        }
        for (i, side) in sides.iter().enumerate() {
            for &id in *side {
                self.node_mut(id)?.side = i as u32 + 1;
            }
        }
        self.relay_side = 1;
        Ok(())
    }

    /// Ends every partition and lets the relay deliver what it stored.
    pub fn heal(&mut self) {
        for node in &mut self.nodes {
            node.side = 0;
        }
        self.relay_side = 0;
        let waiting: Vec<NodeId> = self.mailbox.keys().copied().collect();
        for node in waiting {
            self.flush_mailbox(node);
        }
    }

    /// Whether `a` and `b` are on the same side of the current partition.
    pub fn connected(&self, a: NodeId, b: NodeId) -> bool {
        match (self.node(a), self.node(b)) {
            (Ok(x), Ok(y)) => x.side == y.side,
            _ => false,
        }
    }

    /// Sends `bytes` from one node to another.
    pub fn send(
        &mut self,
        from: NodeId,
        to: NodeId,
        kind: &'static str,
        bytes: Vec<u8>,
    ) -> Result<(), SimError> {
        self.broadcast(from, &[to], kind, bytes)
    }

    /// Sends one packet to several recipients. Traffic is counted once for
    /// the sender (a broadcast), once per copy for the recipients.
    pub fn broadcast(
        &mut self,
        from: NodeId,
        recipients: &[NodeId],
        kind: &'static str,
        bytes: Vec<u8>,
    ) -> Result<(), SimError> {
        if !self.node(from)?.online {
            return Err(SimError::Offline(from));
        }
        for &to in recipients {
            self.node(to)?;
        }
        let len = bytes.len();
        self.node_mut(from)?.stats.record_sent(kind, len);
        let bytes = Bytes::from(bytes);
        if self.config.relay {
            if self.node(from)?.side != self.relay_side {
                self.network.partitioned += 1;
                return Ok(());
            }
            let link = self.config.default_link;
            self.schedule(
                link,
                InFlight {
                    from,
                    hop: Hop::ToRelay(recipients.to_vec()),
                    kind,
                    bytes,
                },
            );
        } else {
            for &to in recipients {
                if !self.connected(from, to) {
                    self.network.partitioned += 1;
                    continue;
                }
                let link = self.link(from, to);
                self.schedule(
                    link,
                    InFlight {
                        from,
                        hop: Hop::Direct(to),
                        kind,
                        bytes: bytes.clone(),
                    },
                );
            }
        }
        Ok(())
    }

    fn link(&self, from: NodeId, to: NodeId) -> LinkConfig {
        self.links
            .get(&(from, to))
            .copied()
            .unwrap_or(self.config.default_link)
    }

    fn chance(&mut self, ppm: u32) -> bool {
        ppm > 0 && self.rng.next_u32() % PPM < ppm
    }

    fn delay(&mut self, link: LinkConfig) -> u64 {
        let jitter = if link.jitter_ms == 0 {
            0
        } else {
            self.rng.next_u64() % (link.jitter_ms + 1)
        };
        link.latency_ms + jitter
    }

    /// Puts one copy (or two, on duplication) on the wire, or loses it.
    fn schedule(&mut self, link: LinkConfig, packet: InFlight) {
        if self.chance(link.loss_ppm) {
            self.network.lost += 1;
            return;
        }
        if self.chance(link.duplicate_ppm) {
            self.network.duplicated += 1;
            let at = self.now + self.delay(link);
            self.enqueue(at, packet.clone());
        }
        let at = self.now + self.delay(link);
        self.enqueue(at, packet);
    }

    fn enqueue(&mut self, at: u64, packet: InFlight) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Reverse((at, seq)));
        self.in_flight.insert(seq, packet);
    }

    /// Number of packets on the wire (not counting the relay's mailboxes).
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Packets the relay holds for unreachable recipients.
    pub fn stored_at_relay(&self) -> usize {
        self.mailbox.values().map(Vec::len).sum()
    }

    /// The next packet to arrive anywhere, advancing the clock to its arrival.
    pub fn next_delivery(&mut self) -> Option<Delivery> {
        self.next_delivery_until(u64::MAX)
    }

    /// The next packet arriving no later than `deadline`; if there is none,
    /// the clock moves to `deadline` (when that is later) and `None` is
    /// returned. This is how timers and scripted actions interleave with
    /// traffic.
    pub fn next_delivery_until(&mut self, deadline: u64) -> Option<Delivery> {
        while let Some(&Reverse((at, seq))) = self.queue.peek() {
            if at > deadline {
                break;
            }
            self.queue.pop();
            self.now = self.now.max(at);
            let Some(packet) = self.in_flight.remove(&seq) else {
                continue;
            };
            match packet.hop {
                Hop::Direct(to) => {
                    if let Some(d) = self.arrive(to, packet.from, packet.kind, packet.bytes) {
                        return Some(d);
                    }
                }
                Hop::ToRelay(recipients) => {
                    self.relay_stats
                        .record_received(packet.kind, packet.bytes.len());
                    for to in recipients {
                        self.relay_forward(to, packet.from, packet.kind, packet.bytes.clone());
                    }
                }
            }
        }
        if deadline != u64::MAX {
            self.now = self.now.max(deadline);
        }
        None
    }

    fn arrive(
        &mut self,
        to: NodeId,
        from: NodeId,
        kind: &'static str,
        bytes: Bytes,
    ) -> Option<Delivery> {
        let online = self.is_online(to);
        if !online {
            if self.config.relay {
                self.store(to, from, kind, bytes);
            } else {
                self.network.offline += 1;
            }
            return None;
        }
        let node = self.node_mut(to).ok()?;
        node.stats.record_received(kind, bytes.len());
        Some(Delivery {
            at: self.now,
            from,
            to,
            kind,
            bytes,
        })
    }

    fn relay_forward(&mut self, to: NodeId, from: NodeId, kind: &'static str, bytes: Bytes) {
        let reachable = self
            .node(to)
            .map(|n| n.online && n.side == self.relay_side)
            .unwrap_or(false);
        if !reachable {
            self.store(to, from, kind, bytes);
            return;
        }
        self.relay_stats.record_sent(kind, bytes.len());
        let link = self.config.default_link;
        self.schedule(
            link,
            InFlight {
                from,
                hop: Hop::Direct(to),
                kind,
                bytes,
            },
        );
    }

    fn store(&mut self, to: NodeId, from: NodeId, kind: &'static str, bytes: Bytes) {
        self.network.relay_stored += 1;
        self.mailbox
            .entry(to)
            .or_default()
            .push(Stored { from, kind, bytes });
    }

    fn flush_mailbox(&mut self, node: NodeId) {
        let reachable = self
            .node(node)
            .map(|n| n.online && n.side == self.relay_side)
            .unwrap_or(false);
        if !reachable || !self.config.relay {
            return;
        }
        for stored in self.mailbox.remove(&node).unwrap_or_default() {
            self.relay_forward(node, stored.from, stored.kind, stored.bytes);
        }
    }

    /// Traffic counters of one node.
    pub fn stats(&self, node: NodeId) -> Option<&NodeStats> {
        self.nodes.get(node.0 as usize).map(|n| &n.stats)
    }

    /// What the relay received and forwarded.
    pub fn relay_stats(&self) -> &NodeStats {
        &self.relay_stats
    }

    /// Losses, drops and duplicates across the network.
    pub fn network_stats(&self) -> &NetworkStats {
        &self.network
    }
}
