//! Security checks against an adversary that reads the network and
//! captures members' states.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Sim;
use sgm_dcgka::{Config, Dcgka};

/// The adversary's best effort with a captured state: process every
/// control message sent after `from` (not its own) with the captured
/// member's direct parts, ignoring errors.
fn catch_up(sim: &Sim, captured: &mut Dcgka, from: usize) {
    let me = captured.id();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(99);
    let mut dir = common::Directory::default();
    for m in &sim.msgs[from..] {
        if m.sender == me {
            continue;
        }
        let _ = captured.process(
            m.sender,
            &m.out.control,
            m.out.direct_for(&me),
            &mut rng,
            &mut dir,
        );
    }
}

fn can_decrypt(captured: &mut Dcgka, sim: &Sim, app: usize) -> bool {
    let a = &sim.apps[app];
    captured.decrypt(&a.sender, &a.bytes, b"").is_ok()
}

use rand_core::SeedableRng;

fn group(n: usize, seed: u64) -> Sim {
    let mut s = Sim::new(n, seed, Config::default());
    let rest: Vec<usize> = (1..n).collect();
    s.create(0, &rest);
    s.run(false);
    s
}

/// A removed member, processing everything it receives, decrypts nothing a
/// sender sent after processing the removal.
#[test]
fn removed_member_cannot_decrypt() {
    let mut s = group(4, 11);
    let c = s.id(2);
    let before = s.send(1, b"before");
    s.run_apps();
    assert!(s.nodes[&c].decrypted.contains_key(&before));
    let mut captured = s.nodes[&c].state.clone();
    let mark = s.msgs.len();
    s.remove(0, &[2]);
    s.run(true);
    let after_b = s.send(1, b"after");
    let after_a = s.send(0, b"after");
    s.run_apps();
    s.assert_apps_delivered();
    assert!(!s.nodes[&c].decrypted.contains_key(&after_b));
    catch_up(&s, &mut captured, mark);
    assert!(!captured.in_group());
    assert!(!can_decrypt(&mut captured, &s, after_b));
    assert!(!can_decrypt(&mut captured, &s, after_a));
    // Check the check: the captured state did read the message from before.
    let mut again = s.nodes[&c].state.clone();
    assert!(
        !can_decrypt(&mut again, &s, before),
        "key of a read message kept"
    );
}

/// State captured after decrypting message m cannot decrypt m.
#[test]
fn forward_secrecy() {
    let mut s = group(3, 12);
    let b = s.id(1);
    let m = s.send(0, b"secret");
    let m2 = s.send(0, b"secret 2");
    s.run_apps();
    assert!(s.nodes[&b].decrypted.contains_key(&m));
    let mut captured = s.nodes[&b].state.clone();
    assert!(!can_decrypt(&mut captured, &s, m));
    assert!(!can_decrypt(&mut captured, &s, m2));
    let mut other = s.nodes[&s.id(2)].state.clone();
    assert!(!can_decrypt(&mut other, &s, m));
}

/// PCS: A's state is captured; after A's next update is processed, the
/// adversary decrypts nothing new, while without the update it would.
#[test]
fn post_compromise_security() {
    let mut s = group(3, 13);
    let a = s.id(0);
    let mut captured = s.nodes[&a].state.clone();
    let mark = s.msgs.len();
    // Check the check: without an update, the captured state reads B's next
    // message.
    let early = s.send(1, b"readable");
    assert!(can_decrypt(&mut captured.clone(), &s, early));
    s.update(0);
    s.run(true);
    let late_b = s.send(1, b"after heal");
    let late_c = s.send(2, b"after heal");
    let late_a = s.send(0, b"after heal");
    s.run_apps();
    s.assert_apps_delivered();
    catch_up(&s, &mut captured, mark);
    for m in [late_a, late_b, late_c] {
        assert!(!can_decrypt(&mut captured, &s, m), "app {m}");
    }
}

/// §7, multiple compromises: A and B are captured and update concurrently.
/// A's update does not heal against B's captured state (A's seed went to B
/// over B's compromised 2SM state), so A's message in its new epoch is
/// readable; a dominating update (C's, causally after both) heals.
#[test]
fn dominating_update_rule() {
    let mut s = group(3, 14);
    let (a, b) = (s.id(0), s.id(1));
    let mut adv_a = s.nodes[&a].state.clone();
    let mut adv_b = s.nodes[&b].state.clone();
    let mark = s.msgs.len();
    s.update(0);
    s.update(1);
    // A sends before seeing B's update: its epoch is its own update.
    let m1 = s.send(0, b"after concurrent updates");
    // Everyone processes everything; C's update dominates both.
    s.run(true);
    s.update(2);
    s.run(true);
    let m3 = s.send(0, b"healed");
    let m4 = s.send(1, b"healed");
    s.run_apps();
    s.assert_apps_delivered();
    catch_up(&s, &mut adv_a, mark);
    catch_up(&s, &mut adv_b, mark);
    assert!(
        can_decrypt(&mut adv_b.clone(), &s, m1),
        "B's captured state should read A's message after A's concurrent update"
    );
    for m in [m3, m4] {
        assert!(!can_decrypt(&mut adv_a.clone(), &s, m));
        assert!(!can_decrypt(&mut adv_b.clone(), &s, m));
    }
}

/// A single compromised member is healed by its own update even when
/// another member updates concurrently (§7).
#[test]
fn single_compromise_heals_despite_concurrent_update() {
    let mut s = group(3, 15);
    let a = s.id(0);
    let mut adv = s.nodes[&a].state.clone();
    let mark = s.msgs.len();
    s.update(0);
    s.update(1);
    s.run(true);
    let ms: Vec<usize> = (0..3).map(|i| s.send(i, b"x")).collect();
    s.run_apps();
    s.assert_apps_delivered();
    catch_up(&s, &mut adv, mark);
    for m in ms {
        assert!(!can_decrypt(&mut adv.clone(), &s, m));
    }
}
