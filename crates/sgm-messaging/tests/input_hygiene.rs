//! Unauthenticated input: what it can make a member store or send (issue
//! 10 items 7, bullets 3–4, and 9). Public API only, so that every test
//! here also compiles, and fails, against the code before the fixes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{Direct, field, frame};
use sgm_messaging::{Destination, Group, PacketKind};

fn gid(g: &Group) -> [u8; 16] {
    g.group_id().unwrap().0
}

fn state_len(g: &Group) -> usize {
    g.to_bytes().expose_secret().len()
}

/// Alice (0) sends `n` messages that bob (1) never gets, so bob lacks
/// something alice can re-send.
fn bob_misses(d: &mut Direct, n: usize) {
    for i in 0..n {
        let out = d.send(0, format!("missed {i}").as_bytes());
        // Delivered to carol only (if there is one).
        for p in out.packets {
            if d.groups.len() > 2 {
                d.receive(2, &p.bytes).unwrap();
            }
        }
    }
}

/// Item 9: a 36-byte sync request naming bob, from nobody, made alice send
/// bob everything he lacked. It must make alice send nothing.
#[test]
fn forged_sync_request_makes_no_member_send() {
    let mut d = Direct::group(3, 1);
    bob_misses(&mut d, 3);
    let bob = d.groups[1].me();
    let forged = frame(&gid(&d.groups[0]), 3, &field(1, bob.as_bytes()));
    let sent = match d.receive(0, &forged) {
        Ok(out) => out.packets.len(),
        Err(_) => 0,
    };
    assert_eq!(sent, 0, "a forged request made alice send");
}

/// Item 9, fetch by id (packet kind 5): a fetch naming bob and the ids of
/// alice's messages, from nobody, made alice send bob those envelopes (and
/// up to `FETCH_CHAIN` predecessors of each, within 4 MiB). Like a sync
/// request, it must make alice send nothing unless bob signed it.
#[test]
fn forged_fetch_request_makes_no_member_send() {
    let mut d = Direct::group(3, 4);
    bob_misses(&mut d, 3);
    let bob = d.groups[1].me();
    let mut body = field(1, bob.as_bytes());
    for e in d.groups[0].transcript() {
        body.extend(field(2, e.id.as_bytes()));
    }
    let forged = frame(&gid(&d.groups[0]), 5, &body);
    let sent = match d.receive(0, &forged) {
        Ok(out) => out.packets.len(),
        Err(_) => 0,
    };
    assert_eq!(sent, 0, "a forged fetch made alice send");
}

/// Item 9: a signed request of bob's, replayed, is not answered again.
#[test]
fn replayed_sync_request_is_not_answered_again() {
    let mut d = Direct::group(3, 2);
    bob_misses(&mut d, 3);
    let alice = d.groups[0].me();
    let req = d.groups[1].sync_request(alice).unwrap();
    let bytes = req.packets[0].bytes.clone();
    let first = d.receive(0, &bytes).unwrap();
    assert!(
        first.packets.iter().any(|p| p.kind == PacketKind::Resend),
        "the genuine request is answered"
    );
    let again = match d.receive(0, &bytes) {
        Ok(out) => out.packets.len(),
        Err(_) => 0,
    };
    assert_eq!(again, 0, "a replayed request was answered");
}

/// Item 9: bob's request to alice, replayed at carol, makes carol send
/// nothing (a request is bound to its responder).
#[test]
fn sync_request_is_bound_to_its_responder() {
    let mut d = Direct::group(3, 3);
    bob_misses(&mut d, 3);
    let alice = d.groups[0].me();
    let req = d.groups[1].sync_request(alice).unwrap();
    let sent = match d.receive(2, &req.packets[0].bytes) {
        Ok(out) => out.packets.len(),
        Err(_) => 0,
    };
    assert_eq!(sent, 0, "carol answered a request addressed to alice");
}

/// Item 7 bullet 4: answering a sync request (here with an ask-back, since
/// the requester has something the responder lacks) left the persisted
/// state changed (the ask-back time) while `Output::state` was `None`.
/// Decision: answering a request changes no persisted state.
#[test]
fn answering_a_sync_request_changes_no_persisted_state() {
    let mut d = Direct::group(2, 4);
    // Bob sends something alice does not get: alice is behind bob.
    let _lost = d.send(1, b"alice misses this");
    let alice = d.groups[0].me();
    let req = d.groups[1].sync_request(alice).unwrap();
    let before = d.groups[0].to_bytes().expose_secret().to_vec();
    let out = d.receive(0, &req.packets[0].bytes).unwrap();
    assert!(
        out.packets.iter().any(|p| p.kind == PacketKind::Sync),
        "alice asks back"
    );
    assert!(out.state.is_none());
    assert_eq!(
        d.groups[0].to_bytes().expose_secret(),
        &before[..],
        "persisted state changed while Output::state is None"
    );
}

/// Envelopes of `n` messages of `size` bytes sent in another group (their
/// sender is unknown to everyone here): validly signed, unverifiable here.
fn foreign_envelopes(n: usize, size: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut m = Direct::group(2, seed);
    (0..n)
        .map(|i| {
            let out = m.send(0, &vec![i as u8; size]);
            let p = out
                .packets
                .iter()
                .find(|p| p.kind == PacketKind::Application)
                .unwrap();
            // Strip version, group id and kind.
            p.bytes[18..].to_vec()
        })
        .collect()
}

/// Item 7 bullet 3: a resend batch of envelopes from unknown senders was
/// parked unverified and persisted (40 × 1 MB from nobody grew the state
/// by 76 MiB). Unverifiable envelopes are bounded in bytes and never
/// persisted.
#[test]
fn resend_batch_from_unknown_senders_does_not_grow_the_state() {
    let mut d = Direct::group(2, 5);
    let envelopes = foreign_envelopes(40, 64 * 1024, 6);
    let mut body = Vec::new();
    for e in &envelopes {
        body.extend(field(1, e));
    }
    let batch = frame(&gid(&d.groups[0]), 4, &body);
    let before = state_len(&d.groups[0]);
    let _ = d.receive(0, &batch);
    let grown = state_len(&d.groups[0]).saturating_sub(before);
    assert!(grown < 16 * 1024, "state grew by {grown} bytes");
    // Still a working member.
    let out = d.send(1, b"still here");
    d.run(out);
    assert!(
        d.groups[0]
            .transcript()
            .iter()
            .any(|e| e.plaintext == b"still here")
    );
}

/// Item 7 bullet 3: before joining, a member parked whole packets from
/// anyone, for any group, in its persisted state (two 20 MiB packets grew
/// it by 80 MiB).
#[test]
fn packets_before_joining_do_not_grow_the_state() {
    let users = Direct::users(1, 7);
    let mut d = users.inner;
    let before = state_len(&d.groups[0]);
    for k in 0..2u8 {
        let junk = frame(&[k; 16], 1, &vec![k; 2 << 20]);
        let _ = d.receive(0, &junk);
        let junk = frame(&[k; 16], 4, &field(1, &vec![k; 1 << 20]));
        let _ = d.receive(0, &junk);
    }
    let grown = state_len(&d.groups[0]).saturating_sub(before);
    assert!(grown < 16 * 1024, "state grew by {grown} bytes");
}

/// A broadcast that arrives before the welcome is still delivered after
/// joining (parking works within its bounds, from memory).
#[test]
fn a_broadcast_before_the_welcome_is_delivered_after_joining() {
    let users = Direct::users(3, 8);
    let invites = users.invites.clone();
    let mut d = users.inner;
    let out = d.groups[0]
        .create(&invites[1..], 0, &mut d.rng, &mut d.keys)
        .unwrap();
    let (welcomes, rest): (Vec<_>, Vec<_>) = out
        .packets
        .into_iter()
        .partition(|p| p.kind == PacketKind::Welcome);
    let hello = d.send(0, b"early");
    // Carol gets the create's broadcasts and the message before her welcome.
    for p in rest.iter().chain(hello.packets.iter()) {
        let _ = d.receive(2, &p.bytes);
    }
    for w in welcomes {
        if let Destination::Member(m) = w.to {
            let i = d.index_of(&m).unwrap();
            let out = d.receive(i, &w.bytes).unwrap();
            d.run(out);
        }
    }
    assert!(
        d.groups[2]
            .transcript()
            .iter()
            .any(|e| e.plaintext == b"early")
    );
}
