//! Joining mid-history: a checkpoint of what has been delivered.
//!
//! A member added to a running group starts with an empty ACB, so every
//! message that names a pre-join parent would wait for ancestors it will
//! never receive. The adder therefore hands the new member a [`Checkpoint`]
//! (inside its authenticated, encrypted welcome): every sender's signing
//! keys and delivered sequence number, the ids delivered so far, and the
//! heads. The joiner treats all of it as delivered; messages concurrent with
//! the add are still received and delivered normally.
//!
//! The checkpoint holds no secrets, but it is trusted about history: a
//! joiner believes the adder about what was delivered, exactly as it
//! believes the adder's membership history in the DCGKA welcome. Deliver it
//! only over an authenticated channel. It is not trusted about keys: every
//! sender's key chain must start at the identity key its id is derived
//! from, and each rotation's proof must verify under the key before it
//! (issue 10 item 4; [`AcbError::BadKeyChain`]).

use prost::Message as _;
use sgm_crypto::{MemberId, SigningKey};

use crate::acb::SenderState;
use crate::state::{DeliveredWire, SenderWire, bad, msg_id};
use crate::wire::rotation_statement;
use crate::{Acb, AcbConfig, AcbError, ApiMisuse};

/// Checks that `st`'s keys are `sender`'s own: the first is the identity key
/// the id is derived from, valid from seq 1; each later one starts after the
/// one before (and no later than the seq after the last delivered, since the
/// message announcing it was delivered), and its proof verifies under the
/// key before it.
fn verify_chain(sender: &MemberId, st: &SenderState) -> Result<(), AcbError> {
    let bad_chain = || AcbError::BadKeyChain { sender: *sender };
    let (first, rest) = st.keys.split_first().ok_or_else(bad_chain)?;
    if first.from_seq != 1
        || first.proof.is_some()
        || MemberId::from_identity_key(&first.key) != *sender
    {
        return Err(bad_chain());
    }
    let mut prev = first;
    for k in rest {
        let proof = k.proof.as_ref().ok_or_else(bad_chain)?;
        let ordered =
            k.from_seq > prev.from_seq && k.from_seq <= st.delivered_seq.saturating_add(1);
        let statement = rotation_statement(sender, k.from_seq, &k.key);
        if !ordered || prev.key.verify(&statement, proof).is_err() {
            return Err(bad_chain());
        }
        prev = k;
    }
    Ok(())
}

/// Version of the checkpoint encoding.
pub const CHECKPOINT_VERSION: u32 = 1;

#[derive(Clone, PartialEq, prost::Message)]
struct CheckpointWire {
    #[prost(uint32, tag = "1")]
    version: u32,
    #[prost(message, repeated, tag = "2")]
    senders: Vec<SenderWire>,
    #[prost(message, repeated, tag = "3")]
    delivered: Vec<DeliveredWire>,
    #[prost(bytes = "vec", repeated, tag = "4")]
    heads: Vec<Vec<u8>>,
}

impl Acb {
    /// Encodes what a member joining now needs to treat as delivered: every
    /// known sender's keys and delivered seq, the delivered ids, the heads.
    /// Its size grows with the history (about 60 bytes per delivered
    /// message); see docs/acb.md on compaction.
    pub fn checkpoint(&self) -> Vec<u8> {
        CheckpointWire {
            version: CHECKPOINT_VERSION,
            senders: self.senders_wire(),
            delivered: self.delivered_wire(),
            heads: self.heads.iter().map(|h| h.as_bytes().to_vec()).collect(),
        }
        .encode_to_vec()
    }

    /// A fresh instance for a member joining mid-history, starting from the
    /// adder's [`Acb::checkpoint`]. The joiner's own key is registered from
    /// `signing_key`; everything in the checkpoint counts as delivered, and
    /// the joiner's first broadcast names the checkpoint's heads as parents.
    pub fn join(
        signing_key: SigningKey,
        config: AcbConfig,
        checkpoint: &[u8],
    ) -> Result<Self, AcbError> {
        let mut acb = Acb::new(signing_key, config);
        acb.adopt_checkpoint(checkpoint)?;
        Ok(acb)
    }

    /// [`Acb::join`] for an instance that already exists but has neither
    /// sent, received nor delivered anything yet (a member created before
    /// it knew the group). Senders registered before keep their state only
    /// if the checkpoint does not know them; the own sender state stays.
    /// On error nothing changed.
    pub fn adopt_checkpoint(&mut self, checkpoint: &[u8]) -> Result<(), AcbError> {
        // Own broadcasts are delivered to oneself, so this covers sending.
        if !self.delivered.is_empty() || self.buffer.len() > 0 {
            return Err(AcbError::Api(ApiMisuse::NotFresh));
        }
        let wire = CheckpointWire::decode(checkpoint).map_err(|_| bad("not a checkpoint"))?;
        if wire.version != CHECKPOINT_VERSION {
            return Err(bad("unsupported checkpoint version"));
        }
        // Built on a copy: a bad checkpoint leaves `self` as it was.
        let mut acb = self.clone();
        let me = acb.me;
        let own = acb.senders.get(&me).cloned();
        acb.load_senders(&wire.senders)?;
        // Keys are not the adder's to assert: each chain must be provable
        // from its sender's own signatures (issue 10 item 4).
        for (id, st) in &acb.senders {
            if *id != me {
                verify_chain(id, st)?;
            }
        }
        // The joiner's own sender state is its own, whatever the checkpoint says.
        if let Some(own) = own {
            acb.senders.insert(me, own);
        }
        acb.load_delivered(&wire.delivered)?;
        for h in &wire.heads {
            let id = msg_id(h)?;
            if !acb.delivered.contains_key(&id) {
                return Err(bad("checkpoint head not among its delivered ids"));
            }
            acb.heads.insert(id);
        }
        *self = acb;
        Ok(())
    }
}
