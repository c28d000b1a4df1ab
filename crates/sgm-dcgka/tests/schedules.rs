//! proptest over random schedules: groups of 2 to 10, random mixes of
//! create/add/remove/update/send issued concurrently by different members,
//! delivered in random causal orders, with and without ack coalescing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::Sim;
use proptest::prelude::*;
use sgm_dcgka::Config;

#[derive(Clone, Debug)]
enum Action {
    Update(usize),
    Add(usize, usize),
    Remove(usize, usize),
    Send(usize),
    /// Deliver this many messages (random picks among deliverable ones):
    /// operations between deliveries are concurrent.
    Deliver(usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => (0..10usize).prop_map(Action::Update),
        2 => (0..10usize, 0..10usize).prop_map(|(a, b)| Action::Add(a, b)),
        1 => (0..10usize, 0..10usize).prop_map(|(a, b)| Action::Remove(a, b)),
        2 => (0..10usize).prop_map(Action::Send),
        3 => (0..12usize).prop_map(Action::Deliver),
    ]
}

fn run_schedule(n: usize, initial: usize, actions: &[Action], seed: u64, coalesce: bool) {
    // Application messages are delivered in batches (not in causal order
    // with control messages), so keep enough old epochs for the late ones;
    // the bound itself is tested in the ratchet's unit tests.
    let mut config = Config {
        coalesce_acks: coalesce,
        ..Config::default()
    };
    config.ratchet.max_epochs = 64;
    let mut s = Sim::new(n, seed, config);
    let initial = initial.clamp(1, n - 1);
    let members: Vec<usize> = (1..=initial).collect();
    s.create(0, &members);
    let mut ever_added: BTreeSet<usize> = (0..=initial).collect();
    for a in actions {
        let live: Vec<usize> = (0..n)
            .filter(|i| {
                let node = &s.nodes[&s.id(*i)];
                node.joined && node.state.in_group()
            })
            .collect();
        if live.is_empty() {
            break;
        }
        match *a {
            Action::Update(i) => {
                let who = live[i % live.len()];
                s.update(who);
            }
            Action::Add(i, t) => {
                let who = live[i % live.len()];
                let fresh: Vec<usize> = (0..n).filter(|x| !ever_added.contains(x)).collect();
                if fresh.is_empty() {
                    continue;
                }
                let target = fresh[t % fresh.len()];
                ever_added.insert(target);
                s.add(who, target);
            }
            Action::Remove(i, t) => {
                let who = live[i % live.len()];
                let me = s.id(who);
                let view: Vec<_> = s.nodes[&me]
                    .state
                    .members()
                    .into_iter()
                    .filter(|m| *m != me)
                    .collect();
                if view.is_empty() {
                    continue;
                }
                let target = view[t % view.len()];
                s.try_remove(me, &[target]).unwrap();
            }
            Action::Send(i) => {
                let who = live[i % live.len()];
                s.send(who, format!("m{}", s.apps.len()).as_bytes());
            }
            Action::Deliver(k) => {
                for _ in 0..k {
                    if !s.step_random() {
                        break;
                    }
                }
                s.run_apps();
            }
        }
    }
    s.run(true);
    s.run_apps();
    if !s.current_members().is_empty() {
        s.assert_converged();
    }
    s.assert_apps_delivered();
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_schedules_converge(
        n in 2..=10usize,
        initial in 1..10usize,
        actions in proptest::collection::vec(action(), 0..16),
        seed in any::<u64>(),
        coalesce in any::<bool>(),
    ) {
        run_schedule(n, initial, &actions, seed, coalesce);
    }
}
