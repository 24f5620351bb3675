//! `migcheck explain` as a user meets it (offline: no lab, no network), and the catalogue the API serves
//! to the page.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::common::*;
use migcheck_shared::{Cause, Finding, Status};

const REPORT_A: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/explain/a-test-migration-server-availability-403.txt"
);
const REPORT_B: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/explain/b-move-report-include-report.txt"
);

/// `migcheck explain ARGS` with `stdin` written to it: exit code, stdout, stderr.
fn explain(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migcheck"))
        .arg("explain")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run migcheck");
    let mut input = child.stdin.take().expect("stdin");
    // The child may stop reading early (a file argument, a refused size): a broken pipe is fine.
    let _ = input.write_all(stdin);
    drop(input);
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_whole_report_is_explained_most_decisive_first() {
    let (code, out, err) = explain(&[REPORT_A], b"");
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "{err}");
    let first = out.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "Recognised: MRS Proxy disabled: 403 Forbidden with scheme 'Negotiate' (external access), and 2 more known messages"
    );
    for words in [
        "1. MRS Proxy disabled: 403 Forbidden with scheme 'Negotiate' [external access; mrs-403-forbidden-negotiate]",
        "   lines 13-15: …s://owa.domain.com/EWS/mrsproxy.svc' failed. Error details: The HTTP request was forbidden",
        "Set-WebServicesVirtualDirectory \"<ServerName>\\EWS (Default Web Site)\" -MRSProxyEnabled $true",
        "2. EAC: The connection to the server could not be completed [external access; connection-to-server-not-completed]",
        "   line 3: Message : The connection to the server 'owa.domain.com' could not be completed.",
        "  hosts: owa.domain.com",
        "  MIGCHECK_PASSWORD='...' migcheck check --remote-server owa.domain.com --user 'DOMAIN\\user' --password-env MIGCHECK_PASSWORD",
    ] {
        assert!(out.contains(words), "{words:?} in\n{out}");
    }
}

#[test]
fn json_has_the_reports_finding_shape() {
    let (code, out, _) = explain(&[REPORT_B, "--json"], b"");
    assert_eq!(code, 0, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["recognised"], true);
    let findings: Vec<Finding> = serde_json::from_value(doc["findings"].clone()).expect("findings");
    let shape: Vec<(Cause, Status, &str)> = findings
        .iter()
        .map(|f| (f.cause, f.severity, f.check_ids[0].as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            (
                Cause::MailboxData,
                Status::Fail,
                "explain.restart-move-corrupt-sync-state"
            ),
            (
                Cause::MailboxData,
                Status::Fail,
                "explain.mrs-internal-error-search-folders"
            ),
            (
                Cause::ExternalAccess,
                Status::Fail,
                "explain.communication-error-transient-will-retry"
            ),
        ]
    );
    assert!(findings[0].fix.contains("Get-MoveRequest"), "{}", findings[0].fix);
    assert_eq!(doc["matches"][0]["spans"][0]["first_line"], 2);
    assert_eq!(doc["matches"][1]["spans"][0]["first_line"], 19);
    assert_eq!(doc["extracted"]["exchange_builds"][0], "14.3.224.1");
    assert_eq!(
        doc["suggested_request"],
        serde_json::Value::Null,
        "placeholders name no server"
    );
    assert_eq!(doc["password_warning"], serde_json::Value::Null);
}

#[test]
fn stdin_is_read_with_a_dash() {
    let text = "RPC_OUT_DATA: bad response from server: [HTTP/1.0 503 RPC Error: 6ba]\r\nfrom webmail.contoso.com\r\n";
    let (code, out, _) = explain(&["-", "--json"], text.as_bytes());
    assert_eq!(code, 0, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["matches"][0]["id"], "rpc-proxy-503-rpc-error-6ba");
    assert_eq!(
        doc["matches"][1]["id"], "rpc-proxy-status-line",
        "the general entry, less decisive"
    );
    assert_eq!(doc["extracted"]["rpc_errors"][0], "6ba");
    assert_eq!(doc["extracted"]["http_statuses"][0], 503);
    assert_eq!(doc["suggested_request"]["mode"], "outlook_anywhere");
    assert_eq!(doc["suggested_request"]["rpc_proxy"], "webmail.contoso.com");
    assert!(
        doc["suggested_command"]
            .as_str()
            .is_some_and(|c| c.contains("--rpc-proxy webmail.contoso.com --exchange-server EXCHANGE-SERVER-FQDN")),
        "{}",
        doc["suggested_command"]
    );
}

/// A stalled move is no connection problem: the CLI says no check is needed instead of offering one,
/// in its words and in `--json`.
#[test]
fn a_stall_says_no_connectivity_check_is_needed() {
    let stall = b"The call to 'https://mail.contoso.com/EWS/mrsproxy.svc'\nError:\nResource 'CiAgeOfLastNotification(System)' is unhealthy and shouldn't be accessed\n";
    let (code, out, err) = explain(&["-"], stall);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("Recognised: Resource 'CiAgeOfLastNotification(System)' is unhealthy (throttling)"),
        "{out}"
    );
    assert!(out.contains("\nCheck it now: No connectivity check is needed"), "{out}");
    assert!(!out.contains("migcheck check --remote-server"), "{out}");
    let (_, json, _) = explain(&["--json", "-"], stall);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(doc["connection_check_needed"], false);
    assert_eq!(doc["suggested_request"], serde_json::Value::Null);
}

#[test]
fn unknown_text_exits_1_and_says_so() {
    let (code, out, _) = explain(&["-"], b"The coffee machine is out of order.\n");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("Not recognised: none of the 70 known messages is in this text."),
        "{out}"
    );
    assert!(out.contains("the text names no server"), "{out}");
    let (code, out, _) = explain(
        &["-", "--json"],
        b"The certificate chain was issued by an authority that is not trusted by the endpoint mapper\n",
    );
    assert_eq!(code, 1, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["recognised"], false);
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(doc["nearest"][0]["id"], "ept-s-not-registered-1753", "{doc}");
}

#[test]
fn a_pasted_password_is_warned_about_and_never_echoed() {
    let text = "PS> Test-MigrationServerAvailability -ExchangeRemoteMove -RemoteServer mail.contoso.com -Password 'Sw0rdfish!'\n\
                The call to 'https://mail.contoso.com/EWS/mrsproxy.svc' failed. Error details: Access is denied.\n\
                Pwd: Sw0rdfish!\n";
    for json in [false, true] {
        let mut args = vec!["-"];
        if json {
            args.push("--json");
        }
        let (code, out, err) = explain(&args, text.as_bytes());
        assert_eq!(code, 0, "{out}");
        assert!(!out.contains("Sw0rdfish") && !err.contains("Sw0rdfish"), "{out}{err}");
        assert!(
            out.contains("Lines 1, 3 seem to hold a password: they were not read and are not shown."),
            "{out}"
        );
        assert!(out.contains("mrs-access-denied"), "{out}");
    }
}

#[test]
fn unreadable_input_and_bad_usage_exit_2() {
    let (code, _, err) = explain(&["/nonexistent/error.txt"], b"");
    assert_eq!(code, 2);
    assert!(
        err.contains("migcheck: explain: cannot read /nonexistent/error.txt"),
        "{err}"
    );
    let (code, _, err) = explain(&["-"], b"caf\xE9 RPC Error: 6ba");
    assert_eq!(code, 2);
    assert!(err.contains("standard input is not text"), "{err}");
    let big = "RPC Error: 6ba\n".repeat(20_000);
    let (code, _, err) = explain(&["-"], big.as_bytes());
    assert_eq!(code, 2);
    assert!(err.contains("is larger than 262144 bytes"), "{err}");
    assert!(!err.contains("6ba"), "the content is never quoted: {err}");
    let (code, _, err) = explain(&[], b"");
    assert_eq!(code, 2);
    assert!(err.contains("FILE|-"), "{err}");
    // What Windows PowerShell's `>` writes: UTF-16 with its byte-order mark.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        "The remote name could not be resolved: 'mail.contoso.com'"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let (code, out, _) = explain(&["-"], &utf16);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("Recognised: "), "{out}");
}

#[tokio::test]
async fn the_api_serves_the_catalogue_for_the_page() {
    let relay = start_relay(offline_net()).await;
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let response = client
        .get(format!("http://{relay}{}", migcheck_shared::CATALOGUE_PATH))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status().as_u16(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(header("cache-control").as_deref(), Some("public, max-age=3600"));
    let catalogue: migcheck_shared::kb::explain::Catalogue =
        serde_json::from_str(&response.text().await.expect("body")).expect("a catalogue");
    assert_eq!(catalogue.entries.len(), 70);
    let entry = catalogue.entry("mrs-401-basic-only").expect("entry");
    assert!(
        entry.source.starts_with("https://learn.microsoft.com/"),
        "{}",
        entry.source
    );
    assert!(!entry.source_quote.is_empty());
    let text = "The HTTP request is unauthorized with client authentication scheme 'Negotiate'. The authentication \
                header received from the server was 'Basic realm=\"mail.contoso.com\"'.";
    let explained = migcheck_shared::kb::explain::explain(&catalogue, text).expect("read");
    assert_eq!(explained.matches[0].id, "mrs-401-basic-only");
    let posted = client
        .post(format!("http://{relay}{}", migcheck_shared::CATALOGUE_PATH))
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status().as_u16(), 405);
}
