//! A clock that jumps backwards (issue 12 item 5). `now_ms` is the
//! application's clock; the façade only compares it with times it stored
//! (`saturating_sub`), so a jump back pauses its timers (held acks, delivery
//! warnings, welcome re-sends, time-based updates) until the clock passes
//! the times already stored, and never raises a false alarm. Messages do
//! not depend on the clock at all. docs/messaging.md, "Time".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::Direct;
use sgm_messaging::{Event, Output, Warning};

/// Every member ticks at `d.now`; everything they send is delivered.
fn tick_all(d: &mut Direct) -> Vec<Event> {
    let mut events = Vec::new();
    for i in 0..d.groups.len() {
        let now = d.now;
        let out: Output = d.groups[i].tick(now, &mut d.rng, &mut d.keys).unwrap();
        events.extend(out.events.iter().cloned());
        d.run(out);
    }
    events
}

fn undelivered(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Warning(Warning::Undelivered { .. })))
        .count()
}

#[test]
fn a_clock_that_jumps_backwards_delays_acks_but_loses_nothing_and_raises_no_alarm() {
    let mut d = Direct::group(3, 21);
    // An hour in, alice sends and everyone acknowledges.
    d.now = 3_600_000;
    let out = d.send(0, b"before the jump");
    d.run(out);
    d.now += 1_000;
    tick_all(&mut d);
    assert!(
        d.groups[0].unacknowledged().is_empty(),
        "acked before the jump"
    );

    // The clock jumps back by 50 minutes. Messages still flow both ways.
    d.now = 600_000;
    let out = d.send(1, b"after the jump");
    d.run(out);
    for g in [0, 2] {
        let seen = d.groups[g]
            .transcript()
            .iter()
            .any(|e| e.plaintext == b"after the jump");
        assert!(seen, "member {g} got bob's message sent after the jump");
    }
    // Timers are paused, not fired: well past the delivery timeout of the
    // jumped-back clock, no member raises a false `Undelivered`.
    let mut events = Vec::new();
    for _ in 0..5 {
        d.now += 10_000;
        events.extend(tick_all(&mut d));
    }
    assert_eq!(undelivered(&events), 0, "no false alarm after a jump back");

    // Once the clock passes the times stored before the jump, held acks go
    // out and every message is acknowledged by everyone.
    d.now = 3_600_000 + 5_000;
    for _ in 0..3 {
        d.now += 1_000;
        events.extend(tick_all(&mut d));
    }
    assert_eq!(undelivered(&events), 0);
    for (i, g) in d.groups.iter().enumerate() {
        assert!(
            g.unacknowledged().is_empty(),
            "member {i} still waits for acks: {:?}",
            g.unacknowledged()
        );
    }
}
