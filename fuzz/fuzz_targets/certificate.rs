//! A server's certificate is hostile input: decoding it must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustls_pki_types::CertificateDer;

fuzz_target!(|data: &[u8]| {
    let _ = migcheck_relay::probe::certificate::decode(&CertificateDer::from(data));
});
