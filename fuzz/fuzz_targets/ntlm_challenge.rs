//! The NTLM CHALLENGE comes from an untrusted server before logon: its offsets and lengths may lie.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| migcheck_fuzz::ntlm_challenge(data));
