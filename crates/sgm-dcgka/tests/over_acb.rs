//! DCGKA over sgm-acb: signed envelopes, causal delivery, signing-key
//! rotation on update, coalesced acks in one envelope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::VecDeque;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sgm_2sm::PrekeyStore;
use sgm_acb::{Acb, AcbConfig, AllowAll};
use sgm_crypto::{MemberId, Secret, SigningKey};
use sgm_dcgka::broadcast::{open, seal};
use sgm_dcgka::{Config, Dcgka};

struct Member {
    dcgka: Dcgka,
    acb: Acb,
}

#[test]
fn group_over_acb_with_key_rotation() {
    for coalesce in [false, true] {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut dir = common::Directory::default();
        let config = Config {
            coalesce_acks: coalesce,
            ..Config::default()
        };
        let mut keys = Vec::new();
        let mut members: Vec<Member> = (0..3)
            .map(|_| {
                let sk = SigningKey::from_seed(&Secret::random(&mut rng));
                let (store, published) = PrekeyStore::publish(&mut rng, &sk, 8);
                let id = MemberId::from_identity_key(&sk.verifying_key());
                dir.0.insert(id, published);
                keys.push(sk.verifying_key());
                Member {
                    acb: Acb::new(sk.clone(), AcbConfig::default()),
                    dcgka: Dcgka::init(sk, store, config),
                }
            })
            .collect();
        for m in &mut members {
            for k in &keys {
                if MemberId::from_identity_key(k) != m.acb.me() {
                    m.acb.register_member(*k);
                }
            }
        }
        let ids: Vec<MemberId> = members.iter().map(|m| m.dcgka.id()).collect();
        let mut wire: VecDeque<(usize, Vec<u8>)> = VecDeque::new();
        let out = members[0]
            .dcgka
            .create(&ids[1..], &mut rng, &mut dir)
            .unwrap();
        let (env, _) = seal(&mut members[0].acb, &out.messages, None, &mut rng).unwrap();
        wire.push_back((0, env.bytes));
        let mut rotations = 0;
        let mut apps = Vec::new();
        let step = |members: &mut Vec<Member>,
                    wire: &mut VecDeque<(usize, Vec<u8>)>,
                    rng: &mut ChaCha20Rng,
                    dir: &mut common::Directory,
                    rotations: &mut usize,
                    apps: &mut Vec<(usize, Vec<u8>)>| {
            while let Some((from, bytes)) = wire.pop_front() {
                for (i, m) in members.iter_mut().enumerate() {
                    if i == from {
                        continue;
                    }
                    let receipt = m.acb.receive(&bytes, &AllowAll).unwrap();
                    for d in receipt.delivered {
                        if d.new_signing_key.is_some() {
                            *rotations += 1;
                        }
                        let opened = open(&mut m.dcgka, &d, rng, dir).unwrap();
                        if let Some(app) = opened.application {
                            let pt = m.dcgka.decrypt(&d.sender, &app, b"").unwrap();
                            apps.push((i, pt.expose_secret().to_vec()));
                        }
                        let replies: Vec<_> = opened
                            .processed
                            .into_iter()
                            .filter_map(|p| p.reply)
                            .collect();
                        if !replies.is_empty() {
                            let (env, _) = seal(&mut m.acb, &replies, None, rng).unwrap();
                            wire.push_back((i, env.bytes));
                        }
                    }
                }
            }
        };
        step(
            &mut members,
            &mut wire,
            &mut rng,
            &mut dir,
            &mut rotations,
            &mut apps,
        );
        // An update rotates the signing key; with coalescing, B's held acks
        // ride in the same envelope.
        let out = members[1].dcgka.update(&mut rng, &mut dir).unwrap();
        let (env, new_key) = seal(&mut members[1].acb, &out.messages, None, &mut rng).unwrap();
        assert!(new_key.is_some());
        if coalesce {
            assert!(out.messages.len() > 1, "held-back ack should ride along");
        }
        let update_id = env.id;
        wire.push_back((1, env.bytes));
        step(
            &mut members,
            &mut wire,
            &mut rng,
            &mut dir,
            &mut rotations,
            &mut apps,
        );
        assert_eq!(rotations, 2, "both other members saw the rotation");
        // Envelopes of acks only are leaves (§8.1): whether the acks went
        // out alone or are still held back, every member's only head is the
        // update, which the next message names as its one parent.
        for m in &members {
            assert_eq!(m.acb.heads(), vec![update_id], "coalesce={coalesce}");
        }
        // Application messages (held-back acks first, same envelope).
        for i in 0..3 {
            let sealed = members[i].dcgka.encrypt(b"hello", b"").unwrap();
            let (env, _) = seal(
                &mut members[i].acb,
                &sealed.control,
                Some(&sealed.message),
                &mut rng,
            )
            .unwrap();
            wire.push_back((i, env.bytes));
            step(
                &mut members,
                &mut wire,
                &mut rng,
                &mut dir,
                &mut rotations,
                &mut apps,
            );
        }
        assert_eq!(apps.len(), 6, "coalesce={coalesce}");
    }
}
