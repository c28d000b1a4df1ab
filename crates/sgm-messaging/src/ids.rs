//! Identifiers: groups, users, and serde wrappers for the persisted book.

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sgm_acb::{MESSAGE_ID_LEN, MessageId};
use sgm_crypto::{MEMBER_ID_LEN, MemberId, Signature, VerifyingKey};

/// Length of a [`GroupId`].
pub const GROUP_ID_LEN: usize = 16;

/// A group's id: 16 random bytes chosen by its creator, carried in every
/// packet header and in every signed broadcast.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub [u8; GROUP_ID_LEN]);

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupId({})", hex::encode(&self.0[..6]))
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// As a hex string (the persisted book names a group it expects).
impl Serialize for GroupId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for GroupId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(GroupId(from_hex::<GROUP_ID_LEN, _>(&s)?))
    }
}

/// The application's name for a person (stable across re-adds). A user has
/// one member id per membership: removing and re-adding a user gives it a
/// fresh per-group identity key and therefore a fresh [`MemberId`] (DGM
/// requires every add to be unique). The façade keeps the mapping.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct UserId(pub String);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for UserId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// What a prospective member hands to whoever adds it (its "card"): its
/// user id and its fresh per-group identity key, signed by that key (see
/// `credential.rs` and docs/messaging.md, "Member cards"). Its prekeys go
/// to the key server ([`crate::PrekeyDirectory`]). Transmit it with
/// [`Invite::to_bytes`] / [`Invite::from_bytes`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Invite {
    /// The user.
    pub user: UserId,
    /// The per-group identity key; the member id is derived from it.
    pub identity: VerifyingKey,
    /// The identity key's signature over the user name and the key.
    pub(crate) signature: Signature,
}

impl Invite {
    /// The member id this invite stands for.
    pub fn member_id(&self) -> MemberId {
        MemberId::from_identity_key(&self.identity)
    }

    /// The card's encoding (`CardPb`, docs/messaging.md).
    pub fn to_bytes(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&crate::packet::CardPb::of(self))
    }

    /// Decodes (strictly) and verifies a card encoded by
    /// [`Invite::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> crate::Result<Self> {
        crate::packet::CardPb::decode_strict(bytes)?.invite()
    }
}

fn from_hex<const N: usize, E: serde::de::Error>(s: &str) -> Result<[u8; N], E> {
    let v = hex::decode(s).map_err(E::custom)?;
    v.try_into().map_err(|_| E::custom("wrong length"))
}

/// Serde wrapper for a member id (hex string).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(crate) struct Mid(pub(crate) MemberId);

impl Serialize for Mid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0.as_bytes()))
    }
}

impl<'de> Deserialize<'de> for Mid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Mid(MemberId::from_bytes(from_hex::<MEMBER_ID_LEN, _>(&s)?)))
    }
}

/// Serde wrapper for a message id (hex string).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(crate) struct Mix(pub(crate) MessageId);

impl Serialize for Mix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0.as_bytes()))
    }
}

impl<'de> Deserialize<'de> for Mix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Mix(MessageId::from_bytes(from_hex::<MESSAGE_ID_LEN, _>(
            &s,
        )?)))
    }
}

/// Serde wrapper for a verifying key (hex string).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Vk(pub(crate) VerifyingKey);

impl Serialize for Vk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0.as_bytes()))
    }
}

impl<'de> Deserialize<'de> for Vk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let b = from_hex::<32, _>(&s)?;
        VerifyingKey::from_bytes(&b)
            .map(Vk)
            .map_err(serde::de::Error::custom)
    }
}

/// Serde wrapper for bytes (hex string).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(crate) struct Hex(pub(crate) Vec<u8>);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map(Hex).map_err(serde::de::Error::custom)
    }
}

impl zeroize::Zeroize for Hex {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}
