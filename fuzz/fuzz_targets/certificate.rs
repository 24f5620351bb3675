//! A server's certificate is hostile input: decoding it must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::certificate(data));
