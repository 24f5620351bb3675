//! A relay hosted for the public or inside a customer network: rate and concurrency limits, the deadline
//! of a diagnosis, the access token, CORS and HTTPS.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::common::*;
use migcheck_lab::Fixture;
use migcheck_relay::limits::{Hosting, Limits};
use migcheck_shared::Event;

fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(source.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

async fn post(client: &reqwest::Client, relay: SocketAddr, body: &str) -> reqwest::Response {
    client
        .post(format!("http://{relay}/api/v1/diagnose"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("send")
}

/// A 429 as the contract has it: a Retry-After in whole seconds and the usual JSON error.
async fn assert_too_many(response: reqwest::Response) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), 429);
    let retry: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry >= 1);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.expect("body")).expect("json");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    assert!(body["field"].is_null(), "{body}");
    body
}

/// A diagnosis of a silent peer on 127.0.2.232 (`silent_peer`): an address of the lab's block, so its
/// egress policy allows it.
fn silent_body(port: u16) -> String {
    serde_json::json!({"mode": "host", "host": "127.0.2.232", "port": port}).to_string()
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn a_flooding_client_is_slowed_and_another_is_not() {
    let hosting = Hosting::new(Limits {
        rate_per_minute: 1,
        burst: 2,
        ..Limits::default()
    });
    let relay = start_relay_with(lab_net(2), hosting).await;
    let body = host_body(Fixture::Valid);
    let flood = client_from("127.0.0.2");
    for _ in 0..2 {
        assert_eq!(post(&flood, relay, &body).await.status().as_u16(), 200);
    }
    let refused = assert_too_many(post(&flood, relay, &body).await).await;
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("too many diagnoses from your address"))
    );
    // Another address has its own budget, and gets the whole stream.
    let other = client_from("127.0.0.3");
    let response = post(&other, relay, &body).await;
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("stream");
    let events: Vec<(usize, Event)> = text
        .lines()
        .map(|l| (0, serde_json::from_str(l).expect("event")))
        .collect();
    report_of(&events);
}

async fn post_forwarded_for(relay: SocketAddr, client: &str, body: &str) -> u16 {
    client_from("127.0.0.4")
        .post(format!("http://{relay}/api/v1/diagnose"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", format!("203.0.113.66, {client}"))
        .body(body.to_string())
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let limits = Limits {
        rate_per_minute: 1,
        burst: 1,
        ..Limits::default()
    };
    let body = host_body(Fixture::Valid);
    let behind = Hosting::new(limits.clone()).with_trusted_proxies(vec!["127.0.0.4/32".parse().expect("cidr")]);
    let relay = start_relay_with(lab_net(2), behind).await;
    assert_eq!(post_forwarded_for(relay, "198.51.100.1", &body).await, 200);
    assert_eq!(post_forwarded_for(relay, "198.51.100.2", &body).await, 200);
    assert_eq!(post_forwarded_for(relay, "198.51.100.1", &body).await, 429);
    // Without --trusted-proxy the header is the client's to write: it changes nothing.
    let relay = start_relay_with(lab_net(2), Hosting::new(limits)).await;
    assert_eq!(post_forwarded_for(relay, "198.51.100.1", &body).await, 200);
    assert_eq!(post_forwarded_for(relay, "198.51.100.2", &body).await, 429);
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn the_relay_runs_at_most_max_concurrent_diagnoses() {
    let port = silent_peer("127.0.2.232").await;
    let hosting = Hosting::new(Limits {
        max_concurrent: 2,
        rate_per_minute: 1000,
        burst: 1000,
        ..Limits::default()
    });
    let relay = start_relay_with(lab_net(30), hosting).await;
    let body = silent_body(port);
    let client = client_from("127.0.0.2");
    let first = post(&client, relay, &body).await;
    assert_eq!(first.status().as_u16(), 200);
    let second = post(&client_from("127.0.0.3"), relay, &body).await;
    assert_eq!(second.status().as_u16(), 200);
    let refused = assert_too_many(post(&client_from("127.0.0.4"), relay, &body).await).await;
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("running 2 diagnoses"))
    );
    // The client of the first goes away: its slot comes back once the relay notices.
    drop(first);
    drop(client);
    let again = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let response = post(&client_from("127.0.0.5"), relay, &body).await;
            if response.status().as_u16() == 200 {
                return response;
            }
            assert_too_many(response).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the slot of a client that went away never came back");
    assert_eq!(again.status().as_u16(), 200);
    drop(second);
}

#[tokio::test(start_paused = true)]
#[ignore = "needs the lab: cargo xtask test"]
async fn a_diagnosis_past_its_deadline_ends_with_an_error() {
    let port = silent_peer("127.0.2.232").await;
    let hosting = Hosting::new(Limits {
        deadline: Duration::from_secs(5),
        ..Limits::default()
    });
    // Each network step may take 600 s: only the deadline can end this diagnosis.
    let relay = start_relay_with(lab_net(600), hosting).await;
    let (status, events, text) = post_diagnose(relay, silent_body(port)).await;
    assert_eq!(status, 200, "{text}");
    assert!(!events.iter().any(|(_, e)| matches!(e, Event::Done { .. })), "{text}");
    match events.last() {
        Some((_, Event::Error { message, field: None })) => {
            assert_eq!(message, "the diagnosis took longer than 5 s and was stopped");
        }
        other => panic!("the stream did not end with the deadline's error: {other:?}\n{text}"),
    }
}

async fn get(relay: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut request = client.get(format!("http://{relay}{path}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("get");
    (response.status().as_u16(), response.text().await.expect("body"))
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn an_access_token_guards_the_api_but_not_the_page() {
    let relay = start_relay_with(lab_net(2), Hosting::default().with_token("c0nsultant-t0ken")).await;
    for token in [None, Some("wrong"), Some("c0nsultant-t0ke")] {
        let (status, body) = get(relay, "/api/v1/info", token).await;
        assert_eq!(status, 401, "{token:?}");
        let body: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"error": "this relay needs its access token", "field": "token"})
        );
    }
    let (status, body) = get(relay, "/api/v1/info", Some("c0nsultant-t0ken")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, text) = post_diagnose(relay, host_body(Fixture::Valid)).await;
    assert_eq!(status, 401, "{text}");
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let response = client
        .post(format!("http://{relay}/api/v1/diagnose"))
        .header("authorization", "Bearer c0nsultant-t0ken")
        .header("content-type", "application/json")
        .body(host_body(Fixture::Valid))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 200);
    let (status, _) = get(relay, "/", None).await;
    assert_ne!(status, 401, "the page must stay public");
}

/// Auth schemes ignore case (RFC 9110, 11.1): `bearer` is `Bearer`.
#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let relay = start_relay_with(offline_net(), Hosting::default().with_token("c0nsultant-t0ken")).await;
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    for authorization in [
        "bearer c0nsultant-t0ken",
        "BEARER c0nsultant-t0ken",
        "Bearer c0nsultant-t0ken",
    ] {
        let response = client
            .get(format!("http://{relay}/api/v1/info"))
            .header("authorization", authorization)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status().as_u16(), 200, "{authorization}");
    }
    let response = client
        .get(format!("http://{relay}/api/v1/info"))
        .header("authorization", "bearer wrong")
        .send()
        .await
        .expect("get");
    assert_eq!(response.status().as_u16(), 401);
}

async fn preflight(relay: SocketAddr, origin: &str) -> reqwest::header::HeaderMap {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    client
        .request(reqwest::Method::OPTIONS, format!("http://{relay}/api/v1/diagnose"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight")
        .headers()
        .clone()
}

#[tokio::test]
async fn cors_is_closed_unless_an_origin_is_named() {
    let closed = start_relay(offline_net()).await;
    let headers = preflight(closed, "https://example.test").await;
    assert!(!headers.contains_key("access-control-allow-origin"), "{headers:?}");
    assert!(!headers.contains_key("access-control-allow-methods"), "{headers:?}");

    let origin = reqwest::header::HeaderValue::from_static("https://example.test");
    let open = start_relay_with(offline_net(), Hosting::default().with_cors_origins(vec![origin])).await;
    let headers = preflight(open, "https://example.test").await;
    assert_eq!(
        headers.get("access-control-allow-origin").map(|v| v.as_bytes()),
        Some(&b"https://example.test"[..])
    );
    let methods = headers
        .get("access-control-allow-methods")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let other = preflight(open, "https://elsewhere.test").await;
    assert!(!other.contains_key("access-control-allow-origin"), "{other:?}");
}

/// `migcheck serve --tls-cert --tls-key` serves the page and the API over HTTPS.
#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn serve_speaks_https_with_the_given_certificate() {
    use std::io::BufRead;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let dir = std::env::temp_dir().join(format!("migcheck-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key");

    // Killed when the test ends, however it ends: a relay left running would hold the lab's lock.
    let mut child = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_migcheck"))
            .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start migcheck serve"),
    );
    let mut stderr = std::io::BufReader::new(child.0.stderr.take().expect("stderr"));
    let mut line = String::new();
    let addr = loop {
        line.clear();
        if stderr.read_line(&mut line).expect("stderr") == 0 {
            panic!("migcheck serve ended without serving");
        }
        if let Some(rest) = line.split("serving the page at ").nth(1) {
            let url = rest.split_whitespace().next().expect("url");
            let addr = url
                .strip_prefix("https://")
                .unwrap_or_else(|| panic!("not https: {line}"))
                .trim_end_matches('/');
            break addr.parse::<SocketAddr>().expect("addr");
        }
    };

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).expect("root");
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    for path in ["/", "/api/v1/info"] {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        let mut tls = connector
            .connect(name, tcp)
            .await
            .expect("TLS handshake with the relay");
        tls.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .expect("write");
        let mut answer = Vec::new();
        // A peer may close without close_notify; what arrived is what counts.
        let _ = tls.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
        if path == "/api/v1/info" {
            assert!(answer.contains(r#""version":"#), "{answer}");
        }
    }
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A child process killed (and reaped) when dropped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_refuses_a_token_variable_that_is_not_set_and_a_bad_origin() {
    let out = migcheck(&[
        "serve".into(),
        "--token-env".into(),
        "MIGCHECK_TEST_TOKEN_NOT_SET".into(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--token-env: no environment variable of that name is set"),
        "{err}"
    );
    let out = migcheck(&["serve".into(), "--cors-origin".into(), "example.test/page".into()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("an origin is a scheme and a host"), "{err}");
}
