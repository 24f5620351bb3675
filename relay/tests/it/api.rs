//! The HTTP API as a client meets it: bad input answered with the field at fault, events streamed as
//! they happen, the egress policy applied to the address actually connected.

use crate::common::*;
use migcheck_lab::Fixture;
use migcheck_relay::policy::EgressPolicy;
use migcheck_shared::{Event, Status};

async fn bad_request(body: &str) -> serde_json::Value {
    let relay = start_relay(offline_net()).await;
    let (status, _, text) = post_diagnose(relay, body.to_string()).await;
    assert_eq!(status, 400, "{body} -> {text}");
    serde_json::from_str(&text).expect("400 body is JSON")
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field() {
    let cases = [
        (r#"{"mode":"host","host":""}"#, Some("host"), "enter the server name"),
        (
            r#"{"mode":"host","host":"mail contoso.com"}"#,
            Some("host"),
            "cannot contain spaces",
        ),
        (
            r#"{"mode":"host","host":"mail.contoso.com","port":70000}"#,
            Some("port"),
            "must be a whole number between 1 and 65535",
        ),
        (
            r#"{"mode":"host","host":"mail.contoso.com","port":0}"#,
            Some("port"),
            "between 1 and 65535",
        ),
        (r#"{"mode":"host","host":42}"#, Some("host"), "must be a string"),
        (r#"{"mode":"host"}"#, Some("host"), "missing field `host`"),
        (
            r#"{"mode":"host","host":"x.test","hots":1}"#,
            Some("hots"),
            "hots: not used in mode 'host' (its fields: host, port)",
        ),
        (
            r#"{"mode":"teleport","host":"x"}"#,
            Some("mode"),
            "unknown mode 'teleport'; one of: host",
        ),
        (r#"{"host":"x"}"#, Some("mode"), "missing; one of: host"),
        (r#"not json"#, None, "not a diagnose request"),
        (r#"["host"]"#, None, "not a diagnose request"),
        (
            r#"{"mode":"autodiscover","email":"adele@contoso.com","password":""}"#,
            Some("password"),
            "enter the password",
        ),
        (
            r#"{"mode":"autodiscover","email":"adele","password":"x"}"#,
            Some("email"),
            "needs an '@'",
        ),
    ];
    for (body, field, words) in cases {
        let answer = bad_request(body).await;
        assert_eq!(answer["field"].as_str(), field, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(words), "{body}: {error:?} lacks {words:?}");
    }
}

#[tokio::test]
async fn a_password_of_the_wrong_type_is_not_echoed() {
    let answer = bad_request(r#"{"mode":"autodiscover","email":"adele@contoso.com","password":918273645}"#).await;
    assert_eq!(answer["field"].as_str(), Some("password"));
    assert_eq!(answer["error"].as_str(), Some("password: must be a string"));
    assert!(!answer.to_string().contains("918273645"));
}

/// A field of another mode is named as such, not taken for a value of the wrong type.
#[tokio::test]
async fn a_field_of_another_mode_is_named_as_such() {
    let answer = bad_request(r#"{"mode":"host","host":"a.test","password":"x"}"#).await;
    assert_eq!(
        answer,
        serde_json::json!({"field": "password", "error": "password: not used in mode 'host' (its fields: host, port)"})
    );
    let answer =
        bad_request(r#"{"mode":"remote_move","remote_server":"a.test","user":"u","password":"p","auth":"ntlm"}"#).await;
    assert_eq!(answer["field"].as_str(), Some("auth"), "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("not used in mode 'remote_move'")),
        "{answer}"
    );
}

/// serde quotes the value it could not take; a password typed into the wrong field would go with it.
/// The answer says what the field must hold instead (and the log says the same, see secrets.rs).
#[tokio::test]
async fn no_error_quotes_a_value_sent() {
    const SECRET: &str = "Hunter2xyz";
    let cases = [
        (
            serde_json::json!({"mode":"autodiscover","email":"adele@contoso.com","password":"p","allow_credential_redirect":SECRET}),
            "allow_credential_redirect",
            "allow_credential_redirect: must be true or false",
        ),
        (
            serde_json::json!({"mode":"outlook_anywhere","rpc_proxy":"a.test","exchange_server":"b","user":"u","password":"p","auth":SECRET}),
            "auth",
            "auth: must be one of: basic, ntlm",
        ),
        (
            serde_json::json!({"mode":"remote_move","remote_server":"a.test","user":["u", SECRET],"password":"p"}),
            "user",
            "user: must be a string",
        ),
        (
            serde_json::json!({"mode":"autodiscover","email":{"address":SECRET},"password":"p"}),
            "email",
            "email: must be a string",
        ),
        (
            serde_json::json!({"mode":"host","host":"a.test","port":SECRET}),
            "port",
            "port: must be a whole number between 1 and 65535",
        ),
    ];
    for (body, field, error) in cases {
        let answer = bad_request(&body.to_string()).await;
        assert_eq!(answer, serde_json::json!({"field": field, "error": error}), "{body}");
    }
    let answer = bad_request(r#"{"mode":"host","host":"a.test","port":918273645}"#).await;
    assert!(!answer.to_string().contains("918273645"), "{answer}");
}

/// Every refusal is `{"error": ..., "field": ...}` (the field at fault, or null), whatever refuses it.
fn assert_api_error(status: u16, want: u16, text: &str, words: &str) -> serde_json::Value {
    assert_eq!(status, want, "{text}");
    let body: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let object = body.as_object().unwrap_or_else(|| panic!("not an object: {body}"));
    assert_eq!(object.len(), 2, "{body}");
    assert!(object.contains_key("field"), "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains(words), "{error:?} lacks {words:?}");
    body
}

#[tokio::test]
async fn a_malformed_body_is_the_json_error_with_a_null_field() {
    let relay = start_relay(offline_net()).await;
    for body in ["not json", r#"{"mode":"host","#, "[1]", ""] {
        let (status, _, text) = post_diagnose(relay, body.to_string()).await;
        let answer = assert_api_error(status, 400, &text, "not a diagnose request");
        assert!(answer["field"].is_null(), "{body}: {answer}");
    }
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let relay = start_relay(offline_net()).await;
    let body = format!(r#"{{"mode":"host","host":"{}"}}"#, "a".repeat(64 * 1024));
    let (status, _, text) = post_diagnose(relay, body).await;
    let answer = assert_api_error(status, 413, &text, "larger than the limit of 16384 bytes");
    assert!(answer["field"].is_null(), "{answer}");
}

async fn post_as(relay: std::net::SocketAddr, content_type: Option<&str>, body: &str) -> (u16, String) {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut request = client
        .post(format!("http://{relay}/api/v1/diagnose"))
        .body(body.to_string());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.expect("send");
    (response.status().as_u16(), response.text().await.expect("body"))
}

/// A cross-site form may POST text/plain, x-www-form-urlencoded or multipart without a CORS preflight:
/// on a consultant's `--egress any` relay that would start diagnoses of internal hosts. Only a body
/// declared as JSON (which needs the preflight) may start one.
#[tokio::test]
async fn a_body_not_declared_as_json_is_refused() {
    let relay = start_relay(offline_net()).await;
    // A valid request: only its content type is wrong (and were it run, the egress policy keeps it here).
    let body = r#"{"mode":"host","host":"127.0.0.1"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonp"),
        Some("application/json-seq"),
    ] {
        let (status, text) = post_as(relay, content_type, body).await;
        let answer = assert_api_error(status, 415, &text, "the body must be JSON");
        assert!(answer["field"].is_null(), "{content_type:?}: {answer}");
    }
    // Parameters and case do not matter; an empty host shows the body was read and parsed.
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
    ] {
        let (status, text) = post_as(relay, Some(content_type), r#"{"mode":"host","host":""}"#).await;
        assert_api_error(status, 400, &text, "enter the server name");
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_in_json_with_allow() {
    let relay = start_relay(offline_net()).await;
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    for (method, path, allow) in [
        (reqwest::Method::GET, "/api/v1/diagnose", "POST"),
        (reqwest::Method::PUT, "/api/v1/diagnose", "POST"),
        (reqwest::Method::DELETE, "/api/v1/info", "GET,HEAD"),
        (reqwest::Method::POST, "/api/v1/info", "GET,HEAD"),
    ] {
        let response = client
            .request(method.clone(), format!("http://{relay}{path}"))
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        let allowed = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .replace(' ', "");
        assert_eq!(allowed, allow, "{method} {path}");
        let text = response.text().await.expect("body");
        let answer = assert_api_error(status, 405, &text, &format!("{method} is not allowed"));
        assert!(answer["field"].is_null(), "{answer}");
    }
}

/// A mistyped API path is a 404 in the API's words, not the page with a 200; other paths stay the page's.
#[tokio::test]
async fn an_unknown_api_path_is_a_404_in_json() {
    let relay = start_relay(offline_net()).await;
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/diagnos"),
        (reqwest::Method::GET, "/api/v2/info"),
        (reqwest::Method::GET, "/api/v1/info/"),
        (reqwest::Method::GET, "/api/"),
        (reqwest::Method::GET, "/api"),
        (reqwest::Method::GET, "/api/v1/page.js"),
    ] {
        let response = client
            .request(method.clone(), format!("http://{relay}{path}"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let answer = assert_api_error(status, 404, &text, "no such API route");
        assert!(answer["field"].is_null(), "{method} {path}: {answer}");
    }
    // The page's own paths (the wizard's) still get the page, or the note that it is not built.
    for path in ["/", "/check/autodiscover", "/apiary"] {
        let response = client.get(format!("http://{relay}{path}")).send().await.expect("send");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(!content_type.starts_with("application/json"), "{path}: {content_type}");
    }
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn a_pasted_url_is_understood() {
    let relay = start_relay(lab_net(2)).await;
    let url = format!("https://MAIL.contoso.test:{}/owa/", lab().port());
    let (status, events, text) = post_diagnose(relay, serde_json::json!({"mode":"host","host":url}).to_string()).await;
    assert_eq!(status, 200, "{text}");
    let report = report_of(&events);
    assert_eq!(report.verdict, migcheck_shared::Verdict::Pass, "{}", report.headline);
    assert_eq!(report.check("tls.name").map(|c| c.status), Some(Status::Pass));
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn events_stream_while_the_diagnosis_runs() {
    // The silent fixture holds the handshake for the whole timeout: the `started` event of the
    // handshake must reach the client before the end, in an earlier chunk than the report.
    let relay = start_relay(lab_net(2)).await;
    let (_, events, _) = post_diagnose(relay, host_body(Fixture::Silent)).await;
    let started = events
        .iter()
        .find(|(_, e)| matches!(e, Event::Started { id, .. } if id == "tls.handshake"))
        .map(|(chunk, _)| *chunk)
        .expect("handshake started");
    let done = events
        .iter()
        .find(|(_, e)| matches!(e, Event::Done { .. }))
        .map(|(chunk, _)| *chunk)
        .expect("done");
    assert!(
        started < done,
        "started arrived in chunk {started}, the report in chunk {done}: not streamed"
    );
    let first = &events[0].1;
    assert!(
        matches!(first, Event::Started { id, parent: None, .. } if id == "net"),
        "{first:?}"
    );
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn public_egress_refuses_loopback_after_resolution() {
    let mut net = lab_net(2);
    net.egress = EgressPolicy::public_default().with_ports(vec![lab().port()]);
    let relay = start_relay(net).await;
    let (_, events, _) = post_diagnose(relay, host_body(Fixture::Valid)).await;
    let report = report_of(&events);
    let tcp = report.check("net.tcp").expect("tcp");
    assert_eq!(tcp.status, Status::Fail);
    // Led by the name the user typed, as a sentence.
    assert!(
        tcp.summary.starts_with("mail.contoso.test is at 127.0.2.2:"),
        "{}",
        tcp.summary
    );
    assert!(
        tcp.summary
            .contains("is a loopback address, which migcheck does not reach in its public egress mode"),
        "{}",
        tcp.summary
    );
    assert!(
        report.findings[0].fix.contains("--egress any"),
        "{}",
        report.findings[0].fix
    );
}

#[tokio::test]
async fn info_tells_the_egress_mode() {
    let mut net = offline_net();
    net.egress = "10.0.0.0/8,192.0.2.0/24".parse().expect("egress");
    let relay = start_relay(net).await;
    let info: serde_json::Value =
        serde_json::from_str(&get_text(&format!("http://{relay}/api/v1/info")).await).expect("json");
    assert_eq!(info["egress"].as_str(), Some("networks: 10.0.0.0/8,192.0.2.0/24"));
}

/// Cancel in the page closes the stream; the relay must then stop the probes, not finish them for nobody.
/// A silent TLS peer of our own shows it: the relay's connection to it closes as soon as the client
/// goes, long before the relay's 30 s time limit.
#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn a_client_that_goes_away_stops_the_probes() {
    use tokio::io::AsyncReadExt;
    // An address of the lab's block that no fixture uses, so the lab's egress policy allows it.
    let listener = tokio::net::TcpListener::bind("127.0.2.231:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        if let Ok((mut peer, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            // Read the ClientHello and never answer; a read of 0 bytes is the relay hanging up.
            while let Ok(n) = peer.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
            let _ = closed_tx.send(std::time::Instant::now());
        }
    });
    let relay = start_relay(lab_net(30)).await;
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut response = client
        .post(format!("http://{relay}/api/v1/diagnose"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"mode": "host", "host": "127.0.2.231", "port": port}).to_string())
        .send()
        .await
        .expect("send");
    // Wait until the TLS check is underway, then go away.
    let mut seen = String::new();
    while !seen.contains(r#""id":"tls""#) {
        let chunk = response.chunk().await.expect("chunk").expect("the stream ended early");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let gone = std::time::Instant::now();
    drop(response);
    drop(client);
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), closed_rx)
        .await
        .expect("the relay kept probing after the client went away")
        .expect("the silent peer saw no connection");
    assert!(closed.duration_since(gone) < std::time::Duration::from_secs(10));
}
