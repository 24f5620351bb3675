//! The lab's SOAP Autodiscover (`/autodiscover/autodiscover.svc`, GetUserSettings) read by an
//! independent client: exchangelib 5 (PyPI, in the lab venv beside impacket), whose Autodiscover is
//! SOAP. It must parse the lab's request side (its own request) and answer side (the settings, the
//! setting errors, InvalidUser) as it parses a real Exchange's.

use std::path::PathBuf;
use std::process::Command;

use crate::common::run_client;
use migcheck_lab::{ExScenario, Lab, LabMailbox};

/// exchangelib 5 asking GetUserSettings of `mailbox` on the host of `s`.
fn exchangelib_soap(s: ExScenario, auth: &str, mailbox: LabMailbox) -> serde_json::Value {
    let lab = Lab::shared();
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/lab-venv/bin/python");
    let python = std::env::var_os("MIGCHECK_LAB_PYTHON").map_or(venv, Into::into);
    let user = if auth == "ntlm" { s.ntlm_user() } else { s.user() };
    let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers");
    let mut cmd = Command::new(python);
    cmd.arg(peers.join("exchangelib_soap.py"))
        .args([
            "--server",
            &s.host(),
            "--addr",
            &lab.exchange().addr(s).to_string(),
            "--ca-file",
        ])
        .arg(lab.ca_file())
        .args([
            "--user",
            &user,
            "--auth",
            auth,
            "--mailbox",
            &mailbox.address("ewslab.test"),
        ]);
    let r = run_client(&mut cmd, Some(&s.password()));
    assert!(
        !r.stderr.contains("No module named 'exchangelib'"),
        "exchangelib 5 is missing from the lab venv: cargo xtask test installs it"
    );
    serde_json::from_str(r.body.trim()).unwrap_or_else(|e| panic!("exchangelib: {e}\n{}\n{}", r.body, r.stderr))
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn exchangelib_5_reads_the_labs_get_user_settings() {
    let runs = [
        (ExScenario::Healthy, "basic", LabMailbox::FullAccess),
        (ExScenario::Healthy, "ntlm", LabMailbox::FullAccess),
        (ExScenario::Exchange2010, "basic", LabMailbox::FullAccess),
        (ExScenario::NoExternalEws, "basic", LabMailbox::FullAccess),
        (ExScenario::Healthy, "basic", LabMailbox::Missing),
    ];
    let handles: Vec<_> = runs
        .iter()
        .map(|&(s, auth, m)| std::thread::spawn(move || ((s, auth, m), exchangelib_soap(s, auth, m))))
        .collect();
    for h in handles {
        let ((s, auth, m), v) = h.join().expect("exchangelib thread");
        let ctx = format!("{s} {auth} {m:?}: {v}");
        assert!(v["exchangelib"].as_str().is_some_and(|x| x.starts_with("5.")), "{ctx}");
        assert_eq!(v["error"], serde_json::Value::Null, "{ctx}");
        let host = s.host();
        let ews = format!("https://{host}/EWS/Exchange.asmx");
        match (s, m) {
            (_, LabMailbox::Missing) => {
                assert_eq!(v["error_code"], "InvalidUser", "{ctx}");
                assert_eq!(v["error_message"], "Invalid user 'nobody@ewslab.test'.", "{ctx}");
            }
            (ExScenario::NoExternalEws, _) => {
                assert_eq!(v["ews_url"], serde_json::Value::Null, "{ctx}");
                assert_eq!(v["user_settings"]["internal_ews_url"], ews.as_str(), "{ctx}");
                assert_eq!(
                    v["user_settings_errors"]["external_ews_url"][0], "SettingIsNotAvailable",
                    "{ctx}"
                );
            }
            _ => {
                assert_eq!(v["ews_url"], ews.as_str(), "{ctx}");
                let (cas, newest) = if s == ExScenario::Exchange2010 {
                    ("14.03.0513.000", "Exchange2010_SP2")
                } else {
                    ("15.02.2562.017", "Exchange2013_SP1")
                };
                assert_eq!(v["user_settings"]["cas_version"], cas, "{ctx}");
                assert_eq!(v["version"], newest, "{ctx}");
            }
        }
    }
}
