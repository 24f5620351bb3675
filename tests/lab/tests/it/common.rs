//! What the lab's test binaries share.

use std::process::{Command, Stdio};
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use migcheck_lab::Lab;

/// An independent DNS client (hickory) that asks only the lab's dnsmasq, over UDP or TCP, uncached.
pub fn resolver(lab: &Lab, tcp: bool) -> Resolver<TokioRuntimeProvider> {
    resolver_at(lab.dns(), tcp)
}

/// The same client asking the DNS server at `dns` (the lab's, or the latency injector's relay).
pub fn resolver_at(dns: std::net::SocketAddr, tcp: bool) -> Resolver<TokioRuntimeProvider> {
    let ip = dns.ip();
    let mut ns = if tcp {
        NameServerConfig::tcp(ip)
    } else {
        NameServerConfig::udp(ip)
    };
    for c in &mut ns.connections {
        c.port = dns.port();
    }
    let mut opts = ResolverOpts::default();
    opts.use_hosts_file = ResolveHosts::Never;
    opts.cache_size = 0;
    opts.timeout = Duration::from_secs(2);
    opts.attempts = 1;
    Resolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![ns]),
        TokioRuntimeProvider::default(),
    )
    .with_options(opts)
    .build()
    .expect("build resolver")
}

pub use migcheck_lab::peers::FOREIGN_ENV;

/// One HTTP exchange as a client saw it.
#[derive(Debug, Default)]
pub struct Reply {
    /// The client's exit code (curl: 0 ok, 7 refused, 28 timeout, 60 certificate ...).
    pub exit: i32,
    pub status: u16,
    pub headers: String,
    pub body: String,
    pub stderr: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

pub fn run_client(cmd: &mut Command, password: Option<&str>) -> Reply {
    for v in FOREIGN_ENV {
        cmd.env_remove(v);
    }
    if let Some(p) = password {
        cmd.env("LAB_PASSWORD", p);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // With a redirect or a 401 retry there may be several header blocks: keep the last.
    let mut reply = Reply {
        exit: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ..Reply::default()
    };
    let mut rest = text.as_str();
    while rest.starts_with("HTTP/") {
        let (head, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
        reply.status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        reply.headers = head.to_string();
        rest = body;
    }
    reply.body = rest.to_string();
    reply
}
