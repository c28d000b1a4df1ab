//! Application messages through the message ratchets.

use sgm_crypto::{MemberId, SecretBytes};

use crate::error::{DcgkaError, Result};
use crate::output::Outgoing;
use crate::ratchet::ApplicationMessage;
use crate::state::Dcgka;

/// An encrypted application message and any held-back acks that must be
/// delivered before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Acks held back by ack coalescing (send first, same envelope).
    pub control: Vec<Outgoing>,
    /// The encoded [`ApplicationMessage`].
    pub message: Vec<u8>,
}

impl Dcgka {
    /// Encrypts an application message with this member's current update
    /// secret; `aad` is authenticated, not encrypted.
    pub fn encrypt(&mut self, plaintext: &[u8], aad: &[u8]) -> Result<Sealed> {
        if !self.in_group() {
            return Err(DcgkaError::NoGroup);
        }
        // Only the sending chain changes: advance a copy, then commit.
        let mut sending = self.sending.clone().ok_or(DcgkaError::NoGroup)?;
        let message = sending.encrypt(&self.me, aad, plaintext)?.to_bytes();
        self.sending = Some(sending);
        Ok(Sealed {
            control: self.take_pending(),
            message,
        })
    }

    /// Decrypts an application message from `sender`. Errors say whether to
    /// wait ([`DcgkaError::EpochNotYetKnown`]) or give up.
    pub fn decrypt(
        &mut self,
        sender: &MemberId,
        message: &[u8],
        aad: &[u8],
    ) -> Result<SecretBytes> {
        if *sender == self.me {
            return Err(DcgkaError::OwnMessage);
        }
        let msg = ApplicationMessage::from_bytes(message)?;
        let config = self.config.ratchet;
        let known = self.last_seq.get(sender).copied();
        if !self.receiving.contains_key(sender) && self.ratchet_dropped(sender) {
            // Its removal settled and its ratchet is gone (`causal.rs`).
            return Err(DcgkaError::SenderRemoved { sender: *sender });
        }
        let receiving = self.receiving.get_mut(sender);
        match receiving {
            Some(r) => r.decrypt(sender, &msg, aad, &config),
            None => Err(DcgkaError::EpochNotYetKnown {
                sender: *sender,
                epoch: msg.epoch,
                known,
            }),
        }
    }
}
