//! The lab's own Exchange-like front end, written from the specs because no Exchange runs on Linux:
//! an RPC over HTTP v2 proxy ([MS-RPCH]) with MAPI over HTTP PING, and the web side (`web.rs`): EWS
//! (`ews.rs`), MRS Proxy and OWA (`owa.rs`), or Exchange 2003's `/exchange/`. HTTPS on `IP:443` per
//! host, certificates from the lab CA, Basic checked here, NTLM checked by pyspnego (`ntlm.rs`).
//!
//! One [`ExchangeServer`] serves a set of hosts from its own thread (a small tokio runtime); dropping it
//! stops everything, the NTLM helper included. Everything from the network is bounded: head size,
//! waits, PDU sizes, connection count.

mod auth;
mod conn;
mod ews;
pub(crate) mod get_user_settings;
mod http;
mod mapi;
mod ntlm;
mod owa;
mod pdu;
pub(crate) mod pox;
pub(crate) mod rts;
mod vc;
mod web;

pub(crate) use auth::{BasicDecoding, Scheme, User};

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

use crate::{LabError, servers};

/// The HTTPS port every proxy host listens on.
pub(crate) const PORT: u16 = 443;
/// Connections served at once per proxy (past that, new ones wait in the kernel's backlog).
const MAX_CONNECTIONS: usize = 4096;

/// What a host does besides the healthy behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Normal,
    /// A reverse proxy in front that answers RPC_* with 405.
    FrontProxy405,
    /// Every channel to an RPC server: `503 RPC Error: 6ba` (the echo still answers).
    Unreachable6ba,
    /// Binds on 6001 rejected (bind_ack result 2), on 6002 a fault, on 6004 a bind_nak.
    BindRejected,
    /// The OUT channel sends its 200 head and then nothing.
    SilentAfterHeaders,
    /// A reverse proxy in front whose publishing passes only `/rpc/` and `/autodiscover/`: any other
    /// path (EWS, MRS Proxy, OWA) gets the proxy's own 404 (`web::unpublished`).
    RpcAndAutodiscoverOnly,
    /// Published through Microsoft TMG 2010: the RPC_OUT_DATA answer re-framed with
    /// `Transfer-Encoding: chunked`, and a `Via` on what TMG forwards (`vc.rs` names the sources).
    TmgChunked,
    /// A reverse proxy in front (nginx `auth_basic`) pre-authenticates /EWS/ and /autodiscover/: without
    /// a valid Basic logon, its own 401 (`web::front_device`); with one, the request goes on to Exchange.
    PreAuthBasic,
    /// A reverse proxy in front redirects /EWS/ and /autodiscover/ to its login page (`web::front_device`).
    PreAuthRedirect,
    /// The host answers POX Autodiscover itself (`pox.rs`), its EXPR block with this
    /// `CertPrincipalName` (None: without one); otherwise healthy.
    OwnAutodiscover {
        cert_principal: Option<&'static str>,
    },
}

/// One proxy host.
#[derive(Clone, Debug)]
pub(crate) struct HostConfig {
    pub ip: Ipv4Addr,
    pub name: String,
    /// The scenario, for the request log.
    pub label: String,
    pub chain: PathBuf,
    pub key: PathBuf,
    /// Offered in this order; NTLM and Basic are accepted when offered.
    pub schemes: Vec<Scheme>,
    pub users: Vec<User>,
    /// The NTLM helper's store for this host's users and challenge names.
    pub ntlm_store: String,
    /// RPC server names the proxy can reach (compared case-insensitively).
    pub rpc_servers: Vec<String>,
    pub mode: Mode,
    /// What EWS, MRS Proxy and OWA show on this host.
    pub web: Web,
    /// How its IIS authenticates beyond the schemes it offers.
    pub iis: Iis,
}

impl HostConfig {
    /// The schemes a virtual directory offers.
    pub(crate) fn schemes_for(&self, vdir: Vdir) -> &[Scheme] {
        match (vdir, &self.iis.ews_schemes) {
            (Vdir::Ews, Some(ews)) => ews,
            _ => &self.schemes,
        }
    }
}

/// The virtual directories of the front end (Default Web Site) that authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Vdir {
    Rpc,
    Mapi,
    /// `/EWS`, with `/EWS/mrsproxy.svc` under it (no setting of its own: it inherits /EWS's).
    Ews,
    /// Exchange 2003's `/exchange/`, older than Extended Protection.
    Exchange2003,
    /// `/Autodiscover`.
    Autodiscover,
}

/// IIS's `extendedProtection tokenChecking` of a virtual directory (IIS configuration reference,
/// system.webServer/security/authentication/windowsAuthentication/extendedProtection: `None` "will not
/// perform channel-binding token checking", `Allow` "enabled, but not required", `Require` "required").
/// It governs Windows authentication (NTLM, Negotiate) only: Basic is never bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenChecking {
    None,
    Allow,
    Require,
}

impl TokenChecking {
    /// The word the NTLM helper takes.
    pub(crate) fn helper_word(self) -> &'static str {
        match self {
            TokenChecking::None => "none",
            TokenChecking::Allow => "allow",
            TokenChecking::Require => "require",
        }
    }
}

/// Extended Protection per virtual directory of the front end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ExtendedProtection {
    pub rpc: TokenChecking,
    pub mapi: TokenChecking,
    pub ews: TokenChecking,
}

impl ExtendedProtection {
    /// Off: Exchange 2016 and older unless an administrator ran CSS-Exchange's script ("On older versions
    /// of Exchange Server (for example, Exchange Server 2016), Extended Protection can be enabled by the
    /// help of the ExchangeExtendedProtectionManagement.ps1 script"), or 2019 CU14 and later set up with
    /// `/DoNotEnableEP` (Microsoft Learn, "Configure Windows Extended Protection in Exchange Server").
    pub(crate) const OFF: ExtendedProtection = ExtendedProtection {
        rpc: TokenChecking::None,
        mapi: TokenChecking::None,
        ews: TokenChecking::None,
    };

    /// What CSS-Exchange's ExchangeExtendedProtectionManagement.ps1 sets on the Default Web Site
    /// (`Get-ExtendedProtectionConfigurationResult.ps1`: "RPC" Require, "MAPI" Require, "EWS" Allow,
    /// "Autodiscover" None), and what Exchange 2019 CU14 and later's setup enables by default.
    pub(crate) const CSS_EXCHANGE: ExtendedProtection = ExtendedProtection {
        rpc: TokenChecking::Require,
        mapi: TokenChecking::Require,
        ews: TokenChecking::Allow,
    };

    pub(crate) fn of(self, vdir: Vdir) -> TokenChecking {
        match vdir {
            Vdir::Rpc => self.rpc,
            Vdir::Mapi => self.mapi,
            Vdir::Ews => self.ews,
            // CSS-Exchange sets "Autodiscover" None (above).
            Vdir::Exchange2003 | Vdir::Autodiscover => TokenChecking::None,
        }
    }
}

/// How a host's IIS authenticates, beyond the schemes it offers.
#[derive(Clone, Debug)]
pub(crate) struct Iis {
    pub ep: ExtendedProtection,
    /// The schemes `/EWS` offers when they differ from the host's (Exchange 2019 turns Basic off there).
    pub ews_schemes: Option<Vec<Scheme>>,
    pub basic: BasicDecoding,
}

impl Iis {
    /// Extended Protection off, the same schemes everywhere, Basic decoded as IIS does after KB 981280.
    pub(crate) fn plain() -> Iis {
        Iis {
            ep: ExtendedProtection::OFF,
            ews_schemes: None,
            basic: BasicDecoding::Utf8ThenWindows1252,
        }
    }

    /// As Exchange 2019 CU14 and later set it up: Extended Protection as CSS-Exchange sets it.
    pub(crate) fn extended_protection() -> Iis {
        Iis {
            ep: ExtendedProtection::CSS_EXCHANGE,
            ..Iis::plain()
        }
    }
}

/// The web side of a host: which Exchange answers `/EWS/`, `/owa/` (or `/exchange/`).
#[derive(Clone, Debug)]
pub(crate) enum Web {
    /// Exchange 2010 and later: EWS, MRS Proxy, OWA.
    Exchange(ExchangeWeb),
    /// Exchange 2003: no EWS, no `/owa/`; OWA at `/exchange/` with `/exchweb/` resources on IIS 6.
    Exchange2003,
}

/// The versions and switches of an Exchange 2010+ web front end.
#[derive(Clone, Debug)]
pub(crate) struct ExchangeWeb {
    /// `X-OWA-Version` and the OWA resource paths (`a.b.c.d`).
    pub owa_version: &'static str,
    /// EWS `ServerVersionInfo` (`a.b.c.d`).
    pub ews_version: &'static str,
    pub mrs_enabled: bool,
    /// `X-FEServer`: the front end's NetBIOS name (`EX01`; `EX02` on the second server of a pair).
    pub fe_server: &'static str,
    /// The EWS virtual directory has an ExternalUrl: SOAP Autodiscover gives ExternalEwsUrl
    /// (`get_user_settings.rs`); without one it lists it as SettingIsNotAvailable.
    pub external_ews: bool,
    /// The domain of the lab mailboxes ([`crate::LabMailbox::address`]).
    pub mail_domain: String,
}

/// The names an NTLM challenge of a store carries.
#[derive(Clone, Debug)]
pub(crate) struct NtlmNames {
    pub nb_domain: String,
    pub dns_domain: String,
    pub nb_computer: String,
    pub dns_computer: String,
}

impl NtlmNames {
    /// The names of the lab's usual server `EX01` / `ex01.<dns_domain>`.
    pub(crate) fn ex01(nb_domain: &str, dns_domain: &str) -> NtlmNames {
        NtlmNames {
            nb_domain: nb_domain.to_string(),
            dns_domain: dns_domain.to_string(),
            nb_computer: "EX01".to_string(),
            dns_computer: format!("ex01.{dns_domain}"),
        }
    }
}

/// State every connection shares.
pub(crate) struct Shared {
    pub ntlm: Option<ntlm::NtlmHelper>,
    /// Open OUT channels by host address and virtual-connection cookie: where an IN channel sends
    /// its answers.
    pub vcs: Mutex<HashMap<(IpAddr, [u8; 16]), vc::OutHandle>>,
    pub log: Mutex<std::fs::File>,
    pub next_id: AtomicU64,
}

impl Shared {
    /// `<listen addr> <host> "<METHOD> <path>" <status> <user or -> <scenario>`, then
    /// ` anchor=<mailbox>` when the request carried `X-AnchorMailbox` (EWS routing in coexistence).
    pub(crate) fn log(&self, listen: SocketAddr, host: &HostConfig, req: &http::Request, status: u16, user: &str) {
        let clean = |s: &str| -> String { s.chars().filter(|c| !c.is_control() && *c != '"').take(300).collect() };
        let anchor = req
            .header("x-anchormailbox")
            .map(|a| format!(" anchor={}", auth::loggable(a)))
            .unwrap_or_default();
        let line = format!(
            "{listen} {} \"{} {}\" {status} {} {}{anchor}\n",
            auth::loggable(req.host()),
            clean(&req.method),
            clean(&req.target),
            auth::loggable(user),
            host.label
        );
        if let Ok(mut f) = self.log.lock() {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// A running proxy; dropping it stops the servers and the NTLM helper.
pub(crate) struct ExchangeServer {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ExchangeServer {
    /// Writes the NTLM user files and helper config under `dir`, binds every host on `IP:443`, starts
    /// the NTLM helper (when a host offers NTLM) and the runtime, and returns once all listen.
    pub(crate) fn start(
        dir: &Path,
        hosts: Vec<HostConfig>,
        stores: &[(String, NtlmNames)],
        request_log: &Path,
    ) -> Result<ExchangeServer, LabError> {
        std::fs::create_dir_all(dir).map_err(|e| LabError::io(format!("creating {}", dir.display()), e))?;
        let config = write_ntlm_config(dir, &hosts, stores)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(request_log)
            .map_err(|e| LabError::io(format!("opening {}", request_log.display()), e))?;
        let want_ntlm = hosts.iter().any(|h| h.schemes.contains(&Scheme::Ntlm));
        let helper_log = dir.join("ntlm-helper.log");
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), LabError>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("migcheck-lab-rpcproxy".into())
            .spawn(move || {
                // The helper is spawned here, so it lives exactly as long as this thread.
                let ntlm = if want_ntlm {
                    match ntlm::NtlmHelper::spawn(&config, &helper_log) {
                        Ok(h) => Some(h),
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    }
                } else {
                    None
                };
                let shared = Arc::new(Shared {
                    ntlm,
                    vcs: Mutex::default(),
                    log: Mutex::new(log),
                    next_id: AtomicU64::new(1),
                });
                run(hosts, shared, ready_tx, stop_rx);
            })
            .map_err(|e| LabError::io("spawning the RPC proxy thread", e))?;
        let thread = crate::sys::await_ready(ready_rx, thread, "the RPC proxy thread")?;
        Ok(ExchangeServer {
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for ExchangeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The proxy thread: a runtime, one accept loop per host, until `stop`.
fn run(
    hosts: Vec<HostConfig>,
    shared: Arc<Shared>,
    ready: mpsc::Sender<Result<(), LabError>>,
    stop: oneshot::Receiver<()>,
) {
    let Some(rt) = crate::sys::server_runtime("migcheck-lab-rpcproxy-rt", "RPC proxy", &ready) else {
        return;
    };
    rt.block_on(async move {
        let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        for host in hosts {
            let addr = SocketAddr::from((host.ip, PORT));
            let tls = match tls_config(&host) {
                Ok(t) => t,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            let listener = match TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    let _ = ready.send(Err(LabError::io(
                        format!("binding the RPC proxy for {} on {addr}", host.name),
                        e,
                    )));
                    return;
                }
            };
            tokio::spawn(conn::accept_loop(
                listener,
                tls,
                Arc::new(host),
                Arc::clone(&shared),
                Arc::clone(&limit),
            ));
        }
        let _ = ready.send(Ok(()));
        let _ = stop.await;
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
}

fn tls_config(host: &HostConfig) -> Result<tokio_rustls::TlsAcceptor, LabError> {
    tls_acceptor(&host.chain, &host.key, &host.name)
}

/// A TLS acceptor (HTTP/1.1 by ALPN) for a certificate chain and key from the lab CA.
pub(crate) fn tls_acceptor(chain: &Path, key: &Path, name: &str) -> Result<tokio_rustls::TlsAcceptor, LabError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(chain)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| LabError::Setup(format!("reading {}: {e}", chain.display())))?;
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| LabError::Setup(format!("reading {}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| LabError::Setup(format!("TLS setup for {name}: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// One user file per store (pyspnego's `DOMAIN:user:password`, plus `:upn:password` for UPN logons)
/// and the helper's JSON config; returns the config's path.
fn write_ntlm_config(dir: &Path, hosts: &[HostConfig], stores: &[(String, NtlmNames)]) -> Result<PathBuf, LabError> {
    let mut json = String::from("{\"stores\": {");
    for (i, (store, names)) in stores.iter().enumerate() {
        let mut lines = String::new();
        for u in hosts.iter().filter(|h| &h.ntlm_store == store).flat_map(|h| &h.users) {
            let _ = writeln!(lines, "{}:{}:{}", u.domain, u.name, u.password);
            let _ = writeln!(lines, ":{}:{}", u.upn, u.password);
        }
        let file = dir.join(format!("ntlm-users-{store}"));
        servers::write(&file, lines)?;
        let _ = write!(
            json,
            "{}{}: {{\"user_file\": {}, \"nb_domain\": {}, \"dns_domain\": {}, \"nb_computer\": {}, \"dns_computer\": {}}}",
            if i == 0 { "" } else { ", " },
            json_str(store),
            json_str(&file.display().to_string()),
            json_str(&names.nb_domain),
            json_str(&names.dns_domain),
            json_str(&names.nb_computer),
            json_str(&names.dns_computer)
        );
    }
    // Each host's own certificate: what its Extended Protection computes the channel bindings of.
    json.push_str("}, \"certs\": {");
    for (i, h) in hosts.iter().enumerate() {
        let _ = write!(
            json,
            "{}{}: {}",
            if i == 0 { "" } else { ", " },
            json_str(&h.name),
            json_str(&h.chain.display().to_string())
        );
    }
    json.push_str("}}\n");
    let path = dir.join("ntlm-helper.json");
    servers::write(&path, json)?;
    Ok(path)
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
