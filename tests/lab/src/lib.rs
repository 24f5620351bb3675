//! The migcheck test lab: a fake `contoso.test` organisation on loopback.
//!
//! [`Lab::start`] generates a private CA and one certificate per fault scenario (dates relative to now),
//! then starts ONE real nginx (every TLS fixture on its own address `127.0.2.N`, all on the same port),
//! a real dnsmasq on `127.0.2.1` answering only for `contoso.test` and `fabrikam.test`, and a silent TCP
//! listener of our own. Nothing leaves 127.0.0.0/8.
//!
//! Tests use [`Lab::shared`] (one lab per test process) and point the client under test at
//! [`Lab::dns`], [`Lab::ca_file`] and [`Lab::port`]; they never ask the machine's own resolver.

mod ad_pox;
mod ad_proxy;
mod ad_servers;
mod autodiscover;
mod certs;
pub mod demo;
mod dns;
mod error;
mod exchange;
mod exchange_server;
mod hostile;
pub mod instances;
pub mod latency;
mod nginx;
mod outlook_anywhere;
pub mod peers;
pub mod relay_process;
mod servers;
mod silent;
mod slot;
mod sys;
pub mod tls_front;
mod zone;

pub use ad_pox::POX_EXCHANGE_2007;
pub use autodiscover::{
    AD_ZONE, AdCandidate, AdExpected, AdFailure, AdHost, AdRedirect, AdScenario, AdSrvRecord, AutodiscoverLab,
    NTLM_DOMAIN, OWA_VERSION, SERVER_VERSION,
};
pub use error::LabError;
pub use exchange::{EX_NTLM_DOMAIN, EX_ZONE, ExLab, ExScenario, LabMailbox};
pub use hostile::{HOSTILE_ZONE, HostileLab, HostileScenario};
pub use latency::LatencyLab;
pub use outlook_anywhere::{OA_NTLM_DOMAIN, OA_ZONE, OaLab, OaScenario};

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The first three octets of every lab address: the lab lives in `127.0.2.0/24`.
const NET: [u8; 3] = [127, 0, 2];
/// The DNS server's host octet (`127.0.2.1`).
const DNS_OCTET: u8 = 1;

/// A fixture as a client sees it: the name to ask the lab DNS for, and the address it resolves to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FixtureHost {
    pub name: String,
    /// The fixture's own loopback address; `0.0.0.0` (unspecified) for [`Fixture::Unknown`].
    pub addr: IpAddr,
}

/// One server-side fault scenario (or the healthy case) of the lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fixture {
    /// `mail.contoso.test` (and `autodiscover.contoso.test`): a valid leaf, leaf + intermediate sent.
    Valid,
    /// `expired.contoso.test`: notAfter = now - 30 days.
    Expired,
    /// `future.contoso.test`: notBefore = now + 30 days.
    NotYetValid,
    /// `wrongname.contoso.test`: the certificate names only `www.fabrikam.test`.
    WrongName,
    /// `owa.wild.contoso.test`: certificate for `*.wild.contoso.test`.
    Wildcard,
    /// `a.b.wild.contoso.test`: the same wildcard certificate, which must not match (RFC 6125).
    WildcardTooDeep,
    /// `cnonly.contoso.test`: CN only, no subjectAltName extension.
    CnOnly,
    /// `selfsigned.contoso.test`: a self-signed leaf, not from the lab CA.
    SelfSigned,
    /// `nochain.contoso.test`: signed by the intermediate, but only the leaf is sent.
    MissingIntermediate,
    /// `weakkey.contoso.test`: RSA-1024 leaf key.
    Rsa1024,
    /// `sha1.contoso.test`: leaf signed with sha1WithRSAEncryption.
    Sha1,
    /// `oldtls.contoso.test`: a valid chain, but only TLS 1.0 and 1.1 offered.
    LegacyTls,
    /// `expiring.contoso.test`: notAfter = now + 10 days.
    ExpiringSoon,
    /// `plainhttp.contoso.test`: plain HTTP (no TLS) on the TLS port.
    NotTls,
    /// `silent.contoso.test`: accepts TCP connections and never sends a byte.
    Silent,
    /// `refused.contoso.test`: nothing listens there (connection refused).
    Refused,
    /// `nonexistent.contoso.test`: no DNS record (NXDOMAIN).
    Unknown,
    /// `crossroot.contoso.test`: a valid chain (leaf + intermediate), then the lab root cross-signed by
    /// an older root and that root, both expired 10 days ago (the AddTrust shape of 30 May 2020).
    ExpiredCrossRoot,
}

impl Fixture {
    /// Every fixture, in the order of their addresses (`Valid` is 127.0.2.2, `Expired` 127.0.2.3, ...;
    /// `Unknown` has none, `ExpiredCrossRoot` is 127.0.2.19).
    pub const ALL: &'static [Fixture] = &[
        Fixture::Valid,
        Fixture::Expired,
        Fixture::NotYetValid,
        Fixture::WrongName,
        Fixture::Wildcard,
        Fixture::WildcardTooDeep,
        Fixture::CnOnly,
        Fixture::SelfSigned,
        Fixture::MissingIntermediate,
        Fixture::Rsa1024,
        Fixture::Sha1,
        Fixture::LegacyTls,
        Fixture::ExpiringSoon,
        Fixture::NotTls,
        Fixture::Silent,
        Fixture::Refused,
        Fixture::Unknown,
        Fixture::ExpiredCrossRoot,
    ];

    /// The DNS name of the fixture (what a client types).
    pub fn host_name(self) -> &'static str {
        match self {
            Fixture::Valid => "mail.contoso.test",
            Fixture::Expired => "expired.contoso.test",
            Fixture::NotYetValid => "future.contoso.test",
            Fixture::WrongName => "wrongname.contoso.test",
            Fixture::Wildcard => "owa.wild.contoso.test",
            Fixture::WildcardTooDeep => "a.b.wild.contoso.test",
            Fixture::CnOnly => "cnonly.contoso.test",
            Fixture::SelfSigned => "selfsigned.contoso.test",
            Fixture::MissingIntermediate => "nochain.contoso.test",
            Fixture::Rsa1024 => "weakkey.contoso.test",
            Fixture::Sha1 => "sha1.contoso.test",
            Fixture::LegacyTls => "oldtls.contoso.test",
            Fixture::ExpiringSoon => "expiring.contoso.test",
            Fixture::NotTls => "plainhttp.contoso.test",
            Fixture::Silent => "silent.contoso.test",
            Fixture::Refused => "refused.contoso.test",
            Fixture::Unknown => "nonexistent.contoso.test",
            Fixture::ExpiredCrossRoot => "crossroot.contoso.test",
        }
    }

    /// Extra DNS names that resolve to the same address (and are covered by the same certificate).
    pub fn alias_names(self) -> &'static [&'static str] {
        match self {
            Fixture::Valid => &["autodiscover.contoso.test"],
            _ => &[],
        }
    }

    /// A short lowercase id, used for file names in [`Lab::dir`].
    pub fn slug(self) -> &'static str {
        match self {
            Fixture::Valid => "valid",
            Fixture::Expired => "expired",
            Fixture::NotYetValid => "not-yet-valid",
            Fixture::WrongName => "wrong-name",
            Fixture::Wildcard => "wildcard",
            Fixture::WildcardTooDeep => "wildcard-too-deep",
            Fixture::CnOnly => "cn-only",
            Fixture::SelfSigned => "self-signed",
            Fixture::MissingIntermediate => "missing-intermediate",
            Fixture::Rsa1024 => "rsa1024",
            Fixture::Sha1 => "sha1",
            Fixture::LegacyTls => "legacy-tls",
            Fixture::ExpiringSoon => "expiring-soon",
            Fixture::NotTls => "not-tls",
            Fixture::Silent => "silent",
            Fixture::Refused => "refused",
            Fixture::Unknown => "unknown",
            Fixture::ExpiredCrossRoot => "expired-cross-root",
        }
    }

    /// Whether nginx serves TLS for this fixture.
    pub fn is_tls(self) -> bool {
        !matches!(
            self,
            Fixture::NotTls | Fixture::Silent | Fixture::Refused | Fixture::Unknown
        )
    }

    /// The fixture's loopback address (fixed: the same in every lab, only the ports differ).
    pub fn addr(self) -> IpAddr {
        match self.octet() {
            Some(n) => IpAddr::V4(Ipv4Addr::new(NET[0], NET[1], NET[2], n)),
            None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }

    fn ipv4(self) -> Option<Ipv4Addr> {
        self.octet().map(|n| Ipv4Addr::new(NET[0], NET[1], NET[2], n))
    }

    fn octet(self) -> Option<u8> {
        if self == Fixture::Unknown {
            return None;
        }
        let index = Fixture::ALL.iter().position(|f| *f == self)?;
        u8::try_from(index + 2).ok()
    }
}

impl std::fmt::Display for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

fn dns_ip() -> Ipv4Addr {
    Ipv4Addr::new(NET[0], NET[1], NET[2], DNS_OCTET)
}

/// A running lab. Dropping it stops its servers and removes its temporary directory.
pub struct Lab {
    dir: PathBuf,
    ca_file: PathBuf,
    port: u16,
    dns: SocketAddr,
    startup: Duration,
    /// The Autodiscover scenarios: this lab's address block (held for the life of the lab), where
    /// every host lives, and their certificates. `None` when every slot was taken.
    ad: Option<AdParts>,
    /// Started on the first [`Lab::autodiscover`] call.
    autodiscover: OnceLock<Result<AutodiscoverLab, LabError>>,
    /// Started on the first [`Lab::outlook_anywhere`] call.
    outlook_anywhere: OnceLock<Result<OaLab, LabError>>,
    /// Started on the first [`Lab::exchange`] call.
    exchange: OnceLock<Result<ExLab, LabError>>,
    /// Started on the first [`Lab::hostile`] call.
    hostile: OnceLock<Result<HostileLab, LabError>>,
    /// Dropping this sender tells the supervisor thread to stop the servers.
    stop: Option<mpsc::Sender<()>>,
    supervisor: Option<thread::JoinHandle<()>>,
}

struct AdParts {
    slot: slot::Slot,
    plan: autodiscover::Plan,
    oa: outlook_anywhere::OaPlan,
    ex: exchange::ExPlan,
    hostile: hostile::HostilePlan,
    certs: certs::AdCertFiles,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .field("dns", &self.dns)
            .finish_non_exhaustive()
    }
}

/// What the supervisor thread reports once every server answers.
struct Ready {
    port: u16,
    dns: SocketAddr,
    ca_file: PathBuf,
    ad_certs: certs::AdCertFiles,
}

impl Lab {
    /// Starts a fresh lab: its own temporary directory, its own ports.
    ///
    /// The servers are spawned from a dedicated supervisor thread that lives as long as the `Lab`
    /// (nginx and dnsmasq get `PR_SET_PDEATHSIG`, which fires when the *thread* that spawned them ends).
    pub fn start() -> Result<Lab, LabError> {
        let started = Instant::now();
        let dir = make_lab_dir()?;
        // A free address block for the Autodiscover scenarios (fixed ports 443/80). Without one the
        // lab still starts; only `Lab::autodiscover` fails.
        let (slot, slot_error) = match dir.parent().map(slot::claim) {
            Some(Ok(s)) => (Some(s), None),
            Some(Err(e)) => (None, Some(e.to_string())),
            None => (None, Some("the lab directory has no parent".to_string())),
        };
        let plan = slot.as_ref().map(autodiscover::Plan::new);
        let oa_plan = slot.as_ref().map(outlook_anywhere::plan);
        let ex_plan = slot.as_ref().map(exchange::plan);
        let hostile_plan = slot.as_ref().map(hostile::plan);
        let sup_plan = plan.clone();
        let sup_oa = oa_plan.clone();
        let sup_ex = ex_plan.clone();
        let sup_hostile = hostile_plan.clone();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<Ready, LabError>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let sup_dir = dir.clone();
        let handle = thread::Builder::new()
            .name("migcheck-lab".into())
            .spawn(move || {
                let plans = (
                    sup_plan.as_ref(),
                    sup_oa.as_ref(),
                    sup_ex.as_ref(),
                    sup_hostile.as_ref(),
                );
                supervise(&sup_dir, plans, ready_tx, stop_rx);
            })
            .map_err(|e| LabError::io("spawning the lab supervisor thread", e))?;
        match ready_rx.recv() {
            Ok(Ok(ready)) => {
                let ad = match (slot, plan, oa_plan, ex_plan, hostile_plan) {
                    (Some(slot), Some(plan), Some(oa), Some(ex), Some(hostile)) => Some(AdParts {
                        slot,
                        plan,
                        oa,
                        ex,
                        hostile,
                        certs: ready.ad_certs,
                    }),
                    _ => None,
                };
                let autodiscover = OnceLock::new();
                let outlook_anywhere = OnceLock::new();
                let exchange = OnceLock::new();
                let hostile = OnceLock::new();
                if let Some(why) = slot_error {
                    let _ = autodiscover.set(Err(LabError::Setup(why.clone())));
                    let _ = outlook_anywhere.set(Err(LabError::Setup(why.clone())));
                    let _ = hostile.set(Err(LabError::Setup(why.clone())));
                    let _ = exchange.set(Err(LabError::Setup(why)));
                }
                Ok(Lab {
                    dir,
                    ca_file: ready.ca_file,
                    port: ready.port,
                    dns: ready.dns,
                    startup: started.elapsed(),
                    ad,
                    autodiscover,
                    outlook_anywhere,
                    exchange,
                    hostile,
                    stop: Some(stop_tx),
                    supervisor: Some(handle),
                })
            }
            Ok(Err(e)) => {
                let _ = handle.join();
                // The directory is kept for debugging; a later lab removes it once this process is gone.
                Err(e)
            }
            Err(_) => {
                let _ = handle.join();
                Err(LabError::Setup(format!(
                    "the lab supervisor thread ended before the lab was ready (see {})",
                    dir.display()
                )))
            }
        }
    }

    /// One lab per test process, started on first use and never stopped (its servers die with the
    /// process). Panics with the reason if the lab cannot start: it is meant for tests.
    pub fn shared() -> &'static Lab {
        static SHARED: OnceLock<Result<Lab, String>> = OnceLock::new();
        match SHARED.get_or_init(|| Lab::start().map_err(|e| e.to_string())) {
            Ok(lab) => lab,
            Err(e) => panic!("the shared migcheck lab could not start: {e}"),
        }
    }

    /// Where a fixture lives: its DNS name and address.
    pub fn fixture(&self, f: Fixture) -> FixtureHost {
        FixtureHost {
            name: f.host_name().to_string(),
            addr: f.addr(),
        }
    }

    /// The one TCP port every TLS fixture (and `NotTls`, `Silent`) listens on, each on its own address.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The lab's dnsmasq (UDP and TCP), on `127.0.2.1`.
    pub fn dns(&self) -> SocketAddr {
        self.dns
    }

    /// A PEM file with the lab root CA only (what a client adds as an extra trusted root; migcheck takes
    /// it as `--public-ca-file`, a public CA for the lab's scenarios).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// A PEM file with the legacy root that cross-signs the lab root in [`Fixture::ExpiredCrossRoot`]
    /// (expired 10 days ago), for a client that trusts only it.
    pub fn legacy_root_file(&self) -> PathBuf {
        self.dir.join("certs").join("legacy-root.pem")
    }

    /// A comma separated CIDR list covering every lab address: the fixtures' `127.0.2.0/24`, then
    /// this lab's Autodiscover block `127.(10+k).0.0/16`.
    pub fn egress_cidr(&self) -> String {
        let fixtures = format!("{}.{}.{}.0/24", NET[0], NET[1], NET[2]);
        match &self.ad {
            Some(ad) => format!("{fixtures},{}", ad.plan.cidr),
            None => fixtures,
        }
    }

    /// The flags that point `migcheck` (check or serve) at this lab: its DNS server, its CA as a public
    /// one (`--public-ca-file`: the lab stands for the internet), its addresses as the egress fence, and
    /// the per-step timeout.
    pub fn migcheck_flags(&self, timeout_secs: u64) -> Vec<String> {
        self.flags_with_root("--public-ca-file", timeout_secs)
    }

    /// The same, with the lab's CA given as `--ca-file`: a company's internal CA, which migcheck trusts to
    /// look at the chain and reports as private (Exchange Online trusts only public CAs).
    pub fn migcheck_flags_internal_ca(&self, timeout_secs: u64) -> Vec<String> {
        self.flags_with_root("--ca-file", timeout_secs)
    }

    fn flags_with_root(&self, root_flag: &str, timeout_secs: u64) -> Vec<String> {
        vec![
            "--dns".into(),
            self.dns().to_string(),
            root_flag.into(),
            self.ca_file().display().to_string(),
            "--egress".into(),
            self.egress_cidr(),
            "--timeout".into(),
            timeout_secs.to_string(),
        ]
    }

    /// The Autodiscover scenarios' servers ([`AdScenario`]), started on the first call (about
    /// 100 ms: nginx, Apache, a silent listener) and stopped with the lab. Their DNS records are in
    /// [`Lab::dns`] and their certificates chain to [`Lab::ca_file`] from [`Lab::start`] on.
    /// Panics with the reason if they cannot start: it is meant for tests (see [`Lab::try_autodiscover`]).
    pub fn autodiscover(&self) -> &AutodiscoverLab {
        match self.try_autodiscover() {
            Ok(ad) => ad,
            Err(e) => panic!("the migcheck lab's Autodiscover servers could not start: {e}"),
        }
    }

    /// [`Lab::autodiscover`] without the panic. A failure is kept: later calls return the same error.
    pub fn try_autodiscover(&self) -> Result<&AutodiscoverLab, &LabError> {
        self.autodiscover
            .get_or_init(|| {
                let Some(ad) = &self.ad else {
                    return Err(LabError::Setup("this lab has no Autodiscover address slot".into()));
                };
                AutodiscoverLab::start(ad.plan.clone(), self.dir.join("autodiscover"), ad.certs.clone())
            })
            .as_ref()
    }

    /// The Outlook Anywhere manual-mode scenarios ([`OaScenario`]): the lab's own RPC over HTTP proxy
    /// on `127.(10+k).100.N:443`, started on the first call (with its pyspnego NTLM helper, from the
    /// venv: see [`OaLab`]) and stopped with the lab. Panics with the reason if it cannot start.
    pub fn outlook_anywhere(&self) -> &OaLab {
        match self.try_outlook_anywhere() {
            Ok(oa) => oa,
            Err(e) => panic!("the migcheck lab's Outlook Anywhere proxy could not start: {e}"),
        }
    }

    /// [`Lab::outlook_anywhere`] without the panic. A failure is kept: later calls return the same error.
    pub fn try_outlook_anywhere(&self) -> Result<&OaLab, &LabError> {
        self.start_once(&self.outlook_anywhere, |ad| {
            OaLab::start(ad.oa.clone(), self.dir.join("outlook-anywhere"), &ad.certs)
        })
    }

    /// The EWS / MRS Proxy / OWA version scenarios ([`ExScenario`]): the lab's own Exchange-like
    /// front end on `127.(10+k).101.N:443`, started on the first call (with its own pyspnego NTLM
    /// helper; independent of [`Lab::outlook_anywhere`]) and stopped with the lab. Panics with the
    /// reason if it cannot start.
    pub fn exchange(&self) -> &ExLab {
        match self.try_exchange() {
            Ok(ex) => ex,
            Err(e) => panic!("the migcheck lab's Exchange (EWS) servers could not start: {e}"),
        }
    }

    /// [`Lab::exchange`] without the panic. A failure is kept: later calls return the same error.
    pub fn try_exchange(&self) -> Result<&ExLab, &LabError> {
        self.start_once(&self.exchange, |ad| {
            ExLab::start(ad.ex.clone(), self.dir.join("exchange"), &ad.certs)
        })
    }

    /// The hostile servers ([`HostileScenario`]): our own small server on `127.(10+k).102.N:443`,
    /// started on the first call and stopped with the lab. Panics with the reason if it cannot start.
    pub fn hostile(&self) -> &HostileLab {
        match self.try_hostile() {
            Ok(h) => h,
            Err(e) => panic!("the migcheck lab's hostile servers could not start: {e}"),
        }
    }

    /// [`Lab::hostile`] without the panic. A failure is kept: later calls return the same error.
    pub fn try_hostile(&self) -> Result<&HostileLab, &LabError> {
        self.start_once(&self.hostile, |ad| HostileLab::start(ad.hostile.clone(), &ad.certs))
    }

    /// Starts a part of the lab that lives in the address slot, once; its failure is kept.
    fn start_once<'a, T>(
        &'a self,
        cell: &'a OnceLock<Result<T, LabError>>,
        start: impl FnOnce(&AdParts) -> Result<T, LabError>,
    ) -> Result<&'a T, &'a LabError> {
        cell.get_or_init(|| match &self.ad {
            Some(ad) => start(ad),
            None => Err(LabError::Setup("this lab has no address slot".into())),
        })
        .as_ref()
    }

    /// The slot's servers (Autodiscover, Outlook Anywhere, EWS) behind the latency injector, with a
    /// round-trip time of `rtt` (see [`latency`]). Only the servers already started get a relay: start
    /// the parts you need ([`Lab::autodiscover`], ...) first.
    pub fn through_latency(&self, rtt: Duration) -> Result<LatencyLab, LabError> {
        let Some(ad) = &self.ad else {
            return Err(LabError::Setup("this lab has no address slot".into()));
        };
        let mut servers: Vec<Ipv4Addr> = ad.plan.hosts.iter().map(|h| h.ip).collect();
        servers.extend(ad.oa.ips());
        servers.extend(ad.ex.ips());
        LatencyLab::start(rtt, ad.slot.octet(), &servers, self.dns, self.ca_file.clone())
    }

    /// The index k (0..=99) of this lab's Autodiscover address block `127.(10+k).0.0/16`.
    pub fn slot(&self) -> Option<u8> {
        self.ad.as_ref().map(|ad| ad.slot.index())
    }

    /// Where the certificates, configs and logs are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long [`Lab::start`] took for this lab.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// `addr:port` of a fixture (its address and [`Lab::port`]).
    pub fn socket_addr(&self, f: Fixture) -> SocketAddr {
        SocketAddr::new(f.addr(), self.port)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // The Autodiscover servers first (their own thread), then the rest.
        drop(self.hostile.take());
        drop(self.exchange.take());
        drop(self.outlook_anywhere.take());
        drop(self.autodiscover.take());
        // Closing the channel wakes the supervisor, which kills nginx and dnsmasq and stops the
        // silent listener before it returns.
        drop(self.stop.take());
        if let Some(handle) = self.supervisor.take() {
            let _ = handle.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The address plans whose DNS records and certificates the lab makes at start.
type Plans<'a> = (
    Option<&'a autodiscover::Plan>,
    Option<&'a outlook_anywhere::OaPlan>,
    Option<&'a exchange::ExPlan>,
    Option<&'a hostile::HostilePlan>,
);

fn supervise(
    dir: &Path,
    (ad, oa, ex, hostile): Plans<'_>,
    ready_tx: mpsc::Sender<Result<Ready, LabError>>,
    stop_rx: mpsc::Receiver<()>,
) {
    let key_cache = dir.parent().map(|base| base.join("keys"));
    let servers = match servers::Servers::start(dir, key_cache.as_deref(), ad, oa, ex, hostile) {
        Ok(s) => s,
        Err(e) => {
            let _ = ready_tx.send(Err(e));
            return;
        }
    };
    let ready = Ready {
        port: servers.port(),
        dns: servers.dns(),
        ca_file: servers.ca_file().to_path_buf(),
        ad_certs: servers.ad_certs().clone(),
    };
    if ready_tx.send(Ok(ready)).is_err() {
        return; // nobody waits for this lab any more; dropping `servers` stops everything
    }
    // Blocks until the Lab is dropped (for the shared lab: for the life of the process).
    let _ = stop_rx.recv();
    drop(servers);
}

/// `$TMPDIR/migcheck-lab/<pid>-<n>`; directories of processes that are gone are removed first.
fn make_lab_dir() -> Result<PathBuf, LabError> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let base = std::env::temp_dir().join("migcheck-lab");
    std::fs::create_dir_all(&base).map_err(|e| LabError::io(format!("creating {}", base.display()), e))?;
    remove_stale_dirs(&base);
    let pid = std::process::id();
    let dir = base.join(format!("{pid}-{}", SEQ.fetch_add(1, Ordering::Relaxed)));
    if dir.exists() {
        // left over from an earlier process with the same pid
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir(&dir).map_err(|e| LabError::io(format!("creating {}", dir.display()), e))?;
    Ok(dir)
}

fn remove_stale_dirs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
