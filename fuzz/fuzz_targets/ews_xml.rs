//! An EWS answer comes from whatever sits at the URL Autodiscover gave: it must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::ews_xml(data));
