//! The command line as a user meets it: usage errors name the flag and exit 2, the readable tree.

use crate::common::*;
use migcheck_lab::Fixture;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = migcheck(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_input_names_the_flag_and_exits_2() {
    let (code, _, err) = run(&["check", "--host", "mail contoso.com"]);
    assert_eq!(code, 2);
    assert!(err.contains("--host: a server name cannot contain spaces"), "{err}");
    let (code, _, err) = run(&["check", "--host", "mail.contoso.com", "--port", "70000"]);
    assert_eq!(code, 2);
    assert!(err.contains("--port"), "{err}");
    let (code, _, err) = run(&["check", "--host", "mail.contoso.com", "--ports", "443,0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--ports") && err.contains("1..=65535"), "{err}");
    let (code, _, err) = run(&["serve", "--listen", "localhost:8080"]);
    assert_eq!(code, 2);
    assert!(err.contains("--listen") && err.contains("like 127.0.0.1:8080"), "{err}");
    let (code, _, err) = run(&["check"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs --host"), "{err}");
    let (code, _, err) = run(&["check", "--host", "x.test", "--egress", "10.0.0.0/33"]);
    assert_eq!(code, 2);
    assert!(err.contains("--egress"), "{err}");
    for flag in ["--ca-file", "--public-ca-file"] {
        let (code, _, err) = run(&["check", "--host", "x.test", flag, "/nonexistent.pem"]);
        assert_eq!(code, 2);
        assert!(err.contains(&format!("{flag} /nonexistent.pem")), "{err}");
    }
    let garbage = std::env::temp_dir().join(format!("migcheck-garbage-ca-{}.cer", std::process::id()));
    std::fs::write(&garbage, [0x30, 0x03, 0x02, 0x01, 0x01, 0xff, 0xff]).expect("write");
    let (code, _, err) = run(&["check", "--host", "x.test", "--ca-file", &garbage.to_string_lossy()]);
    let _ = std::fs::remove_file(&garbage);
    assert_eq!(code, 2);
    assert!(
        err.contains("certificate 1 in it is not a well-formed X.509 certificate") && !err.contains("Data("),
        "{err}"
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn json_stays_alone_on_stdout_and_stderr_stays_quiet() {
    let host = lab().fixture(Fixture::Expired).name;
    let port = lab().port().to_string();
    let mut args = vec!["check", "--host", &host, "--port", &port, "--json"];
    let flags = lab_flags(5);
    args.extend(flags.iter().map(String::as_str));
    let (code, out, err) = run(&args);
    assert_eq!(code, 1);
    assert!(serde_json::from_str::<migcheck_shared::Report>(&out).is_ok(), "{out}");
    assert_eq!(err, "", "--json prints nothing else");
    // Every check carries every field of the contract, empty or not, so `jq '.checks[].children[]'` works.
    fn walk(checks: &serde_json::Value) {
        for check in checks.as_array().expect("checks are a list") {
            for key in [
                "id",
                "title",
                "status",
                "summary",
                "evidence",
                "elapsed_ms",
                "timings",
                "kb_step",
            ] {
                assert!(check.get(key).is_some(), "{key} missing in {check}");
            }
            assert!(check["evidence"]["facts"].is_array() && check["evidence"]["certificates"].is_array());
            walk(&check["children"]);
        }
    }
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    walk(&json["checks"]);
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn readable_tree_leads_with_the_verdict_and_the_fix() {
    let host = lab().fixture(Fixture::Expired).name;
    let port = lab().port().to_string();
    let mut args = vec!["check", "--host", &host, "--port", &port];
    let flags = lab_flags(5);
    args.extend(flags.iter().map(String::as_str));
    let (code, out, err) = run(&args);
    assert_eq!(code, 1);
    // While it ran, the tree filled in on stderr, children indented under their parent; not a terminal
    // here, so plain text without colour codes.
    assert!(err.contains("\n    [FAIL] Certificate dates ("), "{err}");
    assert!(err.contains("\n  [FAIL] "), "{err}");
    assert!(
        !err.contains('\x1b') && !out.contains('\x1b'),
        "colour codes outside a terminal"
    );
    let child = err.find("[FAIL] Certificate dates").unwrap_or(usize::MAX);
    let parent = err.rfind("\n  [FAIL] ").unwrap_or(0);
    assert!(child < parent, "a child finishes before its parent:\n{err}");
    assert!(
        out.starts_with("Verdict: FAIL: The certificate of expired.contoso.test expired on"),
        "{out}"
    );
    assert!(
        out.contains("     Fix:\n       # In the Exchange Management Shell: request a new certificate for expired.contoso.test\n       New-ExchangeCertificate -GenerateRequest"),
        "{out}"
    );
    assert!(out.contains("[FAIL] Certificate dates"), "{out}");
    assert!(
        out.contains("certificate 2: O=migcheck Lab, CN=migcheck Lab Issuing CA 1"),
        "{out}"
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn resolve_override_skips_dns() {
    let valid = lab().fixture(Fixture::Valid);
    let port = lab().port().to_string();
    let resolve = format!("mail.contoso.test:{port}:{}", valid.addr);
    let ca = lab().ca_file().display().to_string();
    let egress = lab().egress_cidr();
    // No --dns: the override must answer, or the system resolver would fail on the lab name.
    let (code, out, err) = run(&[
        "check",
        "--host",
        "mail.contoso.test",
        "--port",
        &port,
        "--resolve",
        &resolve,
        "--public-ca-file",
        &ca,
        "--egress",
        &egress,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Answered by: --resolve"), "{out}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn connect_to_reaches_a_forwarded_port_with_the_real_name() {
    let valid = lab().fixture(Fixture::Valid);
    let connect_to = format!("mail.contoso.test:443:{}:{}", valid.addr, lab().port());
    let ca = lab().ca_file().display().to_string();
    let egress = lab().egress_cidr();
    let (code, out, err) = run(&[
        "check",
        "--host",
        "mail.contoso.test",
        "--connect-to",
        &connect_to,
        "--public-ca-file",
        &ca,
        "--egress",
        &egress,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Reach mail.contoso.test:443"), "{out}");
    assert!(
        out.contains(&format!("Connected to {}:{}", valid.addr, lab().port())),
        "{out}"
    );
    assert!(
        out.contains("mail.contoso.test is listed in the certificate's Subject Alternative Names"),
        "{out}"
    );
}

#[test]
fn a_secret_typed_after_its_env_flag_is_not_printed_back() {
    // The first thing a new user tries: the password itself where the variable's name goes.
    let secret = "Hunter2-not-a-variable";
    let (code, out, err) = run(&["check", "--email", "adele@contoso.test", "--password-env", secret]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--password-env takes the name of an environment variable"),
        "{err}"
    );
    assert!(!err.contains(secret) && !out.contains(secret), "{err}");
    let (code, _, err) = run(&["serve", "--listen", "127.0.0.1:0", "--token-env", secret]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--token-env takes the name of an environment variable"),
        "{err}"
    );
    assert!(!err.contains(secret), "{err}");
}

#[test]
fn flags_that_belong_to_another_mode_are_refused() {
    for (args, flag) in [
        (&["check", "--host", "mail.contoso.test", "--user", "bob"][..], "--user"),
        (
            &["check", "--host", "mail.contoso.test", "--password-env", "PW"],
            "--password-env",
        ),
        (
            &[
                "check",
                "--host",
                "mail.contoso.test",
                "--target-mailbox",
                "a@contoso.test",
            ],
            "--target-mailbox",
        ),
        (
            &["check", "--host", "mail.contoso.test", "--exchange-server", "ex01"],
            "--exchange-server",
        ),
        (&["check", "--email", "a@contoso.test", "--auth", "ntlm"], "--auth"),
        (
            &[
                "check",
                "--remote-server",
                "mail.contoso.test",
                "--allow-credential-redirect",
            ],
            "--allow-credential-redirect",
        ),
    ] {
        let (code, _, err) = run(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(
            err.contains("cannot be used with") && err.contains(flag),
            "{args:?}: {err}"
        );
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_reader_that_stops_early_does_not_crash_the_report() {
    // `migcheck check ... | head -1`: the pipe closes before the report is written.
    let host = lab().fixture(Fixture::Expired).name;
    let port = lab().port().to_string();
    let mut args = vec!["check".to_string(), "--host".into(), host, "--port".into(), port];
    args.extend(lab_flags(5));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_migcheck"))
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run migcheck");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the expired certificate's exit code: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_help_shows_an_example_of_every_mode() {
    let (code, out, _) = run(&["check", "--help"]);
    assert_eq!(code, 0);
    let examples = out.split("Examples").nth(1).unwrap_or_default();
    for mode in [
        "check --host ",
        "check --email ",
        "check --rpc-proxy ",
        "check --remote-server ",
    ] {
        assert!(examples.contains(mode), "no example of {mode}: {out}");
    }
}
