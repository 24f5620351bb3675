//! KB step 3 against every Autodiscover scenario of the lab (real nginx, Apache with real NTLM,
//! dnsmasq with SRV records), through the CLI and the API: which candidate gave the settings, what
//! they say, and the finding a user reads when there are none. The expectations come from the lab's
//! own scenario data, which exchangelib 4.9 also meets (tests/lab/tests/autodiscover.rs).

use crate::common::*;
use migcheck_lab::{AdCandidate, AdFailure, AdRedirect, AdScenario};
use migcheck_shared::{Cause, Event, Report, Status, Verdict};

fn cli(s: AdScenario, allow_redirect: bool) -> (i32, Report, String) {
    let _ = lab().autodiscover();
    let mut args: Vec<String> = vec!["check".into(), "--email".into(), s.email(), "--user".into(), s.user()];
    if allow_redirect {
        args.push("--allow-credential-redirect".into());
    }
    cli_report(args, &s.password())
}

fn body(s: AdScenario, allow_redirect: bool) -> String {
    serde_json::json!({
        "mode": "autodiscover", "email": s.email(), "user": s.user(), "password": s.password(),
        "allow_credential_redirect": allow_redirect,
    })
    .to_string()
}

fn candidate_id(c: AdCandidate) -> &'static str {
    match c {
        AdCandidate::RootDomain => "root",
        AdCandidate::AutodiscoverHost => "host",
        AdCandidate::HttpRedirect => "redirect",
        AdCandidate::Srv => "srv",
    }
}

/// What the scenario data says a user must see.
fn assert_scenario(s: AdScenario, report: &Report, how: &str) {
    let want = s.expected();
    let ctx = format!(
        "{s:?} via {how}: {}",
        serde_json::to_string_pretty(report).unwrap_or_default()
    );
    let rounds = 1 + want
        .redirects
        .iter()
        .filter(|r| matches!(r, AdRedirect::Addr(_)))
        .count();
    let parent = if rounds == 1 {
        "autodiscover".to_string()
    } else {
        format!("autodiscover.{rounds}")
    };
    if let Some(candidate) = want.candidate {
        let id = format!("{parent}.{}", candidate_id(candidate));
        let check = report.check(&id).unwrap_or_else(|| panic!("no {id}; {ctx}"));
        assert_eq!(check.status, Status::Pass, "{id}; {ctx}");
        if let Some(url) = &want.settings_url {
            assert!(check.summary.contains(url.as_str()), "{id} should name {url}; {ctx}");
        }
        if let Some(fe) = want.fe_server {
            assert!(
                check
                    .evidence
                    .facts
                    .iter()
                    .any(|f| f.label == "x-feserver" && f.value == fe),
                "X-FEServer {fe}; {ctx}"
            );
        }
        let settings = report
            .check("autodiscover.settings")
            .unwrap_or_else(|| panic!("no settings check; {ctx}"));
        assert_eq!(
            fact(settings, "RPC server (EXCH Server)"),
            want.exch_server.as_deref(),
            "{ctx}"
        );
        assert_eq!(
            fact(settings, "Outlook Anywhere host (EXPR Server)"),
            want.expr_server.as_deref(),
            "{ctx}"
        );
        assert_eq!(
            fact(settings, "CertPrincipalName"),
            want.cert_principal_name.as_deref(),
            "{ctx}"
        );
        assert_eq!(
            fact(settings, "MAPI over HTTP mail store"),
            want.mapi_mailstore_url.as_deref(),
            "{ctx}"
        );
        // Asked again with X-MapiHttpCapability: MAPI over HTTP on (the mapiHttp form) or off.
        let mapi = fact(settings, "MAPI over HTTP (asked with X-MapiHttpCapability: 1)").unwrap_or_default();
        let words = if want.mapi_mailstore_url.is_some() {
            "enabled: a mapiHttp block, and no top-level EXCH or EXPR"
        } else {
            "not offered: the answer has EXCH and EXPR again"
        };
        assert!(mapi.starts_with(words), "{mapi}; {ctx}");
        if let Some(url) = &want.ews_url {
            let shown = fact(settings, "EWS URL").unwrap_or_default();
            assert!(shown.starts_with(url.as_str()), "{shown}; {ctx}");
        }
        if let Some(version) = want.server_version {
            let shown = fact(settings, "Exchange version").unwrap_or_default();
            assert!(shown.ends_with(&format!("(ServerVersion {version})")), "{shown}; {ctx}");
        }
        match &want.expr_server {
            Some(host) => {
                // The lab plays Exchange 2016 (Exchange 2007 in its scenario), past its end of support: the
                // one warning, and nothing else.
                assert_eq!(report.verdict, Verdict::Warn, "{ctx}");
                assert_eq!(
                    report
                        .findings
                        .iter()
                        .map(|f| (f.cause, f.severity))
                        .collect::<Vec<_>>(),
                    [(Cause::UnsupportedVersion, Status::Warn)],
                    "{ctx}"
                );
                let product = if s == AdScenario::Exchange2007 {
                    "Exchange Server 2007 RTM (8.0.647)"
                } else {
                    "Exchange Server 2016 CU23"
                };
                assert!(report.headline.contains(product), "{ctx}");
                for id in ["ews.logon", "ews.permission"] {
                    assert_eq!(report.check(id).map(|c| c.status), Some(Status::Pass), "{id}; {ctx}");
                }
                // EWS at the URL the settings give (an ASUrl for Exchange 2007).
                let ews_url = want.ews_url.as_deref().unwrap_or("(none)");
                assert!(
                    report.check("ews").is_some_and(|c| c.summary.contains(ews_url)),
                    "EWS at {ews_url}; {ctx}"
                );
                assert!(
                    report
                        .check("ews.permission")
                        .is_some_and(|c| c.title.contains(&s.email())),
                    "the e-mail address is the default target mailbox; {ctx}"
                );
                let _ = host;
                assert_eq!(
                    report.check("tls.name").map(|c| c.status),
                    Some(Status::Pass),
                    "the OA host's certificate; {ctx}"
                );
                // KB step 1 through the proxy the settings name, with their CertPrincipalName.
                let principal = want.cert_principal_name.as_ref().map(|_| "oa.cert_principal");
                for id in OA_CHECKS.iter().chain(principal.as_ref()) {
                    assert_eq!(report.check(id).map(|c| c.status), Some(Status::Pass), "{id}; {ctx}");
                }
                // MAPI over HTTP where the answer to X-MapiHttpCapability names it, and nowhere else.
                if want.mapi_mailstore_url.is_some() {
                    for id in ["mapi.emsmdb", "mapi.nspi"] {
                        assert_eq!(report.check(id).map(|c| c.status), Some(Status::Pass), "{id}; {ctx}");
                    }
                } else {
                    assert!(report.check("mapi").is_none(), "{ctx}");
                }
            }
            None => {
                assert_eq!(settings.status, Status::Fail, "{ctx}");
                assert_eq!(
                    report.findings.first().map(|f| f.cause),
                    Some(Cause::ExternalAccess),
                    "{ctx}"
                );
                assert!(report.headline.contains("without an EXPR block"), "{ctx}");
            }
        }
    }
    if let Some(product) = want.root_refuses_as {
        // The root domain's 401 is shown, not believed: the settings decided, and both logons are counted.
        let root = report
            .check("autodiscover.root")
            .unwrap_or_else(|| panic!("no root; {ctx}"));
        assert_eq!(root.status, Status::Info, "{ctx}");
        assert!(
            root.summary.contains(&format!(
                "Refused the credentials (Basic), but this is a {product} site"
            )) && root.summary.contains("not Autodiscover"),
            "{ctx}"
        );
        let parent = report
            .check("autodiscover")
            .unwrap_or_else(|| panic!("no parent; {ctx}"));
        assert!(
            parent
                .summary
                .ends_with("2 logons with the migration account's credentials: 1 accepted, 1 refused."),
            "{ctx}"
        );
        assert!(fact(parent, "Logon 1").is_some_and(|l| l.contains("refused")), "{ctx}");
        assert!(fact(parent, "Logon 2").is_some_and(|l| l.contains("accepted")), "{ctx}");
    }
    match &want.failure {
        None => {}
        Some(AdFailure::Unauthorized { .. }) => {
            assert_eq!(report.verdict, Verdict::Fail, "{ctx}");
            assert_eq!(
                report.findings.first().map(|f| f.cause),
                Some(Cause::Permissions),
                "{ctx}"
            );
            assert!(
                report
                    .headline
                    .contains("refused the migration account's credentials (Basic)"),
                "{ctx}"
            );
        }
        Some(AdFailure::ErrorCode { code, message }) => {
            assert_eq!(
                report.findings.first().map(|f| f.cause),
                Some(Cause::Autodiscover),
                "{ctx}"
            );
            assert!(
                report.headline.contains(&format!("answered error {code}")) && report.headline.contains(message),
                "{ctx}"
            );
        }
        Some(AdFailure::RedirectLoop { .. }) => {
            assert_eq!(
                report.findings.first().map(|f| f.cause),
                Some(Cause::Autodiscover),
                "{ctx}"
            );
            assert!(report.headline.contains("goes in circles"), "{ctx}");
        }
    }
    // The password never reaches the report.
    let json = serde_json::to_string(report).unwrap_or_default();
    assert!(!json.contains(&s.password()), "the password is in the report; {ctx}");
}

fn run_both(s: AdScenario) {
    let allow = s == AdScenario::RedirectAddr;
    let (code, report, text) = cli(s, allow);
    assert_scenario(s, &report, "CLI");
    assert_eq!(
        code,
        if report.verdict == Verdict::Fail { 1 } else { 0 },
        "exit code; {text}"
    );
    assert!(!text.contains(&s.password()), "the password is in the CLI output");

    let (report, stream) = api_report(body(s, allow));
    assert!(!stream.contains(&s.password()), "the password is in the stream");
    assert_scenario(s, &report, "API");
}

macro_rules! scenario_tests {
    ($($name:ident => $scenario:ident),* $(,)?) => {
        $(#[test] #[ignore = "needs the lab: cargo xtask test"] fn $name() { run_both(AdScenario::$scenario); })*
    };
}

scenario_tests! {
    healthy_autodiscover_host_gives_the_settings => Healthy,
    only_the_srv_record_works_lowest_priority_wins => SrvOnly,
    only_the_http_redirect_works => HttpRedirectOnly,
    redirect_addr_restarts_for_the_new_address => RedirectAddr,
    redirect_url_is_followed => RedirectUrl,
    redirect_loop_is_stopped_and_named => RedirectLoop,
    wrong_password_is_a_permissions_finding => WrongPassword,
    ntlm_only_server_is_signed_into_with_ntlm => NtlmOnly,
    error_500_is_explained => Error500,
    error_600_is_explained => Error600,
    no_expr_block_is_an_external_access_finding => NoExpr,
    root_domain_web_site_is_an_expected_skip => RootDomainWebsite,
    hanging_candidate_costs_one_timeout => Hanging,
    windows_2012_r2_suites_through_openssl => Windows2012R2,
    mapi_over_http_off_gives_the_same_settings => MapiDisabled,
    exchange_2007_ews_through_as_url => Exchange2007,
    a_sharepoint_root_refusing_the_credentials_decides_nothing => RootSharePoint,
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn v2_does_not_wait_again_on_hosts_that_autodiscover_waited_out() {
    // The dead root domain and autodiscover.D cost the POX round one deadline; V2 asks only the host
    // that answered, and says why it skipped the others, so the diagnosis pays one deadline, not two.
    let s = AdScenario::Hanging;
    let (_, report, text) = cli(s, false);
    let v2 = report
        .check("autodiscover.v2")
        .unwrap_or_else(|| panic!("no V2 check; {text}"));
    let d = s.domain();
    for host in [d.clone(), format!("autodiscover.{d}")] {
        let asked = fact(v2, &format!("GET https://{host}/autodiscover/autodiscover.json"));
        assert_eq!(
            asked,
            Some(format!("not asked: {host} did not answer the POX request above within the deadline").as_str()),
            "{v2:?}"
        );
    }
    let answered = fact(v2, &format!("GET https://adsrv.{d}/autodiscover/autodiscover.json"));
    assert!(answered.is_some_and(|a| !a.starts_with("not asked")), "{v2:?}");
    // The SRV candidate's anonymous request went at once, but its password waited for the dead
    // candidates before it to end (a client tries them in order): the wait is shown, and the whole round
    // still costs one deadline, not one per dead candidate.
    let ms = |id: &str| report.check(id).map(|c| c.elapsed_ms).unwrap_or_default();
    assert!(ms("autodiscover.root") >= 2000, "{text}");
    assert!(ms("autodiscover") < 4000, "{text}");
    let srv = report.check("autodiscover.srv").expect("srv");
    let post = fact(srv, &format!("POST https://adsrv.{d}/autodiscover/autodiscover.xml")).unwrap_or_default();
    assert!(
        post.contains("for the earlier candidates to end (a client tries them in order); signed in with Basic"),
        "{post}"
    );
}

#[test]
fn every_scenario_has_a_test() {
    assert_eq!(AdScenario::ALL.len(), 17);
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn mapi_over_http_is_asked_after_the_settings_on_the_same_signed_in_connection() {
    let s = AdScenario::Healthy;
    let (_, report, text) = cli(s, false);
    let host = report.check("autodiscover.host").unwrap_or_else(|| panic!("{text}"));
    let url = "POST https://autodiscover.healthy.adlab.test/autodiscover/autodiscover.xml";
    let posts: Vec<&str> = host
        .evidence
        .facts
        .iter()
        .filter(|f| f.label == url)
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(posts.len(), 2, "{host:?}");
    assert!(posts[0].contains("no X-MapiHttpCapability"), "{}", posts[0]);
    assert!(
        posts[1].contains(
            "again with X-MapiHttpCapability: 1 and X-ClientCanHandle: ExHttpInfo, on the same connection (the Basic credentials again): a mapiHttp block"
        ),
        "{}",
        posts[1]
    );
    // One logon, not two: the second request is not counted as one.
    assert_eq!(
        fact(host, "Logons with the credentials"),
        Some(format!("1: {url}: Basic, accepted (200 OK)").as_str())
    );
    // The server saw it so: every request with X-MapiHttpCapability came on a connection whose
    // request just before, without it, had got the settings with the same user.
    let log = std::fs::read_to_string(lab().autodiscover().access_log()).expect("nginx access log");
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" autodiscover.healthy.adlab.test "))
        .collect();
    let conn = |l: &str| {
        l.split(" conn=")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .map(str::to_string)
    };
    let mut asked = 0;
    for (i, l) in lines.iter().enumerate().filter(|(_, l)| l.ends_with(" mapi=1")) {
        asked += 1;
        assert!(l.contains(" 200 \"alice@healthy.adlab.test\" "), "{l}");
        let before = lines[..i]
            .iter()
            .rev()
            .find(|m| conn(m) == conn(l))
            .unwrap_or_else(|| panic!("{l} is the first request of its connection"));
        assert!(
            before.ends_with(" mapi=-") && before.contains(" 200 \"alice@healthy.adlab.test\" "),
            "{before} then {l}"
        );
    }
    assert!(asked > 0, "{log}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_refused_password_is_tried_once_and_every_logon_is_shown() {
    // Exchange refuses the password at autodiscover.D: the candidates after it keep it.
    let s = AdScenario::WrongPassword;
    let (_, report, text) = cli(s, false);
    let parent = report.check("autodiscover").unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        fact(parent, "Logon 1"),
        Some(
            "POST https://autodiscover.wrongpassword.adlab.test/autodiscover/autodiscover.xml: Basic, refused (401 Unauthorized)"
        )
    );
    assert!(fact(parent, "Logon 2").is_none(), "{parent:?}");
    let host = report.check("autodiscover.host").expect("host");
    assert_eq!(
        fact(host, "Refused by"),
        Some("Exchange (X-FEServer: EX01)"),
        "{host:?}"
    );
    for id in ["autodiscover.root", "autodiscover.redirect", "autodiscover.srv"] {
        let c = report.check(id).expect("candidate");
        assert_eq!(fact(c, "Logons with the credentials"), Some("none"), "{id}: {c:?}");
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn credentials_stay_in_the_domain_without_consent() {
    let (code, report, _) = cli(AdScenario::RedirectAddr, false);
    assert_eq!(code, 1);
    let finding = report.findings.first().expect("a finding");
    assert_eq!(finding.cause, Cause::Autodiscover);
    assert!(
        finding
            .summary
            .contains("outside redirectaddr.adlab.test; migcheck did not send your password there"),
        "{}",
        finding.summary
    );
    let stopped = report.check("autodiscover.2.host").expect("round 2, autodiscover host");
    assert!(
        stopped
            .summary
            .contains("stopped: would send your password to autodiscover.newco.adlab.test"),
        "{}",
        stopped.summary
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn root_domain_with_another_certificate_is_labelled_expected() {
    let (_, report, _) = cli(AdScenario::RootDomainWebsite, false);
    let root = report.check("autodiscover.root").expect("root candidate");
    assert_eq!(root.status, Status::Skip);
    assert!(root.summary.starts_with("Expected:"), "{}", root.summary);
    // Its certificate is judged and shown, but it decides nothing: no finding of its own, and the verdict
    // is only the version's warning (the lab plays Exchange 2016).
    let cert = report
        .check("autodiscover.root.cert.1")
        .expect("the root domain's certificate");
    assert_eq!(cert.status, Status::Fail);
    assert!(
        cert.summary
            .contains("does not cover rootwebsite.adlab.test: it names DNS:www.otherdomain.test"),
        "{}",
        cert.summary
    );
    assert_eq!(report.verdict, Verdict::Warn, "{:?}", report.findings);
    assert!(
        report.findings.iter().all(|f| f.cause == Cause::UnsupportedVersion),
        "{:?}",
        report.findings
    );
    let used = report
        .check("autodiscover.host.cert.1")
        .expect("the autodiscover host's certificate");
    assert_eq!(used.status, Status::Pass, "{}", used.summary);
    assert_eq!(used.title, "Certificate of autodiscover.rootwebsite.adlab.test");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn ntlm_reports_the_scheme_it_signed_in_with() {
    let (_, report, _) = cli(AdScenario::NtlmOnly, false);
    let host = report.check("autodiscover.host").expect("host candidate");
    assert!(host.summary.contains("signed in with NTLM"), "{}", host.summary);
    assert!(
        host.evidence
            .facts
            .iter()
            .any(|f| f.label == "WWW-Authenticate" && f.value.contains("NTLM")),
        "{host:?}"
    );
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn candidates_start_together() {
    // Concurrency, structurally: every candidate has started before any of them finishes.
    let _ = lab().autodiscover();
    let relay = start_relay(lab_net(2)).await;
    let (_, events, _) = post_diagnose(relay, body(AdScenario::Hanging, false)).await;
    let position = |pred: &dyn Fn(&Event) -> bool| events.iter().position(|(_, e)| pred(e));
    let last_start = ["root", "host", "redirect", "srv"]
        .iter()
        .map(|c| {
            let id = format!("autodiscover.{c}");
            position(&|e| matches!(e, Event::Started { id: i, .. } if *i == id)).expect("started")
        })
        .max()
        .expect("four");
    let first_finish = position(&|e| matches!(e, Event::Finished { check } if check.id.starts_with("autodiscover.") && check.id.matches('.').count() == 1))
        .expect("a candidate finished");
    assert!(last_start < first_finish, "a candidate finished before all had started");
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn endpoints_named_by_the_settings_are_checked_together() {
    // After the settings: V2, SOAP Autodiscover, the certificate, Outlook Anywhere, MAPI and EWS all start
    // before any ends, so a dead V2 host (or any slow endpoint) costs its own timeout only.
    let _ = lab().autodiscover();
    let relay = start_relay(lab_net(2)).await;
    let (_, events, _) = post_diagnose(relay, body(AdScenario::Healthy, false)).await;
    // (`tls` follows `net`: the certificate check connects first.)
    let top = ["autodiscover.v2", "autodiscover.soap", "net", "oa", "mapi", "ews"];
    let position = |pred: &dyn Fn(&Event) -> bool| events.iter().position(|(_, e)| pred(e));
    let last_start = top
        .iter()
        .map(|id| position(&|e| matches!(e, Event::Started { id: i, .. } if i == id)).expect(id))
        .max()
        .expect("six");
    let first_finish = top
        .iter()
        .filter_map(|id| position(&|e| matches!(e, Event::Finished { check } if check.id == *id)))
        .min()
        .expect("one finished");
    let seen: Vec<String> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Started { id, .. } if top.contains(&id.as_str()) => Some(format!("+{id}")),
            Event::Finished { check } if top.contains(&check.id.as_str()) => Some(format!("-{}", check.id)),
            _ => None,
        })
        .collect();
    assert!(
        last_start < first_finish,
        "an endpoint check ended before all had started: {seen:?}"
    );
    let report = report_of(&events);
    let order: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        order,
        [
            "autodiscover",
            "autodiscover.settings",
            "autodiscover.v2",
            "autodiscover.soap",
            "net",
            "tls",
            "oa",
            "mapi",
            "ews",
            "version"
        ],
        "the report keeps the KB's order"
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn candidates_show_dns_tls_and_the_waterfall() {
    let (_, report, _) = cli(AdScenario::Healthy, false);
    let host = report.check("autodiscover.host").expect("host candidate");
    let post = host
        .evidence
        .facts
        .iter()
        .find(|f| f.label == "POST https://autodiscover.healthy.adlab.test/autodiscover/autodiscover.xml")
        .expect("the POST step");
    assert!(
        post.value.starts_with("DNS 127.") && post.value.contains("TLS 1.3") && post.value.contains("200 OK"),
        "{}",
        post.value
    );
    assert!(post.value.contains("signed in with Basic"), "{}", post.value);
    let phases: Vec<_> = host.timings.iter().map(|t| t.phase).collect();
    use migcheck_shared::Phase::*;
    // The second HTTP exchange is the MAPI over HTTP question, on the same connection: no DNS, TCP or
    // TLS of its own.
    assert_eq!(phases, [Dns, Tcp, Tls, Http, Http], "{:?}", host.timings);
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn autodiscover_v2_is_shown_beside_pox() {
    let (_, report, _) = cli(AdScenario::Healthy, false);
    let v2 = report.check("autodiscover.v2").expect("V2 check");
    assert_eq!(v2.status, Status::Pass, "{v2:?}");
    assert!(
        v2.summary
            .contains("gives the EWS URL https://mail.healthy.adlab.test/EWS/Exchange.asmx"),
        "{}",
        v2.summary
    );
    // Both https candidates were asked; the root domain refuses connections.
    assert!(
        fact(v2, "GET https://healthy.adlab.test/autodiscover/autodiscover.json")
            .is_some_and(|v| v.contains("refused")),
        "{v2:?}"
    );
}
