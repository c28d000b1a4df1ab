//! What concurrent membership changes do to Sender Keys in the
//! decentralized setting (no server orders them). Shown, not hidden: the
//! baseline keeps Signal's behaviour, and these are its failure modes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_crypto::MemberId;
use sgm_harness::sender_keys::SenderKeysScheme;
use sgm_harness::{Group, Operation};

fn group() -> (Group<SenderKeysScheme>, Vec<MemberId>, MemberId) {
    let (mut g, _) = Group::setup(SenderKeysScheme::new(Default::default(), 12), 4, 21).unwrap();
    let x = g.spawn(1).unwrap()[0];
    g.track_causality();
    let ids = g.ids()[..4].to_vec();
    (g, ids, x)
}

fn index_of(g: &Group<SenderKeysScheme>, from: MemberId, to: MemberId) -> usize {
    g.pending()
        .iter()
        .position(|e| e.message.sender == from && e.recipient == to)
        .unwrap()
}

/// A adds X while B removes D. Nobody tells X of the removal (B did not
/// know X; the others only rotate), so X's view keeps D: X sends its sender
/// key to D and addresses its messages to D. A D that ignores its own
/// removal reads X's messages.
#[test]
fn add_concurrent_with_removal_leaks_to_the_removed_member() {
    let (mut g, ids, x) = group();
    let (a, b, d) = (ids[0], ids[1], ids[3]);
    g.start(a, Operation::Add(x)).unwrap();
    g.start(b, Operation::Remove(d)).unwrap();
    // D ignores its removal: its copy of B's notice is lost.
    let i = index_of(&g, b, d);
    g.drop_at(i).unwrap();
    g.deliver_all().unwrap();
    assert!(
        g.member(&x).unwrap().members().contains(&d),
        "X never learnt of the removal"
    );
    for m in &ids[..3] {
        assert!(!g.member(m).unwrap().members().contains(&d));
        assert!(g.member(m).unwrap().members().contains(&x));
    }
    g.take_outcome();
    let out = g
        .run(x, Operation::Send(b"for the group".to_vec()))
        .unwrap();
    assert!(
        out.decrypted_by(&d, &x, b"for the group"),
        "the removed D reads X"
    );
    // Messages of the others stay out of D's reach.
    let out = g.run(a, Operation::Send(b"from A".to_vec())).unwrap();
    assert!(!out.decrypted.iter().any(|e| e.recipient == d));
}

/// A adds X while B removes A. C processes the add first and accepts X; D
/// processes the removal first and then refuses the add of a non-member:
/// the views diverge for good, and D never sends X its sender key.
#[test]
fn add_by_a_concurrently_removed_member_splits_the_views() {
    let (mut g, ids, x) = group();
    let (a, b, c, d) = (ids[0], ids[1], ids[2], ids[3]);
    g.start(a, Operation::Add(x)).unwrap();
    g.start(b, Operation::Remove(a)).unwrap();
    // C: the add first, then the removal.
    let i = index_of(&g, a, c);
    g.deliver_at(i).unwrap();
    let i = index_of(&g, b, c);
    g.deliver_at(i).unwrap();
    // D: the removal first; the add is then refused (A is no member).
    let i = index_of(&g, b, d);
    g.deliver_at(i).unwrap();
    let i = index_of(&g, a, d);
    let err = g.deliver_at(i).unwrap_err();
    assert!(err.to_string().contains("not a member"), "{err}");
    g.drop_at(i).unwrap();
    // B processes A's add after the removal too and refuses it.
    let i = index_of(&g, a, b);
    assert!(g.deliver_at(i).is_err());
    g.drop_at(i).unwrap();
    while !g.pending().is_empty() {
        let d = g.deliverable();
        match g.deliver_at(d[0]) {
            Ok(()) => {}
            // Refusals of messages from those outside one's view.
            Err(_) => {
                g.drop_at(d[0]).unwrap();
            }
        }
    }
    assert!(g.member(&c).unwrap().members().contains(&x));
    assert!(!g.member(&d).unwrap().members().contains(&x));
    assert!(!g.member(&b).unwrap().members().contains(&x));
    assert!(
        g.member(&x).unwrap().record(&d).is_none(),
        "D never sent X its key"
    );
    assert!(g.member(&x).unwrap().record(&c).is_some());
}
