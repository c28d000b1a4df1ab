//! The mpENC adapter through the driver: every member agrees after each
//! operation, messages decrypt, a removed member learns it, and greetings
//! take O(n) rounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_harness::mpenc::MpencScheme;
use sgm_harness::{Group, Operation};

fn everyone_else_decrypts(g: &mut Group<MpencScheme>, from: usize, text: &[u8]) {
    let ids = g.ids().to_vec();
    let out = g.run(ids[from], Operation::Send(text.to_vec())).unwrap();
    for m in g.roster().clone() {
        if m != ids[from] {
            assert!(
                out.decrypted_by(&m, &ids[from], text),
                "{m} did not decrypt"
            );
        }
    }
}

#[test]
fn create_add_remove_update_send() {
    for n in [2usize, 3, 5, 8] {
        let (mut g, create) = Group::setup(MpencScheme::new(), n, 3).unwrap();
        // The upflow visits n members one after another, then the
        // downflow, then the confirmations: n + 1 sequential rounds.
        assert_eq!(create.rounds, n + 1, "n = {n}");
        everyone_else_decrypts(&mut g, 0, b"hello");
        let new = g.spawn(1).unwrap()[0];
        let ids = g.ids().to_vec();
        g.run(ids[1 % n], Operation::Add(new)).unwrap();
        assert!(g.roster().contains(&new));
        everyone_else_decrypts(&mut g, n, b"after add");
        let removed = ids[n - 1];
        let out = g.run(ids[0], Operation::Remove(removed)).unwrap();
        assert!(out.removed.contains(&removed));
        assert!(!g.roster().contains(&removed));
        everyone_else_decrypts(&mut g, 0, b"after remove");
        g.run(ids[0], Operation::Update).unwrap();
        everyone_else_decrypts(&mut g, 0, b"after update");
    }
}
