//! An in-memory key server: enough for tests, demos and single-process
//! apps; a real app fetches bundles from wherever members publish them.

use std::collections::HashMap;

use sgm_2sm::{PrekeyBundle, PublishedPrekeys};
use sgm_crypto::MemberId;
use sgm_dcgka::PrekeyDirectory;

/// Published prekeys by member; each fetch hands out one one-time prekey.
#[derive(Clone, Debug, Default)]
pub struct KeyServer(HashMap<MemberId, PublishedPrekeys>);

impl KeyServer {
    /// An empty server.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes (or replaces) a member's prekeys.
    pub fn publish(&mut self, member: MemberId, prekeys: PublishedPrekeys) {
        self.0.insert(member, prekeys);
    }
}

impl PrekeyDirectory for KeyServer {
    fn fetch(&mut self, member: &MemberId) -> Option<PrekeyBundle> {
        self.0.get_mut(member)?.fetch().ok()
    }
}
