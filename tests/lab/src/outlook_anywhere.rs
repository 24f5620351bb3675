//! Outlook Anywhere (KB step 1, manual mode) scenarios as data, served by the lab's own RPC over HTTP
//! proxy (`exchange_server`). Each scenario is a host `<slug>.oalab.test` on `127.(10+k).100.N` (N = the
//! scenario's number), HTTPS on the real port 443, with a certificate from the lab CA; the lab's
//! dnsmasq answers the names from [`crate::Lab::start`] on, the proxy starts on the first
//! [`crate::Lab::outlook_anywhere`] call.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::LabError;
use crate::certs::{AdCertFiles, ServerCert};
use crate::exchange::BUILD_SE;
use crate::exchange_server::{BasicDecoding, ExchangeWeb, HostConfig, Iis, Mode, NtlmNames, Scheme, User, Web};
use crate::tls_front::{FrontSpec, TlsFronts, TlsProfile, TlsVersion, backend_ip};
use crate::zone::{ZonePlan, ZoneScenario, ZoneServer};

/// The DNS zone of the manual-mode scenarios.
pub const OA_ZONE: &str = "oalab.test";
/// The NetBIOS domain of the scenarios' user and of the proxy's NTLM challenge.
pub const OA_NTLM_DOMAIN: &str = "OALAB";
/// The third octet of the scenario hosts in the lab's slot block.
const THIRD_OCTET: u8 = 100;
const STORE: &str = "oa";

/// One manual-mode Outlook Anywhere scenario (Exchange server + RPC proxy + Basic/NTLM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OaScenario {
    /// Negotiate, NTLM and Basic offered; Basic and NTLM accepted; echo, virtual connection, binds
    /// on 6001/6002/6004 accepted; MAPI PING. A wrong password: 401; a wrong server: `503 RPC Error: 6ba`.
    Healthy,
    /// Only `Negotiate` offered (Kerberos-only IIS): every credential gets 401.
    NoBasic,
    /// A reverse proxy in front that does not pass the RPC verbs: 405 with `Allow: GET, HEAD, POST, OPTIONS`.
    FrontProxy405,
    /// Authenticates, echoes, but every channel to an RPC server gets `503 RPC Error: 6ba`.
    Unreachable6ba,
    /// Binds refused: 6001 bind_ack result 2 reason 1, 6002 a fault 0x1C010003, 6004 a bind_nak reason 2.
    BindRejected,
    /// The OUT channel sends its 200 head and then nothing, ever (the echo still answers).
    SilentAfterHeaders,
    /// `Negotiate` and `NTLM` only: Basic gets 401, NTLM is accepted.
    NtlmOnly,
    /// Extended Protection as Exchange 2019 CU14 and later (and CSS-Exchange's script) set it: /rpc and
    /// /mapi `Require` (an NTLM logon without a matching channel binding gets 401), /EWS `Allow`, which
    /// offers Negotiate and NTLM only (Basic off, as on Exchange 2019's EWS front end). TLS ends on Exchange.
    ExtendedProtection,
    /// The same Exchange behind a load balancer that ends TLS with a certificate of its own (valid, same
    /// name) and re-encrypts to Exchange's (SSL bridging): the channel binding of the certificate a client
    /// sees is not the one Exchange computes, so /rpc refuses every NTLM logon and /EWS every bound one.
    ExtendedProtectionBridged,
    /// Basic decoded in the server's code page only (Windows-1252), with a password that has an umlaut:
    /// a client that sends UTF-8 is refused with the right password.
    BasicCodePage,
    /// Basic decoded as IIS does after KB 981280: UTF-8, then the code page; the same password gets in.
    BasicUtf8First,
    /// Published through Microsoft TMG 2010: the RPC_OUT_DATA answer comes with `Transfer-Encoding:
    /// chunked` (chunks that do not follow PDU boundaries) and `Via: 1.1 FIREWALL1`; otherwise healthy.
    TmgChunked,
    /// Healthy, and the host answers POX Autodiscover for its own domain (`alice@cpnone.oalab.test`) with
    /// `<CertPrincipalName>none</CertPrincipalName>` in EXPR: `Set-OutlookProvider EXPR -CertPrincipalName
    /// none`, mutual authentication off.
    CertPrincipalNone,
    /// The same with no `CertPrincipalName` in EXPR, as in Microsoft's POX example: the default
    /// `msstd:<EXPR Server>`.
    CertPrincipalDefault,
}

impl OaScenario {
    /// Every scenario, in the order of their addresses (`Healthy` is `127.(10+k).100.1`).
    pub const ALL: &'static [OaScenario] = &[
        OaScenario::Healthy,
        OaScenario::NoBasic,
        OaScenario::FrontProxy405,
        OaScenario::Unreachable6ba,
        OaScenario::BindRejected,
        OaScenario::SilentAfterHeaders,
        OaScenario::NtlmOnly,
        OaScenario::ExtendedProtection,
        OaScenario::ExtendedProtectionBridged,
        OaScenario::BasicCodePage,
        OaScenario::BasicUtf8First,
        OaScenario::TmgChunked,
        OaScenario::CertPrincipalNone,
        OaScenario::CertPrincipalDefault,
    ];

    /// A short lowercase id; also the first label of the proxy host.
    pub fn slug(self) -> &'static str {
        match self {
            OaScenario::Healthy => "healthy",
            OaScenario::NoBasic => "nobasic",
            OaScenario::FrontProxy405 => "frontproxy",
            OaScenario::Unreachable6ba => "unreachable",
            OaScenario::BindRejected => "bindrejected",
            OaScenario::SilentAfterHeaders => "silent",
            OaScenario::NtlmOnly => "ntlmonly",
            OaScenario::ExtendedProtection => "eprequire",
            OaScenario::ExtendedProtectionBridged => "epbridged",
            OaScenario::BasicCodePage => "codepage",
            OaScenario::BasicUtf8First => "utf8first",
            OaScenario::TmgChunked => "tmg",
            OaScenario::CertPrincipalNone => "cpnone",
            OaScenario::CertPrincipalDefault => "cpdefault",
        }
    }

    /// The RPC proxy host (what the user types as the RPC proxy server).
    pub fn proxy_host(self) -> String {
        format!("{}.{OA_ZONE}", self.slug())
    }

    /// The RPC server name the proxy knows (what the user types as the Exchange server).
    pub fn exchange_server(self) -> String {
        format!("ex01.{OA_ZONE}")
    }

    /// The migration account in UPN form (Basic).
    pub fn user(self) -> String {
        format!("migadmin@{OA_ZONE}")
    }

    /// The same account as `OALAB\migadmin` (NTLM, or Basic in down-level form).
    pub fn ntlm_user(self) -> String {
        format!("{OA_NTLM_DOMAIN}\\migadmin")
    }

    /// The address to run Autodiscover for, in the host's own domain, where the host answers POX
    /// Autodiscover (None: the scenario has no Autodiscover of its own).
    pub fn autodiscover_email(self) -> Option<String> {
        matches!(self.mode(), Mode::OwnAutodiscover { .. }).then(|| format!("alice@{}", self.proxy_host()))
    }

    /// The POX Autodiscover answer the host gives for its own domain (`exchange_server/pox.rs` names its
    /// source), None for a scenario without one.
    pub fn autodiscover_answer(self) -> Option<String> {
        match self.mode() {
            Mode::OwnAutodiscover { cert_principal } => Some(crate::exchange_server::pox::settings(
                &self.proxy_host(),
                &self.exchange_server(),
                cert_principal,
            )),
            _ => None,
        }
    }

    /// The domain of the host's mailboxes: its own where it answers Autodiscover for it, else the zone.
    fn mail_domain(self) -> String {
        match self.autodiscover_email() {
            Some(_) => self.proxy_host(),
            None => OA_ZONE.to_string(),
        }
    }

    /// The password the proxy accepts (with an umlaut where Basic's encoding is the point).
    pub fn password(self) -> String {
        match self {
            OaScenario::BasicCodePage | OaScenario::BasicUtf8First => "Oa-Lab-Passwört1!".to_string(),
            _ => "Oa-Lab-Passw0rd!".to_string(),
        }
    }

    /// One sentence: what the scenario plays.
    pub fn description(self) -> &'static str {
        match self {
            OaScenario::Healthy => {
                "Negotiate, NTLM and Basic offered; echo, virtual connection, binds on 6001/6002/6004 accepted; MAPI PING"
            }
            OaScenario::NoBasic => "only Negotiate offered (Kerberos-only IIS): every credential gets 401",
            OaScenario::FrontProxy405 => {
                "a reverse proxy in front: RPC_IN_DATA/RPC_OUT_DATA get 405, Allow: GET, HEAD, POST, OPTIONS"
            }
            OaScenario::Unreachable6ba => {
                "authenticates and echoes, but every channel to an RPC server gets 503 RPC Error: 6ba"
            }
            OaScenario::BindRejected => {
                "binds refused: 6001 bind_ack provider rejection, 6002 fault 0x1C010003, 6004 bind_nak"
            }
            OaScenario::SilentAfterHeaders => {
                "the OUT channel sends its 200 head and then nothing (echo still answers)"
            }
            OaScenario::NtlmOnly => "Negotiate and NTLM only: Basic gets 401, NTLM accepted",
            OaScenario::ExtendedProtection => {
                "Extended Protection as Exchange 2019 CU14+ sets it: /rpc and /mapi Require, /EWS Allow (NTLM only)"
            }
            OaScenario::ExtendedProtectionBridged => {
                "the same behind a load balancer that re-encrypts with its own certificate (SSL bridging)"
            }
            OaScenario::BasicCodePage => {
                "Basic decoded in Windows-1252 only; the password has an umlaut: UTF-8 clients are refused"
            }
            OaScenario::BasicUtf8First => {
                "Basic decoded as UTF-8, then Windows-1252 (IIS after KB 981280); the password has an umlaut"
            }
            OaScenario::TmgChunked => {
                "published through Microsoft TMG: the RPC_OUT_DATA answer is chunked (Transfer-Encoding: chunked, Via)"
            }
            OaScenario::CertPrincipalNone => {
                "its own POX Autodiscover for alice@cpnone.oalab.test: EXPR CertPrincipalName none (mutual authentication off)"
            }
            OaScenario::CertPrincipalDefault => {
                "its own POX Autodiscover for alice@cpdefault.oalab.test: EXPR without CertPrincipalName (default msstd:<Server>)"
            }
        }
    }

    /// How the host's IIS authenticates beyond its schemes.
    fn iis(self) -> Iis {
        match self {
            OaScenario::ExtendedProtection | OaScenario::ExtendedProtectionBridged => Iis {
                ews_schemes: Some(vec![Scheme::Negotiate, Scheme::Ntlm]),
                ..Iis::extended_protection()
            },
            OaScenario::BasicCodePage => Iis {
                basic: BasicDecoding::Windows1252,
                ..Iis::plain()
            },
            _ => Iis::plain(),
        }
    }

    /// The load balancer in front of the host, when there is one: it ends TLS with a certificate of its
    /// own (made by [`front_cert_requests`]).
    fn front(self) -> Option<TlsProfile> {
        (self == OaScenario::ExtendedProtectionBridged).then_some(LOAD_BALANCER)
    }

    fn front_cert_slug(self) -> String {
        format!("oa-{}-front", self.slug())
    }

    fn mode(self) -> Mode {
        match self {
            OaScenario::Healthy
            | OaScenario::NoBasic
            | OaScenario::NtlmOnly
            | OaScenario::ExtendedProtection
            | OaScenario::ExtendedProtectionBridged
            | OaScenario::BasicCodePage
            | OaScenario::BasicUtf8First => Mode::Normal,
            OaScenario::FrontProxy405 => Mode::FrontProxy405,
            OaScenario::Unreachable6ba => Mode::Unreachable6ba,
            OaScenario::BindRejected => Mode::BindRejected,
            OaScenario::SilentAfterHeaders => Mode::SilentAfterHeaders,
            OaScenario::TmgChunked => Mode::TmgChunked,
            OaScenario::CertPrincipalNone => Mode::OwnAutodiscover {
                cert_principal: Some("none"),
            },
            OaScenario::CertPrincipalDefault => Mode::OwnAutodiscover { cert_principal: None },
        }
    }

    fn schemes(self) -> Vec<Scheme> {
        match self {
            OaScenario::NoBasic => vec![Scheme::Negotiate],
            OaScenario::NtlmOnly => vec![Scheme::Negotiate, Scheme::Ntlm],
            _ => vec![Scheme::Negotiate, Scheme::Ntlm, Scheme::Basic],
        }
    }
}

impl ZoneScenario for OaScenario {
    const ALL: &'static [OaScenario] = OaScenario::ALL;

    fn host_name(self) -> String {
        self.proxy_host()
    }

    fn cert_slug(self) -> String {
        format!("oa-{}", self.slug())
    }
}

impl std::fmt::Display for OaScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// A load balancer as one is set up today: TLS 1.2 and 1.3, the AEAD suites of Mozilla's "intermediate"
/// configuration (https://ssl-config.mozilla.org/), ECDHE only.
const LOAD_BALANCER: TlsProfile = TlsProfile {
    name: "a load balancer ending TLS (TLS 1.2 and 1.3, ECDHE with AES-GCM or ChaCha20)",
    versions: &[TlsVersion::Tls1_2, TlsVersion::Tls1_3],
    ciphers: &[
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ],
    rsa_suites: &[
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ],
};

/// The certificates of the load balancers in front of scenario hosts: their own, for the host's name.
pub(crate) fn front_cert_requests() -> Vec<(String, Vec<String>)> {
    OaScenario::ALL
        .iter()
        .filter(|s| s.front().is_some())
        .map(|s| (s.front_cert_slug(), vec![s.proxy_host()]))
        .collect()
}

/// Where every scenario host lives in one lab slot.
pub(crate) type OaPlan = ZonePlan<OaScenario>;

pub(crate) fn plan(slot: &crate::slot::Slot) -> OaPlan {
    ZonePlan::new(slot, OA_ZONE, THIRD_OCTET)
}

/// The running manual-mode proxy hosts: started by [`crate::Lab::outlook_anywhere`], stopped with the lab.
pub struct OaLab {
    // Dropped first: the load balancers before the servers behind them.
    fronts: TlsFronts,
    zone: ZoneServer<OaScenario>,
}

impl std::fmt::Debug for OaLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OaLab")
            .field("dir", &self.zone.dir())
            .finish_non_exhaustive()
    }
}

impl OaLab {
    pub(crate) fn start(plan: OaPlan, dir: PathBuf, certs: &AdCertFiles) -> Result<OaLab, LabError> {
        let names = NtlmNames::ex01(OA_NTLM_DOMAIN, OA_ZONE);
        let host = |s: OaScenario, ip, cert: &ServerCert| HostConfig {
            ip: if s.front().is_some() { backend_ip(ip) } else { ip },
            name: s.proxy_host(),
            label: s.cert_slug(),
            chain: cert.chain.clone(),
            key: cert.key.clone(),
            schemes: s.schemes(),
            users: vec![User::migadmin(s.user(), OA_NTLM_DOMAIN, s.password())],
            ntlm_store: STORE.to_string(),
            rpc_servers: vec![s.exchange_server(), "ex01".to_string()],
            mode: s.mode(),
            // The Exchange behind the proxy: Subscription Edition, the zone's mailboxes.
            web: Web::Exchange(ExchangeWeb {
                owa_version: BUILD_SE,
                ews_version: BUILD_SE,
                mrs_enabled: true,
                fe_server: "EX01",
                external_ews: true,
                mail_domain: s.mail_domain(),
            }),
            iis: s.iis(),
        };
        let mut fronts = Vec::new();
        for &s in OaScenario::ALL {
            let (Some(profile), IpAddr::V4(ip)) = (s.front(), plan.addr(s)) else {
                continue;
            };
            let cert = certs.leaves.get(&s.front_cert_slug()).ok_or_else(|| {
                LabError::Setup(format!("internal: no load balancer certificate for {}", s.proxy_host()))
            })?;
            // Its own certificate, not Exchange's: what breaks Extended Protection.
            fronts.push(FrontSpec::before(s.slug(), ip, s.proxy_host(), cert, profile));
        }
        let front_dir = dir.join("tls-front");
        let zone = ZoneServer::start(plan, dir, certs, (STORE, names), "rpcproxy-access.log", host)?;
        let fronts = TlsFronts::start(&front_dir, fronts)?;
        Ok(OaLab { fronts, zone })
    }

    /// The load balancers in front of scenario hosts ([`OaScenario::ExtendedProtectionBridged`]).
    pub fn fronts(&self) -> &TlsFronts {
        &self.fronts
    }

    /// The proxy host's address (`127.(10+k).100.N`).
    pub fn addr(&self, s: OaScenario) -> IpAddr {
        self.zone.addr(s)
    }

    /// One line per request: `<listen addr> <host> "<METHOD> <path>" <status> <user or -> <scenario>`.
    pub fn request_log(&self) -> PathBuf {
        self.zone.request_log()
    }

    /// Where the proxy's NTLM user file, helper config and logs are.
    pub fn dir(&self) -> &Path {
        self.zone.dir()
    }
}
