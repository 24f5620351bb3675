//! Extended Protection in the lab, proven with clients that are not migcheck: curl's NTLM (NTLMv2 with
//! no MsvAvChannelBindings at all) and Debian's requests-ntlm (with the tls-server-end-point bindings
//! of the certificate it got), against the scenarios of IIS's three `tokenChecking`
//! settings: `None` (Healthy), `Require` (/rpc, /mapi of ExtendedProtection) and `Allow` (its /EWS),
//! directly and behind a load balancer that re-encrypts with another certificate
//! (ExtendedProtectionBridged). And Basic's two decodings, with a password that has an umlaut.

use std::net::IpAddr;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::common::{Reply, run_client};
use migcheck_lab::{Lab, OaScenario};

fn addr(s: OaScenario) -> IpAddr {
    Lab::shared().outlook_anywhere().addr(s)
}

fn url(s: OaScenario, path: &str) -> String {
    format!("https://{}{path}", s.proxy_host())
}

const RPC: &str = "/rpc/rpcproxy.dll?ex01.oalab.test:6001";
const MAPI: &str = "/mapi/emsmdb/?MailboxId=migadmin@oalab.test";
const EWS: &str = "/EWS/Exchange.asmx";

/// curl (`-i`, the lab CA, the host resolved to the scenario's address).
fn curl(s: OaScenario, args: &[&str]) -> Reply {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "--noproxy", "*", "--max-time", "5", "--cacert"])
        .arg(Lab::shared().ca_file())
        .arg("--resolve")
        .arg(format!("{}:443:{}", s.proxy_host(), addr(s)))
        .args(args);
    run_client(&mut cmd, None)
}

/// curl's NTLM: an NTLMv2 AUTHENTICATE with no MsvAvChannelBindings (curl computes none).
fn curl_ntlm(s: OaScenario, method: &str, path: &str) -> Reply {
    let login = format!("{}:{}", s.ntlm_user(), s.password());
    curl(s, &["--ntlm", "-u", &login, "-X", method, &url(s, path)])
}

/// Debian's requests-ntlm (what exchangelib uses) POSTing to `path`, with the channel bindings of the
/// certificate it got (its default, `send_cbt`).
fn requests_ntlm(s: OaScenario, path: &str) -> Reply {
    let peers = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peers");
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(peers.join("ntlm_post.py"))
        .arg(url(s, path))
        .arg(addr(s).to_string())
        .arg(Lab::shared().ca_file())
        .arg(s.ntlm_user());
    let r = run_client(&mut cmd, Some(&s.password()));
    assert_eq!(
        r.exit, 0,
        "python3 requests-ntlm failed (Debian: python3-requests-ntlm): {}",
        r.stderr
    );
    r
}

fn helper_log() -> String {
    let dir = Lab::shared().outlook_anywhere().dir().to_path_buf();
    std::fs::read_to_string(dir.join("ntlm-helper.log")).unwrap_or_default()
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn require_refuses_ntlm_without_bindings_allow_and_none_take_it() {
    let ep = OaScenario::ExtendedProtection;
    let refused = curl_ntlm(ep, "RPC_IN_DATA", RPC);
    assert_eq!(refused.status, 401, "/rpc Require, no bindings: {refused:?}");
    // The same client where IIS checks nothing, and where it checks only bindings that are sent.
    let none = curl_ntlm(OaScenario::Healthy, "RPC_IN_DATA", RPC);
    assert_eq!(none.status, 200, "/rpc None: {none:?}");
    let allow = curl_ntlm(ep, "POST", EWS);
    assert_ne!(allow.status, 401, "/EWS Allow, no bindings: {allow:?}");
    // Basic is not Windows authentication: Extended Protection does not apply to it.
    let login = format!("{}:{}", ep.user(), ep.password());
    let basic = curl(ep, &["--basic", "-u", &login, "-X", "RPC_IN_DATA", &url(ep, RPC)]);
    assert_eq!(basic.status, 200, "{basic:?}");
    // EWS offers no Basic there (Exchange 2019's EWS front end).
    let anonymous = curl(ep, &["-X", "POST", &url(ep, EWS)]);
    assert!(!anonymous.headers.contains("Basic realm"), "{anonymous:?}");
    assert!(
        helper_log().contains("require eprequire.oalab.test FAIL ValueError: GSS_S_BAD_BINDINGS"),
        "{}",
        helper_log()
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn requests_ntlm_gets_through_require_with_its_bindings_and_not_behind_a_re_encrypting_front() {
    let ep = OaScenario::ExtendedProtection;
    // Bindings computed by requests-ntlm (RFC 5929 from the certificate it got), checked by the lab's
    // acceptor against the host's own certificate: they match where TLS ends on Exchange.
    let bound = requests_ntlm(ep, MAPI);
    // Past the logon: the MAPI endpoint itself answers (X-ResponseCode 7, "missing header": no PING
    // headers in this POST).
    assert_eq!(bound.status, 200, "/mapi Require with bindings: {bound:?}");
    assert_eq!(bound.header("X-ResponseCode").as_deref(), Some("7"));
    assert_ne!(requests_ntlm(ep, EWS).status, 401, "/EWS Allow with bindings");
    assert_eq!(curl_ntlm(ep, "POST", MAPI).status, 401, "/mapi Require without");

    // Behind the load balancer the client binds to the load balancer's certificate.
    let bridged = OaScenario::ExtendedProtectionBridged;
    assert_eq!(
        requests_ntlm(bridged, MAPI).status,
        401,
        "/mapi Require, other certificate"
    );
    assert_eq!(
        requests_ntlm(bridged, EWS).status,
        401,
        "/EWS Allow refuses a wrong binding"
    );
    assert_ne!(
        curl_ntlm(bridged, "POST", EWS).status,
        401,
        "/EWS Allow takes no binding"
    );
    assert_eq!(
        curl_ntlm(bridged, "POST", MAPI).status,
        401,
        "/mapi Require refuses none"
    );
    assert!(
        helper_log().contains("allow epbridged.oalab.test FAIL BadBindingsError"),
        "{}",
        helper_log()
    );
    // Every one of those went through the load balancer, which presents its own certificate.
    let served = |all: &[migcheck_lab::tls_front::FrontSession]| all.iter().filter(|f| f.status == 200).count() >= 4;
    let sessions = Lab::shared()
        .outlook_anywhere()
        .fronts()
        .sessions_when(served, std::time::Duration::from_secs(5));
    assert!(served(&sessions), "{sessions:?}");
    let front = certificate_serial(bridged);
    let own = certificate_serial(ep);
    assert!(!front.is_empty() && front != own, "{front} / {own}");
}

/// The serial of the certificate a host presents (openssl s_client).
fn certificate_serial(s: OaScenario) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect {}:443 -servername {} </dev/null 2>/dev/null | openssl x509 -noout -serial",
            addr(s),
            s.proxy_host()
        ))
        .output()
        .expect("openssl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn basic_with_an_umlaut_depends_on_how_iis_decodes_it() {
    // RFC 7617's UTF-8, as migcheck, curl and .NET (Core) send it; and Windows-1252, as .NET
    // Framework's HttpWebRequest sends it on a Western European Windows.
    for s in [OaScenario::BasicCodePage, OaScenario::BasicUtf8First] {
        let user = s.user();
        let password = s.password();
        let utf8 = STANDARD.encode(format!("{user}:{password}"));
        let mut cp1252 = format!("{user}:").into_bytes();
        cp1252.extend(password.chars().map(|c| u8::try_from(u32::from(c)).expect("Latin-1")));
        let cp1252 = STANDARD.encode(cp1252);
        let echo = |token: &str| {
            curl(
                s,
                &[
                    "-H",
                    &format!("Authorization: Basic {token}"),
                    "-X",
                    "RPC_IN_DATA",
                    &url(s, RPC),
                ],
            )
            .status
        };
        let want_utf8 = if s == OaScenario::BasicCodePage { 401 } else { 200 };
        assert_eq!((echo(&utf8), echo(&cp1252)), (want_utf8, 200), "{s}");
    }
}

/// impacket's RPC over HTTP transport (`impacket/http.py`) computes no channel bindings: refused where
/// /rpc requires them, as a real Exchange with Extended Protection refuses it.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn impacket_without_bindings_is_refused_by_require() {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lab-venv/bin/python");
    let python = std::env::var_os("MIGCHECK_LAB_PYTHON").map_or(venv, Into::into);
    let s = OaScenario::ExtendedProtection;
    let mut cmd = migcheck_lab::peers::rpcmap(&python, s, addr(s));
    let out = cmd.output().expect("rpcmap.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("NTLM authentication failed in RPC_IN_DATA channel: HTTP/1.1 401 Unauthorized"),
        "{text}"
    );
    assert!(!text.contains("UUID:"), "{text}");
}
