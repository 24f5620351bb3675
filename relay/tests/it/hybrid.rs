//! Issue 19: remote moves as Exchange Online makes them. MRS Proxy takes a Windows logon (NTLM with the
//! channel binding) even where Basic is offered, and who answers each path Exchange Online calls without
//! pre-authentication (Exchange, or a device in front), through the CLI and the API.

use crate::common::*;
use crate::exchange::{api, finding_of, remote_move_cli, status, summary};
use migcheck_lab::{ExScenario, LabMailbox};
use migcheck_shared::{Cause, Report, Status, Verdict};

const PREAUTH: [&str; 3] = [
    "preauth.ews_wssecurity",
    "preauth.autodiscover_svc",
    "preauth.autodiscover_wssecurity",
];

/// The same remote move through the CLI (exit code) and the API.
fn cli_and_api(s: ExScenario, mailbox: Option<LabMailbox>) -> (i32, [Report; 2]) {
    let _ = lab().exchange();
    let (code, cli) = remote_move_cli(s, mailbox);
    (code, [cli, api(s, mailbox)])
}

/// A remote move with no mailbox that fails through the CLI (exit code not 0) and the API.
fn failed(s: ExScenario) -> [Report; 2] {
    let (code, reports) = cli_and_api(s, None);
    assert_ne!(code, 0);
    for r in &reports {
        assert_eq!(r.verdict, Verdict::Fail, "{}", pretty(r));
    }
    reports
}

fn fact<'a>(report: &'a Report, id: &str, label: &str) -> &'a str {
    report
        .check(id)
        .and_then(|c| c.evidence.facts.iter().find(|f| f.label == label))
        .map(|f| f.value.as_str())
        .unwrap_or_else(|| panic!("no {label} in {id}: {}", pretty(report)))
}

/// Before: Basic (offered beside NTLM) logged on to MRS Proxy, which Exchange Online never does. Now the
/// logon is NTLM with the channel binding of the certificate, which this host's Extended Protection
/// (`Require` on /EWS) checks; and Exchange itself answers the three WS-Security paths.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn mrs_proxy_takes_an_ntlm_logon_with_the_channel_binding_even_where_basic_is_offered() {
    let s = ExScenario::EpRequire;
    let (code, reports) = cli_and_api(s, Some(LabMailbox::FullAccess));
    assert_eq!(code, 0);
    for report in reports {
        let ctx = pretty(&report);
        assert_eq!(report.verdict, Verdict::Pass, "{ctx}");
        for id in ["mrs.anonymous", "mrs.credentials", "preauth"].iter().chain(&PREAUTH) {
            assert_eq!(status(&report, id), Some(Status::Pass), "{id}: {ctx}");
        }
        let offered: Vec<&str> = report
            .check("mrs.anonymous")
            .map(|c| c.evidence.facts.iter())
            .into_iter()
            .flatten()
            .filter(|f| f.label == "Anonymous answer: www-authenticate")
            .map(|f| f.value.as_str())
            .collect();
        assert_eq!(
            offered,
            ["Negotiate", "NTLM", "Basic realm=\"eprequire.ewslab.test\""],
            "Basic was offered: {ctx}"
        );
        assert!(
            summary(&report, "mrs.credentials")
                .starts_with("Exchange answers the NTLM logon of the migration account with 200 OK (X-FEServer: EX01"),
            "{ctx}"
        );
        assert!(
            fact(&report, "mrs.credentials", "With credentials (NTLM): channel binding")
                .starts_with("tls-server-end-point (SHA-256) of the certificate migcheck got"),
            "{ctx}"
        );
        assert!(
            summary(&report, "preauth.ews_wssecurity").contains("Exchange answered 500 Internal Server Error"),
            "{ctx}"
        );
    }
}

/// Before: "IIS asks for credentials: the path exists.", then Basic logged on through the proxy and MRS
/// Proxy passed as enabled. Now: something in front answered, named with what it sent; no password is
/// sent to MRS Proxy (nothing there takes a Windows logon).
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_proxy_that_pre_authenticates_with_basic_is_something_in_front_of_exchange() {
    let s = ExScenario::PreAuthBasic;
    let host = s.host();
    for report in failed(s) {
        let ctx = pretty(&report);
        assert_eq!(status(&report, "mrs.anonymous"), Some(Status::Fail), "{ctx}");
        assert_eq!(status(&report, "mrs.credentials"), Some(Status::Skip), "{ctx}");
        let words = format!(
            "Something in front of Exchange answered https://{host}/EWS/mrsproxy.svc instead of Exchange: 401 offering only Basic realm=\"{host}\"; Server: nginx; an HTML page \"401 Authorization Required\""
        );
        assert!(summary(&report, "mrs.anonymous").starts_with(&words), "{ctx}");
        assert!(
            summary(&report, "mrs.anonymous").contains("none of Exchange's headers"),
            "{ctx}"
        );
        let (cause, severity, fix) = finding_of(&report, "mrs.anonymous");
        assert_eq!((cause, severity), (Cause::ExternalAccess, Status::Fail), "{ctx}");
        for line in [
            "WITHOUT pre-authentication",
            "/ews/exchange.asmx/wssecurity",
            "/autodiscover/autodiscover.svc/wssecurity",
        ] {
            assert!(fix.contains(line), "{line}: {fix}");
        }
        assert_eq!(
            fact(&report, "mrs.anonymous", "Anonymous answer"),
            "401 Unauthorized",
            "{ctx}"
        );
        for id in PREAUTH {
            assert_eq!(status(&report, id), Some(Status::Fail), "{id}: {ctx}");
        }
    }
}

/// Windows authentication off on /EWS: Exchange itself (its headers) offers Basic alone on MRS Proxy.
/// Before (unit tests only): no lab scenario. Now: MRS Proxy fails with both fixes, the password is not
/// sent there (nothing takes a Windows logon), and who answered is Exchange, not a device.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn windows_authentication_off_on_ews_is_named_with_both_fixes() {
    let s = ExScenario::WindowsAuthOff;
    let host = s.host();
    for report in failed(s) {
        let ctx = pretty(&report);
        assert_eq!(status(&report, "mrs.anonymous"), Some(Status::Fail), "{ctx}");
        assert_eq!(status(&report, "mrs.credentials"), Some(Status::Skip), "{ctx}");
        assert!(
            summary(&report, "mrs.anonymous").starts_with(&format!(
                "MRS Proxy at https://{host}/EWS/mrsproxy.svc offers no Windows authentication (Negotiate or NTLM), only Basic realm=\"{host}\""
            )),
            "{ctx}"
        );
        assert!(
            fact(&report, "mrs.anonymous", "Anonymous answer: answered by").starts_with("Exchange (X-FEServer: EX01"),
            "{ctx}"
        );
        let (cause, severity, fix) = finding_of(&report, "mrs.anonymous");
        assert_eq!((cause, severity), (Cause::ExternalAccess, Status::Fail), "{ctx}");
        assert!(
            fix.contains("-WindowsAuthentication $true") && fix.contains("WITHOUT pre-authentication"),
            "{fix}"
        );
        // Exchange answers the paths called without pre-authentication: nothing in front.
        for id in PREAUTH {
            assert_eq!(status(&report, id), Some(Status::Pass), "{id}: {ctx}");
        }
    }
}

/// Before: a 302 from MRS Proxy was "answers 302 Found without credentials" (info), and the remote move
/// passed MRS Proxy. Now: something in front answered, redirecting to its login page.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_proxy_that_redirects_to_its_login_page_is_something_in_front_of_exchange() {
    let s = ExScenario::PreAuthRedirect;
    let host = s.host();
    for report in failed(s) {
        let ctx = pretty(&report);
        for id in ["mrs.anonymous"].iter().chain(&PREAUTH) {
            assert_eq!(status(&report, id), Some(Status::Fail), "{id}: {ctx}");
            assert!(
                summary(&report, id).contains(&format!(
                    "instead of Exchange: 302 Found redirecting to https://{host}/login/; Server: nginx"
                )),
                "{id}: {ctx}"
            );
        }
        assert_eq!(
            fact(&report, "preauth.autodiscover_svc", "Anonymous answer: location"),
            format!("https://{host}/login/"),
            "{ctx}"
        );
        // One device, one fix: one finding for the four paths, in the tree's order, its sentence naming
        // every path and what the device sent once (it sent the same to all four).
        let fronts: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.summary.starts_with("Something in front of Exchange"))
            .collect();
        assert_eq!(fronts.len(), 1, "{ctx}");
        assert_eq!(
            fronts[0].check_ids,
            ["mrs.anonymous"].iter().chain(&PREAUTH).copied().collect::<Vec<_>>(),
            "{ctx}"
        );
        let urls = [
            "/EWS/Exchange.asmx/wssecurity",
            "/EWS/mrsproxy.svc",
            "/autodiscover/autodiscover.svc",
            "/autodiscover/autodiscover.svc/wssecurity",
        ]
        .map(|path| format!("https://{host}{path}"))
        .join(", ");
        assert!(
            fronts[0].summary.starts_with(&format!(
                "Something in front of Exchange answered {urls} instead of Exchange: 302 Found redirecting to https://{host}/login/; Server: nginx"
            )),
            "{ctx}"
        );
        assert_eq!(
            finding_of(&report, "preauth.ews_wssecurity").0,
            Cause::ExternalAccess,
            "{ctx}"
        );
    }
}

/// The pair behind `lbpair.ewslab.test`: the name's scenario and the two servers' addresses.
fn lb_pair() -> (ExScenario, String, String) {
    let ex = lab().exchange();
    let addr = |s| ex.addr(s).to_string();
    (ExScenario::LbEx01, addr(ExScenario::LbEx01), addr(ExScenario::LbEx02))
}

/// The remote move of the pair's name with `password`, the servers behind it listed.
fn pair_body(password: &str, servers: &str) -> String {
    let s = ExScenario::LbEx01;
    serde_json::json!({
        "mode": "remote_move", "remote_server": s.host(), "user": s.user(), "password": password,
        "servers": servers,
    })
    .to_string()
}

/// Issue 19 point 5: a load-balanced pair behind `lbpair.ewslab.test`, the second with MRS Proxy off.
/// Through the name (which reaches the first) MRS Proxy passes; checked directly (`--servers`), the
/// second stands out, and its finding and fix name it.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn every_server_behind_the_name_is_checked_and_the_one_with_mrs_proxy_off_stands_out() {
    let (s, ex01, ex02) = lb_pair();
    let servers = format!("{ex01},{ex02}");
    let args = [
        "check",
        "--remote-server",
        &s.host(),
        "--user",
        &s.user(),
        "--servers",
        &servers,
    ];
    let (code, cli, _) = cli_report(args.map(String::from).to_vec(), &s.password());
    assert_ne!(code, 0);
    let (api, stream) = api_report(pair_body(&s.password(), &servers));
    assert!(!stream.contains(&s.password()), "the password is in the stream");
    for report in [cli, api] {
        let ctx = pretty(&report);
        assert_eq!(report.verdict, Verdict::Fail, "{ctx}");
        assert_eq!(status(&report, "mrs.credentials"), Some(Status::Pass), "{ctx}");
        for server in [&ex01, &ex02] {
            assert_eq!(
                status(&report, &format!("servers.{server}.tls.name")),
                Some(Status::Pass),
                "{ctx}"
            );
        }
        assert_eq!(
            status(&report, &format!("servers.{ex01}.mrs.credentials")),
            Some(Status::Pass),
            "{ctx}"
        );
        let off = format!("servers.{ex02}.mrs.credentials");
        assert_eq!(status(&report, &off), Some(Status::Fail), "{ctx}");
        // Who answered, from the answer itself: each server's own X-FEServer.
        for (server, fe) in [(&ex01, "EX01"), (&ex02, "EX02")] {
            let id = format!("servers.{server}.mrs.credentials");
            let who = fact(&report, &id, "With credentials (NTLM): x-feserver");
            assert_eq!(who, fe, "{ctx}");
        }
        assert_eq!(
            summary(&report, "servers"),
            format!(
                "The servers behind lbpair.ewslab.test differ: mrs fails on {ex02} and not on {ex01}. A remote move fails whenever the load balancer sends it to a failing server."
            ),
            "{ctx}"
        );
        let lead = format!(
            "MRS Proxy is off on the server at {ex02}, behind lbpair.ewslab.test: MRS Proxy at https://lbpair.ewslab.test/EWS/mrsproxy.svc is disabled"
        );
        assert!(report.headline.starts_with(&lead), "{ctx}");
        let (cause, _, fix) = finding_of(&report, &off);
        assert_eq!(cause, Cause::ExternalAccess);
        assert!(
            fix.contains(&format!(
                "# MRS Proxy is off on {ex02} (checked directly, behind lbpair.ewslab.test)"
            )) && fix.contains("-MRSProxyEnabled $true")
                && fix.contains("iisreset"),
            "{fix}"
        );
    }
}

/// A refused password stops every later logon: the name refuses it, so no server behind it is sent it
/// (each refusal counts toward the account's lockout); the checks that need no password still run.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_refused_password_is_not_tried_on_the_servers_behind_the_name() {
    let (_, ex01, ex02) = lb_pair();
    let (report, _) = api_report(pair_body("Wrong-Passw0rd!", &format!("{ex01}, {ex02}")));
    let ctx = pretty(&report);
    assert_eq!(status(&report, "mrs.credentials"), Some(Status::Fail), "{ctx}");
    // Servers not tried neither fail nor pass: the group says so instead of calling them alike or different.
    assert_eq!(
        summary(&report, "servers"),
        format!(
            "The 2 servers behind lbpair.ewslab.test answer alike. Not sent the password (refused, or a logon cut off, before): {ex01}, {ex02}; only their checks that need none ran."
        ),
        "{ctx}"
    );
    // The servers, not sent the password, add no finding of their own.
    let own = |f: &&migcheck_shared::Finding| f.check_ids.iter().all(|id| id.starts_with("servers."));
    assert_eq!(report.findings.iter().filter(own).count(), 0, "{ctx}");
    for server in [&ex01, &ex02] {
        for id in ["mrs", "ews"] {
            let id = format!("servers.{server}.{id}");
            assert_eq!(status(&report, &id), Some(Status::Skip), "{id}: {ctx}");
            assert!(
                summary(&report, &id).starts_with("Not tried: the password was refused"),
                "{ctx}"
            );
        }
        assert_eq!(
            status(&report, &format!("servers.{server}.tls.name")),
            Some(Status::Pass),
            "{ctx}"
        );
    }
}
