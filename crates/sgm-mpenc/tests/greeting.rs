//! Whole greetings through the ordered channel: every member derives the
//! same key; excluded members are locked out; keys change per sub-session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand_chacha::ChaCha20Rng;
use sgm_crypto::{SeedableRng, SigningKey};
use sgm_mpenc::data::DataMessage;
use sgm_mpenc::drive::{Driver, Op, Outcome};
use sgm_mpenc::greeter::GreetState;
use sgm_mpenc::{Id, MpencError};

fn id(i: usize) -> Id {
    format!("member{i:03}").into_bytes()
}

fn driver(n: usize, rng: &mut ChaCha20Rng) -> Driver {
    let mut d = Driver::new();
    for i in 0..n {
        d.add(id(i), SigningKey::generate(rng));
    }
    d
}

/// Every member of `members` is READY with the same session id and group
/// key; returns the key.
fn agreed(d: &Driver, members: &[Id]) -> [u8; 32] {
    let first = &d.parties[&members[0]].store;
    let key = *first.group_key().expect("group key").expose_secret();
    let sid = *first.session_id().expect("sid");
    for m in members {
        let s = &d.parties[m].store;
        assert_eq!(
            s.state,
            GreetState::Ready,
            "{:?}",
            String::from_utf8_lossy(m)
        );
        assert_eq!(s.group_key().unwrap().expose_secret(), &key);
        assert_eq!(s.session_id().unwrap(), &sid);
        let mut a = s.members().to_vec();
        let mut b = members.to_vec();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }
    key
}

#[test]
fn start_include_exclude_refresh_agree_for_2_to_12_members() {
    for n in 2..=12 {
        let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
        let mut d = driver(n + 1, &mut rng);
        let all: Vec<Id> = (0..n).map(id).collect();
        assert_eq!(
            d.run(&id(0), &Op::Start(all[1..].to_vec()), &mut rng)
                .unwrap(),
            Outcome::Completed
        );
        let k0 = agreed(&d, &all);

        let mut with_new = all.clone();
        with_new.push(id(n));
        assert_eq!(
            d.run(&id(1 % n), &Op::Include(vec![id(n)]), &mut rng)
                .unwrap(),
            Outcome::Completed
        );
        let k1 = agreed(&d, &with_new);

        let excluded = id(n / 2);
        let rest: Vec<Id> = with_new
            .iter()
            .filter(|m| **m != excluded)
            .cloned()
            .collect();
        assert_eq!(
            d.run(&id(0), &Op::Exclude(vec![excluded.clone()]), &mut rng)
                .unwrap(),
            Outcome::Completed
        );
        let k2 = agreed(&d, &rest);
        assert_eq!(d.parties[&excluded].store.state, GreetState::Null);

        assert_eq!(
            d.run(&rest[rest.len() - 1], &Op::Refresh, &mut rng)
                .unwrap(),
            Outcome::Completed
        );
        let k3 = agreed(&d, &rest);
        let keys = [k0, k1, k2, k3];
        for i in 0..4 {
            for j in i + 1..4 {
                assert_ne!(
                    keys[i], keys[j],
                    "n = {n}: sub-session keys {i} and {j} equal"
                );
            }
        }
    }
}

#[test]
fn excluded_member_cannot_read_later_messages() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut d = driver(4, &mut rng);
    let all: Vec<Id> = (0..4).map(id).collect();
    d.run(&id(0), &Op::Start(all[1..].to_vec()), &mut rng)
        .unwrap();
    agreed(&d, &all);
    let before = d.parties[&id(3)].store.clone();
    d.run(&id(0), &Op::Exclude(vec![id(3)]), &mut rng).unwrap();
    let new_key = agreed(&d, &all[..3]);

    // The excluded member's last state holds the old key only; with it and
    // every packet of the exclusion it still cannot get the new key.
    assert_ne!(before.group_key().unwrap().expose_secret(), &new_key);
    let msg = DataMessage {
        parents: vec![],
        body: b"after exclusion".to_vec(),
    };
    let (packet, _) = d.parties[&id(1)].store.encrypt(&msg, &mut rng).unwrap();
    assert!(before.decrypt(&id(1), &packet).is_err());
    // The remaining members read it.
    for m in [id(0), id(2)] {
        assert_eq!(d.parties[&m].store.decrypt(&id(1), &packet).unwrap().0, msg);
    }
}

#[test]
fn old_session_key_does_not_open_new_messages() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let mut d = driver(3, &mut rng);
    let all: Vec<Id> = (0..3).map(id).collect();
    d.run(&id(0), &Op::Start(all[1..].to_vec()), &mut rng)
        .unwrap();
    let old = d.parties[&id(2)].store.clone();
    let msg = DataMessage {
        parents: vec![],
        body: b"old".to_vec(),
    };
    let (old_packet, _) = old.encrypt(&msg, &mut rng).unwrap();
    d.run(&id(1), &Op::Refresh, &mut rng).unwrap();
    let new = &d.parties[&id(2)].store;
    // A refresh changes the key: messages of one sub-session are not
    // readable with the other's key, in either direction.
    let (new_packet, _) = new.encrypt(&msg, &mut rng).unwrap();
    assert!(matches!(
        old.decrypt(&id(2), &new_packet),
        Err(MpencError::SidkeyHint | MpencError::BadSignature)
    ));
    assert!(new.decrypt(&id(2), &old_packet).is_err());
}

/// A store persisted and restored between greetings works as before: it
/// decrypts, and the next greeting completes with the restored member.
#[test]
fn persisted_store_round_trips() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut d = driver(4, &mut rng);
    let all: Vec<Id> = (0..3).map(id).collect();
    d.run(&id(0), &Op::Start(all[1..].to_vec()), &mut rng)
        .unwrap();
    let bytes = d.parties[&id(1)].store.to_bytes().unwrap();
    let restored = sgm_mpenc::greeter::GreetStore::from_bytes(bytes.expose_secret()).unwrap();
    assert_eq!(restored.to_bytes().unwrap(), bytes);
    let msg = DataMessage {
        parents: vec![],
        body: b"x".to_vec(),
    };
    let (p, _) = d.parties[&id(0)].store.encrypt(&msg, &mut rng).unwrap();
    assert_eq!(restored.decrypt(&id(0), &p).unwrap().0, msg);
    d.parties.get_mut(&id(1)).unwrap().store = restored;
    assert_eq!(
        d.run(&id(1), &Op::Include(vec![id(3)]), &mut rng).unwrap(),
        Outcome::Completed
    );
    let mut with_new = all.clone();
    with_new.push(id(3));
    agreed(&d, &with_new);
    // Tampered state is refused, not half-loaded.
    let mut bad = bytes.expose_secret().to_vec();
    let n = bad.len();
    bad.truncate(n - 3);
    assert!(sgm_mpenc::greeter::GreetStore::from_bytes(&bad).is_err());
}
