//! Whatever a user types as a host name gets an answer, never a panic; an accepted host parses again
//! to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migcheck_shared::input::parse_host;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(parsed) = parse_host("host", text) {
            let again = parse_host("host", &parsed.host).expect("a parsed host parses again");
            assert_eq!(again.host, parsed.host);
        }
    }
});
