//! Shared helpers for the ACB tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use sgm_acb::{Acb, AcbConfig, AllowAll, Delivered, MessageId};
use sgm_crypto::{MemberId, Secret, SigningKey};

/// The identity key of test member `i`.
pub fn key(i: u8) -> SigningKey {
    SigningKey::from_seed(&Secret::from_bytes([i; 32]))
}

pub fn id_of(i: u8) -> MemberId {
    MemberId::from_identity_key(&key(i).verifying_key())
}

/// Members `0..n`, each knowing every other's identity key.
pub fn group(n: u8, config: AcbConfig) -> Vec<Acb> {
    (0..n)
        .map(|i| {
            let mut a = Acb::new(key(i), config);
            for j in 0..n {
                a.register_member(key(j).verifying_key());
            }
            a
        })
        .collect()
}

/// A fresh observer (member 200) that knows members `0..n`.
pub fn observer(n: u8, config: AcbConfig) -> Acb {
    let mut a = Acb::new(key(200), config);
    for j in 0..n {
        a.register_member(key(j).verifying_key());
    }
    a
}

pub fn recv(acb: &mut Acb, bytes: &[u8]) -> Vec<MessageId> {
    acb.receive(bytes, &AllowAll)
        .unwrap()
        .delivered
        .iter()
        .map(|d| d.id)
        .collect()
}

pub fn ids(ds: &[Delivered]) -> Vec<MessageId> {
    ds.iter().map(|d| d.id).collect()
}

/// The persisted state, for "unchanged on error" checks.
pub fn snapshot(acb: &Acb) -> Vec<u8> {
    acb.to_state_bytes().expose_secret().to_vec()
}
