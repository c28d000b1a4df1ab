//! The mpENC adapter: sgm-mpenc's greeter, server order and data messages
//! behind [`GroupScheme`].
//!
//! mpENC needs a totally ordered channel that echoes every packet to its
//! sender ([`Capabilities`]): the driver's FIFO delivery with echo is that
//! channel. Every greeting packet is a broadcast to the members before and
//! after the operation (mpenc_js sends upflows to their next member only,
//! but the server echoes every packet to the channel, which is what is
//! counted here). A greeting takes O(n) sequential rounds: the upflow
//! visits the members one after another.
//!
//! The packet id of the server order hashes the channel membership at echo
//! time; the adapter takes it as the packet's member list plus its sender,
//! which every recipient computes alike.
//!
//! Member ids are the 16-byte [`MemberId`]s, used as mpENC's byte-string
//! ids.

use std::collections::BTreeMap;

use sgm_crypto::{CryptoRng, MemberId, SigningKey, VerifyingKey};
use sgm_mpenc::data::DataMessage;
use sgm_mpenc::drive::{Echo, Op, Party};
use sgm_mpenc::greet_message::UnverifiedGreet;
use sgm_mpenc::server_order::make_packet_id;
use sgm_mpenc::{Id, MpencError};

use crate::scheme::{Capabilities, GroupScheme, Incoming, Message, MessageKind, Processed};

/// One mpENC member.
#[derive(Debug, Clone)]
pub struct MpencMember {
    id: MemberId,
    party: Party,
}

impl MpencMember {
    /// The member's mpENC state.
    pub fn party(&self) -> &Party {
        &self.party
    }
}

/// sgm-mpenc behind [`GroupScheme`]: the static-key directory.
#[derive(Debug, Clone, Default)]
pub struct MpencScheme {
    /// Static public keys by member.
    pub directory: BTreeMap<Id, VerifyingKey>,
}

fn mid(id: &Id) -> Option<MemberId> {
    MemberId::from_slice(id).ok()
}

impl MpencScheme {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    fn propose(
        member: &mut MpencMember,
        op: Op,
        extra: &[MemberId],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, MpencError> {
        let mut to: Vec<MemberId> = member
            .party
            .store
            .members()
            .iter()
            .filter_map(mid)
            .collect();
        let packet = member.party.propose(&op, rng)?;
        to.extend_from_slice(extra);
        to.push(member.id);
        to.sort();
        to.dedup();
        // The driver echoes it to the sender (total order with echo).
        Ok(vec![Message::broadcast(
            member.id,
            MessageKind::Control,
            to,
            packet.into_bytes(),
        )])
    }
}

impl GroupScheme for MpencScheme {
    type Member = MpencMember;
    type Error = MpencError;

    fn name(&self) -> &'static str {
        "mpenc"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            total_order: true,
            echo: true,
        }
    }

    fn new_member(&mut self, rng: &mut impl CryptoRng) -> Result<MpencMember, MpencError> {
        let sk = SigningKey::generate(rng);
        let id = MemberId::from_identity_key(&sk.verifying_key());
        self.directory
            .insert(id.as_bytes().to_vec(), sk.verifying_key());
        Ok(MpencMember {
            id,
            party: Party::new(id.as_bytes().to_vec(), sk),
        })
    }

    fn member_id(&self, member: &MpencMember) -> MemberId {
        member.id
    }

    fn create(
        &mut self,
        member: &mut MpencMember,
        others: &[MemberId],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, MpencError> {
        let ids = others.iter().map(|m| m.as_bytes().to_vec()).collect();
        Self::propose(member, Op::Start(ids), others, rng)
    }

    fn add(
        &mut self,
        member: &mut MpencMember,
        added: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, MpencError> {
        Self::propose(
            member,
            Op::Include(vec![added.as_bytes().to_vec()]),
            &[added],
            rng,
        )
    }

    fn remove(
        &mut self,
        member: &mut MpencMember,
        removed: MemberId,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, MpencError> {
        Self::propose(
            member,
            Op::Exclude(vec![removed.as_bytes().to_vec()]),
            &[removed],
            rng,
        )
    }

    fn update(
        &mut self,
        member: &mut MpencMember,
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, MpencError> {
        Self::propose(member, Op::Refresh, &[], rng)
    }

    fn send(
        &mut self,
        member: &mut MpencMember,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<Message>, MpencError> {
        let msg = DataMessage {
            parents: Vec::new(),
            body: plaintext.to_vec(),
        };
        let (packet, _) = member.party.store.encrypt(&msg, rng)?;
        let to: Vec<MemberId> = member
            .party
            .store
            .members()
            .iter()
            .filter_map(mid)
            .collect();
        Ok(vec![Message::broadcast(
            member.id,
            MessageKind::Application,
            to,
            packet.into_bytes(),
        )])
    }

    fn receive(
        &mut self,
        member: &mut MpencMember,
        message: &Incoming<'_>,
        rng: &mut impl CryptoRng,
    ) -> Result<Processed, MpencError> {
        let packet = core::str::from_utf8(message.body).map_err(|_| MpencError::NotMpenc)?;
        let sender = message.sender.as_bytes().to_vec();
        match message.kind {
            MessageKind::Application => {
                let (msg, _) = member.party.store.decrypt(&sender, packet)?;
                Ok(Processed {
                    plaintext: Some(msg.body),
                    ..Processed::default()
                })
            }
            MessageKind::Control => {
                let mut channel = UnverifiedGreet::decode_wire(packet)?.peek().members.clone();
                channel.push(sender.clone());
                let pid = make_packet_id(packet, &sender, &channel);
                let me = member.id.as_bytes().to_vec();
                let echo = Echo {
                    sender,
                    packet: packet.to_owned(),
                };
                let reply = member
                    .party
                    .receive(&me, &echo, pid, &channel, &self.directory, rng);
                let mut out = Processed::default();
                match member.party.finish(&me) {
                    Some(true) => out.removed = true,
                    Some(false) => out.key_changed = true,
                    None => {}
                }
                if let Some(r) = reply {
                    let next = member
                        .party
                        .greeting
                        .as_ref()
                        .and_then(|g| g.next_members().map(<[Id]>::to_vec))
                        .unwrap_or_else(|| member.party.store.members().to_vec());
                    let to: Vec<MemberId> = next.iter().filter_map(mid).collect();
                    out.replies.push(Message::broadcast(
                        member.id,
                        MessageKind::Control,
                        to,
                        r.packet.into_bytes(),
                    ));
                }
                Ok(out)
            }
        }
    }
}
