//! The 2SM session: `send` and `receive` (paper §5.3, 2SM-Send and
//! 2SM-Receive), and the two ways a session begins.

use std::collections::BTreeMap;

use core::fmt;

use prost::Message as _;
use sgm_crypto::{
    CryptoRng, HPKE_EXPORT_LEN, HpkeCiphertext, MemberId, Secret, SecretBytes, Signature,
    SigningKey, VerifyingKey, X25519PublicKey, X25519SecretKey, hpke_open, hpke_open_export,
    hpke_seal_export_with_ikm, hpke_seal_with_ikm,
};

use crate::keys::{SendRandomness, derive};
use crate::prekeys::{PrekeyStore, VerifiedBundle};
use crate::wire::{
    FirstContactProof, Header, KeyRef, Payload, PrekeyInner, UnverifiedMessage, enc,
    encode_message, malformed, public_key,
};
use crate::{Result, TwoSmError};

/// Upper bound on the number of our own secret keys kept while waiting for
/// the peer to use them.
///
/// Each `send` announces a fresh public key; its secret key must be kept
/// until the peer encrypts to it or to a newer one, because the peer may
/// reply having seen only a prefix of our messages. In a one-sided run of
/// `n` sends we therefore hold `n` keys. Beyond this bound the *oldest* key
/// is deleted, so sending never blocks on an unresponsive peer (in DCGKA a
/// member offline for long must not stop the group's updates); a reply
/// that names an evicted key fails with [`TwoSmError::EvictedKeyIndex`].
/// That needs a reply made after seeing fewer than the newest
/// `MAX_PENDING_OWN_KEYS` of our messages: ~1024 × 40 bytes of state bought
/// that margin.
pub const MAX_PENDING_OWN_KEYS: usize = 1024;

/// HPKE `info` of regular messages.
pub(crate) const INFO_MESSAGE: &[u8] = b"sgm-2sm v1 message";
/// HPKE `info` of a first-contact message's outer layer (signed prekey).
pub(crate) const INFO_SIGNED_PREKEY: &[u8] = b"sgm-2sm v1 signed prekey layer";
/// HPKE `info` of a first-contact message's inner layer (one-time prekey).
pub(crate) const INFO_ONE_TIME_PREKEY: &[u8] = b"sgm-2sm v1 one-time prekey layer";

const FIRST_CONTACT_LABEL: &[u8] = b"sgm-2sm v1 first contact";

/// HPKE exporter context of the key pair a message makes for its recipient:
/// `DeriveKeyPair(Export("sgm-2sm v2 receiver key", 32))` of the context
/// that seals the payload (for a first-contact message, the inner,
/// one-time-prekey layer). The sender derives it when sealing and keeps the
/// public key; the recipient derives it when opening and keeps the secret
/// key. It is exactly as secret as the payload: whoever can open the
/// message can derive it, and nobody else.
pub(crate) const RECEIVER_KEY_EXPORT: &[u8] = b"sgm-2sm v2 receiver key";

/// What the initiator's identity key signs in a first-contact message:
/// `"sgm-2sm v1 first contact" || initiator identity (32) || responder
/// identity (32) || spk id (8, BE) || spk public (32) || opk id (8, BE) ||
/// opk public (32)`.
pub(crate) fn first_contact_transcript(
    initiator: &VerifyingKey,
    responder: &VerifyingKey,
    spk_id: u64,
    spk_public: &X25519PublicKey,
    opk_id: u64,
    opk_public: &X25519PublicKey,
) -> Vec<u8> {
    let mut t = Vec::with_capacity(FIRST_CONTACT_LABEL.len() + 144);
    t.extend_from_slice(FIRST_CONTACT_LABEL);
    t.extend_from_slice(initiator.as_bytes());
    t.extend_from_slice(responder.as_bytes());
    t.extend_from_slice(&spk_id.to_be_bytes());
    t.extend_from_slice(spk_public.as_bytes());
    t.extend_from_slice(&opk_id.to_be_bytes());
    t.extend_from_slice(opk_public.as_bytes());
    t
}

/// How the initiator of a session is authenticated to the responder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitiatorAuth {
    /// The first-contact message carries the initiator's identity key and
    /// its signature over the first-contact transcript. For transports that
    /// do not authenticate senders.
    Signed,
    /// The transport authenticates the sender (as sgm-acb's signed
    /// envelopes do for DCGKA): the first-contact message carries the
    /// initiator's identity key but no signature (66 bytes less), and the
    /// responder checks that the key hashes to the sender the transport
    /// names. Never over an unauthenticated transport: anyone can seal a
    /// message to published prekeys.
    Transport,
}

/// The peer's prekeys and (with [`InitiatorAuth::Signed`]) our identity
/// signature, kept by an initiated session until its first send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PendingFirstContact {
    pub(crate) spk_id: u64,
    pub(crate) spk_public: X25519PublicKey,
    pub(crate) opk_id: u64,
    pub(crate) opk_public: X25519PublicKey,
    pub(crate) signature: Option<Signature>,
}

/// The key our next message is sealed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PeerKey {
    /// Initiated, nothing sent or received yet: the peer's prekeys.
    Prekeys(PendingFirstContact),
    /// We sent last: the public half of the key pair whose secret we gave
    /// the peer in that message.
    SenderGenerated(X25519PublicKey),
    /// We received last: the public key the peer announced, with its index.
    Announced { index: u64, public: X25519PublicKey },
}

/// One 2SM session with one peer: a plain value, serializable with
/// [`Session::to_bytes`], zeroized on drop, `Debug` redacted.
///
/// Every method is transactional: on error the session (and any prekey
/// store passed in) is unchanged.
#[derive(Clone)]
pub struct Session {
    pub(crate) me: VerifyingKey,
    pub(crate) peer: VerifyingKey,
    /// Our secret keys whose public halves we announced, by index; kept
    /// until the peer uses them or a newer one.
    pub(crate) own_keys: BTreeMap<u64, X25519SecretKey>,
    /// Index of the key pair our next send announces (the first is 1).
    pub(crate) next_own_index: u64,
    /// Every own index below this was deleted because the peer used it or a
    /// newer one.
    pub(crate) used_below: u64,
    /// The secret key the peer generated for us in its latest message.
    pub(crate) received_key: Option<X25519SecretKey>,
    pub(crate) peer_key: PeerKey,
    /// Sequence number of our next message.
    pub(crate) send_seq: u64,
    /// Sequence number we expect on the peer's next message.
    pub(crate) recv_seq: u64,
    /// How first-contact messages of this session are authenticated (ours,
    /// and the peer's if both sides initiate at once).
    pub(crate) initiator_auth: InitiatorAuth,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("me", &MemberId::from_identity_key(&self.me))
            .field("peer", &MemberId::from_identity_key(&self.peer))
            .field("pending_own_keys", &self.own_keys.len())
            .field("next_own_index", &self.next_own_index)
            .field("send_seq", &self.send_seq)
            .field("recv_seq", &self.recv_seq)
            .field(
                "first_contact_pending",
                &matches!(self.peer_key, PeerKey::Prekeys(_)),
            )
            .field("secrets", &"[redacted]")
            .finish()
    }
}

/// The result of opening a message, before anything is committed.
struct Opened {
    payload: Payload,
    /// `RECEIVER_KEY_EXPORT` of the layer that sealed the payload.
    receiver_key_ikm: Secret<HPKE_EXPORT_LEN>,
    /// The one-time prekey to delete on commit (first contact only).
    consumed_one_time: Option<u64>,
    /// The initiator's identity (first contact only).
    initiator: Option<VerifyingKey>,
}

impl Session {
    /// 2SM-Init from the peer's verified prekey bundle, without interaction.
    /// Deterministic: it signs the first-contact transcript; the first
    /// [`Self::send`] then seals to the bundle's prekeys.
    pub fn initiate(me: &SigningKey, bundle: &VerifiedBundle) -> Result<Self> {
        Self::initiate_with(me, bundle, InitiatorAuth::Signed)
    }

    /// [`Self::initiate`] with the initiator authenticated as `auth` says;
    /// the responder must accept with the same.
    pub fn initiate_with(
        me: &SigningKey,
        bundle: &VerifiedBundle,
        auth: InitiatorAuth,
    ) -> Result<Self> {
        let b = bundle.bundle();
        let my_identity = me.verifying_key();
        if b.identity == my_identity {
            return Err(TwoSmError::SelfSession);
        }
        let spk = &b.signed_prekey;
        let opk = &b.one_time_prekey;
        let signature = (auth == InitiatorAuth::Signed).then(|| {
            me.sign(&first_contact_transcript(
                &my_identity,
                &b.identity,
                spk.id,
                &spk.public,
                opk.id,
                &opk.public,
            ))
        });
        Ok(Self {
            me: my_identity,
            peer: b.identity,
            own_keys: BTreeMap::new(),
            next_own_index: 1,
            used_below: 1,
            received_key: None,
            peer_key: PeerKey::Prekeys(PendingFirstContact {
                spk_id: spk.id,
                spk_public: spk.public,
                opk_id: opk.id,
                opk_public: opk.public,
                signature,
            }),
            send_seq: 0,
            recv_seq: 0,
            initiator_auth: auth,
        })
    }

    /// Creates the session from the peer's first-contact message, using the
    /// local prekey store (whose one-time prekey it consumes). `claimed_sender`
    /// is the member the transport says sent it; the message's signed
    /// identity must match it. Returns the session and the plaintext.
    pub fn accept(
        store: &mut PrekeyStore,
        claimed_sender: &MemberId,
        message: &[u8],
    ) -> Result<(Self, SecretBytes)> {
        Self::accept_with(store, claimed_sender, message, InitiatorAuth::Signed)
    }

    /// [`Self::accept`] of a first contact authenticated as `auth` says
    /// (the initiator's choice): with [`InitiatorAuth::Transport`] the
    /// caller vouches that the transport authenticated `claimed_sender`.
    pub fn accept_with(
        store: &mut PrekeyStore,
        claimed_sender: &MemberId,
        message: &[u8],
        auth: InitiatorAuth,
    ) -> Result<(Self, SecretBytes)> {
        let me = store.member_id();
        let msg = UnverifiedMessage::decode(message, *claimed_sender, me)?;
        let h = &msg.header;
        if !matches!(h.key, KeyRef::Prekeys { .. }) {
            return Err(TwoSmError::NotFirstContact);
        }
        if h.sender == me {
            return Err(TwoSmError::SelfSession);
        }
        check_seq(h.seq, 0)?;
        let checked = check_payload(open_first_contact(store, &msg, auth)?)?;
        let initiator = checked
            .initiator
            .ok_or(malformed("payload.first_contact"))?;
        let mut session = Self {
            me: *store.identity(),
            peer: initiator,
            own_keys: BTreeMap::new(),
            next_own_index: 1,
            used_below: 1,
            received_key: None,
            // Replaced by `apply` below with the key the initiator announced.
            peer_key: PeerKey::SenderGenerated(checked.announced),
            send_seq: 0,
            recv_seq: 0,
            initiator_auth: auth,
        };
        let plaintext = session.apply(store, msg.header.key, checked);
        Ok((session, plaintext))
    }

    /// 2SM-Send: encrypts `plaintext` for the peer, drawing the randomness
    /// from `rng` in [`SendRandomness`]'s documented order.
    pub fn send(&mut self, rng: &mut impl CryptoRng, plaintext: &[u8]) -> Result<Vec<u8>> {
        let randomness = SendRandomness::draw(rng, self.first_contact_pending());
        self.send_with(randomness, plaintext)
    }

    /// [`Self::send`] with explicit randomness (deterministic).
    pub fn send_with(&mut self, randomness: SendRandomness, plaintext: &[u8]) -> Result<Vec<u8>> {
        let (own, own_public) = derive(&randomness.ikm_own_key);
        let (key, proof) = match &self.peer_key {
            PeerKey::Prekeys(p) => (
                KeyRef::Prekeys {
                    spk_id: p.spk_id,
                    opk_id: p.opk_id,
                },
                Some(FirstContactProof {
                    initiator_identity: self.me.as_bytes().to_vec(),
                    signature: p
                        .signature
                        .map(|s| s.to_bytes().to_vec())
                        .unwrap_or_default(),
                }),
            ),
            PeerKey::SenderGenerated(_) => (KeyRef::SenderGenerated, None),
            PeerKey::Announced { index, .. } => (KeyRef::ReceiverAnnounced { index: *index }, None),
        };
        let header = Header {
            sender: self.member_id(),
            recipient: self.peer_id(),
            seq: self.send_seq,
            key,
        };
        let aad = header.associated_data();
        let payload = Payload {
            plaintext: plaintext.to_vec(),
            sender_new_public: own_public.as_bytes().to_vec(),
            sender_new_index: self.next_own_index,
            first_contact: proof,
        };
        let payload_bytes = SecretBytes::new(payload.encode_to_vec());
        let bad_peer_key = |_| TwoSmError::InvalidPublicKey { what: "peer key" };
        // The layer that seals the payload also exports the recipient's new
        // key pair (RECEIVER_KEY_EXPORT).
        let seal_payload = |pk: &X25519PublicKey, info: &[u8], ikm| {
            hpke_seal_export_with_ikm(
                pk,
                info,
                &aad,
                payload_bytes.expose_secret(),
                ikm,
                RECEIVER_KEY_EXPORT,
            )
            .map_err(bad_peer_key)
        };
        let (sealed, for_peer) = match (&self.peer_key, &randomness.ikm_first_contact) {
            (PeerKey::Prekeys(p), Some(ikm_inner)) => {
                let (inner, for_peer) =
                    seal_payload(&p.opk_public, INFO_ONE_TIME_PREKEY, ikm_inner)?;
                let inner_bytes = PrekeyInner {
                    enc: inner.enc.to_vec(),
                    ciphertext: inner.ciphertext,
                }
                .encode_to_vec();
                let outer = hpke_seal_with_ikm(
                    &p.spk_public,
                    INFO_SIGNED_PREKEY,
                    &aad,
                    &inner_bytes,
                    &randomness.ikm_ephemeral,
                )
                .map_err(bad_peer_key)?;
                (outer, for_peer)
            }
            (PeerKey::Prekeys(_), None) => {
                return Err(TwoSmError::RandomnessMismatch(
                    "first-contact send needs ikm_first_contact",
                ));
            }
            (_, Some(_)) => {
                return Err(TwoSmError::RandomnessMismatch(
                    "ikm_first_contact given for a later send",
                ));
            }
            (PeerKey::SenderGenerated(pk) | PeerKey::Announced { public: pk, .. }, None) => {
                seal_payload(pk, INFO_MESSAGE, &randomness.ikm_ephemeral)?
            }
        };
        let (_, for_peer_public) = derive(&for_peer);
        // Commit: nothing below can fail.
        self.own_keys.insert(self.next_own_index, own);
        while self.own_keys.len() > MAX_PENDING_OWN_KEYS {
            self.own_keys.pop_first();
        }
        self.next_own_index += 1;
        self.send_seq += 1;
        self.peer_key = PeerKey::SenderGenerated(for_peer_public);
        tracing::trace!(peer = %self.peer_id(), seq = header.seq, "2sm send");
        Ok(encode_message(&header, sealed))
    }

    /// 2SM-Receive: decrypts the peer's next message. `store` is used only
    /// for a first-contact message (when both sides initiated concurrently,
    /// the peer's first message arrives at an existing session), and is then
    /// changed only on success.
    ///
    /// Messages from the peer must arrive in the order sent (per direction);
    /// a skipped message gives [`TwoSmError::OutOfOrder`], a repeated one
    /// [`TwoSmError::Replay`].
    pub fn receive(&mut self, store: &mut PrekeyStore, message: &[u8]) -> Result<SecretBytes> {
        let (me, peer) = (self.member_id(), self.peer_id());
        // A message for someone else, or from someone other than the peer,
        // fails authentication: both ids are in the associated data.
        let msg = UnverifiedMessage::decode(message, peer, me)?;
        let h = &msg.header;
        check_seq(h.seq, self.recv_seq)?;
        let opened = match h.key {
            KeyRef::Prekeys { .. } => {
                if store.member_id() != me {
                    return Err(TwoSmError::WrongStore {
                        expected: me,
                        actual: store.member_id(),
                    });
                }
                let opened = open_first_contact(store, &msg, self.initiator_auth)?;
                if opened.initiator != Some(self.peer) {
                    return Err(malformed("payload.first_contact"));
                }
                opened
            }
            KeyRef::SenderGenerated => {
                let sk = self
                    .received_key
                    .as_ref()
                    .ok_or(TwoSmError::NoReceivedKey)?;
                open_regular(sk, &msg)?
            }
            KeyRef::ReceiverAnnounced { index } => {
                let sk = self.own_key(index)?;
                open_regular(sk, &msg)?
            }
        };
        let checked = check_payload(opened)?;
        Ok(self.apply(store, msg.header.key, checked))
    }

    /// Applies a received, opened and checked message. Cannot fail: every
    /// check ran before.
    fn apply(&mut self, store: &mut PrekeyStore, key: KeyRef, c: Checked) -> SecretBytes {
        if let KeyRef::ReceiverAnnounced { index } = key {
            // Forward secrecy: delete the key used and every older one.
            // Saturating: `index` comes from the peer's header (it named a
            // key we hold, but no input-set counter may overflow).
            let above = index.saturating_add(1);
            self.own_keys = self.own_keys.split_off(&above);
            self.used_below = self.used_below.max(above);
        }
        if let Some(id) = c.consumed_one_time {
            store.consume_one_time_prekey(id);
        }
        self.received_key = Some(c.received);
        self.peer_key = PeerKey::Announced {
            index: c.announced_index,
            public: c.announced,
        };
        tracing::trace!(peer = %self.peer_id(), seq = self.recv_seq, "2sm receive");
        self.recv_seq = self.recv_seq.saturating_add(1);
        c.plaintext
    }

    fn own_key(&self, index: u64) -> Result<&X25519SecretKey> {
        if let Some(sk) = self.own_keys.get(&index) {
            return Ok(sk);
        }
        match self.own_keys.first_key_value() {
            Some((&oldest_kept, _)) if index >= self.used_below && index < oldest_kept => {
                Err(TwoSmError::EvictedKeyIndex { index, oldest_kept })
            }
            None if index >= self.used_below && index < self.next_own_index => {
                Err(TwoSmError::EvictedKeyIndex {
                    index,
                    oldest_kept: self.next_own_index,
                })
            }
            _ => Err(TwoSmError::UnknownKeyIndex { index }),
        }
    }

    /// True until the first-contact message of an initiated session is sent
    /// (and no message from the peer arrived first).
    pub fn first_contact_pending(&self) -> bool {
        matches!(self.peer_key, PeerKey::Prekeys(_))
    }

    /// Our member id.
    pub fn member_id(&self) -> MemberId {
        MemberId::from_identity_key(&self.me)
    }

    /// The peer's member id.
    pub fn peer_id(&self) -> MemberId {
        MemberId::from_identity_key(&self.peer)
    }

    /// The peer's identity key (from its verified bundle or its signed
    /// first-contact message).
    pub fn peer_identity(&self) -> &VerifyingKey {
        &self.peer
    }

    /// How many of our secret keys wait for the peer to use them (at most
    /// [`MAX_PENDING_OWN_KEYS`]).
    pub fn pending_own_keys(&self) -> usize {
        self.own_keys.len()
    }
}

/// A received message whose payload passed every check.
struct Checked {
    plaintext: SecretBytes,
    received: X25519SecretKey,
    announced_index: u64,
    announced: X25519PublicKey,
    consumed_one_time: Option<u64>,
    initiator: Option<VerifyingKey>,
}

fn check_payload(opened: Opened) -> Result<Checked> {
    let p = &opened.payload;
    let (received, _) = derive(&opened.receiver_key_ikm);
    let announced = public_key(&p.sender_new_public, "payload.sender_new_public")?;
    if p.sender_new_index == 0 {
        return Err(malformed("payload.sender_new_index"));
    }
    Ok(Checked {
        plaintext: SecretBytes::new(p.plaintext.clone()),
        received,
        announced_index: p.sender_new_index,
        announced,
        consumed_one_time: opened.consumed_one_time,
        initiator: opened.initiator,
    })
}

fn check_seq(seq: u64, expected: u64) -> Result<()> {
    use core::cmp::Ordering;
    match seq.cmp(&expected) {
        Ordering::Equal => Ok(()),
        Ordering::Less => Err(TwoSmError::Replay { seq, expected }),
        Ordering::Greater => Err(TwoSmError::OutOfOrder { seq, expected }),
    }
}

fn decode_payload(bytes: &SecretBytes) -> Result<Payload> {
    Payload::decode(bytes.expose_secret()).map_err(|_| malformed("payload"))
}

fn open_regular(sk: &X25519SecretKey, msg: &UnverifiedMessage) -> Result<Opened> {
    let (pt, receiver_key_ikm) = hpke_open_export(
        sk,
        &msg.sealed,
        INFO_MESSAGE,
        &msg.associated_data,
        RECEIVER_KEY_EXPORT,
    )
    .map_err(|_| TwoSmError::AuthenticationFailed)?;
    let payload = decode_payload(&pt)?;
    if payload.first_contact.is_some() {
        return Err(malformed("payload.first_contact"));
    }
    Ok(Opened {
        payload,
        receiver_key_ikm,
        consumed_one_time: None,
        initiator: None,
    })
}

/// Opens both layers of a first-contact message and checks the initiator's
/// identity: that it hashes to the sender, and (with
/// [`InitiatorAuth::Signed`]) its signature. Reads the store; changes
/// nothing.
fn open_first_contact(
    store: &PrekeyStore,
    msg: &UnverifiedMessage,
    auth: InitiatorAuth,
) -> Result<Opened> {
    let KeyRef::Prekeys { spk_id, opk_id } = msg.header.key else {
        return Err(TwoSmError::NotFirstContact);
    };
    let (spk, spk_secret) = store.signed_prekey(spk_id)?;
    let opk_secret = store.one_time_prekey(opk_id)?;
    let outer = hpke_open(
        spk_secret,
        &msg.sealed,
        INFO_SIGNED_PREKEY,
        &msg.associated_data,
    )
    .map_err(|_| TwoSmError::AuthenticationFailed)?;
    let inner =
        PrekeyInner::decode(outer.expose_secret()).map_err(|_| malformed("prekey inner layer"))?;
    let inner = HpkeCiphertext {
        enc: enc(&inner.enc, "prekey inner layer.enc")?,
        ciphertext: inner.ciphertext,
    };
    let (pt, receiver_key_ikm) = hpke_open_export(
        opk_secret,
        &inner,
        INFO_ONE_TIME_PREKEY,
        &msg.associated_data,
        RECEIVER_KEY_EXPORT,
    )
    .map_err(|_| TwoSmError::AuthenticationFailed)?;
    let payload = decode_payload(&pt)?;
    let proof = payload
        .first_contact
        .as_ref()
        .ok_or(malformed("payload.first_contact"))?;
    let initiator = VerifyingKey::from_slice(&proof.initiator_identity)
        .map_err(|_| malformed("payload.first_contact.initiator_identity"))?;
    let actual = MemberId::from_identity_key(&initiator);
    if actual != msg.header.sender {
        return Err(TwoSmError::IdentityMismatch {
            expected: msg.header.sender,
            actual,
        });
    }
    match auth {
        InitiatorAuth::Signed => {
            let signature = Signature::from_slice(&proof.signature)
                .map_err(|_| malformed("payload.first_contact.signature"))?;
            let transcript = first_contact_transcript(
                &initiator,
                store.identity(),
                spk_id,
                &spk.public,
                opk_id,
                &opk_secret.public_key(),
            );
            initiator
                .verify(&transcript, &signature)
                .map_err(|_| TwoSmError::BadFirstContactSignature)?;
        }
        // The transport authenticated the sender, whose id the identity key
        // hashes to (checked above). A signature here means the two sides
        // disagree on how the session is authenticated.
        InitiatorAuth::Transport if !proof.signature.is_empty() => {
            return Err(malformed(
                "payload.first_contact.signature: the transport authenticates",
            ));
        }
        InitiatorAuth::Transport => {}
    }
    Ok(Opened {
        payload,
        receiver_key_ikm,
        consumed_one_time: Some(opk_id),
        initiator: Some(initiator),
    })
}
