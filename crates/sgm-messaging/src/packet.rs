//! Packets: what the façade hands the application to transmit.
//!
//! ```text
//! packet  = version (1 byte, = 1) ‖ group id (16) ‖ kind (1 byte) ‖ body
//! kind 1  broadcast : body = one ACB envelope (signed; its payload is a PayloadPb)
//! kind 2  welcome   : body = WelcomePb { 1: recipient (16), 2: repeated Card (every card
//!                                        accepted before the add, named by the add's digest),
//!                                        3: repeated envelope (history, causal order),
//!                                        4: ACB checkpoint (absent for a create) }
//! kind 3  sync      : body = SyncPb { 1: requester (16), 2: repeated { 1: member, 2: seq },
//!                                     3: stamp, 4: signature (64); see `sync.rs` }
//! kind 4  resend    : body = BatchPb { 1: repeated envelope }
//! kind 5  fetch     : body = FetchPb { 1: requester (16), 2: repeated id (32) } (src/fetch.rs)
//!
//! PayloadPb (signed by ACB) { 1: group id, 2: DCGKA control message,
//!   3: repeated Card { 1: user (string), 2: identity key (32), 3: signature (64) },
//!   4: DCGKA application message, 5: ack (bool),
//!   6: welcome digest (32, on a create or an add: SHA-256("sgm messaging
//!      welcome v2" ‖ u64be(len checkpoint) ‖ checkpoint ‖ u64be(n) ‖
//!      n × (u64be(len card) ‖ card)), over the welcome's checkpoint and cards) }
//!   exactly one of 2, 4, 5; 3 and 6 only with 2; a card is a member's own
//!   signed card (credential.rs): a create carries its members', an add
//!   the added member's, nothing else does
//! direct part for member M = M's DCGKA direct message
//! AppBodyPb (inside the encryption, padded) { 1: repeated transcript parent (32), 2: text }
//! ```
//!
//! Every protobuf body is decoded strictly: re-encoding must give the same
//! bytes.

use bytes::Bytes;
use prost::Message;
use sgm_crypto::{MEMBER_ID_LEN, MemberId, VerifyingKey};

use crate::error::{Error, Result};
use crate::ids::{GROUP_ID_LEN, GroupId, Invite, UserId};

/// Version byte of every packet.
pub const PACKET_VERSION: u8 = 1;
/// Largest packet accepted.
pub const MAX_PACKET: usize = 64 << 20;

/// Who a packet is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Every listed member (the group's current members, and members
    /// removed by this packet so they learn of it). The sender is never
    /// listed.
    Members(Vec<MemberId>),
    /// One member.
    Member(MemberId),
}

/// What a packet carries (for traffic accounting; not secret: a network
/// observer can tell these apart by size and destination anyway).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum PacketKind {
    /// A key-agreement control message (create, add, remove, update, ack).
    Control,
    /// An application message.
    Application,
    /// A delivery acknowledgment.
    Ack,
    /// The welcome for a new member (history and member keys).
    Welcome,
    /// A request for missing messages.
    Sync,
    /// Re-sent messages.
    Resend,
}

impl PacketKind {
    /// A short name.
    pub fn name(&self) -> &'static str {
        match self {
            PacketKind::Control => "control",
            PacketKind::Application => "application",
            PacketKind::Ack => "ack",
            PacketKind::Welcome => "welcome",
            PacketKind::Sync => "sync",
            PacketKind::Resend => "resend",
        }
    }
}

/// A packet to transmit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Its recipients.
    pub to: Destination,
    /// What it carries.
    pub kind: PacketKind,
    /// The bytes to send.
    pub bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Broadcast = 1,
    Welcome = 2,
    Sync = 3,
    Resend = 4,
    Fetch = 5,
}

pub(crate) fn frame(group: &GroupId, kind: Kind, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + GROUP_ID_LEN + body.len());
    out.push(PACKET_VERSION);
    out.extend_from_slice(&group.0);
    out.push(kind as u8);
    out.extend_from_slice(body);
    out
}

pub(crate) fn unframe(bytes: &[u8]) -> Result<(GroupId, Kind, &[u8])> {
    if bytes.len() > MAX_PACKET {
        return Err(Error::Malformed("packet too large"));
    }
    let (&version, rest) = bytes.split_first().ok_or(Error::Malformed("empty"))?;
    if version != PACKET_VERSION {
        return Err(Error::UnsupportedVersion(version));
    }
    let (group, rest) = rest
        .split_first_chunk::<GROUP_ID_LEN>()
        .ok_or(Error::Malformed("header"))?;
    let (&kind, body) = rest.split_first().ok_or(Error::Malformed("header"))?;
    let kind = match kind {
        1 => Kind::Broadcast,
        2 => Kind::Welcome,
        3 => Kind::Sync,
        4 => Kind::Resend,
        5 => Kind::Fetch,
        _ => return Err(Error::Malformed("packet kind")),
    };
    Ok((GroupId(*group), kind, body))
}

/// [`unframe`] of a shared buffer: the body is a slice of it, not a copy.
pub(crate) fn unframe_shared(bytes: &Bytes) -> Result<(GroupId, Kind, Bytes)> {
    let (gid, kind, body) = unframe(bytes)?;
    let start = bytes.len() - body.len();
    Ok((gid, kind, bytes.slice(start..)))
}

/// [`strict`] decoding from a shared buffer: `bytes` fields of type
/// [`Bytes`] are slices of it (prost copies nothing for them).
fn strict_shared<M: Message + Default>(bytes: &Bytes, what: &'static str) -> Result<M> {
    let m = M::decode(bytes.clone()).map_err(|_| Error::Malformed(what))?;
    if m.encode_to_vec() != bytes.as_ref() {
        return Err(Error::Malformed(what));
    }
    Ok(m)
}

fn strict<M: Message + Default>(bytes: &[u8], what: &'static str) -> Result<M> {
    let m = M::decode(bytes).map_err(|_| Error::Malformed(what))?;
    if m.encode_to_vec() != bytes {
        return Err(Error::Malformed(what));
    }
    Ok(m)
}

pub(crate) fn member(bytes: &[u8]) -> Result<MemberId> {
    if bytes.len() != MEMBER_ID_LEN {
        return Err(Error::Malformed("member id"));
    }
    MemberId::from_slice(bytes).map_err(|_| Error::Malformed("member id"))
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct CardPb {
    #[prost(string, tag = "1")]
    pub(crate) user: String,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) identity: Vec<u8>,
    /// The identity key's signature over the card (`credential.rs`).
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) signature: Vec<u8>,
}

impl CardPb {
    pub(crate) fn of(invite: &Invite) -> Self {
        Self {
            user: invite.user.0.clone(),
            identity: invite.identity.as_bytes().to_vec(),
            signature: invite.signature().to_vec(),
        }
    }

    pub(crate) fn decode_strict(bytes: &[u8]) -> Result<Self> {
        strict(bytes, "card")
    }

    /// The card, its signature checked ([`Error::BadCard`]).
    pub(crate) fn invite(&self) -> Result<Invite> {
        let card = self.parse()?;
        card.verify()?;
        Ok(card)
    }

    /// The card, its signature **not** checked yet (a control payload's
    /// cards are checked only once the operation is known to introduce
    /// them: `Group::admit_cards`).
    pub(crate) fn parse(&self) -> Result<Invite> {
        let identity = VerifyingKey::from_slice(&self.identity)
            .map_err(|_| Error::Malformed("identity key"))?;
        let signature = <[u8; sgm_crypto::SIGNATURE_LEN]>::try_from(self.signature.as_slice())
            .map_err(|_| Error::Malformed("card signature"))?;
        Ok(Invite::from_parts(
            UserId(self.user.clone()),
            identity,
            signature,
        ))
    }
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct PayloadPb {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) group: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) control: Vec<u8>,
    #[prost(message, repeated, tag = "3")]
    pub(crate) cards: Vec<CardPb>,
    #[prost(bytes = "vec", tag = "4")]
    pub(crate) app: Vec<u8>,
    #[prost(bool, tag = "5")]
    pub(crate) ack: bool,
    /// On a create or an add: the digest of the welcome it sends
    /// ([`crate::credential::welcome_digest`] of the checkpoint and the
    /// cards), so the signed operation vouches for what the unsigned
    /// welcome carries.
    #[prost(bytes = "vec", tag = "6")]
    pub(crate) checkpoint: Vec<u8>,
}

/// The decoded payload of a broadcast.
pub(crate) enum Payload {
    Control {
        control: Vec<u8>,
        cards: Vec<Invite>,
        /// The welcome digest (creates and adds only).
        welcome: Option<[u8; 32]>,
    },
    App(Vec<u8>),
    Ack,
}

impl Payload {
    pub(crate) fn encode(&self, group: &GroupId) -> Vec<u8> {
        let mut pb = PayloadPb {
            group: group.0.to_vec(),
            ..PayloadPb::default()
        };
        match self {
            Payload::Control {
                control,
                cards,
                welcome,
            } => {
                pb.control = control.clone();
                pb.cards = cards.iter().map(CardPb::of).collect();
                pb.checkpoint = welcome.map(|d| d.to_vec()).unwrap_or_default();
            }
            Payload::App(a) => pb.app = a.clone(),
            Payload::Ack => pb.ack = true,
        }
        pb.encode_to_vec()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<(GroupId, Self)> {
        let pb: PayloadPb = strict(bytes, "payload")?;
        let group: [u8; GROUP_ID_LEN] = pb
            .group
            .as_slice()
            .try_into()
            .map_err(|_| Error::Malformed("payload group"))?;
        let n = usize::from(!pb.control.is_empty())
            + usize::from(!pb.app.is_empty())
            + usize::from(pb.ack);
        if n != 1 || (pb.control.is_empty() && !(pb.cards.is_empty() && pb.checkpoint.is_empty())) {
            return Err(Error::Malformed("payload kind"));
        }
        let payload = if !pb.control.is_empty() {
            let welcome = match pb.checkpoint.len() {
                0 => None,
                _ => Some(
                    <[u8; 32]>::try_from(pb.checkpoint.as_slice())
                        .map_err(|_| Error::Malformed("welcome digest"))?,
                ),
            };
            Payload::Control {
                cards: pb.cards.iter().map(CardPb::parse).collect::<Result<_>>()?,
                control: pb.control,
                welcome,
            }
        } else if !pb.app.is_empty() {
            Payload::App(pb.app)
        } else {
            Payload::Ack
        };
        Ok((GroupId(group), payload))
    }
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct AppBodyPb {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub(crate) parents: Vec<Vec<u8>>,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) text: Vec<u8>,
}

impl AppBodyPb {
    pub(crate) fn decode_strict(bytes: &[u8]) -> Result<Self> {
        strict(bytes, "application body")
    }
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct WelcomePb {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) recipient: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) cards: Vec<CardPb>,
    #[prost(bytes = "bytes", repeated, tag = "3")]
    pub(crate) history: Vec<Bytes>,
    /// The adder's ACB checkpoint just before the add (empty in a
    /// create's welcome); `history` then starts at the add.
    #[prost(bytes = "bytes", tag = "4")]
    pub(crate) checkpoint: Bytes,
}

impl WelcomePb {
    pub(crate) fn decode_strict(bytes: &Bytes) -> Result<Self> {
        strict_shared(bytes, "welcome")
    }
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct SeqPb {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) member: Vec<u8>,
    #[prost(uint64, tag = "2")]
    pub(crate) seq: u64,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct SyncPb {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) from: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) seqs: Vec<SeqPb>,
    /// The requester's stamp, strictly increasing (see `sync.rs`).
    #[prost(uint64, tag = "3")]
    pub(crate) at: u64,
    /// Ed25519 by the requester's identity key (see `sync.rs`).
    #[prost(bytes = "vec", tag = "4")]
    pub(crate) signature: Vec<u8>,
}

impl SyncPb {
    pub(crate) fn decode_strict(bytes: &[u8]) -> Result<Self> {
        strict(bytes, "sync")
    }
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct BatchPb {
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub(crate) envelopes: Vec<Bytes>,
}

impl BatchPb {
    pub(crate) fn decode_strict(bytes: &Bytes) -> Result<Self> {
        strict_shared(bytes, "resend batch")
    }
}
