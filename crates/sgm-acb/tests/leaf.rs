//! Leaves (`Envelope::leaf`, paper §8.1): messages nothing later names as a
//! parent. After an operation that every member acknowledges with a leaf,
//! the next message names one parent, not one per acknowledgment.
#![allow(clippy::unwrap_used)]

mod common;

use common::{group, key, observer, recv};
use sgm_acb::{AcbConfig, AcbError, SignedEnvelope};

#[test]
fn acks_as_leaves_keep_the_heads_small() {
    let n = 6;
    let mut g = group(n, AcbConfig::default());
    let op = g[0].broadcast(b"update".to_vec(), vec![]).unwrap();
    for m in g.iter_mut().skip(1) {
        recv(m, &op.bytes);
    }
    // Every other member acknowledges, concurrently, as a leaf naming the op.
    let acks: Vec<_> = (1..n as usize)
        .map(|i| {
            let ack = g[i].broadcast_leaf(b"ack".to_vec(), vec![]).unwrap();
            let env = SignedEnvelope::decode(&ack.bytes).unwrap();
            assert!(env.envelope().leaf);
            assert_eq!(env.envelope().parents, vec![op.id]);
            // The sender's own heads did not move either.
            assert_eq!(g[i].heads(), vec![op.id]);
            ack
        })
        .collect();
    for ack in &acks {
        let delivered = g[0].receive(&ack.bytes, &sgm_acb::AllowAll).unwrap();
        assert!(delivered.delivered[0].leaf);
    }
    // All delivered, and the heads are still the op alone.
    assert_eq!(g[0].heads(), vec![op.id]);
    let next = g[0].broadcast(b"next".to_vec(), vec![]).unwrap();
    let env = SignedEnvelope::decode(&next.bytes).unwrap();
    assert_eq!(env.envelope().parents, vec![op.id]);

    // Without leaves the same round leaves one head per acknowledgment.
    let mut h = group(n, AcbConfig::default());
    let op = h[0].broadcast(b"update".to_vec(), vec![]).unwrap();
    for m in h.iter_mut().skip(1) {
        recv(m, &op.bytes);
    }
    let acks: Vec<_> = (1..n as usize)
        .map(|i| h[i].broadcast(b"ack".to_vec(), vec![]).unwrap())
        .collect();
    for ack in &acks {
        recv(&mut h[0], &ack.bytes);
    }
    assert_eq!(h[0].heads().len(), n as usize - 1);
}

#[test]
fn a_leaf_still_waits_for_its_parents_and_its_sender_next_waits_for_it() {
    let mut g = group(3, AcbConfig::default());
    let op = g[0].broadcast(b"op".to_vec(), vec![]).unwrap();
    recv(&mut g[1], &op.bytes);
    let leaf = g[1].broadcast_leaf(b"ack".to_vec(), vec![]).unwrap();
    let after = g[1].broadcast(b"b2".to_vec(), vec![]).unwrap();
    // B's next message names only the op, yet comes after B's leaf by seq.
    let env = SignedEnvelope::decode(&after.bytes).unwrap();
    assert_eq!(env.envelope().parents, vec![op.id]);
    let mut o = observer(3, AcbConfig::default());
    assert!(recv(&mut o, &after.bytes).is_empty());
    assert!(recv(&mut o, &leaf.bytes).is_empty()); // waits for the op
    assert_eq!(recv(&mut o, &op.bytes), vec![op.id, leaf.id, after.id]);
}

#[test]
fn the_leaf_flag_is_signed() {
    let mut g = group(2, AcbConfig::default());
    let leaf = g[0].broadcast_leaf(b"ack".to_vec(), vec![]).unwrap();
    // Clear the flag (the last byte: no rotation, leaf) and keep the signature.
    let mut flipped = leaf.bytes.clone();
    let last = flipped.len() - 1;
    assert_eq!(flipped[last], 2);
    flipped[last] = 0;
    let err = g[1].receive(&flipped, &sgm_acb::AllowAll).unwrap_err();
    assert!(matches!(err, AcbError::BadSignature { .. }), "{err:?}");
    assert_eq!(recv(&mut g[1], &leaf.bytes), vec![leaf.id]);
    // A leaf that also rotates the key carries both flags.
    g[0].rotate_signing_key(key(9));
    let both = g[0].broadcast_leaf(b"ack".to_vec(), vec![]).unwrap();
    let env = SignedEnvelope::decode(&both.bytes).unwrap();
    assert!(env.envelope().leaf && env.envelope().new_signing_key.is_some());
    assert_eq!(recv(&mut g[1], &both.bytes), vec![both.id]);
}
