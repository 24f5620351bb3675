//! What an RPC over HTTP answer says, in words: fault statuses and bind answers (the KB module says
//! what they mean for the migration).

use super::pdu::BindAnswer;

/// 0x6BA, RPC_S_SERVER_UNAVAILABLE (error 1722): the proxy could not reach the RPC server.
pub const SERVER_UNAVAILABLE: u32 = 0x6BA;

/// What a fault status means ([MS-RPCE] 2.2.2.11 and [MS-ERREF]).
pub fn fault_status(status: u32) -> String {
    let meaning = match status {
        SERVER_UNAVAILABLE => "the RPC server is unavailable",
        0x5 => "access denied",
        0x1C01_0003 => "unknown interface: the endpoint does not offer it",
        0x1C01_0002 => "operation range error",
        0x1C00_001A => "protocol error",
        0x6F7 => "the stub received bad data",
        _ => "an RPC failure",
    };
    format!("fault 0x{status:x} ({meaning})")
}

/// A bind_ack result's words ([C706] 12.6.3.1).
fn result_text(result: u16, reason: u16) -> String {
    let why = match reason {
        0 => "",
        1 => ", abstract syntax not supported: the interface does not listen there",
        2 => ", proposed transfer syntaxes not supported",
        3 => ", local limit exceeded",
        _ => ", reason unknown",
    };
    match result {
        0 => "accepted".into(),
        1 => format!("user rejection{why}"),
        2 => format!("provider rejection{why}"),
        3 => "negotiate_ack".into(),
        n => format!("result {n}{why}"),
    }
}

/// A bind_nak reason's words.
fn nak_text(reason: u16) -> &'static str {
    match reason {
        0 => "reason not specified",
        1 => "temporary congestion",
        2 => "local limit exceeded",
        4 => "protocol version not supported",
        8 => "authentication type not recognised",
        9 => "invalid checksum",
        _ => "unknown reason",
    }
}

/// What a bind got, in words, and whether the endpoint answered as it should.
pub fn bind_answer(answer: &BindAnswer) -> (bool, String) {
    match answer {
        BindAnswer::Ack {
            secondary_address,
            results,
        } => {
            let accepted = results.first().is_some_and(|(r, _)| *r == 0);
            let words = results
                .iter()
                .map(|(r, why)| result_text(*r, *why))
                .collect::<Vec<_>>()
                .join("; ");
            let at = if secondary_address.is_empty() {
                String::new()
            } else {
                format!(" (endpoint {secondary_address})")
            };
            (accepted, format!("bind_ack{at}: {words}"))
        }
        BindAnswer::Nak { reason } => (false, format!("bind_nak: {}", nak_text(*reason))),
        BindAnswer::Fault { status } => (false, fault_status(*status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_words() {
        let ack = BindAnswer::Ack {
            secondary_address: "6001".into(),
            results: vec![(0, 0)],
        };
        assert_eq!(bind_answer(&ack), (true, "bind_ack (endpoint 6001): accepted".into()));
        let rejected = BindAnswer::Ack {
            secondary_address: String::new(),
            results: vec![(2, 1)],
        };
        assert_eq!(
            bind_answer(&rejected),
            (
                false,
                "bind_ack: provider rejection, abstract syntax not supported: the interface does not listen there"
                    .into()
            )
        );
        assert_eq!(
            bind_answer(&BindAnswer::Nak { reason: 2 }),
            (false, "bind_nak: local limit exceeded".into())
        );
        assert_eq!(
            bind_answer(&BindAnswer::Fault { status: 0x6BA }).1,
            "fault 0x6ba (the RPC server is unavailable)"
        );
    }
}
