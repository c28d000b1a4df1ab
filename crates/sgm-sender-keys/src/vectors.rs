//! Known-answer vectors: `test-vectors/sender-keys.json` ([`generate`],
//! [`replay`]) and `test-vectors/pairwise.json` ([`generate_pairwise`],
//! [`replay_pairwise`]). Format in `docs/test-vectors.md`.
//!
//! Every random value consumed is listed, in draw order: a replaying
//! implementation feeds them to its own primitives and compares every
//! output. Ed25519 and ChaCha20-Poly1305 are deterministic.

use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sgm_2sm::{PrekeyStore, PublishRandomness, SendRandomness, Session};
use sgm_crypto::vectors::{check, unhex};
use sgm_crypto::{HPKE_IKM_LEN, MemberId, Secret, SeedableRng, SigningKey};

use crate::chain::ChainKey;
use crate::payload::{Envelope, Payload};
use crate::state::{OwnSenderKey, SenderKeyRandomness, SenderKeyRecord};
use crate::wire::Distribution;

/// Seed of the generator that drew the random values.
pub const SEED: u64 = 0x5367_6d53_4b76_3031; // "SgmSKv01"

fn h(b: &[u8]) -> String {
    hex::encode(b)
}

fn secret<const N: usize>(s: &str) -> Result<Secret<N>, String> {
    Secret::from_slice(&unhex(s)?).map_err(|e| e.to_string())
}

/// `sender-keys.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderKeysVectors {
    /// Format version of this file.
    pub version: u32,
    /// Random (first): the group's distribution id.
    pub distribution_id: String,
    /// Random (next, in this order): `chain_id_bytes` (4), `chain_key` (32),
    /// `signing_seed` (32).
    pub chain_id_bytes: String,
    /// The first chain key.
    pub chain_key: String,
    /// RFC 8032 seed of the signing key.
    pub signing_seed: String,
    /// `u32::from_be_bytes(chain_id_bytes) >> 1`.
    pub chain_id: u32,
    /// The signing public key.
    pub signing_public: String,
    /// The distribution message at iteration 0.
    pub distribution: String,
    /// The chain, iteration by iteration.
    pub chain: Vec<ChainStep>,
    /// Group messages in sending order.
    pub messages: Vec<GroupMessageVector>,
    /// The order a receiver holding `distribution` decrypts them in (all
    /// succeed), then the indices it must refuse as duplicates.
    pub receive_order: Vec<usize>,
    /// Refused after `receive_order`.
    pub duplicates: Vec<usize>,
}

/// One iteration of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStep {
    /// Iteration.
    pub iteration: u32,
    /// Chain key of the iteration.
    pub chain_key: String,
    /// `HMAC-SHA256(chain_key, 0x01)`.
    pub message_key_seed: String,
    /// `HKDF-SHA256(none, seed, "sgm-sender-keys v1 message key", 32)`.
    pub message_key: String,
}

/// One group message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMessageVector {
    /// Iteration.
    pub iteration: u32,
    /// Plaintext.
    pub plaintext: String,
    /// The whole message.
    pub bytes: String,
}

const PLAINTEXTS: [&[u8]; 4] = [b"hello group", b"", b"third", b"out of order"];

/// Generates `sender-keys.json`.
pub fn generate() -> SenderKeysVectors {
    let mut rng = ChaCha20Rng::seed_from_u64(SEED);
    let mut distribution_id = [0u8; 16];
    rand_core::Rng::fill_bytes(&mut rng, &mut distribution_id);
    let r = SenderKeyRandomness::draw(&mut rng);
    let (cid, ck, ss) = (r.chain_id, r.chain_key.clone(), r.signing_seed.clone());
    let mut own = OwnSenderKey::generate(distribution_id, r);
    let dist = own.distribution();
    let mut chain = Vec::new();
    let mut c = ChainKey::new(ck.clone(), 0);
    for _ in 0..PLAINTEXTS.len() {
        let seed = sgm_crypto::hmac_sha256(c.key().expose_secret(), &[0x01]).unwrap_or_default();
        let key = c
            .message_key()
            .map(|k| h(k.expose_secret()))
            .unwrap_or_default();
        chain.push(ChainStep {
            iteration: c.iteration(),
            chain_key: h(c.key().expose_secret()),
            message_key_seed: h(&seed),
            message_key: key,
        });
        c = match c.next() {
            Ok(n) => n,
            Err(_) => break,
        };
    }
    let messages = PLAINTEXTS
        .iter()
        .map(|p| {
            let iteration = own.iteration();
            GroupMessageVector {
                iteration,
                plaintext: h(p),
                bytes: own.encrypt(p).map(|m| h(&m)).unwrap_or_default(),
            }
        })
        .collect();
    SenderKeysVectors {
        version: 1,
        distribution_id: h(&distribution_id),
        chain_id_bytes: h(&cid),
        chain_key: h(ck.expose_secret()),
        signing_seed: h(ss.expose_secret()),
        chain_id: dist.chain_id,
        signing_public: h(dist.signing_key.as_bytes()),
        distribution: h(dist.to_bytes().expose_secret()),
        chain,
        messages,
        receive_order: vec![0, 3, 1, 2],
        duplicates: vec![0, 3],
    }
}

/// Replays `sender-keys.json`.
pub fn replay(v: &SenderKeysVectors) -> Result<(), String> {
    let id: [u8; 16] = unhex(&v.distribution_id)?
        .try_into()
        .map_err(|_| "distribution id length".to_string())?;
    let chain_id: [u8; 4] = unhex(&v.chain_id_bytes)?
        .try_into()
        .map_err(|_| "chain id length".to_string())?;
    let mut own = OwnSenderKey::generate(
        id,
        SenderKeyRandomness {
            chain_id,
            chain_key: secret(&v.chain_key)?,
            signing_seed: secret(&v.signing_seed)?,
        },
    );
    if own.chain_id() != v.chain_id {
        return Err("chain id".into());
    }
    let dist = own.distribution();
    check(
        "signing_public",
        &v.signing_public,
        dist.signing_key.as_bytes(),
    )?;
    check(
        "distribution",
        &v.distribution,
        dist.to_bytes().expose_secret(),
    )?;
    let mut c = ChainKey::new(secret(&v.chain_key)?, 0);
    for s in &v.chain {
        check("chain_key", &s.chain_key, c.key().expose_secret())?;
        let seed =
            sgm_crypto::hmac_sha256(c.key().expose_secret(), &[0x01]).map_err(|e| e.to_string())?;
        check("message_key_seed", &s.message_key_seed, &seed)?;
        let k = c.message_key().map_err(|e| e.to_string())?;
        check("message_key", &s.message_key, k.expose_secret())?;
        c = c.next().map_err(|e| e.to_string())?;
    }
    for m in &v.messages {
        let out = own
            .encrypt(&unhex(&m.plaintext)?)
            .map_err(|e| e.to_string())?;
        check("group message", &m.bytes, &out)?;
    }
    let sender = MemberId::from_bytes([0; 16]);
    let mut record = SenderKeyRecord::default();
    record.add(Distribution::from_bytes(&unhex(&v.distribution)?).map_err(|e| e.to_string())?);
    for &i in &v.receive_order {
        let m = v.messages.get(i).ok_or("receive order index")?;
        let p = record
            .decrypt(&sender, &id, &unhex(&m.bytes)?)
            .map_err(|e| format!("message {i}: {e}"))?;
        check("plaintext", &m.plaintext, p.expose_secret())?;
    }
    for &i in &v.duplicates {
        let m = v.messages.get(i).ok_or("duplicate index")?;
        if record.decrypt(&sender, &id, &unhex(&m.bytes)?).is_ok() {
            return Err(format!("duplicate {i} accepted"));
        }
    }
    Ok(())
}

/// `pairwise.json`: Alice fans one application message out to Bob and
/// Carol (first contact with each), over sgm-2sm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairwiseVectors {
    /// Format version of this file.
    pub version: u32,
    /// Members in draw order: alice, bob, carol.
    pub members: Vec<PairwiseMemberVector>,
    /// Random (after the members): the distribution id.
    pub distribution_id: String,
    /// The payload every recipient gets: `Application` (tag 0x06).
    pub plaintext: String,
    /// The encoded payload.
    pub payload: String,
    /// One 2SM message per recipient, in sending order.
    pub fan_out: Vec<FanOutVector>,
    /// Encodings of the other payloads (no randomness): `label`, `payload`.
    pub payloads: Vec<(String, String)>,
}

/// A member: identity and prekeys (one one-time prekey).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairwiseMemberVector {
    /// Name.
    pub name: String,
    /// Random: RFC 8032 seed of the identity key.
    pub identity_seed: String,
    /// Random: `DeriveKeyPair` input of the signed prekey.
    pub ikm_signed_prekey: String,
    /// Random: `DeriveKeyPair` input of the one-time prekey.
    pub ikm_one_time_prekey: String,
    /// Member id.
    pub member_id: String,
}

/// One 2SM message of the fan-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanOutVector {
    /// The recipient's name.
    pub to: String,
    /// Random, in draw order: `ikm_own_key`, `ikm_ephemeral`,
    /// `ikm_first_contact` (2SM's `SendRandomness`).
    pub ikm_own_key: String,
    /// HPKE `ikmE` of the outer layer.
    pub ikm_ephemeral: String,
    /// HPKE `ikmE` of the first-contact inner layer.
    pub ikm_first_contact: String,
    /// The 2SM message.
    pub bytes: String,
}

struct PairwiseParty {
    sk: SigningKey,
    store: PrekeyStore,
    published: sgm_2sm::PublishedPrekeys,
}

fn party(
    seed: &Secret<32>,
    spk: &Secret<HPKE_IKM_LEN>,
    opk: &Secret<HPKE_IKM_LEN>,
) -> PairwiseParty {
    let sk = SigningKey::from_seed(seed);
    let r = PublishRandomness {
        ikm_signed_prekey: spk.clone(),
        ikm_one_time_prekeys: vec![opk.clone()],
    };
    let (store, published) = PrekeyStore::publish_with(&sk, &r);
    PairwiseParty {
        sk,
        store,
        published,
    }
}

fn other_payloads(group: [u8; 16], alice: MemberId, bob: MemberId) -> Vec<(String, String)> {
    let mut members = vec![alice, bob];
    members.sort();
    [
        ("welcome", Payload::Welcome { members, key: None }),
        ("added", Payload::Added(bob)),
        (
            "removed",
            Payload::Removed {
                member: bob,
                key: None,
            },
        ),
        ("update", Payload::Update(None)),
    ]
    .into_iter()
    .map(|(l, payload)| {
        (
            l.to_string(),
            h(Envelope { group, payload }.to_bytes().expose_secret()),
        )
    })
    .collect()
}

/// Generates `pairwise.json`.
pub fn generate_pairwise() -> PairwiseVectors {
    let mut rng = ChaCha20Rng::seed_from_u64(SEED ^ 1);
    let mut members = Vec::new();
    let mut parties = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let seed: Secret<32> = Secret::random(&mut rng);
        let spk: Secret<HPKE_IKM_LEN> = Secret::random(&mut rng);
        let opk: Secret<HPKE_IKM_LEN> = Secret::random(&mut rng);
        let p = party(&seed, &spk, &opk);
        members.push(PairwiseMemberVector {
            name: name.into(),
            identity_seed: h(seed.expose_secret()),
            ikm_signed_prekey: h(spk.expose_secret()),
            ikm_one_time_prekey: h(opk.expose_secret()),
            member_id: h(p.store.member_id().as_bytes()),
        });
        parties.push(p);
    }
    let mut group = [0u8; 16];
    rand_core::Rng::fill_bytes(&mut rng, &mut group);
    let plaintext = b"to each of you".to_vec();
    let payload = Envelope {
        group,
        payload: Payload::Application(plaintext.clone()),
    }
    .to_bytes();
    let mut fan_out = Vec::new();
    for (i, to) in [(1usize, "bob"), (2, "carol")] {
        let r = SendRandomness::draw(&mut rng, true);
        let rec = (
            h(r.ikm_own_key.expose_secret()),
            h(r.ikm_ephemeral.expose_secret()),
            r.ikm_first_contact
                .as_ref()
                .map(|s| h(s.expose_secret()))
                .unwrap_or_default(),
        );
        let peer = parties[i].store.member_id();
        let bytes = parties[i]
            .published
            .fetch()
            .and_then(|b| b.verify(&peer))
            .and_then(|b| Session::initiate(&parties[0].sk, &b))
            .and_then(|mut s| s.send_with(r, payload.expose_secret()))
            .map(|b| h(&b))
            .unwrap_or_default();
        fan_out.push(FanOutVector {
            to: to.into(),
            ikm_own_key: rec.0,
            ikm_ephemeral: rec.1,
            ikm_first_contact: rec.2,
            bytes,
        });
    }
    let (alice, bob) = (parties[0].store.member_id(), parties[1].store.member_id());
    PairwiseVectors {
        version: 1,
        members,
        distribution_id: h(&group),
        plaintext: h(&plaintext),
        payload: h(payload.expose_secret()),
        fan_out,
        payloads: other_payloads(group, alice, bob),
    }
}

/// Replays `pairwise.json`: rebuilds every message and has each recipient
/// open its own.
pub fn replay_pairwise(v: &PairwiseVectors) -> Result<(), String> {
    let mut parties = Vec::new();
    for m in &v.members {
        let p = party(
            &secret(&m.identity_seed)?,
            &secret(&m.ikm_signed_prekey)?,
            &secret(&m.ikm_one_time_prekey)?,
        );
        check("member_id", &m.member_id, p.store.member_id().as_bytes())?;
        parties.push(p);
    }
    if parties.len() != 3 || v.fan_out.len() != 2 {
        return Err("expected three members and two messages".into());
    }
    let group: [u8; 16] = unhex(&v.distribution_id)?
        .try_into()
        .map_err(|_| "distribution id length".to_string())?;
    let payload = Envelope {
        group,
        payload: Payload::Application(unhex(&v.plaintext)?),
    }
    .to_bytes();
    check("payload", &v.payload, payload.expose_secret())?;
    let alice = parties[0].store.member_id();
    let alice_sk = parties[0].sk.clone();
    for (i, f) in v.fan_out.iter().enumerate() {
        let p = &mut parties[i + 1];
        let peer = p.store.member_id();
        let r = SendRandomness {
            ikm_own_key: secret(&f.ikm_own_key)?,
            ikm_ephemeral: secret(&f.ikm_ephemeral)?,
            ikm_first_contact: Some(secret(&f.ikm_first_contact)?),
        };
        let bundle = p
            .published
            .fetch()
            .and_then(|b| b.verify(&peer))
            .map_err(|e| e.to_string())?;
        let mut s = Session::initiate(&alice_sk, &bundle).map_err(|e| e.to_string())?;
        let bytes = s
            .send_with(r, payload.expose_secret())
            .map_err(|e| e.to_string())?;
        check("fan-out message", &f.bytes, &bytes)?;
        let (_, opened) =
            Session::accept(&mut p.store, &alice, &bytes).map_err(|e| e.to_string())?;
        let env = Envelope::from_bytes(opened.expose_secret()).map_err(|e| e.to_string())?;
        if env.payload != Payload::Application(unhex(&v.plaintext)?) || env.group != group {
            return Err("opened payload".into());
        }
    }
    let bob = parties[1].store.member_id();
    for ((l, p), (el, ep)) in other_payloads(group, alice, bob).iter().zip(&v.payloads) {
        if l != el {
            return Err(format!("payload label {el}"));
        }
        check(l, ep, &unhex(p)?)?;
    }
    Ok(())
}
