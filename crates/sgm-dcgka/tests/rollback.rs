//! A rolled-back sending ratchet never reuses a (key, nonce) pair for a
//! different plaintext (issue 10, "the message ratchet nonce").
#![allow(clippy::unwrap_used)]

use sgm_crypto::{MemberId, Secret};
use sgm_dcgka::ratchet::{RatchetConfig, ReceivingRatchet, SendingRatchet};

/// A sender restored from an old state (a backup, a crash) derives the
/// same message key again and encrypts a different plaintext under it:
/// the keystreams must differ (with the former all-zero nonce the XOR of
/// the two ciphertexts was the XOR of the two plaintexts), and a receiver
/// opens the first and refuses the second (its key is used).
#[test]
fn rolled_back_sender_does_not_reuse_keystream() {
    let id = MemberId::from_bytes([9; 16]);
    let secret = Secret::from_bytes([5; 32]);
    let config = RatchetConfig::default();
    let mut sending = SendingRatchet::new(4, &secret).unwrap();
    let mut receiving = ReceivingRatchet::default();
    receiving.add_epoch(4, &secret, &config).unwrap();
    let backup = sending.clone();
    let p1 = b"attack at dawn!!".to_vec();
    let p2 = b"retreat at noon!".to_vec();
    let m1 = sending.encrypt(&id, b"", &p1).unwrap();
    let m2 = backup.clone().encrypt(&id, b"", &p2).unwrap();
    assert_eq!((m1.epoch, m1.index), (m2.epoch, m2.index), "same key");
    let xor = |a: &[u8], b: &[u8]| a.iter().zip(b).map(|(x, y)| x ^ y).collect::<Vec<u8>>();
    assert_ne!(
        xor(&m1.ciphertext[..p1.len()], &m2.ciphertext[..p2.len()]),
        xor(&p1, &p2),
        "keystream reused under one key"
    );
    // The same plaintext again gives the same message (nothing new leaks).
    assert_eq!(backup.clone().encrypt(&id, b"", &p1).unwrap(), m1);
    assert!(receiving.decrypt(&id, &m1, b"", &config).is_ok());
    assert!(receiving.decrypt(&id, &m2, b"", &config).is_err());
}
