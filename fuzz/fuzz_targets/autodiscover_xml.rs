//! Any host on the Autodiscover candidate list (even the domain's web site) writes this XML.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::autodiscover_xml(data));
