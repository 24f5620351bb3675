//! Whatever answers `/autodiscover/autodiscover.svc` on the host where POX Autodiscover answered, or on
//! a remote-move server, writes this XML.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::soap_autodiscover_xml(data));
