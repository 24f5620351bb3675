//! An outside relay's NDJSON answer to --compare-with: a report or a sentence, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::outside_stream(data));
