//! The Sender Keys and pairwise fan-out adapters (sgm-sender-keys).
//!
//! Sender Keys: control messages and key distributions are unicast 2SM
//! messages; an application message is one broadcast to the sender's
//! members (after any distributions of a periodic rotation). Pairwise
//! fan-out: everything is unicast.
//!
//! A removed member still receives what was sent concurrently with its
//! removal; it ignores it.

use sgm_2sm::PrekeyStore;
use sgm_crypto::{CryptoRng, MemberId, SigningKey};
use sgm_sender_keys::{Config, Outgoing, PairwiseMember, SenderKeysError, SenderKeysMember};

use crate::directory::Directory;
use crate::scheme::{GroupScheme, Incoming, Message, MessageKind, Processed};

fn unicast(from: MemberId, out: Vec<Outgoing>, kind: MessageKind) -> Vec<Message> {
    out.into_iter()
        .map(|o| Message::unicast(from, kind, o.to, o.bytes))
        .collect()
}

fn publish(
    directory: &mut Directory,
    prekeys: usize,
    rng: &mut impl CryptoRng,
) -> (SigningKey, PrekeyStore) {
    let sk = SigningKey::generate(rng);
    let (store, published) = PrekeyStore::publish(rng, &sk, prekeys);
    directory
        .0
        .insert(MemberId::from_identity_key(&sk.verifying_key()), published);
    (sk, store)
}

/// Sender Keys behind [`GroupScheme`].
#[derive(Debug, Clone)]
pub struct SenderKeysScheme {
    /// The prekey server.
    pub directory: Directory,
    /// Options of every member.
    pub config: Config,
    /// One-time prekeys each new member publishes (every other member
    /// starts a session with it once: publish at least n − 1).
    pub prekeys: usize,
}

impl SenderKeysScheme {
    /// Members with `config`, each publishing `prekeys` one-time prekeys.
    pub fn new(config: Config, prekeys: usize) -> Self {
        Self {
            directory: Directory::default(),
            config,
            prekeys,
        }
    }
}

impl GroupScheme for SenderKeysScheme {
    type Member = SenderKeysMember;
    type Error = SenderKeysError;

    fn name(&self) -> &'static str {
        "sender-keys"
    }

    fn new_member(
        &mut self,
        rng: &mut impl CryptoRng,
    ) -> Result<SenderKeysMember, SenderKeysError> {
        let (sk, store) = publish(&mut self.directory, self.prekeys, rng);
        Ok(SenderKeysMember::new(sk, store, self.config))
    }

    fn member_id(&self, member: &SenderKeysMember) -> MemberId {
        member.id()
    }

    fn create(
        &mut self,
        member: &mut SenderKeysMember,
        others: &[MemberId],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let out = member.create(others, rng, &mut self.directory)?;
        Ok(unicast(member.id(), out, MessageKind::Control))
    }

    fn add(
        &mut self,
        member: &mut SenderKeysMember,
        added: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let out = member.add(added, rng, &mut self.directory)?;
        Ok(unicast(member.id(), out, MessageKind::Control))
    }

    fn remove(
        &mut self,
        member: &mut SenderKeysMember,
        removed: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let out = member.remove(removed, rng, &mut self.directory)?;
        Ok(unicast(member.id(), out, MessageKind::Control))
    }

    fn update(
        &mut self,
        member: &mut SenderKeysMember,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let out = member.update(rng, &mut self.directory)?;
        Ok(unicast(member.id(), out, MessageKind::Control))
    }

    fn send(
        &mut self,
        member: &mut SenderKeysMember,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let sealed = member.encrypt(plaintext, rng, &mut self.directory)?;
        let me = member.id();
        let mut out = unicast(me, sealed.distributions, MessageKind::Control);
        out.push(Message::broadcast(
            me,
            MessageKind::Application,
            member.members(),
            sealed.message,
        ));
        Ok(out)
    }

    fn receive(
        &mut self,
        member: &mut SenderKeysMember,
        message: &Incoming<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<Processed, SenderKeysError> {
        if member.was_removed() {
            return Ok(Processed::default());
        }
        match message.kind {
            MessageKind::Application => {
                let p = member.decrypt(&message.sender, message.body)?;
                Ok(Processed {
                    plaintext: Some(p.expose_secret().to_vec()),
                    ..Processed::default()
                })
            }
            MessageKind::Control => {
                let r = member.receive(&message.sender, message.body, rng, &mut self.directory)?;
                Ok(Processed {
                    replies: unicast(member.id(), r.replies, MessageKind::Control),
                    plaintext: None,
                    key_changed: r.key_changed,
                    removed: r.removed,
                })
            }
        }
    }
}

/// Pairwise fan-out behind [`GroupScheme`].
#[derive(Debug, Clone)]
pub struct PairwiseScheme {
    /// The prekey server.
    pub directory: Directory,
    /// One-time prekeys each new member publishes (at least n − 1).
    pub prekeys: usize,
}

impl PairwiseScheme {
    /// Members each publishing `prekeys` one-time prekeys.
    pub fn new(prekeys: usize) -> Self {
        Self {
            directory: Directory::default(),
            prekeys,
        }
    }
}

impl GroupScheme for PairwiseScheme {
    type Member = PairwiseMember;
    type Error = SenderKeysError;

    fn name(&self) -> &'static str {
        "pairwise"
    }

    fn new_member(&mut self, rng: &mut impl CryptoRng) -> Result<PairwiseMember, SenderKeysError> {
        let (sk, store) = publish(&mut self.directory, self.prekeys, rng);
        Ok(PairwiseMember::new(sk, store))
    }

    fn member_id(&self, member: &PairwiseMember) -> MemberId {
        member.id()
    }

    fn create(
        &mut self,
        member: &mut PairwiseMember,
        others: &[MemberId],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let out = member.create(others, rng, &mut self.directory)?;
        Ok(unicast(member.id(), out, MessageKind::Control))
    }

    fn add(
        &mut self,
        member: &mut PairwiseMember,
        added: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let out = member.add(added, rng, &mut self.directory)?;
        Ok(unicast(member.id(), out, MessageKind::Control))
    }

    fn remove(
        &mut self,
        member: &mut PairwiseMember,
        removed: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let out = member.remove(removed, rng, &mut self.directory)?;
        Ok(unicast(member.id(), out, MessageKind::Control))
    }

    fn update(
        &mut self,
        member: &mut PairwiseMember,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let out = member.update(rng, &mut self.directory)?;
        Ok(unicast(member.id(), out, MessageKind::Control))
    }

    fn send(
        &mut self,
        member: &mut PairwiseMember,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, SenderKeysError> {
        let out = member.send(plaintext, rng, &mut self.directory)?;
        Ok(unicast(member.id(), out, MessageKind::Application))
    }

    fn receive(
        &mut self,
        member: &mut PairwiseMember,
        message: &Incoming<'_>,
        _rng: &mut impl CryptoRng,
    ) -> Result<Processed, SenderKeysError> {
        if member.was_removed() {
            return Ok(Processed::default());
        }
        let r = member.receive(&message.sender, message.body)?;
        Ok(Processed {
            replies: Vec::new(),
            plaintext: r.plaintext.map(|p| p.expose_secret().to_vec()),
            key_changed: r.control,
            removed: r.removed,
        })
    }
}
