//! Decoding arbitrary or mutated bytes never panics and gives typed errors;
//! `process_bytes` on them leaves the state unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use sgm_dcgka::messages::{ControlMessage, DirectMessage};
use sgm_dcgka::ratchet::ApplicationMessage;
use sgm_dcgka::{Config, Dcgka};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = ControlMessage::from_bytes(&bytes);
        let _ = DirectMessage::from_bytes(&bytes);
        let _ = ApplicationMessage::from_bytes(&bytes);
        let _ = Dcgka::from_bytes(&bytes);
        let mut v1 = bytes.clone();
        v1.insert(0, 1);
        let _ = ControlMessage::from_bytes(&v1);
        let _ = DirectMessage::from_bytes(&v1);
        let _ = Dcgka::from_bytes(&v1);
    }

    #[test]
    fn mutated_messages_leave_state_unchanged(
        which in 0usize..4,
        pos in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        seed in 0u64..4,
    ) {
        let mut s = common::Sim::new(3, seed, Config::default());
        s.create(0, &[1, 2]);
        s.run(false);
        let m = match which {
            0 => s.update(0)[0],
            1 => s.remove(0, &[2])[0],
            _ => s.update(2)[0],
        };
        let b = s.id(1);
        let sender = s.msgs[m].sender;
        let mut control = s.msgs[m].out.control.to_bytes();
        let mut direct = s.msgs[m].out.direct_for(&b).map(DirectMessage::to_bytes);
        if which == 3 || direct.is_none() {
            let i = pos.index(control.len());
            control[i] ^= xor;
        } else if let Some(d) = direct.as_mut() {
            let i = pos.index(d.len());
            d[i] ^= xor;
        }
        let node = s.nodes.get_mut(&b).unwrap();
        let before = node.state.to_bytes();
        let r = node.state.process_bytes(sender, &control, direct.as_deref(), &mut s.rng, &mut s.dir);
        if r.is_err() {
            prop_assert_eq!(node.state.to_bytes(), before);
        }
    }
}
