//! Persisted state: [`SenderKeysMember::to_bytes`] / [`from_bytes`] and the
//! same for [`PairwiseMember`] (layout in `docs/sender-keys.md`).
//!
//! ```text
//! state = version u8 (1) ‖ kind u8 (1 Sender Keys, 2 pairwise) ‖ channels ‖ removed u8 ‖ …
//! channels = identity seed [32] ‖ len u32 ‖ prekey store ‖ count u32 ‖ (peer [16] ‖ len u32 ‖ 2SM session)*
//! Sender Keys … = rotate? u8 [‖ limit u32] ‖ group? u8 [‖ id [16] ‖ members ‖ own] ‖ count u32 ‖ record*
//!   members = count u32 ‖ id [16]*      own = chain id u32 ‖ iteration u32 ‖ chain key [32] ‖ signing seed [32]
//!   record = sender [16] ‖ count u8 ‖ (distribution [89] ‖ iteration u32 ‖ chain key [32] ‖ count u32 ‖ (iteration u32 ‖ key [32])*)*
//! pairwise … = group? u8 [‖ id [16] ‖ members]
//! ```
//! Decoding re-checks every bound and rejects trailing bytes.
//!
//! [`from_bytes`]: SenderKeysMember::from_bytes

use std::collections::{BTreeMap, BTreeSet};

use sgm_2sm::{PrekeyStore, Session};
use sgm_crypto::{MEMBER_ID_LEN, MemberId, Secret, SecretBytes, SigningKey};

use crate::chain::ChainKey;
use crate::channels::Channels;
use crate::error::{Result, SenderKeysError};
use crate::pairwise::PairwiseMember;
use crate::sender_keys::{Config, GroupView, MAX_SENDERS, SenderKeysMember};
use crate::state::{
    MAX_MESSAGE_KEYS, MAX_SENDER_KEY_STATES, OwnSenderKey, SenderKeyRecord, SenderKeyState,
};
use crate::wire::{DISTRIBUTION_LEN, Distribution};

/// Format version of persisted states.
pub const STATE_VERSION: u8 = 1;

const MALFORMED: SenderKeysError = SenderKeysError::Malformed("persisted state");

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn len(&mut self, v: usize) {
        self.u32(u32::try_from(v).unwrap_or(u32::MAX));
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    fn blob(&mut self, b: &[u8]) {
        self.len(b.len());
        self.bytes(b);
    }
    fn members(&mut self, m: &BTreeSet<MemberId>) {
        self.len(m.len());
        for id in m {
            self.bytes(id.as_bytes());
        }
    }
}

struct R<'a>(&'a [u8]);

impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(MALFORMED);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A count of items of at least `min` bytes each: bounded by the bytes left.
    fn count(&mut self, min: usize) -> Result<usize> {
        let n = usize::try_from(self.u32()?).map_err(|_| MALFORMED)?;
        if n.checked_mul(min.max(1)).is_none_or(|b| b > self.0.len()) {
            return Err(MALFORMED);
        }
        Ok(n)
    }
    fn blob(&mut self) -> Result<&'a [u8]> {
        let n = self.count(1)?;
        self.take(n)
    }
    fn flag(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(MALFORMED),
        }
    }
    fn member(&mut self) -> Result<MemberId> {
        MemberId::from_slice(self.take(MEMBER_ID_LEN)?).map_err(|_| MALFORMED)
    }
    fn secret(&mut self) -> Result<Secret<32>> {
        Ok(Secret::from_slice(self.take(32)?)?)
    }
    fn members(&mut self) -> Result<BTreeSet<MemberId>> {
        let n = self.count(MEMBER_ID_LEN)?;
        (0..n).map(|_| self.member()).collect()
    }
    fn id(&mut self) -> Result<[u8; 16]> {
        let mut a = [0u8; 16];
        a.copy_from_slice(self.take(16)?);
        Ok(a)
    }
    fn end(&self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(MALFORMED)
        }
    }
}

fn header(w: &mut W, kind: u8, c: &Channels) {
    w.u8(STATE_VERSION);
    w.u8(kind);
    w.bytes(c.identity.to_seed().expose_secret());
    w.blob(c.store.to_bytes().expose_secret());
    w.len(c.sessions.len());
    for (peer, s) in &c.sessions {
        w.bytes(peer.as_bytes());
        w.blob(s.to_bytes().expose_secret());
    }
}

fn read_header(r: &mut R<'_>, kind: u8) -> Result<Channels> {
    match r.u8()? {
        STATE_VERSION => {}
        v => return Err(SenderKeysError::UnsupportedVersion(v)),
    }
    if r.u8()? != kind {
        return Err(MALFORMED);
    }
    let identity = SigningKey::from_seed(&r.secret()?);
    let store = PrekeyStore::from_bytes(r.blob()?)?;
    let n = r.count(MEMBER_ID_LEN + 4)?;
    let mut sessions = BTreeMap::new();
    for _ in 0..n {
        let peer = r.member()?;
        let s = Session::from_bytes(r.blob()?)?;
        if s.peer_id() != peer {
            return Err(MALFORMED);
        }
        sessions.insert(peer, s);
    }
    if MemberId::from_identity_key(&identity.verifying_key()) != store.member_id() {
        return Err(MALFORMED);
    }
    Ok(Channels {
        identity,
        store,
        sessions,
    })
}

impl SenderKeysMember {
    /// The whole state (secrets included: store it encrypted).
    pub fn to_bytes(&self) -> SecretBytes {
        let mut w = W(Vec::new());
        header(&mut w, 1, &self.channels);
        w.u8(u8::from(self.removed));
        match self.config.rotate_after_messages {
            None => w.u8(0),
            Some(l) => {
                w.u8(1);
                w.u32(l);
            }
        }
        match &self.group {
            None => w.u8(0),
            Some(g) => {
                w.u8(1);
                w.bytes(&g.id);
                w.members(&g.members);
                w.u32(g.own.chain_id);
                w.u32(g.own.chain.iteration());
                w.bytes(g.own.chain.key().expose_secret());
                w.bytes(g.own.signing.to_seed().expose_secret());
            }
        }
        w.len(self.records.len());
        for (sender, r) in &self.records {
            w.bytes(sender.as_bytes());
            w.u8(u8::try_from(r.states.len()).unwrap_or(u8::MAX));
            for s in &r.states {
                w.bytes(s.distribution.to_bytes().expose_secret());
                w.u32(s.chain.iteration());
                w.bytes(s.chain.key().expose_secret());
                w.len(s.skipped.len());
                for (i, k) in &s.skipped {
                    w.u32(*i);
                    w.bytes(k.expose_secret());
                }
            }
        }
        SecretBytes::new(w.0)
    }

    /// Restores a state written by [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = R(bytes);
        let channels = read_header(&mut r, 1)?;
        let removed = r.flag()?;
        let rotate_after_messages = if r.flag()? { Some(r.u32()?) } else { None };
        let group = if r.flag()? {
            let id = r.id()?;
            let members = r.members()?;
            let chain_id = r.u32()?;
            let iteration = r.u32()?;
            let chain = ChainKey::new(r.secret()?, iteration);
            let signing = SigningKey::from_seed(&r.secret()?);
            Some(GroupView {
                id,
                members,
                own: OwnSenderKey {
                    distribution_id: id,
                    chain_id,
                    chain,
                    signing,
                },
            })
        } else {
            None
        };
        let n = r.count(MEMBER_ID_LEN + 1)?;
        if n > MAX_SENDERS {
            return Err(MALFORMED);
        }
        let mut records = BTreeMap::new();
        for _ in 0..n {
            let sender = r.member()?;
            let k = usize::from(r.u8()?);
            if k > MAX_SENDER_KEY_STATES {
                return Err(MALFORMED);
            }
            let mut record = SenderKeyRecord::default();
            for _ in 0..k {
                let distribution = Distribution::from_bytes(r.take(DISTRIBUTION_LEN)?)?;
                let iteration = r.u32()?;
                let chain = ChainKey::new(r.secret()?, iteration);
                let m = r.count(36)?;
                if m > MAX_MESSAGE_KEYS {
                    return Err(MALFORMED);
                }
                let mut skipped = BTreeMap::new();
                for _ in 0..m {
                    let i = r.u32()?;
                    skipped.insert(i, r.secret()?);
                }
                record.states.push_back(SenderKeyState {
                    distribution,
                    chain,
                    skipped,
                });
            }
            records.insert(sender, record);
        }
        r.end()?;
        Ok(Self {
            channels,
            group,
            records,
            removed,
            config: Config {
                rotate_after_messages,
            },
        })
    }
}

impl PairwiseMember {
    /// The whole state (secrets included: store it encrypted).
    pub fn to_bytes(&self) -> SecretBytes {
        let mut w = W(Vec::new());
        header(&mut w, 2, &self.channels);
        w.u8(u8::from(self.removed));
        match &self.group {
            None => w.u8(0),
            Some((id, members)) => {
                w.u8(1);
                w.bytes(id);
                w.members(members);
            }
        }
        SecretBytes::new(w.0)
    }

    /// Restores a state written by [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = R(bytes);
        let channels = read_header(&mut r, 2)?;
        let removed = r.flag()?;
        let group = if r.flag()? {
            Some((r.id()?, r.members()?))
        } else {
            None
        };
        r.end()?;
        Ok(Self {
            channels,
            group,
            removed,
        })
    }
}
