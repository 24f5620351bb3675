//! The password, through a whole Autodiscover diagnosis with Basic and one with NTLM, at the most
//! verbose log level: it appears nowhere the relay writes (log, stream), in clear or in Basic's base64.
//! Nor when a request is refused, whatever field it was typed into.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::common::*;
use base64::Engine;
use migcheck_lab::AdScenario;

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn the_password_is_in_no_log_and_no_answer() {
    let _ = lab().autodiscover();
    let mut args = vec!["serve".to_string(), "--listen".into(), "127.0.0.1:0".into()];
    args.extend(lab_flags(3));
    let mut relay = Command::new(env!("CARGO_BIN_EXE_migcheck"))
        .args(&args)
        .env("RUST_LOG", "trace")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start migcheck serve");
    let mut log = BufReader::new(relay.stderr.take().expect("stderr"));
    let (first, addr) = serving_at(&mut log);
    // Drain the log while the diagnoses run: a full pipe would block the relay.
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = log.read_to_string(&mut rest);
        rest
    });
    let mut streams = String::new();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for s in [AdScenario::Healthy, AdScenario::NtlmOnly, AdScenario::WrongPassword] {
        let body =
            serde_json::json!({"mode": "autodiscover", "email": s.email(), "user": s.user(), "password": s.password()});
        let (status, _, text) = rt.block_on(post_diagnose(addr, body.to_string()));
        assert_eq!(status, 200, "{text}");
        streams.push_str(&text);
    }
    let _ = relay.kill();
    let _ = relay.wait();
    let rest = drain.join().expect("log reader");
    let everything = format!("{first}{rest}{streams}");
    assert!(rest.len() > 1000, "the trace log is suspiciously short:\n{rest}");
    for s in [AdScenario::Healthy, AdScenario::NtlmOnly, AdScenario::WrongPassword] {
        let password = s.password();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", s.user()));
        assert!(!everything.contains(&password), "{s:?}: the password was written");
        assert!(
            !everything.contains(&basic),
            "{s:?}: the Basic credentials were written"
        );
    }
    assert!(
        streams.contains("signed in with NTLM") && streams.contains("signed in with Basic"),
        "{streams}"
    );
}

/// Reads `migcheck serve`'s log up to its "serving the page at" line: that line, and the address.
fn serving_at(log: &mut BufReader<std::process::ChildStderr>) -> (String, std::net::SocketAddr) {
    let mut first = String::new();
    while !first.contains("serving the page at http://") {
        first.clear();
        if log.read_line(&mut first).expect("read the log") == 0 {
            panic!("migcheck serve stopped before listening");
        }
    }
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|a| a.parse().ok())
        .expect("address");
    (first, addr)
}

/// `migcheck serve` with an access token and its stderr piped, as when it runs under a service manager
/// or with its log redirected to a file: the address it serves at and the rest of its log, once killed.
struct Served {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    first: String,
    log: BufReader<std::process::ChildStderr>,
}

impl Served {
    fn start(token: &str) -> Served {
        const TOKEN_VAR: &str = "MIGCHECK_TEST_TOKEN";
        // Every request of the test below is refused before any probe: no lab, no network beyond
        // loopback.
        let mut child = Command::new(env!("CARGO_BIN_EXE_migcheck"))
            .args(["serve", "--listen", "127.0.0.1:0", "--token-env", TOKEN_VAR])
            .env(TOKEN_VAR, token)
            .env("RUST_LOG", "info")
            .env_remove("NO_COLOR")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start migcheck serve");
        let mut log = BufReader::new(child.stderr.take().expect("stderr"));
        let (first, addr) = serving_at(&mut log);
        Served {
            child,
            addr,
            first,
            log,
        }
    }

    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut rest = String::new();
        let _ = self.log.read_to_string(&mut rest);
        format!("{}{rest}", self.first)
    }
}

/// A failed assertion must not leave the relay running: it holds the test's output open.
impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_refusal_is_logged_as_what_was_refused_without_the_values_sent() {
    const SECRET: &str = "Hunter2xyz";
    const TOKEN: &str = "c0nsultant-t0ken";
    let served = Served::start(TOKEN);
    let addr = served.addr;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let answers = rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        let mut answers = Vec::new();
        let info = client
            .get(format!("http://{addr}/api/v1/info"))
            .send()
            .await
            .expect("get");
        assert_eq!(info.status().as_u16(), 401);
        for (content_type, body, status) in [
            (
                "application/json",
                serde_json::json!({"mode": "host", "host": "a.test", "password": SECRET}),
                400,
            ),
            (
                "application/json",
                serde_json::json!({"mode": "autodiscover", "email": "adele@contoso.test", "password": "p",
                    "allow_credential_redirect": SECRET}),
                400,
            ),
            (
                "text/plain",
                serde_json::json!({"mode": "autodiscover", "email": "adele@contoso.test", "password": SECRET}),
                415,
            ),
        ] {
            let response = client
                .post(format!("http://{addr}/api/v1/diagnose"))
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("content-type", content_type)
                .body(body.to_string())
                .send()
                .await
                .expect("post");
            assert_eq!(response.status().as_u16(), status, "{body}");
            answers.push(response.text().await.expect("body"));
        }
        answers.join("\n")
    });
    let log = served.stop();
    let everything = format!("{log}{answers}");
    assert!(!everything.contains(SECRET), "a value sent was written:\n{everything}");
    assert!(answers.contains("password: not used in mode 'host'"), "{answers}");
    assert!(answers.contains("must be true or false"), "{answers}");
    let refusals: Vec<&str> = log.lines().filter(|l| l.contains("refused")).collect();
    assert_eq!(refusals.len(), 4, "{log}");
    assert!(
        refusals[0].contains("refused GET /api/v1/info") && refusals[0].contains("access token"),
        "{log}"
    );
    assert!(!log.contains("diagnose request"), "{log}");
    for (line, words) in refusals[1..]
        .iter()
        .zip(["not used in mode", "must be true or false", "must be JSON"])
    {
        assert!(
            line.contains("refused POST /api/v1/diagnose") && line.contains(words),
            "{line}"
        );
    }
    // Piped, not a terminal: no colour codes.
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log that is not a terminal:\n{log:?}"
    );
}
