//! The bodies of the fuzz targets, as plain functions: `fuzz_targets/*.rs` hand them libFuzzer's
//! input, and `tests/corpus.rs` replays the committed corpus through them on stable Rust. Each must
//! return (never panic, never hang) whatever the bytes are; the asserts are properties of our code.

use base64::Engine as _;
use migcheck_relay::net::ntlm::parse_challenge;
use migcheck_relay::probe::autodiscover::{pox, soap};
use migcheck_relay::probe::rpch::chunked::{ChunkError, Dechunker};
use migcheck_relay::probe::rpch::{channel, pdu};
use migcheck_relay::probe::{certificate as cert, ews};
use migcheck_shared::Field;
use migcheck_shared::input::parse_host;
use migcheck_shared::request::DiagnoseRequest;
use migcheck_shared::secret::Password;
use rustls_pki_types::CertificateDer;

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its `fuzz_targets/<name>.rs` and `corpus/<name>/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("autodiscover_xml", autodiscover_xml),
    ("certificate", certificate),
    ("ews_xml", ews_xml),
    ("explain", explain),
    ("host_input", host_input),
    ("ntlm_challenge", ntlm_challenge),
    ("outside_stream", outside_stream),
    ("request", request),
    ("rpch", rpch),
    ("soap_autodiscover_xml", soap_autodiscover_xml),
];

/// A POX Autodiscover answer, as any server on the candidate list may send it.
pub fn autodiscover_xml(data: &[u8]) {
    let _ = pox::parse(data);
}

/// A SOAP Autodiscover (GetUserSettings) answer, or whatever answers `/autodiscover/autodiscover.svc`;
/// what is kept stays within the parser's bounds.
pub fn soap_autodiscover_xml(data: &[u8]) {
    if let Ok(answer) = soap::parse(data)
        && let Some(user) = answer.user
    {
        assert!(user.settings.len() <= 64 && user.setting_errors.len() <= 64);
    }
}

/// A certificate presented in a TLS handshake.
pub fn certificate(data: &[u8]) {
    let _ = cert::decode(&CertificateDer::from(data));
}

/// An EWS SOAP answer (or whatever the server sends instead).
pub fn ews_xml(data: &[u8]) {
    let _ = ews::parse_answer(data);
}

/// Pasted error text (`migcheck explain`, the page's paste box), against the real catalogue: an answer
/// for any text, every line it names inside the text, what it shows bounded, a password-looking line
/// never read.
pub fn explain(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let catalogue = migcheck_relay::explain::catalogue().expect("the built-in catalogue");
    let Ok(e) = migcheck_shared::kb::explain::explain(catalogue, &text) else {
        assert!(text.len() > migcheck_shared::kb::explain::MAX_PASTE_BYTES);
        return;
    };
    let lines = text.split('\n').count();
    for m in &e.matches {
        assert!(m.count >= m.spans.len() && m.spans.len() <= migcheck_shared::kb::explain::MAX_SPANS_SHOWN);
        for s in &m.spans {
            assert!(1 <= s.first_line && s.first_line <= s.last_line && s.last_line <= lines);
            assert!(!e.password_lines.contains(&s.first_line), "a password line was read");
        }
    }
    assert!(e.matches.is_empty() || e.nearest.is_empty());
}

/// An outside relay's answer to `--compare-with` (hostile like any server): a report or a sentence, and
/// a report compared with itself differs nowhere.
pub fn outside_stream(data: &[u8]) {
    match migcheck_relay::compare::read_stream("https://relay.example", data) {
        Ok(report) => {
            let (differences, rows) = migcheck_shared::kb::compare::compare(&report, &report);
            assert!(differences.is_empty(), "{differences:?}");
            assert!(rows.iter().all(|r| !r.differs));
        }
        Err((_, message)) => assert!(message.len() < 1024, "{message}"),
    }
}

/// A host name as a user types it: an accepted one parses again to itself.
pub fn host_input(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(parsed) = parse_host(Field::Host, text)
    {
        let again = parse_host(Field::Host, &parsed.host).expect("a parsed host parses again");
        assert_eq!(again.host, parsed.host);
    }
}

/// A `WWW-Authenticate` value; and the same bytes as the CHALLENGE_MESSAGE itself, base64-encoded into
/// an `NTLM <token>` value so that the binary parser sees them as they are.
pub fn ntlm_challenge(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_challenge(text);
    }
    let header = format!("NTLM {}", base64::engine::general_purpose::STANDARD.encode(data));
    let _ = parse_challenge(&header);
}

/// What the RPC proxy sends: the response head, RTS PDUs, bind answers (bind_ack, bind_nak, fault); after
/// a head with `Transfer-Encoding: chunked` (TMG), the body de-chunked.
pub fn rpch(data: &[u8]) {
    if let Ok(Some(head)) = channel::parse_head(data) {
        let _ = head.rpc_error();
        if head.chunked() {
            rpch_chunked(&data[head.len..]);
        }
    }
    let _ = pdu::Rts::decode(data);
    let _ = pdu::BindAnswer::decode(data);
}

/// A chunked body decodes the same whether it arrives at once or cut into pieces (as TLS records cut
/// it): both succeed with the same data, or both refuse it; the data is then read as PDUs.
fn rpch_chunked(body: &[u8]) {
    let whole = dechunk(body, body.len().max(1));
    let size = 1 + usize::from(body.first().copied().unwrap_or(0) % 7);
    let pieces = dechunk(body, size);
    match (&whole, &pieces) {
        (Ok(w), Ok(p)) => assert_eq!(w, p, "the same body decodes differently in pieces of {size}"),
        (Err(_), Err(_)) => {}
        _ => panic!("in pieces of {size}: {pieces:?}, at once: {whole:?}"),
    }
    if let Ok((data, _)) = whole {
        let _ = pdu::Rts::decode(&data);
        let _ = pdu::BindAnswer::decode(&data);
    }
}

/// The data of `body` fed in pieces of `size`, and whether the body ended.
fn dechunk(body: &[u8], size: usize) -> Result<(Vec<u8>, bool), ChunkError> {
    let mut decoder = Dechunker::default();
    let (mut raw, mut data) = (Vec::new(), Vec::new());
    for piece in body.chunks(size) {
        raw.extend_from_slice(piece);
        decoder.decode(&mut raw, &mut data)?;
    }
    Ok((data, decoder.finished()))
}

/// Marks the password in [`request`]: a value no validator can make up.
const CANARY: &str = "Canary-pw-7c1e93";

/// The JSON body of `POST /api/v1/diagnose`. A refused request names a field; the password only counts
/// as given or missing: another non-empty one gets the same answer, and no error ever shows it.
pub fn request(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<DiagnoseRequest>(data) else {
        return;
    };
    let outcome = request.validate();
    if let Err(error) = &outcome {
        // Every error names a field (its type says so), and one the user types: serde already took the
        // mode and the choices, or refused them before any check.
        assert!(
            !matches!(
                error.field,
                Field::Mode | Field::Auth | Field::AllowCredentialRedirect | Field::Token
            ),
            "an error about a field nothing is typed in: {error:?}"
        );
    }
    let Some((had_password, canaried)) = with_password(&request, CANARY) else {
        return; // host mode: no password
    };
    let canaried = canaried.validate();
    if had_password {
        assert_eq!(
            outcome.as_ref().err(),
            canaried.as_ref().err(),
            "the error depends on the password's value"
        );
    }
    if let Err(error) = canaried {
        // Only where the user typed the canary into another field may an error quote it.
        let others = format!("{:?}", request.redacted());
        assert!(
            !error.to_string().contains(CANARY) || others.contains(CANARY),
            "the error shows the password: {error}"
        );
    }
}

/// The request with its password replaced, and whether it had one; None in the host and outside modes.
fn with_password(request: &DiagnoseRequest, password: &str) -> Option<(bool, DiagnoseRequest)> {
    let mut copy = request.clone();
    let slot = match &mut copy {
        DiagnoseRequest::Host(_) | DiagnoseRequest::Outside(_) => return None,
        DiagnoseRequest::Autodiscover(t) => &mut t.password,
        DiagnoseRequest::OutlookAnywhere(t) => &mut t.password,
        DiagnoseRequest::RemoteMove(t) => &mut t.password,
    };
    let had = !slot.is_empty();
    *slot = Password::new(password);
    Some((had, copy))
}
