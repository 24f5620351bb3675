//! `--compare-with URL`: the diagnosis run here (inside the customer's network) and, at the same time,
//! the view from outside asked of a relay on the internet through its API, then the two side by side.
//!
//! What goes out: the password-less `outside` request (the public name only, see
//! [`DiagnoseRequest::outside_view`]), run here too so both views are the same checks; or, only with the
//! user's own consent (`--compare-send-password`, the page's second checkbox), the whole request with the
//! password. The outside relay can be unreachable, slow, older or refuse: the comparison then says why in
//! one sentence and the report is the inside one alone.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt as _;
use http_body_util::{BodyStream, Full};
use hyper::body::Bytes;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use migcheck_shared::kb::compare;
use migcheck_shared::request::ValidRequest;
use migcheck_shared::{
    CompareOutcome, Comparison, DIAGNOSE_PATH, DiagnoseRequest, Event, INFO_PATH, Password, RelayInfo, Report, Verdict,
};

use crate::diagnose;
use crate::net::Net;

/// The relay that looks from outside, as the operator or the consultant named it.
#[derive(Clone, Debug)]
pub struct CompareWith {
    /// Its base URL (`https://migcheck.example.net`), shown in reports: never with a user or password.
    pub url: String,
    /// Its access token, when it has one (`--compare-token-env`): sent as `Authorization: Bearer`.
    /// A `Password`: its `Debug` never shows it.
    pub token: Option<Password>,
    /// Extra roots to trust for its certificate (`--ca-file`).
    pub ca_file: Option<PathBuf>,
}

impl CompareWith {
    /// Checks the URL once, at start: http or https, a host, no user or password in it (the token has
    /// its own flag, which keeps it out of reports and process lists).
    pub fn new(url: &str, token: Option<Password>, ca_file: Option<PathBuf>) -> Result<CompareWith, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("--compare-with: not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err("--compare-with: give the relay's http:// or https:// URL".into());
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(
                "--compare-with: no user or password in the URL; give the relay's token with --compare-token-env VAR"
                    .into(),
            );
        }
        let with = CompareWith {
            url: url.trim_end_matches('/').to_string(),
            token,
            ca_file,
        };
        if with.token.is_some() && !with.keeps_secrets() {
            return Err(
                "--compare-with: an access token goes only over https (or to this machine); give the relay's https:// URL"
                    .into(),
            );
        }
        Ok(with)
    }

    /// Whether a secret (the token, the password with consent) may go there: over https, or over plain
    /// http only to this machine (a test, or a tunnel's end).
    pub fn keeps_secrets(&self) -> bool {
        match url::Url::parse(&self.url) {
            Ok(u) if u.scheme() == "https" => true,
            Ok(u) => match u.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => false,
            },
            Err(_) => false,
        }
    }
}

/// Why the password was not sent over plain http (the API and the CLI refuse it before the run).
pub const PASSWORD_NEEDS_HTTPS: &str =
    "the password goes to the outside relay only over https (or to this machine): give its https:// URL";

/// The most an outside relay's answers may hold: its info, and its whole event stream.
const MAX_INFO: usize = 64 * 1024;
const MAX_STREAM: usize = 4 * 1024 * 1024;

/// Runs `request` here and its view from outside at `with`, and returns this report with its
/// `comparison`. The events of the diagnosis here go to `events` as they happen; the `done` event
/// carries the compared report.
pub async fn run(
    net: &Net,
    with: &CompareWith,
    request: DiagnoseRequest,
    valid: ValidRequest,
    send_password: bool,
    deadline: Duration,
    events: UnboundedSender<Event>,
) -> Report {
    let password_sent = send_password && request.has_password() && with.keeps_secrets();
    let sent = if password_sent {
        request.for_outside()
    } else {
        request.outside_view()
    };
    let (here_tx, mut here_rx) = unbounded_channel();
    let forward = {
        let events = events.clone();
        async move {
            while let Some(event) = here_rx.recv().await {
                if !matches!(event, Event::Done { .. }) {
                    let _ = events.send(event);
                }
            }
        }
    };
    let view_here = async {
        if password_sent {
            return None;
        }
        let valid = sent.validate().ok()?;
        Some(diagnose::run(net, sent.clone(), valid, unbounded_channel().0).await)
    };
    let ((mut report, ()), view_here, outside) = tokio::join!(
        futures_util::future::join(diagnose::run(net, request, valid, here_tx), forward),
        view_here,
        // Its answer must come before this diagnosis's own deadline cuts the stream.
        ask(with, &sent, deadline * 3 / 4)
    );
    let mut comparison = Comparison {
        relay: with.url.clone(),
        sent: sent.redacted(),
        password_sent,
        outcome: CompareOutcome::Compared,
        message: String::new(),
        outside: None,
        inside: None,
        differences: Vec::new(),
        rows: Vec::new(),
    };
    match outside {
        Err((outcome, message)) => {
            comparison.outcome = outcome;
            comparison.message = format!("{message} This report is the inside view alone.");
            comparison.inside = view_here.map(Box::new);
        }
        Ok(mut outside) => {
            // Its copy of what it was asked is replaced by ours: a relay echoing a password puts none here.
            outside.inputs = sent.redacted();
            let inside = view_here.as_ref().unwrap_or(&report);
            let (differences, rows) = compare::compare(inside, &outside);
            comparison.message = compare::summary(&with.url, password_sent, &differences);
            // The whole diagnosis here found more than the password-less view (a logon): said too.
            let more_inside = view_here
                .as_ref()
                .is_some_and(|view| report.verdict > view.verdict)
                .then_some(report.headline.as_str());
            report.headline = compare::headline(&outside, &differences, more_inside);
            let worst = differences.iter().filter_map(|d| d.severity.verdict()).max();
            report.verdict = [Some(report.verdict), Some(outside.verdict), worst]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(Verdict::Pass);
            comparison.differences = differences;
            comparison.rows = rows;
            comparison.outside = Some(Box::new(outside));
            comparison.inside = view_here.map(Box::new);
        }
    }
    report.comparison = Some(Box::new(comparison));
    let _ = events.send(Event::Done { report: report.clone() });
    report
}

/// Why the outside view did not come: its outcome and the sentence that says so.
pub type Failure = (CompareOutcome, String);

/// Asks the relay at `with` for `sent`'s report, within `deadline`.
async fn ask(with: &CompareWith, sent: &DiagnoseRequest, deadline: Duration) -> Result<Report, Failure> {
    match tokio::time::timeout(deadline, ask_unbounded(with, sent)).await {
        Ok(answer) => answer,
        Err(_) => Err((
            CompareOutcome::Unreachable,
            format!(
                "The outside relay at {} did not finish within {} s.",
                with.url,
                deadline.as_secs()
            ),
        )),
    }
}

async fn ask_unbounded(with: &CompareWith, sent: &DiagnoseRequest) -> Result<Report, Failure> {
    let url = with.url.as_str();
    let info_body = call(with, "GET", INFO_PATH, None, MAX_INFO).await?;
    let info: RelayInfo = serde_json::from_slice(&info_body).map_err(|e| {
        (
            CompareOutcome::Failed,
            format!("The outside relay at {url} answered {INFO_PATH} with something other than a migcheck relay's info ({e})."),
        )
    })?;
    // A relay older than the `modes` field runs the four modes it had.
    let runs = if info.modes.is_empty() {
        sent.mode() != "outside"
    } else {
        info.modes.iter().any(|m| m == sent.mode())
    };
    if !runs {
        return Err((
            CompareOutcome::TooOld,
            format!(
                "The outside relay at {url} is migcheck {}, older than the outside view (it has no `{}` mode): update it to migcheck {} or later.",
                info.version.chars().take(40).collect::<String>(),
                sent.mode(),
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    let body = serde_json::to_vec(sent).map_err(|e| (CompareOutcome::Failed, format!("internal: {e}")))?;
    let stream = call(with, "POST", DIAGNOSE_PATH, Some(body), MAX_STREAM).await?;
    read_stream(url, &stream)
}

/// The report at the end of an outside relay's NDJSON stream, or why there is none (a line that is
/// not an event, an `error` event, a stream cut before `done`).
pub fn read_stream(url: &str, stream: &[u8]) -> Result<Report, Failure> {
    let mut last_error = None;
    for line in stream.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<Event>(line) {
            Ok(Event::Done { report }) => return Ok(report),
            Ok(Event::Error { message, .. }) => last_error = Some(message),
            Ok(_) => {}
            Err(e) => {
                return Err((
                    CompareOutcome::Failed,
                    format!(
                        "The outside relay at {url} sent a line that is not a migcheck event ({}).",
                        e.to_string().chars().take(200).collect::<String>()
                    ),
                ));
            }
        }
    }
    Err(match last_error {
        Some(message) => (
            CompareOutcome::Failed,
            format!(
                "The outside relay at {url} stopped the diagnosis: {}.",
                message.chars().take(300).collect::<String>().trim_end_matches('.')
            ),
        ),
        None => (
            CompareOutcome::Failed,
            format!("The outside relay at {url} ended its answer before the report."),
        ),
    })
}

/// One request to the outside relay: its body on 2xx (at most `max` bytes), else why not.
async fn call(
    with: &CompareWith,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
    max: usize,
) -> Result<Vec<u8>, Failure> {
    let url = with.url.as_str();
    let mut builder = hyper::Request::builder().method(method).uri("/").header(
        hyper::header::USER_AGENT,
        concat!("migcheck-compare/", env!("CARGO_PKG_VERSION")),
    );
    if body.is_some() {
        builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    if let Some(token) = &with.token {
        builder = builder.header(hyper::header::AUTHORIZATION, format!("Bearer {}", token.expose()));
    }
    let request = builder
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|_| {
            (
                CompareOutcome::Failed,
                "internal: the request could not be built".to_string(),
            )
        })?;
    let response = crate::upstream::send(url, path, request, with.ca_file.as_deref())
        .await
        .map_err(|e| {
            (
                CompareOutcome::Unreachable,
                format!("The outside relay at {url} could not be reached: {e}."),
            )
        })?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(hyper::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u32>().ok());
    let mut body = BodyStream::new(response.into_body());
    let mut bytes = Vec::new();
    while let Some(frame) = body.next().await {
        let frame = frame.map_err(|e| {
            (
                CompareOutcome::Failed,
                format!("The outside relay at {url} broke off its answer: {e}."),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > max {
                return Err((
                    CompareOutcome::Failed,
                    format!("The outside relay at {url} answered {method} {path} with more than {max} bytes."),
                ));
            }
            bytes.extend_from_slice(&data);
        }
    }
    if status.is_success() {
        return Ok(bytes);
    }
    // A relay says why in `{"error": ...}`; anything else is shown by its status alone.
    let said = serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| {
        v.get("error")
            .and_then(|e| e.as_str())
            .map(|e| e.chars().take(300).collect::<String>())
    });
    let why = match (status.as_u16(), said) {
        (401, _) => format!(
            "it needs its access token{}: give it with --compare-token-env VAR",
            if with.token.is_some() {
                ", and refused the one given"
            } else {
                ""
            }
        ),
        (429, Some(e)) => format!(
            "it refused for now ({e}){}",
            retry_after.map(|s| format!("; Retry-After: {s} s")).unwrap_or_default()
        ),
        (_, Some(e)) => e,
        (code, None) => format!("{code} {}", status.canonical_reason().unwrap_or("")),
    };
    Err((
        CompareOutcome::Refused,
        format!("The outside relay at {url} refused {method} {path}: {why}."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real stream: `migcheck serve` (public egress) asked for the outside view of 127.0.0.1, which its
    /// egress policy refuses.
    const STREAM: &[u8] = include_bytes!("../tests/fixtures/outside-stream-egress-refused.ndjson");
    const URL: &str = "https://relay.example";

    #[test]
    fn the_report_is_read_from_a_whole_stream_and_a_cut_one_says_so() {
        let report = read_stream(URL, STREAM).expect("the report");
        assert_eq!(report.inputs.mode(), "outside");
        assert_eq!(report.verdict, Verdict::Fail);
        // Cut anywhere before the last line: no report, said in a sentence.
        let last = STREAM[..STREAM.len() - 1]
            .iter()
            .rposition(|b| *b == b'\n')
            .expect("lines");
        let (outcome, message) = read_stream(URL, &STREAM[..=last]).expect_err("cut before done");
        assert_eq!(outcome, CompareOutcome::Failed);
        assert_eq!(
            message,
            "The outside relay at https://relay.example ended its answer before the report."
        );
        // Cut inside a line: that line is not an event.
        let (_, message) = read_stream(URL, &STREAM[..last + 40]).expect_err("a broken line");
        assert!(
            message
                .starts_with("The outside relay at https://relay.example sent a line that is not a migcheck event ("),
            "{message}"
        );
    }

    #[test]
    fn an_error_event_is_the_reason_given() {
        let stream = b"{\"event\":\"error\",\"message\":\"the diagnosis took longer than 90 s and was stopped\"}\n";
        let (outcome, message) = read_stream(URL, stream).expect_err("no report");
        assert_eq!(outcome, CompareOutcome::Failed);
        assert_eq!(
            message,
            "The outside relay at https://relay.example stopped the diagnosis: the diagnosis took longer than 90 s and was stopped."
        );
        assert!(read_stream(URL, b"").is_err());
        assert!(read_stream(URL, &[0xff; 64]).is_err());
    }

    #[test]
    fn a_url_with_a_password_or_another_scheme_is_refused_at_start() {
        assert!(CompareWith::new("https://relay.example/", None, None).is_ok_and(|c| c.url == URL));
        for bad in [
            "https://user:pw@relay.example",
            "ftp://relay.example",
            "relay.example",
            "https://",
        ] {
            let e = CompareWith::new(bad, None, None).expect_err(bad);
            assert!(e.starts_with("--compare-with: "), "{e}");
            assert!(!e.contains("pw@"), "{e}");
        }
        // A token, or the password, only over https or to this machine.
        let token = || Some(Password::new("t0ken"));
        let e = CompareWith::new("http://relay.example", token(), None).expect_err("a token over http");
        assert!(e.contains("an access token goes only over https"), "{e}");
        assert!(!CompareWith::new("http://relay.example", None, None).is_ok_and(|c| c.keeps_secrets()));
        for fine in [
            "https://relay.example",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
            "http://localhost:1",
        ] {
            assert!(
                CompareWith::new(fine, token(), None).is_ok_and(|c| c.keeps_secrets()),
                "{fine}"
            );
        }
        assert!(!format!("{:?}", CompareWith::new(URL, token(), None)).contains("t0ken"));
    }
}
