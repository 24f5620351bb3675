//! `migcheck serve` as an operator runs it, as a process on loopback: slow-header clients and connection
//! caps, graceful shutdown, `/healthz`, `/readyz`, `/metrics`, JSON logs, configuration from the
//! environment and `migcheck health`. No lab: the servers diagnosed are silent listeners of this test,
//! reached through `--egress 127.0.0.0/8` (the relay's default public policy would refuse loopback).

use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use migcheck_shared::Event;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::silent_peer;

/// The longest any step here may take before the test fails: a bound on a failure, never a measure.
const BOUND: Duration = Duration::from_secs(30);

/// A `migcheck serve` process, stopped when dropped; its stderr is kept for the test to read.
struct Relay {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Relay {
    /// `migcheck serve --listen 127.0.0.1:0 ARGS`.
    fn start(args: &[&str]) -> Relay {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Relay::spawn(&all, &[])
    }

    /// `migcheck ARGS` with these environment variables; waits until it says where it serves.
    fn spawn(args: &[&str], env: &[(&str, &str)]) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_migcheck"))
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start migcheck serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                for (prefix, what) in [("serving the page at ", "page"), ("metrics at ", "metrics")] {
                    if let Some(url) = line.split(prefix).nth(1).and_then(|r| r.split_whitespace().next()) {
                        let _ = tx.send((what, url.trim_matches('"').to_string()));
                    }
                }
                kept.lock().expect("log").push_str(&(line + "\n"));
            }
        });
        let url = loop {
            match rx.recv_timeout(BOUND) {
                Ok(("page", url)) => break url,
                Ok(_) => continue,
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "migcheck serve never said where it serves: {}",
                        log.lock().expect("log")
                    );
                }
            }
        };
        Relay {
            child,
            addr: address_of(&url),
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// Sends SIGTERM (what a container platform sends) and waits for the process to end.
    fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = std::time::Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the relay did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn address_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .trim_end_matches("/metrics")
        .parse()
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("client")
}

/// A connection to the relay from `source` (a loopback address: each is another client).
async fn connect_from(source: &str, relay: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(source.parse::<IpAddr>().expect("ip"), 0))
        .expect("bind");
    socket.connect(relay).await.expect("connect")
}

/// Reads until the relay closes the connection; fails the test if it does not within [`BOUND`].
async fn assert_closed(stream: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut got = Vec::new();
    match tokio::time::timeout(BOUND, stream.read_to_end(&mut got)).await {
        Ok(_) => got,
        Err(_) => panic!("{what}: the relay kept the connection open"),
    }
}

/// Reads a 200 answer, then the close.
async fn assert_answered_then_closed(stream: &mut TcpStream, what: &str) {
    let answer = assert_closed(stream, what).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{what}: {}",
        String::from_utf8_lossy(&answer)
    );
}

/// One GET over a fresh connection from `source`: the status line.
async fn get_from(source: &str, relay: SocketAddr, path: &str) -> String {
    let mut stream = connect_from(source, relay).await;
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let answer = assert_closed(&mut stream, path).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn host_body(host: &str, port: u16) -> String {
    serde_json::json!({"mode": "host", "host": host, "port": port}).to_string()
}

/// Starts a diagnosis and returns its open stream once the first event has arrived (so it is running).
async fn diagnosis_under_way(relay: &Relay, body: String) -> (reqwest::Response, String) {
    let mut response = client()
        .post(relay.url("/api/v1/diagnose"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 200);
    let first = tokio::time::timeout(BOUND, response.chunk())
        .await
        .expect("no first event")
        .expect("chunk")
        .expect("the stream ended at once");
    (response, String::from_utf8_lossy(&first).into_owned())
}

/// The rest of a stream, and its events (with `so_far`, what was read already).
async fn rest_of(mut response: reqwest::Response, mut so_far: String) -> (Vec<Event>, String) {
    while let Some(chunk) = tokio::time::timeout(BOUND, response.chunk())
        .await
        .expect("the stream stalled")
        .expect("chunk")
    {
        so_far.push_str(&String::from_utf8_lossy(&chunk));
    }
    let events = so_far
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (events, so_far)
}

#[tokio::test]
async fn slow_header_clients_are_cut_off_while_a_normal_user_is_served() {
    let relay = Relay::start(&["--header-timeout", "2", "--max-connections-per-client", "1000"]);
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = connect_from("127.0.0.2", relay.addr).await;
        stream
            .write_all(b"GET /api/v1/info HTTP/1.1\r\nHost: relay\r\nX-Half: ")
            .await
            .expect("write");
        slow.push(stream);
    }
    // Another user is answered while the 200 hold their connections.
    assert_eq!(
        get_from("127.0.0.3", relay.addr, "/api/v1/info").await,
        "HTTP/1.1 200 OK"
    );
    for (i, stream) in slow.iter_mut().enumerate() {
        let answer = assert_closed(stream, &format!("half-header connection {i}")).await;
        assert!(
            !answer.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    // The same timer closes a kept-alive connection that sends no next request.
    let mut idle = connect_from("127.0.0.4", relay.addr).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        .await
        .expect("write");
    assert_answered_then_closed(&mut idle, "idle keep-alive connection").await;
}

#[tokio::test]
async fn a_client_that_trickles_its_body_is_cut_off() {
    let relay = Relay::start(&["--header-timeout", "2"]);
    let mut slow = connect_from("127.0.0.2", relay.addr).await;
    slow.write_all(
        b"POST /api/v1/diagnose HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mode\":",
    )
    .await
    .expect("write");
    let answer = assert_closed(&mut slow, "a body that never ends").await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn slow_header_clients_are_cut_off_over_https_too() {
    let (dir, cert, key) = certificate("slow");
    let relay = Relay::start(&["--header-timeout", "2", "--tls-cert", &cert, "--tls-key", &key]);
    let tcp = connect_from("127.0.0.2", relay.addr).await;
    let mut tls = tls_connector(&dir)
        .connect(rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name"), tcp)
        .await
        .expect("handshake");
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n")
        .await
        .expect("write");
    let mut got = Vec::new();
    // A peer may close without close_notify: an error is a close as well.
    let read = tokio::time::timeout(BOUND, tls.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the relay kept a half-header TLS connection open");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_client_address_past_its_connection_cap_is_closed_at_once() {
    let relay = Relay::start(&["--header-timeout", "600", "--max-connections-per-client", "3"]);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from("127.0.0.2", relay.addr).await);
    }
    let mut fourth = connect_from("127.0.0.2", relay.addr).await;
    // Nothing sent, and the header timer is 600 s: only the cap closes it.
    assert_eq!(assert_closed(&mut fourth, "the fourth connection").await, b"");
    assert_eq!(get_from("127.0.0.3", relay.addr, "/healthz").await, "HTTP/1.1 200 OK");
    drop(held.pop());
    let served = tokio::time::timeout(BOUND, async {
        loop {
            let line = get_from("127.0.0.2", relay.addr, "/healthz").await;
            if !line.is_empty() {
                return line;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the address never got its connection back");
    assert_eq!(served, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn past_max_connections_a_new_one_waits_for_a_free_one() {
    let relay = Relay::start(&["--header-timeout", "600", "--max-connections", "2"]);
    let first = connect_from("127.0.0.2", relay.addr).await;
    let _second = connect_from("127.0.0.3", relay.addr).await;
    let mut third = connect_from("127.0.0.4", relay.addr).await;
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut byte)).await;
    assert!(early.is_err(), "the third connection was served past the cap of 2");
    drop(first);
    assert_answered_then_closed(&mut third, "the third connection").await;
}

#[tokio::test]
async fn healthz_and_readyz_answer_json_and_readyz_says_when_the_slots_are_taken() {
    let port = silent_peer("127.0.0.1").await;
    let relay = Relay::start(&["--egress", "127.0.0.0/8", "--timeout", "60", "--max-concurrent", "1"]);
    let http = client();
    let health = http.get(relay.url("/healthz")).send().await.expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(content_type(&health), "application/json");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&health.text().await.expect("body")).expect("json"),
        serde_json::json!({"status": "ok"})
    );
    let (status, body) = readyz(&http, &relay).await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ready"})));

    let (running, _) = diagnosis_under_way(&relay, host_body("127.0.0.1", port)).await;
    let (status, body) = readyz(&http, &relay).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "all 1 diagnosis slots are in use", "{body}");
    drop(running);
    let ready = tokio::time::timeout(BOUND, async {
        loop {
            if readyz(&http, &relay).await.0 == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(ready.is_ok(), "the slot of a client that went away never came back");
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn readyz(http: &reqwest::Client, relay: &Relay) -> (u16, serde_json::Value) {
    let response = http.get(relay.url("/readyz")).send().await.expect("readyz");
    assert_eq!(content_type(&response), "application/json");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}")),
    )
}

#[tokio::test]
async fn sigterm_past_the_grace_ends_the_stream_with_an_error_and_exits_0() {
    let port = silent_peer("127.0.0.1").await;
    let mut relay = Relay::start(&["--egress", "127.0.0.0/8", "--timeout", "120", "--shutdown-grace", "1"]);
    let (response, first) = diagnosis_under_way(&relay, host_body("127.0.0.1", port)).await;
    let status = relay.terminate();
    let (events, text) = rest_of(response, first).await;
    match events.last() {
        Some(Event::Error { message, field: None }) => {
            assert_eq!(message, migcheck_relay::api::SHUT_DOWN);
        }
        other => panic!("the stream did not end with the shutdown's error: {other:?}\n{text}"),
    }
    assert!(status.success(), "{status:?}\n{}", relay.log());
}

#[tokio::test]
async fn sigterm_lets_a_running_diagnosis_finish_within_the_grace() {
    let port = silent_peer("127.0.0.1").await;
    // Each network step gives up after 1 s: the diagnosis ends on its own, well within 60 s.
    let mut relay = Relay::start(&["--egress", "127.0.0.0/8", "--timeout", "1", "--shutdown-grace", "60"]);
    let (response, first) = diagnosis_under_way(&relay, host_body("127.0.0.1", port)).await;
    let status = relay.terminate();
    let (events, text) = rest_of(response, first).await;
    assert!(
        matches!(events.last(), Some(Event::Done { .. })),
        "the diagnosis did not finish: {text}"
    );
    assert!(status.success(), "{status:?}\n{}", relay.log());
}

#[tokio::test]
async fn metrics_count_a_diagnosis_by_mode_and_verdict_and_name_no_host() {
    let port = silent_peer("127.0.0.1").await;
    let resolve = format!("mail.contoso.test:{port}:127.0.0.1");
    let relay = Relay::start(&["--egress", "127.0.0.0/8", "--timeout", "1", "--resolve", &resolve]);
    let (response, first) = diagnosis_under_way(&relay, host_body("mail.contoso.test", port)).await;
    let (events, text) = rest_of(response, first).await;
    let Some(Event::Done { report }) = events.last() else {
        panic!("no report: {text}");
    };
    let verdict = serde_json::to_value(report.verdict).expect("verdict");
    let refused = client()
        .post(relay.url("/api/v1/diagnose"))
        .header("content-type", "application/json")
        .body(r#"{"mode":"host"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status().as_u16(), 400);

    let metrics = client().get(relay.url("/metrics")).send().await.expect("metrics");
    assert_eq!(metrics.status().as_u16(), 200);
    assert!(content_type(&metrics).starts_with("text/plain"));
    let body = metrics.text().await.expect("body");
    for line in [
        "migcheck_diagnoses_started_total{mode=\"host\"} 1".to_string(),
        format!("migcheck_diagnoses_finished_total{{mode=\"host\",verdict={verdict}}} 1"),
        "migcheck_refusals_total{reason=\"validation\"} 1".to_string(),
        "migcheck_diagnosis_duration_seconds_count{mode=\"host\"} 1".to_string(),
        "migcheck_open_streams 0".to_string(),
    ] {
        assert!(body.lines().any(|l| l == line), "no `{line}` in:\n{body}");
    }
    for finding in &report.findings {
        let cause = serde_json::to_value(finding.cause).expect("cause");
        assert!(
            body.contains(&format!("migcheck_findings_total{{cause={cause}}}")),
            "{body}"
        );
    }
    assert!(body.contains("migcheck_outbound_connections_total "), "{body}");
    assert!(!body.contains("contoso") && !body.contains("127.0.0.1"), "{body}");
}

#[tokio::test]
async fn metrics_listen_moves_the_metrics_to_their_own_address() {
    let relay = Relay::start(&["--metrics-listen", "127.0.0.1:0"]);
    let line = tokio::time::timeout(BOUND, async {
        loop {
            if let Some(line) = relay
                .log()
                .lines()
                .find_map(|l| l.split("metrics at ").nth(1).map(str::to_string))
            {
                return line;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the metrics' address in the log");
    let metrics_addr = address_of(line.trim());
    let own = client()
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert!(own.text().await.expect("body").contains("migcheck_"));
    let main = client().get(relay.url("/metrics")).send().await.expect("main");
    assert!(
        !main.text().await.expect("body").contains("migcheck_open_connections"),
        "the metrics are still on the main listener"
    );
}

#[tokio::test]
async fn json_logs_parse_line_by_line_and_never_hold_the_password() {
    const PASSWORD: &str = "Pa55-w0rd-in-the-log?";
    // Autodiscover's candidates reach a closed port on loopback; the SRV query a closed DNS port.
    let resolve = "autodiscover.contoso.test:443:127.0.0.1,contoso.test:443:127.0.0.1";
    let mut relay = Relay::spawn(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--egress",
            "127.0.0.0/8",
            "--timeout",
            "1",
            "--dns",
            "127.0.0.1:9",
            "--resolve",
            resolve,
        ],
        &[("RUST_LOG", "debug")],
    );
    let body = serde_json::json!({
        "mode": "autodiscover", "email": "admin@contoso.test", "user": "admin@contoso.test", "password": PASSWORD,
    });
    let (response, first) = diagnosis_under_way(&relay, body.to_string()).await;
    let _ = rest_of(response, first).await;
    // A password typed into the wrong field is refused, and the refusal logged.
    let refused = client()
        .post(relay.url("/api/v1/diagnose"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"mode": "host", "host": PASSWORD, "port": true}).to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status().as_u16(), 400);
    assert!(relay.terminate().success());
    let log = relay.log();
    let mut messages = Vec::new();
    for line in log.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        messages.push(event["fields"]["message"].as_str().unwrap_or_default().to_string());
    }
    assert!(messages.iter().any(|m| m.contains("serving the page at")), "{log}");
    assert!(
        messages.iter().any(|m| m.starts_with("refused POST /api/v1/diagnose")),
        "{log}"
    );
    assert!(!log.contains(PASSWORD), "the password is in the log:\n{log}");
}

#[tokio::test]
async fn migcheck_listen_in_the_environment_picks_the_port() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        probe.local_addr().expect("addr").port()
    };
    let listen = format!("127.0.0.1:{port}");
    let relay = Relay::spawn(&["serve"], &[("MIGCHECK_LISTEN", &listen)]);
    assert_eq!(relay.addr.port(), port);
    assert_eq!(get_from("127.0.0.2", relay.addr, "/healthz").await, "HTTP/1.1 200 OK");
    let help = Command::new(env!("CARGO_BIN_EXE_migcheck"))
        .args(["serve", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    for name in [
        "--listen",
        "MIGCHECK_LISTEN",
        "--rate-per-minute",
        "MIGCHECK_RATE_PER_MINUTE",
    ] {
        assert!(help.contains(name), "{name} not in:\n{help}");
    }
}

#[tokio::test]
async fn health_exits_0_on_a_2xx_and_1_otherwise() {
    let health = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_migcheck"))
            .arg("health")
            .args(args)
            .args(["--timeout", "5"])
            .output()
            .expect("migcheck health")
            .status
            .code()
    };
    let relay = Relay::start(&[]);
    assert_eq!(health(&[&relay.url("/healthz")]), Some(0));
    assert_eq!(health(&[&relay.url("/api/v1/no-such-route")]), Some(1));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_url = format!("http://{}/healthz", closed.local_addr().expect("addr"));
    drop(closed);
    assert_eq!(health(&[&closed_url]), Some(1));
    // A server that never answers: the timeout ends the check.
    let silent = format!("http://127.0.0.1:{}/healthz", silent_peer("127.0.0.1").await);
    assert_eq!(health(&[&silent]), Some(1));

    let (dir, cert, key) = certificate("health");
    let tls = Relay::start(&["--tls-cert", &cert, "--tls-key", &key]);
    let url = format!("https://{}/healthz", tls.addr);
    assert_eq!(health(&[&url, "--ca-file", &cert]), Some(0));
    assert_eq!(health(&[&url]), Some(1), "a certificate nobody vouches for must fail");
    let _ = std::fs::remove_dir_all(dir);
}

/// A self-signed certificate for 127.0.0.1 in a fresh directory: (the directory, cert.pem, key.pem).
fn certificate(name: &str) -> (std::path::PathBuf, String, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("certificate");
    let dir = std::env::temp_dir().join(format!("migcheck-serving-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key");
    let text = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    (dir, text(cert), text(key))
}

fn tls_connector(dir: &std::path::Path) -> tokio_rustls::TlsConnector {
    let pem = std::fs::read(dir.join("cert.pem")).expect("cert");
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.expect("pem")).expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}
