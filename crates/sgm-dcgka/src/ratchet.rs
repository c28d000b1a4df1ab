//! The per-sender message ratchet (the paper's Figure 1).
//!
//! ```text
//!  update secret I (epoch e)
//!        │ HKDF(info = CHAIN_INIT_LABEL)
//!        ▼
//!     chain₀ ──HKDF(info = CHAIN_STEP_LABEL)──▶ chain₁ ──▶ chain₂ ──▶ …
//!                     │                           │
//!                     ▼                           ▼
//!                    k₀                          k₁          (one AEAD key per message)
//! ```
//!
//! Message i is sealed with a *synthetic nonce* (the SIV construction of
//! RFC 5297, over HMAC-SHA256 and ChaCha20-Poly1305):
//!
//! ```text
//!  aead key ‖ nonce key = HKDF(ikm = kᵢ, info = MESSAGE_KEYS_LABEL)   (64 B)
//!  ad    = AAD_LABEL ‖ sender ‖ epoch (u64 BE) ‖ i (u64 BE) ‖ caller's aad
//!  nonce = HMAC-SHA256(nonce key, u64be(|ad|) ‖ ad ‖ plaintext)[..12]
//!  message carries nonce ‖ ChaCha20-Poly1305(aead key, nonce, ad, plaintext)
//! ```
//!
//! Why not a constant or counter nonce: every key encrypts one message only
//! while no state is ever rolled back. A member restoring an old backup (or
//! a crashed device replaying a stale state) derives the same kᵢ again and
//! encrypts a *different* plaintext under it; with a fixed nonce that
//! reuses the ChaCha20 keystream (the XOR of the plaintexts leaks) and the
//! Poly1305 key (forgeries). A nonce derived with the key alone does not
//! help (the rolled-back state derives the same nonce). The synthetic nonce
//! depends on the plaintext, so two different plaintexts under one key get
//! different nonces except with probability 2⁻⁹⁶ per pair; an identical
//! plaintext gives the identical message (which reveals only that it was
//! sent twice, and receivers drop it as a used key). MLS's alternative, a
//! random 4-byte reuse guard XORed into the nonce, needs fresh randomness
//! at encryption time (none is injected here, and a restored seeded RNG
//! would repeat it too) and leaves 2⁻³² per pair. Receivers recompute the
//! nonce from the decrypted plaintext and refuse a message whose nonce is
//! not the synthetic one, so every (key, plaintext) has one ciphertext.
//!
//! The *epoch* of an update secret is the sequence number of its owner's
//! control message that produced it (every update secret of member X is
//! produced by exactly one control message sent by X: X's own create, update,
//! remove or add, or X's ack / add-ack). Every member, including one added
//! later, therefore names X's epochs the same way.
//!
//! The sender keeps only its current chain state; a used key and the old
//! chain state are dropped (and zeroized) at once. A receiver keeps, per
//! sender, the chains of the newest [`RatchetConfig::max_epochs`] epochs and
//! at most [`RatchetConfig::max_skipped`] keys of skipped messages; a message
//! that would need more is refused with [`DcgkaError::TooManySkipped`].
//! Decryption is transactional: a message that fails to authenticate
//! advances nothing.

use std::collections::BTreeMap;

use sgm_crypto::{AeadKey, MemberId, Secret, aead_open, aead_seal, hkdf_sha256, hmac_sha256_parts};
use subtle::ConstantTimeEq;

use crate::error::{DcgkaError, Result};
use crate::key_schedule::{SECRET_LEN, UpdateSecret};

/// HKDF `info` turning an update secret into the first chain state.
pub const CHAIN_INIT_LABEL: &[u8] = b"sgm-dcgka v1 message chain";
/// HKDF `info` of one chain step (64 bytes: next chain state ‖ message key).
pub const CHAIN_STEP_LABEL: &[u8] = b"sgm-dcgka v1 message step";
/// Prefix of every application message's associated data.
pub const AAD_LABEL: &[u8] = b"sgm-dcgka v1 application";
/// HKDF `info` turning a message key kᵢ into its AEAD key and nonce key
/// (64 bytes: AEAD key ‖ nonce key).
pub const MESSAGE_KEYS_LABEL: &[u8] = b"sgm-dcgka v1 message keys";
/// Length of the synthetic nonce every application message carries.
pub const NONCE_LEN: usize = sgm_crypto::AEAD_NONCE_LEN;

/// The AEAD key and nonce key of message key kᵢ.
fn message_keys(key: &AeadKey) -> Result<(AeadKey, Secret<SECRET_LEN>)> {
    let okm = hkdf_sha256::<{ 2 * SECRET_LEN }>(None, key.expose_secret(), MESSAGE_KEYS_LABEL)?;
    let (aead_key, nonce_key) = okm.expose_secret().split_at(SECRET_LEN);
    Ok((
        Secret::from_slice(aead_key)?,
        Secret::from_slice(nonce_key)?,
    ))
}

/// `HMAC-SHA256(nonce key, u64be(|ad|) ‖ ad ‖ plaintext)[..12]`.
fn synthetic_nonce(
    nonce_key: &Secret<SECRET_LEN>,
    ad: &[u8],
    plaintext: &[u8],
) -> Result<[u8; NONCE_LEN]> {
    let len = u64::try_from(ad.len())
        .map_err(|_| DcgkaError::Malformed("associated data length"))?
        .to_be_bytes();
    let mac = hmac_sha256_parts(nonce_key.expose_secret(), &[&len, ad, plaintext])?;
    mac.first_chunk::<NONCE_LEN>()
        .copied()
        .ok_or(DcgkaError::Malformed("nonce length"))
}

/// Seals `plaintext` under message key `key`: (nonce, ciphertext ‖ tag).
fn seal(key: &AeadKey, ad: &[u8], plaintext: &[u8]) -> Result<([u8; NONCE_LEN], Vec<u8>)> {
    let (aead_key, nonce_key) = message_keys(key)?;
    let nonce = synthetic_nonce(&nonce_key, ad, plaintext)?;
    Ok((nonce, aead_seal(&aead_key, &nonce, ad, plaintext)))
}

/// Opens `msg` under message key `key`, and checks (in constant time) that
/// its nonce is the synthetic one of the plaintext.
fn open(key: &AeadKey, ad: &[u8], msg: &ApplicationMessage) -> Result<sgm_crypto::SecretBytes> {
    let (aead_key, nonce_key) = message_keys(key)?;
    let pt = aead_open(&aead_key, &msg.nonce, ad, &msg.ciphertext)
        .map_err(|_| DcgkaError::DecryptionFailed)?;
    let expected = synthetic_nonce(&nonce_key, ad, pt.expose_secret())?;
    if !bool::from(expected.ct_eq(&msg.nonce)) {
        return Err(DcgkaError::DecryptionFailed);
    }
    Ok(pt)
}

/// Bounds on what a receiver keeps per sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatchetConfig {
    /// Most message keys skipped over and kept (over all epochs of one
    /// sender); a larger gap is refused.
    pub max_skipped: u64,
    /// How many epochs of one sender are kept for late messages (at least 1).
    pub max_epochs: usize,
}

impl Default for RatchetConfig {
    fn default() -> Self {
        Self {
            max_skipped: 1000,
            max_epochs: 3,
        }
    }
}

/// A chain state: the PRG of Figure 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    state: Secret<SECRET_LEN>,
    next_index: u64,
}

impl Chain {
    /// `chain₀ = HKDF(ikm = I, info = CHAIN_INIT_LABEL)`.
    pub fn from_update_secret(update_secret: &UpdateSecret) -> Result<Self> {
        Ok(Self {
            state: hkdf_sha256(None, update_secret.expose_secret(), CHAIN_INIT_LABEL)?,
            next_index: 0,
        })
    }

    /// Rebuilds a chain from its persisted parts.
    pub(crate) fn from_parts(state: Secret<SECRET_LEN>, next_index: u64) -> Self {
        Self { state, next_index }
    }

    /// The persisted parts.
    pub(crate) fn parts(&self) -> (&Secret<SECRET_LEN>, u64) {
        (&self.state, self.next_index)
    }

    /// Index of the next key.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Derives the key for `next_index` and moves the chain on (the old state
    /// is dropped and zeroized).
    pub fn next_key(&mut self) -> Result<(u64, AeadKey)> {
        let okm =
            hkdf_sha256::<{ 2 * SECRET_LEN }>(None, self.state.expose_secret(), CHAIN_STEP_LABEL)?;
        let (next, key) = okm.expose_secret().split_at(SECRET_LEN);
        self.state = Secret::from_slice(next)?;
        let index = self.next_index;
        self.next_index = self
            .next_index
            .checked_add(1)
            .ok_or(DcgkaError::Malformed("message index overflow"))?;
        Ok((index, Secret::from_slice(key)?))
    }
}

/// An encrypted application message (before wire encoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationMessage {
    /// The sender's epoch: the seq of the sender's control message whose
    /// update secret keyed this chain.
    pub epoch: u64,
    /// Index of the message in the epoch's chain.
    pub index: u64,
    /// The synthetic nonce (see the module docs).
    pub nonce: [u8; NONCE_LEN],
    /// AEAD output (ciphertext ‖ tag).
    pub ciphertext: Vec<u8>,
}

/// The associated data of message `index` of `sender`'s `epoch`.
pub fn associated_data(sender: &MemberId, epoch: u64, index: u64, aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(AAD_LABEL.len() + 16 + 16 + aad.len());
    out.extend_from_slice(AAD_LABEL);
    out.extend_from_slice(sender.as_bytes());
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(aad);
    out
}

/// The sending half: this member's current chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendingRatchet {
    epoch: u64,
    chain: Chain,
}

impl SendingRatchet {
    /// Starts the chain of `epoch` from its update secret.
    pub fn new(epoch: u64, update_secret: &UpdateSecret) -> Result<Self> {
        Ok(Self {
            epoch,
            chain: Chain::from_update_secret(update_secret)?,
        })
    }

    pub(crate) fn from_parts(epoch: u64, chain: Chain) -> Self {
        Self { epoch, chain }
    }

    pub(crate) fn parts(&self) -> (u64, &Chain) {
        (self.epoch, &self.chain)
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Encrypts the next message; its key is deleted on return.
    pub fn encrypt(
        &mut self,
        sender: &MemberId,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<ApplicationMessage> {
        let (index, key) = self.chain.next_key()?;
        let ad = associated_data(sender, self.epoch, index, aad);
        let (nonce, ciphertext) = seal(&key, &ad, plaintext)?;
        Ok(ApplicationMessage {
            epoch: self.epoch,
            index,
            nonce,
            ciphertext,
        })
    }
}

/// Skipped message keys by (epoch, index).
pub(crate) type SkippedKeys = BTreeMap<(u64, u64), AeadKey>;

/// The receiving half for one sender: chains of recent epochs and skipped
/// keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceivingRatchet {
    /// Newest control seq processed from this sender (the newest epoch
    /// that can exist).
    known_through: Option<u64>,
    chains: BTreeMap<u64, Chain>,
    skipped: BTreeMap<(u64, u64), AeadKey>,
}

impl ReceivingRatchet {
    /// Records that the sender's control message `seq` was processed
    /// (whether or not it gave an update secret).
    pub fn mark_processed(&mut self, seq: u64) {
        self.known_through = Some(self.known_through.map_or(seq, |k| k.max(seq)));
    }

    /// Newest control seq processed from this sender.
    pub fn known_through(&self) -> Option<u64> {
        self.known_through
    }

    /// Adds the chain of `epoch`, dropping the oldest beyond the bound.
    pub fn add_epoch(
        &mut self,
        epoch: u64,
        update_secret: &UpdateSecret,
        config: &RatchetConfig,
    ) -> Result<()> {
        self.mark_processed(epoch);
        self.chains
            .insert(epoch, Chain::from_update_secret(update_secret)?);
        while self.chains.len() > config.max_epochs.max(1) {
            let Some((&oldest, _)) = self.chains.iter().next() else {
                break;
            };
            self.chains.remove(&oldest);
            self.skipped.retain(|(e, _), _| *e != oldest);
        }
        Ok(())
    }

    /// The epochs currently held.
    pub fn epochs(&self) -> impl Iterator<Item = u64> + '_ {
        self.chains.keys().copied()
    }

    /// Number of skipped keys held.
    pub fn skipped_len(&self) -> usize {
        self.skipped.len()
    }

    pub(crate) fn parts(&self) -> (Option<u64>, &BTreeMap<u64, Chain>, &SkippedKeys) {
        (self.known_through, &self.chains, &self.skipped)
    }

    pub(crate) fn from_parts(
        known_through: Option<u64>,
        chains: BTreeMap<u64, Chain>,
        skipped: BTreeMap<(u64, u64), AeadKey>,
    ) -> Self {
        Self {
            known_through,
            chains,
            skipped,
        }
    }

    /// Decrypts `msg` from `sender`. On success the key is deleted (and any
    /// keys skipped over are kept within the bound); on error nothing changes.
    pub fn decrypt(
        &mut self,
        sender: &MemberId,
        msg: &ApplicationMessage,
        aad: &[u8],
        config: &RatchetConfig,
    ) -> Result<sgm_crypto::SecretBytes> {
        let ad = associated_data(sender, msg.epoch, msg.index, aad);
        if let Some(key) = self.skipped.get(&(msg.epoch, msg.index)) {
            let pt = open(key, &ad, msg)?;
            self.skipped.remove(&(msg.epoch, msg.index));
            return Ok(pt);
        }
        let Some(chain) = self.chains.get(&msg.epoch) else {
            return Err(match self.known_through {
                Some(k) if msg.epoch <= k => DcgkaError::EpochUnavailable {
                    sender: *sender,
                    epoch: msg.epoch,
                },
                known => DcgkaError::EpochNotYetKnown {
                    sender: *sender,
                    epoch: msg.epoch,
                    known,
                },
            });
        };
        if msg.index < chain.next_index() {
            return Err(DcgkaError::MessageKeyUsed {
                epoch: msg.epoch,
                index: msg.index,
            });
        }
        let gap = msg.index - chain.next_index();
        let room = config.max_skipped.saturating_sub(self.skipped.len() as u64);
        if gap > room {
            return Err(DcgkaError::TooManySkipped {
                gap,
                max: config.max_skipped,
            });
        }
        // Work on a copy; commit only once the message authenticated.
        let mut chain = chain.clone();
        let mut new_skipped = Vec::new();
        let key = loop {
            let (index, key) = chain.next_key()?;
            if index == msg.index {
                break key;
            }
            new_skipped.push((index, key));
        };
        let pt = open(&key, &ad, msg)?;
        for (index, key) in new_skipped {
            self.skipped.insert((msg.epoch, index), key);
        }
        self.chains.insert(msg.epoch, chain);
        Ok(pt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (MemberId, SendingRatchet, ReceivingRatchet, RatchetConfig) {
        let sender = MemberId::from_bytes([9; 16]);
        let secret = Secret::from_bytes([5; 32]);
        let config = RatchetConfig::default();
        let s = SendingRatchet::new(4, &secret).unwrap();
        let mut r = ReceivingRatchet::default();
        r.add_epoch(4, &secret, &config).unwrap();
        (sender, s, r, config)
    }

    #[test]
    fn in_order_round_trip_and_distinct_keys() {
        let (id, mut s, mut r, c) = setup();
        let m0 = s.encrypt(&id, b"ad", b"hello").unwrap();
        let m1 = s.encrypt(&id, b"ad", b"hello").unwrap();
        assert_eq!((m0.epoch, m0.index, m1.index), (4, 0, 1));
        assert_ne!(m0.ciphertext, m1.ciphertext);
        assert_eq!(
            r.decrypt(&id, &m0, b"ad", &c).unwrap().expose_secret(),
            b"hello"
        );
        assert_eq!(
            r.decrypt(&id, &m1, b"ad", &c).unwrap().expose_secret(),
            b"hello"
        );
    }

    #[test]
    fn out_of_order_uses_skipped_keys_once() {
        let (id, mut s, mut r, c) = setup();
        let ms: Vec<_> = (0..5).map(|i| s.encrypt(&id, b"", &[i]).unwrap()).collect();
        assert_eq!(
            r.decrypt(&id, &ms[4], b"", &c).unwrap().expose_secret(),
            [4]
        );
        assert_eq!(r.skipped_len(), 4);
        assert_eq!(
            r.decrypt(&id, &ms[1], b"", &c).unwrap().expose_secret(),
            [1]
        );
        assert_eq!(r.skipped_len(), 3);
        assert_eq!(
            r.decrypt(&id, &ms[1], b"", &c).unwrap_err(),
            DcgkaError::MessageKeyUsed { epoch: 4, index: 1 }
        );
        assert_eq!(
            r.decrypt(&id, &ms[4], b"", &c).unwrap_err(),
            DcgkaError::MessageKeyUsed { epoch: 4, index: 4 }
        );
    }

    #[test]
    fn gap_beyond_bound_is_refused_without_change() {
        let (id, mut s, mut r, _) = setup();
        let c = RatchetConfig {
            max_skipped: 3,
            max_epochs: 2,
        };
        let ms: Vec<_> = (0..6).map(|i| s.encrypt(&id, b"", &[i]).unwrap()).collect();
        let before = r.clone();
        assert_eq!(
            r.decrypt(&id, &ms[5], b"", &c).unwrap_err(),
            DcgkaError::TooManySkipped { gap: 5, max: 3 }
        );
        assert_eq!(r, before);
        assert!(r.decrypt(&id, &ms[3], b"", &c).is_ok());
    }

    #[test]
    fn tampering_and_wrong_metadata_fail_without_change() {
        let (id, mut s, mut r, c) = setup();
        let m = s.encrypt(&id, b"ad", b"x").unwrap();
        let before = r.clone();
        let mut bad = m.clone();
        bad.ciphertext[0] ^= 1;
        assert_eq!(
            r.decrypt(&id, &bad, b"ad", &c).unwrap_err(),
            DcgkaError::DecryptionFailed
        );
        assert_eq!(
            r.decrypt(&id, &m, b"other", &c).unwrap_err(),
            DcgkaError::DecryptionFailed
        );
        let other = MemberId::from_bytes([1; 16]);
        assert_eq!(
            r.decrypt(&other, &m, b"ad", &c).unwrap_err(),
            DcgkaError::DecryptionFailed
        );
        let mut moved = m.clone();
        moved.index = 1;
        assert_eq!(
            r.decrypt(&id, &moved, b"ad", &c).unwrap_err(),
            DcgkaError::DecryptionFailed
        );
        assert_eq!(r, before);
        assert!(r.decrypt(&id, &m, b"ad", &c).is_ok());
    }

    #[test]
    fn unknown_epochs_wait_or_fail() {
        let (id, mut s, mut r, c) = setup();
        let mut m = s.encrypt(&id, b"", b"x").unwrap();
        m.epoch = 9;
        assert!(matches!(
            r.decrypt(&id, &m, b"", &c).unwrap_err(),
            DcgkaError::EpochNotYetKnown {
                epoch: 9,
                known: Some(4),
                ..
            }
        ));
        r.mark_processed(9);
        assert!(matches!(
            r.decrypt(&id, &m, b"", &c).unwrap_err(),
            DcgkaError::EpochUnavailable { epoch: 9, .. }
        ));
    }

    #[test]
    fn old_epochs_are_bounded() {
        let (id, _, mut r, _) = setup();
        let c = RatchetConfig {
            max_skipped: 10,
            max_epochs: 2,
        };
        for e in [5, 6] {
            r.add_epoch(e, &Secret::from_bytes([e as u8; 32]), &c)
                .unwrap();
        }
        assert_eq!(r.epochs().collect::<Vec<_>>(), vec![5, 6]);
        let mut s4 = SendingRatchet::new(4, &Secret::from_bytes([5; 32])).unwrap();
        let m = s4.encrypt(&id, b"", b"late").unwrap();
        assert!(matches!(
            r.decrypt(&id, &m, b"", &c).unwrap_err(),
            DcgkaError::EpochUnavailable { epoch: 4, .. }
        ));
    }

    /// A nonce that is not the synthetic one of the plaintext is refused
    /// (each (key, plaintext) has exactly one valid message), without
    /// change.
    #[test]
    fn non_synthetic_nonce_is_refused() {
        let (id, mut s, mut r, c) = setup();
        let m = s.encrypt(&id, b"", b"x").unwrap();
        let mut bad = m.clone();
        bad.nonce[0] ^= 1;
        let before = r.clone();
        assert_eq!(
            r.decrypt(&id, &bad, b"", &c).unwrap_err(),
            DcgkaError::DecryptionFailed
        );
        assert_eq!(r, before);
        assert!(r.decrypt(&id, &m, b"", &c).is_ok());
    }

    /// Forward secrecy: the receiver's state after decrypting message m
    /// cannot decrypt m again, and the sender's state after sending cannot
    /// re-derive the key.
    #[test]
    fn forward_secrecy() {
        let (id, mut s, mut r, c) = setup();
        let m0 = s.encrypt(&id, b"", b"secret").unwrap();
        let snapshot_sender = s.clone();
        r.decrypt(&id, &m0, b"", &c).unwrap();
        let mut captured = r.clone();
        assert!(captured.decrypt(&id, &m0, b"", &c).is_err());
        // A receiver built from the sender's later state cannot open m0.
        let (_, chain) = snapshot_sender.parts();
        let mut from_sender = ReceivingRatchet::from_parts(
            Some(4),
            BTreeMap::from([(4, chain.clone())]),
            BTreeMap::new(),
        );
        assert!(from_sender.decrypt(&id, &m0, b"", &c).is_err());
    }
}
