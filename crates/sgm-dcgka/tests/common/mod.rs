//! A simulated group: members, an in-memory prekey directory, and a network
//! that delivers broadcasts in any order consistent with causality.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sgm_2sm::{PrekeyBundle, PrekeyStore, PublishedPrekeys};
use sgm_crypto::{MemberId, Secret, SigningKey};
use sgm_dcgka::{
    Config, Dcgka, DcgkaError, OperationOutput, Outgoing, PrekeyDirectory, ProcessOutput,
    UpdateSecretEvent,
};

/// In-memory PKI.
#[derive(Default)]
pub struct Directory(pub HashMap<MemberId, PublishedPrekeys>);

impl PrekeyDirectory for Directory {
    fn fetch(&mut self, member: &MemberId) -> Option<PrekeyBundle> {
        self.0.get_mut(member)?.fetch().ok()
    }
}

/// A broadcast control message with every recipient's direct part.
#[derive(Clone, Debug)]
pub struct Broadcast {
    pub id: usize,
    pub sender: MemberId,
    pub out: Outgoing,
    /// Ids of every message the sender had sent or processed before.
    pub deps: BTreeSet<usize>,
}

/// An application message in flight.
#[derive(Clone, Debug)]
pub struct AppMsg {
    pub id: usize,
    pub sender: MemberId,
    pub bytes: Vec<u8>,
    pub plaintext: Vec<u8>,
    pub deps: BTreeSet<usize>,
    /// The sender's members (without itself) when it sent the message.
    pub audience: BTreeSet<MemberId>,
}

pub struct Node {
    pub state: Dcgka,
    /// Control messages seen (sent or processed, or skipped at join).
    pub seen: BTreeSet<usize>,
    pub joined: bool,
    /// (member, epoch) → update secret bytes, as derived here.
    pub secrets: BTreeMap<(MemberId, u64), [u8; 32]>,
    /// App messages decrypted: id → plaintext.
    pub decrypted: BTreeMap<usize, Vec<u8>>,
}

pub struct Sim {
    pub rng: ChaCha20Rng,
    pub dir: Directory,
    pub nodes: BTreeMap<MemberId, Node>,
    /// Names in creation order (index → id), for readable tests.
    pub names: Vec<MemberId>,
    pub msgs: Vec<Broadcast>,
    pub apps: Vec<AppMsg>,
    /// Per node: control message ids not yet delivered.
    pub pending: BTreeMap<MemberId, Vec<usize>>,
    pub pending_apps: BTreeMap<MemberId, Vec<usize>>,
    pub config: Config,
}

pub fn record(node: &mut Node, ev: &UpdateSecretEvent) {
    let bytes = *ev.secret.expose_secret();
    if let Some(old) = node.secrets.insert((ev.member, ev.epoch), bytes) {
        assert_eq!(old, bytes, "update secret changed for an epoch");
    }
}

impl Sim {
    pub fn new(n: usize, seed: u64, config: Config) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut dir = Directory::default();
        let mut nodes = BTreeMap::new();
        let mut names = Vec::new();
        for _ in 0..n {
            let sk = SigningKey::from_seed(&Secret::random(&mut rng));
            let (store, published) = PrekeyStore::publish(&mut rng, &sk, 2 * n + 4);
            let id = MemberId::from_identity_key(&sk.verifying_key());
            dir.0.insert(id, published);
            nodes.insert(
                id,
                Node {
                    state: Dcgka::init(sk, store, config),
                    seen: BTreeSet::new(),
                    joined: false,
                    secrets: BTreeMap::new(),
                    decrypted: BTreeMap::new(),
                },
            );
            names.push(id);
        }
        Self {
            rng,
            dir,
            nodes,
            names,
            msgs: Vec::new(),
            apps: Vec::new(),
            pending: BTreeMap::new(),
            pending_apps: BTreeMap::new(),
            config,
        }
    }

    pub fn id(&self, i: usize) -> MemberId {
        self.names[i]
    }

    fn broadcast(&mut self, sender: MemberId, outs: Vec<Outgoing>) -> Vec<usize> {
        let mut ids = Vec::new();
        for out in outs {
            let id = self.msgs.len();
            let node = self.nodes.get_mut(&sender).unwrap();
            let deps = node.seen.clone();
            node.seen.insert(id);
            self.msgs.push(Broadcast {
                id,
                sender,
                out,
                deps,
            });
            for other in self.names.clone() {
                if other != sender {
                    self.pending.entry(other).or_default().push(id);
                }
            }
            ids.push(id);
        }
        ids
    }

    fn finish_op(&mut self, who: MemberId, out: OperationOutput) -> Vec<usize> {
        let node = self.nodes.get_mut(&who).unwrap();
        record(node, &out.update_secret);
        node.joined = true;
        self.broadcast(who, out.messages)
    }

    pub fn create(&mut self, who: usize, members: &[usize]) -> Vec<usize> {
        let who = self.id(who);
        let members: Vec<MemberId> = members.iter().map(|i| self.id(*i)).collect();
        let node = self.nodes.get_mut(&who).unwrap();
        let out = node
            .state
            .create(&members, &mut self.rng, &mut self.dir)
            .unwrap();
        self.finish_op(who, out)
    }

    pub fn try_update(&mut self, who: MemberId) -> Result<Vec<usize>, DcgkaError> {
        let node = self.nodes.get_mut(&who).unwrap();
        let out = node.state.update(&mut self.rng, &mut self.dir)?;
        Ok(self.finish_op(who, out))
    }

    pub fn update(&mut self, who: usize) -> Vec<usize> {
        let id = self.id(who);
        self.try_update(id).unwrap()
    }

    pub fn try_add(&mut self, who: MemberId, added: MemberId) -> Result<Vec<usize>, DcgkaError> {
        let node = self.nodes.get_mut(&who).unwrap();
        let out = node.state.add(added, &mut self.rng, &mut self.dir)?;
        Ok(self.finish_op(who, out))
    }

    pub fn add(&mut self, who: usize, added: usize) -> Vec<usize> {
        let (w, a) = (self.id(who), self.id(added));
        self.try_add(w, a).unwrap()
    }

    pub fn try_remove(
        &mut self,
        who: MemberId,
        removed: &[MemberId],
    ) -> Result<Vec<usize>, DcgkaError> {
        let node = self.nodes.get_mut(&who).unwrap();
        let out = node.state.remove(removed, &mut self.rng, &mut self.dir)?;
        Ok(self.finish_op(who, out))
    }

    pub fn remove(&mut self, who: usize, removed: &[usize]) -> Vec<usize> {
        let w = self.id(who);
        let r: Vec<MemberId> = removed.iter().map(|i| self.id(*i)).collect();
        self.try_remove(w, &r).unwrap()
    }

    /// Sends an application message; held-back acks go first.
    pub fn try_send(&mut self, who: MemberId, text: &[u8]) -> Result<usize, DcgkaError> {
        let node = self.nodes.get_mut(&who).unwrap();
        let sealed = node.state.encrypt(text, b"")?;
        let audience: BTreeSet<MemberId> = node
            .state
            .members()
            .into_iter()
            .filter(|m| *m != who)
            .collect();
        self.broadcast(who, sealed.control);
        let node = self.nodes.get_mut(&who).unwrap();
        let id = self.apps.len();
        self.apps.push(AppMsg {
            id,
            sender: who,
            bytes: sealed.message,
            plaintext: text.to_vec(),
            deps: node.seen.clone(),
            audience,
        });
        for other in self.names.clone() {
            if other != who {
                self.pending_apps.entry(other).or_default().push(id);
            }
        }
        Ok(id)
    }

    pub fn send(&mut self, who: usize, text: &[u8]) -> usize {
        let id = self.id(who);
        self.try_send(id, text).unwrap()
    }

    /// Flushes acks held back by coalescing.
    pub fn flush(&mut self, who: MemberId) {
        let outs = self.nodes.get_mut(&who).unwrap().state.take_pending();
        self.broadcast(who, outs);
    }

    /// Whether `msg` can be delivered to `to` now.
    pub fn deliverable(&self, to: MemberId, msg: usize) -> bool {
        let node = &self.nodes[&to];
        let m = &self.msgs[msg];
        if node.state.dgm().is_some() && !node.state.in_group() {
            return false;
        }
        if !node.joined {
            // Only the message that adds or creates it.
            return match &m.out.control.kind {
                sgm_dcgka::messages::ControlKind::Add { added } => *added == to,
                sgm_dcgka::messages::ControlKind::Create { members } => members.contains(&to),
                _ => false,
            };
        }
        m.deps.is_subset(&node.seen)
    }

    /// Delivers control message `msg` to `to` (must be deliverable).
    pub fn deliver(&mut self, to: MemberId, msg: usize) -> ProcessOutput {
        let m = self.msgs[msg].clone();
        let node = self.nodes.get_mut(&to).unwrap();
        let direct = m.out.direct_for(&to).cloned();
        let out = node
            .state
            .process(
                m.sender,
                &m.out.control,
                direct.as_ref(),
                &mut self.rng,
                &mut self.dir,
            )
            .unwrap_or_else(|e| {
                panic!(
                    "{to:?} processing #{msg} ({}) from {:?}: {e}",
                    m.out.control.kind.name(),
                    m.sender
                )
            });
        if !node.joined {
            node.joined = true;
            // The history in the welcome stands for everything before it.
            node.seen.extend(m.deps.iter().copied());
        }
        node.seen.insert(msg);
        if let Some(ev) = &out.sender_update_secret {
            record(node, ev);
        }
        if let Some(ev) = &out.me_update_secret {
            record(node, ev);
        }
        let reply = out.reply.clone();
        let seen = node.seen.clone();
        if let Some(p) = self.pending.get_mut(&to) {
            p.retain(|x| !seen.contains(x));
        }
        if let Some(reply) = reply {
            self.broadcast(to, vec![reply]);
        }
        out
    }

    /// Delivers app message `app` to `to` if causally ready; returns whether
    /// it was taken off the queue.
    pub fn deliver_app(&mut self, to: MemberId, app: usize) -> bool {
        let a = self.apps[app].clone();
        let node = self.nodes.get_mut(&to).unwrap();
        if !node.joined || !a.deps.is_subset(&node.seen) {
            return false;
        }
        if let Ok(pt) = node.state.decrypt(&a.sender, &a.bytes, b"") {
            node.decrypted.insert(app, pt.expose_secret().to_vec());
        }
        true
    }

    /// Delivers one random deliverable message; false if none.
    pub fn step_random(&mut self) -> bool {
        let mut choices = Vec::new();
        for (to, queue) in &self.pending {
            for &m in queue {
                if self.deliverable(*to, m) {
                    choices.push((*to, m));
                }
            }
        }
        if choices.is_empty() {
            return false;
        }
        let (to, m) = choices[(self.rng.next_u64() % choices.len() as u64) as usize];
        self.deliver(to, m);
        true
    }

    /// Delivers everything, choosing among deliverable messages with the
    /// sim's rng (or in FIFO order if `random` is false).
    pub fn run(&mut self, random: bool) {
        loop {
            let mut choices = Vec::new();
            for (to, queue) in &self.pending {
                for &m in queue {
                    if self.deliverable(*to, m) {
                        choices.push((*to, m));
                    }
                }
            }
            if choices.is_empty() {
                break;
            }
            let pick = if random {
                (self.rng.next_u64() % choices.len() as u64) as usize
            } else {
                0
            };
            let (to, m) = choices[pick];
            if self.config.coalesce_acks && random && self.rng.next_u32().is_multiple_of(3) {
                self.flush(to);
            }
            self.deliver(to, m);
            if self.config.coalesce_acks && choices.len() == 1 {
                for id in self.names.clone() {
                    self.flush(id);
                }
            }
        }
        if self.config.coalesce_acks {
            let any = self.nodes.values().any(|n| n.state.pending_len() > 0);
            if any {
                for id in self.names.clone() {
                    self.flush(id);
                }
                self.run(random);
            }
        }
        self.drop_undeliverable();
    }

    fn drop_undeliverable(&mut self) {
        // Messages still queued are for members that never joined or left.
        for (to, q) in self.pending.iter_mut() {
            let node = &self.nodes[to];
            if node.joined && node.state.in_group() {
                assert!(q.is_empty(), "{to:?}: {} control messages stuck", q.len());
            }
        }
    }

    /// Delivers all application messages that can be delivered.
    pub fn run_apps(&mut self) {
        for to in self.names.clone() {
            let queue = self.pending_apps.remove(&to).unwrap_or_default();
            let mut left = Vec::new();
            for app in queue {
                if !self.deliver_app(to, app) {
                    left.push(app);
                }
            }
            self.pending_apps.insert(to, left);
        }
    }

    pub fn current_members(&self) -> Vec<MemberId> {
        self.names
            .iter()
            .copied()
            .filter(|id| {
                let n = &self.nodes[id];
                n.joined && n.state.in_group()
            })
            .collect()
    }

    /// After quiescence: every current member agrees with every other on
    /// each shared (member, epoch) secret, all hold the same membership, and
    /// every current member's latest update secret is known to all others.
    pub fn assert_converged(&self) {
        let current = self.current_members();
        let first = &self.nodes[&current[0]].state.members();
        for a in &current {
            assert_eq!(&self.nodes[a].state.members(), first, "membership differs");
        }
        assert_eq!(
            first,
            &current.iter().copied().collect::<BTreeSet<_>>(),
            "DGM membership is not the set of live members"
        );
        for a in &current {
            for b in &current {
                for ((m, e), s) in &self.nodes[a].secrets {
                    if let Some(t) = self.nodes[b].secrets.get(&(*m, *e)) {
                        assert_eq!(s, t, "secret of {m:?} epoch {e} differs at {a:?} and {b:?}");
                    }
                }
            }
        }
        for z in &current {
            let own = self.nodes[z].state.epoch().unwrap();
            let own_secret = self.nodes[z].secrets[&(*z, own)];
            for x in &current {
                if x != z {
                    assert_eq!(
                        self.nodes[x].secrets.get(&(*z, own)),
                        Some(&own_secret),
                        "{x:?} lacks {z:?}'s current epoch {own}"
                    );
                }
            }
        }
    }

    /// Every app message of a current member reached every member of its
    /// audience that is still a member. (A removed member's messages
    /// concurrent with its removal may arrive after the removal settled,
    /// when its ratchet is gone: docs/dcgka.md, rule 3.)
    pub fn assert_apps_delivered(&self) {
        let current: BTreeSet<MemberId> = self.current_members().into_iter().collect();
        for a in self.apps.iter().filter(|a| current.contains(&a.sender)) {
            for r in a.audience.intersection(&current) {
                assert_eq!(
                    self.nodes[r].decrypted.get(&a.id),
                    Some(&a.plaintext),
                    "{r:?} did not decrypt app #{} from {:?}",
                    a.id,
                    a.sender
                );
            }
        }
    }
}
