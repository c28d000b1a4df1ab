//! The pairwise channels: one sgm-2sm session per peer, started from the
//! peer's prekey bundle (first contact signed by our identity key).
//!
//! Sealing and opening work on copies; the caller commits them only once
//! the whole step succeeded, so an error leaves every session and the
//! prekey store unchanged.

use std::collections::BTreeMap;

use sgm_2sm::{PrekeyBundle, PrekeyStore, Session};
use sgm_crypto::{CryptoRng, MemberId, SecretBytes, SigningKey};

use crate::error::{Result, SenderKeysError};

/// Where a member finds another member's prekey bundle (the key server).
pub trait PrekeyDirectory {
    /// A bundle of `member` with one one-time prekey, if any is left.
    fn fetch(&mut self, member: &MemberId) -> Option<PrekeyBundle>;
}

/// A pairwise message: a 2SM ciphertext for one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Its recipient.
    pub to: MemberId,
    /// The 2SM message.
    pub bytes: Vec<u8>,
}

/// A member's identity, prekeys and sessions.
#[derive(Clone, Debug)]
pub struct Channels {
    pub(crate) identity: SigningKey,
    pub(crate) store: PrekeyStore,
    pub(crate) sessions: BTreeMap<MemberId, Session>,
}

/// A message opened on copies, not yet committed.
pub(crate) struct Opened {
    from: MemberId,
    session: Session,
    store: PrekeyStore,
    plaintext: SecretBytes,
}

/// Messages sealed (and at most one opened) on copies of the sessions, not
/// yet committed.
#[derive(Default)]
pub(crate) struct Staged {
    sessions: BTreeMap<MemberId, Session>,
    store: Option<PrekeyStore>,
    out: Vec<Outgoing>,
}

impl Staged {
    /// Starts from an opened message: its session is the one replies to its
    /// sender are sealed on.
    pub(crate) fn opened(o: Opened) -> (Self, SecretBytes) {
        let mut sessions = BTreeMap::new();
        sessions.insert(o.from, o.session);
        (
            Self {
                sessions,
                store: Some(o.store),
                out: Vec::new(),
            },
            o.plaintext,
        )
    }
}

impl Channels {
    /// A member with this identity and prekey store.
    pub fn new(identity: SigningKey, store: PrekeyStore) -> Self {
        Self {
            identity,
            store,
            sessions: BTreeMap::new(),
        }
    }

    /// Our member id.
    pub fn id(&self) -> MemberId {
        self.store.member_id()
    }

    /// The session with `peer`, if any.
    pub fn session(&self, peer: &MemberId) -> Option<&Session> {
        self.sessions.get(peer)
    }

    /// Opens a message from `from` on copies.
    pub(crate) fn open(&self, from: &MemberId, bytes: &[u8]) -> Result<Opened> {
        let mut store = self.store.clone();
        let (session, plaintext) = match self.sessions.get(from) {
            Some(s) => {
                let mut s = s.clone();
                let p = s.receive(&mut store, bytes)?;
                (s, p)
            }
            None => Session::accept(&mut store, from, bytes)?,
        };
        Ok(Opened {
            from: *from,
            session,
            store,
            plaintext,
        })
    }

    /// Seals `plaintext` for `to` into `staged` (on a copy of the session).
    pub(crate) fn seal(
        &self,
        staged: &mut Staged,
        to: MemberId,
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
        directory: &mut dyn PrekeyDirectory,
    ) -> Result<()> {
        let session = match staged.sessions.remove(&to) {
            Some(s) => s,
            None => match self.sessions.get(&to) {
                Some(s) => s.clone(),
                None => {
                    let bundle = directory
                        .fetch(&to)
                        .ok_or(SenderKeysError::NoPrekeys(to))?
                        .verify(&to)?;
                    Session::initiate(&self.identity, &bundle)?
                }
            },
        };
        let mut session = session;
        let bytes = session.send(rng, plaintext)?;
        staged.sessions.insert(to, session);
        staged.out.push(Outgoing { to, bytes });
        Ok(())
    }

    /// Commits sealed (and opened) messages; returns those sealed.
    pub(crate) fn commit(&mut self, staged: Staged) -> Vec<Outgoing> {
        if let Some(store) = staged.store {
            self.store = store;
        }
        self.sessions.extend(staged.sessions);
        staged.out
    }
}
