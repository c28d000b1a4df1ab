//! Greeting packets (`encodeGreetMessage` / `decodeGreetMessage` of
//! `greet/greeter.js`): the CLIQUES and ASKE parts of one protocol step in
//! one signed packet.
//!
//! ```text
//! MESSAGE_SIGNATURE  Ed25519(ephemeral key, "greetmsgsig" ‖ everything below)
//! PROTOCOL_VERSION   0x01
//! MESSAGE_TYPE       0x02
//! GREET_TYPE         u16be (table in docs/mpenc.md)
//! SOURCE, DEST       member ids (DEST empty: broadcast)
//! MEMBER*            member ids in protocol order
//! INT_KEY*           CLIQUES intermediate keys (empty record: none)
//! NONCE*             ASKE nonces
//! PUB_KEY*           ephemeral Ed25519 public keys
//! [PREV_PF CHAIN_HASH LATEST_PM*]   greeting metadata (initial packets)
//! [SESSION_SIGNATURE]               ASKE acknowledgement
//! [SIGNING_KEY]                     published ephemeral signing key
//! ```

use sgm_crypto::{Signature, SigningKey, VerifyingKey};

use crate::codec::{self, GREET_MAGIC, TlvReader, message_type, tlv};
use crate::{Id, MAX_MEMBERS, MpencError};

/// Greet types (`GREET_TYPE`): bit 0 auxiliary, bit 1 downflow, bit 2 GKA
/// (CLIQUES), bit 3 SKE (ASKE), bits 4-6 operation, bit 7 initiator.
pub mod greet_type {
    /// Start, initiator, upflow.
    pub const INIT_INITIATOR_UP: u16 = 0x009c;
    /// Start, participant, upflow.
    pub const INIT_PARTICIPANT_UP: u16 = 0x001c;
    /// Start, last participant, downflow.
    pub const INIT_PARTICIPANT_DOWN: u16 = 0x001e;
    /// Start, acknowledgement on the downflow.
    pub const INIT_PARTICIPANT_CONFIRM_DOWN: u16 = 0x001a;
    /// Include, initiator, upflow.
    pub const INCLUDE_AUX_INITIATOR_UP: u16 = 0x00ad;
    /// Include, participant, upflow.
    pub const INCLUDE_AUX_PARTICIPANT_UP: u16 = 0x002d;
    /// Include, last participant, downflow.
    pub const INCLUDE_AUX_PARTICIPANT_DOWN: u16 = 0x002f;
    /// Include, acknowledgement on the downflow.
    pub const INCLUDE_AUX_PARTICIPANT_CONFIRM_DOWN: u16 = 0x002b;
    /// Exclude, initiator, downflow.
    pub const EXCLUDE_AUX_INITIATOR_DOWN: u16 = 0x00bf;
    /// Exclude, acknowledgement on the downflow.
    pub const EXCLUDE_AUX_PARTICIPANT_CONFIRM_DOWN: u16 = 0x003b;
    /// Refresh, initiator, downflow.
    pub const REFRESH_AUX_INITIATOR_DOWN: u16 = 0x00c7;
    /// Quit.
    pub const QUIT_DOWN: u16 = 0x00d3;

    /// Every defined greet type.
    pub const ALL: [u16; 12] = [
        INIT_INITIATOR_UP,
        INIT_PARTICIPANT_UP,
        INIT_PARTICIPANT_DOWN,
        INIT_PARTICIPANT_CONFIRM_DOWN,
        INCLUDE_AUX_INITIATOR_UP,
        INCLUDE_AUX_PARTICIPANT_UP,
        INCLUDE_AUX_PARTICIPANT_DOWN,
        INCLUDE_AUX_PARTICIPANT_CONFIRM_DOWN,
        EXCLUDE_AUX_INITIATOR_DOWN,
        EXCLUDE_AUX_PARTICIPANT_CONFIRM_DOWN,
        REFRESH_AUX_INITIATOR_DOWN,
        QUIT_DOWN,
    ];

    /// Bit positions.
    pub const AUX_BIT: u16 = 1 << 0;
    /// Downflow bit.
    pub const DOWN_BIT: u16 = 1 << 1;
    /// CLIQUES part present.
    pub const GKA_BIT: u16 = 1 << 2;
    /// ASKE part present.
    pub const SKE_BIT: u16 = 1 << 3;
    /// Initiator bit.
    pub const INIT_BIT: u16 = 1 << 7;
    /// Operation (bits 4-6): 1 start, 2 include, 3 exclude, 4 refresh, 5 quit.
    pub fn operation(t: u16) -> u16 {
        (t >> 4) & 0x07
    }
}

/// Greeting metadata (`GreetingMetadata`), carried by initial packets: it
/// ties the proposal to the server order and the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreetingMetadata {
    /// Packet id of the previous final packet.
    pub prev_pf: Vec<u8>,
    /// Chain hash at the previous final packet.
    pub prev_ch: Vec<u8>,
    /// Latest transcript messages of the author (sorted bytewise).
    pub parents: Vec<Vec<u8>>,
}

/// A greeting packet's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreetMessage {
    /// One of [`greet_type::ALL`].
    pub greet_type: u16,
    /// Sender.
    pub source: Id,
    /// Receiver on the upflow; empty for a broadcast.
    pub dest: Id,
    /// Members in protocol order.
    pub members: Vec<Id>,
    /// CLIQUES intermediate keys (`None`: the empty record).
    pub int_keys: Vec<Option<[u8; 32]>>,
    /// ASKE nonces.
    pub nonces: Vec<[u8; 32]>,
    /// ASKE ephemeral public keys.
    pub pub_keys: Vec<[u8; 32]>,
    /// Metadata (initial packets only).
    pub metadata: Option<GreetingMetadata>,
    /// ASKE session acknowledgement.
    pub session_signature: Option<[u8; 64]>,
    /// A published ephemeral signing key (an Ed25519 seed, public by design).
    pub signing_key: Option<[u8; 32]>,
}

impl GreetMessage {
    /// The content without the signature record: what is signed.
    pub fn encode_unsigned(&self) -> Result<Vec<u8>, MpencError> {
        let mut out = Vec::new();
        codec::encode_standard_fields(&mut out, message_type::MPENC_GREET_MESSAGE);
        codec::encode_tlv(&mut out, tlv::GREET_TYPE, &self.greet_type.to_be_bytes())?;
        codec::encode_tlv(&mut out, tlv::SOURCE, &self.source)?;
        codec::encode_tlv(&mut out, tlv::DEST, &self.dest)?;
        for m in &self.members {
            codec::encode_tlv(&mut out, tlv::MEMBER, m)?;
        }
        for k in &self.int_keys {
            codec::encode_tlv(
                &mut out,
                tlv::INT_KEY,
                k.as_ref().map_or(&[][..], |k| &k[..]),
            )?;
        }
        for n in &self.nonces {
            codec::encode_tlv(&mut out, tlv::NONCE, n)?;
        }
        for p in &self.pub_keys {
            codec::encode_tlv(&mut out, tlv::PUB_KEY, p)?;
        }
        if let Some(md) = &self.metadata {
            codec::encode_tlv(&mut out, tlv::PREV_PF, &md.prev_pf)?;
            codec::encode_tlv(&mut out, tlv::CHAIN_HASH, &md.prev_ch)?;
            for p in &md.parents {
                codec::encode_tlv(&mut out, tlv::LATEST_PM, p)?;
            }
        }
        if let Some(s) = &self.session_signature {
            codec::encode_tlv(&mut out, tlv::SESSION_SIGNATURE, s)?;
        }
        if let Some(k) = &self.signing_key {
            codec::encode_tlv(&mut out, tlv::SIGNING_KEY, k)?;
        }
        Ok(out)
    }

    /// The signed content (`encodeGreetMessage`), signed with `key` (the
    /// sender's ephemeral key).
    pub fn encode(&self, key: &SigningKey) -> Result<Vec<u8>, MpencError> {
        let unsigned = self.encode_unsigned()?;
        let mut signed = Vec::with_capacity(GREET_MAGIC.len() + unsigned.len());
        signed.extend_from_slice(GREET_MAGIC);
        signed.extend_from_slice(&unsigned);
        let sig = key.sign(&signed).to_bytes();
        let mut out = Vec::with_capacity(68 + unsigned.len());
        codec::encode_tlv(&mut out, tlv::MESSAGE_SIGNATURE, &sig)?;
        out.extend_from_slice(&unsigned);
        Ok(out)
    }

    /// The wire form.
    pub fn encode_wire(&self, key: &SigningKey) -> Result<String, MpencError> {
        Ok(codec::encode_wire(&self.encode(key)?))
    }

    /// True when the packet carries a CLIQUES part.
    pub fn is_gka(&self) -> bool {
        self.greet_type & greet_type::GKA_BIT != 0
    }
    /// True when the packet carries an ASKE part.
    pub fn is_ske(&self) -> bool {
        self.greet_type & greet_type::SKE_BIT != 0
    }
    /// True on the downflow.
    pub fn is_downflow(&self) -> bool {
        self.greet_type & greet_type::DOWN_BIT != 0
    }
    /// True for auxiliary operations.
    pub fn is_auxiliary(&self) -> bool {
        self.greet_type & greet_type::AUX_BIT != 0
    }
}

/// A decoded greeting packet whose signature has not been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedGreet {
    message: GreetMessage,
    signature: [u8; 64],
    signed: Vec<u8>,
}

fn fixed<const N: usize>(v: &[u8], field: &'static str) -> Result<[u8; N], MpencError> {
    v.try_into().map_err(|_| MpencError::BadLength {
        field,
        expected: N,
        actual: v.len(),
    })
}

impl UnverifiedGreet {
    /// Decodes a greeting packet's content (`decodeGreetMessage` without the
    /// signature check). Strict: every field in order, exact lengths, no
    /// trailing bytes, bounded repetitions.
    pub fn decode(content: &[u8]) -> Result<Self, MpencError> {
        let mut r = TlvReader::new(content);
        let signature = fixed::<64>(r.pop(tlv::MESSAGE_SIGNATURE)?, "message signature")?;
        let unsigned = r.rest();
        r.pop_standard_fields(message_type::MPENC_GREET_MESSAGE)?;
        let gt = fixed::<2>(r.pop(tlv::GREET_TYPE)?, "greet type")?;
        let greet_type = u16::from_be_bytes(gt);
        if !greet_type::ALL.contains(&greet_type) {
            return Err(MpencError::GreetType(greet_type));
        }
        let source = r.pop(tlv::SOURCE)?.to_vec();
        let dest = r.pop(tlv::DEST)?.to_vec();
        let members = r.pop_all(tlv::MEMBER, MAX_MEMBERS, "members")?;
        let int_keys = r.pop_all(tlv::INT_KEY, MAX_MEMBERS, "intermediate keys")?;
        let nonces = r.pop_all(tlv::NONCE, MAX_MEMBERS, "nonces")?;
        let pub_keys = r.pop_all(tlv::PUB_KEY, MAX_MEMBERS, "public keys")?;
        let n = members.len();
        for (what, count) in [
            ("intermediate keys", int_keys.len()),
            ("nonces", nonces.len()),
            ("public keys", pub_keys.len()),
        ] {
            if count > n {
                return Err(MpencError::CountMismatch {
                    what,
                    count,
                    members: n,
                });
            }
        }
        let metadata = match r.pop_maybe(tlv::PREV_PF)? {
            None => None,
            Some(prev_pf) => {
                let prev_ch = r.pop(tlv::CHAIN_HASH)?.to_vec();
                let parents = r.pop_all(tlv::LATEST_PM, MAX_MEMBERS, "parents")?;
                Some(GreetingMetadata {
                    prev_pf: prev_pf.to_vec(),
                    prev_ch,
                    parents: parents.into_iter().map(<[u8]>::to_vec).collect(),
                })
            }
        };
        let session_signature = r
            .pop_maybe(tlv::SESSION_SIGNATURE)?
            .map(|v| fixed::<64>(v, "session signature"))
            .transpose()?;
        let signing_key = r
            .pop_maybe(tlv::SIGNING_KEY)?
            .map(|v| fixed::<32>(v, "signing key"))
            .transpose()?;
        r.finish()?;
        let message = GreetMessage {
            greet_type,
            source,
            dest,
            members: members.into_iter().map(<[u8]>::to_vec).collect(),
            int_keys: int_keys
                .into_iter()
                .map(|k| {
                    if k.is_empty() {
                        Ok(None)
                    } else {
                        fixed::<32>(k, "intermediate key").map(Some)
                    }
                })
                .collect::<Result<_, _>>()?,
            nonces: nonces
                .into_iter()
                .map(|v| fixed::<32>(v, "nonce"))
                .collect::<Result<_, _>>()?,
            pub_keys: pub_keys
                .into_iter()
                .map(|v| fixed::<32>(v, "public key"))
                .collect::<Result<_, _>>()?,
            metadata,
            session_signature,
            signing_key,
        };
        let mut signed = Vec::with_capacity(GREET_MAGIC.len() + unsigned.len());
        signed.extend_from_slice(GREET_MAGIC);
        signed.extend_from_slice(unsigned);
        Ok(Self {
            message,
            signature,
            signed,
        })
    }

    /// Decodes a wire packet.
    pub fn decode_wire(packet: &str) -> Result<Self, MpencError> {
        Self::decode(&codec::decode_wire_of_type(
            packet,
            message_type::MPENC_GREET_MESSAGE,
        )?)
    }

    /// The fields, for routing decisions only (not authenticated).
    pub fn peek(&self) -> &GreetMessage {
        &self.message
    }

    /// Checks the signature with `key`.
    pub fn verify(self, key: &VerifyingKey) -> Result<GreetMessage, MpencError> {
        key.verify(&self.signed, &Signature::from_bytes(self.signature))
            .map_err(|_| MpencError::BadSignature)?;
        Ok(self.message)
    }

    /// Checks the signature with the ephemeral key the packet itself lists
    /// for its source: what mpenc_js does when it has no key for the sender
    /// yet. The key is authenticated only later, by the ASKE acknowledgement.
    pub fn verify_self_claimed(self) -> Result<GreetMessage, MpencError> {
        let pos = self
            .message
            .members
            .iter()
            .position(|m| *m == self.message.source)
            .ok_or_else(|| MpencError::UnknownAuthor {
                member: crate::error::show(&self.message.source),
            })?;
        let key = self
            .message
            .pub_keys
            .get(pos)
            .ok_or_else(|| MpencError::UnknownAuthor {
                member: crate::error::show(&self.message.source),
            })?;
        let vk = VerifyingKey::from_bytes(key).map_err(|_| MpencError::BadSignature)?;
        self.verify(&vk)
    }
}
