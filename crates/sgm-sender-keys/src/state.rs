//! Sender-key states: one's own (with the signing key) and the records of
//! other members' keys, with Signal's bounds.
//!
//! A record holds at most [`MAX_SENDER_KEY_STATES`] states of one sender
//! (newest first; the oldest is dropped), each with at most
//! [`MAX_MESSAGE_KEYS`] keys of skipped messages (the oldest dropped), and
//! refuses a message more than [`MAX_FORWARD_JUMPS`] iterations ahead.
//! Decryption checks the signature first, derives on the side and commits
//! only once the ciphertext authenticated.

use std::collections::{BTreeMap, VecDeque};

use sgm_crypto::{
    AeadKey, CryptoRng, MemberId, Secret, SecretBytes, SigningKey, aead_open, aead_seal,
};

use crate::chain::ChainKey;
use crate::error::{Result, SenderKeysError};
use crate::wire::{
    Distribution, DistributionId, GROUP_AAD_LABEL, GROUP_MESSAGE_LABEL, UnverifiedGroupMessage,
    header, labelled,
};

/// Most iterations a message may be ahead of its chain (Signal's value).
pub const MAX_FORWARD_JUMPS: u32 = 25_000;
/// Most skipped message keys kept per state (Signal's value).
pub const MAX_MESSAGE_KEYS: usize = 2_000;
/// Most states kept per sender (Signal's value).
pub const MAX_SENDER_KEY_STATES: usize = 5;

/// The AEAD nonce (each message key encrypts one message).
const NONCE: [u8; 12] = [0; 12];

/// This member's own sender key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnSenderKey {
    pub(crate) distribution_id: DistributionId,
    pub(crate) chain_id: u32,
    pub(crate) chain: ChainKey,
    pub(crate) signing: SigningKey,
}

/// The random values of a new sender key, in the order drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderKeyRandomness {
    /// 4 bytes, big-endian, top bit cleared: the chain id.
    pub chain_id: [u8; 4],
    /// The first chain key.
    pub chain_key: Secret<32>,
    /// RFC 8032 seed of the signing key.
    pub signing_seed: Secret<32>,
}

impl SenderKeyRandomness {
    /// Draws them from `rng`.
    pub fn draw(rng: &mut impl CryptoRng) -> Self {
        let mut chain_id = [0u8; 4];
        rng.fill_bytes(&mut chain_id);
        Self {
            chain_id,
            chain_key: Secret::random(rng),
            signing_seed: Secret::random(rng),
        }
    }
}

impl OwnSenderKey {
    /// A new sender key for the group (iteration 0).
    pub fn generate(distribution_id: DistributionId, r: SenderKeyRandomness) -> Self {
        Self {
            distribution_id,
            // A 31-bit chain id, as Signal's.
            chain_id: u32::from_be_bytes(r.chain_id) >> 1,
            chain: ChainKey::new(r.chain_key, 0),
            signing: SigningKey::from_seed(&r.signing_seed),
        }
    }

    /// Its chain id.
    pub fn chain_id(&self) -> u32 {
        self.chain_id
    }

    /// The next iteration.
    pub fn iteration(&self) -> u32 {
        self.chain.iteration()
    }

    /// The distribution message of its current position.
    pub fn distribution(&self) -> Distribution {
        Distribution {
            distribution_id: self.distribution_id,
            chain_id: self.chain_id,
            iteration: self.chain.iteration(),
            chain_key: self.chain.key().clone(),
            signing_key: self.signing.verifying_key(),
        }
    }

    /// Encrypts and signs one group message; the chain moves on (its old key
    /// and the message key are dropped and zeroized on return).
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let next = self.chain.next()?;
        let key = self.chain.message_key()?;
        let h = header(&self.distribution_id, self.chain_id, self.chain.iteration());
        let ct = aead_seal(&key, &NONCE, &labelled(GROUP_AAD_LABEL, &[&h]), plaintext);
        let mut msg = Vec::with_capacity(h.len() + ct.len() + 64);
        msg.extend_from_slice(&h);
        msg.extend_from_slice(&ct);
        let sig = self.signing.sign(&labelled(GROUP_MESSAGE_LABEL, &[&msg]));
        msg.extend_from_slice(&sig.to_bytes());
        self.chain = next;
        Ok(msg)
    }
}

/// One state of another member's sender key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderKeyState {
    pub(crate) distribution: Distribution,
    /// The chain at its next iteration.
    pub(crate) chain: ChainKey,
    /// Keys of skipped iterations.
    pub(crate) skipped: BTreeMap<u32, AeadKey>,
}

impl SenderKeyState {
    /// The state a distribution message gives.
    pub fn new(d: Distribution) -> Self {
        Self {
            chain: ChainKey::new(d.chain_key.clone(), d.iteration),
            distribution: d,
            skipped: BTreeMap::new(),
        }
    }

    /// The chain id.
    pub fn chain_id(&self) -> u32 {
        self.distribution.chain_id
    }

    /// The next iteration expected.
    pub fn iteration(&self) -> u32 {
        self.chain.iteration()
    }

    /// How many skipped keys are kept.
    pub fn skipped_len(&self) -> usize {
        self.skipped.len()
    }
}

/// What decrypting a message would change, computed before anything is.
struct Step {
    key: AeadKey,
    /// The chain after the message (None: a skipped key was used).
    chain: Option<ChainKey>,
    /// Keys of the iterations jumped over.
    skipped: Vec<(u32, AeadKey)>,
}

impl SenderKeyState {
    fn step(&self, iteration: u32) -> Result<Step> {
        let current = self.chain.iteration();
        if iteration < current {
            return match self.skipped.get(&iteration) {
                Some(k) => Ok(Step {
                    key: k.clone(),
                    chain: None,
                    skipped: Vec::new(),
                }),
                None => Err(SenderKeysError::DuplicateMessage { iteration, current }),
            };
        }
        let jump = iteration - current;
        if jump > MAX_FORWARD_JUMPS {
            return Err(SenderKeysError::TooFarAhead {
                jump,
                max: MAX_FORWARD_JUMPS,
            });
        }
        let mut chain = self.chain.clone();
        let mut skipped = Vec::new();
        // Only the newest MAX_MESSAGE_KEYS skipped keys would be kept.
        let keep_from = iteration.saturating_sub(MAX_MESSAGE_KEYS as u32);
        while chain.iteration() < iteration {
            if chain.iteration() >= keep_from {
                skipped.push((chain.iteration(), chain.message_key()?));
            }
            chain = chain.next()?;
        }
        let key = chain.message_key()?;
        Ok(Step {
            key,
            chain: Some(chain.next()?),
            skipped,
        })
    }

    fn commit(&mut self, iteration: u32, step: Step) {
        match step.chain {
            None => {
                self.skipped.remove(&iteration);
            }
            Some(chain) => {
                self.chain = chain;
                self.skipped.extend(step.skipped);
                while self.skipped.len() > MAX_MESSAGE_KEYS {
                    self.skipped.pop_first();
                }
            }
        }
    }
}

/// Every state held of one sender, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SenderKeyRecord {
    pub(crate) states: VecDeque<SenderKeyState>,
}

impl SenderKeyRecord {
    /// The states, newest first.
    pub fn states(&self) -> impl Iterator<Item = &SenderKeyState> {
        self.states.iter()
    }

    /// Adds the state a distribution gives. A distribution of a chain already
    /// held with the same signing key changes nothing (it cannot rewind the
    /// chain); one with the same chain id and another signing key replaces
    /// it. At most [`MAX_SENDER_KEY_STATES`] are kept.
    pub fn add(&mut self, d: Distribution) {
        if let Some(pos) = self
            .states
            .iter()
            .position(|s| s.distribution.chain_id == d.chain_id)
        {
            if self.states[pos].distribution.signing_key == d.signing_key {
                return;
            }
            self.states.remove(pos);
        }
        while self.states.len() >= MAX_SENDER_KEY_STATES {
            self.states.pop_back();
        }
        self.states.push_front(SenderKeyState::new(d));
    }

    /// Verifies and decrypts a group message from `sender`; on error nothing
    /// changed.
    pub fn decrypt(
        &mut self,
        sender: &MemberId,
        distribution_id: &DistributionId,
        message: &[u8],
    ) -> Result<SecretBytes> {
        let m = UnverifiedGroupMessage::decode(message)?;
        if m.distribution_id != *distribution_id {
            return Err(SenderKeysError::WrongGroup);
        }
        let state = self
            .states
            .iter_mut()
            .find(|s| s.distribution.chain_id == m.chain_id)
            .ok_or(SenderKeysError::UnknownChain {
                sender: *sender,
                chain_id: m.chain_id,
            })?;
        if !m.verify(&state.distribution.signing_key) {
            return Err(SenderKeysError::BadSignature { sender: *sender });
        }
        let step = state.step(m.iteration)?;
        let plaintext = aead_open(
            &step.key,
            &NONCE,
            &labelled(GROUP_AAD_LABEL, &[m.header]),
            m.ciphertext,
        )
        .map_err(|_| SenderKeysError::DecryptionFailed { sender: *sender })?;
        state.commit(m.iteration, step);
        Ok(plaintext)
    }
}
