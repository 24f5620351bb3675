//! The page in headless Chromium (tests/browser/*.test.mjs, driven by playwright-core), against a relay
//! on loopback and the lab. Needs the page built and the npm packages installed: `cargo xtask test`
//! does both.
//!
//! A test binary of its own, not a module of `it`: Chromium running the page's tests loads the whole
//! machine, and cargo runs test binaries one after another, so no other test runs beside it.

// The relay's test helpers live with the `it` binary; this binary uses a part of them.
#[allow(dead_code)]
#[path = "it/common.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::*;
use migcheck_lab::relay_process::RelayProcess;
use migcheck_lab::{AdScenario, EX_ZONE, ExScenario, Fixture, LabMailbox, OaScenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the lab: cargo xtask test"]
async fn page_diagnoses_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        root.join("dist/index.html").exists(),
        "the page is not built: run `cargo xtask test` (or `cargo xtask dist`)"
    );
    assert!(
        root.join("tests/browser/node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `cargo xtask test` (or `npm ci` in tests/browser)"
    );
    let healthy = AdScenario::Healthy;
    let oa_host = healthy
        .expected()
        .expr_server
        .expect("the healthy scenario has an Outlook Anywhere host");
    let _ = lab().autodiscover();
    let _ = lab().outlook_anywhere();
    let oa = OaScenario::Healthy;
    let _ = lab().exchange();
    let relay = start_relay(lab_net(3)).await;
    // The lab's CA as a company's internal CA (--ca-file), seen from the internet and from inside.
    let outside = start_relay(lab_net_internal_ca(3).seen_from(migcheck_shared::kb::Vantage::Internet)).await;
    let inside = start_relay(lab_net_internal_ca(3)).await;
    // The lab's CA as a public one, seen from the internet: the hosted relay (issue 19, point 7).
    let hosted = start_relay(lab_net(3).seen_from(migcheck_shared::kb::Vantage::Internet)).await;
    // Where a Hybrid Agent runs (issue 19, point 4): Microsoft's hosts sent to the lab, an internal CA.
    let agent = start_relay(agent_net(None)).await;
    let token = "lab-relay-token-7Qx";
    let token_relay = start_relay_with(
        lab_net(3),
        migcheck_relay::limits::Hosting::new(migcheck_relay::limits::Limits {
            rate_per_minute: 100_000,
            burst: 100_000,
            ..Default::default()
        })
        .with_token(token),
    )
    .await;
    // Issue 23 (tests/browser/compare.test.mjs): a relay "on the internet", where the healthy server's name
    // reaches a reverse proxy that sends /EWS/ and /autodiscover/ to its login page, and a relay inside that
    // compares with it; `migcheck serve` processes, as an operator starts them (killed when dropped).
    let compare_host = ExScenario::Healthy.host();
    let serve = |extra: [String; 2]| {
        let mut args = lab_flags(10);
        args.extend(extra);
        // Waits for the relay's first line: not on the runtime's workers, which serve the other relays.
        tokio::task::block_in_place(|| RelayProcess::start(Path::new(env!("CARGO_BIN_EXE_migcheck")), &args))
    };
    let compare_outside = serve([
        "--resolve".into(),
        format!("{compare_host}:443:{}", lab().exchange().addr(ExScenario::VipPreAuth)),
    ])
    .expect("the relay outside");
    let compare_with = format!("http://{}", compare_outside.addr);
    let compare_inside = serve(["--compare-with".into(), compare_with.clone()]).expect("the relay inside");
    let out = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", "tests/browser/"])
        .current_dir(&root)
        .env("MIGCHECK_URL", format!("http://{relay}/"))
        .env("MIGCHECK_TOKEN_URL", format!("http://{token_relay}/"))
        .env("MIGCHECK_TOKEN", token)
        .env("MIGCHECK_LAB_PORT", lab().port().to_string())
        .env("MIGCHECK_EXPIRED_HOST", lab().fixture(Fixture::Expired).name)
        .env("MIGCHECK_SILENT_HOST", lab().fixture(Fixture::Silent).name)
        .env("MIGCHECK_AD_EMAIL", healthy.email())
        .env("MIGCHECK_AD_USER", healthy.user())
        .env("MIGCHECK_AD_PASSWORD", healthy.password())
        .env("MIGCHECK_AD_OA_HOST", oa_host)
        .env("MIGCHECK_AD_CASES", autodiscover_cases().to_string())
        .env("MIGCHECK_OA_PROXY", oa.proxy_host())
        .env("MIGCHECK_OA_SERVER", oa.exchange_server())
        .env("MIGCHECK_OA_USER", oa.user())
        .env("MIGCHECK_OA_PASSWORD", oa.password())
        .env("MIGCHECK_OA_CASES", outlook_anywhere_cases().to_string())
        .env("MIGCHECK_AD_OA_CASES", own_autodiscover_cases().to_string())
        .env("MIGCHECK_EX_CASES", remote_move_cases().to_string())
        .env("MIGCHECK_EX_HOST", ExScenario::Healthy.host())
        .env("MIGCHECK_EX_MRS_OFF_HOST", ExScenario::MrsDisabled.host())
        .env("MIGCHECK_EX_USER", ExScenario::Healthy.user())
        .env("MIGCHECK_EX_PASSWORD", ExScenario::Healthy.password())
        .env("MIGCHECK_EX_DENIED_MAILBOX", LabMailbox::AccessDenied.address(EX_ZONE))
        .env("MIGCHECK_AGENT_URL", format!("http://{agent}/"))
        .env("MIGCHECK_COMPARE_URL", format!("http://{}/", compare_inside.addr))
        .env("MIGCHECK_COMPARE_WITH", &compare_with)
        .env("MIGCHECK_COMPARE_HOST", &compare_host)
        .env("MIGCHECK_AGENT_NAME", AGENT)
        .env(
            "MIGCHECK_OA_DENIED_MAILBOX",
            LabMailbox::AccessDenied.address(migcheck_lab::OA_ZONE),
        )
        .env(
            "MIGCHECK_CERT_CASES",
            certificate_cases(
                &format!("http://{relay}/"),
                &format!("http://{outside}/"),
                &format!("http://{inside}/"),
                &format!("http://{hosted}/"),
            )
            .to_string(),
        )
        .output()
        .await
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "browser tests failed:\n{text}");
    // node skips a test whose settings are missing; here every one must have run.
    assert!(
        text.contains("skipped 0") && text.contains("pass 44"),
        "not every browser test ran:\n{text}"
    );
}

/// The Autodiscover scenarios of issue 18 as the page must show them: each warns only for the version (the
/// lab plays Exchange 2016, and Exchange 2007 in its scenario); what differs is in the checks.
fn autodiscover_cases() -> serde_json::Value {
    let case = |s: AdScenario, headline: &str, shows: serde_json::Value| {
        serde_json::json!({
            "name": s.to_string(), "email": s.email(), "user": s.user(), "password": s.password(),
            "check": "autodiscover.settings", "status": "pass", "verdict": "warn",
            "headline": headline, "shows": shows,
        })
    };
    let d = |s: AdScenario| s.domain();
    serde_json::json!([
        // MAPI over HTTP off: the second request gets EXCH and EXPR again; no MAPI checks.
        case(
            AdScenario::MapiDisabled,
            "Exchange Server 2016 CU23",
            serde_json::json!([[
                "autodiscover.settings",
                "not offered: the answer has EXCH and EXPR again"
            ]]),
        ),
        // Exchange 2007: EWS at the ASUrl.
        case(
            AdScenario::Exchange2007,
            "Exchange Server 2007 RTM (8.0.647)",
            serde_json::json!([
                [
                    "autodiscover.settings",
                    format!(
                        "https://mail.{}/ews/exchange.asmx (from EXPR ASUrl",
                        d(AdScenario::Exchange2007)
                    )
                ],
                [
                    "ews",
                    format!("https://mail.{}/ews/exchange.asmx", d(AdScenario::Exchange2007))
                ]
            ]),
        ),
        // The SharePoint root's 401 is shown, not believed; both logons are counted.
        case(
            AdScenario::RootSharePoint,
            "Exchange Server 2016 CU23",
            serde_json::json!([
                ["autodiscover.root", "but this is a SharePoint site"],
                [
                    "autodiscover",
                    "2 logons with the migration account's credentials: 1 accepted, 1 refused."
                ]
            ]),
        ),
    ])
}

/// The certificate scenarios of issue 17 as the page must show them: `public` trusts the lab's CA as a
/// public one, `outside` and `inside` as an internal CA, seen from the internet and from inside a network.
fn certificate_cases(public: &str, outside: &str, inside: &str, hosted: &str) -> serde_json::Value {
    let port = lab().port().to_string();
    let case =
        |name: &str, url: &str, fixture: Fixture, check: &str, status: &str, cause: Option<&str>, words: &str| {
            let verdict = if status == "pass" { "pass" } else { status };
            serde_json::json!({
                "name": name, "url": url, "host": fixture.host_name(), "port": port,
                "check": check, "status": status, "verdict": verdict, "cause": cause, "words": words,
            })
        };
    serde_json::json!([
        case(
            "the lab's healthy server",
            public,
            Fixture::Valid,
            "tls.chain",
            "pass",
            None,
            "TLS is fine for Exchange Online"
        ),
        case(
            "an expired cross-root after a valid chain",
            public,
            Fixture::ExpiredCrossRoot,
            "tls.dates",
            "warn",
            Some("certificate"),
            "remove it from the chain the server sends",
        ),
        case(
            "an internal CA seen from the internet",
            outside,
            Fixture::Valid,
            "tls.chain",
            "fail",
            Some("certificate"),
            "Exchange Online trusts only public ones, so it refuses this certificate",
        ),
        case(
            "an internal CA seen from inside a network",
            inside,
            Fixture::Valid,
            "tls.chain",
            "warn",
            Some("certificate"),
            "the certificate the internet sees for mail.contoso.test decides",
        ),
        // Issue 19, point 7: a pass from the hosted relay names the list of Exchange Online's addresses.
        case(
            "the lab's healthy server seen from the hosted relay",
            hosted,
            Fixture::Valid,
            "tls.chain",
            "pass",
            None,
            "\"Microsoft 365 URLs and IP address ranges\", Exchange Online, ID 1"
        ),
    ])
}

/// Every Outlook Anywhere scenario as the page must show it: the deciding check, the verdict, the cause.
fn outlook_anywhere_cases() -> serde_json::Value {
    use OaScenario::*;
    let case = |s: OaScenario, ntlm: bool, password: String, check: &str, status: &str, cause: Option<&str>| {
        serde_json::json!({
            "name": format!("{s:?}{}", if ntlm { " (NTLM)" } else { "" }),
            "proxy": s.proxy_host(), "server": s.exchange_server(),
            "auth": if ntlm { "ntlm" } else { "basic" },
            "user": if ntlm { s.ntlm_user() } else { s.user() },
            "password": password, "check": check, "status": status, "cause": cause,
            "verdict": if cause.is_some() { "fail" } else { "pass" },
        })
    };
    let fail = |s: OaScenario, check: &str, cause: &str| case(s, false, s.password(), check, "fail", Some(cause));
    // A case with the words its finding must show, and its verdict.
    let said = |s: OaScenario, ntlm: bool, check: &str, (status, verdict): (&str, &str), cause: &str, words: &str| {
        let mut c = case(s, ntlm, s.password(), check, status, Some(cause));
        c["words"] = words.into();
        c["verdict"] = verdict.into();
        c
    };
    serde_json::json!([
        case(Healthy, false, Healthy.password(), "oa.bind.6004", "pass", None),
        case(
            Healthy,
            false,
            "Wrong-Passw0rd!".into(),
            "oa.ping",
            "fail",
            Some("permissions")
        ),
        fail(NoBasic, "oa.auth", "external_access"),
        fail(FrontProxy405, "oa.auth", "external_access"),
        fail(Unreachable6ba, "oa.connection", "wrong_server_name"),
        fail(BindRejected, "oa.bind.6001", "wrong_server_name"),
        fail(SilentAfterHeaders, "oa.connection", "network"),
        case(NtlmOnly, true, NtlmOnly.password(), "oa.bind.6001", "pass", None),
        // Issue 17: Extended Protection, and Basic with an umlaut.
        case(
            ExtendedProtection,
            true,
            ExtendedProtection.password(),
            "oa.bind.6001",
            "pass",
            None
        ),
        said(
            ExtendedProtectionBridged,
            false,
            "ews.logon",
            ("warn", "warn"),
            "external_access",
            "accepts the same logon without it: Extended Protection"
        ),
        said(
            ExtendedProtectionBridged,
            true,
            "oa.ping",
            ("fail", "fail"),
            "permissions",
            "If the password is right, Extended Protection may be the reason"
        ),
        said(
            BasicCodePage,
            false,
            "oa.ping",
            ("fail", "fail"),
            "permissions",
            "The password has characters outside ASCII"
        ),
        case(
            BasicUtf8First,
            false,
            BasicUtf8First.password(),
            "oa.bind.6004",
            "pass",
            None
        ),
        // Issue 18: through Microsoft TMG the OUT channel's answer is chunked.
        case(TmgChunked, false, TmgChunked.password(), "oa.bind.6004", "pass", None),
        windows_outlook_anywhere(),
        // Issue 18: a healthy RPC proxy whose publishing passes only /rpc/ and /autodiscover/ (EWS 404).
        serde_json::json!({
            "name": "RpcOnly (EWS not published)", "proxy": ExScenario::RpcOnly.host(),
            "server": ExScenario::RpcOnly.exchange_server(), "auth": "basic", "user": ExScenario::RpcOnly.user(),
            "password": ExScenario::RpcOnly.password(), "mailbox": LabMailbox::FullAccess.address(EX_ZONE),
            "check": "ews.auth", "status": "warn", "cause": "permissions", "verdict": "warn",
            "words": "does not use EWS, so this does not stop it",
        }),
    ])
}

/// The RPC proxies that answer Autodiscover themselves, as the page must show them: CertPrincipalName none is
/// info (mutual authentication off), no CertPrincipalName is its default, compared; both pass.
fn own_autodiscover_cases() -> serde_json::Value {
    let case = |s: OaScenario, status: &str| {
        serde_json::json!({
            "name": format!("{s:?}"), "email": s.autodiscover_email(), "user": s.user(), "password": s.password(),
            "check": "oa.cert_principal", "status": status, "verdict": "pass", "cause": null,
        })
    };
    serde_json::json!([
        case(OaScenario::CertPrincipalNone, "info"),
        case(OaScenario::CertPrincipalDefault, "pass"),
    ])
}

/// Exchange 2016 on Windows Server 2012 R2 (its default Schannel suites, through OpenSSL), with NTLM:
/// every bind passes; the verdict is Exchange 2016's end of support.
fn windows_outlook_anywhere() -> serde_json::Value {
    let w = ExScenario::Windows2012R2;
    serde_json::json!({
        "name": "Windows2012R2 (NTLM)", "proxy": w.host(), "server": format!("ex01.{EX_ZONE}"),
        "auth": "ntlm", "user": w.ntlm_user(), "password": w.password(),
        "check": "oa.bind.6004", "status": "pass", "cause": "unsupported_version", "verdict": "warn",
    })
}

/// Every remote-move scenario (MRS Proxy, the mailbox answers, the version fingerprints) as the page must
/// show it.
fn remote_move_cases() -> serde_json::Value {
    use ExScenario::*;
    let case =
        |s: ExScenario, mailbox: Option<LabMailbox>, check: &str, status: &str, cause: Option<&str>, words: &str| {
            let verdict = match (cause, status) {
                (None, _) => "pass",
                (Some(_), "warn") => "warn",
                _ => "fail",
            };
            serde_json::json!({
                "name": format!("{s:?} {mailbox:?}"), "server": s.host(), "user": s.user(), "password": s.password(),
                "mailbox": mailbox.map(|m| m.address(EX_ZONE)).unwrap_or_default(),
                "check": check, "status": status, "cause": cause, "words": words, "verdict": verdict,
            })
        };
    let version = |s: ExScenario, status: &str, words: &str| {
        let cause = (status != "pass").then_some("unsupported_version");
        case(s, None, "version", status, cause, words)
    };
    // Issue 19 point 5: the servers behind the name, offered by a relay inside the network; the one with
    // MRS Proxy off stands out.
    let addr = |s| lab().exchange().addr(s).to_string();
    let (ex01, ex02) = (addr(LbEx01), addr(LbEx02));
    let lb_pair = serde_json::json!({
        "name": "LbEx01 with the servers behind it", "server": LbEx01.host(), "user": LbEx01.user(),
        "password": LbEx01.password(), "mailbox": "", "servers": format!("{ex01}, {ex02}"),
        "check": format!("servers.{ex02}.mrs.credentials"), "status": "fail", "cause": "external_access",
        "words": format!("MRS Proxy is off on the server at {ex02}"), "verdict": "fail",
    });
    serde_json::json!([
        case(
            Healthy,
            Some(LabMailbox::FullAccess),
            "ews.permission",
            "pass",
            None,
            ""
        ),
        // Issue 19, point 6: a remote move needs no Full Access; the mailbox is found.
        case(
            Healthy,
            Some(LabMailbox::AccessDenied),
            "ews.permission",
            "pass",
            None,
            ""
        ),
        case(
            MrsDisabled,
            None,
            "mrs.credentials",
            "fail",
            Some("external_access"),
            "MRSProxyEnabled"
        ),
        case(
            Healthy,
            Some(LabMailbox::Missing),
            "ews.permission",
            "fail",
            Some("wrong_server_name"),
            "ErrorNonExistentMailbox"
        ),
        // Issue 19: MRS Proxy takes the NTLM logon with the channel binding (Extended Protection Require);
        // a device in front that pre-authenticates (Basic only, or a redirect to its login page) is named.
        case(
            EpRequire,
            Some(LabMailbox::FullAccess),
            "mrs.credentials",
            "pass",
            None,
            ""
        ),
        case(
            PreAuthBasic,
            None,
            "mrs.anonymous",
            "fail",
            Some("external_access"),
            "Something in front of Exchange answered"
        ),
        case(
            PreAuthRedirect,
            None,
            "preauth.ews_wssecurity",
            "fail",
            Some("external_access"),
            "302 Found redirecting to"
        ),
        // Windows authentication off on /EWS: Exchange itself offers Basic alone.
        case(
            WindowsAuthOff,
            None,
            "mrs.anonymous",
            "fail",
            Some("external_access"),
            "-WindowsAuthentication $true"
        ),
        lb_pair,
        version(Exchange2003, "fail", "isn't supported in Office 365"),
        version(Exchange2010, "warn", "Exchange Server 2010 SP3"),
        version(Exchange2016, "warn", "Exchange Server 2016 CU23"),
        version(Exchange2019, "warn", "Exchange Server 2019 CU14"),
        version(Disagree, "warn", "The sources disagree"),
        // A remote move to a host behind a load balancer that re-encrypts: no retry, the hint.
        serde_json::json!({
            "name": "remote move behind a re-encrypting load balancer",
            "server": OaScenario::ExtendedProtectionBridged.proxy_host(),
            "user": OaScenario::ExtendedProtectionBridged.ntlm_user(),
            "password": OaScenario::ExtendedProtectionBridged.password(), "mailbox": "",
            "check": "mrs.credentials", "status": "fail", "cause": "permissions",
            "words": "If the password is right, Extended Protection may be the reason", "verdict": "fail",
        }),
        // Windows servers' TLS (through OpenSSL): the whole remote move passes, the version warns; a
        // server with only DHE suites warns that Exchange Online may not connect.
        windows(
            Windows2012R2,
            "ews.permission",
            "pass",
            "unsupported_version",
            "Exchange Server 2016 CU23"
        ),
        windows(
            Windows2008R2,
            "mrs.credentials",
            "pass",
            "unsupported_version",
            "Exchange Server 2010 SP3"
        ),
        windows(DheOnly, "tls.handshake", "warn", "network", "Microsoft 365 lists"),
        // Issue 18: Exchange 2010 SP3 refuses RequestServerVersion Exchange2013; Exchange2007_SP1 opens
        // the mailbox, and the only finding is the version.
        serde_json::json!({
            "name": "Exchange2010 FullAccess", "server": Exchange2010.host(), "user": Exchange2010.user(),
            "password": Exchange2010.password(), "mailbox": LabMailbox::FullAccess.address(EX_ZONE),
            "check": "ews.permission", "status": "pass", "cause": "unsupported_version",
            "words": "Exchange Server 2010 SP3", "verdict": "warn",
        }),
    ])
}

/// A remote move to a Windows TLS scenario: `check` has `status`, the verdict is warn with a `cause`
/// finding that mentions `words`.
fn windows(s: ExScenario, check: &str, status: &str, cause: &str, words: &str) -> serde_json::Value {
    serde_json::json!({
        "name": format!("{s:?}"), "server": s.host(), "user": s.user(), "password": s.password(),
        "mailbox": LabMailbox::FullAccess.address(EX_ZONE),
        "check": check, "status": status, "cause": cause, "words": words, "verdict": "warn",
    })
}
