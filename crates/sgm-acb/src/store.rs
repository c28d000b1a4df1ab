//! Bounded store of delivered messages, kept for re-sending.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use crate::MessageId;

/// Delivered envelopes by id, evicted first-in first-out when either bound
/// is reached. The bytes are shared with whoever else holds them (the
/// received packet, a copy of the state), so cloning the store is cheap.
#[derive(Clone, Debug, Default)]
pub(crate) struct Store {
    map: HashMap<MessageId, Bytes>,
    order: VecDeque<MessageId>,
    bytes: usize,
}

impl Store {
    pub(crate) fn insert(
        &mut self,
        id: MessageId,
        bytes: Bytes,
        max_count: usize,
        max_bytes: usize,
    ) {
        if max_count == 0 || bytes.len() > max_bytes || self.map.contains_key(&id) {
            return;
        }
        while self.map.len() >= max_count || self.bytes + bytes.len() > max_bytes {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(b) = self.map.remove(&old) {
                self.bytes -= b.len();
            }
        }
        self.bytes += bytes.len();
        self.order.push_back(id);
        self.map.insert(id, bytes);
    }

    pub(crate) fn get(&self, id: &MessageId) -> Option<&Bytes> {
        self.map.get(id)
    }

    /// Oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Bytes> {
        self.order.iter().filter_map(|id| self.get(id))
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
