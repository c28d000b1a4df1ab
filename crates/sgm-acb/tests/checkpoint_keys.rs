//! Issue 10 item 4: a malicious adder edits the checkpoint it hands a
//! joiner so that an existing member's signing key is one the adder holds.
//! A sender's key must be provable from that sender's own signatures (each
//! rotation signed by the previous key, rooted in its identity key), never
//! from what the adder asserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use prost::Message as _;
use sgm_acb::{Acb, AcbConfig, AcbError, AllowAll, Envelope, SignedEnvelope};

// The checkpoint's protobuf layout (docs/acb.md), as an attacker re-encodes it.
#[derive(Clone, PartialEq, prost::Message)]
struct CheckpointWire {
    #[prost(uint32, tag = "1")]
    version: u32,
    #[prost(message, repeated, tag = "2")]
    senders: Vec<SenderWire>,
    #[prost(message, repeated, tag = "3")]
    delivered: Vec<DeliveredWire>,
    #[prost(bytes = "vec", repeated, tag = "4")]
    heads: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SenderWire {
    #[prost(bytes = "vec", tag = "1")]
    id: Vec<u8>,
    #[prost(uint64, tag = "2")]
    delivered_seq: u64,
    #[prost(message, repeated, tag = "3")]
    keys: Vec<KeyEpochWire>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct KeyEpochWire {
    #[prost(uint64, tag = "1")]
    from_seq: u64,
    #[prost(bytes = "vec", tag = "2")]
    key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    proof: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DeliveredWire {
    #[prost(bytes = "vec", tag = "1")]
    id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    sender: Vec<u8>,
    #[prost(uint64, tag = "3")]
    seq: u64,
}

/// Members 0 (the malicious adder) and 1 (carol, who rotated once).
fn setup() -> (Vec<Acb>, Vec<u8>) {
    let mut g = group(2, AcbConfig::default());
    let c1 = g[1].broadcast(b"c1".to_vec(), vec![]).unwrap();
    recv(&mut g[0], &c1.bytes);
    g[1].rotate_signing_key(key(51));
    let c2 = g[1].broadcast(b"c2 rotates".to_vec(), vec![]).unwrap();
    recv(&mut g[0], &c2.bytes);
    let cp = g[0].checkpoint();
    (g, cp)
}

fn edit(cp: &[u8], f: impl FnOnce(&mut SenderWire)) -> Vec<u8> {
    let mut w = CheckpointWire::decode(cp).unwrap();
    let carol = id_of(1).as_bytes().to_vec();
    let s = w.senders.iter_mut().find(|s| s.id == carol).unwrap();
    f(s);
    w.encode_to_vec()
}

/// A message "from carol" signed by a key the adder holds.
fn forgery(seq: u64) -> SignedEnvelope {
    SignedEnvelope::sign(
        Envelope {
            sender: id_of(1),
            seq,
            parents: vec![],
            payload: b"forged".to_vec(),
            direct: vec![],
            new_signing_key: None,
            rotation_proof: None,
            leaf: false,
        },
        &key(66),
    )
}

#[test]
fn adder_editing_checkpoint_cannot_assign_a_members_signing_key() {
    let (_g, cp) = setup();
    // The adder appends a rotation to its own key, effective from carol's
    // next message, with no proof (or one of its own making).
    let appended = edit(&cp, |s| {
        s.keys.push(KeyEpochWire {
            from_seq: s.delivered_seq + 1,
            key: key(66).verifying_key().as_bytes().to_vec(),
            proof: key(66).sign(b"anything").to_bytes().to_vec(),
        });
    });
    // The adder replaces carol's latest key with its own.
    let replaced = edit(&cp, |s| {
        s.keys.last_mut().unwrap().key = key(66).verifying_key().as_bytes().to_vec();
    });
    // The adder replaces carol's identity key (her id no longer matches).
    let root = edit(&cp, |s| {
        s.keys.truncate(1);
        s.keys[0].key = key(66).verifying_key().as_bytes().to_vec();
    });
    for tampered in [appended, replaced, root] {
        match Acb::join(key(9), AcbConfig::default(), &tampered) {
            Err(AcbError::BadKeyChain { sender }) => assert_eq!(sender, id_of(1)),
            Err(e) => panic!("unexpected error {e:?}"),
            Ok(mut joiner) => {
                // Before the fix: the joiner accepts the adder's forgery as
                // carol's message.
                let f = forgery(3);
                let got = joiner.receive(f.bytes(), &AllowAll);
                panic!("tampered checkpoint adopted; forgery as carol gives {got:?}");
            }
        }
    }
}

#[test]
fn an_honest_checkpoint_carries_a_verifiable_rotation_chain() {
    let (mut g, cp) = setup();
    let mut joiner = Acb::join(key(9), AcbConfig::default(), &cp).unwrap();
    assert_eq!(
        joiner.current_key_of(&id_of(1)),
        Some(key(51).verifying_key())
    );
    // Carol's next message (signed by her rotated key) is delivered; the
    // adder's forgery is not.
    let c3 = g[1].broadcast(b"c3".to_vec(), vec![]).unwrap();
    let f = forgery(3);
    assert!(joiner.receive(f.bytes(), &AllowAll).is_err());
    assert_eq!(recv(&mut joiner, &c3.bytes), vec![c3.id]);
    // And a checkpoint taken by the joiner verifies again (proofs persist).
    let again = joiner.checkpoint();
    let restored = Acb::restore(
        joiner.to_state_bytes().expose_secret(),
        AcbConfig::default(),
    )
    .unwrap();
    assert_eq!(restored.checkpoint(), again);
    Acb::join(key(10), AcbConfig::default(), &again).unwrap();
}

#[test]
fn a_rotation_without_a_valid_proof_is_rejected() {
    let g = group(2, AcbConfig::default());
    let mut bob = g[1].clone();
    // Signed by carol's key, announcing a rotation whose proof is not
    // carol's signature over the rotation.
    let env = Envelope {
        sender: id_of(0),
        seq: 1,
        parents: vec![],
        payload: b"rotate".to_vec(),
        direct: vec![],
        new_signing_key: Some(key(66).verifying_key()),
        rotation_proof: Some(key(66).sign(b"not the statement")),
        leaf: false,
    };
    let bad = SignedEnvelope::sign(env, &key(0));
    let before = snapshot(&bob);
    assert!(matches!(
        bob.receive(bad.bytes(), &AllowAll),
        Err(AcbError::BadSignature { .. })
    ));
    assert_eq!(snapshot(&bob), before);
}
