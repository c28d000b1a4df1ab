//! Thin glue to sgm-acb (paper §5.1): one signed envelope per outgoing
//! batch, signing-key rotation on every PCS update and removal.
//!
//! DCGKA itself does not depend on this module: [`crate::Dcgka::process`]
//! takes `(sender, control, my direct message)`, the paper's model. This
//! module only packs and unpacks:
//!
//! ```text
//! ACB envelope
//!   payload     = version (1) ‖ count ‖ count × (len ‖ ControlMessage)
//!                 ‖ ApplicationMessage (to the end; absent if none)
//!   direct part = version (1) ‖ count ‖ count × (index ‖ len ‖ DirectMessage)
//!                 (one part per recipient; `index`, strictly ascending, is the
//!                 control message it rides with; each DirectMessage in its
//!                 addressed form, without the recipient the part names)
//! ```
//! Integers are minimal LEB128; nothing may follow the last field.
//!
//! Several control messages travel in one envelope (ack coalescing, §8.1):
//! held-back acks and the new operation share one signature. Acks need not
//! be causally ordered among themselves (§8.1): DCGKA only requires each
//! sender's control messages in order, an ack after the message it
//! acknowledges and a message after the DGM ops its `parents` name (DGM
//! parents are membership ops, never acks), and checks exactly those. The
//! layering uses this twice: coalesced acks add no envelope, signature or
//! causal metadata of their own; and an envelope of acks only is an sgm-acb
//! *leaf*, which later envelopes do not name as a parent, so the n acks of
//! an operation do not become n parents of the next message.

use sgm_acb::{Acb, Delivered, DirectPart};
use sgm_crypto::{CryptoRng, SigningKey};

use crate::error::{DcgkaError, Result};
use crate::messages::{ControlKind, ControlMessage, DirectMessage};
use crate::output::{Outgoing, ProcessOutput};
use crate::state::Dcgka;
use crate::two_party::PrekeyDirectory;
use crate::wire;

/// What one envelope's payload carries.
struct Bundle<'a> {
    control: Vec<&'a [u8]>,
    application: &'a [u8],
}

impl<'a> Bundle<'a> {
    fn encode(control: &[Vec<u8>], application: &[u8]) -> Vec<u8> {
        let len: usize = control.iter().map(|c| c.len() + 3).sum();
        let mut out = Vec::with_capacity(4 + len + application.len());
        out.push(wire::WIRE_VERSION);
        wire::put_varint(&mut out, control.len() as u64);
        for c in control {
            wire::put_len_prefixed(&mut out, c);
        }
        out.extend_from_slice(application);
        out
    }

    fn decode(bytes: &'a [u8]) -> Result<Self> {
        const W: &str = "bundle";
        let mut rest = wire::versioned_body(bytes, W)?;
        let n = wire::take_count(&mut rest, W)?;
        let mut control = Vec::with_capacity(n);
        for _ in 0..n {
            control.push(wire::take_len_prefixed(&mut rest, W)?);
        }
        Ok(Self {
            control,
            application: rest,
        })
    }
}

/// Encodes one recipient's direct messages: `(control index, message)`,
/// ascending by index.
fn encode_direct_bundle(parts: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let len: usize = parts.iter().map(|(_, b)| b.len() + 6).sum();
    let mut out = Vec::with_capacity(4 + len);
    out.push(wire::WIRE_VERSION);
    wire::put_varint(&mut out, parts.len() as u64);
    for (index, body) in parts {
        wire::put_varint(&mut out, u64::from(*index));
        wire::put_len_prefixed(&mut out, body);
    }
    out
}

/// Decodes one recipient's direct messages into `slots` (one per control
/// message of the bundle).
fn decode_direct_bundle(
    bytes: &[u8],
    me: sgm_crypto::MemberId,
    slots: &mut [Option<DirectMessage>],
) -> Result<()> {
    const W: &str = "direct bundle";
    let mut rest = wire::versioned_body(bytes, W)?;
    let n = wire::take_count(&mut rest, W)?;
    let mut previous: Option<u64> = None;
    for _ in 0..n {
        let index = wire::take_varint(&mut rest, W)?;
        if previous.is_some_and(|p| p >= index) {
            return Err(DcgkaError::Malformed("direct bundle index not ascending"));
        }
        previous = Some(index);
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| slots.get_mut(i))
            .ok_or(DcgkaError::Malformed("direct bundle index"))?;
        let body = wire::take_len_prefixed(&mut rest, W)?;
        *slot = Some(DirectMessage::from_addressed_bytes(body, me)?);
    }
    if !rest.is_empty() {
        return Err(DcgkaError::Malformed(W));
    }
    Ok(())
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
    let control: Vec<Vec<u8>> = outgoing.iter().map(|o| o.control.to_bytes()).collect();
    let payload = Bundle::encode(&control, application.unwrap_or_default());
    let mut parts: std::collections::BTreeMap<_, Vec<(u32, Vec<u8>)>> = Default::default();
    for (i, o) in outgoing.iter().enumerate() {
        let index = u32::try_from(i).map_err(|_| DcgkaError::Malformed("bundle too large"))?;
        for d in &o.direct {
            parts
                .entry(d.recipient)
                .or_default()
                .push((index, d.to_addressed_bytes()));
        }
    }
    let direct = parts
        .into_iter()
        .map(|(recipient, b)| DirectPart {
            recipient,
            body: encode_direct_bundle(&b),
        })
        .collect();
    if let Some(k) = &new_key {
        acb.rotate_signing_key(k.clone());
    }
    // Acks need no causal order among themselves (§8.1): an envelope of
    // acks only is a leaf, so after n members ack an operation the next
    // envelope names the operation, not n acks.
    let acks_only = application.is_none()
        && !outgoing.is_empty()
        && outgoing
            .iter()
            .all(|o| o.control.kind.acknowledged().is_some());
    let out = if acks_only {
        acb.broadcast_leaf(payload, direct)?
    } else {
        acb.broadcast(payload, direct)?
    };
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
    let bundle = Bundle::decode(&delivered.payload)?;
    let mut mine: Vec<Option<DirectMessage>> = vec![None; bundle.control.len()];
    if let Some(part) = &delivered.my_part {
        decode_direct_bundle(part, dcgka.me, &mut mine)?;
    }
    dcgka.transact(|s| {
        let mut processed = Vec::with_capacity(bundle.control.len());
        for (c, d) in bundle.control.iter().zip(&mine) {
            let control = ControlMessage::from_bytes(c)?;
            processed.push(s.process(delivered.sender, &control, d.as_ref(), rng, directory)?);
        }
        Ok(Opened {
            processed,
            application: (!bundle.application.is_empty()).then(|| bundle.application.to_vec()),
        })
    })
}
