//! What travels inside the pairwise (2SM) channel: membership control,
//! sender-key distributions, and (pairwise fan-out) application messages.
//!
//! ```text
//! payload = tag u8 ‖ distribution id [16] ‖ body
//!   0x01 Welcome      count u16 ‖ members [16 × count] ‖ key?      (create, add)
//!   0x02 Added        member [16]                                    (to existing members)
//!   0x03 Removed      member [16] ‖ key?                             (remover's new key)
//!   0x04 Update       key?                                           (PCS: rotate yours too)
//!   0x05 Key          distribution [89]                              (a member's sender key)
//!   0x06 Application  plaintext                                      (pairwise fan-out)
//! key? = 0x00 | 0x01 ‖ distribution [89]
//! ```
//! Members are listed in ascending order, each once; decoding is strict.

use sgm_crypto::{MEMBER_ID_LEN, MemberId, SecretBytes};

use crate::error::{Result, SenderKeysError};
use crate::wire::{DISTRIBUTION_ID_LEN, DISTRIBUTION_LEN, Distribution, DistributionId};

/// Most members a welcome lists (its count is a u16).
pub const MAX_MEMBERS: usize = u16::MAX as usize;

/// One pairwise payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// You are in the group with these members (you included).
    Welcome {
        /// The members, ascending.
        members: Vec<MemberId>,
        /// The sender's sender key (Sender Keys only).
        key: Option<Distribution>,
    },
    /// This member was added (send it your sender key).
    Added(MemberId),
    /// This member was removed (rotate your sender key).
    Removed {
        /// Who.
        member: MemberId,
        /// The remover's new sender key (Sender Keys only).
        key: Option<Distribution>,
    },
    /// A post-compromise-security update (rotate your sender key).
    Update(Option<Distribution>),
    /// A member's sender key.
    Key(Distribution),
    /// An application message (pairwise fan-out).
    Application(Vec<u8>),
}

/// A payload and its group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The group.
    pub group: DistributionId,
    /// The payload.
    pub payload: Payload,
}

fn put_key(out: &mut Vec<u8>, key: &Option<Distribution>) {
    match key {
        None => out.push(0),
        Some(d) => {
            out.push(1);
            out.extend_from_slice(d.to_bytes().expose_secret());
        }
    }
}

fn take_key(b: &[u8]) -> Result<Option<Distribution>> {
    match b.split_first() {
        Some((0, [])) => Ok(None),
        Some((1, rest)) => Ok(Some(Distribution::from_bytes(rest)?)),
        _ => Err(SenderKeysError::Malformed("optional key")),
    }
}

fn member(b: &[u8]) -> Result<MemberId> {
    MemberId::from_slice(b).map_err(|_| SenderKeysError::Malformed("member id"))
}

impl Envelope {
    /// Encodes (contains keys: send only encrypted).
    pub fn to_bytes(&self) -> SecretBytes {
        let mut out = Vec::with_capacity(1 + DISTRIBUTION_ID_LEN + 2 + DISTRIBUTION_LEN);
        let tag = match &self.payload {
            Payload::Welcome { .. } => 1,
            Payload::Added(_) => 2,
            Payload::Removed { .. } => 3,
            Payload::Update(_) => 4,
            Payload::Key(_) => 5,
            Payload::Application(_) => 6,
        };
        out.push(tag);
        out.extend_from_slice(&self.group);
        match &self.payload {
            Payload::Welcome { members, key } => {
                let count = u16::try_from(members.len()).unwrap_or(u16::MAX);
                out.extend_from_slice(&count.to_be_bytes());
                for m in members.iter().take(MAX_MEMBERS) {
                    out.extend_from_slice(m.as_bytes());
                }
                put_key(&mut out, key);
            }
            Payload::Added(m) => out.extend_from_slice(m.as_bytes()),
            Payload::Removed { member, key } => {
                out.extend_from_slice(member.as_bytes());
                put_key(&mut out, key);
            }
            Payload::Update(key) => put_key(&mut out, key),
            Payload::Key(d) => out.extend_from_slice(d.to_bytes().expose_secret()),
            Payload::Application(p) => out.extend_from_slice(p),
        }
        SecretBytes::new(out)
    }

    /// Decodes, strictly.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        let (&tag, rest) = b
            .split_first()
            .ok_or(SenderKeysError::Malformed("empty payload"))?;
        if rest.len() < DISTRIBUTION_ID_LEN {
            return Err(SenderKeysError::Malformed("truncated"));
        }
        let (g, body) = rest.split_at(DISTRIBUTION_ID_LEN);
        let mut group = [0u8; DISTRIBUTION_ID_LEN];
        group.copy_from_slice(g);
        let payload = match tag {
            1 => {
                if body.len() < 2 {
                    return Err(SenderKeysError::Malformed("truncated"));
                }
                let (count, body) = body.split_at(2);
                let count = usize::from(u16::from_be_bytes([count[0], count[1]]));
                let len = count * MEMBER_ID_LEN;
                if body.len() < len {
                    return Err(SenderKeysError::Malformed("truncated member list"));
                }
                let (list, key) = body.split_at(len);
                // Allocation follows the bytes received (len ≤ body.len()).
                let members = list
                    .chunks_exact(MEMBER_ID_LEN)
                    .map(member)
                    .collect::<Result<Vec<_>>>()?;
                if members.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(SenderKeysError::Malformed("members not ascending"));
                }
                Payload::Welcome {
                    members,
                    key: take_key(key)?,
                }
            }
            2 if body.len() == MEMBER_ID_LEN => Payload::Added(member(body)?),
            3 if body.len() > MEMBER_ID_LEN => {
                let (m, key) = body.split_at(MEMBER_ID_LEN);
                Payload::Removed {
                    member: member(m)?,
                    key: take_key(key)?,
                }
            }
            4 => Payload::Update(take_key(body)?),
            5 => Payload::Key(Distribution::from_bytes(body)?),
            6 => Payload::Application(body.to_vec()),
            2 | 3 => return Err(SenderKeysError::Malformed("payload length")),
            _ => return Err(SenderKeysError::Malformed("payload tag")),
        };
        Ok(Self { group, payload })
    }
}
