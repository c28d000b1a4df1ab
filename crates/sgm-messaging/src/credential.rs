//! Member cards and their authentication (issue 10 items 5–7).
//!
//! A **card** ([`Invite`]) says which user name a member goes by. It is born
//! in [`crate::Group::new`] together with the member's fresh per-group
//! identity key and is signed by that key:
//!
//! ```text
//! card      = CardPb { 1: user (UTF-8), 2: identity key (32), 3: signature (64) }
//! signature = Ed25519(identity key, "sgm messaging member card v1"
//!                     ‖ u64be(len user) ‖ user ‖ identity key)
//! ```
//!
//! The identity key is fresh for one membership, so the signature binds
//! the name to that membership only; the card is bound to its group by the
//! signed operation that introduces it: a create lists its members' cards,
//! an add carries the added member's card (and no other), and a welcome's
//! cards are named by the digest in the signed operation that added the
//! joiner ([`welcome_digest`]). Cards are never taken from an unsigned part
//! of a packet, nor from an operation the key agreement rejected.
//!
//! Who may call herself what is the application's decision: a
//! [`CredentialValidator`] (a directory, safety numbers, a certificate) is
//! called for every card before it is used. The default,
//! [`UniqueUserNames`], refuses a second identity key for a user name a
//! current member already has (re-adding a removed user with a fresh
//! invite still works).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sgm_crypto::{MemberId, SIGNATURE_LEN, Signature, SigningKey, VerifyingKey};

use crate::error::{Error, Result};
use crate::ids::{GroupId, Invite, UserId};

/// Domain label of a card's signature.
pub const CARD_LABEL: &[u8] = b"sgm messaging member card v1";

/// Domain label of [`welcome_digest`].
const WELCOME_DIGEST_LABEL: &[u8] = b"sgm messaging welcome v2";

/// What a card's signature covers.
fn card_statement(user: &UserId, identity: &VerifyingKey) -> Vec<u8> {
    let name = user.0.as_bytes();
    let mut m = Vec::with_capacity(CARD_LABEL.len() + 8 + name.len() + 32);
    m.extend_from_slice(CARD_LABEL);
    m.extend_from_slice(&(name.len() as u64).to_be_bytes());
    m.extend_from_slice(name);
    m.extend_from_slice(identity.as_bytes());
    m
}

impl Invite {
    /// The card of `user` under the identity key `key`, signed by it.
    pub(crate) fn sign(user: UserId, key: &SigningKey) -> Self {
        let identity = key.verifying_key();
        let signature = key.sign(&card_statement(&user, &identity));
        Self {
            user,
            identity,
            signature,
        }
    }

    /// An invite from its parts, as received (check it with
    /// [`Invite::verify`]; the group does before using it).
    pub fn from_parts(
        user: UserId,
        identity: VerifyingKey,
        signature: [u8; SIGNATURE_LEN],
    ) -> Self {
        Self {
            user,
            identity,
            signature: Signature::from_bytes(signature),
        }
    }

    /// The signature by the identity key over the user name and the key.
    pub fn signature(&self) -> [u8; SIGNATURE_LEN] {
        self.signature.to_bytes()
    }

    /// Checks that the identity key signed this card
    /// ([`Error::BadCard`] otherwise).
    pub fn verify(&self) -> Result<()> {
        self.identity
            .verify(&card_statement(&self.user, &self.identity), &self.signature)
            .map_err(|_| Error::BadCard(self.member_id()))
    }
}

/// The application's check of a member card: does this identity key belong
/// to this user? (A directory, safety numbers compared out of band, a
/// certificate.) Called for every card before the group uses it; a refusal
/// rejects the operation or welcome that carried the card
/// ([`Error::CredentialRefused`]).
///
/// A validator is not part of the persisted state: set it again with
/// [`crate::Group::set_validator`] after [`crate::Group::from_bytes`].
pub trait CredentialValidator: Send + Sync {
    /// `Ok` if `card` may be used. `others` are the group's other current
    /// members by member id, as this member sees them (empty for the card
    /// of a past member, which clashes with nobody).
    fn validate(
        &self,
        card: &Invite,
        others: &BTreeMap<MemberId, UserId>,
    ) -> core::result::Result<(), String>;
}

/// The default validator: a user name is held by at most one current
/// member. Anyone can still *choose* any name; pair it with an
/// application check of who the name belongs to.
#[derive(Clone, Copy, Debug, Default)]
pub struct UniqueUserNames;

impl CredentialValidator for UniqueUserNames {
    fn validate(
        &self,
        card: &Invite,
        others: &BTreeMap<MemberId, UserId>,
    ) -> core::result::Result<(), String> {
        let me = card.member_id();
        match others.iter().find(|(m, u)| **m != me && **u == card.user) {
            Some((m, _)) => Err(format!("user name already held by member {m:?}")),
            None => Ok(()),
        }
    }
}

pub(crate) fn default_validator() -> Arc<dyn CredentialValidator> {
    Arc::new(UniqueUserNames)
}

/// What a member waiting to join expects of its welcome
/// ([`crate::Group::expect_welcome`]): a welcome for another group, or
/// from another adder, is refused ([`Error::UnexpectedWelcome`]) instead of
/// the first one to arrive simply winning.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedWelcome {
    /// The group (known when joining an existing group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
    /// The user that adds this member (as its card names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adder: Option<UserId>,
}

/// `SHA-256(label ‖ u64be(len checkpoint) ‖ checkpoint ‖ u64be(n) ‖
/// n × (u64be(len card) ‖ card))` over a welcome's checkpoint and encoded
/// cards, in the welcome's order: the signed create or add names it, so
/// neither can be swapped in the unsigned welcome.
pub(crate) fn welcome_digest(checkpoint: &[u8], cards: &[Vec<u8>]) -> [u8; 32] {
    let mut m = Vec::with_capacity(
        WELCOME_DIGEST_LABEL.len()
            + 16
            + checkpoint.len()
            + cards.iter().map(|c| 8 + c.len()).sum::<usize>(),
    );
    m.extend_from_slice(WELCOME_DIGEST_LABEL);
    m.extend_from_slice(&(checkpoint.len() as u64).to_be_bytes());
    m.extend_from_slice(checkpoint);
    m.extend_from_slice(&(cards.len() as u64).to_be_bytes());
    for c in cards {
        m.extend_from_slice(&(c.len() as u64).to_be_bytes());
        m.extend_from_slice(c);
    }
    sgm_crypto::sha256(&[&m])
}

impl crate::Group {
    /// Sets the application's [`CredentialValidator`] (default:
    /// [`UniqueUserNames`]). Not persisted: set it again after
    /// [`crate::Group::from_bytes`].
    pub fn set_validator(&mut self, validator: Arc<dyn CredentialValidator>) {
        self.validator = validator;
    }

    /// Names the group and/or the adder this member, not joined yet,
    /// expects: any other welcome is refused ([`Error::UnexpectedWelcome`],
    /// state unchanged), so the first welcome to arrive does not simply
    /// win. Persisted.
    pub fn expect_welcome(&mut self, expected: ExpectedWelcome) {
        self.book.expected = Some(expected);
    }

    /// The current members other than `except`, by member id, as this
    /// member sees them (empty before joining).
    pub(crate) fn current_others(&self, except: Option<MemberId>) -> BTreeMap<MemberId, UserId> {
        if !self.book.joined {
            return BTreeMap::new();
        }
        self.dcgka
            .members()
            .into_iter()
            .filter(|m| Some(*m) != except)
            .filter_map(|m| self.user_of(&m).map(|u| (m, u.clone())))
            .collect()
    }

    /// Checks one card: its signature, then the validator against `others`.
    pub(crate) fn check_card(
        &self,
        card: &Invite,
        others: &BTreeMap<MemberId, UserId>,
    ) -> Result<()> {
        card.verify()?;
        self.validator
            .validate(card, others)
            .map_err(|reason| Error::CredentialRefused {
                member: card.member_id(),
                user: card.user.clone(),
                reason,
            })
    }

    /// Checks a batch of new cards against `current` and each other.
    pub(crate) fn check_invites(
        &self,
        invites: &[Invite],
        current: &BTreeMap<MemberId, UserId>,
    ) -> Result<()> {
        let mut others = current.clone();
        if !self.book.joined {
            // Creating: the creator is a member too.
            others.insert(self.me(), self.user.clone());
        }
        for inv in invites {
            others.insert(inv.member_id(), inv.user.clone());
        }
        for inv in invites {
            check_excluding(self, inv, &mut others)?;
        }
        Ok(())
    }

    /// The cards a received create or add may carry, checked before the
    /// key agreement sees the operation: a create's cards describe its
    /// members (sender included), an add carries exactly the added
    /// member's card, nothing else carries any. Each is signed by its own
    /// identity key and passes the validator. Nothing is registered here:
    /// the caller registers the cards once the operation was accepted.
    pub(crate) fn admit_cards(
        &self,
        sender: MemberId,
        kind: &sgm_dcgka::messages::ControlKind,
        cards: &[Invite],
    ) -> Result<()> {
        use sgm_dcgka::messages::ControlKind;
        let fits = match kind {
            ControlKind::Create { members } => cards.iter().all(|c| {
                let m = c.member_id();
                m == sender || members.contains(&m)
            }),
            ControlKind::Add { added } => {
                matches!(cards, [c] if c.member_id() == *added)
            }
            _ => cards.is_empty(),
        };
        if !fits {
            return Err(Error::Malformed("cards do not match the operation"));
        }
        let me = self.me();
        let mut all = self.current_others(None);
        for c in cards {
            all.insert(c.member_id(), c.user.clone());
        }
        for c in cards {
            let id = c.member_id();
            let known = self
                .book
                .cards
                .get(&crate::ids::Mid(id))
                .is_some_and(|k| k.invite() == *c);
            if id == me || known {
                // This member's own card (it made it), or one a joiner's
                // welcome carried (checked with the welcome): a create's
                // cards are its welcome's, and verifying them again cost
                // O(members) signatures per joiner.
                if !known {
                    c.verify()?;
                }
                continue;
            }
            check_excluding(self, c, &mut all)?;
        }
        Ok(())
    }

    /// A joiner's check of its welcome's cards, once its membership is
    /// known: every current member has a card, and each card passes the
    /// validator (a past member's against nobody).
    pub(crate) fn check_welcome_cards(&self, cards: &[Invite]) -> Result<()> {
        let members = self.dcgka.members();
        if members
            .iter()
            .any(|m| !self.book.cards.contains_key(&crate::ids::Mid(*m)))
        {
            return Err(Error::Malformed("welcome lacks a member's card"));
        }
        // A card for an id the membership history never added (an adder
        // vouching for a key of its own) would pass ACB's membership check.
        let me = self.me();
        let known = self
            .dcgka
            .dgm()
            .map(sgm_dgm::Dgm::known_members)
            .unwrap_or_default();
        if cards
            .iter()
            .any(|c| c.member_id() != me && !known.contains(&c.member_id()))
        {
            return Err(Error::Malformed("welcome card of an id never added"));
        }
        let mut current = self.current_others(None);
        let nobody = BTreeMap::new();
        for c in cards {
            let id = c.member_id();
            if id == me {
                continue;
            }
            if members.contains(&id) {
                check_excluding(self, c, &mut current)?;
            } else {
                self.check_card(c, &nobody)?;
            }
        }
        Ok(())
    }
}

/// [`crate::Group::check_card`] against `all` without the card's own
/// member (taken out and put back: no copy of the map per card).
fn check_excluding(
    group: &crate::Group,
    card: &Invite,
    all: &mut BTreeMap<MemberId, UserId>,
) -> Result<()> {
    let id = card.member_id();
    let own = all.remove(&id);
    let result = group.check_card(card, all);
    if let Some(u) = own {
        all.insert(id, u);
    }
    result
}
