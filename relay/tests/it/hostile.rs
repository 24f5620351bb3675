//! Hostile servers (`HostileScenario`): each misbehaviour ends as a failed check that says what
//! happened, within the relay's per-step deadline (2 s here), in bounded memory, without a panic.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::exchange::{status, summary};
use migcheck_lab::HostileScenario;
use migcheck_relay::probe::Credentials;
use migcheck_relay::probe::autodiscover::client::{self, Consent, Ending, Failure, MAX_REDIRECTS};
use migcheck_relay::probe::autodiscover::gate::Turn;
use migcheck_shared::{Check, Password, Report, Status};

/// However the relay behaves, a test gives up after this long (a diagnosis has several steps of 2 s).
const HARNESS_LIMIT: Duration = Duration::from_secs(90);

/// One diagnosis through the API, bounded by [`HARNESS_LIMIT`]: the report and how long it took.
fn diagnose(body: serde_json::Value) -> (Report, Duration) {
    let _ = lab().hostile();
    let (tx, rx) = mpsc::channel();
    let body = body.to_string();
    std::thread::spawn(move || {
        let started = Instant::now();
        let (report, _) = api_report(body);
        let _ = tx.send((report, started.elapsed()));
    });
    rx.recv_timeout(HARNESS_LIMIT)
        .unwrap_or_else(|_| panic!("the diagnosis did not end within {HARNESS_LIMIT:?} (or it panicked)"))
}

fn remote_move(s: HostileScenario) -> serde_json::Value {
    serde_json::json!({"mode": "remote_move", "remote_server": s.host(), "user": "u@x.test", "password": "p"})
}

fn outlook_anywhere(s: HostileScenario, auth: &str) -> serde_json::Value {
    serde_json::json!({
        "mode": "outlook_anywhere", "rpc_proxy": s.host(), "exchange_server": "ex01",
        "auth": auth, "user": "HOSTILE\\u", "password": "p",
    })
}

fn flatten<'a>(checks: &'a [Check], out: &mut Vec<&'a Check>) {
    for c in checks {
        out.push(c);
        flatten(&c.children, out);
    }
}

fn lines(report: &Report) -> String {
    let mut all = Vec::new();
    flatten(&report.checks, &mut all);
    all.iter()
        .map(|c| format!("{} {:?} {}ms: {}", c.id, c.status, c.elapsed_ms, c.summary))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The report has a failed (or warned) check whose summary contains `phrase`; the diagnosis took
/// less than `limit`.
fn assert_fails_with(s: HostileScenario, report: &Report, took: Duration, phrase: &str, limit: Duration) {
    let text = lines(report);
    println!("{s} ({took:?}):\n{text}\n");
    let mut all = Vec::new();
    flatten(&report.checks, &mut all);
    assert!(
        all.iter()
            .any(|c| matches!(c.status, Status::Fail | Status::Warn) && c.summary.contains(phrase)),
        "{s}: no failed check says '{phrase}':\n{text}"
    );
    assert!(took < limit, "{s}: the diagnosis took {took:?} (limit {limit:?})");
}

/// The HTTP hostilities through the remote-move mode (POSTs to EWS and MRS Proxy, GET /owa/): each
/// scenario with the words a failed check must say, and the bound on the whole diagnosis. The gzip
/// bomb stays opaque bytes (migcheck sends no Accept-Encoding and decodes nothing); the XML bombs
/// answer 200 without asking for credentials, which is where the diagnosis stops.
const HTTP_CASES: &[(HostileScenario, &str)] = &[
    (HostileScenario::Trickle, "within 2 s"),
    (HostileScenario::EndlessBody, "larger than 256 KiB"),
    (HostileScenario::HugeHeaders, "headers are larger than"),
    (HostileScenario::GzipBomb, "without asking for credentials"),
    (HostileScenario::EntityBomb, "without asking for credentials"),
    (HostileScenario::DeepXml, "without asking for credentials"),
];

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn each_http_hostility_ends_as_a_clear_failure() {
    for &(s, phrase) in HTTP_CASES {
        let (report, took) = diagnose(remote_move(s));
        assert_fails_with(s, &report, took, phrase, Duration::from_secs(20));
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn garbage_instead_of_a_server_hello_is_not_tls() {
    let s = HostileScenario::GarbageTls;
    let (report, took) = diagnose(serde_json::json!({"mode": "host", "host": s.host(), "port": 443}));
    assert_fails_with(s, &report, took, "does not speak TLS", Duration::from_secs(20));
}

/// The RPC over HTTP hostilities through the Outlook Anywhere mode: (scenario, auth, words).
const RPC_CASES: &[(HostileScenario, &str, &str)] = &[
    (HostileScenario::NtlmLies, "ntlm", "malformed NTLM challenge"),
    (HostileScenario::RtsLies, "basic", "sent nothing within 2 s"),
    (
        HostileScenario::RtsPings,
        "basic",
        "sent 16 RTS pings or acknowledgements in a row and still no CONN/A3: the proxy keeps the channel alive but nothing behind it answers",
    ),
];

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn each_rpc_hostility_ends_as_a_clear_failure() {
    for &(s, auth, phrase) in RPC_CASES {
        let (report, took) = diagnose(outlook_anywhere(s, auth));
        assert_fails_with(s, &report, took, phrase, Duration::from_secs(30));
    }
}

/// The Autodiscover POST of one candidate, straight from the client (the chain needs no DNS for a
/// mail domain), bounded by [`HARNESS_LIMIT`].
fn autodiscover_post(s: HostileScenario) -> (client::Run, Duration) {
    let _ = lab().hostile();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let net = lab_net(2);
        let password = Password::new("p");
        let creds = Credentials::new("u@hostile.test", &password);
        let consent = Consent {
            domain: "hostile.test".into(),
            allow_any: false,
        };
        let url = url::Url::parse(&format!("https://{}/autodiscover/autodiscover.xml", s.host())).expect("url");
        let started = Instant::now();
        let run = tokio::time::timeout(
            HARNESS_LIMIT,
            client::post(&net, url, "alice@hostile.test", &creds, &consent, &Turn::alone()),
        )
        .await
        .expect("the Autodiscover POST did not end");
        (run, started.elapsed())
    })
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn an_endless_redirect_chain_stops_at_the_limit() {
    let (run, took) = autodiscover_post(HostileScenario::RedirectChain);
    println!("{:?} after {} steps in {took:?}", run.ending, run.steps.len());
    assert!(
        matches!(run.ending, Ending::Failed(Failure::TooManyRedirects)),
        "{:?}",
        run.ending
    );
    assert!(run.steps.len() <= MAX_REDIRECTS + 1, "{} steps", run.steps.len());
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_redirect_to_loopback_is_refused_by_the_egress_policy() {
    let (run, took) = autodiscover_post(HostileScenario::RedirectLoopback);
    let notes: Vec<&str> = run.steps.iter().map(|s| s.note.as_str()).collect();
    println!("{:?} {notes:?} in {took:?}", run.ending);
    match &run.ending {
        Ending::Failed(Failure::Net(e)) => {
            let text = e.to_string();
            assert!(text.contains("not connecting to 127.0.0.1:443"), "{text}");
        }
        other => panic!("expected the policy's refusal, got {other:?}"),
    }
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// A server that cuts the NTLM logon off after the AUTHENTICATE went out may have checked the password
/// and counted a refusal: the check says so, and no server behind the name is sent the password again
/// (listed here, the same host would otherwise get two more logons: MRS Proxy and EWS).
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_logon_cut_off_after_the_password_went_out_counts_as_refused() {
    let s = HostileScenario::NtlmCut;
    let server = lab().hostile().addr(s).to_string();
    let mut body = remote_move(s);
    body["servers"] = serde_json::Value::String(server.clone());
    let (report, took) = diagnose(body);
    let ctx = lines(&report);
    assert!(took < Duration::from_secs(30), "{ctx}");
    assert_eq!(status(&report, "mrs.credentials"), Some(Status::Fail), "{ctx}");
    assert!(
        summary(&report, "mrs.credentials").starts_with(&format!(
            "MRS Proxy at https://{}/EWS/mrsproxy.svc cut the connection after migcheck sent the NTLM logon of u@x.test, without answering (",
            s.host()
        )),
        "{ctx}"
    );
    assert!(
        summary(&report, "mrs.credentials").contains("(after the credentials were sent)")
            && summary(&report, "mrs.credentials").contains("may count toward the account's lockout"),
        "{ctx}"
    );
    for id in ["mrs", "ews"] {
        let id = format!("servers.{server}.{id}");
        assert_eq!(status(&report, &id), Some(Status::Skip), "{id}: {ctx}");
        assert!(
            summary(&report, &id).starts_with("Not tried: the password was refused (or its logon cut off unanswered)"),
            "{id}: {ctx}"
        );
    }
}
