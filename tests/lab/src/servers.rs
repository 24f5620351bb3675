//! Starting, watching and stopping the lab's servers. Runs on the lab's supervisor thread.

use std::fs::File;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::autodiscover::Plan;
use crate::certs::{self, AdCertFiles, CertFiles};
use crate::exchange::ExPlan;
use crate::hostile::HostilePlan;
use crate::outlook_anywhere::OaPlan;
use crate::silent::SilentServer;
use crate::{Fixture, LabError, dns, dns_ip, nginx, sys};

/// Ports tried before giving up (another lab, or anything else, may take a port between our check and
/// the server's bind).
const ATTEMPTS: usize = 8;
/// How long one server may take to answer.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(20);
pub(crate) const POLL: Duration = Duration::from_millis(15);

pub(crate) struct Servers {
    nginx: Child,
    dnsmasq: Child,
    silent: Option<SilentServer>,
    port: u16,
    dns: SocketAddr,
    ca_file: PathBuf,
    ad_certs: AdCertFiles,
}

impl Servers {
    /// `key_cache`: where generated RSA keys are kept for the next lab (see `certs::PendingKeys`).
    /// `ad`: the Autodiscover scenarios (their DNS records and certificates are made here; their
    /// servers start later, on demand).
    /// `oa`: the Outlook Anywhere scenario hosts (DNS records and certificates, like `ad`).
    /// `ex`: the EWS scenario hosts (the same).
    /// `hostile`: the hostile server hosts (the same).
    pub(crate) fn start(
        dir: &Path,
        key_cache: Option<&Path>,
        ad: Option<&Plan>,
        oa: Option<&OaPlan>,
        ex: Option<&ExPlan>,
        hostile: Option<&HostilePlan>,
    ) -> Result<Servers, LabError> {
        let logs = dir.join("logs");
        for d in [&logs, &dir.join("tmp")] {
            std::fs::create_dir_all(d).map_err(|e| LabError::io(format!("creating {}", d.display()), e))?;
        }
        let t0 = Instant::now();
        // The slow part (RSA key generation) runs in the background while dnsmasq starts.
        let keys = certs::PendingKeys::spawn(&dir.join("certs"), key_cache)?;
        let mut ad_dns = ad.map(Plan::dnsmasq_args).unwrap_or_default();
        ad_dns.extend(oa.map(OaPlan::dnsmasq_args).unwrap_or_default());
        ad_dns.extend(ex.map(ExPlan::dnsmasq_args).unwrap_or_default());
        ad_dns.extend(hostile.map(HostilePlan::dnsmasq_args).unwrap_or_default());
        let (dnsmasq, dns) = start_dnsmasq(dir, &ad_dns)?;
        let t_dns = t0.elapsed();
        // From here on a failure must stop dnsmasq.
        let mut partial = Partial { dnsmasq: Some(dnsmasq) };
        let mut ad_certs = ad.map(Plan::cert_requests).unwrap_or_default();
        ad_certs.extend(oa.map(OaPlan::cert_requests).unwrap_or_default());
        ad_certs.extend(
            oa.map(|_| crate::outlook_anywhere::front_cert_requests())
                .unwrap_or_default(),
        );
        ad_certs.extend(ex.map(ExPlan::cert_requests).unwrap_or_default());
        ad_certs.extend(hostile.map(HostilePlan::cert_requests).unwrap_or_default());
        let mut rsa = ex.map(ExPlan::rsa_slugs).unwrap_or_default();
        rsa.extend(ad.map(Plan::rsa_slugs).unwrap_or_default());
        let certs = certs::generate(keys, &ad_certs, &rsa)?;
        let t_certs = t0.elapsed();
        let (nginx, silent, port) = start_nginx(dir, &certs)?;
        // For whoever wonders where the start-up time goes.
        let timings = format!(
            "dnsmasq ready after {t_dns:?}\ncertificates ready after {t_certs:?}\nnginx ready after {:?}\n",
            t0.elapsed()
        );
        let _ = std::fs::write(logs.join("startup.txt"), timings);
        let Some(dnsmasq) = partial.dnsmasq.take() else {
            return Err(LabError::Setup("internal: lost the dnsmasq handle".into()));
        };
        Ok(Servers {
            nginx,
            dnsmasq,
            silent: Some(silent),
            port,
            dns,
            ca_file: certs.root,
            ad_certs: certs.ad,
        })
    }

    pub(crate) fn ad_certs(&self) -> &AdCertFiles {
        &self.ad_certs
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn dns(&self) -> SocketAddr {
        self.dns
    }

    pub(crate) fn ca_file(&self) -> &Path {
        &self.ca_file
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        stop(&mut self.nginx);
        stop(&mut self.dnsmasq);
        drop(self.silent.take());
    }
}

/// A started server not yet handed over to `Servers`: stopped if setup fails later.
struct Partial {
    dnsmasq: Option<Child>,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(mut d) = self.dnsmasq.take() {
            stop(&mut d);
        }
    }
}

pub(crate) fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

enum Attempt {
    Ready,
    /// The port was taken: try another.
    PortTaken(String),
}

/// Starts a server until it gets a free port: `spawn` starts one (on a port it picks) and returns what
/// the caller keeps, `ready` waits for it. Any failure other than a taken port ends the attempts.
fn start_on_free_port<T>(
    what: &str,
    mut spawn: impl FnMut() -> Result<(Child, T), LabError>,
    mut ready: impl FnMut(&mut Child, &T) -> Result<Attempt, LabError>,
) -> Result<(Child, T), LabError> {
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let (mut child, kept) = spawn()?;
        match ready(&mut child, &kept) {
            Ok(Attempt::Ready) => return Ok((child, kept)),
            Ok(Attempt::PortTaken(why)) => {
                stop(&mut child);
                last = why;
            }
            Err(e) => {
                stop(&mut child);
                return Err(e);
            }
        }
    }
    Err(LabError::Setup(format!(
        "{what} could not bind a free port in {ATTEMPTS} attempts; last error:\n{last}"
    )))
}

fn start_nginx(dir: &Path, certs: &CertFiles) -> Result<(Child, SilentServer, u16), LabError> {
    let silent_ip = Fixture::Silent
        .ipv4()
        .ok_or_else(|| LabError::Setup("internal: Silent has no address".into()))?;
    let conf = dir.join("nginx.conf");
    let error_log = dir.join("logs").join("nginx-error.log");
    let spawn = || {
        // The silent listener takes a free port first; nginx then uses it on every other address.
        let silent = SilentServer::bind(silent_ip, 0)
            .map_err(|e| LabError::io(format!("binding the silent listener on {silent_ip}"), e))?;
        let port = silent.port();
        let temp = dir.join("tmp");
        let paths = nginx::Paths {
            error_log: &error_log,
            access_log: &dir.join("logs").join("nginx-access.log"),
            pid: &dir.join("nginx.pid"),
            temp: &temp,
        };
        write(&conf, nginx::config(&paths, certs, port))?;
        // A fresh error log per attempt, so what we read is about this port.
        let _ = std::fs::remove_file(&error_log);
        let child = spawn_nginx(dir, &conf, &error_log)?;
        Ok((child, silent))
    };
    let (child, silent) = start_on_free_port("nginx", spawn, |child, silent| {
        wait_nginx(child, silent.port(), &error_log)
    })?;
    let port = silent.port();
    Ok((child, silent, port))
}

/// nginx in the foreground with `dir` as its prefix, its stdout and stderr in `dir/logs/`.
pub(crate) fn spawn_nginx(dir: &Path, conf: &Path, error_log: &Path) -> Result<Child, LabError> {
    let mut cmd = Command::new("nginx");
    cmd.arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(conf)
        .arg("-e")
        .arg(error_log)
        .stdin(Stdio::null())
        .stdout(log_file(&dir.join("logs").join("nginx.stdout"))?)
        .stderr(log_file(&dir.join("logs").join("nginx.stderr"))?);
    sys::spawn_tied(&mut cmd).map_err(|e| LabError::io("starting nginx (is nginx installed? Debian: nginx-light)", e))
}

fn wait_nginx(child: &mut Child, port: u16, error_log: &Path) -> Result<Attempt, LabError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let listening: Vec<SocketAddr> = Fixture::ALL
        .iter()
        .filter(|f| f.is_tls() || **f == Fixture::NotTls || **f == Fixture::Silent)
        .filter_map(|f| f.ipv4())
        .map(|ip| SocketAddr::new(IpAddr::V4(ip), port))
        .collect();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| LabError::io("waiting for nginx", e))? {
            let tail = tail(error_log, 30);
            if tail.contains("Address already in use") {
                return Ok(Attempt::PortTaken(tail));
            }
            return Err(LabError::Setup(format!(
                "nginx exited ({status}) before it was ready; {}:\n{tail}",
                error_log.display()
            )));
        }
        if listening
            .iter()
            .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
        {
            return Ok(Attempt::Ready);
        }
        if Instant::now() > deadline {
            return Err(LabError::Setup(format!(
                "nginx did not answer on port {port} within {READY_TIMEOUT:?}; {}:\n{}",
                error_log.display(),
                tail(error_log, 30)
            )));
        }
        thread::sleep(POLL);
    }
}

fn start_dnsmasq(dir: &Path, extra: &[String]) -> Result<(Child, SocketAddr), LabError> {
    let log = dir.join("logs").join("dnsmasq.log");
    let stderr = dir.join("logs").join("dnsmasq.stderr");
    let spawn = || {
        let listen = free_dns_port()?;
        let mut cmd = Command::new("dnsmasq");
        cmd.args(dns::dnsmasq_args(listen, &log, sys::is_root(), extra))
            .stdin(Stdio::null())
            .stdout(log_file(&dir.join("logs").join("dnsmasq.stdout"))?)
            .stderr(log_file(&stderr)?);
        let child = sys::spawn_tied(&mut cmd)
            .map_err(|e| LabError::io("starting dnsmasq (is it installed? Debian: dnsmasq-base)", e))?;
        Ok((child, listen))
    };
    start_on_free_port("dnsmasq", spawn, |child, listen| {
        wait_dnsmasq(child, *listen, &stderr, &log)
    })
}

/// A port free for both UDP and TCP on the DNS address, at this moment.
fn free_dns_port() -> Result<SocketAddr, LabError> {
    let ip = dns_ip();
    for _ in 0..20 {
        let udp = UdpSocket::bind((ip, 0)).map_err(|e| LabError::io(format!("finding a free UDP port on {ip}"), e))?;
        let addr = udp
            .local_addr()
            .map_err(|e| LabError::io("reading a UDP socket's address", e))?;
        if TcpListener::bind(addr).is_ok() {
            return Ok(addr);
        }
    }
    Err(LabError::Setup(format!("no port free for both UDP and TCP on {ip}")))
}

fn wait_dnsmasq(child: &mut Child, listen: SocketAddr, stderr: &Path, log: &Path) -> Result<Attempt, LabError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| LabError::io("waiting for dnsmasq", e))? {
            let why = format!("{}{}", tail(stderr, 10), tail(log, 10));
            if why.contains("Address already in use") {
                return Ok(Attempt::PortTaken(why));
            }
            return Err(LabError::Setup(format!(
                "dnsmasq exited ({status}) before it was ready:\n{why}"
            )));
        }
        // TCP first: until dnsmasq listens it is refused at once, where a UDP query would wait for
        // its timeout. dnsmasq opens its UDP and TCP sockets together.
        if TcpStream::connect_timeout(&listen, Duration::from_millis(200)).is_ok()
            && dns::udp_query_rcode(listen, Fixture::Valid.host_name(), Duration::from_millis(500)).is_ok()
        {
            return Ok(Attempt::Ready);
        }
        if Instant::now() > deadline {
            return Err(LabError::Setup(format!(
                "dnsmasq did not answer on {listen} within {READY_TIMEOUT:?}:\n{}{}",
                tail(stderr, 10),
                tail(log, 10)
            )));
        }
        thread::sleep(POLL);
    }
}

pub(crate) fn log_file(path: &Path) -> Result<File, LabError> {
    File::create(path).map_err(|e| LabError::io(format!("creating {}", path.display()), e))
}

pub(crate) fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), LabError> {
    std::fs::write(path, contents).map_err(|e| LabError::io(format!("writing {}", path.display()), e))
}

/// The last `lines` lines of a log file (empty if it cannot be read).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let mut out = all[all.len().saturating_sub(lines)..].join("\n");
            out.push('\n');
            out
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => format!("(cannot read {}: {e})\n", path.display()),
    }
}
