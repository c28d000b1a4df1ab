//! Thin glue to sgm-acb (paper §5.1): one signed envelope per outgoing
//! batch, signing-key rotation on every PCS update and removal.
//!
//! DCGKA itself does not depend on this module: [`crate::Dcgka::process`]
//! takes `(sender, control, my direct message)`, the paper's model. This
//! module only packs and unpacks:
//!
//! ```text
//! ACB envelope
//!   payload     = Bundle { 1: control repeated bytes (ControlMessage),
//!                          2: application bytes (ApplicationMessage, optional) }
//!   direct part = DirectBundle { 1: parts repeated { 1: index u32, 2: bytes (DirectMessage) } }
//!                 (one per recipient; `index` is the control message it rides with;
//!                 each DirectMessage without its recipient, which the part names)
//! ```
//!
//! Several control messages travel in one envelope (ack coalescing, §8.1):
//! held-back acks and the new operation share one signature. Acks need not
//! be causally ordered among themselves (§8.1): DCGKA only requires each
//! sender's control messages in order, an ack after the message it
//! acknowledges and a message after the DGM ops its `parents` name, and
//! checks exactly those. ACB's hash-linked DAG delivers causally anyway;
//! what the layering gains from §8.1 is that coalesced acks add no envelope,
//! no signature and no causal metadata of their own.

use prost::Message;
use sgm_acb::{Acb, Delivered, DirectPart};
use sgm_crypto::{CryptoRng, SigningKey};

use crate::error::{DcgkaError, Result};
use crate::messages::{ControlKind, ControlMessage, DirectMessage};
use crate::output::{Outgoing, ProcessOutput};
use crate::state::Dcgka;
use crate::two_party::PrekeyDirectory;
use crate::wire;

#[derive(Clone, PartialEq, Message)]
struct BundlePb {
    #[prost(bytes = "vec", repeated, tag = "1")]
    control: Vec<Vec<u8>>,
    #[prost(bytes = "vec", tag = "2")]
    application: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct DirectBundlePb {
    #[prost(message, repeated, tag = "1")]
    parts: Vec<DirectPartPb>,
}

#[derive(Clone, PartialEq, Message)]
struct DirectPartPb {
    #[prost(uint32, tag = "1")]
    index: u32,
    #[prost(bytes = "vec", tag = "2")]
    body: Vec<u8>,
}

/// Signs `outgoing` control messages (and an optional application message)
/// as one ACB envelope. If the batch contains an update or remove, a fresh
/// signing key drawn from `rng` is announced with it (§5.1); the new key
/// is returned so the caller can persist it.
pub fn seal(
    acb: &mut Acb,
    outgoing: &[Outgoing],
    application: Option<&[u8]>,
    rng: &mut impl CryptoRng,
) -> Result<(sgm_acb::Outgoing, Option<SigningKey>)> {
    let rotate = outgoing.iter().any(|o| {
        matches!(
            o.control.kind,
            ControlKind::Update | ControlKind::Remove { .. }
        )
    });
    let new_key = rotate.then(|| SigningKey::generate(rng));
    let payload = wire::encode(&BundlePb {
        control: outgoing.iter().map(|o| o.control.to_bytes()).collect(),
        application: application.map(<[u8]>::to_vec).unwrap_or_default(),
    });
    let mut parts: std::collections::BTreeMap<_, DirectBundlePb> = Default::default();
    for (i, o) in outgoing.iter().enumerate() {
        let index = u32::try_from(i).map_err(|_| DcgkaError::Malformed("bundle too large"))?;
        for d in &o.direct {
            parts
                .entry(d.recipient)
                .or_default()
                .parts
                .push(DirectPartPb {
                    index,
                    body: d.to_addressed_bytes(),
                });
        }
    }
    let direct = parts
        .into_iter()
        .map(|(recipient, b)| DirectPart {
            recipient,
            body: wire::encode(&b),
        })
        .collect();
    if let Some(k) = &new_key {
        acb.rotate_signing_key(k.clone());
    }
    let out = acb.broadcast(payload, direct)?;
    Ok((out, new_key))
}

/// What one delivered envelope gave.
#[derive(Debug, Default)]
pub struct Opened {
    /// One result per control message, in order.
    pub processed: Vec<ProcessOutput>,
    /// The application message, if any (decrypt it with
    /// [`Dcgka::decrypt`] after the control messages were processed).
    pub application: Option<Vec<u8>>,
}

/// Processes a delivered envelope: every control message in it, in order,
/// with this member's direct message for each. Transactional as a whole.
pub fn open(
    dcgka: &mut Dcgka,
    delivered: &Delivered,
    rng: &mut impl CryptoRng,
    directory: &mut dyn PrekeyDirectory,
) -> Result<Opened> {
    let bundle: BundlePb = wire::decode(&delivered.payload, "bundle")?;
    let mut mine: Vec<Option<DirectMessage>> = vec![None; bundle.control.len()];
    if let Some(part) = &delivered.my_part {
        let b: DirectBundlePb = wire::decode(part, "direct bundle")?;
        for p in b.parts {
            let slot = mine
                .get_mut(p.index as usize)
                .ok_or(DcgkaError::Malformed("direct bundle index"))?;
            if slot.is_some() {
                return Err(DcgkaError::Malformed("direct bundle index repeated"));
            }
            *slot = Some(DirectMessage::from_addressed_bytes(&p.body, dcgka.me)?);
        }
    }
    dcgka.transact(|s| {
        let mut processed = Vec::with_capacity(bundle.control.len());
        for (c, d) in bundle.control.iter().zip(&mine) {
            let control = ControlMessage::from_bytes(c)?;
            processed.push(s.process(delivered.sender, &control, d.as_ref(), rng, directory)?);
        }
        Ok(Opened {
            processed,
            application: (!bundle.application.is_empty()).then(|| bundle.application.clone()),
        })
    })
}
