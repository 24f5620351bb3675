//! Proves the lab's RPC over HTTP proxy speaks the real protocols: curl (Basic and NTLM) for the
//! HTTP level of every [`OaScenario`], impacket's rpcmap (an independent RPC over HTTP v2 client) for
//! the virtual connection and bind, and a small raw client with the captured CONN/A1, CONN/B1 and bind
//! vectors of rpch-vectors.txt for the exact PDU layouts.

mod raw;

use std::io::Read as _;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Reply, run_client};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use migcheck_lab::{AdScenario, Lab, OaScenario};

const ECHO: [u8; 20] = [5, 0, 0x14, 3, 0x10, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0];
const EMSMDB: &str = "A4F1DB00-CA47-1067-B31F-00DD010662DA";

fn addr(s: OaScenario) -> IpAddr {
    Lab::shared().outlook_anywhere().addr(s)
}

fn rpc_url(s: OaScenario, server: &str) -> String {
    format!("https://{}/rpc/rpcproxy.dll?{server}:6001", s.proxy_host())
}

/// curl against a proxy host: `-i`, the lab CA, the host resolved to `ip`.
fn curl(host: &str, ip: IpAddr, args: &[&str]) -> Reply {
    let lab = Lab::shared();
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "--noproxy", "*", "--max-time", "5", "--cacert"])
        .arg(lab.ca_file())
        .arg("--resolve")
        .arg(format!("{host}:443:{ip}"))
        .args(args);
    run_client(&mut cmd, None)
}

fn oa_curl(s: OaScenario, args: &[&str]) -> Reply {
    curl(&s.proxy_host(), addr(s), args)
}

fn all_headers(r: &Reply, name: &str) -> Vec<String> {
    r.headers
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .collect()
}

fn status_line(r: &Reply) -> &str {
    r.headers.lines().next().unwrap_or("")
}

fn basic(user: &str, password: &str) -> String {
    format!("{user}:{password}")
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn anonymous_requests_get_each_scenarios_challenges() {
    for &s in OaScenario::ALL {
        let r = oa_curl(
            s,
            &[
                "-X",
                "RPC_IN_DATA",
                "-H",
                "Content-Length: 0",
                &rpc_url(s, &s.exchange_server()),
            ],
        );
        let schemes = all_headers(&r, "WWW-Authenticate");
        let realm = format!("Basic realm=\"{}\"", s.proxy_host());
        match s {
            OaScenario::FrontProxy405 => {
                assert_eq!(r.status, 405, "{s}: {r:?}");
                assert_eq!(r.header("Allow").as_deref(), Some("GET, HEAD, POST, OPTIONS"), "{s}");
                assert!(r.header("Server").is_some_and(|v| v.contains("proxy")), "{s}: {r:?}");
            }
            OaScenario::NoBasic => assert_eq!((r.status, schemes), (401, vec!["Negotiate".to_string()]), "{s}"),
            OaScenario::NtlmOnly => assert_eq!(
                (r.status, schemes),
                (401, vec!["Negotiate".into(), "NTLM".into()]),
                "{s}"
            ),
            _ => assert_eq!(
                (r.status, schemes),
                (401, vec!["Negotiate".into(), "NTLM".into(), realm]),
                "{s}"
            ),
        }
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn basic_echo_answers_where_basic_is_offered() {
    for &s in OaScenario::ALL {
        let pw = s.password();
        for user in [s.user(), s.ntlm_user()] {
            let r = oa_curl(
                s,
                &[
                    "--basic",
                    "-u",
                    &basic(&user, &pw),
                    "-X",
                    "RPC_IN_DATA",
                    &rpc_url(s, &s.exchange_server()),
                ],
            );
            match s {
                OaScenario::NoBasic | OaScenario::NtlmOnly => assert_eq!(r.status, 401, "{s} {user}"),
                // curl sends the password as typed (UTF-8); this IIS reads Windows-1252 only.
                OaScenario::BasicCodePage => assert_eq!(r.status, 401, "{s} {user}"),
                OaScenario::FrontProxy405 => assert_eq!(r.status, 405, "{s} {user}"),
                _ => {
                    assert_eq!(r.status, 200, "{s} {user}: {r:?}");
                    assert_eq!(r.header("Content-Type").as_deref(), Some("application/rpc"));
                    assert_eq!(r.body.as_bytes(), ECHO, "{s} {user}");
                }
            }
        }
    }
    // RPC_OUT_DATA echoes too.
    let s = OaScenario::Healthy;
    let r = oa_curl(
        s,
        &[
            "-u",
            &basic(&s.user(), &s.password()),
            "-X",
            "RPC_OUT_DATA",
            &rpc_url(s, "ex01.oalab.test"),
        ],
    );
    assert_eq!((r.status, r.body.as_bytes()), (200, &ECHO[..]));
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn wrong_password_is_401_and_wrong_server_is_6ba() {
    let s = OaScenario::Healthy;
    let r = oa_curl(
        s,
        &[
            "-u",
            &basic(&s.user(), "Wrong-Passw0rd!"),
            "-X",
            "RPC_IN_DATA",
            &rpc_url(s, &s.exchange_server()),
        ],
    );
    assert_eq!(r.status, 401);
    let channel = ["-H", "Content-Length: 1073741824", "-X", "RPC_IN_DATA"];
    let r = oa_curl(
        s,
        &[
            &["-u", &basic(&s.user(), &s.password())],
            &channel[..],
            &[&rpc_url(s, "ex02.oalab.test")],
        ]
        .concat(),
    );
    assert_eq!(status_line(&r), "HTTP/1.1 503 RPC Error: 6ba", "{r:?}");
    let u = OaScenario::Unreachable6ba;
    let r = oa_curl(
        u,
        &[
            &["-u", &basic(&u.user(), &u.password())],
            &channel[..],
            &[&rpc_url(u, &u.exchange_server())],
        ]
        .concat(),
    );
    assert_eq!(status_line(&r), "HTTP/1.1 503 RPC Error: 6ba", "{r:?}");
    // Before authentication the proxy says nothing about servers.
    let r = oa_curl(u, &[&channel[..], &[&rpc_url(u, &u.exchange_server())]].concat());
    assert_eq!(r.status, 401);
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn mapi_ping_needs_authentication_and_answers_response_code_0() {
    let s = OaScenario::Healthy;
    for endpoint in ["emsmdb", "nspi"] {
        let url = format!(
            "https://{}/mapi/{endpoint}/?MailboxId=migadmin@oalab.test",
            s.proxy_host()
        );
        let ping = [
            "-X",
            "POST",
            "-H",
            "X-RequestType: PING",
            "-H",
            "X-RequestId: {6b6a1c2e-0c4f-4d2b-9a51-0f1e2d3c4b5a}:1",
            "-H",
            "Content-Type: application/mapi-http",
        ];
        let r = oa_curl(s, &[&ping[..], &[&url]].concat());
        assert_eq!((r.status, all_headers(&r, "WWW-Authenticate").len()), (401, 3), "{r:?}");
        let r = oa_curl(
            s,
            &[&ping[..], &["-u", &basic(&s.user(), &s.password()), &url]].concat(),
        );
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.header("X-ResponseCode").as_deref(), Some("0"));
        assert_eq!(r.header("X-RequestType").as_deref(), Some("PING"));
        assert_eq!(r.header("Content-Type").as_deref(), Some("application/mapi-http"));
        assert_eq!(
            r.header("X-ServerApplication").as_deref(),
            Some("Exchange/15.01.2507.006")
        );
        assert_eq!(
            r.header("X-RequestId").as_deref(),
            Some("{6b6a1c2e-0c4f-4d2b-9a51-0f1e2d3c4b5a}:1")
        );
        assert!(r.body.starts_with("PROCESSING\r\nDONE\r\n"), "{:?}", r.body);
    }
    // The Exchange behind the proxy serves OWA too (see tests/exchange.rs); other paths are 404.
    let r = oa_curl(s, &[&format!("https://{}/owa/", s.proxy_host())]);
    assert_eq!(r.status, 302);
    assert_eq!(r.header("X-OWA-Version").as_deref(), Some("15.2.2562.17"));
    let r = oa_curl(s, &[&format!("https://{}/nothing-here/", s.proxy_host())]);
    assert_eq!(r.status, 404);
    let f = OaScenario::FrontProxy405;
    let r = oa_curl(f, &[&format!("https://{}/", f.proxy_host())]);
    assert_eq!(r.status, 200);
}

/// The AV pairs of an NTLM CHALLENGE: (id, UTF-16 text).
fn target_info(challenge: &[u8]) -> Vec<(u16, String)> {
    let u16_at = |i: usize| u16::from_le_bytes([challenge[i], challenge[i + 1]]);
    let (len, off) = (usize::from(u16_at(40)), usize::from(u16_at(44)));
    let mut info = &challenge[off..off + len];
    let mut pairs = Vec::new();
    while info.len() >= 4 {
        let (id, n) = (
            u16::from_le_bytes([info[0], info[1]]),
            usize::from(u16::from_le_bytes([info[2], info[3]])),
        );
        let units: Vec<u16> = info[4..4 + n]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        pairs.push((id, String::from_utf16_lossy(&units)));
        info = &info[4 + n..];
    }
    pairs
}

/// A minimal NTLM NEGOTIATE (unicode, NTLM, request target, extended session security).
const NEGOTIATE: [u8; 32] = [
    b'N', b'T', b'L', b'M', b'S', b'S', b'P', 0, 1, 0, 0, 0, 0x07, 0x82, 0x08, 0xa2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0,
];

fn challenge_names(host: &str, ip: IpAddr, url: &str) -> Vec<(u16, String)> {
    let auth = format!("Authorization: NTLM {}", STANDARD.encode(NEGOTIATE));
    let r = curl(
        host,
        ip,
        &["-X", "RPC_IN_DATA", "-H", "Content-Length: 0", "-H", &auth, url],
    );
    let value = r.header("WWW-Authenticate").expect("a challenge");
    let b64 = value.strip_prefix("NTLM ").expect("an NTLM challenge");
    target_info(&STANDARD.decode(b64).expect("base64"))
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn ntlm_is_real_pyspnego_with_the_domain_names() {
    let s = OaScenario::NtlmOnly;
    let url = rpc_url(s, &s.exchange_server());
    let ok = oa_curl(
        s,
        &[
            "--ntlm",
            "-u",
            &basic(&s.ntlm_user(), &s.password()),
            "-X",
            "RPC_IN_DATA",
            &url,
        ],
    );
    assert_eq!((ok.status, ok.body.as_bytes()), (200, &ECHO[..]), "{ok:?}");
    let upn = oa_curl(
        s,
        &[
            "--ntlm",
            "-u",
            &basic(&s.user(), &s.password()),
            "-X",
            "RPC_IN_DATA",
            &url,
        ],
    );
    assert_eq!(upn.status, 200, "{upn:?}");
    let bad = oa_curl(
        s,
        &[
            "--ntlm",
            "-u",
            &basic(&s.ntlm_user(), "Wrong-Passw0rd!"),
            "-X",
            "RPC_IN_DATA",
            &url,
        ],
    );
    assert_eq!(bad.status, 401);
    // MsvAvNbComputerName 1, NbDomainName 2, DnsComputerName 3, DnsDomainName 4.
    let names = challenge_names(&s.proxy_host(), addr(s), &url);
    for want in [(1, "EX01"), (2, "OALAB"), (3, "ex01.oalab.test"), (4, "oalab.test")] {
        assert!(names.contains(&(want.0, want.1.to_string())), "{names:?}");
    }
    let log = std::fs::read_to_string(Lab::shared().outlook_anywhere().request_log()).expect("request log");
    assert!(
        log.contains("\"RPC_IN_DATA /rpc/rpcproxy.dll?ex01.oalab.test:6001\" 200 OALAB\\migadmin oa-ntlmonly"),
        "{log}"
    );
    assert!(!log.contains(&s.password()) && !log.contains("Authorization"));
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn autodiscover_expr_hosts_are_rpc_proxies() {
    let lab = Lab::shared();
    let ad = lab.autodiscover();
    std::thread::scope(|scope| {
        for &s in AdScenario::ALL {
            let Some(host) = s.expected().expr_server else { continue };
            scope.spawn(move || {
                let ip = ad.addr(&host).unwrap_or_else(|| panic!("{s}: no address for {host}"));
                let url = format!("https://{host}/rpc/rpcproxy.dll?{host}:6001");
                let flag = if s.uses_ntlm() { "--ntlm" } else { "--basic" };
                let login = basic(&s.user(), &s.password());
                let r = curl(&host, ip, &[flag, "-u", &login, "-X", "RPC_IN_DATA", &url]);
                let want = if s == AdScenario::WrongPassword { 401 } else { 200 };
                assert_eq!(r.status, want, "{s} {host}: {r:?}");
                if s == AdScenario::NtlmOnly {
                    assert!(challenge_names(&host, ip, &url).contains(&(2, "CONTOSO".to_string())));
                }
                // The EXCH Server name is a known RPC server: its channel opens (no 6ba, no answer).
                if let Some(exch) = s.expected().exch_server.filter(|_| want == 200 && !s.uses_ntlm()) {
                    let channel = format!("https://{host}/rpc/rpcproxy.dll?{exch}:6001");
                    let size = "Content-Length: 1073741824";
                    let r = curl(
                        &host,
                        ip,
                        &[
                            flag,
                            "-u",
                            &login,
                            "-X",
                            "RPC_IN_DATA",
                            "-H",
                            size,
                            "--max-time",
                            "0.5",
                            &channel,
                        ],
                    );
                    assert!(!r.headers.contains("RPC Error") && r.status != 401, "{s}: {r:?}");
                }
            });
        }
    });
}

/// impacket's rpcmap from the lab venv against a proxy, ended after `limit`: (output, finished).
fn rpcmap(s: OaScenario, limit: Duration) -> (String, bool) {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lab-venv/bin");
    let python = std::env::var_os("MIGCHECK_LAB_PYTHON").map_or_else(|| venv.join("python"), Into::into);
    let mut cmd = migcheck_lab::peers::rpcmap(&python, s, addr(s));
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run rpcmap.py ({python:?}): {e}"));
    let start = Instant::now();
    let finished = loop {
        if child.try_wait().expect("wait").is_some() {
            break true;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    for pipe in [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read>),
        child.stderr.take().map(|p| Box::new(p) as _),
    ]
    .into_iter()
    .flatten()
    {
        let mut pipe = pipe;
        let _ = pipe.read_to_string(&mut out);
    }
    (out, finished)
}

/// rpcmap binds EMSMDB through `s` and names it.
fn assert_rpcmap_binds_emsmdb(s: OaScenario) {
    let (out, finished) = rpcmap(s, Duration::from_secs(20));
    assert!(finished, "{s}: {out}");
    assert!(out.contains(&format!("UUID: {EMSMDB} v0.81")), "{s}: {out}");
    assert!(out.contains("Protocol: [MS-OXCRPC]"), "{s}: {out}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn impacket_rpcmap_binds_emsmdb_through_healthy() {
    assert_rpcmap_binds_emsmdb(OaScenario::Healthy);
}

/// impacket de-chunks the OUT channel ("For Microsoft TMG 2010 it can cause more than one read"): it
/// reads the lab's TMG as it reads the healthy proxy.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn impacket_rpcmap_binds_emsmdb_through_tmg_chunked() {
    assert_rpcmap_binds_emsmdb(OaScenario::TmgChunked);
}

/// The CertPrincipalName scenarios answer POX Autodiscover for their own domain (behind authentication,
/// as Exchange does); the other scenario hosts have no Autodiscover.
#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn cert_principal_scenarios_answer_pox_autodiscover() {
    let request = |email: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>{email}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
        )
    };
    for (s, line) in [
        (
            OaScenario::CertPrincipalNone,
            Some("<CertPrincipalName>none</CertPrincipalName>"),
        ),
        (OaScenario::CertPrincipalDefault, None),
    ] {
        let url = format!("https://{}/autodiscover/autodiscover.xml", s.proxy_host());
        let email = s.autodiscover_email().expect("an address");
        let post = ["-X", "POST", "-H", "Content-Type: text/xml", "--data-binary"];
        let r = oa_curl(s, &[&post[..], &[&request(&email), &url]].concat());
        assert_eq!(
            (r.status, all_headers(&r, "WWW-Authenticate").len()),
            (401, 3),
            "{s}: {r:?}"
        );
        let login = basic(&s.user(), &s.password());
        let r = oa_curl(s, &[&post[..], &[&request(&email), "-u", &login, &url]].concat());
        assert_eq!(r.status, 200, "{s}: {r:?}");
        assert_eq!(r.header("Content-Type").as_deref(), Some("text/xml; charset=utf-8"));
        assert_eq!(Some(r.body.clone()), s.autodiscover_answer(), "{s}");
        assert!(
            r.body.contains(&format!(
                "<Type>EXPR</Type>\n        <Server>{}</Server>",
                s.proxy_host()
            )),
            "{s}: {}",
            r.body
        );
        match line {
            Some(line) => assert!(r.body.contains(line), "{s}: {}", r.body),
            None => assert!(!r.body.contains("CertPrincipalName"), "{s}: {}", r.body),
        }
        // A GET is not a POX request: Microsoft's error 600.
        let r = oa_curl(s, &["-u", &login, &url]);
        assert!(
            r.status == 200 && r.body.contains("<ErrorCode>600</ErrorCode>"),
            "{s}: {r:?}"
        );
    }
    let h = OaScenario::Healthy;
    let r = oa_curl(
        h,
        &[&format!("https://{}/autodiscover/autodiscover.xml", h.proxy_host())],
    );
    assert_eq!(r.status, 404, "{r:?}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn impacket_rpcmap_fails_on_nobasic_and_silent() {
    let (out, finished) = rpcmap(OaScenario::NoBasic, Duration::from_secs(20));
    assert!(
        finished && out.contains("No supported auth offered by URL: ['Negotiate']"),
        "{out}"
    );
    let (out, finished) = rpcmap(OaScenario::SilentAfterHeaders, Duration::from_secs(3));
    assert!(!finished && !out.contains("UUID:"), "{out}");
}
