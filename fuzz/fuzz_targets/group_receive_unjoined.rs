//! `Group::receive` on a member instance not yet in the group (dave, whose
//! welcome is among the recorded packets): welcomes, and everything that
//! may arrive before one. Checks `receive`'s contract.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sgm_fuzz::group_fixture::fixture;
use sgm_fuzz::{Input, check_receive};

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let input = Input::split(data, &f.to_unjoined);
    check_receive(&f.unjoined, &f.keys, f.now, input.selector, &input.bytes);
});
