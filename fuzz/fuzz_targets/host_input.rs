//! Whatever a user types as a host name: an answer, never a panic; an accepted host parses again.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::host_input(data));
