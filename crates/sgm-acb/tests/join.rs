//! Joining mid-history from a checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sgm_acb::{Acb, AcbConfig, AcbError, ApiMisuse};

#[test]
fn a_joiner_delivers_messages_that_name_pre_join_parents() {
    let config = AcbConfig::default();
    let mut g = group(2, config);
    let a1 = g[0].broadcast(b"a1".to_vec(), vec![]).unwrap();
    recv(&mut g[1], &a1.bytes);
    let b1 = g[1].broadcast(b"b1".to_vec(), vec![]).unwrap();
    recv(&mut g[0], &b1.bytes);
    // Rotation before the join: the joiner must know the new key.
    g[0].rotate_signing_key(key(50));
    let a2 = g[0].broadcast(b"a2 rotates".to_vec(), vec![]).unwrap();
    recv(&mut g[1], &a2.bytes);

    // A adds member 9 and hands it a checkpoint.
    let checkpoint = g[0].checkpoint();
    let mut joiner = Acb::join(key(9), config, &checkpoint).unwrap();
    assert_eq!(joiner.heads(), g[0].heads());
    assert!(joiner.is_delivered(&a1.id) && joiner.is_delivered(&b1.id));
    assert_eq!(
        joiner.current_key_of(&id_of(0)),
        Some(key(50).verifying_key())
    );

    // Without the checkpoint a message after the add would wait forever.
    let a3 = g[0].broadcast(b"a3".to_vec(), vec![]).unwrap();
    let mut fresh = observer(2, config);
    assert!(recv(&mut fresh, &a3.bytes).is_empty());
    assert_eq!(fresh.missing(), vec![a2.id]);
    assert_eq!(recv(&mut joiner, &a3.bytes), vec![a3.id]);

    // A message concurrent with the add (B had not seen a2) still waits for
    // a2 at nobody: a2 is in the checkpoint, so it is delivered at once.
    let b2 = g[1].broadcast(b"b2".to_vec(), vec![]).unwrap();
    assert_eq!(recv(&mut joiner, &b2.bytes), vec![b2.id]);

    // The joiner's first message names what it has, and others accept it.
    g[0].register_member(key(9).verifying_key());
    let j1 = joiner.broadcast(b"hello".to_vec(), vec![]).unwrap();
    recv(&mut g[0], &b2.bytes);
    assert_eq!(recv(&mut g[0], &j1.bytes), vec![j1.id]);
}

#[test]
fn a_corrupt_checkpoint_is_a_typed_error() {
    let g = group(2, AcbConfig::default());
    let mut cp = g[0].checkpoint();
    assert!(matches!(
        Acb::join(key(9), AcbConfig::default(), &[0xff, 0x01, 0x02]),
        Err(AcbError::Api(ApiMisuse::InvalidState(_)))
    ));
    cp.push(0x08);
    assert!(Acb::join(key(9), AcbConfig::default(), &cp).is_err());
}

#[test]
fn an_existing_fresh_instance_adopts_a_checkpoint_and_a_used_one_refuses() {
    let config = AcbConfig::default();
    let mut g = group(2, config);
    let a1 = g[0].broadcast(b"a1".to_vec(), vec![]).unwrap();
    recv(&mut g[1], &a1.bytes);
    let checkpoint = g[0].checkpoint();

    // Created before it knew the group, then handed the checkpoint.
    let mut joiner = Acb::new(key(9), config);
    joiner.adopt_checkpoint(&checkpoint).unwrap();
    assert_eq!(joiner.heads(), g[0].heads());
    assert!(joiner.is_delivered(&a1.id));
    let a2 = g[0].broadcast(b"a2".to_vec(), vec![]).unwrap();
    assert_eq!(recv(&mut joiner, &a2.bytes), vec![a2.id]);

    // A bad checkpoint changes nothing.
    let mut other = Acb::new(key(8), config);
    assert!(other.adopt_checkpoint(&[0xff, 0x01]).is_err());
    assert!(other.heads().is_empty());

    // Once it has delivered something, adopting would rewrite history.
    assert!(matches!(
        joiner.adopt_checkpoint(&checkpoint),
        Err(AcbError::Api(ApiMisuse::NotFresh))
    ));
    let mut sender = Acb::new(key(7), config);
    sender.broadcast(b"mine".to_vec(), vec![]).unwrap();
    assert!(matches!(
        sender.adopt_checkpoint(&checkpoint),
        Err(AcbError::Api(ApiMisuse::NotFresh))
    ));
}
