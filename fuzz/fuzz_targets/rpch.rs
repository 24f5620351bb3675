//! What an RPC proxy sends is hostile input: the response head, RTS PDUs, bind answers and NTLM
//! challenges must decode or fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migcheck_relay::net::ntlm::parse_challenge;
use migcheck_relay::probe::rpch::{channel, pdu};

fuzz_target!(|data: &[u8]| {
    let _ = channel::parse_head(data);
    let _ = pdu::Rts::decode(data);
    let _ = pdu::BindAnswer::decode(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_challenge(text);
    }
});
