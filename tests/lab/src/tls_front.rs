//! A TLS terminator at the TCP level in front of a lab server: nginx's stream module (Debian's
//! `libnginx-mod-stream`) accepts TLS with a chosen certificate, TLS versions and cipher suites, and
//! relays the bytes of each connection over a TLS connection of its own to the backend, one backend
//! connection per client connection. Nothing above TLS is touched, so NTLM's per-connection logon and
//! the two RPC over HTTP channels work through it as they do on the backend itself; an HTTP proxy would
//! break both.
//!
//! What it is for:
//! - a server that offers exactly a Windows Schannel cipher list (the [`TlsProfile`] constants), in
//!   front of the lab's own Exchange, whose rustls speaks only modern suites;
//! - with the backend's own certificate, an NTLM channel binding (the hash of the certificate the
//!   client sees) still matches the backend's; with ANOTHER certificate it is "a proxy that re-encrypts
//!   with another certificate" (an SSL-bridging load balancer), where the binding no longer matches.
//!
//! Usage: describe each front as a [`FrontSpec`] and start them with [`TlsFronts::start`] (one nginx for
//! all of them, killed when the returned value is dropped). [`TlsFronts::sessions`] reads the access
//! log: one line per client connection with the version and suite it negotiated, or none when the
//! handshake failed (so a test can count handshakes).

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::mpsc;
use std::thread;

use crate::ad_servers::wait_ready;
use crate::certs::ServerCert;
use crate::nginx::quote;
use crate::servers::{stop, write};
use crate::{LabError, sys};

/// Where Debian's `libnginx-mod-stream` puts the module.
const STREAM_MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";

/// The RFC 7919 `ffdhe2048` group (Appendix A.1), as `openssl genpkey -genparam -algorithm DH -pkeyopt
/// group:ffdhe2048` writes it. nginx offers no DHE suite without `ssl_dhparam` ("By default no
/// parameters are set, and therefore DHE ciphers will not be used", nginx's ssl_dhparam documentation);
/// 2048 bits because Debian's OpenSSL runs at security level 2 ("DH keys shorter than 2048 bits ... are
/// prohibited", SSL_CTX_set_security_level(3)). The size a Windows server uses by default is not
/// documented publicly.
pub const FFDHE2048_PEM: &str = "-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
";

/// A TLS version, as nginx's `ssl_protocols` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    Tls1_0,
    Tls1_1,
    Tls1_2,
    Tls1_3,
}

impl TlsVersion {
    pub fn nginx_name(self) -> &'static str {
        match self {
            TlsVersion::Tls1_0 => "TLSv1",
            TlsVersion::Tls1_1 => "TLSv1.1",
            TlsVersion::Tls1_2 => "TLSv1.2",
            TlsVersion::Tls1_3 => "TLSv1.3",
        }
    }

    /// `openssl s_client`'s flag for exactly this version.
    pub fn s_client_flag(self) -> &'static str {
        match self {
            TlsVersion::Tls1_0 => "-tls1",
            TlsVersion::Tls1_1 => "-tls1_1",
            TlsVersion::Tls1_2 => "-tls1_2",
            TlsVersion::Tls1_3 => "-tls1_3",
        }
    }
}

/// What a front offers: TLS versions, and TLS 1.2-and-older cipher suites in the server's order of
/// preference (the server chooses, as Schannel does: "enabled and in this priority order").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsProfile {
    /// What it plays, in words.
    pub name: &'static str,
    pub versions: &'static [TlsVersion],
    /// OpenSSL names, in the server's order.
    pub ciphers: &'static [&'static str],
    /// The IANA names of the suites a server with an RSA certificate can actually use from
    /// `ciphers`, in the same order (ECDSA and DSS suites need another kind of key).
    pub rsa_suites: &'static [&'static str],
}

impl TlsProfile {
    /// The `ssl_ciphers` value. TLS 1.0 and 1.1 work in OpenSSL 3 only at security level 0 ("SSL 3,
    /// TLS 1.0, TLS 1.1, and DTLS 1.0 only work at security level 0", OpenSSL 3.0 NEWS).
    pub fn cipher_string(&self) -> String {
        let mut s = self.ciphers.join(":");
        if self
            .versions
            .iter()
            .any(|v| matches!(v, TlsVersion::Tls1_0 | TlsVersion::Tls1_1))
        {
            s.push_str(":@SECLEVEL=0");
        }
        s
    }
}

/// Windows Server 2012 R2's Schannel suites "enabled and in this priority order by default" (after
/// update 2919355), from Microsoft's "TLS Cipher Suites in Windows 8.1"
/// (https://learn.microsoft.com/windows/win32/secauthn/tls-cipher-suites-in-windows-8-1), translated to
/// OpenSSL names; the `_P256`/`_P384` pairs are one suite on the wire. Left out: 3DES and RC4 (Debian 12's
/// OpenSSL has neither, `OPENSSL_NO_WEAK_SSL_CIPHERS`; they come last in Windows' order, after every
/// AES suite, so no client that offers AES ever gets them) and the NULL suites ("Only used when
/// application explicitly requests"). Every ECDHE_RSA suite is CBC: ECDHE_RSA with GCM came with
/// Windows 10 / Server 2016.
const WINDOWS_8_1_CIPHERS: &[&str] = &[
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-RSA-AES256-SHA",
    "ECDHE-RSA-AES128-SHA",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-SHA",
    "DHE-RSA-AES128-SHA",
    "AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
    "AES256-SHA256",
    "AES128-SHA256",
    "AES256-SHA",
    "AES128-SHA",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-ECDSA-AES128-SHA",
    "DHE-DSS-AES256-SHA256",
    "DHE-DSS-AES128-SHA256",
    "DHE-DSS-AES256-SHA",
    "DHE-DSS-AES128-SHA",
];

/// The rows of [`WINDOWS_8_1_CIPHERS`] an RSA certificate can serve, by their IANA names.
const WINDOWS_8_1_RSA_SUITES: &[&str] = &[
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
];

/// Windows Server 2012 R2 (Exchange 2013/2016) as installed: TLS 1.0, 1.1 and 1.2 "Enabled" (Microsoft,
/// "Protocols in TLS/SSL (Schannel SSP)", row "Windows 8.1/Windows Server 2012 R2"), the 8.1 suites.
pub const SCHANNEL_2012R2: TlsProfile = TlsProfile {
    name: "Windows Server 2012 R2 (default Schannel suites)",
    versions: &[TlsVersion::Tls1_0, TlsVersion::Tls1_1, TlsVersion::Tls1_2],
    ciphers: WINDOWS_8_1_CIPHERS,
    rsa_suites: WINDOWS_8_1_RSA_SUITES,
};

/// Windows Server 2008 R2 (Exchange 2010) with TLS 1.1 and 1.2 switched on: it ships with them
/// "Disabled" (the protocols page, row "Windows 7/Windows Server 2008 R2"; the lab's
/// `Fixture::LegacyTls` plays that default). Microsoft's "TLS Cipher Suites in Windows 7" (after update
/// 3042058, https://learn.microsoft.com/windows/win32/secauthn/tls-cipher-suites-in-windows-7) lists the
/// same suites in the same order as Windows 8.1, so on the wire it differs from 2012 R2 only by the
/// Exchange behind it.
pub const SCHANNEL_2008R2_TLS12: TlsProfile = TlsProfile {
    name: "Windows Server 2008 R2 with TLS 1.1 and 1.2 enabled (default Schannel suites)",
    versions: &[TlsVersion::Tls1_0, TlsVersion::Tls1_1, TlsVersion::Tls1_2],
    ciphers: WINDOWS_8_1_CIPHERS,
    rsa_suites: WINDOWS_8_1_RSA_SUITES,
};

/// A Windows Server 2012 R2 whose suite order an administrator cut down to its DHE_RSA GCM pair (rows
/// 5 and 6 of the 8.1 list; "Default priority order is overridden when a priority list is configured.
/// Cipher suites not in the priority list will not be used", the same Microsoft page), TLS 1.2 only.
/// None of its suites is on Microsoft 365's list ("Technical reference details about encryption").
pub const SCHANNEL_DHE_ONLY: TlsProfile = TlsProfile {
    name: "Windows Server 2012 R2 with its suite order cut to DHE_RSA with AES-GCM",
    versions: &[TlsVersion::Tls1_2],
    ciphers: &["DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES128-GCM-SHA256"],
    rsa_suites: &[
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    ],
};

/// Where the lab's own server listens for a host behind a TLS front: the host's address + 100 in the
/// last octet (the front takes the host's own address, the one DNS gives).
pub(crate) fn backend_ip(ip: Ipv4Addr) -> Ipv4Addr {
    let [a, b, c, d] = ip.octets();
    Ipv4Addr::new(a, b, c, d.saturating_add(100))
}

/// One front: where it listens, what it offers, and where it relays to.
#[derive(Clone, Debug)]
pub struct FrontSpec {
    /// A short id for the log (the scenario's).
    pub label: String,
    pub listen: SocketAddr,
    /// The backend, spoken to over TLS (its certificate is not checked: it is the lab's own, on loopback).
    pub backend: SocketAddr,
    /// The name sent to the backend as SNI.
    pub backend_name: String,
    /// The certificate chain (PEM, leaf first) and key the front presents: the backend's own files,
    /// or another certificate's.
    pub chain: PathBuf,
    pub key: PathBuf,
    pub profile: TlsProfile,
}

impl FrontSpec {
    /// A front on `ip` (the address DNS gives the host) relaying to the lab's own server at
    /// [`backend_ip`], both on the Exchange port, presenting `cert`.
    pub(crate) fn before(
        label: &str,
        ip: Ipv4Addr,
        backend_name: String,
        cert: &ServerCert,
        profile: TlsProfile,
    ) -> Self {
        let port = crate::exchange_server::PORT;
        FrontSpec {
            label: label.to_string(),
            listen: SocketAddr::new(ip.into(), port),
            backend: SocketAddr::new(backend_ip(ip).into(), port),
            backend_name,
            chain: cert.chain.clone(),
            key: cert.key.clone(),
            profile,
        }
    }
}

/// One client connection as the front's access log tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrontSession {
    pub listen: SocketAddr,
    /// `TLSv1.2`, ...; `None` when the handshake failed.
    pub protocol: Option<String>,
    /// The OpenSSL name of the suite; `None` when the handshake failed.
    pub cipher: Option<String>,
    /// nginx's session status: 200 relayed and closed normally, 500 for a failed handshake, 502 when
    /// the backend could not be reached.
    pub status: u16,
}

/// The running fronts (one nginx); dropping this stops it.
pub struct TlsFronts {
    dir: PathBuf,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for TlsFronts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFronts")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl TlsFronts {
    /// Writes the config under `dir` and starts nginx from a thread that lives as long as the returned
    /// value (nginx gets `PR_SET_PDEATHSIG`, tied to that thread); returns once every front accepts.
    pub fn start(dir: &Path, fronts: Vec<FrontSpec>) -> Result<TlsFronts, LabError> {
        for d in [dir.to_path_buf(), dir.join("logs"), dir.join("tmp")] {
            std::fs::create_dir_all(&d).map_err(|e| LabError::io(format!("creating {}", d.display()), e))?;
        }
        if !Path::new(STREAM_MODULE).is_file() {
            return Err(LabError::Setup(format!(
                "{STREAM_MODULE} is missing: the TLS fronts need nginx's stream module (Debian: libnginx-mod-stream)"
            )));
        }
        let dh = dir.join("ffdhe2048.pem");
        write(&dh, FFDHE2048_PEM)?;
        let conf = dir.join("tls-front.conf");
        write(&conf, config(dir, &dh, &fronts))?;
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), LabError>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread_dir = dir.to_path_buf();
        let listens: Vec<SocketAddr> = fronts.iter().map(|f| f.listen).collect();
        let thread = thread::Builder::new()
            .name("migcheck-lab-tls-front".into())
            .spawn(move || {
                let mut child = match spawn_nginx(&thread_dir, &conf) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let error_log = thread_dir.join("logs").join("error.log");
                if let Err(e) = wait_ready("nginx (TLS fronts)", &mut child, &listens, &error_log) {
                    stop(&mut child);
                    let _ = ready_tx.send(Err(e));
                    return;
                }
                if ready_tx.send(Ok(())).is_ok() {
                    let _ = stop_rx.recv();
                }
                stop(&mut child);
            })
            .map_err(|e| LabError::io("spawning the TLS front thread", e))?;
        let thread = sys::await_ready(ready_rx, thread, "the TLS front (nginx stream)")?;
        Ok(TlsFronts {
            dir: dir.to_path_buf(),
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// nginx's stream access log: `listen protocol cipher status`, one line per client connection.
    pub fn access_log(&self) -> PathBuf {
        self.dir.join("logs").join("access.log")
    }

    /// Every client connection so far (a session is logged when it ends).
    pub fn sessions(&self) -> Vec<FrontSession> {
        let text = std::fs::read_to_string(self.access_log()).unwrap_or_default();
        text.lines().filter_map(parse_session).collect()
    }

    /// The sessions once `done` holds of them, or as they are after `within`: nginx logs a session when
    /// both its sides have closed, a moment after the client saw its answer, so a test that has just made
    /// its requests waits for their lines here (bounded) rather than reading the log at once.
    pub fn sessions_when(
        &self,
        done: impl Fn(&[FrontSession]) -> bool,
        within: std::time::Duration,
    ) -> Vec<FrontSession> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let now = self.sessions();
            if done(&now) || std::time::Instant::now() >= deadline {
                return now;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Where the config and logs are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TlsFronts {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn parse_session(line: &str) -> Option<FrontSession> {
    let mut parts = line.split_whitespace();
    let listen = parts.next()?.parse().ok()?;
    let protocol = parts.next()?;
    // A failed handshake is logged with the version tried and the cipher `(NONE)` (or `-`).
    let cipher = Some(parts.next()?).filter(|c| *c != "-" && *c != "(NONE)");
    let protocol = cipher.and(Some(protocol.to_string()));
    let cipher = cipher.map(str::to_string);
    let status = parts.next()?.parse().ok()?;
    Some(FrontSession {
        listen,
        protocol,
        cipher,
        status,
    })
}

/// The nginx configuration: one stream server per front.
fn config(dir: &Path, dh: &Path, fronts: &[FrontSpec]) -> String {
    let q = |p: &Path| quote(&p.display().to_string());
    let logs = dir.join("logs");
    let mut c = String::new();
    // Writing to a String cannot fail; `let _ =` keeps clippy quiet without unwrap.
    let _ = writeln!(
        c,
        "# generated by migcheck-lab (tls_front.rs); one process, in the foreground"
    );
    let _ = writeln!(c, "load_module {STREAM_MODULE};");
    let _ = writeln!(c, "master_process off;\ndaemon off;");
    let _ = writeln!(c, "pid {};", q(&dir.join("nginx.pid")));
    let _ = writeln!(c, "error_log {} info;", q(&logs.join("error.log")));
    let _ = writeln!(c, "events {{ worker_connections 1024; }}");
    let _ = writeln!(c, "stream {{");
    let _ = writeln!(
        c,
        "    log_format front '$server_addr:$server_port $ssl_protocol $ssl_cipher $status';"
    );
    let _ = writeln!(c, "    access_log {} front;", q(&logs.join("access.log")));
    let _ = writeln!(c, "    ssl_session_cache off;");
    let _ = writeln!(c, "    ssl_session_tickets off;");
    let _ = writeln!(c, "    ssl_prefer_server_ciphers on;");
    // Windows 8.1 lists P-256 before P-384 and no X25519.
    let _ = writeln!(c, "    ssl_ecdh_curve prime256v1:secp384r1;");
    let _ = writeln!(c, "    ssl_dhparam {};", q(dh));
    let _ = writeln!(c, "    proxy_connect_timeout 5s;");
    for f in fronts {
        let protocols: Vec<&str> = f.profile.versions.iter().map(|v| v.nginx_name()).collect();
        let _ = writeln!(c, "    server {{ # {}: {}", f.label, f.profile.name);
        let _ = writeln!(c, "        listen {} ssl;", f.listen);
        let _ = writeln!(c, "        ssl_certificate {};", q(&f.chain));
        let _ = writeln!(c, "        ssl_certificate_key {};", q(&f.key));
        let _ = writeln!(c, "        ssl_protocols {};", protocols.join(" "));
        let _ = writeln!(c, "        ssl_ciphers {};", quote(&f.profile.cipher_string()));
        let _ = writeln!(c, "        proxy_pass {};", f.backend);
        let _ = writeln!(c, "        proxy_ssl on;");
        let _ = writeln!(c, "        proxy_ssl_server_name on;");
        let _ = writeln!(c, "        proxy_ssl_name {};", quote(&f.backend_name));
        let _ = writeln!(c, "    }}");
    }
    let _ = writeln!(c, "}}");
    c
}

fn spawn_nginx(dir: &Path, conf: &Path) -> Result<Child, LabError> {
    crate::servers::spawn_nginx(dir, conf, &dir.join("logs").join("error.log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_versions_bring_security_level_0() {
        assert!(SCHANNEL_2012R2.cipher_string().ends_with(":@SECLEVEL=0"));
        let tls12_only = TlsProfile {
            versions: &[TlsVersion::Tls1_2],
            ..SCHANNEL_2012R2
        };
        assert!(!tls12_only.cipher_string().contains("SECLEVEL"));
        assert!(
            tls12_only
                .cipher_string()
                .starts_with("ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:")
        );
    }

    #[test]
    fn the_access_log_is_read_line_by_line() {
        assert_eq!(
            parse_session("127.10.101.8:443 TLSv1.2 ECDHE-RSA-AES256-SHA384 200"),
            Some(FrontSession {
                listen: "127.10.101.8:443".parse().expect("address"),
                protocol: Some("TLSv1.2".into()),
                cipher: Some("ECDHE-RSA-AES256-SHA384".into()),
                status: 200,
            })
        );
        // As nginx 1.22 logs a handshake with no suite in common.
        let failed = parse_session("127.10.101.8:443 TLSv1.2 (NONE) 500").expect("a failed handshake is a session");
        assert_eq!((failed.protocol, failed.cipher, failed.status), (None, None, 500));
        assert_eq!(parse_session("garbage"), None);
    }
}
