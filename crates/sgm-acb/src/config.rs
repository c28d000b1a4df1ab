//! Configuration: every bound on memory that grows with input.

use crate::wire::DecodeLimits;

/// Bounds of the ACB layer. Every structure that grows with input has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcbConfig {
    /// Largest accepted envelope, in bytes.
    pub max_message_bytes: usize,
    /// Most parents one envelope may list. After a round of concurrent acks
    /// every member can be a head, so this must be at least the group size.
    pub max_parents: usize,
    /// Most direct parts one envelope may carry.
    pub max_direct_parts: usize,
    /// Most messages waiting for predecessors.
    pub buffer_max_count: usize,
    /// Most bytes (encoded envelopes) waiting for predecessors.
    pub buffer_max_bytes: usize,
    /// Most waiting messages from one sender.
    pub buffer_max_per_sender: usize,
    /// Most waiting messages from one sender whose signature could not be
    /// checked yet (signed by a key announced in a rotation not yet received).
    pub buffer_max_unverified_per_sender: usize,
    /// A waiting message is dropped (reported as [`crate::AcbEvent::Expired`])
    /// after this many further calls to `accept`/`receive`.
    pub buffer_max_age: u64,
    /// Most delivered messages kept for re-sending ([`crate::Acb::get`]).
    pub store_max_count: usize,
    /// Most bytes of delivered messages kept for re-sending.
    pub store_max_bytes: usize,
    /// How many rejected message ids are remembered, so that later messages
    /// naming them as parents are rejected at once.
    pub rejected_memory: usize,
}

impl Default for AcbConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 1 << 20,
            max_parents: 4096,
            max_direct_parts: 4096,
            buffer_max_count: 4096,
            buffer_max_bytes: 16 << 20,
            buffer_max_per_sender: 1024,
            buffer_max_unverified_per_sender: 64,
            buffer_max_age: 100_000,
            store_max_count: 4096,
            store_max_bytes: 16 << 20,
            rejected_memory: 1024,
        }
    }
}

impl AcbConfig {
    pub(crate) fn decode_limits(&self) -> DecodeLimits {
        DecodeLimits {
            max_message_bytes: self.max_message_bytes,
            max_parents: self.max_parents,
            max_direct_parts: self.max_direct_parts,
        }
    }
}
