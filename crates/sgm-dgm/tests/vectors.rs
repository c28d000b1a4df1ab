//! Replays the committed `test-vectors/dgm.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sgm_dgm::vectors::{DgmVectors, generate, replay};

const COMMITTED: &str = include_str!("../../../test-vectors/dgm.json");

fn committed() -> DgmVectors {
    serde_json::from_str(COMMITTED).unwrap()
}

#[test]
fn committed_vectors_replay() {
    replay(&committed()).unwrap();
}

#[test]
fn committed_vectors_match_the_generator() {
    assert_eq!(committed(), generate(), "run `cargo xtask vectors`");
}

#[test]
fn changed_outputs_are_caught() {
    let v = committed();
    let mut members = v.clone();
    members.cases[4].members_after.pop();
    assert!(replay(&members).is_err());
    let mut view = v.clone();
    let c = view
        .cases
        .iter_mut()
        .find(|c| c.name == "update_concurrent_with_add")
        .unwrap();
    c.member_views[0].view.clear();
    assert!(replay(&view).is_err());
    let mut at = v.clone();
    at.cases[2].views_at[1].view.push(at.members[11].id.clone());
    assert!(replay(&at).is_err());
    let mut err = v.clone();
    err.rejections[0].error = "UnknownParent".into();
    assert!(replay(&err).is_err());
    let mut order = v;
    order.cases[3].orders[0].reverse();
    assert!(replay(&order).is_err());
}
