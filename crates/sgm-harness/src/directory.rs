//! The prekey server every adapter shares.

use std::collections::HashMap;

use sgm_2sm::{PrekeyBundle, PublishedPrekeys};
use sgm_crypto::MemberId;

/// The public prekeys of every member (one one-time prekey per fetch).
#[derive(Debug, Default, Clone)]
pub struct Directory(pub HashMap<MemberId, PublishedPrekeys>);

impl Directory {
    fn take(&mut self, m: &MemberId) -> Option<PrekeyBundle> {
        self.0.get_mut(m)?.fetch().ok()
    }
}

impl sgm_dcgka::PrekeyDirectory for Directory {
    fn fetch(&mut self, m: &MemberId) -> Option<PrekeyBundle> {
        self.take(m)
    }
}

impl sgm_sender_keys::PrekeyDirectory for Directory {
    fn fetch(&mut self, m: &MemberId) -> Option<PrekeyBundle> {
        self.take(m)
    }
}
