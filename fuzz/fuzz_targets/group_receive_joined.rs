//! `Group::receive` on a joined member (bob, who has not seen the recorded
//! phase; see `sgm_fuzz::group_fixture`): every packet decoder of
//! sgm-messaging and the layers below. Checks `receive`'s contract.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sgm_fuzz::group_fixture::fixture;
use sgm_fuzz::{Input, check_receive};

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let input = Input::split(data, &f.to_joined);
    check_receive(&f.joined, &f.keys, f.now, input.selector, &input.bytes);
});
