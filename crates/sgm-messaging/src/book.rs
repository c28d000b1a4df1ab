//! The façade's own bookkeeping: member cards, per-message causal summaries
//! (version vectors), the transcript, delivery tracking, the §7 rule and
//! epoch ages. Plain serde data, persisted as JSON inside the state.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sgm_acb::MessageId;
use sgm_crypto::MemberId;

use crate::credential::ExpectedWelcome;
use crate::ids::{Hex, Invite, Mid, Mix, UserId, Vk};
use crate::vv::Vv;

/// One known member id (current or past).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Card {
    pub(crate) user: UserId,
    pub(crate) key: Vk,
    /// The identity key's signature over the card (`credential.rs`).
    #[serde(default)]
    pub(crate) sig: Hex,
    /// Position in the version vectors.
    pub(crate) index: usize,
}

impl Card {
    /// The card as an [`Invite`] (for welcomes).
    pub(crate) fn invite(&self) -> Invite {
        let mut sig = [0u8; sgm_crypto::SIGNATURE_LEN];
        if let Some(s) = self.sig.0.first_chunk::<{ sgm_crypto::SIGNATURE_LEN }>() {
            sig = *s;
        }
        Invite::from_parts(self.user.clone(), self.key.0, sig)
    }
}

/// What is known of one delivered broadcast.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub(crate) sender: Mid,
    pub(crate) seq: u64,
    /// Version vector of its causal past (itself included), indexed like
    /// `Book::index`.
    pub(crate) vv: Vv,
    /// For a key-agreement control message: its DGM op id
    /// (`sgm_dcgka::op_id(sender, control seq)`; updates and acks of
    /// updates are no DGM ops and are ignored when evaluating views).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) op: Option<Hex>,
}

/// What a pending welcome is built from (see [`Book::welcome_seeds`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct WelcomeSeed {
    pub(crate) checkpoint: Hex,
    /// Position in [`Book::log`] of the first broadcast after the
    /// checkpoint.
    pub(crate) from: usize,
    /// The members whose cards the welcome carries (every card accepted
    /// before the add): the signed add names their digest with the
    /// checkpoint's (`credential::welcome_digest`).
    #[serde(default)]
    pub(crate) cards: Vec<Mid>,
}

/// A transcript entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) id: Mix,
    pub(crate) sender: Mid,
    pub(crate) user: UserId,
    pub(crate) text: Hex,
    pub(crate) parents: Vec<Mix>,
    pub(crate) out_of_line: bool,
}

/// Delivery tracking of one application message. Who has acknowledged it
/// is not stored per message (O(members) per message, updated on every
/// delivery: at 500 members that was half the CPU and gigabytes in the
/// demo) but read from [`Book::acked`] when needed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Tracked {
    pub(crate) sender: Mid,
    pub(crate) seq: u64,
    pub(crate) at_ms: u64,
    /// The intended readers: the other members when it was sent or
    /// delivered here (its sender is skipped), shared between messages
    /// while the membership is unchanged.
    pub(crate) readers: Readers,
    pub(crate) warned: bool,
    /// When `tick` next checks it: at `at_ms` + the delivery timeout, then
    /// once per timeout while some reader has not acknowledged it.
    pub(crate) check_ms: u64,
}

/// A shared set of members, persisted as a plain set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Readers(pub(crate) Arc<BTreeSet<Mid>>);

impl Serialize for Readers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Readers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeSet::<Mid>::deserialize(d).map(|r| Readers(Arc::new(r)))
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Book {
    pub(crate) cards: BTreeMap<Mid, Card>,
    pub(crate) index: Vec<Mid>,
    pub(crate) meta: BTreeMap<Mix, Meta>,
    pub(crate) meta_order: VecDeque<Mix>,
    /// Every delivered broadcast in delivery order (a causal order).
    pub(crate) log: Vec<Mix>,
    /// Position of each broadcast in `log` (derived; rebuilt on restore by
    /// [`Book::reindex`]): sync answers sort what a peer lacks into
    /// delivery order without walking the log.
    #[serde(skip)]
    pub(crate) pos: HashMap<Mix, usize>,
    /// Recent merges by parent list (derived cache, not persisted).
    #[serde(skip)]
    vv_memo: VecDeque<(Vec<MessageId>, Vv)>,
    pub(crate) by_seq: BTreeMap<Mid, BTreeMap<u64, Mix>>,
    pub(crate) transcript: VecDeque<Entry>,
    pub(crate) app_heads: BTreeSet<Mix>,
    pub(crate) tracked: BTreeMap<Mix, Tracked>,
    /// Per member, the version vector of its latest broadcast delivered
    /// here: it acknowledges everything in that causal past (mpENC §3.5).
    /// Overwritten on each delivery, O(1) (the vectors are shared).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) acked: BTreeMap<Mid, Vv>,
    /// The readers of the next tracked message while the membership is
    /// unchanged (derived; cleared when it changes).
    #[serde(skip)]
    pub(crate) readers: Option<Readers>,
    /// Since when a received application message waits for our ack.
    pub(crate) ack_due_since: Option<u64>,
    /// Since when key-agreement acks are held back.
    pub(crate) control_acks_since: Option<u64>,
    /// §7: updates/removals not yet dominated.
    pub(crate) undominated: BTreeSet<Mix>,
    /// §7: since when `undominated` has held two or more (for the
    /// fallback when the designated member does not dominate them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) undominated_since: Option<u64>,
    pub(crate) sent_since_update: u64,
    pub(crate) last_update_ms: u64,
    /// Per member, its epochs and when each was superseded.
    pub(crate) epochs: BTreeMap<Mid, BTreeMap<u64, Option<u64>>>,
    /// Broadcasts from senders not known yet (or before joining), retried
    /// when new member keys arrive. Unverified (their senders' keys are
    /// not known), so bounded by [`MAX_PARKED`] and [`MAX_PARKED_BYTES`],
    /// and never persisted: whatever is lost here is fetched again by a
    /// sync request.
    #[serde(skip)]
    pub(crate) parked: VecDeque<Hex>,
    pub(crate) joined: bool,
    pub(crate) removed: bool,
    /// Application messages not decrypted here (before joining, or not
    /// meant for this member), so later references to them are expected.
    pub(crate) skipped: VecDeque<Mix>,
    /// Application messages that were never meant for this member
    /// ([`crate::Event::NotForMe`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) not_for_me: u64,
    /// Members this member welcomed and has not heard from yet, with when
    /// the welcome was last sent (re-sent by `tick`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) welcomes: BTreeMap<Mid, u64>,
    /// What each pending welcome is built from: the ACB checkpoint taken
    /// just before the add and the add's position in `log` (the welcome
    /// carries the checkpoint and the envelopes from there on, not the
    /// whole history).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) welcome_seeds: BTreeMap<Mid, WelcomeSeed>,
    /// A member that joined from a checkpoint: the version vector of
    /// everything the checkpoint counts as delivered. Broadcasts it never
    /// saw (from before its add) stand for this past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base: Option<Vv>,
    /// The checkpoint digest named by the signed add that added this
    /// member (checked against the welcome's checkpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) join_digest: Option<Hex>,
    /// `(sender, seq)` of the broadcast that added this member (or created
    /// the group with it): a sender whose past lacks it did not count this
    /// member in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) added_by: Option<(Mid, u64)>,
    /// What this member, not joined yet, expects of its welcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expected: Option<ExpectedWelcome>,
    /// Every delivered create, add and remove: DGM op id, sender, ACB seq
    /// (`causal.rs`: the membership ops of a message's causal past).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) memops: Vec<(Hex, Mid, u64)>,
    /// Members removed in the last [`crate::REMOVED_PEER_SYNC_MS`], with
    /// when this member processed the removal: still sync peers
    /// (`causal.rs`, [`crate::Group::sync_peers`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) removed_at: BTreeMap<Mid, u64>,
    /// When this member last asked a peer back in a sync answer. In memory
    /// only: answering a sync request never changes the persisted state
    /// (losing it on a restart allows one early ask-back).
    #[serde(skip)]
    pub(crate) asked_back_ms: Option<u64>,
    /// Per member that equivocated, the first evidence (encoded
    /// `sgm_acb::Equivocation`); one per known member card.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) equivocations: BTreeMap<Mid, Hex>,
    /// Per requester, the newest sync-request stamp answered (in memory
    /// only, see `sync.rs`).
    #[serde(skip)]
    pub(crate) sync_stamps: BTreeMap<Mid, u64>,
    /// Per requester, the newest fetch stamp answered (in memory only, see
    /// `fetch.rs`; apart from `sync_stamps`, since a fetch and the sync
    /// request before it may arrive in either order).
    #[serde(skip)]
    pub(crate) fetch_stamps: BTreeMap<Mid, u64>,
    /// The largest `now_ms` this member was given (in memory only): the
    /// stamp of its next sync request.
    #[serde(skip)]
    pub(crate) clock_ms: u64,
    /// The stamp of this member's last sync request (in memory only).
    #[serde(skip)]
    pub(crate) last_sync_stamp: u64,
    /// Bytes held in `parked`.
    #[serde(skip)]
    pub(crate) parked_bytes: usize,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Recent parent-list merges remembered ([`Book::past_of`]).
const VV_MEMO: usize = 8;

/// Most parked packets (unverified input: a small bound).
pub const MAX_PARKED: usize = 256;
/// Most bytes of parked packets; a single packet above it is not parked.
pub const MAX_PARKED_BYTES: usize = 1 << 20;

impl Book {
    pub(crate) fn skip(&mut self, id: MessageId, max: usize) {
        self.skipped.push_back(Mix(id));
        while self.skipped.len() > max.max(1) {
            self.skipped.pop_front();
        }
    }

    /// Records an accepted card (its signature checked by the caller).
    pub(crate) fn add_card(&mut self, card: &Invite) -> bool {
        let id = card.member_id();
        if self.cards.contains_key(&Mid(id)) {
            return false;
        }
        let index = self.index.len();
        self.index.push(Mid(id));
        self.cards.insert(
            Mid(id),
            Card {
                user: card.user.clone(),
                key: Vk(card.identity),
                sig: Hex(card.signature().to_vec()),
                index,
            },
        );
        true
    }

    /// Rebuilds the derived indexes after a restore.
    pub(crate) fn reindex(&mut self) {
        self.pos = self
            .log
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect();
    }

    /// Starts delivery tracking of `id`.
    pub(crate) fn start_tracking(&mut self, id: Mix, t: Tracked) {
        self.tracked.insert(id, t);
    }

    /// Stops delivery tracking of `id`.
    pub(crate) fn stop_tracking(&mut self, id: &Mix) {
        self.tracked.remove(id);
    }

    /// A broadcast from `reader` with version vector `vv` acknowledges its
    /// causal past.
    pub(crate) fn acknowledged(&mut self, reader: Mid, vv: &Vv) {
        self.acked.insert(reader, vv.clone());
    }

    /// The readers of `t` (still in `members`) that have not acknowledged
    /// it.
    pub(crate) fn missing<'a>(
        &'a self,
        t: &'a Tracked,
        members: &'a BTreeSet<Mid>,
    ) -> impl Iterator<Item = Mid> + 'a {
        t.readers.0.iter().copied().filter(move |r| {
            *r != t.sender
                && members.contains(r)
                && !self
                    .acked
                    .get(r)
                    .is_some_and(|v| self.covers(v, &t.sender, t.seq))
        })
    }

    /// What a peer that has delivered `theirs` (per sender, the highest
    /// seq; absent: none) lacks, in this member's delivery order, from
    /// the per-sender index: O(senders + answer), not O(log).
    pub(crate) fn lacking(&self, theirs: &HashMap<MemberId, u64>) -> Vec<Mix> {
        let mut wanted: Vec<(usize, Mix)> = Vec::new();
        for (m, seqs) in &self.by_seq {
            let have = theirs.get(&m.0).copied().unwrap_or(0);
            for id in seqs.range(have.saturating_add(1)..).map(|(_, id)| id) {
                if let Some(p) = self.pos.get(id) {
                    wanted.push((*p, *id));
                }
            }
        }
        wanted.sort_unstable_by_key(|(p, _)| *p);
        wanted.into_iter().map(|(_, id)| id).collect()
    }

    fn idx(&self, m: &MemberId) -> Option<usize> {
        self.cards.get(&Mid(*m)).map(|c| c.index)
    }

    /// Records a delivered broadcast; returns its version vector.
    pub(crate) fn record(
        &mut self,
        id: MessageId,
        sender: MemberId,
        seq: u64,
        parents: &[MessageId],
        max_meta: usize,
    ) -> Vv {
        let own = self.idx(&sender).map(|i| (i, seq));
        let past = self.past_of(parents);
        let vv = Vv::merge([&past], own, self.index.len());
        self.meta.insert(
            Mix(id),
            Meta {
                sender: Mid(sender),
                seq,
                vv: vv.clone(),
                op: None,
            },
        );
        self.meta_order.push_back(Mix(id));
        while self.meta_order.len() > max_meta.max(1) {
            if let Some(old) = self.meta_order.pop_front() {
                self.meta.remove(&old);
            }
        }
        self.pos.insert(Mix(id), self.log.len());
        self.log.push(Mix(id));
        // A fork (a second broadcast of the sender with this seq) keeps the
        // first one's place: the index answers sync requests by seq.
        self.by_seq
            .entry(Mid(sender))
            .or_default()
            .entry(seq)
            .or_insert(Mix(id));
        vv
    }

    /// The merged version vector of `parents`. The broadcasts of one round
    /// name the same heads (at n members, n broadcasts naming the same ~n
    /// parents), so recent merges are remembered by parent list: each
    /// broadcast of the round then shares one base instead of making its
    /// own, which the next round would have to merge n at a time.
    fn past_of(&mut self, parents: &[MessageId]) -> Vv {
        if let Some((_, v)) = self.vv_memo.iter().find(|(p, _)| p.as_slice() == parents) {
            return v.clone();
        }
        let known: Vec<&Vv> = parents
            .iter()
            .filter_map(|p| self.meta.get(&Mix(*p)))
            .map(|m| &m.vv)
            .collect();
        // A member that joined from a checkpoint never saw the broadcasts
        // from before its add: their past is within the checkpoint's.
        let base = self.base.as_ref().filter(|_| known.len() < parents.len());
        let v = Vv::merge(known.into_iter().chain(base), None, self.index.len());
        // A single parent's vector is already shared; keep the memo for
        // the merges that cost.
        if parents.len() > 1 {
            self.vv_memo.push_front((parents.to_vec(), v.clone()));
            self.vv_memo.truncate(VV_MEMO);
        }
        v
    }

    /// Notes the DGM op id of a recorded control broadcast.
    pub(crate) fn note_op(&mut self, id: MessageId, op: [u8; 32]) {
        if let Some(m) = self.meta.get_mut(&Mix(id)) {
            m.op = Some(Hex(op.to_vec()));
        }
    }

    /// The DGM op ids (candidates) of the control broadcasts in the causal
    /// past described by `vv`.
    pub(crate) fn ops_in_past(&self, vv: &Vv) -> Vec<[u8; 32]> {
        self.meta
            .values()
            .filter(|m| self.covers(vv, &m.sender, m.seq))
            .filter_map(|m| m.op.as_ref())
            .filter_map(|h| <[u8; 32]>::try_from(h.0.as_slice()).ok())
            .collect()
    }

    /// Whether `(sender, seq)` is in the causal past described by `vv`.
    pub(crate) fn covers(&self, vv: &Vv, sender: &Mid, seq: u64) -> bool {
        self.idx(&sender.0).is_some_and(|i| vv.get(i) >= seq)
    }

    /// A new epoch of `member` supersedes its older ones at `now`.
    pub(crate) fn note_epoch(&mut self, member: MemberId, epoch: u64, now: u64, keep: usize) {
        let map = self.epochs.entry(Mid(member)).or_default();
        for (e, sup) in map.iter_mut() {
            if *e < epoch && sup.is_none() {
                *sup = Some(now);
            }
        }
        map.entry(epoch).or_insert(None);
        while map.len() > keep.saturating_add(1) {
            if map.pop_first().is_none() {
                break;
            }
        }
    }

    /// §7: a delivered update/removal `id` with version vector `vv`,
    /// delivered at `now`.
    pub(crate) fn note_pcs(&mut self, id: MessageId, vv: &Vv, now: u64) {
        let dominated: Vec<Mix> = self
            .undominated
            .iter()
            .filter(|u| {
                self.meta
                    .get(u)
                    .is_none_or(|m| self.covers(vv, &m.sender, m.seq))
            })
            .copied()
            .collect();
        for d in dominated {
            self.undominated.remove(&d);
        }
        self.undominated.insert(Mix(id));
        if self.undominated.len() >= 2 {
            self.undominated_since.get_or_insert(now);
        } else {
            self.undominated_since = None;
        }
    }

    /// §7: this member's own update or removal dominates everything it
    /// delivered.
    pub(crate) fn dominated_by_own(&mut self, id: MessageId) {
        self.undominated.clear();
        self.undominated.insert(Mix(id));
        self.undominated_since = None;
    }
}
