//! An RPC proxy's response head, RTS PDUs and bind answers: hostile bytes, decoded or refused.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::rpch(data));
