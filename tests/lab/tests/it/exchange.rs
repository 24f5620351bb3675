//! Proves the lab's EWS, MRS Proxy and OWA hosts behave as each [`ExScenario`] says: curl (Basic and
//! NTLM) for every answer a migration check reads, and exchangelib (an independent EWS client) opening
//! inboxes on the healthy host.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;

use crate::common::{Reply, run_client};
use migcheck_lab::{AdScenario, ExScenario, Lab, LabMailbox, OA_ZONE, OWA_VERSION, OaScenario};

/// The envelope up to the body, asking for the schema `version`.
fn soap_head(version: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Header><t:RequestServerVersion Version="{version}"/></soap:Header><soap:Body>"#
    )
}

/// The relay's permission check: GetFolder of `inbox`, of `mailbox` or (None) the account's own, for the
/// schema the relay asks for (`Exchange2007_SP1`).
fn get_inbox(mailbox: Option<&str>) -> String {
    get_inbox_as("Exchange2007_SP1", mailbox)
}

/// The same GetFolder for the schema `version`.
fn get_inbox_as(version: &str, mailbox: Option<&str>) -> String {
    let target = mailbox
        .map(|m| format!("<t:Mailbox><t:EmailAddress>{m}</t:EmailAddress></t:Mailbox>"))
        .unwrap_or_default();
    format!(
        "{}<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id=\"inbox\">{target}</t:DistinguishedFolderId></m:FolderIds></m:GetFolder></soap:Body></soap:Envelope>",
        soap_head(version)
    )
}

fn ex(s: ExScenario) -> (String, IpAddr) {
    (s.host(), Lab::shared().exchange().addr(s))
}

/// curl against `host` (resolved to `ip`): `-i`, the lab CA; `auth`: `("basic"|"ntlm", user, password)`.
fn curl(host: &str, ip: IpAddr, auth: Option<(&str, &str, &str)>, args: &[&str]) -> Reply {
    let lab = Lab::shared();
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "--noproxy", "*", "--max-time", "10", "--cacert"])
        .arg(lab.ca_file())
        .arg("--resolve")
        .arg(format!("{host}:443:{ip}"));
    if let Some((scheme, user, password)) = auth {
        // Lab passwords only: an argument is fine here.
        cmd.arg(format!("--{scheme}"))
            .arg("-u")
            .arg(format!("{user}:{password}"));
    }
    cmd.args(args);
    run_client(&mut cmd, None)
}

fn post_soap(host: &str, ip: IpAddr, auth: Option<(&str, &str, &str)>, body: &str) -> Reply {
    let url = format!("https://{host}/EWS/Exchange.asmx");
    let args = [
        "-H",
        "Content-Type: text/xml; charset=utf-8",
        "--data-binary",
        body,
        &url,
    ];
    curl(host, ip, auth, &args)
}

fn basic(s: ExScenario) -> (String, String) {
    (s.user(), s.password())
}

fn attr(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(xml[start..].split('"').next()?.to_string())
}

fn tag(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<m:{name}>"))? + name.len() + 4;
    Some(xml[start..].split('<').next()?.to_string())
}

/// `ServerVersionInfo` as `a.b.c.d`.
fn server_version(xml: &str) -> String {
    let svi = &xml[xml.find("<h:ServerVersionInfo").expect("ServerVersionInfo")..];
    ["MajorVersion", "MinorVersion", "MajorBuildNumber", "MinorBuildNumber"]
        .map(|a| attr(svi, a).unwrap_or_default())
        .join(".")
}

fn challenges(r: &Reply) -> Vec<String> {
    r.headers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("WWW-Authenticate"))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn anonymous_ews_and_mrs_get_the_hosts_challenges() {
    for &s in ExScenario::ALL {
        let (host, ip) = ex(s);
        let ews = post_soap(&host, ip, None, &get_inbox(None));
        let mrs = curl(&host, ip, None, &[&format!("https://{host}/EWS/mrsproxy.svc")]);
        if !s.publishes_web() {
            assert_eq!((ews.status, mrs.status), (404, 404), "{s}: no /EWS at this name");
            continue;
        }
        let realm = format!("Basic realm=\"{host}\"");
        if s.pre_authenticated() {
            // The device in front answers, with none of Exchange's headers.
            for r in [&ews, &mrs] {
                assert_eq!(r.header("Server").as_deref(), Some("nginx"), "{s}: {r:?}");
                assert_eq!(r.header("X-FEServer"), None, "{s}");
                assert_eq!(r.header("X-OWA-Version"), None, "{s}");
                if s == ExScenario::PreAuthBasic {
                    assert_eq!(r.status, 401, "{s}: {r:?}");
                    assert_eq!(challenges(r), [realm.as_str()], "{s}");
                    assert!(
                        r.body.contains("<title>401 Authorization Required</title>"),
                        "{}",
                        r.body
                    );
                } else {
                    assert_eq!(r.status, 302, "{s}: {r:?}");
                    assert_eq!(r.header("Location"), Some(format!("https://{host}/login/")), "{s}");
                }
            }
            continue;
        }
        // Windows authentication off on /EWS: IIS challenges with Basic alone, still Exchange answering.
        let offered: &[&str] = if s == ExScenario::WindowsAuthOff {
            &[realm.as_str()]
        } else {
            &["Negotiate", "NTLM", realm.as_str()]
        };
        for r in [&ews, &mrs] {
            assert_eq!(r.status, 401, "{s}: {r:?}");
            assert_eq!(challenges(r), offered, "{s}");
            assert_eq!(r.header("X-OWA-Version").as_deref(), s.owa_header(), "{s}");
            if s == ExScenario::WindowsAuthOff {
                // Exchange itself answers (its front end's header), not a device in front.
                assert_eq!(r.header("X-FEServer").as_deref(), Some("EX01"), "{s}");
            }
        }
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn get_folder_answers_each_mailbox_with_basic_and_ntlm() {
    let s = ExScenario::Healthy;
    let (host, ip) = ex(s);
    let (user, pw) = basic(s);
    for &m in LabMailbox::ALL {
        let r = post_soap(
            &host,
            ip,
            Some(("basic", &user, &pw)),
            &get_inbox(Some(&m.address("ewslab.test"))),
        );
        assert_eq!(r.status, 200, "{m:?}: {r:?}");
        assert!(
            r.header("Content-Type").unwrap_or_default().starts_with("text/xml"),
            "{r:?}"
        );
        assert_eq!(
            tag(&r.body, "ResponseCode").as_deref(),
            Some(m.response_code()),
            "{m:?}: {}",
            r.body
        );
        let class = if m == LabMailbox::FullAccess {
            "Success"
        } else {
            "Error"
        };
        assert_eq!(attr(&r.body, "ResponseClass").as_deref(), Some(class), "{m:?}");
        assert_eq!(tag(&r.body, "MessageText").as_deref(), m.message_text(), "{m:?}");
        if m != LabMailbox::FullAccess {
            assert!(
                r.body.contains("<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"),
                "{}",
                r.body
            );
        }
    }
    // The account's own inbox, over NTLM (curl's NTLM: EWSLAB\migadmin).
    let r = post_soap(&host, ip, Some(("ntlm", &s.ntlm_user(), &pw)), &get_inbox(None));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(attr(&r.body, "ResponseClass").as_deref(), Some("Success"));
    for t in [
        "<t:DisplayName>Inbox</t:DisplayName>",
        "<t:TotalCount>",
        "<t:ChildFolderCount>",
        "<t:UnreadCount>",
        "<t:FolderId Id=\"",
    ] {
        assert!(r.body.contains(t), "{t}: {}", r.body);
    }
    // A wrong password: 401 again.
    let r = post_soap(&host, ip, Some(("basic", &user, "wrong")), &get_inbox(None));
    assert_eq!(r.status, 401);
    // Not SOAP: a 500 fault, without a SOAP header as Exchange writes faults.
    let r = post_soap(&host, ip, Some(("basic", &user, &pw)), "<not-soap");
    assert_eq!(r.status, 500, "{r:?}");
    assert!(
        r.body.contains("ErrorSchemaValidation") && !r.body.contains("ServerVersionInfo"),
        "{}",
        r.body
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn each_scenario_shows_its_versions() {
    for &s in ExScenario::ALL {
        let (host, ip) = ex(s);
        let (user, pw) = basic(s);
        let auth = Some(("basic", user.as_str(), pw.as_str()));
        if (!s.publishes_web() && s != ExScenario::Exchange2003) || s.redirects_to_login() {
            continue;
        }
        if let Some(build) = s.ews_build() {
            let r = post_soap(&host, ip, auth, &get_inbox(None));
            assert_eq!(r.status, 200, "{s}: {r:?}");
            assert_eq!(server_version(&r.body), build, "{s}");
        }
        let owa = curl(&host, ip, None, &[&format!("https://{host}/owa/")]);
        let Some(path_build) = s.owa_path_build() else {
            // Exchange 2003: IIS 6, /exchange/ behind Basic, the logon form under /exchweb/.
            assert_eq!(owa.status, 404, "{s}");
            let r = curl(&host, ip, None, &[&format!("https://{host}/exchange/")]);
            assert_eq!(r.status, 401);
            assert!(challenges(&r).contains(&format!("Basic realm=\"{host}\"")), "{r:?}");
            let r2 = curl(&host, ip, auth, &[&format!("https://{host}/exchange/")]);
            let logon = curl(
                &host,
                ip,
                None,
                &[&format!("https://{host}/exchweb/bin/auth/owalogon.asp")],
            );
            assert_eq!((r2.status, logon.status), (200, 200));
            assert!(logon.body.contains("/exchweb/img/"), "{}", logon.body);
            for r in [&owa, &r, &r2, &logon] {
                assert_eq!(r.header("Server").as_deref(), Some("Microsoft-IIS/6.0"));
                assert_eq!(r.header("X-Powered-By").as_deref(), Some("ASP.NET"));
                assert_eq!(r.header("X-OWA-Version"), None);
            }
            continue;
        };
        assert_eq!(owa.status, 302, "{s}: {owa:?}");
        let back = format!("https%3a%2f%2f{host}%2fowa%2f");
        let location = format!("https://{host}/owa/auth/logon.aspx?url={back}&reason=0");
        assert_eq!(owa.header("Location"), Some(location), "{s}");
        assert_eq!(owa.header("X-OWA-Version").as_deref(), s.owa_header(), "{s}");
        // One redirect followed: the logon page and its resource paths.
        let page = curl(
            &host,
            ip,
            None,
            &["-L", "--max-redirs", "1", &format!("https://{host}/owa/")],
        );
        assert_eq!(page.status, 200, "{s}");
        let dir = if path_build.starts_with("14.") {
            format!("/owa/{path_build}/themes/")
        } else {
            format!("/owa/auth/{path_build}/themes/resources/favicon.ico")
        };
        assert!(page.body.contains(&dir), "{s}: {dir} in {}", page.body);
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn mrs_proxy_answers_200_when_enabled_and_403_when_not() {
    // Through the Basic pre-authentication of PreAuthBasic too (a valid logon passes on to Exchange).
    for &s in ExScenario::ALL
        .iter()
        .filter(|s| s.publishes_web() && !s.redirects_to_login())
    {
        let (host, ip) = ex(s);
        let (user, pw) = basic(s);
        let url = format!("https://{host}/EWS/mrsproxy.svc");
        for method in ["GET", "POST"] {
            let r = curl(&host, ip, Some(("basic", &user, &pw)), &["-X", method, &url]);
            if s.mrs_enabled() {
                assert_eq!(r.status, 200, "{s} {method}: {r:?}");
                assert!(r.body.contains("<TITLE>MRSProxyService Service</TITLE>"), "{}", r.body);
                assert!(r.body.contains("You have created a service."));
            } else {
                // KB 3063913: 403 after the logon, from Exchange (its headers).
                assert_eq!(r.status, 403, "{s} {method}: {r:?}");
                assert!(r.body.contains("MRS proxy service is disabled"), "{}", r.body);
                if s == ExScenario::WindowsAuthOff {
                    // Exchange itself answers (its front end's header), not a device in front.
                    assert_eq!(r.header("X-FEServer").as_deref(), Some("EX01"), "{s}");
                }
            }
        }
    }
}

/// EpRequire: Extended Protection `Require` on /EWS refuses an NTLM logon without the channel binding
/// (curl's NTLM sends none), so only a client that binds, as Windows does, gets into MRS Proxy.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn mrs_proxy_with_require_refuses_ntlm_without_the_channel_binding() {
    let s = ExScenario::EpRequire;
    let (host, ip) = ex(s);
    let url = format!("https://{host}/EWS/mrsproxy.svc");
    let r = curl(
        &host,
        ip,
        Some(("ntlm", &s.ntlm_user(), &s.password())),
        &["-X", "POST", &url],
    );
    assert_eq!(r.status, 401, "{r:?}");
    // On Healthy (Allow) the same logon gets in.
    let h = ExScenario::Healthy;
    let (host, ip) = ex(h);
    let url = format!("https://{host}/EWS/mrsproxy.svc");
    let r = curl(
        &host,
        ip,
        Some(("ntlm", &h.ntlm_user(), &h.password())),
        &["-X", "POST", &url],
    );
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn outlook_anywhere_and_autodiscover_hosts_serve_ews_too() {
    let lab = Lab::shared();
    // oalab.test: Subscription Edition, that zone's mailboxes.
    let s = OaScenario::Healthy;
    let ip = lab.outlook_anywhere().addr(s);
    let auth = Some(("basic", "migadmin@oalab.test", "Oa-Lab-Passw0rd!"));
    let mailbox = LabMailbox::AccessDenied.address(OA_ZONE);
    let r = post_soap(&s.proxy_host(), ip, auth, &get_inbox(Some(&mailbox)));
    assert_eq!(
        tag(&r.body, "ResponseCode").as_deref(),
        Some("ErrorAccessDenied"),
        "{r:?}"
    );
    assert_eq!(server_version(&r.body), "15.2.2562.17");
    // mail.D of the Autodiscover scenarios (outlook.D in HttpRedirectOnly): 2016 CU23 = OWA_VERSION.
    for a in [AdScenario::Healthy, AdScenario::HttpRedirectOnly] {
        let hosts = lab.autodiscover().hosts(a);
        let front = hosts
            .iter()
            .find(|h| h.role.contains("Outlook Anywhere") || h.role.contains("RPC"))
            .unwrap_or_else(|| panic!("{a}: no Outlook Anywhere host in {hosts:?}"));
        let (user, password) = (a.email(), a.server_password());
        let auth = Some(("basic", user.as_str(), password.as_str()));
        let r = post_soap(&front.name, front.addr, auth, &get_inbox(Some(&a.email())));
        assert_eq!(
            attr(&r.body, "ResponseClass").as_deref(),
            Some("Success"),
            "{a} {}: {r:?}",
            front.name
        );
        assert_eq!(server_version(&r.body), OWA_VERSION);
        assert_eq!(r.header("X-OWA-Version").as_deref(), Some(OWA_VERSION));
    }
}

/// exchangelib 4.9 (Debian python3-exchangelib) opening `mailbox`'s inbox on the healthy host.
fn exchangelib(auth: &str, mailbox: LabMailbox) -> serde_json::Value {
    exchangelib_on(ExScenario::Healthy, auth, mailbox)
}

/// The same on the host of `s`.
fn exchangelib_on(s: ExScenario, auth: &str, mailbox: LabMailbox) -> serde_json::Value {
    let lab = Lab::shared();
    let user = if auth == "ntlm" { s.ntlm_user() } else { s.user() };
    let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers");
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(peers.join("exchangelib_ews.py"))
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
        "apt-get install python3-exchangelib"
    );
    serde_json::from_str(r.body.trim()).unwrap_or_else(|e| panic!("exchangelib: {e}\n{}\n{}", r.body, r.stderr))
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn exchangelib_opens_inboxes_and_names_the_errors() {
    // Four independent runs at once: each is a Python start-up (~1 s).
    let runs = [
        ("basic", LabMailbox::FullAccess),
        ("ntlm", LabMailbox::FullAccess),
        ("basic", LabMailbox::AccessDenied),
        ("basic", LabMailbox::Missing),
    ];
    let handles: Vec<_> = runs
        .iter()
        .map(|&(auth, m)| std::thread::spawn(move || ((auth, m), exchangelib(auth, m))))
        .collect();
    for h in handles {
        let ((auth, m), v) = h.join().expect("exchangelib thread");
        let ops: Vec<&str> = v["requests"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r["operation"].as_str()).collect())
            .unwrap_or_default();
        // exchangelib first guesses the server version with a ConvertId.
        assert_eq!(ops.first(), Some(&"ConvertId"), "{auth} {m:?}: {v}");
        match m {
            LabMailbox::FullAccess => {
                assert_eq!(v["total_count"], 3, "{auth}: {v}");
                assert_eq!(v["unread_count"], 1, "{auth}: {v}");
                assert_eq!(v["build"], "15.2.2562.17", "{auth}: {v}");
            }
            _ => assert_eq!(v["error_type"].as_str(), Some(m.response_code()), "{auth} {m:?}: {v}"),
        }
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn exchange_2010_takes_its_schemas_and_refuses_later_ones_with_a_fault_without_a_header() {
    for s in [ExScenario::Exchange2010, ExScenario::Windows2008R2] {
        let (host, ip) = ex(s);
        let (user, pw) = basic(s);
        let auth = Some(("basic", user.as_str(), pw.as_str()));
        let mailbox = LabMailbox::FullAccess.address("ewslab.test");
        for version in ["Exchange2013", "Exchange2013_SP1", "Exchange2016", "Exchange2019"] {
            let r = post_soap(&host, ip, auth, &get_inbox_as(version, Some(&mailbox)));
            assert_eq!(r.status, 500, "{s} {version}: {r:?}");
            assert!(
                r.header("Content-Type").unwrap_or_default().starts_with("text/xml"),
                "{r:?}"
            );
            for words in [
                ">a:ErrorInvalidServerVersion</faultcode>",
                "<faultstring xml:lang=\"en-US\">The specified server version is invalid.</faultstring>",
                "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>",
            ] {
                assert!(r.body.contains(words), "{s} {version}: {words} in {}", r.body);
            }
            assert!(!r.body.contains("ServerVersionInfo"), "{}", r.body);
        }
        for version in ["Exchange2007_SP1", "Exchange2010", "Exchange2010_SP2"] {
            let r = post_soap(&host, ip, auth, &get_inbox_as(version, Some(&mailbox)));
            assert_eq!(r.status, 200, "{s} {version}: {r:?}");
            assert_eq!(server_version(&r.body), "14.3.513.0", "{s}");
        }
    }
    // Subscription Edition takes Exchange2013 (and the rest).
    let (host, ip) = ex(ExScenario::Healthy);
    let (user, pw) = basic(ExScenario::Healthy);
    let r = post_soap(
        &host,
        ip,
        Some(("basic", &user, &pw)),
        &get_inbox_as("Exchange2013", None),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn exchangelib_steps_down_to_exchange_2010s_schema() {
    let v = exchangelib_on(ExScenario::Exchange2010, "basic", LabMailbox::FullAccess);
    assert_eq!(v["total_count"], 3, "{v}");
    assert_eq!(v["build"], "14.3.513.0", "{v}");
    assert_eq!(v["api_version"], "Exchange2010_SP2", "{v}");
    let requests = v["requests"].as_array().cloned().unwrap_or_default();
    let tried = |version: &str| {
        requests
            .iter()
            .filter(|r| r["version"] == version)
            .map(|r| r["status"].as_u64().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    // exchangelib starts at its newest version and steps down on ErrorInvalidServerVersion.
    assert_eq!(tried("Exchange2013"), [500], "{v}");
    assert!(tried("Exchange2010_SP2").iter().all(|s| *s == 200), "{v}");
    assert!(!tried("Exchange2010_SP2").is_empty(), "{v}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_proxy_publishing_only_rpc_and_autodiscover_answers_its_own_404_elsewhere() {
    let s = ExScenario::RpcOnly;
    let (host, ip) = ex(s);
    let (user, pw) = basic(s);
    let auth = Some(("basic", user.as_str(), pw.as_str()));
    let nginx_404 = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    for r in [
        post_soap(&host, ip, None, &get_inbox(None)),
        post_soap(&host, ip, auth, &get_inbox(None)),
        curl(&host, ip, None, &[&format!("https://{host}/owa/")]),
        curl(&host, ip, auth, &[&format!("https://{host}/EWS/mrsproxy.svc")]),
    ] {
        assert_eq!(r.status, 404, "{r:?}");
        assert_eq!(r.header("Server").as_deref(), Some("nginx"), "{r:?}");
        assert_eq!(r.body, nginx_404, "{r:?}");
        assert_eq!(r.header("X-OWA-Version"), None, "Exchange never saw it: {r:?}");
    }
    // The RPC proxy behind it is healthy: the echo with the credentials.
    let echo = curl(
        &host,
        ip,
        auth,
        &[
            "-X",
            "RPC_IN_DATA",
            &format!("https://{host}/rpc/rpcproxy.dll?{}:6001", s.exchange_server()),
        ],
    );
    assert_eq!(echo.status, 200, "{echo:?}");
    assert_eq!(echo.header("Server").as_deref(), Some("Microsoft-IIS/10.0"), "{echo:?}");
}
