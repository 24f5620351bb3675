//! Autodiscover (KB step 3) scenarios as data, and the servers that play them.
//!
//! Every scenario is an e-mail domain `<slug>.adlab.test` with its own hosts on the lab's slot block
//! `127.(10+k).S.H` (S = scenario number, H = host), served on the REAL ports 443 and 80 (clients
//! ignore ports in Autodiscover). The lab's dnsmasq answers their A and SRV records; one nginx serves
//! the POX answers (static files behind real Basic authentication), Apache with mod_auth_gssapi +
//! gss-ntlmssp serves the NTLM-only scenario, and a silent listener of ours plays the hanging host.
//!
//! The servers start on the first [`crate::Lab::autodiscover`] call (their DNS records and
//! certificates exist from [`crate::Lab::start`] on).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::LabError;
use crate::tls_front::{SCHANNEL_2012R2, TlsProfile};

/// The DNS zone of every Autodiscover scenario (dnsmasq answers it; other names in it are NXDOMAIN).
pub const AD_ZONE: &str = "adlab.test";
/// The Exchange build the servers pretend to be (X-OWA-Version: Exchange 2016 CU23) ...
pub const OWA_VERSION: &str = "15.1.2507.6";
/// ... and the same build as EXCH `<ServerVersion>` (15.1.2507).
pub const SERVER_VERSION: &str = "73C189CB";
/// The NTLM domain of the NTLM-only scenario's user (`CONTOSO\alice`).
pub const NTLM_DOMAIN: &str = "CONTOSO";

/// One Autodiscover scenario: the domain, the user, and what a correct probe must conclude.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdScenario {
    /// The root domain refuses; `autodiscover.D` (Exchange 2016 CU23, MAPI over HTTP on, as 2016
    /// installs it) answers EXCH + EXPR + WEB (Basic), and to a request with `X-MapiHttpCapability` the
    /// mapiHttp form without top-level EXCH and EXPR. Also answers Autodiscover V2 (`autodiscover.json`)
    /// anonymously.
    Healthy,
    /// Only DNS SRV works: two records, priority 10 -> `adsrv.D` (EX01), priority 20 -> `adsrv-dr.D`
    /// (EXDR01, the same settings). The lowest priority value must win: the answering host shows it.
    SrvOnly,
    /// Only candidate 3: `http://autodiscover.D` answers 302 to `https://mail.D/autodiscover/autodiscover.xml`.
    HttpRedirectOnly,
    /// `autodiscover.D` answers `redirectAddr` to `alice@newco.adlab.test`, whose own
    /// `autodiscover.newco.adlab.test` answers the settings.
    RedirectAddr,
    /// `autodiscover.D` answers `redirectUrl` to `https://ad2.D/autodiscover/autodiscover.xml`, which answers.
    RedirectUrl,
    /// `autodiscover.D` and `adloop.D` answer `redirectUrl` pointing at each other.
    RedirectLoop,
    /// The right user with a wrong password: [`AdScenario::password`] is what to send, the server answers 401.
    WrongPassword,
    /// Apache with real NTLM (gss-ntlmssp) only, no Basic: `WWW-Authenticate: Negotiate` and `NTLM`.
    NtlmOnly,
    /// An Autodiscover Error answer, ErrorCode 500 "The e-mail address cannot be found."
    Error500,
    /// An Autodiscover Error answer, ErrorCode 600 "Invalid Request".
    Error600,
    /// Settings without an EXPR block (EXCH + WEB only): no Outlook Anywhere host.
    NoExpr,
    /// The root domain serves a web site with a certificate for `www.otherdomain.test` only;
    /// `autodiscover.D` answers.
    RootDomainWebsite,
    /// The root domain and `autodiscover.D` accept TCP and never answer; the SRV candidate (`adsrv.D`) answers.
    Hanging,
    /// Exchange 2016 on Windows Server 2012 R2: `autodiscover.D` (nginx) and `mail.D` (the lab's
    /// Exchange behind a TLS front) offer only the default Schannel suites with an RSA certificate
    /// ([`crate::tls_front::SCHANNEL_2012R2`]); otherwise as [`AdScenario::Healthy`] without V2.
    Windows2012R2,
    /// MAPI over HTTP off (an Exchange 2016 organisation upgraded from 2013 keeps it off): the
    /// EXCH/EXPR answer whether or not the request carries `X-MapiHttpCapability`.
    MapiDisabled,
    /// Exchange 2007: Microsoft's "POX Autodiscover response for Exchange" (EXCH, EXPR and WEB; ASUrl
    /// and no EwsUrl; no SSL, AuthPackage or CertPrincipalName in EXPR), the domain put in; EXPR
    /// `Exchange.D`, EWS at `https://mail.D/ews/exchange.asmx`.
    Exchange2007,
    /// The root domain is a SharePoint site that answers 401 to every request, the credentials too;
    /// `autodiscover.D` answers the settings.
    RootSharePoint,
}

/// The four Autodiscover candidates, in the order a client tries them (PROTOCOLS.md 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdCandidate {
    /// 1: `POST https://D/autodiscover/autodiscover.xml`
    RootDomain,
    /// 2: `POST https://autodiscover.D/autodiscover/autodiscover.xml`
    AutodiscoverHost,
    /// 3: `GET http://autodiscover.D/autodiscover/autodiscover.xml` -> 302 -> POST to the https Location
    HttpRedirect,
    /// 4: DNS SRV `_autodiscover._tcp.D` -> `POST https://TARGET/autodiscover/autodiscover.xml`
    Srv,
}

impl AdCandidate {
    /// 1..=4, as numbered in the KB and PROTOCOLS.md.
    pub fn number(self) -> u8 {
        match self {
            AdCandidate::RootDomain => 1,
            AdCandidate::AutodiscoverHost => 2,
            AdCandidate::HttpRedirect => 3,
            AdCandidate::Srv => 4,
        }
    }
}

/// A redirect on the way to the settings (or into the loop), in the order met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdRedirect {
    /// HTTP 302 from candidate 3, to this https URL.
    Http(String),
    /// `<Action>redirectUrl</Action>` to this URL.
    Url(String),
    /// `<Action>redirectAddr</Action>` to this address (the whole sequence restarts for it).
    Addr(String),
}

/// Why no settings are found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdFailure {
    /// The only server that answers rejects the credentials: HTTP 401 from this URL.
    Unauthorized { url: String },
    /// The server answers an Autodiscover `<Error>`.
    ErrorCode { code: u16, message: &'static str },
    /// `redirectUrl` answers that point at each other (a client must stop, at the latest after 10).
    RedirectLoop { urls: Vec<String> },
}

/// What a correct probe finds for a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdExpected {
    /// The candidate whose sequence ends in settings (after a redirectAddr: the candidate for the new
    /// address). `None`: no settings at all.
    pub candidate: Option<AdCandidate>,
    /// The URL that answers `<Action>settings</Action>`.
    pub settings_url: Option<String>,
    /// The address the settings are for (differs from [`AdScenario::email`] after a redirectAddr).
    pub settings_for: String,
    /// Redirects followed, in order.
    pub redirects: Vec<AdRedirect>,
    /// EXPR `<Server>`: the Outlook Anywhere (RPC proxy) host. `None`: no EXPR block.
    pub expr_server: Option<String>,
    /// EXPR `<AuthPackage>` as written in the answer (`Basic`, `Ntlm`).
    pub expr_auth_package: Option<&'static str>,
    /// EXPR `<CertPrincipalName>`.
    pub cert_principal_name: Option<String>,
    /// EXCH `<Server>`: the RPC server name (`<mailbox-guid>@<domain>`, Exchange 2013+ style).
    pub exch_server: Option<String>,
    /// EXCH `<ServerVersion>` (8 hex digits).
    pub server_version: Option<&'static str>,
    /// mapiHttp MailStore `<ExternalUrl>` in the answer to a request with `X-MapiHttpCapability: 1`
    /// (MAPI over HTTP on; that answer then has no top-level EXCH or EXPR). `None`: MAPI over HTTP off.
    pub mapi_mailstore_url: Option<String>,
    /// The EWS URL the settings give: EXPR's `EwsUrl`, or its `ASUrl` where there is none (Exchange 2007).
    pub ews_url: Option<String>,
    /// The product the root domain shows itself to be when it refuses the credentials (`SharePoint`).
    pub root_refuses_as: Option<&'static str>,
    /// `X-FEServer` of the server that answers the settings (fingerprint; tells SRV targets apart).
    pub fe_server: Option<&'static str>,
    /// Why there are no settings.
    pub failure: Option<AdFailure>,
}

impl AdExpected {
    /// No settings, for `failure`, after these redirects.
    pub fn failed(settings_for: String, redirects: Vec<AdRedirect>, failure: AdFailure) -> Self {
        AdExpected {
            candidate: None,
            settings_url: None,
            settings_for,
            redirects,
            expr_server: None,
            expr_auth_package: None,
            cert_principal_name: None,
            exch_server: None,
            server_version: None,
            mapi_mailstore_url: None,
            ews_url: None,
            root_refuses_as: None,
            fe_server: None,
            failure: Some(failure),
        }
    }
}

/// One DNS SRV record `_autodiscover._tcp.D`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdSrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// A host of a scenario as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdHost {
    pub name: String,
    pub addr: IpAddr,
    /// What listens there, in words.
    pub role: String,
}

const PROTOCOL_PATH: &str = "/autodiscover/autodiscover.xml";

impl AdScenario {
    /// Every scenario, in the order of their address blocks (`Healthy` is `127.(10+k).1.0/24`).
    pub const ALL: &'static [AdScenario] = &[
        AdScenario::Healthy,
        AdScenario::SrvOnly,
        AdScenario::HttpRedirectOnly,
        AdScenario::RedirectAddr,
        AdScenario::RedirectUrl,
        AdScenario::RedirectLoop,
        AdScenario::WrongPassword,
        AdScenario::NtlmOnly,
        AdScenario::Error500,
        AdScenario::Error600,
        AdScenario::NoExpr,
        AdScenario::RootDomainWebsite,
        AdScenario::Hanging,
        AdScenario::Windows2012R2,
        AdScenario::MapiDisabled,
        AdScenario::Exchange2007,
        AdScenario::RootSharePoint,
    ];

    /// A short lowercase id; also the first label of the scenario's domain.
    pub fn slug(self) -> &'static str {
        match self {
            AdScenario::Healthy => "healthy",
            AdScenario::SrvOnly => "srvonly",
            AdScenario::HttpRedirectOnly => "httpredirect",
            AdScenario::RedirectAddr => "redirectaddr",
            AdScenario::RedirectUrl => "redirecturl",
            AdScenario::RedirectLoop => "redirectloop",
            AdScenario::WrongPassword => "wrongpassword",
            AdScenario::NtlmOnly => "ntlmonly",
            AdScenario::Error500 => "error500",
            AdScenario::Error600 => "error600",
            AdScenario::NoExpr => "noexpr",
            AdScenario::RootDomainWebsite => "rootwebsite",
            AdScenario::Hanging => "hanging",
            AdScenario::Windows2012R2 => "win2012r2",
            AdScenario::MapiDisabled => "mapioff",
            AdScenario::Exchange2007 => "ex2007",
            AdScenario::RootSharePoint => "rootsharepoint",
        }
    }

    /// One sentence: what the scenario plays.
    pub fn description(self) -> &'static str {
        match self {
            AdScenario::Healthy => {
                "root domain refuses; autodiscover.D answers EXCH, EXPR (Basic, msstd:mail.D) and WEB, or mapiHttp to X-MapiHttpCapability; V2 JSON too"
            }
            AdScenario::SrvOnly => {
                "only the SRV records work: priority 10 -> adsrv.D (EX01), priority 20 -> adsrv-dr.D (EXDR01); the lowest value wins"
            }
            AdScenario::HttpRedirectOnly => {
                "only candidate 3: http://autodiscover.D answers 302 to https://mail.D/autodiscover/autodiscover.xml; EXPR outlook.D"
            }
            AdScenario::RedirectAddr => {
                "autodiscover.D answers redirectAddr to alice@newco.adlab.test, whose autodiscover host answers settings"
            }
            AdScenario::RedirectUrl => {
                "autodiscover.D answers redirectUrl to https://ad2.D/..., which answers settings"
            }
            AdScenario::RedirectLoop => "autodiscover.D and adloop.D answer redirectUrl to each other",
            AdScenario::WrongPassword => "the right user with a wrong password: autodiscover.D answers 401",
            AdScenario::NtlmOnly => {
                "autodiscover.D is Apache with real NTLM (gss-ntlmssp) and no Basic; EXPR AuthPackage Ntlm"
            }
            AdScenario::Error500 => "autodiscover.D answers Error 500: The e-mail address cannot be found.",
            AdScenario::Error600 => "autodiscover.D answers Error 600: Invalid Request",
            AdScenario::NoExpr => "settings without an EXPR block: no Outlook Anywhere host published",
            AdScenario::RootDomainWebsite => {
                "https://D is a web site with a certificate for www.otherdomain.test only; autodiscover.D answers"
            }
            AdScenario::Hanging => {
                "the root domain and autodiscover.D accept TCP and never answer; the SRV target adsrv.D answers"
            }
            AdScenario::Windows2012R2 => {
                "Windows Server 2012 R2: autodiscover.D and mail.D offer only the default Schannel suites (RSA certificates); MAPI over HTTP on"
            }
            AdScenario::MapiDisabled => {
                "MAPI over HTTP off: autodiscover.D answers EXCH and EXPR with or without X-MapiHttpCapability"
            }
            AdScenario::Exchange2007 => {
                "Exchange 2007 (Microsoft's POX example): ASUrl and no EwsUrl; EXPR Exchange.D without SSL, AuthPackage or CertPrincipalName"
            }
            AdScenario::RootSharePoint => {
                "the root domain is SharePoint 2013 answering 401 to everything, the credentials too; autodiscover.D answers"
            }
        }
    }

    /// The scenario's e-mail domain `D`.
    pub fn domain(self) -> String {
        format!("{}.{AD_ZONE}", self.slug())
    }

    /// The address to autodiscover.
    pub fn email(self) -> String {
        format!("alice@{}", self.domain())
    }

    /// The user name to authenticate with: the UPN for Basic, `CONTOSO\alice` for NTLM.
    pub fn user(self) -> String {
        match self {
            AdScenario::NtlmOnly => format!("{NTLM_DOMAIN}\\alice"),
            _ => self.email(),
        }
    }

    /// The password to SEND (for [`AdScenario::WrongPassword`] a wrong one).
    pub fn password(self) -> String {
        match self {
            AdScenario::WrongPassword => "Wrong-Passw0rd!".to_string(),
            _ => self.server_password(),
        }
    }

    /// The password the servers accept for [`AdScenario::user`].
    pub fn server_password(self) -> String {
        format!("Lab-{}-Passw0rd!", self.slug())
    }

    /// Whether the servers want NTLM (else Basic).
    pub fn uses_ntlm(self) -> bool {
        self == AdScenario::NtlmOnly
    }

    /// The SRV records `_autodiscover._tcp.D` (empty: NXDOMAIN), in the order dnsmasq is given them.
    pub fn srv_records(self) -> Vec<AdSrvRecord> {
        let d = self.domain();
        let rec = |priority, weight, target: &str| AdSrvRecord {
            priority,
            weight,
            port: 443,
            target: format!("{target}.{d}"),
        };
        match self {
            // The higher value first, so "take the first record" is caught too.
            AdScenario::SrvOnly => vec![rec(20, 100, "adsrv-dr"), rec(10, 100, "adsrv")],
            AdScenario::Hanging => vec![rec(0, 0, "adsrv")],
            _ => Vec::new(),
        }
    }

    /// What a correct probe concludes for this scenario.
    pub fn expected(self) -> AdExpected {
        let d = self.domain();
        let url = |host: &str| format!("https://{host}{PROTOCOL_PATH}");
        let settings = |candidate, from: &str, for_domain: &str, fe| {
            let guid = mailbox_guid(self);
            AdExpected {
                candidate: Some(candidate),
                settings_url: Some(url(from)),
                settings_for: format!("alice@{for_domain}"),
                redirects: Vec::new(),
                expr_server: Some(expr_host(self, for_domain)),
                expr_auth_package: Some(if self.uses_ntlm() { "Ntlm" } else { "Basic" }),
                cert_principal_name: Some(format!("msstd:{}", expr_host(self, for_domain))),
                exch_server: Some(format!("{guid}@{for_domain}")),
                server_version: Some(SERVER_VERSION),
                mapi_mailstore_url: None,
                ews_url: Some(format!("https://{}/EWS/Exchange.asmx", expr_host(self, for_domain))),
                root_refuses_as: None,
                fe_server: Some(fe),
                failure: None,
            }
        };
        let failed = |failure| AdExpected::failed(self.email(), Vec::new(), failure);
        let ad_host = format!("autodiscover.{d}");
        match self {
            AdScenario::Healthy | AdScenario::Windows2012R2 => {
                let mut e = settings(AdCandidate::AutodiscoverHost, &ad_host, &d, FE_MAIN);
                e.mapi_mailstore_url = Some(format!(
                    "https://mail.{d}/mapi/emsmdb/?MailboxId={}@{d}",
                    mailbox_guid(self)
                ));
                e
            }
            AdScenario::SrvOnly | AdScenario::Hanging => settings(AdCandidate::Srv, &format!("adsrv.{d}"), &d, FE_MAIN),
            AdScenario::HttpRedirectOnly => {
                let mut e = settings(AdCandidate::HttpRedirect, &format!("mail.{d}"), &d, FE_MAIN);
                e.redirects = vec![AdRedirect::Http(url(&format!("mail.{d}")))];
                e
            }
            AdScenario::RedirectAddr => {
                let new = format!("newco.{AD_ZONE}");
                let mut e = settings(
                    AdCandidate::AutodiscoverHost,
                    &format!("autodiscover.{new}"),
                    &new,
                    FE_MAIN,
                );
                e.redirects = vec![AdRedirect::Addr(format!("alice@{new}"))];
                e
            }
            AdScenario::RedirectUrl => {
                let mut e = settings(AdCandidate::AutodiscoverHost, &format!("ad2.{d}"), &d, FE_MAIN);
                e.redirects = vec![AdRedirect::Url(url(&format!("ad2.{d}")))];
                e
            }
            AdScenario::RedirectLoop => {
                let mut e = failed(AdFailure::RedirectLoop {
                    urls: vec![url(&ad_host), url(&format!("adloop.{d}"))],
                });
                e.redirects = vec![
                    AdRedirect::Url(url(&format!("adloop.{d}"))),
                    AdRedirect::Url(url(&ad_host)),
                ];
                e
            }
            AdScenario::WrongPassword => failed(AdFailure::Unauthorized { url: url(&ad_host) }),
            AdScenario::NtlmOnly => settings(AdCandidate::AutodiscoverHost, &ad_host, &d, FE_MAIN),
            AdScenario::Error500 => failed(AdFailure::ErrorCode {
                code: 500,
                message: ERROR_500,
            }),
            AdScenario::Error600 => failed(AdFailure::ErrorCode {
                code: 600,
                message: ERROR_600,
            }),
            AdScenario::NoExpr => {
                let mut e = settings(AdCandidate::AutodiscoverHost, &ad_host, &d, FE_MAIN);
                e.expr_server = None;
                e.expr_auth_package = None;
                e.cert_principal_name = None;
                e
            }
            AdScenario::RootDomainWebsite | AdScenario::MapiDisabled => {
                settings(AdCandidate::AutodiscoverHost, &ad_host, &d, FE_MAIN)
            }
            AdScenario::RootSharePoint => {
                let mut e = settings(AdCandidate::AutodiscoverHost, &ad_host, &d, FE_MAIN);
                e.root_refuses_as = Some("SharePoint");
                e
            }
            AdScenario::Exchange2007 => {
                let mut e = settings(AdCandidate::AutodiscoverHost, &ad_host, &d, FE_MAIN);
                e.expr_auth_package = None;
                e.cert_principal_name = None;
                e.exch_server = Some(format!("MBX-SERVER.mail.internal.{d}"));
                e.server_version = Some(crate::ad_pox::EXCHANGE_2007_SERVER_VERSION);
                e.ews_url = Some(format!("https://mail.{d}/ews/exchange.asmx"));
                // Exchange 2007's IIS writes none of 2013's front-end headers.
                e.fe_server = None;
                e
            }
        }
    }

    /// The Exchange build the scenario's Exchange hosts (EWS, OWA) report: Exchange 2016 CU23, or for
    /// [`AdScenario::Exchange2007`] the build its Autodiscover answer names (ServerVersion 72008287).
    pub fn web_build(self) -> &'static str {
        match self {
            AdScenario::Exchange2007 => "8.0.647.0",
            _ => OWA_VERSION,
        }
    }

    /// The EXCH Server (RPC server) of the settings for `domain`.
    pub(crate) fn exch_server(self, domain: &str) -> String {
        match self {
            AdScenario::Exchange2007 => format!("MBX-SERVER.mail.internal.{domain}"),
            _ => format!("{}@{domain}", mailbox_guid(self)),
        }
    }

    /// The Windows TLS set-up its HTTPS hosts play (None: the lab's usual TLS 1.2 and 1.3).
    pub fn windows_tls(self) -> Option<TlsProfile> {
        match self {
            AdScenario::Windows2012R2 => Some(SCHANNEL_2012R2),
            _ => None,
        }
    }

    /// 1-based position in [`AdScenario::ALL`]: the third octet of the scenario's addresses.
    pub(crate) fn number(self) -> u8 {
        let i = AdScenario::ALL.iter().position(|s| *s == self).unwrap_or(0);
        u8::try_from(i + 1).unwrap_or(u8::MAX)
    }
}

impl std::fmt::Display for AdScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

pub(crate) const FE_MAIN: &str = "EX01";
pub(crate) const FE_DR: &str = "EXDR01";
pub(crate) const ERROR_500: &str = "The e-mail address cannot be found.";
pub(crate) const ERROR_600: &str = "Invalid Request";

/// The EXPR Server (the Outlook Anywhere proxy host) of settings for `domain`: `mail.<domain>`,
/// except in [`AdScenario::HttpRedirectOnly`], where `mail.D` serves POX through nginx and the
/// proxy is `outlook.D`.
pub(crate) fn expr_host(s: AdScenario, domain: &str) -> String {
    match s {
        AdScenario::HttpRedirectOnly => format!("outlook.{domain}"),
        // As Microsoft's example writes it (`Exchange.contoso.com`); DNS and certificates ignore the case.
        AdScenario::Exchange2007 => format!("Exchange.{domain}"),
        _ => format!("mail.{domain}"),
    }
}

/// The mailbox GUID of alice in a scenario (the EXCH Server is `<guid>@<domain>`).
pub(crate) fn mailbox_guid(s: AdScenario) -> String {
    format!("6f1c2b7a-3d4e-4a5b-9c8d-7e6f5a4b3c{:02x}", s.number())
}

// ---------------------------------------------------------------------------------------------
// The plan: every host of every scenario, with its address in this lab's slot and what it serves.

/// What a POX endpoint answers (after authentication).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// `<Action>settings</Action>` for `alice@<domain>`. `mapi`: MAPI over HTTP is on, so a request
    /// with `X-MapiHttpCapability` gets the mapiHttp form.
    Settings {
        domain: String,
        expr: bool,
        ntlm: bool,
        mapi: bool,
    },
    /// Microsoft's Exchange 2007 example for `alice@<domain>` (`ad_pox::exchange_2007`).
    Exchange2007 {
        domain: String,
    },
    RedirectAddr(String),
    RedirectUrl(String),
    Error500,
    Error600,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Serve {
    /// An A record only: connection refused.
    Nothing,
    /// nginx, HTTPS 443: POX behind Basic (`users`: the scenario whose user may log in). `fe`: the
    /// `X-FEServer` of Exchange 2013 and later's front end; None: Exchange 2007's IIS, no such headers.
    Pox {
        answer: Answer,
        fe: Option<&'static str>,
        v2: bool,
    },
    /// Apache, HTTPS 443: POX behind NTLM.
    NtlmPox { answer: Answer },
    /// nginx, HTTP 80 only: 302 to this URL for the Autodiscover path.
    Redirect80 { location: String },
    /// nginx, HTTPS 443: a web site; the certificate names `www.otherdomain.test` only.
    Website,
    /// nginx, HTTPS 443: a SharePoint 2013 site (IIS 8.5) that answers every request 401, whatever the
    /// credentials, with the headers of a real one (`ad_servers::sharepoint`).
    SharePoint,
    /// Our silent listener on 443: accepts, never answers.
    Silent,
    /// The lab's RPC proxy, HTTPS 443: the Outlook Anywhere host the settings name (EXPR Server),
    /// with a certificate for its name; RPC over HTTP and MAPI PING for the scenario's user.
    OutlookAnywhere,
}

#[derive(Clone, Debug)]
pub(crate) struct HostPlan {
    pub scenario: AdScenario,
    pub name: String,
    pub ip: Ipv4Addr,
    pub serve: Serve,
}

impl HostPlan {
    /// A short id for file names (`healthy-autodiscover`).
    pub(crate) fn slug(&self) -> String {
        let first = self.name.split('.').next().unwrap_or("host");
        let apex = self.name == self.scenario.domain();
        let org = if self.name.ends_with(&format!(".newco.{AD_ZONE}")) || self.name == format!("newco.{AD_ZONE}") {
            "newco"
        } else {
            self.scenario.slug()
        };
        if apex || self.name == format!("newco.{AD_ZONE}") {
            format!("{org}-apex")
        } else {
            format!("{org}-{first}")
        }
    }

    /// The names the host's certificate carries (None: no TLS).
    pub(crate) fn cert_names(&self) -> Option<Vec<String>> {
        match &self.serve {
            Serve::Pox { .. } | Serve::NtlmPox { .. } | Serve::OutlookAnywhere | Serve::SharePoint => {
                Some(vec![self.name.clone()])
            }
            Serve::Website => Some(vec!["www.otherdomain.test".to_string()]),
            Serve::Nothing | Serve::Redirect80 { .. } | Serve::Silent => None,
        }
    }

    fn role(&self) -> String {
        match &self.serve {
            Serve::Nothing => "nothing listens (connection refused)".into(),
            Serve::Pox { answer, fe, v2 } => format!(
                "nginx https:443, Basic, {}: {}{}",
                fe.map_or("Exchange 2007's IIS".to_string(), |fe| format!("X-FEServer {fe}")),
                answer.describe(),
                if *v2 { "; V2 autodiscover.json anonymous" } else { "" }
            ),
            Serve::NtlmPox { answer } => format!("Apache https:443, NTLM only: {}", answer.describe()),
            Serve::Redirect80 { location } => format!("nginx http:80: 302 to {location}"),
            Serve::Website => "nginx https:443: a web site, certificate for www.otherdomain.test".into(),
            Serve::SharePoint => {
                "nginx https:443: SharePoint 2013 on IIS 8.5, 401 to every request (credentials too)".into()
            }
            Serve::Silent => "accepts TCP on 443, never answers".into(),
            Serve::OutlookAnywhere => format!(
                "the lab's Exchange front end https:443: Outlook Anywhere (RPC over HTTP, {}), MAPI PING, EWS, MRS Proxy, OWA (2016 CU23)",
                if self.scenario.uses_ntlm() {
                    "NTLM only"
                } else {
                    "Basic + NTLM"
                }
            ),
        }
    }
}

impl Answer {
    fn describe(&self) -> String {
        match self {
            Answer::Settings { expr, mapi, .. } => format!(
                "settings (EXCH{}, WEB{}; EXHTTP to ExHttpInfo)",
                if *expr { ", EXPR" } else { "" },
                if *mapi {
                    "; mapiHttp instead of EXCH/EXPR to X-MapiHttpCapability"
                } else {
                    ""
                }
            ),
            Answer::Exchange2007 { .. } => "Microsoft's Exchange 2007 settings (EXCH, EXPR, WEB; ASUrl)".into(),
            Answer::RedirectAddr(a) => format!("redirectAddr {a}"),
            Answer::RedirectUrl(u) => format!("redirectUrl {u}"),
            Answer::Error500 => "Error 500".into(),
            Answer::Error600 => "Error 600".into(),
        }
    }
}

/// Every host and SRV record of every scenario, placed in one slot.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub cidr: String,
    pub hosts: Vec<HostPlan>,
}

impl Plan {
    pub(crate) fn new(slot: &crate::slot::Slot) -> Plan {
        let mut hosts = Vec::new();
        for &s in AdScenario::ALL {
            let d = s.domain();
            let third = s.number();
            let mut add = |fourth: u8, name: String, serve: Serve| {
                hosts.push(HostPlan {
                    scenario: s,
                    name,
                    ip: slot.ip(third, fourth),
                    serve,
                });
            };
            let settings = |domain: &str, expr: bool, mapi: bool| Answer::Settings {
                domain: domain.to_string(),
                expr,
                ntlm: s.uses_ntlm(),
                mapi,
            };
            let pox = |answer| Serve::Pox {
                answer,
                fe: Some(FE_MAIN),
                v2: false,
            };
            let url = |host: &str| format!("https://{host}.{d}{PROTOCOL_PATH}");
            // Host 1: the root domain; 2: autodiscover.D; 3: mail.D; 4..: others.
            let root = match s {
                AdScenario::RootDomainWebsite => Serve::Website,
                AdScenario::Hanging => Serve::Silent,
                AdScenario::RootSharePoint => Serve::SharePoint,
                _ => Serve::Nothing,
            };
            add(1, d.clone(), root);
            let mail = if s == AdScenario::HttpRedirectOnly {
                pox(settings(&d, true, false))
            } else {
                Serve::OutlookAnywhere
            };
            add(3, format!("mail.{d}"), mail);
            let ad = format!("autodiscover.{d}");
            match s {
                AdScenario::Healthy => add(
                    2,
                    ad,
                    Serve::Pox {
                        answer: settings(&d, true, true),
                        fe: Some(FE_MAIN),
                        v2: true,
                    },
                ),
                AdScenario::SrvOnly => {
                    // autodiscover.D has no DNS record at all.
                    add(4, format!("adsrv.{d}"), pox(settings(&d, true, false)));
                    add(
                        5,
                        format!("adsrv-dr.{d}"),
                        Serve::Pox {
                            answer: settings(&d, true, false),
                            fe: Some(FE_DR),
                            v2: false,
                        },
                    );
                }
                AdScenario::HttpRedirectOnly => {
                    add(2, ad, Serve::Redirect80 { location: url("mail") });
                    // mail.D serves POX here: the Outlook Anywhere host is outlook.D.
                    add(4, format!("outlook.{d}"), Serve::OutlookAnywhere);
                }
                AdScenario::RedirectAddr => {
                    let new = format!("newco.{AD_ZONE}");
                    add(2, ad, pox(Answer::RedirectAddr(format!("alice@{new}"))));
                    add(11, new.clone(), Serve::Nothing);
                    add(12, format!("autodiscover.{new}"), pox(settings(&new, true, false)));
                    add(13, format!("mail.{new}"), Serve::OutlookAnywhere);
                }
                AdScenario::RedirectUrl => {
                    add(2, ad, pox(Answer::RedirectUrl(url("ad2"))));
                    add(4, format!("ad2.{d}"), pox(settings(&d, true, false)));
                }
                AdScenario::RedirectLoop => {
                    add(2, ad, pox(Answer::RedirectUrl(url("adloop"))));
                    add(4, format!("adloop.{d}"), pox(Answer::RedirectUrl(url("autodiscover"))));
                }
                AdScenario::WrongPassword
                | AdScenario::RootDomainWebsite
                | AdScenario::MapiDisabled
                | AdScenario::RootSharePoint => {
                    add(2, ad, pox(settings(&d, true, false)));
                }
                AdScenario::Exchange2007 => {
                    let answer = Answer::Exchange2007 { domain: d.clone() };
                    add(
                        2,
                        ad,
                        Serve::Pox {
                            answer,
                            fe: None,
                            v2: false,
                        },
                    );
                    // mail.D serves EWS (the ASUrl); the EXPR host is exchange.D.
                    add(4, format!("exchange.{d}"), Serve::OutlookAnywhere);
                }
                AdScenario::NtlmOnly => add(
                    2,
                    ad,
                    Serve::NtlmPox {
                        answer: settings(&d, true, false),
                    },
                ),
                AdScenario::Error500 => add(2, ad, pox(Answer::Error500)),
                AdScenario::Error600 => add(2, ad, pox(Answer::Error600)),
                AdScenario::NoExpr => add(2, ad, pox(settings(&d, false, false))),
                AdScenario::Windows2012R2 => add(2, ad, pox(settings(&d, true, true))),
                AdScenario::Hanging => {
                    add(2, ad, Serve::Silent);
                    add(4, format!("adsrv.{d}"), pox(settings(&d, true, false)));
                }
            }
        }
        Plan {
            cidr: slot.cidr(),
            hosts,
        }
    }

    /// dnsmasq arguments for the scenario zone, A records and SRV records.
    pub(crate) fn dnsmasq_args(&self) -> Vec<String> {
        let mut args = vec![format!("--local=/{AD_ZONE}/")];
        for h in &self.hosts {
            args.push(format!("--host-record={},{}", h.name, h.ip));
        }
        for &s in AdScenario::ALL {
            for r in s.srv_records() {
                args.push(format!(
                    "--srv-host=_autodiscover._tcp.{},{},{},{},{}",
                    s.domain(),
                    r.target,
                    r.port,
                    r.priority,
                    r.weight
                ));
            }
        }
        args
    }

    /// The certificate slugs whose leaves have an RSA key: the hosts of the Windows scenarios.
    pub(crate) fn rsa_slugs(&self) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|h| h.scenario.windows_tls().is_some() && h.cert_names().is_some())
            .map(HostPlan::slug)
            .collect()
    }

    /// The hosts that carry a certificate, with the names it must cover: (file slug, names).
    pub(crate) fn cert_requests(&self) -> Vec<(String, Vec<String>)> {
        self.hosts
            .iter()
            .filter_map(|h| h.cert_names().map(|n| (h.slug(), n)))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The running servers.

/// The Autodiscover side of a lab: started by [`crate::Lab::autodiscover`], stopped with the lab.
pub struct AutodiscoverLab {
    plan: Plan,
    dir: PathBuf,
    startup: Duration,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for AutodiscoverLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutodiscoverLab")
            .field("cidr", &self.plan.cidr)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl AutodiscoverLab {
    /// Starts nginx, Apache and the silent listener from a thread of their own that lives as long as
    /// the returned value (their `PR_SET_PDEATHSIG` is tied to that thread).
    pub(crate) fn start(
        plan: Plan,
        dir: PathBuf,
        certs: crate::certs::AdCertFiles,
    ) -> Result<AutodiscoverLab, LabError> {
        let started = std::time::Instant::now();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), LabError>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread_plan = plan.clone();
        let thread_dir = dir.clone();
        let handle = thread::Builder::new()
            .name("migcheck-lab-autodiscover".into())
            .spawn(move || {
                let servers = match crate::ad_servers::AdServers::start(&thread_dir, &thread_plan, &certs) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                if ready_tx.send(Ok(())).is_err() {
                    return;
                }
                let _ = stop_rx.recv();
                drop(servers);
            })
            .map_err(|e| LabError::io("spawning the Autodiscover supervisor thread", e))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(AutodiscoverLab {
                plan,
                dir,
                startup: started.elapsed(),
                stop: Some(stop_tx),
                thread: Some(handle),
            }),
            Ok(Err(e)) => {
                let _ = handle.join();
                Err(e)
            }
            Err(_) => {
                let _ = handle.join();
                Err(LabError::Setup(
                    "the Autodiscover supervisor thread ended before its servers were ready".into(),
                ))
            }
        }
    }

    /// The address block of this lab's scenario hosts, e.g. `127.10.0.0/16` (also in
    /// [`crate::Lab::egress_cidr`]).
    pub fn cidr(&self) -> &str {
        &self.plan.cidr
    }

    /// Every host of a scenario (including the redirect target's hosts for `RedirectAddr`).
    pub fn hosts(&self, s: AdScenario) -> Vec<AdHost> {
        self.plan
            .hosts
            .iter()
            .filter(|h| h.scenario == s)
            .map(|h| AdHost {
                name: h.name.clone(),
                addr: IpAddr::V4(h.ip),
                role: h.role(),
            })
            .collect()
    }

    /// The address the lab DNS gives `name` (`None`: NXDOMAIN).
    pub fn addr(&self, name: &str) -> Option<IpAddr> {
        let name = name.trim_end_matches('.');
        self.plan
            .hosts
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| IpAddr::V4(h.ip))
    }

    /// Where the Autodiscover servers' configs, documents and logs are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// nginx's access log: one line per request, `server_addr:port host "request" status "user" fe
    /// conn=N mapi=X` (N: the connection's number; X: the request's `X-MapiHttpCapability`, `-` if none).
    pub fn access_log(&self) -> PathBuf {
        self.dir.join("logs").join("nginx-access.log")
    }

    /// Apache's access log (the NTLM scenario).
    pub fn ntlm_access_log(&self) -> PathBuf {
        self.dir.join("logs").join("apache-access.log")
    }

    /// How long the first [`crate::Lab::autodiscover`] call took to start the servers.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }
}

impl Drop for AutodiscoverLab {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
