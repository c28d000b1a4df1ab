//! ASKE, the authenticated signature key exchange (`greet/ske.js`).
//!
//! Each member contributes a 32-byte nonce and an ephemeral Ed25519 key on
//! the upflow (the same member order as CLIQUES). The session id is
//!
//! ```text
//! sid = SHA-256(id_1 ‖ … ‖ id_n ‖ nonce_1 ‖ … ‖ nonce_n)   ids sorted bytewise
//! ```
//!
//! and each member acknowledges the session on the downflow with its static
//! (long-term) Ed25519 key over
//! `SHA-256("acksig" ‖ id ‖ ephemeral public key ‖ nonce ‖ sid)`. A member
//! that verified every other member's acknowledgement knows they all hold
//! the same session id, member list and ephemeral keys: the ephemeral keys
//! then authenticate the group's packets.
//!
//! Security properties: a member accepts an ephemeral key only with the
//! owner's static signature over it and the fresh session id (so neither can
//! be replayed from another session); the member list is bound into the sid.
//!
//! Randomness, in draw order: on an upflow the nonce, then (if the member
//! has none yet) the ephemeral key seed; on join and exclude the initiator's
//! new nonce. The ephemeral key is kept across sub-sessions, as in mpenc_js.
//!
//! Deviations from mpenc_js (docs/mpenc.md): an upflow must carry exactly
//! one nonce and key per member before the receiver; a downflow must carry
//! one per member and our own nonce unchanged; after `join` the initiator's
//! session id is unset until the downflow (mpenc_js computes a placeholder
//! over missing nonces that is never used).

use std::collections::BTreeMap;

use sgm_crypto::{CryptoRng, Secret, Signature, SigningKey, VerifyingKey, sha256};

use crate::cliques::{check_members, position};
use crate::{ApiMisuse, Id, MpencError, error::show};

/// Magic prefix of the session acknowledgement.
pub const ACK_MAGIC: &[u8] = b"acksig";

/// Static (long-term) public keys of the members.
pub trait StaticKeys {
    /// The static key of `id`, if known.
    fn static_key(&self, id: &[u8]) -> Option<VerifyingKey>;
}

impl StaticKeys for BTreeMap<Id, VerifyingKey> {
    fn static_key(&self, id: &[u8]) -> Option<VerifyingKey> {
        self.get(id).copied()
    }
}

/// An ASKE message (the ASKE part of a greeting packet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskeMessage {
    /// Sender.
    pub source: Id,
    /// Next member on the upflow; empty for a broadcast.
    pub dest: Id,
    /// True on the downflow.
    pub downflow: bool,
    /// Members in protocol order.
    pub members: Vec<Id>,
    /// Nonces in member order.
    pub nonces: Vec<[u8; 32]>,
    /// Ephemeral public keys in member order.
    pub pub_keys: Vec<[u8; 32]>,
    /// The sender's session acknowledgement.
    pub session_signature: Option<[u8; 64]>,
}

/// One member's ASKE state.
#[derive(Clone)]
pub struct AskeMember {
    id: Id,
    static_key: SigningKey,
    members: Vec<Id>,
    nonces: Vec<[u8; 32]>,
    ephemeral_pub_keys: Vec<[u8; 32]>,
    ephemeral_key: Option<SigningKey>,
    nonce: Option<[u8; 32]>,
    session_id: Option<[u8; 32]>,
    authenticated: Vec<bool>,
}

impl core::fmt::Debug for AskeMember {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AskeMember")
            .field("id", &show(&self.id))
            .field("members", &self.members.len())
            .field("session_id", &self.session_id.map(hex::encode))
            .finish_non_exhaustive()
    }
}

/// `SHA-256(sorted ids ‖ their nonces)` (`_computeSid`).
pub fn compute_sid<N: AsRef<[u8]>>(members: &[Id], nonces: &[N]) -> [u8; 32] {
    let mut pairs: Vec<(&Id, &[u8])> = members
        .iter()
        .zip(nonces.iter().map(AsRef::as_ref))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut parts: Vec<&[u8]> = pairs.iter().map(|p| p.0.as_slice()).collect();
    parts.extend(pairs.iter().map(|p| p.1));
    sha256(&parts)
}

/// The digest a session acknowledgement signs.
pub fn session_ack_digest(
    id: &[u8],
    ephemeral: &[u8; 32],
    nonce: &[u8; 32],
    sid: &[u8; 32],
) -> [u8; 32] {
    sha256(&[ACK_MAGIC, id, ephemeral, nonce, sid])
}

impl AskeMember {
    /// A member with static key `static_key` and no session yet.
    pub fn new(id: Id, static_key: SigningKey) -> Self {
        Self {
            id,
            static_key,
            members: Vec::new(),
            nonces: Vec::new(),
            ephemeral_pub_keys: Vec::new(),
            ephemeral_key: None,
            nonce: None,
            session_id: None,
            authenticated: Vec::new(),
        }
    }

    /// Our id.
    pub fn id(&self) -> &[u8] {
        &self.id
    }
    /// Members in protocol order.
    pub fn members(&self) -> &[Id] {
        &self.members
    }
    /// Nonces in member order.
    pub fn nonces(&self) -> &[[u8; 32]] {
        &self.nonces
    }
    /// Ephemeral public keys in member order.
    pub fn ephemeral_pub_keys(&self) -> &[[u8; 32]] {
        &self.ephemeral_pub_keys
    }
    /// Our ephemeral signing key.
    pub fn ephemeral_key(&self) -> Option<&SigningKey> {
        self.ephemeral_key.as_ref()
    }
    /// Our current nonce.
    pub fn nonce(&self) -> Option<&[u8; 32]> {
        self.nonce.as_ref()
    }
    /// The session id.
    pub fn session_id(&self) -> Option<&[u8; 32]> {
        self.session_id.as_ref()
    }
    /// The static key.
    pub fn static_signing_key(&self) -> &SigningKey {
        &self.static_key
    }

    /// The ephemeral public key of `member`.
    pub fn member_ephemeral_key(&self, member: &[u8]) -> Option<[u8; 32]> {
        let i = self.members.iter().position(|m| m == member)?;
        self.ephemeral_pub_keys.get(i).copied()
    }

    /// Restores a completed session (see [`crate::state`]): every member
    /// counts as acknowledged.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        id: Id,
        static_key: SigningKey,
        members: Vec<Id>,
        nonces: Vec<[u8; 32]>,
        ephemeral_pub_keys: Vec<[u8; 32]>,
        ephemeral_key: Option<SigningKey>,
        nonce: Option<[u8; 32]>,
        session_id: Option<[u8; 32]>,
    ) -> Self {
        let authenticated = vec![true; members.len()];
        Self {
            id,
            static_key,
            members,
            nonces,
            ephemeral_pub_keys,
            ephemeral_key,
            nonce,
            session_id,
            authenticated,
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

    /// Starts a session with `others` (`commit`).
    pub fn commit(
        &mut self,
        others: &[Id],
        rng: &mut impl CryptoRng,
    ) -> Result<AskeMessage, MpencError> {
        if others.is_empty() {
            return Err(ApiMisuse::NoMembers.into());
        }
        let mut members = vec![self.id.clone()];
        members.extend_from_slice(others);
        let start = AskeMessage {
            source: self.id.clone(),
            dest: Vec::new(),
            downflow: false,
            members,
            nonces: Vec::new(),
            pub_keys: Vec::new(),
            session_signature: None,
        };
        self.transact(|s| {
            s.nonce = None;
            s.upflow_inner(&start, rng)
        })
    }

    /// Processes an upflow message addressed to us (`upflow`).
    pub fn upflow(
        &mut self,
        message: &AskeMessage,
        rng: &mut impl CryptoRng,
    ) -> Result<AskeMessage, MpencError> {
        self.transact(|s| s.upflow_inner(message, rng))
    }

    fn upflow_inner(
        &mut self,
        message: &AskeMessage,
        rng: &mut impl CryptoRng,
    ) -> Result<AskeMessage, MpencError> {
        check_members(&message.members)?;
        let my_pos = position(&message.members, &self.id)?;
        for (what, count) in [
            ("nonces on upflow", message.nonces.len()),
            ("public keys on upflow", message.pub_keys.len()),
        ] {
            if count != my_pos {
                return Err(MpencError::CountMismatch {
                    what,
                    count,
                    members: message.members.len(),
                });
            }
        }
        self.members = message.members.clone();
        self.nonces = message.nonces.clone();
        self.ephemeral_pub_keys = message.pub_keys.clone();
        let nonce: [u8; 32] = sgm_crypto::rng::random_array(rng);
        self.nonce = Some(nonce);
        self.nonces.push(nonce);
        let eph = match &self.ephemeral_key {
            Some(k) => k.clone(),
            None => {
                let k = SigningKey::from_seed(&Secret::random(rng));
                self.ephemeral_key = Some(k.clone());
                k
            }
        };
        self.ephemeral_pub_keys
            .push(*eph.verifying_key().as_bytes());
        let mut out = AskeMessage {
            source: self.id.clone(),
            dest: Vec::new(),
            downflow: true,
            members: self.members.clone(),
            nonces: self.nonces.clone(),
            pub_keys: self.ephemeral_pub_keys.clone(),
            session_signature: None,
        };
        if my_pos + 1 == self.members.len() {
            self.session_id = Some(compute_sid(&self.members, &self.nonces));
            self.discard_authentications();
            out.session_signature = Some(self.session_signature()?);
        } else {
            out.downflow = false;
            out.dest = self.members[my_pos + 1].clone();
        }
        Ok(out)
    }

    fn session_signature(&self) -> Result<[u8; 64], MpencError> {
        let (Some(sid), Some(eph), Some(nonce)) =
            (&self.session_id, &self.ephemeral_key, &self.nonce)
        else {
            return Err(ApiMisuse::NotReady.into());
        };
        let digest = session_ack_digest(&self.id, eph.verifying_key().as_bytes(), nonce, sid);
        Ok(self.static_key.sign(&digest).to_bytes())
    }

    fn verify_session_signature(
        &self,
        member: &[u8],
        signature: &[u8; 64],
        dir: &impl StaticKeys,
    ) -> Result<(), MpencError> {
        let bad = || MpencError::BadSessionSignature {
            member: show(member),
        };
        let sid = self.session_id.as_ref().ok_or_else(bad)?;
        let pos = position(&self.members, member)?;
        let (Some(eph), Some(nonce)) = (self.ephemeral_pub_keys.get(pos), self.nonces.get(pos))
        else {
            return Err(bad());
        };
        let key = dir
            .static_key(member)
            .ok_or_else(|| MpencError::UnknownStaticKey {
                member: show(member),
            })?;
        let digest = session_ack_digest(member, eph, nonce, sid);
        key.verify(&digest, &Signature::from_bytes(*signature))
            .map_err(|_| bad())
    }

    /// Processes a downflow message: verifies the sender's acknowledgement
    /// and, the first time we see this session, returns our own (`downflow`).
    pub fn downflow(
        &mut self,
        message: &AskeMessage,
        dir: &impl StaticKeys,
    ) -> Result<Option<AskeMessage>, MpencError> {
        self.transact(|s| {
            check_members(&message.members)?;
            let my_pos = position(&message.members, &s.id)?;
            for (what, count) in [
                ("nonces on downflow", message.nonces.len()),
                ("public keys on downflow", message.pub_keys.len()),
            ] {
                if count != message.members.len() {
                    return Err(MpencError::CountMismatch {
                        what,
                        count,
                        members: message.members.len(),
                    });
                }
            }
            // Our own contribution must be unchanged: we sign over it.
            let own_ok = match (&s.nonce, &s.ephemeral_key) {
                (Some(n), Some(k)) => {
                    message.nonces[my_pos] == *n
                        && message.pub_keys[my_pos] == *k.verifying_key().as_bytes()
                }
                _ => false,
            };
            if !own_ok {
                return Err(MpencError::BadSessionSignature {
                    member: show(&message.source),
                });
            }
            let sid = compute_sid(&message.members, &message.nonces);
            let existing = s.session_id == Some(sid);
            if !existing {
                s.members = message.members.clone();
                s.nonces = message.nonces.clone();
                s.ephemeral_pub_keys = message.pub_keys.clone();
                s.session_id = Some(sid);
                s.discard_authentications();
            }
            let signature =
                message
                    .session_signature
                    .ok_or_else(|| MpencError::BadSessionSignature {
                        member: show(&message.source),
                    })?;
            s.verify_session_signature(&message.source, &signature, dir)?;
            let sender = position(&s.members, &message.source)?;
            s.authenticated[sender] = true;
            if existing {
                return Ok(None);
            }
            let mut out = message.clone();
            out.source = s.id.clone();
            out.session_signature = Some(s.session_signature()?);
            Ok(Some(out))
        })
    }

    /// True when every member acknowledged the session.
    pub fn is_session_acknowledged(&self) -> bool {
        !self.authenticated.is_empty() && self.authenticated.iter().all(|a| *a)
    }

    /// Members whose acknowledgement we still miss.
    pub fn yet_to_authenticate(&self) -> Vec<Id> {
        self.members
            .iter()
            .zip(&self.authenticated)
            .filter(|(_, a)| !**a)
            .map(|(m, _)| m.clone())
            .collect()
    }

    fn discard_authentications(&mut self) {
        self.authenticated = vec![false; self.members.len()];
        if let Ok(i) = position(&self.members, &self.id) {
            self.authenticated[i] = true;
        }
    }

    /// Starts including `new_members` (`join`).
    pub fn join(
        &mut self,
        new_members: &[Id],
        rng: &mut impl CryptoRng,
    ) -> Result<AskeMessage, MpencError> {
        if new_members.is_empty() {
            return Err(ApiMisuse::NoMembers.into());
        }
        self.transact(|s| {
            let mut all = s.members.clone();
            all.extend_from_slice(new_members);
            check_members(&all).map_err(|_| MpencError::from(ApiMisuse::AlreadyMember))?;
            let my_pos = position(&all, &s.id)?;
            if my_pos >= s.nonces.len() {
                return Err(ApiMisuse::NotReady.into());
            }
            s.members = all;
            s.discard_authentications();
            let nonce: [u8; 32] = sgm_crypto::rng::random_array(rng);
            s.nonce = Some(nonce);
            s.nonces[my_pos] = nonce;
            s.session_id = None;
            Ok(AskeMessage {
                source: s.id.clone(),
                dest: new_members[0].clone(),
                downflow: false,
                members: s.members.clone(),
                nonces: s.nonces.clone(),
                pub_keys: s.ephemeral_pub_keys.clone(),
                session_signature: None,
            })
        })
    }

    /// Excludes `excluded` and acknowledges the new session (`exclude`).
    pub fn exclude(
        &mut self,
        excluded: &[Id],
        rng: &mut impl CryptoRng,
    ) -> Result<AskeMessage, MpencError> {
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
                if i < s.nonces.len() {
                    s.nonces.remove(i);
                }
                if i < s.ephemeral_pub_keys.len() {
                    s.ephemeral_pub_keys.remove(i);
                }
            }
            let my_pos = position(&s.members, &s.id)?;
            if my_pos >= s.nonces.len() {
                return Err(ApiMisuse::NotReady.into());
            }
            let nonce: [u8; 32] = sgm_crypto::rng::random_array(rng);
            s.nonce = Some(nonce);
            s.nonces[my_pos] = nonce;
            s.session_id = Some(compute_sid(&s.members, &s.nonces));
            s.discard_authentications();
            Ok(AskeMessage {
                source: s.id.clone(),
                dest: Vec::new(),
                downflow: true,
                members: s.members.clone(),
                nonces: s.nonces.clone(),
                pub_keys: s.ephemeral_pub_keys.clone(),
                session_signature: Some(s.session_signature()?),
            })
        })
    }

    /// Leaves the session (`quit`): the broadcast carries no member list and,
    /// as at mpenc_js HEAD, no signing key (see docs/mpenc.md).
    pub fn quit(&mut self) -> Result<AskeMessage, MpencError> {
        if self.ephemeral_key.is_none() {
            return Err(ApiMisuse::NotReady.into());
        }
        if let Ok(i) = position(&self.members, &self.id) {
            self.members.remove(i);
            if i < self.authenticated.len() {
                self.authenticated.remove(i);
            }
            if i < self.nonces.len() {
                self.nonces.remove(i);
            }
            if i < self.ephemeral_pub_keys.len() {
                self.ephemeral_pub_keys.remove(i);
            }
        }
        Ok(AskeMessage {
            source: self.id.clone(),
            dest: Vec::new(),
            downflow: true,
            members: Vec::new(),
            nonces: Vec::new(),
            pub_keys: Vec::new(),
            session_signature: None,
        })
    }
}
