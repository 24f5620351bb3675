//! Issue 17, points 2 and 5, through the CLI and the API against the lab: Extended Protection for
//! Authentication (the NTLM channel binding), required on /rpc and /mapi and allowed on /EWS as
//! Exchange 2019 CU14 and later set it, directly and behind a load balancer that re-encrypts with
//! another certificate; and Basic with a password that has an umlaut, decoded by IIS in its code page.
//! The lab's NTLM acceptor is pyspnego, its bindings computed from each host's own certificate.

use crate::common::*;
use crate::outlook_anywhere::{assert_healthy, first_finding, pretty, run, status};
use migcheck_lab::{LabMailbox, OA_NTLM_DOMAIN, OA_ZONE, OaScenario};
use migcheck_relay::net::ntlm::NtlmClient;
use migcheck_shared::{Cause, Report, Status, Verdict};

/// The value of the first fact labelled `label` in a check's evidence.
fn fact(report: &Report, id: &str, label: &str) -> Option<String> {
    report
        .check(id)?
        .evidence
        .facts
        .iter()
        .find(|f| f.label == label)
        .map(|f| f.value.clone())
}

/// No check tried a logon a second time.
fn assert_no_retry(report: &Report) {
    let text = pretty(report);
    assert!(!text.contains("Once more without the channel binding"), "{text}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn require_takes_the_ntlm_logon_bound_to_its_certificate_through_cli_and_api() {
    let r = run(OaScenario::ExtendedProtection).ntlm();
    let (code, cli, text) = r.cli();
    assert_eq!(code, 0, "{text}");
    for report in [cli, r.api()] {
        assert_healthy(&report);
        let ctx = pretty(&report);
        let binding = fact(&report, "oa.ping", "NTLM: channel binding").unwrap_or_else(|| panic!("{ctx}"));
        assert!(
            binding.starts_with("tls-server-end-point (SHA-256) of the certificate migcheck got, thumbprint "),
            "{binding}"
        );
        // EWS offers NTLM only there, and allows the binding: it matches.
        assert_eq!(status(&report, "ews.logon"), Some(Status::Pass), "{ctx}");
        assert!(
            fact(&report, "ews.logon", "With credentials (NTLM): channel binding").is_some(),
            "{ctx}"
        );
        assert_no_retry(&report);
    }
}

/// The NTLM logon as migcheck made it before it sent channel bindings (`NtlmClient` without a
/// certificate: MsvAvChannelBindings sixteen zero bytes, which Windows reads as none), beside the logon
/// it makes now, on the same RPC proxy with Extended Protection required: the old one is refused.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn the_logon_of_the_build_before_channel_bindings_is_refused_where_they_are_required() {
    let _ = lab().outlook_anywhere();
    let s = OaScenario::ExtendedProtection;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let statuses = rt.block_on(async {
        let net = lab_net(3);
        let mut statuses = Vec::new();
        for bound in [false, true] {
            let mut conn = net.open_http(&s.proxy_host(), 443, true).await.expect("connect");
            let mut ntlm = NtlmClient::new("migadmin", OA_NTLM_DOMAIN, &s.password());
            if bound {
                let leaf = conn.leaf.clone().expect("the proxy's certificate");
                ntlm.set_channel_binding_cert(&leaf).expect("bindings");
            }
            let path = format!("/rpc/rpcproxy.dll?{}:6001", s.exchange_server());
            let negotiate = ntlm.negotiate_header();
            let challenge = conn
                .send(&net, "RPC_IN_DATA", &path, &[("authorization", &negotiate)], Vec::new())
                .await
                .expect("NEGOTIATE");
            let (authenticate, _) = ntlm
                .authenticate_header(&challenge.header_values("www-authenticate"))
                .expect("a CHALLENGE");
            let answer = conn
                .send(
                    &net,
                    "RPC_IN_DATA",
                    &path,
                    &[("authorization", &authenticate)],
                    Vec::new(),
                )
                .await
                .expect("AUTHENTICATE");
            statuses.push(answer.status);
        }
        statuses
    });
    assert_eq!(statuses, [401, 200], "before: zeros refused; now: bound, accepted");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn behind_a_load_balancer_with_its_own_certificate_ews_is_shown_to_refuse_the_binding() {
    // Outlook Anywhere with Basic (never bound) proves the password; EWS offers NTLM only.
    let s = OaScenario::ExtendedProtectionBridged;
    let mailbox = LabMailbox::FullAccess.address(OA_ZONE);
    let body = serde_json::json!({
        "mode": "outlook_anywhere", "rpc_proxy": s.proxy_host(), "exchange_server": s.exchange_server(),
        "auth": "basic", "user": s.user(), "password": s.password(), "target_mailbox": mailbox,
    })
    .to_string();
    let _ = lab().outlook_anywhere();
    let (api, stream) = api_report(body);
    assert!(!stream.contains(&s.password()));
    let args: Vec<String> = [
        "check",
        "--rpc-proxy",
        &s.proxy_host(),
        "--exchange-server",
        &s.exchange_server(),
        "--auth",
        "basic",
        "--user",
        &s.user(),
        "--target-mailbox",
        &mailbox,
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let (code, cli, text) = cli_report(args, &s.password());
    assert_eq!(code, 0, "a warning: {text}");
    for report in [api, cli] {
        let ctx = pretty(&report);
        assert_eq!(report.verdict, Verdict::Warn, "{ctx}");
        for id in ["oa.ping", "oa.logon", "oa.bind.6001"] {
            assert_eq!(status(&report, id), Some(Status::Pass), "{id}: {ctx}");
        }
        assert_eq!(status(&report, "ews.logon"), Some(Status::Warn), "{ctx}");
        let finding = report
            .findings
            .iter()
            .find(|f| f.check_ids == ["ews.logon"])
            .unwrap_or_else(|| panic!("{ctx}"));
        assert_eq!(finding.cause, Cause::ExternalAccess, "{ctx}");
        for words in [
            "refuses the NTLM logon of migadmin@oalab.test that carries the TLS channel binding",
            "and accepts the same logon without it: Extended Protection",
            "a load balancer or firewall in front of Exchange ends TLS and re-encrypts with its own certificate",
        ] {
            assert!(finding.summary.contains(words), "{words}: {}", finding.summary);
        }
        assert!(
            finding.fix.contains("bridge\n# with the SAME certificate"),
            "{}",
            finding.fix
        );
        assert!(finding.fix.contains("exchange-extended-protection"), "{}", finding.fix);
        // It names the certificate migcheck got: the load balancer's, as the certificate check shows it.
        let shown = report
            .check("tls.chain")
            .and_then(|c| c.evidence.certificates.first())
            .map(|c| c.thumbprint.clone())
            .unwrap_or_else(|| panic!("{ctx}"));
        assert!(finding.summary.contains(&shown), "{shown}: {}", finding.summary);
        // Both tries are in the evidence, the second once only; the mailbox check used it.
        assert_eq!(
            fact(&report, "ews.logon", "With credentials (NTLM)").as_deref(),
            Some("401 Unauthorized")
        );
        assert_eq!(
            fact(&report, "ews.logon", "Once more without the channel binding (NTLM)").as_deref(),
            Some("200 OK"),
            "{ctx}"
        );
        assert_eq!(
            ctx.matches("\"Once more without the channel binding (NTLM)\"").count(),
            1
        );
        assert_eq!(status(&report, "ews.permission"), Some(Status::Pass), "{ctx}");
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn behind_it_every_ntlm_logon_is_refused_and_none_is_tried_twice_without_proof() {
    let s = OaScenario::ExtendedProtectionBridged;
    let (code, report, text) = run(s).ntlm().cli();
    assert_eq!(code, 1, "{text}");
    let ctx = pretty(&report);
    let summary = first_finding(&report, Cause::Permissions, "oa.ping");
    assert!(
        summary.contains("rejects the credentials of OALAB\\migadmin (NTLM"),
        "{summary}"
    );
    assert!(
        summary.contains("If the password is right, Extended Protection may be the reason"),
        "{summary}"
    );
    assert!(report.findings[0].fix.contains("-ShowExtendedProtection"), "{ctx}");
    for id in ["oa.logon", "oa.connection"] {
        assert_eq!(status(&report, id), Some(Status::Skip), "{id}");
    }
    // Nothing showed the password right: no logon on EWS at all, let alone a second try.
    assert_eq!(status(&report, "ews"), Some(Status::Skip), "{ctx}");
    assert!(report.check("ews.logon").is_none(), "{ctx}");
    assert_no_retry(&report);

    // A remote move to the same host: EWS and MRS Proxy at once, neither may retry.
    let body = serde_json::json!({
        "mode": "remote_move", "remote_server": s.proxy_host(), "user": s.ntlm_user(), "password": s.password(),
    })
    .to_string();
    let (report, _) = api_report(body);
    let ctx = pretty(&report);
    for id in ["ews.logon", "mrs.credentials"] {
        assert_eq!(status(&report, id), Some(Status::Fail), "{id}: {ctx}");
        assert!(
            summary_of(&report, id).contains("(NTLM). If the password is right, Extended Protection"),
            "{ctx}"
        );
    }
    assert_no_retry(&report);
}

fn summary_of(report: &Report, id: &str) -> String {
    report.check(id).map(|c| c.summary.clone()).unwrap_or_default()
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_basic_password_with_an_umlaut_refused_says_why_it_may_be_and_is_not_tried_again() {
    let r = run(OaScenario::BasicCodePage);
    let (code, cli, text) = r.cli();
    assert_eq!(code, 1, "{text}");
    for report in [cli, r.api()] {
        let summary = first_finding(&report, Cause::Permissions, "oa.ping");
        assert!(
            summary.contains("The password has characters outside ASCII: migcheck sends Basic credentials as UTF-8, and IIS may decode them in the server's code page instead"),
            "{summary}"
        );
        assert!(report.findings[0].fix.contains("ASCII characters only"));
        // One refused logon in all: EWS is not tried with the same password.
        for id in ["oa.logon", "oa.connection", "oa.bind.6001", "ews"] {
            assert_eq!(status(&report, id), Some(Status::Skip), "{id}");
        }
    }
    // An IIS that tries UTF-8 first (KB 981280) takes the same password.
    let r = run(OaScenario::BasicUtf8First);
    let (code, cli, text) = r.cli();
    assert_eq!(code, 0, "{text}");
    assert_healthy(&cli);
    assert_healthy(&r.api());
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn an_ascii_password_refused_gets_no_encoding_hint() {
    let mut r = run(OaScenario::Healthy);
    r.password = "Wrong-Passw0rd!".into();
    let report = r.api();
    let summary = first_finding(&report, Cause::Permissions, "oa.ping");
    assert!(
        !summary.contains("ASCII") && !summary.contains("Extended Protection"),
        "{summary}"
    );
}
