//! The DCGKA adapter: sgm-dcgka's core, messages as the paper counts them
//! (control message and direct messages, without the sgm-acb envelope the
//! façade adds; `sgm_dcgka::scenario::Round::envelope_bytes` measures that).
//!
//! Every control message is a broadcast with its direct messages riding
//! along ([`Message::direct`]); an operation's recipients are the sender's
//! members before and after it (so a removed member learns of its removal
//! and an added one receives its welcome), a reply's the members after it.
//! An application message goes to the sender's members.

use std::collections::BTreeSet;

use sgm_2sm::PrekeyStore;
use sgm_crypto::{CryptoRng, MemberId, SigningKey};
use sgm_dcgka::{Config, Dcgka, DcgkaError, Outgoing};

pub use crate::directory::Directory;

use crate::scheme::{GroupScheme, Incoming, Message, MessageKind, Processed};

/// sgm-dcgka behind [`GroupScheme`].
#[derive(Debug, Clone)]
pub struct DcgkaScheme {
    /// The prekey server.
    pub directory: Directory,
    /// Options of every member.
    pub config: Config,
    /// One-time prekeys each new member publishes: one is used by every
    /// member that starts a 2SM session with it (an update or a removal by
    /// a member it has no session with yet, a welcome's add-acks).
    pub prekeys: usize,
}

impl DcgkaScheme {
    /// Members with `config`, each publishing `prekeys` one-time prekeys.
    pub fn new(config: Config, prekeys: usize) -> Self {
        Self {
            directory: Directory::default(),
            config,
            prekeys,
        }
    }
}

/// One control message as a broadcast to `to`.
fn outgoing(sender: MemberId, o: &Outgoing, to: &BTreeSet<MemberId>) -> Message {
    let mut m = Message::broadcast(
        sender,
        MessageKind::Control,
        to.iter().copied(),
        o.control.to_bytes(),
    );
    m.direct = o
        .direct
        .iter()
        .map(|d| (d.recipient, d.to_bytes()))
        .collect();
    m
}

impl DcgkaScheme {
    fn operation(
        member: &mut Dcgka,
        extra: &[MemberId],
        op: impl FnOnce(&mut Dcgka) -> Result<Vec<Outgoing>, DcgkaError>,
    ) -> Result<Vec<Message>, DcgkaError> {
        let mut to = member.members();
        let out = op(member)?;
        to.extend(member.members());
        to.extend(extra.iter().copied());
        let me = member.id();
        Ok(out.iter().map(|o| outgoing(me, o, &to)).collect())
    }
}

impl GroupScheme for DcgkaScheme {
    type Member = Dcgka;
    type Error = DcgkaError;

    fn name(&self) -> &'static str {
        "dcgka"
    }

    fn new_member(&mut self, rng: &mut impl CryptoRng) -> Result<Dcgka, DcgkaError> {
        let sk = SigningKey::generate(rng);
        let (store, published) = PrekeyStore::publish(rng, &sk, self.prekeys);
        self.directory
            .0
            .insert(MemberId::from_identity_key(&sk.verifying_key()), published);
        Ok(Dcgka::init(sk, store, self.config))
    }

    fn member_id(&self, member: &Dcgka) -> MemberId {
        member.id()
    }

    fn create(
        &mut self,
        member: &mut Dcgka,
        others: &[MemberId],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, DcgkaError> {
        let dir = &mut self.directory;
        Self::operation(member, others, |m| Ok(m.create(others, rng, dir)?.messages))
    }

    fn add(
        &mut self,
        member: &mut Dcgka,
        added: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, DcgkaError> {
        let dir = &mut self.directory;
        Self::operation(member, &[added], |m| Ok(m.add(added, rng, dir)?.messages))
    }

    fn remove(
        &mut self,
        member: &mut Dcgka,
        removed: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, DcgkaError> {
        let dir = &mut self.directory;
        Self::operation(member, &[removed], |m| {
            Ok(m.remove(&[removed], rng, dir)?.messages)
        })
    }

    fn update(
        &mut self,
        member: &mut Dcgka,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, DcgkaError> {
        let dir = &mut self.directory;
        Self::operation(member, &[], |m| Ok(m.update(rng, dir)?.messages))
    }

    fn send(
        &mut self,
        member: &mut Dcgka,
        plaintext: &[u8],
        _rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, DcgkaError> {
        let sealed = member.encrypt(plaintext, b"")?;
        let to = member.members();
        let me = member.id();
        let mut out: Vec<Message> = sealed
            .control
            .iter()
            .map(|o| outgoing(me, o, &to))
            .collect();
        out.push(Message::broadcast(
            me,
            MessageKind::Application,
            to,
            sealed.message,
        ));
        Ok(out)
    }

    fn receive(
        &mut self,
        member: &mut Dcgka,
        message: &Incoming<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<Processed, DcgkaError> {
        match message.kind {
            MessageKind::Application => {
                let plaintext = member.decrypt(&message.sender, message.body, b"")?;
                Ok(Processed {
                    plaintext: Some(plaintext.expose_secret().to_vec()),
                    ..Processed::default()
                })
            }
            MessageKind::Control => {
                let p = match member.process_bytes(
                    message.sender,
                    message.body,
                    message.direct,
                    rng,
                    &mut self.directory,
                ) {
                    // A removed member still receives what was sent
                    // concurrently with its removal: it ignores it.
                    Err(DcgkaError::NoGroup) if member.dgm().is_some() => {
                        return Ok(Processed::default());
                    }
                    r => r?,
                };
                let me = member.id();
                let to = member.members();
                Ok(Processed {
                    replies: p.reply.iter().map(|r| outgoing(me, r, &to)).collect(),
                    plaintext: None,
                    key_changed: p.sender_update_secret.is_some() || p.me_update_secret.is_some(),
                    removed: p.removed,
                })
            }
        }
    }
}
