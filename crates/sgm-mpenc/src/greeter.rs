//! The greeting state machine (`Greeting` of `greet/greeter.js`): runs
//! CLIQUES and ASKE in the same packets.
//!
//! ```text
//! start:   A ─up(0x9c)─► B ─up(0x1c)─► C ─down(0x1e)─► all
//!          every other member answers the downflow with its acknowledgement
//!          (confirm, 0x1a); a member is READY once it verified everyone's
//!          acknowledgement and saw its own echoed
//! include: A ─up(0xad)─► new1 ─up(0x2d)─► … ─down(0x2f)─► all, confirms 0x2b
//! exclude: A ─down(0xbf)─► all, confirms 0x3b
//! refresh: A ─down(0xc7)─► all (CLIQUES only; complete on receipt)
//! ```
//!
//! Every packet is broadcast to the channel (mpenc_js sends upflows to their
//! `dest` only; the ordering server echoes greeting packets to everyone
//! anyway); a member ignores upflows addressed to someone else.
//!
//! Randomness, in draw order per operation: start: CLIQUES private key,
//! ASKE nonce, ephemeral key seed; upflow participant: CLIQUES private key,
//! ASKE nonce, ephemeral key seed (if it has none); include and exclude:
//! CLIQUES private key, ASKE nonce; refresh: CLIQUES private key.

use sgm_crypto::{CryptoRng, Secret, SigningKey, VerifyingKey, X25519PublicKey};

use crate::aske::{AskeMember, AskeMessage, StaticKeys};
use crate::cliques::{Agreement, CliquesMember, CliquesMessage};
use crate::data::{self, DEFAULT_PADDING, DataMessage, MESSAGE_ID_LEN};
use crate::greet_message::{GreetMessage, GreetingMetadata, UnverifiedGreet, greet_type as gt};
use crate::{ApiMisuse, Id, MpencError};

/// Greeting states (`STATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreetState {
    /// No session.
    Null,
    /// Initial agreement, upflow passed.
    InitUpflow,
    /// Initial agreement, downflow seen.
    InitDownflow,
    /// Session complete.
    Ready,
    /// Auxiliary agreement, upflow passed.
    AuxUpflow,
    /// Auxiliary agreement, downflow seen.
    AuxDownflow,
    /// Left (or excluded).
    Quit,
}

impl GreetState {
    fn name(self) -> &'static str {
        match self {
            GreetState::Null => "NULL",
            GreetState::InitUpflow => "INIT_UPFLOW",
            GreetState::InitDownflow => "INIT_DOWNFLOW",
            GreetState::Ready => "READY",
            GreetState::AuxUpflow => "AUX_UPFLOW",
            GreetState::AuxDownflow => "AUX_DOWNFLOW",
            GreetState::Quit => "QUIT",
        }
    }
}

/// The state a completed greeting leaves (`GreetStore`): what data
/// messages and the next greeting need.
#[derive(Clone, Debug)]
pub struct GreetStore {
    /// CLIQUES state.
    pub cliques: CliquesMember,
    /// ASKE state.
    pub aske: AskeMember,
    /// READY or NULL.
    pub state: GreetState,
}

impl GreetStore {
    /// A member with no session.
    pub fn new(id: Id, static_key: SigningKey) -> Self {
        Self {
            cliques: CliquesMember::new(id.clone()),
            aske: AskeMember::new(id, static_key),
            state: GreetState::Null,
        }
    }

    /// The group key.
    pub fn group_key(&self) -> Option<&Secret<32>> {
        self.cliques.group_key()
    }

    /// The session id.
    pub fn session_id(&self) -> Option<&[u8; 32]> {
        self.aske.session_id()
    }

    /// Members in protocol order.
    pub fn members(&self) -> &[Id] {
        self.aske.members()
    }

    /// The ephemeral key of `member` (verifies its data messages).
    pub fn member_key(&self, member: &[u8]) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(&self.aske.member_ephemeral_key(member)?).ok()
    }

    /// Encrypts a data message in this session (padding unit 128, as
    /// mpenc_js sessions); draws the IV from `rng`.
    pub fn encrypt(
        &self,
        message: &DataMessage,
        rng: &mut impl CryptoRng,
    ) -> Result<(String, [u8; MESSAGE_ID_LEN]), MpencError> {
        let (Some(sid), Some(gk), Some(key)) = (
            self.session_id(),
            self.group_key(),
            self.aske.ephemeral_key(),
        ) else {
            return Err(ApiMisuse::NotReady.into());
        };
        data::encrypt(sid, gk.expose_secret(), key, message, DEFAULT_PADDING, rng)
    }

    /// Verifies and decrypts a data message claimed to be from `author`.
    pub fn decrypt(
        &self,
        author: &[u8],
        packet: &str,
    ) -> Result<(DataMessage, [u8; MESSAGE_ID_LEN]), MpencError> {
        let (Some(sid), Some(gk)) = (self.session_id(), self.group_key()) else {
            return Err(ApiMisuse::NotReady.into());
        };
        let key = self
            .member_key(author)
            .ok_or_else(|| MpencError::UnknownAuthor {
                member: crate::error::show(author),
            })?;
        data::decrypt(sid, gk.expose_secret(), &key, packet)
    }
}

/// A packet to send: broadcast on the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The wire packet.
    pub packet: String,
    /// Members that must receive it.
    pub recipients: Vec<Id>,
}

/// One greeting (one membership operation) in progress.
#[derive(Clone, Debug)]
pub struct Greeting {
    cliques: CliquesMember,
    aske: AskeMember,
    state: GreetState,
    prev_members: Vec<Id>,
    next_members: Option<Vec<Id>>,
    metadata: Option<GreetingMetadata>,
    recv_own_auth: bool,
    finished: bool,
}

fn same_set(a: &[Id], b: &[Id]) -> bool {
    let mut a: Vec<&Id> = a.iter().collect();
    let mut b: Vec<&Id> = b.iter().collect();
    a.sort();
    b.sort();
    a == b
}

fn to_cliques(m: &GreetMessage) -> CliquesMessage {
    CliquesMessage {
        source: m.source.clone(),
        dest: m.dest.clone(),
        agreement: if gt::operation(m.greet_type) == 1 {
            Agreement::Ika
        } else {
            Agreement::Aka
        },
        downflow: m.is_downflow(),
        members: m.members.clone(),
        int_keys: m
            .int_keys
            .iter()
            .map(|k| k.map(X25519PublicKey::from_bytes))
            .collect(),
    }
}

fn to_aske(m: &GreetMessage) -> AskeMessage {
    AskeMessage {
        source: m.source.clone(),
        dest: m.dest.clone(),
        downflow: m.is_downflow(),
        members: m.members.clone(),
        nonces: m.nonces.clone(),
        pub_keys: m.pub_keys.clone(),
        session_signature: m.session_signature,
    }
}

/// `_mergeMessages`.
fn merge(
    id: &[u8],
    c: Option<CliquesMessage>,
    a: Option<AskeMessage>,
    greet_type: u16,
) -> GreetMessage {
    let dest = c
        .as_ref()
        .map(|c| c.dest.clone())
        .filter(|d| !d.is_empty())
        .or_else(|| a.as_ref().map(|a| a.dest.clone()))
        .unwrap_or_default();
    let members = c
        .as_ref()
        .map(|c| c.members.clone())
        .or_else(|| a.as_ref().map(|a| a.members.clone()))
        .unwrap_or_default();
    GreetMessage {
        greet_type,
        source: id.to_vec(),
        dest,
        members,
        int_keys: c
            .map(|c| {
                c.int_keys
                    .iter()
                    .map(|k| k.map(|k| *k.as_bytes()))
                    .collect()
            })
            .unwrap_or_default(),
        nonces: a.as_ref().map(|a| a.nonces.clone()).unwrap_or_default(),
        pub_keys: a.as_ref().map(|a| a.pub_keys.clone()).unwrap_or_default(),
        metadata: None,
        session_signature: a.and_then(|a| a.session_signature),
        signing_key: None,
    }
}

impl Greeting {
    /// A greeting that starts from `store` (the previous session, or a
    /// fresh member).
    pub fn new(store: &GreetStore) -> Self {
        let prev_members = store.aske.members().to_vec();
        Self {
            cliques: store.cliques.clone(),
            aske: store.aske.clone(),
            state: store.state,
            prev_members: if prev_members.is_empty() {
                vec![store.aske.id().to_vec()]
            } else {
                prev_members
            },
            next_members: None,
            metadata: None,
            recv_own_auth: false,
            finished: false,
        }
    }

    /// Current state.
    pub fn state(&self) -> GreetState {
        self.state
    }

    /// True once the greeting completed (READY, or QUIT when excluded).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The greeting's metadata (from its initial packet).
    pub fn metadata(&self) -> Option<&GreetingMetadata> {
        self.metadata.as_ref()
    }

    /// Members after the operation.
    pub fn next_members(&self) -> Option<&[Id]> {
        self.next_members.as_deref()
    }

    /// The resulting state, once finished.
    pub fn result(&self) -> Result<GreetStore, MpencError> {
        if !self.finished {
            return Err(ApiMisuse::WrongState(self.state.name()).into());
        }
        Ok(GreetStore {
            cliques: self.cliques.clone(),
            aske: self.aske.clone(),
            state: self.state,
        })
    }

    fn id(&self) -> Id {
        self.aske.id().to_vec()
    }

    fn require(&self, valid: &[GreetState]) -> Result<(), MpencError> {
        if self.finished || !valid.contains(&self.state) {
            return Err(ApiMisuse::WrongState(self.state.name()).into());
        }
        Ok(())
    }

    fn publish(
        &self,
        mut m: GreetMessage,
        metadata: Option<GreetingMetadata>,
    ) -> Result<Outgoing, MpencError> {
        m.metadata = metadata;
        let key = self.aske.ephemeral_key().ok_or(ApiMisuse::NotReady)?;
        let recipients = self.next_members.clone().unwrap_or_default();
        Ok(Outgoing {
            packet: m.encode_wire(key)?,
            recipients,
        })
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

    /// Starts a new session with `others` (`start`).
    pub fn start(
        &mut self,
        others: &[Id],
        metadata: GreetingMetadata,
        rng: &mut impl CryptoRng,
    ) -> Result<Outgoing, MpencError> {
        self.transact(|s| {
            s.require(&[GreetState::Null])?;
            let c = s.cliques.ika(others, rng)?;
            let a = s.aske.commit(others, rng)?;
            let m = merge(&s.id(), Some(c), Some(a), gt::INIT_INITIATOR_UP);
            s.state = GreetState::InitUpflow;
            let mut next = others.to_vec();
            next.push(s.id());
            s.next_members = Some(next);
            s.publish(m, Some(metadata))
        })
    }

    /// Includes `new_members` (`include`).
    pub fn include(
        &mut self,
        new_members: &[Id],
        metadata: GreetingMetadata,
        rng: &mut impl CryptoRng,
    ) -> Result<Outgoing, MpencError> {
        self.transact(|s| {
            s.require(&[GreetState::Ready])?;
            let c = s.cliques.aka_join(new_members, rng)?;
            let a = s.aske.join(new_members, rng)?;
            let m = merge(&s.id(), Some(c), Some(a), gt::INCLUDE_AUX_INITIATOR_UP);
            s.state = GreetState::AuxUpflow;
            let mut next = s.prev_members.clone();
            next.extend_from_slice(new_members);
            s.next_members = Some(next);
            s.publish(m, Some(metadata))
        })
    }

    /// Excludes `excluded` (`exclude`).
    pub fn exclude(
        &mut self,
        excluded: &[Id],
        metadata: GreetingMetadata,
        rng: &mut impl CryptoRng,
    ) -> Result<Outgoing, MpencError> {
        self.transact(|s| {
            s.require(&[GreetState::Ready])?;
            let c = s.cliques.aka_exclude(excluded, rng)?;
            let a = s.aske.exclude(excluded, rng)?;
            let m = merge(&s.id(), Some(c), Some(a), gt::EXCLUDE_AUX_INITIATOR_DOWN);
            s.state = if s.aske.is_session_acknowledged() {
                GreetState::Ready
            } else {
                GreetState::AuxDownflow
            };
            s.next_members = Some(
                s.prev_members
                    .iter()
                    .filter(|m| !excluded.contains(m))
                    .cloned()
                    .collect(),
            );
            s.publish(m, Some(metadata))
        })
    }

    /// Refreshes our CLIQUES contribution (`refresh`).
    pub fn refresh(
        &mut self,
        metadata: GreetingMetadata,
        rng: &mut impl CryptoRng,
    ) -> Result<Outgoing, MpencError> {
        self.transact(|s| {
            s.require(&[
                GreetState::Ready,
                GreetState::InitDownflow,
                GreetState::AuxDownflow,
            ])?;
            let c = s.cliques.aka_refresh(rng)?;
            let m = merge(&s.id(), Some(c), None, gt::REFRESH_AUX_INITIATOR_DOWN);
            s.next_members = Some(s.prev_members.clone());
            s.publish(m, Some(metadata))
        })
    }

    /// Leaves (`quit`): forgets the CLIQUES private keys. mpenc_js at HEAD
    /// neither sends nor accepts the QUIT_DOWN packet in a session (its
    /// `partialDecode` throws on it), so this returns the packet for
    /// completeness only.
    pub fn quit(&mut self) -> Result<Outgoing, MpencError> {
        self.transact(|s| {
            if s.aske.ephemeral_key().is_none() {
                return Err(ApiMisuse::NotReady.into());
            }
            s.cliques.aka_quit();
            let a = s.aske.quit()?;
            let m = merge(&s.id(), None, Some(a), gt::QUIT_DOWN);
            s.state = GreetState::Quit;
            s.publish(m, None)
        })
    }

    /// Processes a greeting packet from the channel (`recv` and
    /// `_processMessage`). Returns the packet to send in reply, if any.
    /// On error the greeting is unchanged.
    pub fn recv(
        &mut self,
        packet: &str,
        dir: &impl StaticKeys,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Outgoing>, MpencError> {
        let unverified = UnverifiedGreet::decode_wire(packet)?;
        // The sender's ephemeral key if we know it, else the key the packet
        // claims (authenticated later by the sender's acknowledgement).
        let source = unverified.peek().source.clone();
        let known = if source == self.id() {
            self.aske.ephemeral_key().map(|k| k.verifying_key())
        } else if self.aske.ephemeral_key().is_some() {
            self.aske
                .member_ephemeral_key(&source)
                .and_then(|k| VerifyingKey::from_bytes(&k).ok())
        } else {
            None
        };
        let message = match known {
            Some(k) => unverified.verify(&k)?,
            None => unverified.verify_self_claimed()?,
        };
        self.transact(|s| s.process(message, dir, rng))
    }

    fn unexpected(&self, m: &GreetMessage) -> MpencError {
        MpencError::UnexpectedGreeting {
            greet_type: m.greet_type,
            state: self.state.name(),
        }
    }

    fn process(
        &mut self,
        message: GreetMessage,
        dir: &impl StaticKeys,
        rng: &mut impl CryptoRng,
    ) -> Result<Option<Outgoing>, MpencError> {
        if self.finished {
            return Err(self.unexpected(&message));
        }
        match (&self.metadata, &message.metadata) {
            (Some(_), Some(_)) | (None, None) => return Err(self.unexpected(&message)),
            (None, Some(md)) => self.metadata = Some(md.clone()),
            (Some(_), None) => {}
        }
        if self.state == GreetState::Quit {
            return Ok(None);
        }
        if self.next_members.is_none() {
            self.next_members = Some(message.members.clone());
        }
        let me = self.id();
        if !message.members.is_empty() && !message.members.contains(&me) {
            // Excluded: the greeting ends for us without a key.
            self.state = GreetState::Quit;
            self.finished = true;
            return Ok(None);
        }
        if message.source == me {
            if message.is_downflow() {
                self.recv_own_auth = true;
            }
            self.maybe_fulfill();
            return Ok(None);
        }
        if !message.dest.is_empty() && message.dest != me {
            return Ok(None);
        }
        if message.greet_type == gt::QUIT_DOWN {
            return Ok(None);
        }
        let out = if message.is_downflow() {
            if message.is_gka() {
                self.cliques.downflow(&to_cliques(&message))?;
            }
            let reply = if message.is_ske() {
                self.aske.downflow(&to_aske(&message), dir)?
            } else {
                None
            };
            match reply {
                Some(a) => {
                    let t = message.greet_type & !gt::INIT_BIT & !gt::GKA_BIT;
                    self.state = if message.is_auxiliary() {
                        GreetState::AuxDownflow
                    } else {
                        GreetState::InitDownflow
                    };
                    Some(merge(&me, None, Some(a), t))
                }
                None => None,
            }
        } else {
            let c = self.cliques.upflow(&to_cliques(&message), rng)?;
            let a = self.aske.upflow(&to_aske(&message), rng)?;
            let mut m = merge(&me, Some(c), Some(a), message.greet_type & !gt::INIT_BIT);
            if m.dest.is_empty() {
                m.greet_type |= gt::DOWN_BIT;
            }
            self.state = match (message.is_auxiliary(), m.dest.is_empty()) {
                (true, true) => GreetState::AuxDownflow,
                (false, true) => GreetState::InitDownflow,
                (true, false) => GreetState::AuxUpflow,
                (false, false) => GreetState::InitUpflow,
            };
            Some(m)
        };
        self.maybe_fulfill();
        out.map(|m| self.publish(m, None)).transpose()
    }

    /// Whether a confirm packet from `source` would be this greeting's
    /// final packet (`_expectsFinalMessage`).
    pub fn expects_final(&self, source: &[u8]) -> bool {
        crate::server_order::expects_final(
            &self.aske.yet_to_authenticate(),
            self.recv_own_auth,
            self.aske.id(),
            source,
        )
    }

    /// `_maybeFulfill`.
    fn maybe_fulfill(&mut self) {
        let Some(next) = &self.next_members else {
            return;
        };
        let is_refresh = same_set(&self.prev_members, next);
        if is_refresh || (self.aske.is_session_acknowledged() && self.recv_own_auth) {
            self.state = GreetState::Ready;
            self.finished = true;
        }
    }
}
