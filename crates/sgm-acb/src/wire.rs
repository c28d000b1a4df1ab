//! The envelope and its wire format (protobuf via prost derive, strict and
//! canonical decoding). The format is documented in `docs/acb.md`.
//!
//! ```text
//! envelope   = version (1 byte, = 2) || signature (64 bytes) || Body
//! Body       { 2: bytes sender (16), 3: uint64 seq (>= 1),
//!              4: repeated bytes parents (32 each, strictly ascending),
//!              5: bytes payload, 6: repeated DirectPart direct (strictly
//!              ascending by recipient), 7: bytes new_signing_key (0 or 32) }
//! DirectPart { 1: bytes recipient (16), 2: bytes body }
//!
//! signature  = Ed25519(sender's key for seq, "sgm acb envelope v2" || Body)
//! MessageId  = SHA-256("sgm acb message id v1" || envelope bytes)
//! ```

use core::fmt;

use prost::Message as _;
use sgm_crypto::{MemberId, Signature, SigningKey, VerifyingKey};

use crate::{AcbError, Malformed};

/// Version of the envelope format: the first byte of every envelope.
///
/// Version 1 framed body and signature as protobuf fields and repeated the
/// version inside the body; version 2 frames them by position (7 bytes less
/// per message, which an ack pays in full).
pub const WIRE_VERSION: u8 = 2;
/// Domain label prefixed to the body before signing. It names the version,
/// so a signature never verifies under another version's layout.
pub const SIGNATURE_LABEL: &[u8] = b"sgm acb envelope v2";
/// Bytes before the body: the version byte and the signature.
const HEADER_LEN: usize = 1 + sgm_crypto::SIGNATURE_LEN;
/// Domain label prefixed to the envelope bytes before hashing to an id.
pub const MESSAGE_ID_LABEL: &[u8] = b"sgm acb message id v1";
/// Length of a [`MessageId`].
pub const MESSAGE_ID_LEN: usize = 32;

/// The id of a message: `SHA-256("sgm acb message id v1" || envelope bytes)`.
///
/// Decoding is canonical and Ed25519 verification strict, so one message has
/// exactly one encoding and therefore one id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId([u8; MESSAGE_ID_LEN]);

impl MessageId {
    /// Wraps raw id bytes.
    pub fn from_bytes(bytes: [u8; MESSAGE_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The id of the envelope encoded as `envelope_bytes`.
    pub fn of_envelope(envelope_bytes: &[u8]) -> Self {
        Self(sgm_crypto::sha256(&[MESSAGE_ID_LABEL, envelope_bytes]))
    }

    /// The id bytes.
    pub fn as_bytes(&self) -> &[u8; MESSAGE_ID_LEN] {
        &self.0
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", hex::encode(&self.0[..6]))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// A part of a broadcast addressed to one recipient (the paper's direct
/// message). Everyone receives the bytes; only `recipient` is handed `body`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectPart {
    /// Who the part is for.
    pub recipient: MemberId,
    /// The part (typically a 2SM ciphertext; ACB does not encrypt it).
    pub body: Vec<u8>,
}

/// The signed fields of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The author.
    pub sender: MemberId,
    /// The author's sequence number: 1 for its first message, then +1.
    pub seq: u64,
    /// The author's DAG heads when it sent this message, strictly ascending.
    pub parents: Vec<MessageId>,
    /// The broadcast payload.
    pub payload: Vec<u8>,
    /// Per-recipient parts, strictly ascending by recipient.
    pub direct: Vec<DirectPart>,
    /// A signing-key rotation: messages with a higher `seq` must be signed by
    /// this key. This message itself is signed by the previous key.
    pub new_signing_key: Option<VerifyingKey>,
}

/// Limits applied while decoding (from [`crate::AcbConfig`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DecodeLimits {
    pub(crate) max_message_bytes: usize,
    pub(crate) max_parents: usize,
    pub(crate) max_direct_parts: usize,
}

// Tag 1 held the version in wire version 1; it is not reused.
#[derive(Clone, PartialEq, prost::Message)]
struct BodyWire {
    #[prost(bytes = "vec", tag = "2")]
    sender: Vec<u8>,
    #[prost(uint64, tag = "3")]
    seq: u64,
    #[prost(bytes = "vec", repeated, tag = "4")]
    parents: Vec<Vec<u8>>,
    #[prost(bytes = "vec", tag = "5")]
    payload: Vec<u8>,
    #[prost(message, repeated, tag = "6")]
    direct: Vec<DirectWire>,
    #[prost(bytes = "vec", tag = "7")]
    new_signing_key: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DirectWire {
    #[prost(bytes = "vec", tag = "1")]
    recipient: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    body: Vec<u8>,
}

impl Envelope {
    /// The canonical body bytes (what the signature covers, after the label).
    pub fn encode_body(&self) -> Vec<u8> {
        BodyWire {
            sender: self.sender.as_bytes().to_vec(),
            seq: self.seq,
            parents: self.parents.iter().map(|p| p.as_bytes().to_vec()).collect(),
            payload: self.payload.clone(),
            direct: self
                .direct
                .iter()
                .map(|d| DirectWire {
                    recipient: d.recipient.as_bytes().to_vec(),
                    body: d.body.clone(),
                })
                .collect(),
            new_signing_key: self
                .new_signing_key
                .map(|k| k.as_bytes().to_vec())
                .unwrap_or_default(),
        }
        .encode_to_vec()
    }

    /// The part addressed to `me`, if any.
    pub fn part_for(&self, me: &MemberId) -> Option<&[u8]> {
        self.direct
            .binary_search_by(|d| d.recipient.cmp(me))
            .ok()
            .and_then(|i| self.direct.get(i))
            .map(|d| d.body.as_slice())
    }
}

/// A decoded, signed envelope whose signature has **not** been checked yet
/// (verification needs the sender's key for `seq`, which only the ACB state
/// knows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedEnvelope {
    envelope: Envelope,
    signature: Signature,
    bytes: Vec<u8>,
    id: MessageId,
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_LABEL.len() + body.len());
    m.extend_from_slice(SIGNATURE_LABEL);
    m.extend_from_slice(body);
    m
}

impl SignedEnvelope {
    /// Signs `envelope` with `key` and encodes it. `parents` and `direct` must
    /// already be in canonical (strictly ascending) order.
    pub fn sign(envelope: Envelope, key: &SigningKey) -> Self {
        let body = envelope.encode_body();
        let signature = key.sign(&signed_message(&body));
        let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
        bytes.push(WIRE_VERSION);
        bytes.extend_from_slice(&signature.to_bytes());
        bytes.extend_from_slice(&body);
        let id = MessageId::of_envelope(&bytes);
        Self {
            envelope,
            signature,
            bytes,
            id,
        }
    }

    /// Decodes with the default limits of [`crate::AcbConfig`].
    pub fn decode(bytes: &[u8]) -> Result<Self, AcbError> {
        Self::decode_with(bytes, crate::AcbConfig::default().decode_limits())
    }

    /// Strict decoding: every field well-formed, the encoding canonical
    /// (re-encoding gives the same bytes, so unknown fields, trailing bytes
    /// and non-minimal encodings are rejected). Never panics.
    pub(crate) fn decode_with(bytes: &[u8], limits: DecodeLimits) -> Result<Self, AcbError> {
        if bytes.len() > limits.max_message_bytes {
            return Err(AcbError::TooLarge {
                size: bytes.len(),
                max: limits.max_message_bytes,
            });
        }
        let (&version, rest) = bytes
            .split_first()
            .ok_or(AcbError::Malformed(Malformed::Truncated))?;
        if version != WIRE_VERSION {
            return Err(AcbError::UnsupportedVersion {
                version: u32::from(version),
            });
        }
        let (signature, body_bytes) = rest
            .split_first_chunk::<{ sgm_crypto::SIGNATURE_LEN }>()
            .ok_or(AcbError::Malformed(Malformed::Truncated))?;
        let signature = Signature::from_bytes(*signature);
        let wire =
            BodyWire::decode(body_bytes).map_err(|_| AcbError::Malformed(Malformed::Protobuf))?;
        let sender = MemberId::from_slice(&wire.sender)
            .map_err(|_| AcbError::Malformed(Malformed::SenderLength))?;
        if wire.seq == 0 {
            return Err(AcbError::Malformed(Malformed::ZeroSeq));
        }
        if wire.parents.len() > limits.max_parents {
            return Err(AcbError::Malformed(Malformed::TooManyParents {
                count: wire.parents.len(),
                max: limits.max_parents,
            }));
        }
        let mut parents = Vec::with_capacity(wire.parents.len());
        for p in &wire.parents {
            let id =
                MessageId::from_slice(p).ok_or(AcbError::Malformed(Malformed::ParentLength))?;
            if parents.last().is_some_and(|last: &MessageId| *last >= id) {
                return Err(AcbError::Malformed(Malformed::ParentsNotAscending));
            }
            parents.push(id);
        }
        if wire.direct.len() > limits.max_direct_parts {
            return Err(AcbError::Malformed(Malformed::TooManyDirectParts {
                count: wire.direct.len(),
                max: limits.max_direct_parts,
            }));
        }
        let mut direct: Vec<DirectPart> = Vec::with_capacity(wire.direct.len());
        for d in wire.direct {
            let recipient = MemberId::from_slice(&d.recipient)
                .map_err(|_| AcbError::Malformed(Malformed::RecipientLength))?;
            if direct
                .last()
                .is_some_and(|last| last.recipient >= recipient)
            {
                return Err(AcbError::Malformed(Malformed::RecipientsNotAscending));
            }
            direct.push(DirectPart {
                recipient,
                body: d.body,
            });
        }
        let new_signing_key = match wire.new_signing_key.len() {
            0 => None,
            _ => Some(
                VerifyingKey::from_slice(&wire.new_signing_key)
                    .map_err(|_| AcbError::Malformed(Malformed::NewSigningKey))?,
            ),
        };
        let envelope = Envelope {
            sender,
            seq: wire.seq,
            parents,
            payload: wire.payload,
            direct,
            new_signing_key,
        };
        // Re-encoding must give the same body: this rejects unknown fields,
        // trailing bytes and non-minimal or reordered fields.
        if envelope.encode_body() != body_bytes {
            return Err(AcbError::Malformed(Malformed::NotCanonical));
        }
        Ok(Self {
            envelope,
            signature,
            bytes: bytes.to_vec(),
            id: MessageId::of_envelope(bytes),
        })
    }

    /// Checks the signature under `key`.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        // The body is re-encoded rather than kept: decoding checked that the
        // encoding is canonical, so this gives the signed bytes back.
        key.verify(
            &signed_message(&self.envelope.encode_body()),
            &self.signature,
        )
        .is_ok()
    }

    /// The signed fields.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The encoded envelope (what is sent, stored and hashed to the id).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The message id.
    pub fn id(&self) -> MessageId {
        self.id
    }

    pub(crate) fn into_parts(self) -> (Envelope, Vec<u8>) {
        (self.envelope, self.bytes)
    }
}
