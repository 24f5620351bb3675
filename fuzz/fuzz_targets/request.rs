//! The diagnose request is JSON from anyone: refused naming a field, never quoting the password.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::request(data));
