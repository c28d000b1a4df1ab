//! The mpENC wire codec (`codec.js` of mpenc_js).
//!
//! A packet's content is a sequence of TLV records, each `u16be type ‖
//! u16be length ‖ value`; on the wire it is `"?mpENC:" ‖ base64(content) ‖
//! "."` (standard alphabet, with padding: JavaScript's `btoa`). Signatures
//! cover a magic prefix and the content after the signature record:
//! `"greetmsgsig" ‖ content` for greeting packets, `"datamsgsig" ‖
//! H(sid ‖ group key) ‖ content` for data messages.
//!
//! Decoding is strict where mpenc_js is lenient (see docs/mpenc.md,
//! "Deviations"): a record that claims more bytes than remain is an error
//! (mpenc_js asserts), and every decoder rejects trailing bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::MpencError;

/// Protocol version byte (`version.js`).
pub const PROTOCOL_VERSION: u8 = 1;

/// Bound on a wire packet's length in characters: greeting packets of the
/// largest group we accept ([`crate::MAX_MEMBERS`] members, three 32-byte
/// values and an id each) and data messages (65535-byte plaintext) fit.
pub const MAX_PACKET_BYTES: usize = 512 * 1024;

/// Message types (`codec.MESSAGE_TYPE`).
pub mod message_type {
    /// Not an mpENC packet.
    pub const PLAIN: u8 = 0x00;
    /// Query (asks a peer to start mpENC).
    pub const MPENC_QUERY: u8 = 0x01;
    /// Greeting (key agreement) packet.
    pub const MPENC_GREET_MESSAGE: u8 = 0x02;
    /// Data message.
    pub const MPENC_DATA_MESSAGE: u8 = 0x03;
    /// Error message.
    pub const MPENC_ERROR: u8 = 0x04;
}

/// TLV record types (`codec.TLV_TYPE`).
pub mod tlv {
    /// Protocol version (1 byte).
    pub const PROTOCOL_VERSION: u16 = 0x0001;
    /// Message type (1 byte).
    pub const MESSAGE_TYPE: u16 = 0x0002;
    /// Ed25519 packet signature (64 bytes).
    pub const MESSAGE_SIGNATURE: u16 = 0x0003;
    /// Encrypted payload of a data message.
    pub const MESSAGE_PAYLOAD: u16 = 0x0010;
    /// Data message IV (12 bytes).
    pub const MESSAGE_IV: u16 = 0x0011;
    /// First byte of H(sid ‖ group key).
    pub const SIDKEY_HINT: u16 = 0x0012;
    /// Parent message id (inside the encrypted payload).
    pub const MESSAGE_PARENT: u16 = 0x0013;
    /// Message body (inside the encrypted payload).
    pub const MESSAGE_BODY: u16 = 0x0014;
    /// Source member id.
    pub const SOURCE: u16 = 0x0100;
    /// Destination member id (empty: broadcast).
    pub const DEST: u16 = 0x0101;
    /// One member id (repeated, in member order).
    pub const MEMBER: u16 = 0x0102;
    /// One CLIQUES intermediate key (repeated; empty: none yet).
    pub const INT_KEY: u16 = 0x0103;
    /// One ASKE nonce (repeated).
    pub const NONCE: u16 = 0x0104;
    /// One ephemeral Ed25519 public key (repeated).
    pub const PUB_KEY: u16 = 0x0105;
    /// ASKE session acknowledgement signature.
    pub const SESSION_SIGNATURE: u16 = 0x0106;
    /// A published ephemeral signing key (quit).
    pub const SIGNING_KEY: u16 = 0x0107;
    /// Greet type (2 bytes).
    pub const GREET_TYPE: u16 = 0x01ff;
    /// Error severity.
    pub const SEVERITY: u16 = 0x0201;
    /// Greeting metadata: packet id of the previous final packet.
    pub const PREV_PF: u16 = 0x0301;
    /// Greeting metadata: chain hash at the previous final packet.
    pub const CHAIN_HASH: u16 = 0x0302;
    /// Greeting metadata: one latest transcript message id (repeated).
    pub const LATEST_PM: u16 = 0x0303;
}

/// Signature magic of greeting packets.
pub const GREET_MAGIC: &[u8] = b"greetmsgsig";
/// Signature magic of data messages.
pub const DATA_MAGIC: &[u8] = b"datamsgsig";

const PREFIX: &str = "?mpENC";

/// Appends one TLV record.
pub fn encode_tlv(out: &mut Vec<u8>, tlv_type: u16, value: &[u8]) -> Result<(), MpencError> {
    let len =
        u16::try_from(value.len()).map_err(|_| crate::ApiMisuse::ValueTooLong(value.len()))?;
    out.extend_from_slice(&tlv_type.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    Ok(())
}

/// One decoded TLV record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Record type.
    pub tlv_type: u16,
    /// Record value.
    pub value: &'a [u8],
}

/// A cursor over TLV records, with the pop operations of `codec.js`.
#[derive(Debug, Clone)]
pub struct TlvReader<'a> {
    rest: &'a [u8],
}

impl<'a> TlvReader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The bytes not yet consumed.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// The next record and the bytes after it, without consuming it;
    /// `None` at the end.
    fn peek(&self) -> Result<Option<(Tlv<'a>, &'a [u8])>, MpencError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let header = self.rest.get(..4).ok_or(MpencError::Truncated {
            needed: 4,
            available: self.rest.len(),
        })?;
        let tlv_type = u16::from_be_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let end = 4 + len;
        let value = self.rest.get(4..end).ok_or(MpencError::Truncated {
            needed: end,
            available: self.rest.len(),
        })?;
        Ok(Some((Tlv { tlv_type, value }, &self.rest[end..])))
    }

    /// The next record, whatever its type.
    pub fn next_record(&mut self) -> Result<Option<Tlv<'a>>, MpencError> {
        Ok(self.peek()?.map(|(tlv, rest)| {
            self.rest = rest;
            tlv
        }))
    }

    /// The next record, which must have type `tlv_type` (`popTLV`).
    pub fn pop(&mut self, tlv_type: u16) -> Result<&'a [u8], MpencError> {
        match self.peek()? {
            None => Err(MpencError::MissingTlv(tlv_type)),
            Some((tlv, rest)) if tlv.tlv_type == tlv_type => {
                self.rest = rest;
                Ok(tlv.value)
            }
            Some((tlv, _)) => Err(MpencError::UnexpectedTlv {
                expected: tlv_type,
                found: tlv.tlv_type,
            }),
        }
    }

    /// The next record if it has type `tlv_type` (`popTLVMaybe`).
    pub fn pop_maybe(&mut self, tlv_type: u16) -> Result<Option<&'a [u8]>, MpencError> {
        match self.peek()? {
            Some((tlv, rest)) if tlv.tlv_type == tlv_type => {
                self.rest = rest;
                Ok(Some(tlv.value))
            }
            _ => Ok(None),
        }
    }

    /// All consecutive records of type `tlv_type` (`popTLVAll`), at most `max`.
    pub fn pop_all(
        &mut self,
        tlv_type: u16,
        max: usize,
        what: &'static str,
    ) -> Result<Vec<&'a [u8]>, MpencError> {
        let mut out = Vec::new();
        while let Some(v) = self.pop_maybe(tlv_type)? {
            if out.len() == max {
                return Err(MpencError::TooMany { what, max });
            }
            out.push(v);
        }
        Ok(out)
    }

    /// Pops a one-byte record of type `tlv_type`.
    pub fn pop_byte(&mut self, tlv_type: u16, field: &'static str) -> Result<u8, MpencError> {
        match self.pop(tlv_type)? {
            [b] => Ok(*b),
            v => Err(MpencError::BadLength {
                field,
                expected: 1,
                actual: v.len(),
            }),
        }
    }

    /// Pops protocol version and message type (`popStandardFields`).
    pub fn pop_standard_fields(&mut self, expected_type: u8) -> Result<(), MpencError> {
        let version = self.pop_byte(tlv::PROTOCOL_VERSION, "protocol version")?;
        if version != PROTOCOL_VERSION {
            return Err(MpencError::Version(version));
        }
        let found = self.pop_byte(tlv::MESSAGE_TYPE, "message type")?;
        if found != expected_type {
            return Err(MpencError::MessageType {
                expected: expected_type,
                found,
            });
        }
        Ok(())
    }

    /// Succeeds only if every byte was consumed.
    pub fn finish(self) -> Result<(), MpencError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(MpencError::TrailingBytes(self.rest.len()))
        }
    }
}

/// Splits `bytes` into its TLV records (the "TLV breakdown" of a packet).
pub fn decode_records(bytes: &[u8]) -> Result<Vec<Tlv<'_>>, MpencError> {
    let mut r = TlvReader::new(bytes);
    let mut out = Vec::new();
    while let Some(t) = r.next_record()? {
        out.push(t);
    }
    Ok(out)
}

/// Appends the standard fields (protocol version, message type).
pub(crate) fn encode_standard_fields(out: &mut Vec<u8>, message_type: u8) {
    out.extend_from_slice(&tlv::PROTOCOL_VERSION.to_be_bytes());
    out.extend_from_slice(&[0, 1, PROTOCOL_VERSION]);
    out.extend_from_slice(&tlv::MESSAGE_TYPE.to_be_bytes());
    out.extend_from_slice(&[0, 1, message_type]);
}

/// `"?mpENC:" ‖ base64(content) ‖ "."` (`encodeWirePacket`).
pub fn encode_wire(content: &[u8]) -> String {
    let mut s = String::with_capacity(PREFIX.len() + 2 + content.len().div_ceil(3) * 4);
    s.push_str(PREFIX);
    s.push(':');
    STANDARD.encode_string(content, &mut s);
    s.push('.');
    s
}

/// A packet received from the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WirePacket {
    /// Not mpENC: passed through as plain text.
    Plain(String),
    /// An mpENC packet: its message type and decoded content.
    Mpenc {
        /// The first MESSAGE_TYPE record's value.
        message_type: u8,
        /// The TLV content.
        content: Vec<u8>,
    },
}

/// Parses a wire packet (`decodeWirePacket`).
pub fn decode_wire(packet: &str) -> Result<WirePacket, MpencError> {
    if packet.len() > MAX_PACKET_BYTES {
        return Err(MpencError::PacketTooLarge(packet.len()));
    }
    let Some(body) = packet.strip_prefix(PREFIX) else {
        return Ok(WirePacket::Plain(packet.to_owned()));
    };
    let b64 = body
        .strip_prefix(':')
        .and_then(|b| b.strip_suffix('.'))
        .ok_or(MpencError::NotMpenc)?;
    let content = STANDARD.decode(b64).map_err(|_| MpencError::Base64)?;
    // The message type is the value of the first MESSAGE_TYPE record,
    // wherever it is (a data message starts with its SIDKEY hint and
    // signature, a greeting with its signature).
    let mut r = TlvReader::new(&content);
    let mut message_type = None;
    while let Some(t) = r.next_record()? {
        if t.tlv_type == tlv::MESSAGE_TYPE {
            message_type = t.value.first().copied();
            break;
        }
    }
    match message_type {
        Some(t) if t <= message_type::MPENC_ERROR => Ok(WirePacket::Mpenc {
            message_type: t,
            content,
        }),
        Some(t) => Err(MpencError::MessageType {
            expected: message_type::MPENC_GREET_MESSAGE,
            found: t,
        }),
        None => Err(MpencError::MissingTlv(tlv::MESSAGE_TYPE)),
    }
}

/// The content of a wire packet of `expected` type.
pub fn decode_wire_of_type(packet: &str, expected: u8) -> Result<Vec<u8>, MpencError> {
    match decode_wire(packet)? {
        WirePacket::Mpenc {
            message_type,
            content,
        } if message_type == expected => Ok(content),
        WirePacket::Mpenc { message_type, .. } => Err(MpencError::MessageType {
            expected,
            found: message_type,
        }),
        WirePacket::Plain(_) => Err(MpencError::NotMpenc),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tlv_round_trip_and_strictness() {
        let mut out = Vec::new();
        encode_tlv(&mut out, tlv::SOURCE, b"alice").unwrap();
        encode_tlv(&mut out, tlv::DEST, b"").unwrap();
        assert_eq!(hex::encode(&out), "01000005616c69636501010000");
        let mut r = TlvReader::new(&out);
        assert_eq!(r.pop(tlv::SOURCE).unwrap(), b"alice");
        assert_eq!(r.pop_maybe(tlv::MEMBER).unwrap(), None);
        assert_eq!(r.pop(tlv::DEST).unwrap(), b"");
        r.finish().unwrap();
        // Truncated: the record claims 5 bytes, 4 remain.
        assert_eq!(
            TlvReader::new(&out[..8]).pop(tlv::SOURCE),
            Err(MpencError::Truncated {
                needed: 9,
                available: 8
            })
        );
        assert_eq!(
            TlvReader::new(&out[..3]).pop(tlv::SOURCE),
            Err(MpencError::Truncated {
                needed: 4,
                available: 3
            })
        );
        assert!(encode_tlv(&mut out, 1, &vec![0; 65536]).is_err());
    }

    #[test]
    fn wire_form() {
        let mut c = Vec::new();
        encode_standard_fields(&mut c, message_type::MPENC_QUERY);
        let w = encode_wire(&c);
        assert_eq!(w, "?mpENC:AAEAAQEAAgABAQ==.");
        assert_eq!(
            decode_wire(&w).unwrap(),
            WirePacket::Mpenc {
                message_type: 1,
                content: c
            }
        );
        assert_eq!(
            decode_wire("hello").unwrap(),
            WirePacket::Plain("hello".into())
        );
        assert_eq!(
            decode_wire("?mpENC:AAEAAQEAAgABAQ=="),
            Err(MpencError::NotMpenc)
        );
        assert_eq!(decode_wire("?mpENC:!!.").unwrap_err(), MpencError::Base64);
    }
}
