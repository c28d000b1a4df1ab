//! CLIQUES group Diffie-Hellman over X25519 (`greet/cliques.js`).
//!
//! Initial key agreement (IKA) passes an upflow message through the members
//! in order; member `i` raises every intermediate key but its own to a fresh
//! private key `k_i` and appends the product of all keys so far (the
//! "cardinal" value); the last member broadcasts the downflow with one
//! intermediate key per member, `int_keys[j] = Π_{i≠j} k_i · G`. Each member
//! applies its own private keys, in the order it drew them, to its entry:
//! the cardinal key `Π k_i · G`. Auxiliary operations (join, exclude,
//! refresh) draw a further private key and update every other member's
//! entry; a member keeps all its private keys of the session.
//!
//! ```text
//!   A: [·, kA·G] ──► B: [kB·G, kA·G, kAkB·G] ──► C (last) ──► broadcast
//!                                     [kBkC·G, kAkC·G, kAkB·G]
//! ```
//!
//! Group key = HKDF-SHA256(salt = "", IKM = cardinal key, info =
//! "mpenc group key", 32 bytes): mpenc_js writes it as
//! HMAC(HMAC("", cardinal), "mpenc group key" ‖ 0x01), which is the same.
//!
//! Private keys are 32 random bytes, clamped inside the scalar
//! multiplication (as tweetnacl's `scalarMult` does). Deviations from
//! mpenc_js: intermediate keys that give an all-zero product (low-order
//! points) are rejected, and an upflow must carry exactly one intermediate
//! key per member up to the receiver (mpenc_js computes garbage otherwise).

use sgm_crypto::{CryptoRng, Secret, X25519PublicKey, X25519SecretKey, hkdf_sha256};

use crate::{ApiMisuse, Id, MpencError, error::show};

/// The HKDF info of the group key.
pub const GROUP_KEY_INFO: &[u8] = b"mpenc group key";

/// Initial or auxiliary key agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// Initial key agreement (`ika`).
    Ika,
    /// Auxiliary key agreement (`aka`).
    Aka,
}

/// A CLIQUES message (the CLIQUES part of a greeting packet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliquesMessage {
    /// Sender.
    pub source: Id,
    /// Next member on the upflow; empty for a broadcast.
    pub dest: Id,
    /// IKA or AKA.
    pub agreement: Agreement,
    /// True on the downflow.
    pub downflow: bool,
    /// Members in protocol order.
    pub members: Vec<Id>,
    /// Intermediate keys; `None` is the empty record (no contribution yet).
    pub int_keys: Vec<Option<X25519PublicKey>>,
}

/// One member's CLIQUES state.
#[derive(Clone)]
pub struct CliquesMember {
    id: Id,
    members: Vec<Id>,
    int_keys: Vec<Option<X25519PublicKey>>,
    priv_keys: Vec<X25519SecretKey>,
    group_key: Option<Secret<32>>,
}

impl core::fmt::Debug for CliquesMember {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CliquesMember")
            .field("id", &show(&self.id))
            .field("members", &self.members.len())
            .field("priv_keys", &self.priv_keys.len())
            .finish_non_exhaustive()
    }
}

/// The group key from a cardinal key.
pub fn derive_group_key(cardinal: &[u8]) -> Result<Secret<32>, MpencError> {
    hkdf_sha256::<32>(Some(&[]), cardinal, GROUP_KEY_INFO).map_err(|_| MpencError::LowOrderPoint)
}

/// Applies `priv_keys` in order to `int_key` (the base point if `None`).
fn compute_key_list(
    priv_keys: &[X25519SecretKey],
    int_key: Option<X25519PublicKey>,
) -> Result<Option<X25519PublicKey>, MpencError> {
    let mut result = int_key;
    for k in priv_keys {
        let base = result.unwrap_or_else(X25519PublicKey::basepoint);
        result = Some(
            k.exponentiate(&base)
                .map_err(|_| MpencError::LowOrderPoint)?,
        );
    }
    Ok(result)
}

pub(crate) fn check_members(members: &[Id]) -> Result<(), MpencError> {
    if members.len() > crate::MAX_MEMBERS {
        return Err(MpencError::TooMany {
            what: "members",
            max: crate::MAX_MEMBERS,
        });
    }
    let mut sorted: Vec<&Id> = members.iter().collect();
    sorted.sort();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(MpencError::DuplicateMember);
    }
    if members.iter().any(|m| m.is_empty()) {
        return Err(MpencError::EmptyMemberId);
    }
    Ok(())
}

pub(crate) fn position(members: &[Id], id: &[u8]) -> Result<usize, MpencError> {
    members
        .iter()
        .position(|m| m == id)
        .ok_or_else(|| MpencError::NotInMemberList { member: show(id) })
}

impl CliquesMember {
    /// A member with no key agreement yet.
    pub fn new(id: Id) -> Self {
        Self {
            id,
            members: Vec::new(),
            int_keys: Vec::new(),
            priv_keys: Vec::new(),
            group_key: None,
        }
    }

    /// Our id.
    pub fn id(&self) -> &[u8] {
        &self.id
    }

    /// Current members in protocol order.
    pub fn members(&self) -> &[Id] {
        &self.members
    }

    /// Current intermediate keys.
    pub fn int_keys(&self) -> &[Option<X25519PublicKey>] {
        &self.int_keys
    }

    /// The group key, once derived.
    pub fn group_key(&self) -> Option<&Secret<32>> {
        self.group_key.as_ref()
    }

    /// Our private contributions, in the order drawn.
    pub fn priv_keys(&self) -> &[X25519SecretKey] {
        &self.priv_keys
    }

    /// Restores a state (see [`crate::state`]).
    pub(crate) fn from_parts(
        id: Id,
        members: Vec<Id>,
        int_keys: Vec<Option<X25519PublicKey>>,
        priv_keys: Vec<X25519SecretKey>,
        group_key: Option<Secret<32>>,
    ) -> Self {
        Self {
            id,
            members,
            int_keys,
            priv_keys,
            group_key,
        }
    }

    fn transact<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, MpencError>,
    ) -> Result<T, MpencError> {
        let mut next = self.clone();
        let out = f(&mut next)?;
        *self = next;
        Ok(out)
    }

    /// Draws a private key, raises every other member's intermediate key
    /// with it, and returns the cardinal key (`_renewPrivKey`).
    fn renew_priv_key(&mut self, rng: &mut impl CryptoRng) -> Result<Secret<32>, MpencError> {
        let k = X25519SecretKey::generate(rng);
        let my_pos = position(&self.members, &self.id)?;
        for (i, ik) in self.int_keys.iter_mut().enumerate() {
            if i != my_pos {
                let base = ik.unwrap_or_else(X25519PublicKey::basepoint);
                *ik = Some(
                    k.exponentiate(&base)
                        .map_err(|_| MpencError::LowOrderPoint)?,
                );
            }
        }
        self.priv_keys.push(k);
        let own = self.int_keys.get(my_pos).copied().flatten();
        let cardinal = compute_key_list(&self.priv_keys, own)?.ok_or(MpencError::LowOrderPoint)?;
        Ok(Secret::from_bytes(*cardinal.as_bytes()))
    }

    fn set_keys(&mut self, int_keys: Vec<Option<X25519PublicKey>>) -> Result<(), MpencError> {
        let my_pos = position(&self.members, &self.id)?;
        let own = int_keys
            .get(my_pos)
            .copied()
            .flatten()
            .ok_or(MpencError::CountMismatch {
                what: "intermediate keys",
                count: int_keys.len(),
                members: self.members.len(),
            })?;
        self.int_keys = int_keys;
        let cardinal =
            compute_key_list(&self.priv_keys, Some(own))?.ok_or(MpencError::LowOrderPoint)?;
        self.group_key = Some(derive_group_key(cardinal.as_bytes())?);
        Ok(())
    }

    /// Starts an initial key agreement with `others` (`ika`).
    pub fn ika(
        &mut self,
        others: &[Id],
        rng: &mut impl CryptoRng,
    ) -> Result<CliquesMessage, MpencError> {
        if others.is_empty() {
            return Err(ApiMisuse::NoMembers.into());
        }
        let mut members = vec![self.id.clone()];
        members.extend_from_slice(others);
        let start = CliquesMessage {
            source: self.id.clone(),
            dest: Vec::new(),
            agreement: Agreement::Ika,
            downflow: false,
            members,
            int_keys: Vec::new(),
        };
        self.upflow(&start, rng)
    }

    /// Processes an upflow message addressed to us (`upflow`).
    pub fn upflow(
        &mut self,
        message: &CliquesMessage,
        rng: &mut impl CryptoRng,
    ) -> Result<CliquesMessage, MpencError> {
        self.transact(|s| {
            check_members(&message.members)?;
            let my_pos = position(&message.members, &s.id)?;
            let mut int_keys = message.int_keys.clone();
            if int_keys.is_empty() {
                int_keys.push(None);
            }
            if int_keys.len() != my_pos + 1 {
                return Err(MpencError::CountMismatch {
                    what: "intermediate keys on upflow",
                    count: message.int_keys.len(),
                    members: message.members.len(),
                });
            }
            s.members = message.members.clone();
            s.int_keys = int_keys;
            if message.agreement == Agreement::Ika {
                s.priv_keys.clear();
            }
            let cardinal = s.renew_priv_key(rng)?;
            let mut out = CliquesMessage {
                source: s.id.clone(),
                dest: Vec::new(),
                agreement: message.agreement,
                downflow: true,
                members: s.members.clone(),
                int_keys: Vec::new(),
            };
            if my_pos + 1 == s.members.len() {
                s.group_key = Some(derive_group_key(cardinal.expose_secret())?);
            } else {
                s.int_keys
                    .push(Some(X25519PublicKey::from_bytes(*cardinal.expose_secret())));
                out.downflow = false;
                out.dest = s.members[my_pos + 1].clone();
            }
            out.int_keys = s.int_keys.clone();
            Ok(out)
        })
    }

    /// Processes a downflow broadcast (`downflow`).
    pub fn downflow(&mut self, message: &CliquesMessage) -> Result<(), MpencError> {
        self.transact(|s| {
            check_members(&message.members)?;
            if message.agreement == Agreement::Ika && s.members != message.members {
                return Err(MpencError::MemberListMismatch);
            }
            position(&message.members, &s.id)?;
            if message.members.len() != message.int_keys.len() {
                return Err(MpencError::CountMismatch {
                    what: "intermediate keys on downflow",
                    count: message.int_keys.len(),
                    members: message.members.len(),
                });
            }
            s.members = message.members.clone();
            s.set_keys(message.int_keys.clone())
        })
    }

    /// Starts including `new_members` (`akaJoin`).
    pub fn aka_join(
        &mut self,
        new_members: &[Id],
        rng: &mut impl CryptoRng,
    ) -> Result<CliquesMessage, MpencError> {
        if new_members.is_empty() {
            return Err(ApiMisuse::NoMembers.into());
        }
        self.transact(|s| {
            let mut all = s.members.clone();
            all.extend_from_slice(new_members);
            check_members(&all).map_err(|_| MpencError::from(ApiMisuse::AlreadyMember))?;
            s.members = all;
            let cardinal = s.renew_priv_key(rng)?;
            s.int_keys
                .push(Some(X25519PublicKey::from_bytes(*cardinal.expose_secret())));
            Ok(CliquesMessage {
                source: s.id.clone(),
                dest: new_members[0].clone(),
                agreement: Agreement::Aka,
                downflow: false,
                members: s.members.clone(),
                int_keys: s.int_keys.clone(),
            })
        })
    }

    /// Excludes `excluded` and broadcasts the new keys (`akaExclude`).
    pub fn aka_exclude(
        &mut self,
        excluded: &[Id],
        rng: &mut impl CryptoRng,
    ) -> Result<CliquesMessage, MpencError> {
        if excluded.is_empty() {
            return Err(ApiMisuse::NoMembers.into());
        }
        self.transact(|s| {
            for e in excluded {
                if *e == s.id {
                    return Err(ApiMisuse::NotExcludable.into());
                }
                let i = position(&s.members, e)
                    .map_err(|_| MpencError::from(ApiMisuse::NotExcludable))?;
                s.members.remove(i);
                if i < s.int_keys.len() {
                    s.int_keys.remove(i);
                }
            }
            let cardinal = s.renew_priv_key(rng)?;
            s.group_key = Some(derive_group_key(cardinal.expose_secret())?);
            Ok(s.broadcast())
        })
    }

    /// Refreshes our contribution and broadcasts the new keys (`akaRefresh`).
    pub fn aka_refresh(&mut self, rng: &mut impl CryptoRng) -> Result<CliquesMessage, MpencError> {
        self.transact(|s| {
            if s.group_key.is_none() {
                return Err(ApiMisuse::NotReady.into());
            }
            let cardinal = s.renew_priv_key(rng)?;
            s.group_key = Some(derive_group_key(cardinal.expose_secret())?);
            Ok(s.broadcast())
        })
    }

    /// Leaves: forgets every private key (`akaQuit`).
    pub fn aka_quit(&mut self) {
        if let Ok(i) = position(&self.members, &self.id) {
            self.members.remove(i);
        }
        self.int_keys.clear();
        self.priv_keys.clear();
    }

    fn broadcast(&self) -> CliquesMessage {
        CliquesMessage {
            source: self.id.clone(),
            dest: Vec::new(),
            agreement: Agreement::Aka,
            downflow: true,
            members: self.members.clone(),
            int_keys: self.int_keys.clone(),
        }
    }
}
