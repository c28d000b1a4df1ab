//! The paper's evaluation scenario (Figures 6 and 7), shared by the
//! criterion bench (`benches/dcgka.rs`) and `cargo xtask bench dcgka`.
//!
//! A group of n members is set up (create, then every member processes every
//! ack); then one operation runs at member 0 and every member processes its
//! message. A [`Round`] records every message that operation causes (its
//! own messages and every reply), so that a fresh copy of one client can
//! replay exactly its part of the round for timing:
//!
//! - **sender** ([`Round::sender`]): the operation, then every reply;
//! - **recipient** ([`Round::recipient`]): the operation's message with its
//!   direct part, then every other member's reply.
//!
//! Bytes are counted as the paper counts them: a broadcast once, direct
//! messages and acks included ([`Round::bytes`]); [`Round::envelope_bytes`]
//! adds sgm-acb envelopes, with and without ack coalescing.
//!
//! Deterministic (ChaCha20 from a seed): two runs send the same bytes.

use std::collections::HashMap;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sgm_2sm::{PrekeyBundle, PrekeyStore, PublishedPrekeys};
use sgm_acb::{Acb, AcbConfig};
use sgm_crypto::{MemberId, SigningKey};

use crate::broadcast::seal;
use crate::error::{DcgkaError, Result};
use crate::output::Outgoing;
use crate::state::{Config, Dcgka};
use crate::two_party::PrekeyDirectory;

/// The public prekeys of every member (one one-time prekey per fetch).
#[derive(Debug, Default, Clone)]
pub struct Directory(pub HashMap<MemberId, PublishedPrekeys>);

impl PrekeyDirectory for Directory {
    fn fetch(&mut self, m: &MemberId) -> Option<PrekeyBundle> {
        self.0.get_mut(m)?.fetch().ok()
    }
}

/// The operations of Figures 6 and 7 (the application message aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Member 0 creates the group of all n members.
    Create,
    /// Member 0 sends a PCS update.
    Update,
    /// Member 0 removes member n − 1.
    Remove,
    /// Member 0 adds the spare member.
    Add,
}

impl Operation {
    /// Every operation, in table order.
    pub const ALL: [Self; 4] = [Self::Create, Self::Update, Self::Remove, Self::Add];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Remove => "remove",
            Self::Add => "add",
        }
    }
}

/// One client's copy of everything it needs to run its part of a round.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its DCGKA state.
    pub state: Dcgka,
    /// The directory as it was before the round.
    pub directory: Directory,
    /// The randomness as it was before the round (the sender's replay
    /// draws the same values and sends the same messages).
    pub rng: ChaCha20Rng,
}

/// n members and one spare (not in the group), with their directory.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Members 0..n.
    pub states: Vec<Dcgka>,
    /// The member [`Operation::Add`] adds.
    pub spare: Dcgka,
    /// Everyone's published prekeys.
    pub directory: Directory,
    /// The randomness of the next operation.
    pub rng: ChaCha20Rng,
}

/// Every message one operation causes, with its senders.
#[derive(Debug, Clone)]
pub struct Round {
    /// The operation.
    pub operation: Operation,
    /// Its argument: the other members (create), the removed member or the
    /// added member.
    pub targets: Vec<MemberId>,
    /// The sender (member 0).
    pub sender: MemberId,
    /// The operation's own messages (held-back acks first, if any).
    pub first: Vec<Outgoing>,
    /// Every reply (ack, add-ack), with the member index of its sender
    /// (n for the spare).
    pub replies: Vec<(usize, MemberId, Outgoing)>,
}

/// Encoded size of one outgoing control message and its direct messages.
pub fn outgoing_bytes(o: &Outgoing) -> usize {
    o.control.to_bytes().len() + o.direct.iter().map(|d| d.to_bytes().len()).sum::<usize>()
}

/// An sgm-acb instance that sent one message already, so that the next
/// envelope has one parent (as in a running group).
fn warm_acb(rng: &mut ChaCha20Rng) -> Result<Acb> {
    let mut acb = Acb::new(SigningKey::generate(rng), AcbConfig::default());
    seal(&mut acb, &[], Some(b"x"), rng)?;
    Ok(acb)
}

impl Scenario {
    /// n members (n ≥ 2) before create, from a fixed seed.
    pub fn new(n: usize, config: Config) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
        let mut directory = Directory::default();
        // Members 1.. need one one-time prekey (member 0's first contact);
        // the spare needs one per member (every add-ack starts a session).
        let mut make = |rng: &mut ChaCha20Rng, prekeys: usize| {
            let sk = SigningKey::generate(rng);
            let (store, published) = PrekeyStore::publish(rng, &sk, prekeys);
            directory
                .0
                .insert(MemberId::from_identity_key(&sk.verifying_key()), published);
            Dcgka::init(sk, store, config)
        };
        let states = (0..n).map(|_| make(&mut rng, 4)).collect();
        let spare = make(&mut rng, n + 4);
        Self {
            states,
            spare,
            directory,
            rng,
        }
    }

    /// Group size.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Member ids, by index.
    pub fn ids(&self) -> Vec<MemberId> {
        self.states.iter().map(Dcgka::id).collect()
    }

    /// A copy of member `i` (n: the spare) with the directory and
    /// randomness.
    pub fn client(&self, i: usize) -> Client {
        let state = self.states.get(i).unwrap_or(&self.spare).clone();
        Client {
            state,
            directory: self.directory.clone(),
            rng: self.rng.clone(),
        }
    }

    /// Runs `operation` at member 0 and has every member process its
    /// message (in place); the replies are recorded, not delivered.
    pub fn play(&mut self, operation: Operation) -> Result<Round> {
        let n = self.len();
        if n < 2 {
            return Err(DcgkaError::State("scenario needs two members"));
        }
        let ids = self.ids();
        let sender = ids[0];
        let targets = match operation {
            Operation::Create => ids[1..].to_vec(),
            Operation::Update => Vec::new(),
            Operation::Remove => vec![ids[n - 1]],
            Operation::Add => vec![self.spare.id()],
        };
        let mut round = Round {
            operation,
            targets,
            sender,
            first: Vec::new(),
            replies: Vec::new(),
        };
        let (rng, directory) = (&mut self.rng, &mut self.directory);
        round.first = round.start(&mut self.states[0], rng, directory)?;
        let op = round.operation_message()?.clone();
        let receivers = self.states[1..]
            .iter_mut()
            .enumerate()
            .map(|(i, s)| (i + 1, s))
            .chain((operation == Operation::Add).then_some((n, &mut self.spare)));
        for (i, st) in receivers {
            let me = st.id();
            let p = st.process(sender, &op.control, op.direct_for(&me), rng, directory)?;
            if let Some(reply) = p.reply {
                round.replies.push((i, me, reply));
            }
        }
        Ok(round)
    }

    /// [`Self::play`] on a copy: the scenario stays as it is.
    pub fn round(&self, operation: Operation) -> Result<Round> {
        self.clone().play(operation)
    }

    /// Every member (and the spare, if it is in the group) processes every
    /// reply of `round` but its own: O(n²) for a create.
    pub fn deliver(&mut self, round: &Round) -> Result<()> {
        let (rng, directory) = (&mut self.rng, &mut self.directory);
        let spare = self.spare.in_group().then_some(&mut self.spare);
        for st in self.states.iter_mut().chain(spare) {
            if !st.in_group() {
                continue;
            }
            let me = st.id();
            for (_, from, reply) in &round.replies {
                if *from != me {
                    st.process(*from, &reply.control, reply.direct_for(&me), rng, directory)?;
                }
            }
        }
        Ok(())
    }

    /// Create and every ack at every member; returns the create's round.
    pub fn setup(&mut self) -> Result<Round> {
        let round = self.play(Operation::Create)?;
        self.deliver(&round)?;
        Ok(round)
    }
}

impl Round {
    /// The operation's own control message (the last of `first`).
    pub fn operation_message(&self) -> Result<&Outgoing> {
        self.first
            .last()
            .ok_or(DcgkaError::State("operation sent nothing"))
    }

    fn start(
        &self,
        st: &mut Dcgka,
        rng: &mut ChaCha20Rng,
        directory: &mut Directory,
    ) -> Result<Vec<Outgoing>> {
        let out = match self.operation {
            Operation::Create => st.create(&self.targets, rng, directory)?,
            Operation::Update => st.update(rng, directory)?,
            Operation::Remove => st.remove(&self.targets, rng, directory)?,
            Operation::Add => {
                let added = self
                    .targets
                    .first()
                    .ok_or(DcgkaError::State("add without member"))?;
                st.add(*added, rng, directory)?
            }
        };
        Ok(out.messages)
    }

    /// The sender's part: the operation, then every reply.
    pub fn sender(&self, c: &mut Client) -> Result<()> {
        self.start(&mut c.state, &mut c.rng, &mut c.directory)?;
        for (_, from, reply) in &self.replies {
            let me = c.state.id();
            c.state.process(
                *from,
                &reply.control,
                reply.direct_for(&me),
                &mut c.rng,
                &mut c.directory,
            )?;
        }
        Ok(())
    }

    /// A recipient's part: the operation's message, then every other reply.
    pub fn recipient(&self, c: &mut Client) -> Result<()> {
        let me = c.state.id();
        let op = self.operation_message()?;
        c.state.process(
            self.sender,
            &op.control,
            op.direct_for(&me),
            &mut c.rng,
            &mut c.directory,
        )?;
        for (_, from, reply) in &self.replies {
            if *from != me {
                c.state.process(
                    *from,
                    &reply.control,
                    reply.direct_for(&me),
                    &mut c.rng,
                    &mut c.directory,
                )?;
            }
        }
        Ok(())
    }

    /// Total bytes: every message once, direct messages and replies
    /// included, without the broadcast layer.
    pub fn bytes(&self) -> usize {
        self.first.iter().map(outgoing_bytes).sum::<usize>()
            + self
                .replies
                .iter()
                .map(|(_, _, r)| outgoing_bytes(r))
                .sum::<usize>()
    }

    /// `(enveloped, coalesced)`: every message in its own sgm-acb envelope
    /// (one parent each; update and remove announce a new signing key), and
    /// with ack coalescing (§8.1): the operation's envelope plus each
    /// reply's bytes, which ride in the replier's next envelope (sent
    /// anyway) and add no envelope of their own.
    pub fn envelope_bytes(&self) -> Result<(usize, usize)> {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut acb = warm_acb(&mut rng)?;
        let (op, _) = seal(&mut acb, &self.first, None, &mut rng)?;
        let mut enveloped = op.bytes.len();
        let mut coalesced = op.bytes.len();
        for (_, _, reply) in &self.replies {
            let (env, _) = seal(&mut acb, std::slice::from_ref(reply), None, &mut rng)?;
            enveloped += env.bytes.len();
            coalesced += outgoing_bytes(reply);
        }
        Ok((enveloped, coalesced))
    }
}

/// `(DCGKA bytes, enveloped bytes)` of one application message with a
/// `payload`-byte plaintext sent by `state` (changed: its ratchet moves).
pub fn message_bytes(state: &mut Dcgka, payload: usize) -> Result<(usize, usize)> {
    let sealed = state.encrypt(&vec![7u8; payload], b"")?;
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut acb = warm_acb(&mut rng)?;
    let (env, _) = seal(&mut acb, &[], Some(&sealed.message), &mut rng)?;
    Ok((sealed.message.len(), env.bytes.len()))
}
