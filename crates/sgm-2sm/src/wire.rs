//! The wire format: hand-written prost structures and their strict decoding.
//!
//! ```text
//! Message  { 1: version u32 (= 2), 2: header bytes, 3: enc bytes(32), 4: ciphertext bytes }
//! Header   { 1: sender bytes(16), 2: recipient bytes(16), 3: seq u64,
//!            4: key_kind u32, 5: key_index u64, 6: spk_id u64, 7: opk_id u64 }
//! Payload  { 1: plaintext bytes, 3: sender_new_public bytes(32),
//!            4: sender_new_index u64,
//!            5: first_contact FirstContactProof (only in first-contact messages) }
//! FirstContactProof { 1: initiator_identity bytes(32), 2: signature bytes(64) }
//! PrekeyInner { 1: enc bytes(32), 2: ciphertext bytes }
//! ```
//!
//! The HPKE associated data is the whole header, sender and recipient
//! included; the wire carries the header *without* them (fields 1 and 2
//! empty, so absent), because every receiver knows both already: the
//! session names the peer, and the transport says who sent the message and
//! who it is for. A message moved to another recipient or claimed by
//! another sender therefore fails authentication. The payload is the HPKE
//! plaintext; the key pair the sender makes for the recipient does not
//! travel (version 1 carried its secret key): both sides derive it from the
//! HPKE context's exporter (`RECEIVER_KEY_EXPORT`). `docs/2sm.md` describes
//! every field.

use core::fmt;

use prost::Message as _;
use sgm_crypto::{HPKE_ENC_LEN, HpkeCiphertext, MemberId, X25519PublicKey};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Result, TwoSmError};

/// The wire and storage format version this implementation writes and reads.
pub const VERSION: u32 = 2;

/// `key_kind`: a first-contact message, sealed to the recipient's signed
/// prekey and one-time prekey.
pub(crate) const KIND_PREKEYS: u32 = 1;
/// `key_kind`: sealed to a key pair the *sender* generated and whose secret
/// it gave the recipient in its previous message.
pub(crate) const KIND_SENDER_GENERATED: u32 = 2;
/// `key_kind`: sealed to the recipient's own key pair with index `key_index`,
/// whose public key the recipient announced earlier.
pub(crate) const KIND_RECEIVER_ANNOUNCED: u32 = 3;

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WireMessage {
    #[prost(uint32, tag = "1")]
    pub(crate) version: u32,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) header: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) enc: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub(crate) ciphertext: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WireHeader {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) sender: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) recipient: Vec<u8>,
    #[prost(uint64, tag = "3")]
    pub(crate) seq: u64,
    #[prost(uint32, tag = "4")]
    pub(crate) key_kind: u32,
    #[prost(uint64, tag = "5")]
    pub(crate) key_index: u64,
    #[prost(uint64, tag = "6")]
    pub(crate) spk_id: u64,
    #[prost(uint64, tag = "7")]
    pub(crate) opk_id: u64,
}

/// The encrypted payload. Carries a secret key, so it is zeroized on drop and
/// its `Debug` is redacted.
#[derive(Clone, PartialEq, prost::Message, Zeroize, ZeroizeOnDrop)]
#[prost(skip_debug)]
pub(crate) struct Payload {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) plaintext: Vec<u8>,
    // Tag 2 carried the recipient's new secret key in version 1.
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) sender_new_public: Vec<u8>,
    #[prost(uint64, tag = "4")]
    pub(crate) sender_new_index: u64,
    #[prost(message, optional, tag = "5")]
    pub(crate) first_contact: Option<FirstContactProof>,
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Payload([redacted])")
    }
}

#[derive(Clone, PartialEq, prost::Message, Zeroize)]
pub(crate) struct FirstContactProof {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) initiator_identity: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) signature: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PrekeyInner {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) enc: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) ciphertext: Vec<u8>,
}

/// Which of the recipient's keys a message is sealed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// First contact: the recipient's signed prekey and one-time prekey.
    Prekeys { spk_id: u64, opk_id: u64 },
    /// The key pair the sender generated and handed over in its last message.
    SenderGenerated,
    /// The recipient's own announced key pair with this index (>= 1).
    ReceiverAnnounced { index: u64 },
}

/// A decoded, checked header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) sender: MemberId,
    pub(crate) recipient: MemberId,
    pub(crate) seq: u64,
    pub(crate) key: KeyRef,
}

impl Header {
    /// The associated data: the whole header, both member ids included.
    pub(crate) fn associated_data(&self) -> Vec<u8> {
        self.wire(true).encode_to_vec()
    }

    /// What travels: the header without the member ids.
    fn on_wire(&self) -> Vec<u8> {
        self.wire(false).encode_to_vec()
    }

    fn wire(&self, with_ids: bool) -> WireHeader {
        let (key_kind, key_index, spk_id, opk_id) = match self.key {
            KeyRef::Prekeys { spk_id, opk_id } => (KIND_PREKEYS, 0, spk_id, opk_id),
            KeyRef::SenderGenerated => (KIND_SENDER_GENERATED, 0, 0, 0),
            KeyRef::ReceiverAnnounced { index } => (KIND_RECEIVER_ANNOUNCED, index, 0, 0),
        };
        let id = |m: &MemberId| {
            if with_ids {
                m.as_bytes().to_vec()
            } else {
                Vec::new()
            }
        };
        WireHeader {
            sender: id(&self.sender),
            recipient: id(&self.recipient),
            seq: self.seq,
            key_kind,
            key_index,
            spk_id,
            opk_id,
        }
    }

    /// Decodes the header as it travels; `sender` and `recipient` come from
    /// the receiver's context and are authenticated with the ciphertext.
    fn decode(bytes: &[u8], sender: MemberId, recipient: MemberId) -> Result<Self> {
        let w = WireHeader::decode(bytes).map_err(|_| malformed("header"))?;
        if !w.sender.is_empty() || !w.recipient.is_empty() {
            return Err(malformed("header: member ids travel implied"));
        }
        let key = match (w.key_kind, w.key_index, w.spk_id, w.opk_id) {
            (KIND_PREKEYS, 0, spk_id, opk_id) => KeyRef::Prekeys { spk_id, opk_id },
            (KIND_SENDER_GENERATED, 0, 0, 0) => KeyRef::SenderGenerated,
            (KIND_RECEIVER_ANNOUNCED, index, 0, 0) if index >= 1 => {
                KeyRef::ReceiverAnnounced { index }
            }
            _ => return Err(malformed("header.key_kind")),
        };
        Ok(Self {
            sender,
            recipient,
            seq: w.seq,
            key,
        })
    }
}

/// A decoded message whose header is parsed but whose ciphertext is not yet
/// opened: nothing in it is authentic yet.
#[derive(Clone, Debug)]
pub(crate) struct UnverifiedMessage {
    pub(crate) header: Header,
    /// The HPKE associated data: the header with both member ids.
    pub(crate) associated_data: Vec<u8>,
    pub(crate) sealed: HpkeCiphertext,
}

impl UnverifiedMessage {
    /// Decodes wire bytes of a message that claims to come from `sender` and
    /// to be for `recipient` (the ids the associated data must hold). Never
    /// panics; any defect is a typed error. Strict: the header and the
    /// message must be in canonical encoding.
    pub(crate) fn decode(bytes: &[u8], sender: MemberId, recipient: MemberId) -> Result<Self> {
        let w = WireMessage::decode(bytes).map_err(|_| malformed("message"))?;
        if w.version != VERSION {
            return Err(TwoSmError::UnsupportedVersion {
                version: w.version,
                supported: VERSION,
            });
        }
        let header = Header::decode(&w.header, sender, recipient)?;
        if header.on_wire() != w.header || w.encode_to_vec() != bytes {
            return Err(malformed("message: not canonical"));
        }
        let enc = enc(&w.enc, "message.enc")?;
        Ok(Self {
            associated_data: header.associated_data(),
            header,
            sealed: HpkeCiphertext {
                enc,
                ciphertext: w.ciphertext,
            },
        })
    }
}

pub(crate) fn encode_message(header: &Header, sealed: HpkeCiphertext) -> Vec<u8> {
    WireMessage {
        version: VERSION,
        header: header.on_wire(),
        enc: sealed.enc.to_vec(),
        ciphertext: sealed.ciphertext,
    }
    .encode_to_vec()
}

pub(crate) fn malformed(what: &'static str) -> TwoSmError {
    TwoSmError::Malformed { what }
}

pub(crate) fn enc(bytes: &[u8], what: &'static str) -> Result<[u8; HPKE_ENC_LEN]> {
    bytes.try_into().map_err(|_| malformed(what))
}

pub(crate) fn array32(bytes: &[u8], what: &'static str) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|_| malformed(what))
}

/// Parses an X25519 public key and rejects low-order points, so that a bad
/// key fails the message that carries it rather than our next send.
pub(crate) fn public_key(bytes: &[u8], what: &'static str) -> Result<X25519PublicKey> {
    let pk = X25519PublicKey::from_bytes(array32(bytes, what)?);
    crate::keys::check_public_key(&pk, what)?;
    Ok(pk)
}
