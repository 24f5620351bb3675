//! A zone of scenario hosts on the lab's own Exchange front end (`exchange_server`): one host per
//! scenario on `127.(10+k).<third>.N` (N = the scenario's 1-based position), its DNS record in the
//! lab's dnsmasq and its certificate from the lab CA from [`crate::Lab::start`] on, the server started
//! on demand. Shared by the Outlook Anywhere ([`crate::OaScenario`]) and EWS ([`crate::ExScenario`]) zones.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use crate::LabError;
use crate::certs::{AdCertFiles, ServerCert};
use crate::exchange_server::{ExchangeServer, HostConfig, NtlmNames};

/// A scenario that is one host of a zone.
pub(crate) trait ZoneScenario: Copy + Eq + 'static {
    /// Every scenario, in the order of their addresses.
    const ALL: &'static [Self];
    /// The host's DNS name.
    fn host_name(self) -> String;
    /// The certificate's file slug.
    fn cert_slug(self) -> String;
    /// Whether the host's certificate has an RSA key (else ECDSA P-256).
    fn rsa_certificate(self) -> bool {
        false
    }
    /// Whether the host's name points at it in DNS (else it is reached only by its address: the second
    /// server behind a load-balanced name).
    fn in_dns(self) -> bool {
        true
    }
}

/// Where every scenario host of a zone lives in one lab slot.
#[derive(Clone, Debug)]
pub(crate) struct ZonePlan<S> {
    zone: &'static str,
    hosts: Vec<(S, Ipv4Addr)>,
}

impl<S: ZoneScenario> ZonePlan<S> {
    pub(crate) fn new(slot: &crate::slot::Slot, zone: &'static str, third_octet: u8) -> ZonePlan<S> {
        let hosts = S::ALL
            .iter()
            .zip(1u8..)
            .map(|(&s, n)| (s, slot.ip(third_octet, n)))
            .collect();
        ZonePlan { zone, hosts }
    }

    /// dnsmasq arguments: the zone and an A record per host.
    pub(crate) fn dnsmasq_args(&self) -> Vec<String> {
        let mut args = vec![format!("--local=/{}/", self.zone)];
        args.extend(
            self.hosts
                .iter()
                .filter(|(s, _)| s.in_dns())
                .map(|(s, ip)| format!("--host-record={},{ip}", s.host_name())),
        );
        args
    }

    /// Certificates to make: (file slug, names).
    pub(crate) fn cert_requests(&self) -> Vec<(String, Vec<String>)> {
        // Hosts sharing a name (a load-balanced pair) share one certificate.
        let mut requests: Vec<(String, Vec<String>)> = Vec::new();
        for (s, _) in &self.hosts {
            if !requests.iter().any(|(slug, _)| *slug == s.cert_slug()) {
                requests.push((s.cert_slug(), vec![s.host_name()]));
            }
        }
        requests
    }

    /// The certificate slugs whose leaves have an RSA key.
    pub(crate) fn rsa_slugs(&self) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|(s, _)| s.rsa_certificate())
            .map(|(s, _)| s.cert_slug())
            .collect()
    }

    /// Every host's address.
    pub(crate) fn ips(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.hosts.iter().map(|(_, ip)| *ip)
    }

    pub(crate) fn addr(&self, s: S) -> IpAddr {
        let ip = self
            .hosts
            .iter()
            .find(|(x, _)| *x == s)
            .map_or(Ipv4Addr::UNSPECIFIED, |(_, ip)| *ip);
        IpAddr::V4(ip)
    }
}

/// The running hosts of a zone; dropping it stops them.
pub(crate) struct ZoneServer<S> {
    plan: ZonePlan<S>,
    dir: PathBuf,
    log: PathBuf,
    _server: ExchangeServer,
}

impl<S: ZoneScenario> ZoneServer<S> {
    /// Starts one server for every host of `plan`; `host` makes a host's config from its scenario,
    /// address and certificate. Every host's NTLM users go to one helper store named `store`.
    pub(crate) fn start(
        plan: ZonePlan<S>,
        dir: PathBuf,
        certs: &AdCertFiles,
        (store, names): (&str, NtlmNames),
        log_name: &str,
        host: impl Fn(S, Ipv4Addr, &ServerCert) -> HostConfig,
    ) -> Result<ZoneServer<S>, LabError> {
        let mut hosts = Vec::new();
        for &(s, ip) in &plan.hosts {
            let cert = certs
                .leaves
                .get(&s.cert_slug())
                .ok_or_else(|| LabError::Setup(format!("internal: no certificate for {}", s.host_name())))?;
            hosts.push(host(s, ip, cert));
        }
        let log = dir.join(log_name);
        let server = ExchangeServer::start(&dir, hosts, &[(store.to_string(), names)], &log)?;
        Ok(ZoneServer {
            plan,
            dir,
            log,
            _server: server,
        })
    }

    /// A host's address.
    pub(crate) fn addr(&self, s: S) -> IpAddr {
        self.plan.addr(s)
    }

    /// One line per request: `<listen addr> <host> "<METHOD> <path>" <status> <user or -> <scenario>`.
    pub(crate) fn request_log(&self) -> PathBuf {
        self.log.clone()
    }

    /// Where the server's NTLM user file, helper config and logs are.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}
