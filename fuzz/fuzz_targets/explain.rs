//! Pasted error text: an answer, never a panic; what it shows stays inside the text and its bounds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::explain(data));
