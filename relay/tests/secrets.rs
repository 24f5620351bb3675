//! The password, through a whole Autodiscover diagnosis with Basic and one with NTLM, at the most
//! verbose log level: it appears nowhere the relay writes (log, stream), in clear or in Basic's base64.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use base64::Engine;
use common::*;
use migcheck_lab::AdScenario;

#[test]
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
        .expect("address")
        .to_string();
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
        let (status, _, text) = rt.block_on(post_diagnose(addr.parse().expect("socket address"), body.to_string()));
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
