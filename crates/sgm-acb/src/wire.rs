//! The envelope and its wire format (protobuf via prost derive, strict and
//! canonical decoding). The format is documented in `docs/acb.md`.
//!
//! ```text
//! envelope   = version (1 byte, = 2) || signature (64 bytes) || body
//! body       = see `body_codec` (fixed fields, LEB128 lengths)
//!
//! signature  = Ed25519(sender's key for seq, "sgm acb envelope v2" || Body)
//! MessageId  = SHA-256("sgm acb message id v1" || envelope bytes)
//! ```

use core::fmt;

use bytes::Bytes;

use sgm_crypto::{MEMBER_ID_LEN, MemberId, SIGNATURE_LEN, Signature, SigningKey, VerifyingKey};

use crate::body_codec::{Reader, put_len_prefixed, put_varint};
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
    /// With `new_signing_key`: the previous key's signature over
    /// [`rotation_statement`], so that the rotation can be proven without
    /// this envelope (a checkpoint carries it; docs/acb.md). Checked with
    /// the envelope's signature; [`SignedEnvelope::sign`] fills it in when
    /// absent.
    pub rotation_proof: Option<Signature>,
    /// A leaf is never named as a parent: delivering it leaves the DAG heads
    /// as they were. For messages nothing later depends on except its
    /// sender's next message (which follows it by `seq` anyway), such as
    /// DCGKA acknowledgments, which need no causal order among themselves
    /// (paper §8.1): after n members ack an operation, the next message
    /// names one parent instead of n.
    pub leaf: bool,
}

/// Domain label of a rotation proof ([`rotation_statement`]).
pub const ROTATION_LABEL: &[u8] = b"sgm acb key rotation v1";

/// What a rotation proof signs: `ROTATION_LABEL ‖ sender ‖ u64be(from_seq)
/// ‖ new key`, where `from_seq` is the first seq signed by the new key (the
/// announcing message's seq + 1).
pub fn rotation_statement(sender: &MemberId, from_seq: u64, new_key: &VerifyingKey) -> Vec<u8> {
    let mut m = Vec::with_capacity(ROTATION_LABEL.len() + MEMBER_ID_LEN + 8 + 32);
    m.extend_from_slice(ROTATION_LABEL);
    m.extend_from_slice(sender.as_bytes());
    m.extend_from_slice(&from_seq.to_be_bytes());
    m.extend_from_slice(new_key.as_bytes());
    m
}

/// `flags` byte: a new signing key and its rotation proof follow.
const FLAG_ROTATION: u8 = 1;
/// `flags` byte: the message is a leaf.
const FLAG_LEAF: u8 = 2;

/// Limits applied while decoding (from [`crate::AcbConfig`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DecodeLimits {
    pub(crate) max_message_bytes: usize,
    pub(crate) max_parents: usize,
    pub(crate) max_direct_parts: usize,
}

impl Envelope {
    /// The canonical body bytes (what the signature covers, after the label).
    pub fn encode_body(&self) -> Vec<u8> {
        let direct_len: usize = self.direct.iter().map(|d| 20 + d.body.len()).sum();
        let mut out = Vec::with_capacity(
            MEMBER_ID_LEN + 24 + 32 * self.parents.len() + self.payload.len() + direct_len + 33,
        );
        out.extend_from_slice(self.sender.as_bytes());
        put_varint(&mut out, self.seq);
        put_varint(&mut out, self.parents.len() as u64);
        for p in &self.parents {
            out.extend_from_slice(p.as_bytes());
        }
        put_len_prefixed(&mut out, &self.payload);
        put_varint(&mut out, self.direct.len() as u64);
        for d in &self.direct {
            out.extend_from_slice(d.recipient.as_bytes());
            put_len_prefixed(&mut out, &d.body);
        }
        let mut flags = 0;
        if self.new_signing_key.is_some() {
            flags |= FLAG_ROTATION;
        }
        if self.leaf {
            flags |= FLAG_LEAF;
        }
        out.push(flags);
        if let Some(k) = &self.new_signing_key {
            out.extend_from_slice(k.as_bytes());
            // A missing proof encodes as zeros (an envelope built by hand and
            // not signed with `SignedEnvelope::sign`); it never verifies.
            let proof = self.rotation_proof.map(|p| p.to_bytes());
            out.extend_from_slice(&proof.unwrap_or([0; SIGNATURE_LEN]));
        }
        out
    }

    /// Parses a body; checks every bound and ordering. Canonical by
    /// construction (see `body_codec`).
    fn decode_body(bytes: &[u8], limits: DecodeLimits) -> Result<Self, Malformed> {
        let mut r = Reader::new(bytes);
        let sender = MemberId::from_bytes(r.array::<MEMBER_ID_LEN>()?);
        let seq = r.varint()?;
        if seq == 0 {
            return Err(Malformed::ZeroSeq);
        }
        let count = r.count(MESSAGE_ID_LEN)?;
        if count > limits.max_parents {
            return Err(Malformed::TooManyParents {
                count,
                max: limits.max_parents,
            });
        }
        let mut parents: Vec<MessageId> = Vec::with_capacity(count);
        for _ in 0..count {
            let id = MessageId::from_bytes(r.array::<MESSAGE_ID_LEN>()?);
            if parents.last().is_some_and(|last| *last >= id) {
                return Err(Malformed::ParentsNotAscending);
            }
            parents.push(id);
        }
        let payload = r.len_prefixed()?.to_vec();
        // A part is at least its recipient and a one-byte length.
        let count = r.count(MEMBER_ID_LEN + 1)?;
        if count > limits.max_direct_parts {
            return Err(Malformed::TooManyDirectParts {
                count,
                max: limits.max_direct_parts,
            });
        }
        let mut direct: Vec<DirectPart> = Vec::with_capacity(count);
        for _ in 0..count {
            let recipient = MemberId::from_bytes(r.array::<MEMBER_ID_LEN>()?);
            if direct
                .last()
                .is_some_and(|last| last.recipient >= recipient)
            {
                return Err(Malformed::RecipientsNotAscending);
            }
            let body = r.len_prefixed()?.to_vec();
            direct.push(DirectPart { recipient, body });
        }
        let flags = r.byte()?;
        if flags & !(FLAG_ROTATION | FLAG_LEAF) != 0 {
            return Err(Malformed::NotCanonical);
        }
        let (new_signing_key, rotation_proof) = if flags & FLAG_ROTATION != 0 {
            let key = VerifyingKey::from_slice(&r.array::<32>()?)
                .map_err(|_| Malformed::NewSigningKey)?;
            let proof = Signature::from_bytes(r.array::<SIGNATURE_LEN>()?);
            (Some(key), Some(proof))
        } else {
            (None, None)
        };
        r.finish()?;
        Ok(Self {
            sender,
            seq,
            parents,
            payload,
            direct,
            new_signing_key,
            rotation_proof,
            leaf: flags & FLAG_LEAF != 0,
        })
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
    /// Shared: the store, the buffer and re-sends hold the received
    /// allocation itself, not a copy.
    bytes: Bytes,
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
    pub fn sign(mut envelope: Envelope, key: &SigningKey) -> Self {
        if let (Some(new), None) = (&envelope.new_signing_key, &envelope.rotation_proof) {
            let from_seq = envelope.seq.saturating_add(1);
            envelope.rotation_proof =
                Some(key.sign(&rotation_statement(&envelope.sender, from_seq, new)));
        }
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
            bytes: Bytes::from(bytes),
            id,
        }
    }

    /// Decodes with the default limits of [`crate::AcbConfig`].
    pub fn decode(bytes: &[u8]) -> Result<Self, AcbError> {
        Self::decode_shared(Bytes::copy_from_slice(bytes))
    }

    /// [`SignedEnvelope::decode`] without copying: the envelope keeps (a
    /// reference to) `bytes`.
    pub fn decode_shared(bytes: Bytes) -> Result<Self, AcbError> {
        Self::decode_with(bytes, crate::AcbConfig::default().decode_limits())
    }

    /// Strict decoding: every field well-formed, the encoding canonical
    /// (re-encoding gives the same bytes, so unknown fields, trailing bytes
    /// and non-minimal encodings are rejected). Never panics.
    pub(crate) fn decode_with(bytes: Bytes, limits: DecodeLimits) -> Result<Self, AcbError> {
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
        let envelope = Envelope::decode_body(body_bytes, limits).map_err(AcbError::Malformed)?;
        let id = MessageId::of_envelope(&bytes);
        Ok(Self {
            envelope,
            signature,
            bytes,
            id,
        })
    }

    /// Checks the signature under `key`, and a rotation's proof under the
    /// same (old) key.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        // Decoding is canonical, so the body as received is the body signed.
        let body = self.bytes.get(HEADER_LEN..).unwrap_or_default();
        if key.verify(&signed_message(body), &self.signature).is_err() {
            return false;
        }
        let env = &self.envelope;
        match (&env.new_signing_key, &env.rotation_proof) {
            (None, None) => true,
            (Some(new), Some(proof)) => {
                let from_seq = env.seq.saturating_add(1);
                key.verify(&rotation_statement(&env.sender, from_seq, new), proof)
                    .is_ok()
            }
            _ => false,
        }
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

    /// The encoded envelope, shared (a reference count, not a copy).
    pub fn shared_bytes(&self) -> Bytes {
        self.bytes.clone()
    }

    pub(crate) fn bytes_shared_ref(&self) -> &Bytes {
        &self.bytes
    }

    pub(crate) fn into_parts(self) -> (Envelope, Bytes) {
        (self.envelope, self.bytes)
    }
}
