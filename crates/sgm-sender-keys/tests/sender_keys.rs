//! Sender Keys: bounds, duplicates, forward secrecy, removal, the stolen
//! state weakness, and rejection of tampered, truncated, forged, replayed
//! and mis-addressed input with the state unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Net;
use sgm_sender_keys::{
    MAX_FORWARD_JUMPS, MAX_MESSAGE_KEYS, MAX_SENDER_KEY_STATES, SenderKeysError, SenderKeysMember,
};

fn state(m: &SenderKeysMember) -> Vec<u8> {
    m.to_bytes().expose_secret().to_vec()
}

#[test]
fn out_of_order_within_bounds() {
    let mut net = Net::group(3, 1);
    let msgs: Vec<Vec<u8>> = (0..10u8).map(|i| net.encrypt(1, &[i])).collect();
    let bob = net.id(1);
    for (i, m) in msgs.iter().enumerate().rev() {
        let p = net.m[0].decrypt(&bob, m).unwrap();
        assert_eq!(p.expose_secret(), &[i as u8]);
    }
    // Every skipped key was used once and deleted.
    assert_eq!(
        net.m[0]
            .record(&bob)
            .unwrap()
            .states()
            .next()
            .unwrap()
            .skipped_len(),
        0
    );
}

#[test]
fn duplicate_rejected_state_unchanged() {
    let mut net = Net::group(2, 2);
    let m = net.encrypt(1, b"once");
    let bob = net.id(1);
    net.m[0].decrypt(&bob, &m).unwrap();
    let before = state(&net.m[0]);
    assert!(matches!(
        net.m[0].decrypt(&bob, &m),
        Err(SenderKeysError::DuplicateMessage {
            iteration: 0,
            current: 1
        })
    ));
    assert_eq!(state(&net.m[0]), before);
}

#[test]
fn forward_jump_bound() {
    let mut net = Net::group(2, 3);
    let bob = net.id(1);
    let msgs: Vec<Vec<u8>> = (0..=MAX_FORWARD_JUMPS + 1)
        .map(|_| net.encrypt(1, b"j"))
        .collect();
    let before = state(&net.m[0]);
    let err = net.m[0]
        .decrypt(&bob, &msgs[MAX_FORWARD_JUMPS as usize + 1])
        .unwrap_err();
    assert_eq!(
        err,
        SenderKeysError::TooFarAhead {
            jump: MAX_FORWARD_JUMPS + 1,
            max: MAX_FORWARD_JUMPS
        }
    );
    assert_eq!(state(&net.m[0]), before);
    // Exactly at the bound is fine; only the newest MAX_MESSAGE_KEYS
    // skipped keys are kept.
    net.m[0]
        .decrypt(&bob, &msgs[MAX_FORWARD_JUMPS as usize])
        .unwrap();
    let st = net.m[0]
        .record(&bob)
        .unwrap()
        .states()
        .next()
        .unwrap()
        .skipped_len();
    assert_eq!(st, MAX_MESSAGE_KEYS);
}

#[test]
fn skipped_keys_bound() {
    let mut net = Net::group(2, 4);
    let bob = net.id(1);
    let msgs: Vec<Vec<u8>> = (0..=MAX_MESSAGE_KEYS + 1)
        .map(|_| net.encrypt(1, b"s"))
        .collect();
    // Skipping MAX_MESSAGE_KEYS + 1 messages keeps the newest MAX_MESSAGE_KEYS.
    net.m[0].decrypt(&bob, &msgs[MAX_MESSAGE_KEYS + 1]).unwrap();
    assert!(matches!(
        net.m[0].decrypt(&bob, &msgs[0]),
        Err(SenderKeysError::DuplicateMessage { iteration: 0, .. })
    ));
    net.m[0].decrypt(&bob, &msgs[1]).unwrap();
    net.m[0].decrypt(&bob, &msgs[MAX_MESSAGE_KEYS]).unwrap();
}

#[test]
fn at_most_five_states_per_sender() {
    let mut net = Net::group(2, 5);
    let bob = net.id(1);
    let old = net.encrypt(1, b"old chain");
    for _ in 0..MAX_SENDER_KEY_STATES - 1 {
        net.update(1);
    }
    // Four rotations: the first chain is the fifth state, still held.
    let mut copy = net.m[0].clone();
    copy.decrypt(&bob, &old).unwrap();
    net.update(1);
    assert_eq!(
        net.m[0].record(&bob).unwrap().states().count(),
        MAX_SENDER_KEY_STATES
    );
    assert!(matches!(
        net.m[0].decrypt(&bob, &old),
        Err(SenderKeysError::UnknownChain { .. })
    ));
}

#[test]
fn forward_secrecy() {
    let mut net = Net::group(3, 6);
    let bob = net.id(1);
    let m0 = net.encrypt(1, b"zero");
    let m1 = net.encrypt(1, b"one");
    net.m[0].decrypt(&bob, &m0).unwrap();
    net.m[0].decrypt(&bob, &m1).unwrap();
    // A state captured after decrypting message k opens neither k nor earlier.
    let mut captured = net.m[0].clone();
    for m in [&m0, &m1] {
        assert!(matches!(
            captured.decrypt(&bob, m),
            Err(SenderKeysError::DuplicateMessage { .. })
        ));
    }
    // The sender's own state cannot open what it sent either.
    let mut sender = net.m[1].clone();
    let own = net.id(1);
    assert!(sender.decrypt(&own, &m1).is_err());
}

#[test]
fn removed_member_locked_out() {
    let mut net = Net::group(4, 7);
    let carol = net.id(3);
    // Carol's state just before she processes her removal (the most she
    // could keep).
    let kept = net.m[3].clone();
    let out = net.m[0].remove(carol, &mut net.rng, &mut net.dir).unwrap();
    net.deliver(0, out);
    assert!(net.m[3].was_removed());
    for sender in 0..3 {
        let id = net.id(sender);
        let m = net.encrypt(sender, b"after the removal");
        for r in (0..3).filter(|r| *r != sender) {
            net.m[r].decrypt(&id, &m).unwrap();
        }
        let mut k = kept.clone();
        assert!(matches!(
            k.decrypt(&id, &m),
            Err(SenderKeysError::UnknownChain { .. })
        ));
    }
}

/// The known weakness: a stolen state reads every later message until every
/// member rotated; after the victim's update (every member rotates) it
/// reads nothing new.
#[test]
fn stolen_state_reads_until_full_rotation() {
    let mut net = Net::group(4, 8);
    let stolen = net.m[2].clone();
    // Later messages of every member: the thief reads them all.
    for sender in [0, 1, 3] {
        let id = net.id(sender);
        let m = net.encrypt(sender, b"later");
        let mut thief = stolen.clone();
        assert_eq!(thief.decrypt(&id, &m).unwrap().expose_secret(), b"later");
    }
    // One member rotating alone does not lock the thief out of the others.
    let alice = net.id(0);
    let bob = net.id(1);
    let m = net.encrypt(0, b"still readable");
    let mut thief = stolen.clone();
    thief.decrypt(&alice, &m).unwrap();
    // The victim's PCS update: everyone rotates (O(n²) messages).
    net.update(2);
    for sender in [0, 1, 3] {
        let id = net.id(sender);
        let m = net.encrypt(sender, b"healed");
        let mut thief = stolen.clone();
        assert!(matches!(
            thief.decrypt(&id, &m),
            Err(SenderKeysError::UnknownChain { .. })
        ));
        net.m[2].decrypt(&id, &m).unwrap();
    }
    let _ = bob;
}

#[test]
fn tampered_truncated_forged_rejected_state_unchanged() {
    let mut net = Net::group(3, 9);
    let bob = net.id(1);
    let m = net.encrypt(1, b"authentic");
    let before = state(&net.m[0]);
    for i in 0..m.len() {
        let mut t = m.clone();
        t[i] ^= 0x01;
        assert!(net.m[0].decrypt(&bob, &t).is_err(), "flip at {i}");
        assert_eq!(state(&net.m[0]), before);
    }
    for len in 0..m.len() {
        assert!(net.m[0].decrypt(&bob, &m[..len]).is_err(), "prefix {len}");
    }
    let mut longer = m.clone();
    longer.push(0);
    assert!(net.m[0].decrypt(&bob, &longer).is_err());
    assert_eq!(state(&net.m[0]), before);
    // Forged: the right chain, but signed by another key (carol's own
    // sender key), as a member impersonating bob would.
    let carol_msg = net.encrypt(2, b"forged");
    let carol = net.id(2);
    let own_chain = net.m[1].own_key().unwrap().chain_id();
    let mut forged = carol_msg.clone();
    forged[17..21].copy_from_slice(&own_chain.to_be_bytes());
    assert!(matches!(
        net.m[0].decrypt(&bob, &forged),
        Err(SenderKeysError::BadSignature { .. })
    ));
    // Carol's message claimed to be bob's: bob's record has no such chain.
    assert!(matches!(
        net.m[0].decrypt(&bob, &carol_msg),
        Err(SenderKeysError::UnknownChain { .. })
    ));
    assert_eq!(state(&net.m[0]), before);
    net.m[0].decrypt(&carol, &carol_msg).unwrap();
    net.m[0].decrypt(&bob, &m).unwrap();
}

#[test]
fn misaddressed_and_replayed_pairwise_rejected_state_unchanged() {
    let mut net = Net::group(3, 10);
    // An update from alice: pairwise messages to bob and carol.
    let out = net.m[0].update(&mut net.rng, &mut net.dir).unwrap();
    let alice = net.id(0);
    let to_carol = out.iter().find(|o| o.to == net.id(2)).unwrap().clone();
    let before = state(&net.m[1]);
    // Carol's message handed to bob.
    assert!(matches!(
        net.m[1].receive(&alice, &to_carol.bytes, &mut net.rng, &mut net.dir),
        Err(SenderKeysError::Channel(_))
    ));
    assert_eq!(state(&net.m[1]), before);
    // A wrong claimed sender.
    let bob_id = net.id(1);
    let to_bob = out.iter().find(|o| o.to == bob_id).unwrap().clone();
    let carol = net.id(2);
    assert!(
        net.m[1]
            .receive(&carol, &to_bob.bytes, &mut net.rng, &mut net.dir)
            .is_err()
    );
    // Tampered.
    let mut t = to_bob.bytes.clone();
    let last = t.len() - 1;
    t[last] ^= 1;
    assert!(
        net.m[1]
            .receive(&alice, &t, &mut net.rng, &mut net.dir)
            .is_err()
    );
    assert_eq!(state(&net.m[1]), before);
    // Delivered once, then replayed.
    let r = net.m[1]
        .receive(&alice, &to_bob.bytes, &mut net.rng, &mut net.dir)
        .unwrap();
    assert!(r.key_changed);
    let after = state(&net.m[1]);
    assert!(matches!(
        net.m[1].receive(&alice, &to_bob.bytes, &mut net.rng, &mut net.dir),
        Err(SenderKeysError::Channel(_))
    ));
    assert_eq!(state(&net.m[1]), after);
}

#[test]
fn message_for_another_group_rejected() {
    let mut net = Net::group(2, 11);
    let mut other = Net::group(2, 12);
    let m = other.encrypt(1, b"elsewhere");
    let bob = net.id(1);
    let before = state(&net.m[0]);
    assert_eq!(
        net.m[0].decrypt(&bob, &m).unwrap_err(),
        SenderKeysError::WrongGroup
    );
    assert_eq!(state(&net.m[0]), before);
}

#[test]
fn non_member_rejected() {
    let mut net = Net::group(3, 13);
    let mut outsider = Net::group(2, 14);
    let m = outsider.encrypt(0, b"not a member");
    let id = outsider.id(0);
    assert_eq!(
        net.m[0].decrypt(&id, &m).unwrap_err(),
        SenderKeysError::NotAMember(id)
    );
}

#[test]
fn state_round_trips() {
    let mut net = Net::group(3, 15);
    let bob = net.id(1);
    let skipped = net.encrypt(1, b"skipped");
    let m = net.encrypt(1, b"restored");
    net.m[0].decrypt(&bob, &m).unwrap();
    let bytes = state(&net.m[0]);
    let mut restored = SenderKeysMember::from_bytes(&bytes).unwrap();
    assert_eq!(state(&restored), bytes);
    assert_eq!(
        restored.decrypt(&bob, &skipped).unwrap().expose_secret(),
        b"skipped"
    );
    // Truncated or extended state: a typed error, never a panic.
    for len in (0..bytes.len()).step_by(7) {
        assert!(SenderKeysMember::from_bytes(&bytes[..len]).is_err());
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(SenderKeysMember::from_bytes(&longer).is_err());
    // The restored member goes on: it can update and everyone follows.
    net.m[0] = restored;
    net.update(0);
    let alice = net.id(0);
    let m = net.encrypt(0, b"after restore");
    net.m[1].decrypt(&alice, &m).unwrap();
}
