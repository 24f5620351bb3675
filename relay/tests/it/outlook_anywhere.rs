//! KB step 1 in the manual mode (`--rpc-proxy --exchange-server --auth`) against the lab's RPC over HTTP
//! proxies, one per scenario, through the CLI and the API: which check fails, with which cause, and
//! what the user reads. NTLM on the lab proxies is checked by pyspnego, a real NTLM implementation.

use crate::common::*;
use migcheck_lab::OaScenario;
use migcheck_shared::{Cause, Report, Status, Verdict};

/// One manual-mode run's inputs.
pub(crate) struct Run {
    pub scenario: OaScenario,
    pub server: String,
    pub auth: &'static str,
    pub user: String,
    pub password: String,
}

pub(crate) fn run(scenario: OaScenario) -> Run {
    Run {
        scenario,
        server: scenario.exchange_server(),
        auth: "basic",
        user: scenario.user(),
        password: scenario.password(),
    }
}

impl Run {
    pub(crate) fn ntlm(mut self) -> Self {
        self.auth = "ntlm";
        self.user = self.scenario.ntlm_user();
        self
    }

    pub(crate) fn body(&self) -> String {
        serde_json::json!({
            "mode": "outlook_anywhere", "rpc_proxy": self.scenario.proxy_host(), "exchange_server": self.server,
            "auth": self.auth, "user": self.user, "password": self.password,
        })
        .to_string()
    }

    pub(crate) fn api(&self) -> Report {
        let _ = lab().outlook_anywhere();
        let (report, stream) = api_report(self.body());
        assert!(!stream.contains(&self.password), "the password is in the stream");
        report
    }

    pub(crate) fn cli(&self) -> (i32, Report, String) {
        let _ = lab().outlook_anywhere();
        let args: Vec<String> = vec![
            "check".into(),
            "--rpc-proxy".into(),
            self.scenario.proxy_host(),
            "--exchange-server".into(),
            self.server.clone(),
            "--auth".into(),
            self.auth.into(),
            "--user".into(),
            self.user.clone(),
        ];
        cli_report(args, &self.password)
    }
}

pub(crate) fn status(report: &Report, id: &str) -> Option<Status> {
    report.check(id).map(|c| c.status)
}

pub(crate) fn pretty(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

pub(crate) fn assert_healthy(report: &Report) {
    let ctx = pretty(report);
    for id in OA_CHECKS {
        assert_eq!(status(report, id), Some(Status::Pass), "{id}: {ctx}");
    }
    assert_eq!(report.verdict, Verdict::Pass, "{ctx}");
    assert!(report.headline.starts_with("Outlook Anywhere works"), "{ctx}");
    let bind = report.check("oa.bind.6001").expect("bind");
    assert!(
        bind.evidence
            .facts
            .iter()
            .any(|f| f.value == "bind_ack (endpoint 6001): accepted"),
        "{ctx}"
    );
    // The proxy's certificate is judged too (KB step 2).
    assert_eq!(status(report, "tls.name"), Some(Status::Pass), "{ctx}");
}

/// The first finding must have this cause and come from this check; returns its summary.
pub(crate) fn first_finding(report: &Report, cause: Cause, check_id: &str) -> String {
    let f = report
        .findings
        .first()
        .unwrap_or_else(|| panic!("no finding: {}", pretty(report)));
    assert_eq!(
        (f.cause, f.check_ids.join(",")),
        (cause, check_id.to_string()),
        "{}",
        pretty(report)
    );
    f.summary.clone()
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn healthy_with_basic_through_cli_and_api() {
    let (code, report, text) = run(OaScenario::Healthy).cli();
    assert_eq!(code, 0, "{text}");
    assert_healthy(&report);
    assert_healthy(&run(OaScenario::Healthy).api());
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn healthy_with_ntlm_shows_what_the_challenge_reveals() {
    let report = run(OaScenario::Healthy).ntlm().api();
    assert_healthy(&report);
    let ping = report.check("oa.ping").expect("ping");
    assert!(
        ping.evidence
            .facts
            .iter()
            .any(|f| f.label == "NTLM: NetBIOS domain" && f.value == migcheck_lab::OA_NTLM_DOMAIN),
        "{}",
        pretty(&report)
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_wrong_password_is_one_rejected_logon_then_nothing() {
    let mut r = run(OaScenario::Healthy);
    r.password = "Wrong-Passw0rd!".into();
    let (code, report, text) = r.cli();
    assert_eq!(code, 1, "{text}");
    let summary = first_finding(&report, Cause::Permissions, "oa.ping");
    assert!(
        summary.contains("rejects the credentials of migadmin@oalab.test"),
        "{summary}"
    );
    assert!(summary.contains("user@domain (UPN)"), "{summary}");
    // No further tries that would count toward a lockout, EWS's included.
    for id in ["oa.logon", "oa.connection", "oa.bind.6001", "ews"] {
        assert_eq!(status(&report, id), Some(Status::Skip), "{id}");
    }
    assert!(report.check("ews.logon").is_none(), "{}", pretty(&report));
    assert!(report.check("version").is_some(), "the version from OWA still");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn an_unknown_server_name_is_the_6ba_answer_explained() {
    let mut r = run(OaScenario::Healthy);
    r.server = format!("nosuch.{}", migcheck_lab::OA_ZONE);
    let report = r.api();
    let ctx = pretty(&report);
    for id in ["oa.auth", "oa.ping", "oa.logon"] {
        assert_eq!(status(&report, id), Some(Status::Pass), "{id}: {ctx}");
    }
    let summary = first_finding(&report, Cause::WrongServerName, "oa.connection");
    assert!(
        summary.contains("cannot reach the RPC server nosuch.oalab.test:6001 (RPC error 0x6ba"),
        "{summary}"
    );
    assert!(summary.contains("mailbox GUID form"), "{summary}");
    let connection = report.check("oa.connection").expect("connection");
    assert!(
        connection
            .evidence
            .facts
            .iter()
            .any(|f| f.value.contains("503 RPC Error: 6ba")),
        "{ctx}"
    );
    assert_eq!(status(&report, "oa.bind.6001"), Some(Status::Skip), "{ctx}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_proxy_that_cannot_reach_the_mailbox_server_answers_6ba() {
    let report = run(OaScenario::Unreachable6ba).api();
    let summary = first_finding(&report, Cause::WrongServerName, "oa.connection");
    assert!(summary.contains("0x6ba"), "{summary}");
    assert_eq!(status(&report, "oa.ping"), Some(Status::Pass));
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn no_basic_on_the_proxy_fails_before_any_password_is_sent() {
    let report = run(OaScenario::NoBasic).api();
    let summary = first_finding(&report, Cause::ExternalAccess, "oa.auth");
    assert!(
        summary.contains("does not offer Basic authentication") && summary.contains("it offers Negotiate"),
        "{summary}"
    );
    // The sentence ends as a sentence (it once ended "... cannot log on. offer Basic.").
    assert!(
        summary.ends_with("Turn on Basic authentication for the /rpc virtual directory."),
        "{summary}"
    );
    let fix = &report.findings[0].fix;
    assert!(
        fix.contains("Set-OutlookAnywhere -ExternalClientAuthenticationMethod Basic"),
        "{fix}"
    );
    for id in &OA_CHECKS[1..] {
        assert_eq!(status(&report, id), Some(Status::Skip), "{id}");
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_front_proxy_that_drops_the_verbs_is_named() {
    let (code, report, text) = run(OaScenario::FrontProxy405).cli();
    assert_eq!(code, 1, "{text}");
    let summary = first_finding(&report, Cause::ExternalAccess, "oa.auth");
    assert!(
        summary.contains("answers RPC_IN_DATA with 405 Method Not Allowed (Allow: GET, HEAD, POST, OPTIONS)")
            && summary.contains("does not pass the RPC over HTTP verbs"),
        "{summary}"
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn each_rejected_bind_is_decoded() {
    let report = run(OaScenario::BindRejected).api();
    let ctx = pretty(&report);
    assert_eq!(status(&report, "oa.connection"), Some(Status::Pass), "{ctx}");
    for (id, words) in [
        ("oa.bind.6001", "provider rejection, abstract syntax not supported"),
        ("oa.bind.6002", "fault 0x1c010003 (unknown interface"),
        ("oa.bind.6004", "bind_nak: local limit exceeded"),
    ] {
        let check = report.check(id).unwrap_or_else(|| panic!("{id}: {ctx}"));
        assert_eq!(check.status, Status::Fail, "{id}: {ctx}");
        assert!(check.summary.contains(words), "{id}: {}", check.summary);
    }
    assert!(
        report.findings.iter().all(|f| f.cause == Cause::WrongServerName),
        "{ctx}"
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_proxy_silent_after_its_headers_ends_as_a_timeout() {
    let report = run(OaScenario::SilentAfterHeaders).api();
    let summary = first_finding(&report, Cause::Network, "oa.connection");
    assert!(
        summary.contains("accepted the channels (200) but then sent nothing for 2 s"),
        "{summary}"
    );
    assert_eq!(status(&report, "oa.logon"), Some(Status::Pass));
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn ntlm_only_fails_basic_and_passes_ntlm() {
    let report = run(OaScenario::NtlmOnly).api();
    let summary = first_finding(&report, Cause::ExternalAccess, "oa.auth");
    assert!(summary.contains("NTLM is offered"), "{summary}");
    assert_healthy(&run(OaScenario::NtlmOnly).ntlm().api());
}

/// Through Microsoft TMG the RPC_OUT_DATA answer is chunked: it used to stop `oa.connection` as "a PDU
/// migcheck cannot read" (cause network); now it is read de-chunked and everything passes.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_chunked_out_channel_through_tmg_is_read_de_chunked() {
    let chunked = |report: &Report| {
        let ctx = pretty(report);
        let connection = report.check("oa.connection").expect("connection");
        assert!(
            connection.summary.contains(
                "The OUT channel's answer came chunked (Transfer-Encoding: chunked), as Microsoft TMG sends it"
            ),
            "{ctx}"
        );
        let logon = report.check("oa.logon").expect("logon");
        assert!(
            logon.evidence.facts.iter().any(|f| f.label == "Endpoint 6004"
                && f.value
                    == "RPC_OUT_DATA answered 200 Success (Transfer-Encoding: chunked, read de-chunked; Via: 1.1 FIREWALL1)"),
            "{ctx}"
        );
    };
    let (code, report, text) = run(OaScenario::TmgChunked).cli();
    assert_eq!(code, 0, "{text}");
    assert_healthy(&report);
    chunked(&report);
    let report = run(OaScenario::TmgChunked).ntlm().api();
    assert_healthy(&report);
    chunked(&report);
}

/// The Autodiscover mode for a scenario host that answers POX Autodiscover for its own domain: the
/// report through the CLI, then through the API.
fn autodiscover(s: OaScenario) -> [Report; 2] {
    let _ = lab().outlook_anywhere();
    let email = s.autodiscover_email().expect("a scenario with its own Autodiscover");
    let args = vec![
        "check".into(),
        "--email".into(),
        email.clone(),
        "--user".into(),
        s.user(),
    ];
    let (code, cli, text) = cli_report(args, &s.password());
    assert_eq!(code, 0, "{text}");
    let body = serde_json::json!({
        "mode": "autodiscover", "email": email, "user": s.user(), "password": s.password(),
        "allow_credential_redirect": false,
    });
    let (api, stream) = api_report(body.to_string());
    assert!(!stream.contains(&s.password()), "the password is in the stream");
    [cli, api]
}

/// What both CertPrincipalName scenarios share: the root-domain candidate answers, the settings name
/// the host as EXPR Server, Outlook Anywhere through it works, the verdict passes.
fn assert_own_autodiscover(s: OaScenario, report: &Report) {
    let ctx = pretty(report);
    assert_eq!(status(report, "autodiscover.root"), Some(Status::Pass), "{ctx}");
    let settings = report.check("autodiscover.settings").expect("settings");
    assert_eq!(
        fact(settings, "Outlook Anywhere host (EXPR Server)"),
        Some(s.proxy_host().as_str()),
        "{ctx}"
    );
    for id in OA_CHECKS {
        assert_eq!(status(report, id), Some(Status::Pass), "{id}: {ctx}");
    }
    assert_eq!(report.verdict, Verdict::Pass, "{ctx}");
    assert!(report.findings.is_empty(), "{ctx}");
}

/// `Set-OutlookProvider EXPR -CertPrincipalName none`: it used to fail as "Mutual Authentication could
/// not be established" (none compared with the certificate's names); now it is mutual authentication off.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn cert_principal_name_none_is_mutual_authentication_off() {
    let s = OaScenario::CertPrincipalNone;
    for report in autodiscover(s) {
        assert_own_autodiscover(s, &report);
        let ctx = pretty(&report);
        let settings = report.check("autodiscover.settings").expect("settings");
        assert_eq!(fact(settings, "CertPrincipalName"), Some("none"), "{ctx}");
        let check = report.check("oa.cert_principal").expect("oa.cert_principal");
        assert_eq!(check.status, Status::Info, "{ctx}");
        assert_eq!(
            check.title, "CertPrincipalName none: mutual authentication off",
            "{ctx}"
        );
        assert!(
            check
                .summary
                .contains("mutual authentication is off, so no principal name is compared"),
            "{ctx}"
        );
    }
}

/// No CertPrincipalName in EXPR (Microsoft's POX example): the default msstd:<EXPR Server>, compared.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn no_cert_principal_name_is_compared_as_its_default() {
    let s = OaScenario::CertPrincipalDefault;
    for report in autodiscover(s) {
        assert_own_autodiscover(s, &report);
        let ctx = pretty(&report);
        let check = report.check("oa.cert_principal").expect("oa.cert_principal");
        assert_eq!(check.status, Status::Pass, "{ctx}");
        assert!(
            check.summary.starts_with(&format!(
                "Autodiscover sets no CertPrincipalName, so clients expect the default msstd:{}",
                s.proxy_host()
            )),
            "{ctx}"
        );
    }
}

#[test]
fn every_scenario_has_a_test() {
    // The last four of issue 17 have theirs in extended_protection.rs.
    assert_eq!(OaScenario::ALL.len(), 14, "add a test for the new scenario");
}

#[test]
fn bad_manual_inputs_name_the_flag_or_field() {
    let out = migcheck(&[
        "check".into(),
        "--rpc-proxy".into(),
        "mail.contoso.com".into(),
        "--exchange-server".into(),
        "alice@contoso.com".into(),
        "--user".into(),
        "u@contoso.com".into(),
        "--password-env".into(),
        "HOME".into(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--exchange-server: before the '@' Exchange expects the mailbox GUID"),
        "{stderr}"
    );
    let out = migcheck(&["check".into(), "--rpc-proxy".into(), "mail.contoso.com".into()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--exchange-server"));

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        // Refused before any probe: no lab needed.
        let relay = start_relay(offline_net()).await;
        let body = serde_json::json!({"mode": "outlook_anywhere", "rpc_proxy": "mail.contoso.com", "exchange_server": "ex01", "user": "u@c.com", "password": "Sekrit-123", "auth": "kerberos"}).to_string();
        let (status, _, text) = post_diagnose(relay, body).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(r#""field":"auth""#), "{text}");
        assert!(!text.contains("Sekrit-123"), "{text}");
    });
}
