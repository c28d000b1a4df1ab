//! sgm-messaging persisted state (`Group::from_bytes`): never panics; an
//! accepted state re-encodes to bytes that restore to the same state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sgm_fuzz::Input;
use sgm_fuzz::group_fixture::fixture;
use sgm_messaging::Group;

fuzz_target!(|data: &[u8]| {
    let input = Input::split(data, &fixture().states);
    if let Ok(g) = Group::from_bytes(&input.bytes) {
        let once = g.to_bytes();
        let back = Group::from_bytes(once.expose_secret()).expect("re-decode");
        assert_eq!(once.expose_secret(), back.to_bytes().expose_secret());
    }
});
