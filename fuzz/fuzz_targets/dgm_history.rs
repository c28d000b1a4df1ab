//! sgm-dgm welcome histories (`WelcomeHistory::from_bytes` +
//! `Dgm::from_welcome`) and persisted state (`Dgm::from_bytes`): never
//! panic; what is accepted round-trips with the same members.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sgm_crypto::{MEMBER_ID_LEN, MemberId};
use sgm_dgm::{Dgm, OP_ID_LEN, Op, OpId, OpKind, WelcomeHistory};
use sgm_fuzz::Input;

#[allow(clippy::unwrap_used)]
fn recorded() -> &'static Vec<Vec<u8>> {
    static R: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    R.get_or_init(|| {
        let m = |i: u8| MemberId::from_bytes([i; MEMBER_ID_LEN]);
        let id = |i: u8| OpId([i; OP_ID_LEN]);
        let mut dgm = Dgm::new();
        let ops = [
            (
                1,
                1,
                vec![],
                OpKind::Create {
                    members: vec![m(1), m(2), m(3)],
                },
            ),
            (
                2,
                2,
                vec![1],
                OpKind::Add {
                    members: vec![m(4)],
                },
            ),
            (
                3,
                3,
                vec![1],
                OpKind::Remove {
                    members: vec![m(2)],
                },
            ),
            (4, 4, vec![2], OpKind::Ack),
            (
                5,
                1,
                vec![3, 4],
                OpKind::Add {
                    members: vec![m(5), m(6)],
                },
            ),
        ];
        for (i, author, parents, kind) in ops {
            dgm.apply(Op {
                id: id(i),
                author: m(author),
                parents: parents.into_iter().map(id).collect(),
                kind,
            })
            .unwrap();
        }
        vec![dgm.to_bytes()]
    })
}

fuzz_target!(|data: &[u8]| {
    let input = Input::split(data, recorded());
    let bytes = &*input.bytes;
    if let Ok(h) = WelcomeHistory::from_bytes(bytes) {
        let again = WelcomeHistory::from_bytes(&h.to_bytes()).expect("re-decode");
        assert_eq!(again.to_bytes(), h.to_bytes());
        if let Ok(dgm) = Dgm::from_welcome(h) {
            let back = Dgm::from_bytes(&dgm.to_bytes()).expect("restore");
            assert_eq!(back.members(), dgm.members());
            assert_eq!(back.to_bytes(), dgm.to_bytes());
        }
    }
});
