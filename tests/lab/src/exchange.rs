//! EWS, MRS Proxy, OWA and version fingerprints (KB steps 3 and 4) as data: the scenarios of the zone
//! [`EX_ZONE`], each a host `<slug>.ewslab.test` on `127.(10+k).101.N` (N = the scenario's number),
//! HTTPS on the real port 443 with a certificate from the lab CA, Basic and NTLM offered. They are
//! served by the lab's own Exchange-like front end (`exchange_server`); the lab's dnsmasq answers the
//! names from [`crate::Lab::start`] on, the server starts on the first [`crate::Lab::exchange`] call.
//!
//! The mailboxes ([`LabMailbox`]) are the same on every EWS host of the lab: `alice@`, `bob@`, ...
//! in the host's zone (`ewslab.test`, `oalab.test`, or the Autodiscover scenario's domain).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::LabError;
use crate::certs::{AdCertFiles, ServerCert};
use crate::exchange_server::{
    ExchangeWeb, ExtendedProtection, HostConfig, Iis, Mode, NtlmNames, Scheme, TokenChecking, User, Web,
};
use crate::tls_front::{
    FrontSpec, SCHANNEL_2008R2_TLS12, SCHANNEL_2012R2, SCHANNEL_DHE_ONLY, TlsFronts, TlsProfile, backend_ip,
};
use crate::zone::{ZonePlan, ZoneScenario, ZoneServer};

/// The DNS zone of the EWS scenarios (and the domain of their mailboxes).
pub const EX_ZONE: &str = "ewslab.test";
/// The NetBIOS domain of the scenarios' user and of the server's NTLM challenge.
pub const EX_NTLM_DOMAIN: &str = "EWSLAB";
/// The third octet of the scenario hosts in the lab's slot block.
const THIRD_OCTET: u8 = 101;
const STORE: &str = "ex";

/// Exchange Server Subscription Edition RTM.
pub(crate) const BUILD_SE: &str = "15.2.2562.17";
/// Exchange 2019 CU14.
const BUILD_2019: &str = "15.2.1544.4";
/// Exchange 2016 CU23 (the Autodiscover scenarios' `OWA_VERSION`, 15.1.2507.6).
const BUILD_2016: &str = crate::OWA_VERSION;
/// Exchange 2010 SP3 RU32.
const BUILD_2010: &str = "14.3.513.0";

/// A mailbox every EWS host of the lab knows, and what `GetFolder` of its inbox answers the
/// migration account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LabMailbox {
    /// `alice@`: Full Access granted: `NoError`.
    FullAccess,
    /// `bob@`: no permission (e.g. an explicit deny for Domain Admins): `ErrorAccessDenied`.
    AccessDenied,
    /// `nobody@`: no such mailbox: `ErrorNonExistentMailbox`.
    Missing,
    /// `carol@`: being moved: `ErrorMailboxMoveInProgress`.
    MoveInProgress,
    /// `dave@`: its database is dismounted: `ErrorMailboxStoreUnavailable`.
    StoreUnavailable,
    /// `erin@`: the account may not impersonate her: `ErrorImpersonateUserDenied`.
    ImpersonationDenied,
}

impl LabMailbox {
    pub const ALL: &'static [LabMailbox] = &[
        LabMailbox::FullAccess,
        LabMailbox::AccessDenied,
        LabMailbox::Missing,
        LabMailbox::MoveInProgress,
        LabMailbox::StoreUnavailable,
        LabMailbox::ImpersonationDenied,
    ];

    pub fn local_part(self) -> &'static str {
        match self {
            LabMailbox::FullAccess => "alice",
            LabMailbox::AccessDenied => "bob",
            LabMailbox::Missing => "nobody",
            LabMailbox::MoveInProgress => "carol",
            LabMailbox::StoreUnavailable => "dave",
            LabMailbox::ImpersonationDenied => "erin",
        }
    }

    /// The SMTP address in `zone` (a DNS domain), e.g. `bob@ewslab.test`.
    pub fn address(self, zone: &str) -> String {
        format!("{}@{zone}", self.local_part())
    }

    /// The EWS `ResponseCode` of `GetFolder` on this mailbox.
    pub fn response_code(self) -> &'static str {
        match self {
            LabMailbox::FullAccess => "NoError",
            LabMailbox::AccessDenied => "ErrorAccessDenied",
            LabMailbox::Missing => "ErrorNonExistentMailbox",
            LabMailbox::MoveInProgress => "ErrorMailboxMoveInProgress",
            LabMailbox::StoreUnavailable => "ErrorMailboxStoreUnavailable",
            LabMailbox::ImpersonationDenied => "ErrorImpersonateUserDenied",
        }
    }

    /// The `MessageText` Exchange writes with the error (None: success).
    pub fn message_text(self) -> Option<&'static str> {
        match self {
            LabMailbox::FullAccess => None,
            LabMailbox::AccessDenied => Some("Access is denied. Check credentials and try again."),
            LabMailbox::Missing => Some("The SMTP address has no mailbox associated with it."),
            LabMailbox::MoveInProgress => Some("Mailbox move in progress. Try again later."),
            LabMailbox::StoreUnavailable => Some("The mailbox database is temporarily unavailable."),
            LabMailbox::ImpersonationDenied => {
                Some("The account does not have permission to impersonate the requested user.")
            }
        }
    }

    /// The mailbox `address` names in `zone` (case-insensitive).
    pub fn find(address: &str, zone: &str) -> Option<LabMailbox> {
        LabMailbox::ALL
            .iter()
            .copied()
            .find(|m| m.address(zone).eq_ignore_ascii_case(address.trim()))
    }
}

/// One EWS / MRS Proxy / version scenario (one Exchange front end).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExScenario {
    /// Subscription Edition: EWS, MRS Proxy enabled, every version source agrees.
    Healthy,
    /// Subscription Edition with MRS Proxy disabled: `/EWS/mrsproxy.svc` answers 401 anonymously, as
    /// when it is on, and 403 after the logon (KB 3063913).
    MrsDisabled,
    /// Exchange 2003: no EWS, no `/owa/`; `/exchange/` on IIS 6 with `/exchweb/` resources.
    Exchange2003,
    /// Exchange 2010 SP3 RU32 (14.3.513.0).
    Exchange2010,
    /// Exchange 2016 CU23 (15.1.2507.6).
    Exchange2016,
    /// Exchange 2019 CU14 (15.2.1544.4).
    Exchange2019,
    /// A load balancer over mixed servers: OWA says 2016 CU23, EWS says 2019 CU14.
    Disagree,
    /// Exchange 2016 CU23 on Windows Server 2012 R2: an RSA certificate and the default Schannel suites
    /// ([`crate::tls_front::SCHANNEL_2012R2`], played by a TLS front): no suite rustls speaks.
    Windows2012R2,
    /// Exchange 2010 SP3 RU32 on Windows Server 2008 R2 with TLS 1.1 and 1.2 switched on
    /// ([`crate::tls_front::SCHANNEL_2008R2_TLS12`]).
    Windows2008R2,
    /// Exchange 2016 CU23 on a Windows Server 2012 R2 whose suites were cut to DHE_RSA with AES-GCM
    /// ([`crate::tls_front::SCHANNEL_DHE_ONLY`]): none of Microsoft 365's suites.
    DheOnly,
    /// Subscription Edition behind a reverse proxy whose publishing passes only `/rpc/` and
    /// `/autodiscover/` (what a cutover or staged migration needs): a healthy RPC proxy for
    /// `ex01.ewslab.test`, and the proxy's own 404 (nginx's page) for `/EWS/`, `/owa/` and the rest.
    RpcOnly,
    /// Subscription Edition whose administrator set Extended Protection to `Require` on the front end's
    /// /EWS too: an NTLM logon to MRS Proxy gets in only with the channel binding of Exchange's own
    /// certificate (Negotiate, NTLM and Basic offered).
    EpRequire,
    /// A reverse proxy (nginx `auth_basic`) in front pre-authenticates /EWS/ and /autodiscover/: its
    /// own 401 offering only `Basic realm="<host>"`; a valid Basic logon passes on to Exchange.
    PreAuthBasic,
    /// A reverse proxy in front redirects /EWS/ and /autodiscover/ to its login page (nginx `return 302`).
    PreAuthRedirect,
    /// The first of a load-balanced pair serving `lbpair.ewslab.test` with one certificate: healthy, and
    /// the server the name reaches (the lab's balancer always picks it, so a test knows who answered).
    LbEx01,
    /// The second of the pair: the same name and certificate, MRS Proxy off (403 after the logon, KB
    /// 3063913), `X-FEServer: EX02`, reached only directly (`--servers`). Learn's MRS Proxy page: moves
    /// "can fail if the MRS Proxy endpoint isn't enabled on all Mailbox servers".
    LbEx02,
    /// Subscription Edition whose administrator turned Windows authentication off on /EWS
    /// (`Set-WebServicesVirtualDirectory -WindowsAuthentication $false`): IIS challenges with the
    /// providers still on, so /EWS (and MRS Proxy under it) offers `Basic realm="<host>"` alone, with
    /// Exchange's own headers (nothing in front). Exchange Online's MRS client then fails with "The
    /// authentication header received from the server was 'Basic realm=...'" (Microsoft Q&A 2188108).
    WindowsAuthOff,
    /// Subscription Edition whose EWS virtual directory has no ExternalUrl (only the InternalUrl):
    /// SOAP Autodiscover lists ExternalEwsUrl under UserSettingErrors (SettingIsNotAvailable).
    NoExternalEws,
    /// `healthy.ewslab.test` as the internet reaches it through an external address that serves
    /// another certificate for the same name (a load balancer's virtual IP, or a TLS-inspecting firewall
    /// re-signing with a CA of its own; here the lab CA, so the chain is trusted and only the thumbprint
    /// differs). Not in DNS: an outside relay reaches it with `--resolve` (issue 23).
    VipOtherCert,
    /// `healthy.ewslab.test` as the internet reaches it through a reverse proxy that redirects /EWS/ and
    /// /autodiscover/ to its login page (as [`ExScenario::PreAuthRedirect`]), with Exchange's own
    /// certificate: inside, the same name reaches Exchange directly. Not in DNS (`--resolve`).
    VipPreAuth,
}

impl ExScenario {
    /// Every scenario, in the order of their addresses (`Healthy` is `127.(10+k).101.1`).
    pub const ALL: &'static [ExScenario] = &[
        ExScenario::Healthy,
        ExScenario::MrsDisabled,
        ExScenario::Exchange2003,
        ExScenario::Exchange2010,
        ExScenario::Exchange2016,
        ExScenario::Exchange2019,
        ExScenario::Disagree,
        ExScenario::Windows2012R2,
        ExScenario::Windows2008R2,
        ExScenario::DheOnly,
        ExScenario::RpcOnly,
        ExScenario::EpRequire,
        ExScenario::PreAuthBasic,
        ExScenario::PreAuthRedirect,
        ExScenario::LbEx01,
        ExScenario::LbEx02,
        ExScenario::WindowsAuthOff,
        ExScenario::NoExternalEws,
        ExScenario::VipOtherCert,
        ExScenario::VipPreAuth,
    ];

    /// A short lowercase id; also the first label of the host.
    pub fn slug(self) -> &'static str {
        match self {
            ExScenario::Healthy => "healthy",
            ExScenario::MrsDisabled => "mrsdisabled",
            ExScenario::Exchange2003 => "ex2003",
            ExScenario::Exchange2010 => "ex2010",
            ExScenario::Exchange2016 => "ex2016",
            ExScenario::Exchange2019 => "ex2019",
            ExScenario::Disagree => "disagree",
            ExScenario::Windows2012R2 => "win2012r2",
            ExScenario::Windows2008R2 => "win2008r2",
            ExScenario::DheOnly => "dheonly",
            ExScenario::RpcOnly => "rpconly",
            ExScenario::EpRequire => "eprequire",
            ExScenario::PreAuthBasic => "preauthbasic",
            ExScenario::PreAuthRedirect => "preauthredirect",
            ExScenario::LbEx01 => "lbex01",
            ExScenario::LbEx02 => "lbex02",
            ExScenario::WindowsAuthOff => "winauthoff",
            ExScenario::NoExternalEws => "noexternalews",
            ExScenario::VipOtherCert => "vipothercert",
            ExScenario::VipPreAuth => "vippreauth",
        }
    }

    /// `<slug>.ewslab.test`: what the user types as the Exchange server (`lbpair.ewslab.test` for
    /// both servers of the pair).
    pub fn host(self) -> String {
        match self {
            ExScenario::LbEx01 | ExScenario::LbEx02 => format!("lbpair.{EX_ZONE}"),
            ExScenario::VipOtherCert | ExScenario::VipPreAuth => ExScenario::Healthy.host(),
            s => format!("{}.{EX_ZONE}", s.slug()),
        }
    }

    /// The migration account in UPN form.
    pub fn user(self) -> String {
        format!("migadmin@{EX_ZONE}")
    }

    /// The same account as `EWSLAB\migadmin`.
    pub fn ntlm_user(self) -> String {
        format!("{EX_NTLM_DOMAIN}\\migadmin")
    }

    /// The password the host accepts.
    pub fn password(self) -> String {
        "Ews-Lab-Passw0rd!".to_string()
    }

    /// One sentence: what the scenario plays.
    pub fn description(self) -> &'static str {
        match self {
            ExScenario::Healthy => "Subscription Edition 15.2.2562.17: EWS, MRS Proxy enabled, all versions agree",
            ExScenario::MrsDisabled => {
                "Subscription Edition 15.2.2562.17 with MRS Proxy disabled (403 after the logon)"
            }
            ExScenario::Exchange2003 => "Exchange 2003: no EWS, no /owa/; /exchange/ on IIS 6 with /exchweb/ paths",
            ExScenario::Exchange2010 => "Exchange 2010 SP3 RU32 14.3.513.0 on IIS 7.5",
            ExScenario::Exchange2016 => "Exchange 2016 CU23 15.1.2507.6",
            ExScenario::Exchange2019 => "Exchange 2019 CU14 15.2.1544.4",
            ExScenario::Disagree => "load balancer over mixed servers: OWA says 15.1.2507.6, EWS says 15.2.1544.4",
            ExScenario::Windows2012R2 => {
                "Exchange 2016 CU23 on Windows Server 2012 R2: RSA certificate, default Schannel suites (ECDHE_RSA only with CBC)"
            }
            ExScenario::Windows2008R2 => {
                "Exchange 2010 SP3 RU32 on Windows Server 2008 R2 with TLS 1.1/1.2 on: RSA certificate, default Schannel suites"
            }
            ExScenario::DheOnly => {
                "Exchange 2016 CU23 on Windows Server 2012 R2 with its suites cut to DHE_RSA AES-GCM: none of Microsoft 365's"
            }
            ExScenario::RpcOnly => {
                "Subscription Edition behind a reverse proxy publishing only /rpc/ and /autodiscover/: EWS, OWA and the rest get nginx's 404"
            }
            ExScenario::EpRequire => {
                "Subscription Edition with Extended Protection Require on /EWS: NTLM to MRS Proxy only with the channel binding"
            }
            ExScenario::PreAuthBasic => {
                "Subscription Edition behind nginx auth_basic on /EWS/ and /autodiscover/: 401 offering only Basic, nginx's page"
            }
            ExScenario::PreAuthRedirect => {
                "Subscription Edition behind a reverse proxy that redirects /EWS/ and /autodiscover/ to its login page (302)"
            }
            ExScenario::LbEx01 => {
                "lbpair.ewslab.test, first server of a load-balanced pair: healthy, what the name reaches"
            }
            ExScenario::LbEx02 => {
                "lbpair.ewslab.test, second server of the pair (same name and certificate): MRS Proxy off, reached only directly"
            }
            ExScenario::WindowsAuthOff => {
                "Subscription Edition with Windows authentication off on /EWS: MRS Proxy offers Basic alone, Exchange's headers on"
            }
            ExScenario::NoExternalEws => {
                "Subscription Edition whose EWS virtual directory has no ExternalUrl: SOAP Autodiscover gives no ExternalEwsUrl"
            }
            ExScenario::VipOtherCert => {
                "healthy.ewslab.test from outside: an external address serving another certificate for the name (reached with --resolve)"
            }
            ExScenario::VipPreAuth => {
                "healthy.ewslab.test from outside: a reverse proxy redirecting /EWS/ and /autodiscover/ to its login page (reached with --resolve)"
            }
        }
    }

    /// The `X-OWA-Version` header (None: not sent).
    pub fn owa_header(self) -> Option<&'static str> {
        match self {
            ExScenario::Healthy
            | ExScenario::MrsDisabled
            | ExScenario::RpcOnly
            | ExScenario::EpRequire
            | ExScenario::PreAuthBasic
            | ExScenario::PreAuthRedirect
            | ExScenario::LbEx01
            | ExScenario::LbEx02
            | ExScenario::WindowsAuthOff
            | ExScenario::NoExternalEws
            | ExScenario::VipOtherCert
            | ExScenario::VipPreAuth => Some(BUILD_SE),
            ExScenario::Exchange2003 => None,
            ExScenario::Exchange2010 | ExScenario::Windows2008R2 => Some(BUILD_2010),
            ExScenario::Exchange2016 | ExScenario::Disagree | ExScenario::Windows2012R2 | ExScenario::DheOnly => {
                Some(BUILD_2016)
            }
            ExScenario::Exchange2019 => Some(BUILD_2019),
        }
    }

    /// EWS `ServerVersionInfo` as `a.b.c.d` (None: no EWS).
    pub fn ews_build(self) -> Option<&'static str> {
        match self {
            ExScenario::Disagree => Some(BUILD_2019),
            s => s.owa_header(),
        }
    }

    /// The build in the OWA resource paths: `15.1.2507` (`/owa/auth/15.1.2507/...`) from 2013 on,
    /// `14.3.513.0` (`/owa/14.3.513.0/...`) for 2010; None for 2003.
    pub fn owa_path_build(self) -> Option<&'static str> {
        self.owa_header().map(owa_path_build)
    }

    /// The Windows TLS set-up a front plays in front of the host (None: the lab's own rustls answers).
    pub fn tls_front(self) -> Option<TlsProfile> {
        match self {
            ExScenario::Windows2012R2 => Some(SCHANNEL_2012R2),
            ExScenario::Windows2008R2 => Some(SCHANNEL_2008R2_TLS12),
            ExScenario::DheOnly => Some(SCHANNEL_DHE_ONLY),
            _ => None,
        }
    }

    /// The front end's `X-FEServer`: `EX02` for the second server of the pair, `EX01` elsewhere.
    pub fn fe_server(self) -> &'static str {
        match self {
            ExScenario::LbEx02 => "EX02",
            _ => "EX01",
        }
    }

    /// Whether `/EWS/mrsproxy.svc` answers (authenticated) 200.
    pub fn mrs_enabled(self) -> bool {
        !matches!(
            self,
            ExScenario::MrsDisabled | ExScenario::Exchange2003 | ExScenario::LbEx02
        )
    }

    /// Whether the EWS virtual directory has an ExternalUrl (SOAP Autodiscover's ExternalEwsUrl).
    pub fn external_ews(self) -> bool {
        self != ExScenario::NoExternalEws
    }

    /// Whether the web side (`/EWS/`, `/owa/`) is published at this name: not on Exchange 2003 (no EWS,
    /// no `/owa/`) nor behind a proxy that passes only `/rpc/` and `/autodiscover/`.
    pub fn publishes_web(self) -> bool {
        !matches!(self, ExScenario::Exchange2003 | ExScenario::RpcOnly)
    }

    /// The RPC server name its RPC proxy knows (the Exchange server of the Outlook Anywhere mode).
    pub fn exchange_server(self) -> String {
        format!("ex01.{EX_ZONE}")
    }

    fn mode(self) -> Mode {
        match self {
            ExScenario::RpcOnly => Mode::RpcAndAutodiscoverOnly,
            ExScenario::PreAuthBasic => Mode::PreAuthBasic,
            ExScenario::PreAuthRedirect | ExScenario::VipPreAuth => Mode::PreAuthRedirect,
            _ => Mode::Normal,
        }
    }

    /// Whether a device in front pre-authenticates /EWS/ and /autodiscover/ (its own answers there).
    pub fn pre_authenticated(self) -> bool {
        matches!(
            self,
            ExScenario::PreAuthBasic | ExScenario::PreAuthRedirect | ExScenario::VipPreAuth
        )
    }

    /// Whether the device in front sends /EWS/ and /autodiscover/ to its login page (a 302).
    pub fn redirects_to_login(self) -> bool {
        matches!(self, ExScenario::PreAuthRedirect | ExScenario::VipPreAuth)
    }

    /// Exchange 2019 CU14 and later (Subscription Edition too) turn Extended Protection on at setup:
    /// EWS `Allow` here, so every client still gets in; older ones leave it off.
    fn iis(self) -> Iis {
        match self {
            ExScenario::Healthy
            | ExScenario::MrsDisabled
            | ExScenario::Exchange2019
            | ExScenario::PreAuthBasic
            | ExScenario::PreAuthRedirect
            | ExScenario::LbEx01
            | ExScenario::LbEx02
            | ExScenario::NoExternalEws
            | ExScenario::VipOtherCert
            | ExScenario::VipPreAuth => Iis::extended_protection(),
            // IIS's `tokenChecking` takes `Require` on any virtual directory (IIS configuration reference,
            // extendedProtection: "Require: channel-binding token checking is enabled, and all clients
            // must support it"); CSS-Exchange leaves the front end's /EWS at Allow, an administrator
            // may tighten it.
            ExScenario::EpRequire => Iis {
                ep: ExtendedProtection {
                    ews: TokenChecking::Require,
                    ..ExtendedProtection::CSS_EXCHANGE
                },
                ..Iis::plain()
            },
            // Only the Basic provider left on /EWS (IIS configuration reference: each enabled
            // authentication module adds its own WWW-Authenticate challenge to the 401).
            ExScenario::WindowsAuthOff => Iis {
                ews_schemes: Some(vec![Scheme::Basic]),
                ..Iis::extended_protection()
            },
            _ => Iis::plain(),
        }
    }

    fn web(self) -> Web {
        match (self.owa_header(), self.ews_build()) {
            (Some(owa), Some(ews)) => Web::Exchange(ExchangeWeb {
                owa_version: owa,
                ews_version: ews,
                mrs_enabled: self.mrs_enabled(),
                fe_server: self.fe_server(),
                external_ews: self.external_ews(),
                mail_domain: EX_ZONE.to_string(),
            }),
            _ => Web::Exchange2003,
        }
    }
}

impl ZoneScenario for ExScenario {
    const ALL: &'static [ExScenario] = ExScenario::ALL;

    fn host_name(self) -> String {
        self.host()
    }

    fn cert_slug(self) -> String {
        match self {
            ExScenario::LbEx01 | ExScenario::LbEx02 => "ex-lbpair".to_string(),
            // Exchange's own certificate, behind the proxy that passes TLS on.
            ExScenario::VipPreAuth => ExScenario::Healthy.cert_slug(),
            s => format!("ex-{}", s.slug()),
        }
    }

    fn in_dns(self) -> bool {
        !matches!(
            self,
            ExScenario::LbEx02 | ExScenario::VipOtherCert | ExScenario::VipPreAuth
        )
    }

    fn rsa_certificate(self) -> bool {
        self.tls_front().is_some()
    }
}

impl std::fmt::Display for ExScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// The OWA path form of a build: three parts from 2013 on, all four for 2010.
pub(crate) fn owa_path_build(build: &str) -> &str {
    if build.starts_with("14.") {
        return build;
    }
    build.rsplit_once('.').map_or(build, |(head, _)| head)
}

/// Where every scenario host lives in one lab slot.
pub(crate) type ExPlan = ZonePlan<ExScenario>;

pub(crate) fn plan(slot: &crate::slot::Slot) -> ExPlan {
    ZonePlan::new(slot, EX_ZONE, THIRD_OCTET)
}

/// The running EWS scenario hosts: started by [`crate::Lab::exchange`], stopped with the lab.
pub struct ExLab {
    // Dropped first: the fronts before the servers behind them.
    fronts: TlsFronts,
    zone: ZoneServer<ExScenario>,
}

impl std::fmt::Debug for ExLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExLab")
            .field("dir", &self.zone.dir())
            .finish_non_exhaustive()
    }
}

impl ExLab {
    pub(crate) fn start(plan: ExPlan, dir: PathBuf, certs: &AdCertFiles) -> Result<ExLab, LabError> {
        let names = NtlmNames::ex01(EX_NTLM_DOMAIN, EX_ZONE);
        let host = |s: ExScenario, ip, cert: &ServerCert| HostConfig {
            ip: if s.tls_front().is_some() { backend_ip(ip) } else { ip },
            name: s.host(),
            label: s.cert_slug(),
            chain: cert.chain.clone(),
            key: cert.key.clone(),
            schemes: vec![Scheme::Negotiate, Scheme::Ntlm, Scheme::Basic],
            users: vec![User::migadmin(s.user(), EX_NTLM_DOMAIN, s.password())],
            ntlm_store: STORE.to_string(),
            rpc_servers: vec![s.exchange_server(), "ex01".to_string()],
            mode: s.mode(),
            web: s.web(),
            iis: s.iis(),
        };
        let mut fronts = Vec::new();
        for &s in ExScenario::ALL {
            let (Some(profile), IpAddr::V4(ip)) = (s.tls_front(), plan.addr(s)) else {
                continue;
            };
            let cert = certs
                .leaves
                .get(&s.cert_slug())
                .ok_or_else(|| LabError::Setup(format!("internal: no certificate for {}", s.host())))?;
            // The backend's own certificate: an NTLM channel binding still matches.
            fronts.push(FrontSpec::before(s.slug(), ip, s.host(), cert, profile));
        }
        let front_dir = dir.join("tls-front");
        let zone = ZoneServer::start(plan, dir, certs, (STORE, names), "exchange-access.log", host)?;
        let fronts = TlsFronts::start(&front_dir, fronts)?;
        Ok(ExLab { fronts, zone })
    }

    /// The TLS fronts of the Windows scenarios ([`ExScenario::tls_front`]): their access log counts
    /// every handshake.
    pub fn fronts(&self) -> &TlsFronts {
        &self.fronts
    }

    /// The host's address (`127.(10+k).101.N`).
    pub fn addr(&self, s: ExScenario) -> IpAddr {
        self.zone.addr(s)
    }

    /// One line per request: `<listen addr> <host> "<METHOD> <path>" <status> <user or -> <scenario>`,
    /// then ` anchor=<mailbox>` when the request carried `X-AnchorMailbox`.
    pub fn request_log(&self) -> PathBuf {
        self.zone.request_log()
    }

    /// Where the server's NTLM user file, helper config and logs are.
    pub fn dir(&self) -> &Path {
        self.zone.dir()
    }
}
