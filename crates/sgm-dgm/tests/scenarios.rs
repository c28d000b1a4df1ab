//! The paper's and the Java prototype's concurrency cases, each with exact
//! member sets, and each checked in many delivery orders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{H, m, set};

#[test]
fn create_gives_initial_members() {
    let mut h = H::new();
    let c = h.create('A', "ABC");
    assert_eq!(h.dgm.members(), set("ABC"));
    assert_eq!(h.view('B'), set("ABC"));
    assert_eq!(h.dgm.view_at(&[c]), set("ABC"));
    assert_eq!(h.dgm.heads(), vec![c]);
    h.check_orders("ABC");
}

#[test]
fn simple_add_then_acks() {
    // Java testSet_simpleAddCorrect: the adder and the added see the add,
    // the others only after acking it.
    let mut h = H::new();
    let c = h.create('A', "ABCDE");
    let add = h.add('A', &[c], "F");
    assert_eq!(h.dgm.members(), set("ABCDEF"));
    assert_eq!(h.view('A'), set("ABCDEF"));
    assert_eq!(h.view('F'), set("ABCDEF"));
    assert_eq!(h.view('B'), set("ABCDE"));
    let ack = h.ack('B', &[add]);
    assert_eq!(h.view('B'), set("ABCDEF"));
    assert_eq!(h.view('C'), set("ABCDE"));
    assert!(h.dgm.is_ancestor(&add, &ack));
    h.check_orders("ABCDEF");
}

#[test]
fn simple_remove() {
    let mut h = H::new();
    let c = h.create('A', "ABCDE");
    let r = h.remove('A', &[c], "E");
    assert_eq!(h.dgm.members(), set("ABCD"));
    assert_eq!(h.view('A'), set("ABCD"));
    assert_eq!(h.view('B'), set("ABCDE"));
    assert_eq!(h.view('E'), set("ABCDE"));
    h.ack('B', &[r]);
    assert_eq!(h.view('B'), set("ABCD"));
    h.check_orders("ABCDE");
}

#[test]
fn concurrent_removes_both_take_effect() {
    // Java testSet_concurrentRemovesBothOccur: B removes C while C removes B.
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let r1 = h.remove('B', &[c], "C");
    let r2 = h.remove('C', &[c], "B");
    assert_eq!(h.dgm.members(), set("A"));
    assert_eq!(h.view('B'), set("AB"));
    assert_eq!(h.view('C'), set("AC"));
    assert!(h.dgm.is_concurrent(&r1, &r2));
    h.check_orders("ABC");
}

#[test]
fn mutual_removal_removes_both() {
    // Paper §5.2: A removes B while B removes A.
    let mut h = H::new();
    let c = h.create('A', "ABC");
    h.remove('A', &[c], "B");
    h.remove('B', &[c], "A");
    assert_eq!(h.dgm.members(), set("C"));
    assert_eq!(h.view('C'), set("ABC"));
    h.check_orders("ABC");
}

#[test]
fn concurrent_removes_of_same_member() {
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let r1 = h.remove('A', &[c], "C");
    let r2 = h.remove('B', &[c], "C");
    assert_eq!(h.dgm.members(), set("AB"));
    assert_eq!(h.dgm.removed_by(&r1), Some(set("C")));
    assert_eq!(h.dgm.removed_by(&r2), Some(set("C")));
    h.check_orders("ABC");
}

#[test]
fn add_by_removed_user_does_not_occur() {
    // Java testSet_addByRemovedUserDoesNotOccur: A removes B; concurrently B
    // adds D. D is removed with B.
    let mut h = H::new();
    let c = h.create('A', "AB");
    h.remove('A', &[c], "B");
    let add = h.add('B', &[c], "D");
    let applied_again = h.dgm.clone().apply(h.ops.last().cloned().unwrap()).unwrap();
    assert!(applied_again.duplicate);
    assert_eq!(h.dgm.members(), set("A"));
    assert_eq!(h.view('B'), set("ABD"));
    assert_eq!(h.view('D'), set("ABD"));
    assert_eq!(h.dgm.view_at(&[add]), set("ABD"));
    h.check_orders("ABD");
}

#[test]
fn add_cancelled_reports_cancelled() {
    let mut h = H::new();
    let c = h.create('A', "AB");
    h.remove('A', &[c], "B");
    let op = h.op(
        'B',
        &[c],
        sgm_dgm::OpKind::Add {
            members: vec![m('D')],
        },
    );
    let applied = h.try_push(op).unwrap();
    assert_eq!(applied.cancelled, set("D"));
    assert!(applied.joined.is_empty());
}

#[test]
fn remove_cancels_concurrent_add_by_removed() {
    // Java testSet_removeCancelsConcurrentAddByRemoved: B adds D, C
    // concurrently removes B: D goes too.
    let mut h = H::new();
    let c = h.create('A', "ABC");
    h.add('B', &[c], "D");
    let r = h.remove('C', &[c], "B");
    assert_eq!(h.dgm.members(), set("AC"));
    assert_eq!(h.view('C'), set("AC"));
    assert_eq!(h.view('B'), set("ABCD"));
    assert_eq!(h.view('D'), set("ABCD"));
    assert_eq!(h.dgm.removed_by(&r), Some(set("BD")));
    h.check_orders("ABCD");
}

#[test]
fn remove_does_not_cancel_acked_add_by_removed() {
    // Java testSet_removeDoesNotCancelAckedAddByRemoved: C saw B's add of D
    // before removing B, so D stays.
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let add = h.add('B', &[c], "D");
    let ack = h.ack('C', &[add]);
    h.remove('C', &[ack], "B");
    assert_eq!(h.dgm.members(), set("ACD"));
    assert_eq!(h.view('C'), set("ACD"));
    assert_eq!(h.view('B'), set("ABCD"));
    h.check_orders("ABCD");
}

#[test]
fn remove_cancels_concurrent_transitive_add() {
    // Java testSet_removeCancelsConcurrentTransitiveAddByRemoved: B adds D,
    // D adds E, C concurrently removes B: D and E go too (cascade).
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let a1 = h.add('B', &[c], "D");
    let a2 = h.add('D', &[a1], "E");
    let r = h.remove('C', &[c], "B");
    assert_eq!(h.dgm.members(), set("AC"));
    assert_eq!(h.view('C'), set("AC"));
    assert_eq!(h.view('B'), set("ABCD"));
    assert_eq!(h.view('D'), set("ABCDE"));
    assert_eq!(h.view('E'), set("ABCDE"));
    assert_eq!(h.dgm.view_at(&[a2]), set("ABCDE"));
    assert_eq!(h.dgm.removed_by(&r), Some(set("BDE")));
    h.check_orders("ABCDE");
}

#[test]
fn cascade_stops_at_adds_the_remover_saw() {
    // B adds D; C sees it; D then adds E concurrently with C's removal of B.
    // D's add was seen, so D stays, and E (added by D, not removed) stays.
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let a1 = h.add('B', &[c], "D");
    let seen = h.ack('C', &[a1]);
    h.add('D', &[a1], "E");
    h.remove('C', &[seen], "B");
    assert_eq!(h.dgm.members(), set("ACDE"));
    h.check_orders("ABCDE");
}

#[test]
fn concurrent_adds_both_take_effect() {
    // Paper §6.2.5: A adds C while B adds D.
    let mut h = H::new();
    let c = h.create('A', "AB");
    let a1 = h.add('A', &[c], "C");
    let a2 = h.add('B', &[c], "D");
    assert_eq!(h.dgm.members(), set("ABCD"));
    assert_eq!(h.view('C'), set("ABC"));
    assert_eq!(h.view('D'), set("ABD"));
    assert_eq!(h.dgm.view_at(&[a1, a2]), set("ABCD"));
    let mut heads = vec![a1, a2];
    heads.sort();
    assert_eq!(h.dgm.heads(), heads);
    h.check_orders("ABCD");
}

#[test]
fn update_concurrent_with_add() {
    // Paper Figure 5: A acts (an ack stands for A's update) while C adds D;
    // B sees both. Membership: ABCD; A's view lacks D.
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let upd = h.ack('A', &[c]);
    let add = h.add('C', &[c], "D");
    h.ack('B', &[upd, add]);
    assert_eq!(h.dgm.members(), set("ABCD"));
    assert_eq!(h.view('A'), set("ABC"));
    assert_eq!(h.view('B'), set("ABCD"));
    h.check_orders("ABCD");
}

#[test]
fn remove_concurrent_with_add_of_same_member() {
    // D was added by B twice concurrently... impossible (unique ids); the
    // case that can happen: A adds D, then B (having seen the add) removes D
    // while C concurrently acks the add. The remove wins.
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let add = h.add('A', &[c], "D");
    let ack = h.ack('C', &[add]);
    let r = h.remove('B', &[add], "D");
    assert_eq!(h.dgm.members(), set("ABC"));
    assert_eq!(h.view('C'), set("ABCD"));
    assert_eq!(h.dgm.view_at(&[ack, r]), set("ABC"));
    h.check_orders("ABCD");
}

#[test]
fn concurrent_duplicate_adds_then_remove_wins() {
    // Two concurrent adds of the same fresh id (allowed: neither saw the
    // other) and a remove that saw only one of them: removal is per id and
    // permanent, so D is out.
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let a1 = h.add('A', &[c], "D");
    h.add('B', &[c], "D");
    h.remove('C', &[a1], "D");
    assert_eq!(h.dgm.members(), set("ABC"));
    h.check_orders("ABCD");
}

#[test]
fn removed_member_concurrent_remove_takes_effect() {
    // Strong remove: B is removed by A, and concurrently B removes C. Both
    // removals take effect.
    let mut h = H::new();
    let c = h.create('A', "ABCD");
    h.remove('A', &[c], "B");
    h.remove('B', &[c], "C");
    assert_eq!(h.dgm.members(), set("AD"));
    h.check_orders("ABCD");
}

#[test]
fn three_way_removal_ring() {
    let mut h = H::new();
    let c = h.create('A', "ABCD");
    h.remove('A', &[c], "B");
    h.remove('B', &[c], "C");
    h.remove('C', &[c], "A");
    assert_eq!(h.dgm.members(), set("D"));
    assert_eq!(h.view('D'), set("ABCD"));
    h.check_orders("ABCD");
}

#[test]
fn cascade_through_chain_of_concurrent_adds_and_removes() {
    // B adds D; D adds E; E adds F; C removes B concurrently with all of
    // them; meanwhile A (who saw the add of E) removes nobody. Everything
    // B's line added concurrently with C's remove goes.
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let a1 = h.add('B', &[c], "D");
    let a2 = h.add('D', &[a1], "E");
    let a3 = h.add('E', &[a2], "F");
    let seen = h.ack('A', &[a3]);
    let r = h.remove('C', &[c], "B");
    assert_eq!(h.dgm.members(), set("AC"));
    assert_eq!(h.view('A'), set("ABCDEF"));
    h.ack('A', &[seen, r]);
    assert_eq!(h.view('A'), set("AC"));
    h.check_orders("ABCDEF");
}

#[test]
fn batch_add_and_batch_remove() {
    let mut h = H::new();
    let c = h.create('A', "AB");
    let a = h.add('A', &[c], "CDE");
    let r = h.remove('B', &[a], "CE");
    assert_eq!(h.dgm.members(), set("ABD"));
    assert_eq!(h.dgm.view_at(&[a]), set("ABCDE"));
    assert_eq!(h.dgm.view_at(&[r]), set("ABD"));
    h.check_orders("ABCDE");
}

#[test]
fn self_removal_is_leaving() {
    let mut h = H::new();
    let c = h.create('A', "AB");
    let r = h.remove('B', &[c], "B");
    assert_eq!(h.dgm.members(), set("A"));
    // B cannot act after leaving.
    let op = h.op('B', &[r], sgm_dgm::OpKind::Ack);
    assert!(h.try_push(op).is_err());
}

#[test]
fn applied_reports_joined_and_left() {
    let mut h = H::new();
    let c = h.create('A', "ABC");
    let op = h.op(
        'B',
        &[c],
        sgm_dgm::OpKind::Add {
            members: vec![m('D')],
        },
    );
    let a = h.try_push(op).unwrap();
    assert_eq!(a.joined, set("D"));
    let op = h.op(
        'C',
        &[c],
        sgm_dgm::OpKind::Remove {
            members: vec![m('B')],
        },
    );
    let r = h.try_push(op).unwrap();
    assert_eq!(r.left, set("BD"));
    assert!(r.joined.is_empty());
}

#[test]
fn membership_heads_skip_acks_and_keep_the_membership_past() {
    let mut h = H::new();
    let c = h.create('A', "ABCD");
    let acks: Vec<_> = "BCD".chars().map(|x| h.ack(x, &[c])).collect();
    // Every ack is a head; the create is the only membership head.
    assert_eq!(h.dgm.heads().len(), 3);
    assert_eq!(h.dgm.membership_heads(), vec![c]);
    // Two concurrent removes: both are membership heads, the create is not.
    let r1 = h.remove('B', &[acks[0]], "C");
    let r2 = h.remove('D', &[acks[2]], "B");
    let mut both = vec![r1, r2];
    both.sort();
    assert_eq!(h.dgm.membership_heads(), both);
    // An op over the membership heads sees what an op over all heads sees.
    assert_eq!(
        h.dgm.view_at(&h.dgm.membership_heads()),
        h.dgm.view_at(&h.dgm.heads())
    );
    assert_eq!(h.dgm.view_at(&both), set("AD"));
    // An ack that has both removes in its past leaves the membership heads
    // as they are; a remove over them replaces both.
    h.ack('A', &both);
    assert_eq!(h.dgm.membership_heads(), both);
    let r3 = h.remove('A', &both, "D");
    assert_eq!(h.dgm.membership_heads(), vec![r3]);
    h.check_orders("ABCD");
}
