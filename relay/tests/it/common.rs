//! What the relay's integration tests share: the lab, a relay on loopback, and the CLI.

use std::net::SocketAddr;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use migcheck_lab::{Fixture, Lab};
use migcheck_relay::api::{AppState, app};
use migcheck_relay::limits::Hosting;
use migcheck_relay::net::{ConnectTo, Dns, Net, TrustStore};
use migcheck_shared::{Check, Event, Report};

/// The Outlook Anywhere checks every mode runs through a proxy (KB step 1).
pub const OA_CHECKS: [&str; 7] = [
    "oa.auth",
    "oa.ping",
    "oa.logon",
    "oa.connection",
    "oa.bind.6001",
    "oa.bind.6002",
    "oa.bind.6004",
];

pub fn lab() -> &'static Lab {
    Lab::shared()
}

/// The relay's settings for the lab: its DNS server, its root CA as a public one (`--public-ca-file`:
/// the lab stands for the internet), its addresses only.
pub fn lab_net(timeout_secs: u64) -> Net {
    lab_net_trusting(timeout_secs, TrustStore::from_files(None, Some(lab().ca_file())))
}

/// The same with the lab's CA as a company's internal CA (`--ca-file`: trusted, reported as private).
pub fn lab_net_internal_ca(timeout_secs: u64) -> Net {
    lab_net_trusting(timeout_secs, TrustStore::from_files(Some(lab().ca_file()), None))
}

fn lab_net_trusting(timeout_secs: u64, trust: Result<TrustStore, String>) -> Net {
    let lab = lab();
    let timeout = Duration::from_secs(timeout_secs);
    Net::new(
        Arc::new(Dns::new(Some(lab.dns()), timeout, vec![], vec![])),
        lab.egress_cidr().parse().expect("lab egress"),
        Arc::new(trust.expect("lab CA")),
        timeout,
    )
}

/// Settings for tests whose requests the relay refuses before any probe: no lab needed. Should one
/// start a diagnosis after all, it stays on this machine: the public egress policy refuses loopback,
/// and the only DNS server is a closed port on loopback.
pub fn offline_net() -> Net {
    let timeout = Duration::from_secs(1);
    Net::new(
        Arc::new(Dns::new(
            Some("127.0.0.1:9".parse().expect("addr")),
            timeout,
            vec![],
            vec![],
        )),
        migcheck_relay::policy::EgressPolicy::public_default(),
        Arc::new(TrustStore::load(None).expect("Mozilla's roots")),
        timeout,
    )
}

/// Starts the relay's router on a free loopback port and returns its address.
/// A relay for tests that are not about its limits: the public relay's rate limit (a few diagnoses a
/// minute per client) would stop a browser test that runs thirty.
pub async fn start_relay(net: Net) -> SocketAddr {
    let limits = migcheck_relay::limits::Limits {
        rate_per_minute: 100_000,
        burst: 100_000,
        ..Default::default()
    };
    start_relay_with(net, Hosting::new(limits)).await
}

/// The same with the given limits, token and origins; the relay sees each client's address.
pub async fn start_relay_with(net: Net, hosting: Hosting) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(Arc::new(AppState::new(net, Vec::new(), hosting)));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    addr
}

/// The network flags that point the CLI at the lab.
pub fn lab_flags(timeout_secs: u64) -> Vec<String> {
    lab().migcheck_flags(timeout_secs)
}

/// `migcheck check ARGS --password-env VAR --json` with the lab's flags (2 s timeout) and the password in
/// VAR: exit code, report, and all it printed (which must not contain the password).
pub fn cli_report(mut args: Vec<String>, password: &str) -> (i32, Report, String) {
    const PASSWORD_VAR: &str = "MIGCHECK_TEST_PASSWORD";
    args.extend(["--password-env".into(), PASSWORD_VAR.into(), "--json".into()]);
    args.extend(lab_flags(2));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_migcheck"))
        .args(&args)
        .env(PASSWORD_VAR, password)
        .output()
        .expect("run migcheck");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let report: Report =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not a report ({e}): {text}"));
    assert!(!text.contains(password), "the password is in the CLI output");
    (out.status.code().unwrap_or(-1), report, text)
}

pub fn migcheck(args: &[String]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_migcheck"))
        .args(args)
        .output()
        .expect("run migcheck")
}

/// `migcheck check --host NAME --port P --json` against a fixture: exit code and report.
pub fn cli_check(fixture: Fixture, timeout_secs: u64) -> (i32, Report) {
    cli_check_with(fixture, lab_flags(timeout_secs))
}

/// The same with these network flags.
pub fn cli_check_with(fixture: Fixture, flags: Vec<String>) -> (i32, Report) {
    let host = lab().fixture(fixture);
    let mut args = vec![
        "check".into(),
        "--host".into(),
        host.name.clone(),
        "--port".into(),
        lab().port().to_string(),
        "--json".into(),
    ];
    args.extend(flags);
    let out = migcheck(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not a report ({e}): {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

/// POSTs a body to the diagnose endpoint and returns the status and the NDJSON events, with the
/// index of the body chunk each event arrived in.
pub async fn post_diagnose(relay: SocketAddr, body: String) -> (u16, Vec<(usize, Event)>, String) {
    post_diagnose_query(relay, "", body).await
}

/// [`post_diagnose`] with a query (`?compare=outside`).
pub async fn post_diagnose_query(relay: SocketAddr, query: &str, body: String) -> (u16, Vec<(usize, Event)>, String) {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut response = client
        .post(format!("http://{relay}/api/v1/diagnose{query}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    let mut events = Vec::new();
    let mut text = String::new();
    let mut pending = String::new();
    let mut chunk_no = 0;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        let s = String::from_utf8_lossy(&chunk);
        text.push_str(&s);
        pending.push_str(&s);
        while let Some(i) = pending.find('\n') {
            let line: String = pending.drain(..=i).collect();
            if status == 200 {
                events.push((
                    chunk_no,
                    serde_json::from_str::<Event>(line.trim()).unwrap_or_else(|e| panic!("bad event line {line}: {e}")),
                ));
            }
        }
        chunk_no += 1;
    }
    (status, events, text)
}

pub fn host_body(fixture: Fixture) -> String {
    let host = lab().fixture(fixture);
    serde_json::json!({"mode": "host", "host": host.name, "port": lab().port()}).to_string()
}

/// The report from a stream, checking the stream's shape on the way: every started check finishes,
/// and the report comes last.
pub fn report_of(events: &[(usize, Event)]) -> Report {
    let started: Vec<&str> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Started { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let finished: Vec<&str> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Finished { check } => Some(check.id.as_str()),
            _ => None,
        })
        .collect();
    for id in &started {
        assert!(finished.contains(id), "{id} started but never finished");
    }
    match events.last() {
        Some((_, Event::Done { report })) => report.clone(),
        other => panic!("the stream did not end with done: {other:?}"),
    }
}

/// From a plain test: one diagnosis through a fresh relay on loopback (lab settings, 2 s timeout).
/// Returns the report and the raw stream, after checking the answer was a 200 stream.
pub fn api_report(body: String) -> (Report, String) {
    api_report_with(lab_net(2), body)
}

/// The same through a relay with the settings `net`.
pub fn api_report_with(net: Net, body: String) -> (Report, String) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let relay = start_relay(net).await;
        let (status, events, text) = post_diagnose(relay, body).await;
        assert_eq!(status, 200, "{text}");
        (report_of(&events), text)
    })
}

/// A report as JSON, for a failure message.
pub fn pretty(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// The value of a check's fact, by its label.
pub fn fact<'a>(check: &'a Check, label: &str) -> Option<&'a str> {
    check
        .evidence
        .facts
        .iter()
        .find(|f| f.label == label)
        .map(|f| f.value.as_str())
}

/// The example name of Microsoft's "Hybrid Agent" page (issue 19, point 4).
pub const AGENT: &str = "087f1c2e-8711-4176-ab4f-4b1c1777a350.resource.mailboxmigration.his.msappproxy.net";

/// Where each of Microsoft's hosts is sent: the lab's healthy Exchange on 443, or for `blocked` a port
/// where nothing listens there.
pub fn agent_routes(blocked: Option<&str>) -> Vec<ConnectTo> {
    let lab_host = migcheck_lab::ExScenario::Healthy.host();
    migcheck_shared::kb::AGENT_ENDPOINTS
        .iter()
        .map(|e| ConnectTo {
            host: e.host.to_string(),
            port: e.port,
            to_host: lab_host.clone(),
            to_port: if Some(e.host) == blocked { 1 } else { 443 },
        })
        .collect()
}

/// A relay where the Hybrid Agent runs: inside the network (the lab's egress), trusting the lab's CA as an internal one.
pub fn agent_net(blocked: Option<&str>) -> Net {
    let timeout = Duration::from_secs(2);
    Net::new(
        Arc::new(Dns::new(Some(lab().dns()), timeout, vec![], agent_routes(blocked))),
        lab().egress_cidr().parse().expect("lab egress"),
        Arc::new(TrustStore::from_files(Some(lab().ca_file()), None).expect("lab CA")),
        timeout,
    )
}

/// A server on `ip` that accepts connections and never sends a byte (a hung Exchange, or a firewall that
/// drops after the handshake), holding them until the test ends: its port.
/// `GET url` (plain http, no proxy): the body as text, whatever the status.
pub async fn get_text(url: &str) -> String {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let answer = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    answer
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: the body: {e}"))
}

pub async fn silent_peer(ip: &str) -> u16 {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((peer, _)) = listener.accept().await {
            held.push(peer);
        }
    });
    port
}
