//! Traffic counters.

use std::collections::BTreeMap;

/// Packets and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    /// Number of packets.
    pub packets: u64,
    /// Total payload bytes.
    pub bytes: u64,
}

impl Counter {
    pub(crate) fn add(&mut self, bytes: usize) {
        self.packets += 1;
        self.bytes += bytes as u64;
    }
}

/// What one node sent and received, in total and per packet kind.
///
/// A broadcast counts once on the sending side (as the DCGKA paper counts
/// traffic) and once per recipient on the receiving side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Everything sent.
    pub sent: Counter,
    /// Everything received.
    pub received: Counter,
    /// Sent, per kind.
    pub sent_by_kind: BTreeMap<&'static str, Counter>,
    /// Received, per kind.
    pub received_by_kind: BTreeMap<&'static str, Counter>,
}

impl NodeStats {
    pub(crate) fn record_sent(&mut self, kind: &'static str, bytes: usize) {
        self.sent.add(bytes);
        self.sent_by_kind.entry(kind).or_default().add(bytes);
    }

    pub(crate) fn record_received(&mut self, kind: &'static str, bytes: usize) {
        self.received.add(bytes);
        self.received_by_kind.entry(kind).or_default().add(bytes);
    }
}

/// Network-wide counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Copies lost to random loss.
    pub lost: u64,
    /// Copies dropped because a partition separated sender and receiver.
    pub partitioned: u64,
    /// Copies dropped because the receiver was offline (no relay).
    pub offline: u64,
    /// Extra copies made by duplication.
    pub duplicated: u64,
    /// Copies the relay stored for later.
    pub relay_stored: u64,
}
