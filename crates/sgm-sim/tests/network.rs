//! Behaviour of the simulated network.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use sgm_sim::{Delivery, LinkConfig, NodeId, SimConfig, SimError, Simulator};

fn sim_with(seed: u64, link: LinkConfig, relay: bool) -> (Simulator, Vec<NodeId>) {
    let mut config = SimConfig::new(seed);
    config.default_link = link;
    config.relay = relay;
    let mut sim = Simulator::new(config);
    let nodes = (0..4).map(|_| sim.add_node()).collect();
    (sim, nodes)
}

fn drain(sim: &mut Simulator) -> Vec<Delivery> {
    std::iter::from_fn(|| sim.next_delivery()).collect()
}

fn script(seed: u64) -> Vec<Delivery> {
    let link = LinkConfig {
        latency_ms: 5,
        jitter_ms: 50,
        loss_ppm: LinkConfig::ppm(0.1),
        duplicate_ppm: LinkConfig::ppm(0.1),
    };
    let (mut sim, n) = sim_with(seed, link, false);
    for i in 0..50u8 {
        let from = n[usize::from(i) % 4];
        let to: Vec<NodeId> = n.iter().copied().filter(|&x| x != from).collect();
        sim.broadcast(from, &to, "msg", vec![i; 3]).unwrap();
    }
    drain(&mut sim)
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let a = script(1);
    assert!(a.len() > 100);
    assert_eq!(a, script(1));
    assert_ne!(a, script(2));
}

#[test]
fn jitter_reorders_and_no_jitter_keeps_order() {
    let (mut sim, n) = sim_with(
        3,
        LinkConfig {
            jitter_ms: 100,
            ..LinkConfig::ideal(1)
        },
        false,
    );
    for i in 0..20u8 {
        sim.send(n[0], n[1], "m", vec![i]).unwrap();
    }
    let order: Vec<u8> = drain(&mut sim).iter().map(|d| d.bytes[0]).collect();
    assert_eq!(order.len(), 20);
    assert!(
        order.windows(2).any(|w| w[0] > w[1]),
        "jitter should reorder: {order:?}"
    );

    let (mut sim, n) = sim_with(3, LinkConfig::ideal(7), false);
    for i in 0..20u8 {
        sim.send(n[0], n[1], "m", vec![i]).unwrap();
    }
    let got = drain(&mut sim);
    assert!(got.iter().all(|d| d.at == 7));
    let order: Vec<u8> = got.iter().map(|d| d.bytes[0]).collect();
    assert_eq!(order, (0..20).collect::<Vec<u8>>());
}

#[test]
fn loss_rate_is_close_to_configured() {
    let link = LinkConfig {
        loss_ppm: LinkConfig::ppm(0.1),
        ..LinkConfig::ideal(1)
    };
    let (mut sim, n) = sim_with(9, link, false);
    for _ in 0..10_000 {
        sim.send(n[0], n[1], "m", vec![0]).unwrap();
    }
    let delivered = drain(&mut sim).len() as u64;
    let lost = sim.network_stats().lost;
    assert_eq!(delivered + lost, 10_000);
    assert!((800..=1200).contains(&lost), "lost {lost}");
}

#[test]
fn duplication_delivers_twice() {
    let link = LinkConfig {
        duplicate_ppm: LinkConfig::ppm(1.0),
        ..LinkConfig::ideal(1)
    };
    let (mut sim, n) = sim_with(9, link, false);
    sim.send(n[0], n[1], "m", b"x".to_vec()).unwrap();
    let got = drain(&mut sim);
    assert_eq!(got.len(), 2);
    assert_eq!(sim.network_stats().duplicated, 1);
}

#[test]
fn partition_cuts_and_heal_reconnects() {
    let (mut sim, n) = sim_with(1, LinkConfig::ideal(1), false);
    sim.partition(&[&[n[0], n[1]], &[n[2], n[3]]]).unwrap();
    assert!(sim.connected(n[0], n[1]) && !sim.connected(n[1], n[2]));
    sim.broadcast(n[0], &[n[1], n[2], n[3]], "m", b"p".to_vec())
        .unwrap();
    let got = drain(&mut sim);
    assert_eq!(got.iter().map(|d| d.to).collect::<Vec<_>>(), vec![n[1]]);
    assert_eq!(sim.network_stats().partitioned, 2);
    sim.heal();
    sim.broadcast(n[0], &[n[1], n[2], n[3]], "m", b"h".to_vec())
        .unwrap();
    assert_eq!(drain(&mut sim).len(), 3);
}

#[test]
fn offline_without_relay_drops_with_relay_stores_and_forwards() {
    let (mut sim, n) = sim_with(1, LinkConfig::ideal(1), false);
    sim.set_online(n[2], false).unwrap();
    sim.broadcast(n[0], &[n[1], n[2]], "m", b"a".to_vec())
        .unwrap();
    assert_eq!(drain(&mut sim).len(), 1);
    assert_eq!(sim.network_stats().offline, 1);
    assert_eq!(
        sim.send(n[2], n[0], "m", vec![]),
        Err(SimError::Offline(n[2]))
    );

    let (mut sim, n) = sim_with(1, LinkConfig::ideal(1), true);
    sim.set_online(n[2], false).unwrap();
    for i in 0..3u8 {
        sim.broadcast(n[0], &[n[1], n[2]], "m", vec![i]).unwrap();
    }
    let got = drain(&mut sim);
    assert!(
        got.iter().all(|d| d.to == n[1] && d.at == 2),
        "two hops of 1 ms"
    );
    assert_eq!(sim.stored_at_relay(), 3);
    sim.set_online(n[2], true).unwrap();
    let caught_up: Vec<u8> = drain(&mut sim).iter().map(|d| d.bytes[0]).collect();
    assert_eq!(caught_up, vec![0, 1, 2]);
    assert_eq!(sim.stored_at_relay(), 0);
    assert_eq!(sim.relay_stats().received.packets, 3);
}

#[test]
fn relay_holds_packets_across_a_partition_until_heal() {
    let (mut sim, n) = sim_with(1, LinkConfig::ideal(1), true);
    sim.partition(&[&[n[0], n[1]], &[n[2], n[3]]]).unwrap();
    sim.broadcast(n[0], &[n[1], n[2], n[3]], "m", b"x".to_vec())
        .unwrap();
    assert_eq!(drain(&mut sim).len(), 1);
    // The far side cannot reach the relay at all.
    sim.broadcast(n[2], &[n[3]], "m", b"y".to_vec()).unwrap();
    assert_eq!(drain(&mut sim).len(), 0);
    assert_eq!(sim.network_stats().partitioned, 1);
    sim.heal();
    let got = drain(&mut sim);
    assert_eq!(got.len(), 2);
    assert!(
        got.iter()
            .all(|d| d.from == n[0] && d.bytes[..] == b"x"[..])
    );
}

#[test]
fn recipients_of_a_broadcast_share_one_copy() {
    for relay in [false, true] {
        let (mut sim, n) = sim_with(1, LinkConfig::ideal(1), relay);
        sim.broadcast(n[0], &[n[1], n[2], n[3]], "m", vec![7; 1000])
            .unwrap();
        let got = drain(&mut sim);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|d| d.bytes[..] == [7; 1000][..]));
        assert!(
            got.iter()
                .all(|d| d.bytes.as_ptr() == got[0].bytes.as_ptr())
        );
    }
}

#[test]
fn broadcast_bytes_count_once_for_sender() {
    let (mut sim, n) = sim_with(1, LinkConfig::ideal(1), false);
    sim.broadcast(n[0], &[n[1], n[2], n[3]], "ctl", vec![0; 100])
        .unwrap();
    drain(&mut sim);
    let s = sim.stats(n[0]).unwrap();
    assert_eq!((s.sent.packets, s.sent.bytes), (1, 100));
    assert_eq!(s.sent_by_kind["ctl"].bytes, 100);
    for &r in &n[1..] {
        assert_eq!(sim.stats(r).unwrap().received.bytes, 100);
    }
}

#[test]
fn deadline_moves_clock_without_delivering_later_packets() {
    let (mut sim, n) = sim_with(1, LinkConfig::ideal(50), false);
    sim.send(n[0], n[1], "m", vec![1]).unwrap();
    assert!(sim.next_delivery_until(20).is_none());
    assert_eq!(sim.now(), 20);
    let d = sim.next_delivery_until(100).unwrap();
    assert_eq!(d.at, 50);
    assert_eq!(
        sim.send(NodeId(99), n[0], "m", vec![]),
        Err(SimError::UnknownNode(NodeId(99)))
    );
}

proptest! {
    /// Every copy put on a link is accounted for exactly once.
    #[test]
    fn copies_are_conserved(seed in any::<u64>(), ops in prop::collection::vec((0u32..4, 0u32..4, 0u8..4), 1..200)) {
        let link = LinkConfig { latency_ms: 1, jitter_ms: 20, loss_ppm: 200_000, duplicate_ppm: 200_000 };
        let (mut sim, n) = sim_with(seed, link, false);
        let mut copies = 0u64;
        for (from, to, action) in ops {
            let (from, to) = (n[from as usize], n[to as usize]);
            match action {
                0 => { sim.partition(&[&[from]]).unwrap(); }
                1 => { sim.heal(); }
                _ => { sim.send(from, to, "m", vec![action]).unwrap(); copies += 1; }
            }
            if let Some(_d) = sim.next_delivery_until(sim.now() + 3) {}
        }
        drain(&mut sim);
        let net = sim.network_stats();
        let received: u64 = n.iter().map(|&x| sim.stats(x).unwrap().received.packets).sum();
        prop_assert_eq!(received + net.lost + net.partitioned + net.offline, copies + net.duplicated);
    }
}
