//! `receive_shared` / `accept_shared`: the store keeps the received buffer
//! itself (many members, or copies of a state, then share one allocation),
//! and a buffered message's bytes are the received ones too.
#![allow(clippy::unwrap_used)]

mod common;

use common::group;
use sgm_acb::{AcbConfig, AllowAll, Bytes};

#[test]
fn stored_envelopes_share_the_received_allocation() {
    let mut g = group(3, AcbConfig::default());
    let first = g[0].broadcast(b"first".to_vec(), vec![]).unwrap();
    let second = g[0].broadcast(b"second".to_vec(), vec![]).unwrap();
    let first = Bytes::from(first.bytes);
    let second = Bytes::from(second.bytes);

    // Out of order: `second` waits in the buffer, then is delivered.
    let r = g[1].receive_shared(second.clone(), &AllowAll).unwrap();
    assert!(r.delivered.is_empty());
    let waiting_id = sgm_acb::MessageId::of_envelope(&second);
    assert_eq!(
        g[1].get_shared(&waiting_id).unwrap().as_ptr(),
        second.as_ptr()
    );
    let r = g[1].receive_shared(first.clone(), &AllowAll).unwrap();
    assert_eq!(r.delivered.len(), 2);
    for b in [&first, &second] {
        let id = sgm_acb::MessageId::of_envelope(b);
        let stored = g[1].get_shared(&id).unwrap();
        assert_eq!(stored.as_ptr(), b.as_ptr(), "stored a copy");
        assert_eq!(g[1].get(&id).unwrap(), &b[..]);
    }

    // A slice of a larger buffer (an envelope inside a batch) is kept as a
    // slice of it.
    let mut batch = b"header".to_vec();
    batch.extend_from_slice(&first);
    let batch = Bytes::from(batch);
    let inner = batch.slice(6..);
    g[2].accept_shared(inner.clone()).unwrap();
    assert!(g[2].deliver_next(&AllowAll).is_some());
    let id = sgm_acb::MessageId::of_envelope(&first);
    assert_eq!(g[2].get_shared(&id).unwrap().as_ptr(), inner.as_ptr());

    // The copying entry points give the same result.
    let mut h = group(3, AcbConfig::default());
    let r = h[1].receive(&first, &AllowAll).unwrap();
    assert_eq!(r.delivered.len(), 1);
    assert_eq!(h[1].get(&id).unwrap(), &first[..]);
}
