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

/// Every linear extension of a case's ops (index lists), stopping after
/// `limit` of them.
fn linear_extensions(ops: &[sgm_dgm::vectors::OpVector], limit: usize) -> Vec<Vec<usize>> {
    fn go(
        ops: &[sgm_dgm::vectors::OpVector],
        placed: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
        limit: usize,
    ) {
        if out.len() >= limit {
            return;
        }
        if placed.len() == ops.len() {
            out.push(placed.clone());
            return;
        }
        for i in 0..ops.len() {
            let ready = !placed.contains(&i)
                && ops[i]
                    .parents
                    .iter()
                    .all(|p| placed.iter().any(|j| &ops[*j].id == p));
            if ready {
                placed.push(i);
                go(ops, placed, out, limit);
                placed.pop();
            }
        }
    }
    let mut out = Vec::new();
    go(ops, &mut Vec::new(), &mut out, limit);
    out
}

#[test]
fn orders_are_distinct_and_all_of_them_where_few() {
    use sgm_dgm::vectors::{ALL_ORDERS_UP_TO, SAMPLED_ORDERS};
    for c in &committed().cases {
        let listed: Vec<usize> = (0..c.ops.len()).collect();
        let all = linear_extensions(&c.ops, ALL_ORDERS_UP_TO + 1);
        let mut seen = std::collections::BTreeSet::new();
        seen.insert(listed.clone());
        for order in &c.orders {
            assert!(
                all.len() > ALL_ORDERS_UP_TO || all.contains(order),
                "{}: {order:?} is no causal order",
                c.name
            );
            assert!(
                seen.insert(order.clone()),
                "{}: order {order:?} listed twice (or is the listed order)",
                c.name
            );
        }
        if all.len() <= ALL_ORDERS_UP_TO {
            assert_eq!(
                c.orders.len() + 1,
                all.len(),
                "{}: not every order listed",
                c.name
            );
        } else {
            assert_eq!(c.orders.len(), SAMPLED_ORDERS, "{}", c.name);
        }
    }
}
