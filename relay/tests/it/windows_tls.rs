//! Windows servers' TLS: Exchange on Windows Server 2012 R2 and 2008 R2 (TLS 1.2 on) offers no suite
//! rustls speaks with an RSA certificate, so migcheck connects again with OpenSSL, for the certificate
//! check and for every probe behind it (EWS, MRS Proxy, Outlook Anywhere with Basic and NTLM). The lab
//! plays each Windows list with a TLS front (nginx stream) in front of its Exchange (`ExScenario`'s
//! `tls_front`); the front's log counts the handshakes.

use std::time::{Duration, Instant};

use crate::common::*;
use crate::exchange::remote_move_cli;
use migcheck_lab::tls_front::FrontSession;
use migcheck_lab::{EX_ZONE, ExScenario, Fixture, LabMailbox};
use migcheck_shared::{Cause, Check, Report, Status, Verdict};

fn check<'a>(report: &'a Report, id: &str) -> &'a Check {
    report
        .check(id)
        .unwrap_or_else(|| panic!("no {id}: {}", pretty(report)))
}

fn remote_move_body(s: ExScenario) -> String {
    serde_json::json!({
        "mode": "remote_move", "remote_server": s.host(), "user": s.user(), "password": s.password(),
        "target_mailbox": LabMailbox::FullAccess.address(EX_ZONE),
    })
    .to_string()
}

/// The whole remote move passes through OpenSSL: the certificate, EWS with the mailbox, MRS Proxy; the
/// handshake names the version and suite and what Exchange Online makes of it.
fn assert_remote_move_passes(s: ExScenario, report: &Report, version_words: &str) {
    let ctx = format!("{s}: {}", pretty(report));
    for id in [
        "net.tcp",
        "tls.handshake",
        "tls.version",
        "tls.chain",
        "tls.name",
        "mrs.anonymous",
        "mrs.credentials",
        "ews.auth",
        "ews.logon",
        "ews.permission",
    ] {
        assert_eq!(check(report, id).status, Status::Pass, "{id}: {ctx}");
    }
    let handshake = check(report, "tls.handshake");
    assert_eq!(
        handshake.summary,
        "Handshake completed: TLS 1.2, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384. Exchange Online can connect with this suite.",
        "{ctx}"
    );
    assert_eq!(
        fact(handshake, "TLS client"),
        Some("OpenSSL (for suites rustls does not speak)"),
        "{ctx}"
    );
    let first = fact(handshake, "First try (rustls)").unwrap_or_default();
    assert!(first.contains("no TLS parameters in common"), "{ctx}");
    assert_eq!(
        fact(handshake, "Cipher suite"),
        Some("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384")
    );
    let source = fact(handshake, "Exchange Online's suites").unwrap_or_default();
    assert!(source.contains("Technical reference details about encryption"), "{ctx}");
    assert!(
        check(report, "tls.version").summary.starts_with("TLS 1.2 negotiated"),
        "{ctx}"
    );
    // Exchange 2016 and 2010 are past their end of support: that warning is the only finding.
    assert!(check(report, "version").summary.contains(version_words), "{ctx}");
    assert_eq!(report.verdict, Verdict::Warn, "{ctx}");
    assert!(
        report.findings.iter().all(|f| f.cause == Cause::UnsupportedVersion),
        "{ctx}"
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn exchange_2016_on_2012_r2_remote_move_through_cli_and_api() {
    let _ = lab().exchange();
    let s = ExScenario::Windows2012R2;
    let (code, report) = remote_move_cli(s, Some(LabMailbox::FullAccess));
    assert_eq!(code, 0, "{}", pretty(&report));
    assert_remote_move_passes(s, &report, "Exchange Server 2016 CU23");
    let (report, stream) = api_report(remote_move_body(s));
    assert!(!stream.contains(&s.password()));
    assert_remote_move_passes(s, &report, "Exchange Server 2016 CU23");
}

/// The sessions of the front at `s`'s address, once nginx has logged them all (a session is logged
/// when it ends, a moment after the client closed it).
fn sessions_after(s: ExScenario, before: usize) -> Vec<FrontSession> {
    let listen = std::net::SocketAddr::new(lab().exchange().addr(s), 443);
    let mine = || -> Vec<FrontSession> {
        lab()
            .exchange()
            .fronts()
            .sessions()
            .into_iter()
            .filter(|x| x.listen == listen)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = mine().len();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = mine();
        if now.len() == last || Instant::now() > deadline {
            return now.into_iter().skip(before).collect();
        }
        last = now.len();
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn exchange_2010_on_2008_r2_fails_rustls_once_per_diagnosis() {
    let _ = lab().exchange();
    let s = ExScenario::Windows2008R2;
    let listen = std::net::SocketAddr::new(lab().exchange().addr(s), 443);
    let before = lab()
        .exchange()
        .fronts()
        .sessions()
        .iter()
        .filter(|x| x.listen == listen)
        .count();
    let (report, _) = api_report(remote_move_body(s));
    assert_remote_move_passes(s, &report, "Exchange Server 2010 SP3");
    let sessions = sessions_after(s, before);
    let failed = sessions.iter().filter(|x| x.cipher.is_none()).count();
    let completed: Vec<&FrontSession> = sessions.iter().filter(|x| x.cipher.is_some()).collect();
    // rustls fails once (the inspection); every later connection goes to OpenSSL straight away.
    assert_eq!(failed, 1, "{sessions:?}");
    assert!(completed.len() >= 5, "{sessions:?}");
    assert!(
        completed
            .iter()
            .all(|x| x.protocol.as_deref() == Some("TLSv1.2") && x.cipher.as_deref() == Some("ECDHE-RSA-AES256-SHA384")),
        "{sessions:?}"
    );
}

fn outlook_anywhere_body(s: ExScenario, ntlm: bool) -> String {
    serde_json::json!({
        "mode": "outlook_anywhere", "rpc_proxy": s.host(), "exchange_server": format!("ex01.{EX_ZONE}"),
        "auth": if ntlm { "ntlm" } else { "basic" },
        "user": if ntlm { s.ntlm_user() } else { s.user() }, "password": s.password(),
    })
    .to_string()
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn outlook_anywhere_with_basic_and_ntlm_through_the_2012_r2_suites() {
    let _ = lab().exchange();
    let s = ExScenario::Windows2012R2;
    // NTLM through the API: each channel's logon on its own OpenSSL connection.
    let (api, _) = api_report(outlook_anywhere_body(s, true));
    // Basic through the CLI.
    let args = vec![
        "check".into(),
        "--rpc-proxy".into(),
        s.host(),
        "--exchange-server".into(),
        format!("ex01.{EX_ZONE}"),
        "--auth".into(),
        "basic".into(),
        "--user".into(),
        s.user(),
    ];
    let (code, cli, _) = cli_report(args, &s.password());
    assert_eq!(code, 0, "{}", pretty(&cli));
    for report in [api, cli] {
        let ctx = pretty(&report);
        for id in OA_CHECKS.iter().chain(&["tls.handshake", "ews.logon"]) {
            assert_eq!(check(&report, id).status, Status::Pass, "{id}: {ctx}");
        }
        assert_eq!(report.verdict, Verdict::Warn, "Exchange 2016's end of support: {ctx}");
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_server_with_only_dhe_suites_warns_that_exchange_online_may_not_connect() {
    let _ = lab().exchange();
    let s = ExScenario::DheOnly;
    let (code, cli) = remote_move_cli(s, Some(LabMailbox::FullAccess));
    assert_eq!(code, 0, "a warning: {}", pretty(&cli));
    let (api, _) = api_report(remote_move_body(s));
    for report in [cli, api] {
        let ctx = pretty(&report);
        let handshake = check(&report, "tls.handshake");
        assert_eq!(handshake.status, Status::Warn, "{ctx}");
        assert!(
            handshake.summary.starts_with(&format!(
                "{} connects only with TLS_DHE_RSA_WITH_AES_256_GCM_SHA384, which is not one of the cipher suites Microsoft 365 lists",
                s.host()
            )),
            "{ctx}"
        );
        let refused = fact(handshake, "Offered only Exchange Online's suites").unwrap_or_default();
        assert!(refused.contains("no TLS parameters in common"), "{ctx}");
        let finding = report
            .findings
            .iter()
            .find(|f| f.check_ids.iter().any(|c| c == "tls.handshake"))
            .unwrap_or_else(|| panic!("no finding: {ctx}"));
        assert_eq!(
            (finding.cause, finding.severity),
            (Cause::Network, Status::Warn),
            "{ctx}"
        );
        assert!(
            finding
                .fix
                .contains("Enable-TlsCipherSuite -Name TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        );
        // The rest of the diagnosis still runs, through OpenSSL with DHE.
        for id in ["tls.chain", "mrs.credentials", "ews.permission"] {
            assert_eq!(check(&report, id).status, Status::Pass, "{id}: {ctx}");
        }
        assert_eq!(report.verdict, Verdict::Warn, "{ctx}");
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn the_certificate_alone_of_a_2012_r2_server_passes() {
    let _ = lab().exchange();
    let s = ExScenario::Windows2012R2;
    let mut args = vec!["check".into(), "--host".into(), s.host(), "--json".into()];
    args.extend(lab_flags(5));
    let out = migcheck(&args);
    let report: Report = serde_json::from_slice(&out.stdout).expect("a report");
    let ctx = pretty(&report);
    assert_eq!(out.status.code(), Some(0), "{ctx}");
    for id in [
        "tls.handshake",
        "tls.version",
        "tls.chain",
        "tls.dates",
        "tls.name",
        "tls.key",
        "tls.signature",
    ] {
        assert_eq!(check(&report, id).status, Status::Pass, "{id}: {ctx}");
    }
    // The chain OpenSSL captured is the RSA one the front sends.
    let chain = &check(&report, "tls.chain").evidence.certificates;
    assert_eq!(chain.len(), 2, "{ctx}");
    assert_eq!((chain[0].key_type.as_str(), chain[0].key_bits), ("RSA", 2048), "{ctx}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn tls_1_0_only_keeps_its_verdict_after_the_second_try() {
    let (code, report) = cli_check(Fixture::LegacyTls, 5);
    let ctx = pretty(&report);
    assert_eq!(code, 1, "{ctx}");
    let version = check(&report, "tls.version");
    assert_eq!(version.status, Status::Fail, "{ctx}");
    assert!(version.summary.contains("offers nothing newer than TLS 1.1"), "{ctx}");
    let handshake = check(&report, "tls.handshake");
    let second = fact(handshake, "Second try (OpenSSL, TLS 1.2 with Windows' suites)").unwrap_or_default();
    assert!(second.contains("offers nothing newer than TLS 1.1"), "{ctx}");
    assert!(fact(handshake, "Offered TLS 1.0 and 1.1").is_some(), "{ctx}");
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn the_second_client_verifies_the_chain_with_our_roots_and_remembers_the_host() {
    use migcheck_relay::net::{NetError, TlsClient};
    let _ = lab().exchange();
    let host = ExScenario::Windows2012R2.host();
    let net = lab_net(5).for_one_diagnosis();
    let first = net.open_tls(&host, 443).await.expect("OpenSSL connects");
    assert_eq!(first.client, TlsClient::OpenSsl);
    assert_eq!(first.tls_version, Some("TLS 1.2"));
    assert_eq!(
        first.cipher_suite.as_deref(),
        Some("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384")
    );
    // The leaf, for an NTLM channel binding, is the front's (the backend's own) certificate.
    assert!(first.leaf.as_ref().is_some_and(|der| der.len() > 500));
    assert!(net.tls_routes.remembered(&host, first.peer).is_some());
    // Without the lab's root the same server is refused before anything is sent, as rustls refuses it.
    let mut strangers = lab_net(5);
    strangers.trust = std::sync::Arc::new(migcheck_relay::net::TrustStore::load(None).expect("Mozilla's roots"));
    match strangers.open_tls(&host, 443).await {
        Err(NetError::Certificate { reason, .. }) => assert!(reason.contains("UnknownIssuer"), "{reason}"),
        Err(e) => panic!("not a certificate refusal: {e}"),
        Ok(_) => panic!("an unverified chain was accepted"),
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn the_whole_autodiscover_diagnosis_of_a_2012_r2_organisation_passes() {
    use migcheck_lab::AdScenario;
    let _ = lab().autodiscover();
    let s = AdScenario::Windows2012R2;
    let body = serde_json::json!({
        "mode": "autodiscover", "email": s.email(), "user": s.user(), "password": s.password(),
    });
    let (report, _) = api_report(body.to_string());
    let ctx = pretty(&report);
    // Autodiscover (nginx with the 2012 R2 suites), the Outlook Anywhere host's certificate, every
    // Outlook Anywhere step, MAPI over HTTP and EWS (the lab's Exchange behind the 2012 R2 front).
    let ids = [
        "autodiscover.host",
        "autodiscover.settings",
        "tls.handshake",
        "tls.chain",
        "mapi.emsmdb",
        "mapi.nspi",
    ];
    for id in ids
        .iter()
        .chain(OA_CHECKS.iter())
        .chain(&["ews.logon", "ews.permission"])
    {
        assert_eq!(check(&report, id).status, Status::Pass, "{id}: {ctx}");
    }
    assert!(
        check(&report, "tls.handshake")
            .summary
            .contains("TLS 1.2, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384. Exchange Online can connect with this suite."),
        "{ctx}"
    );
    assert_eq!(
        report.verdict,
        Verdict::Warn,
        "Exchange 2016's end of support only: {ctx}"
    );
    assert!(
        report.findings.iter().all(|f| f.cause == Cause::UnsupportedVersion),
        "{ctx}"
    );
}
