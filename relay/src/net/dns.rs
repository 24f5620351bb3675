//! Name resolution: overrides first (like curl's --resolve and --connect-to), then a real resolver.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

use super::NetError;

/// `--resolve HOST:PORT:ADDR[,ADDR...]`: answer for HOST on PORT without asking DNS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveOverride {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

impl FromStr for ResolveOverride {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || format!("'{s}' is not HOST:PORT:ADDR (for example mail.contoso.com:443:192.0.2.10)");
        let mut parts = s.splitn(3, ':');
        let (Some(host), Some(port), Some(addrs)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(usage());
        };
        let port = port.parse::<u16>().map_err(|_| usage())?;
        let addrs = addrs
            .split(',')
            .map(|a| a.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| usage())?;
        if host.is_empty() || addrs.is_empty() {
            return Err(usage());
        }
        Ok(ResolveOverride {
            host: host.to_ascii_lowercase(),
            port,
            addrs,
        })
    }
}

/// `--connect-to HOST:PORT:HOST2:PORT2`: reach HOST:PORT through HOST2:PORT2 (SNI and names stay HOST).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: String,
    pub port: u16,
    pub to_host: String,
    pub to_port: u16,
}

impl FromStr for ConnectTo {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || format!("'{s}' is not HOST:PORT:HOST2:PORT2 (for example mail.contoso.com:443:127.0.0.1:8443)");
        let parts: Vec<&str> = s.split(':').collect();
        let [host, port, to_host, to_port] = parts.as_slice() else {
            return Err(usage());
        };
        Ok(ConnectTo {
            host: host.to_ascii_lowercase(),
            port: port.parse().map_err(|_| usage())?,
            to_host: to_host.to_ascii_lowercase(),
            to_port: to_port.parse().map_err(|_| usage())?,
        })
    }
}

/// One SRV record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// Without the trailing dot, lower-case.
    pub target: String,
}

/// RFC 2782: the lowest priority value first; within one priority, the larger weight first.
pub fn srv_order(records: &mut [SrvRecord]) {
    records.sort_by(|a, b| a.priority.cmp(&b.priority).then(b.weight.cmp(&a.weight)));
}

/// The relay's resolver with its overrides.
#[derive(Clone)]
pub struct Dns {
    resolver: Result<TokioResolver, String>,
    overrides: Vec<ResolveOverride>,
    connect_to: Vec<ConnectTo>,
    /// Where answers come from, in words, for the evidence.
    pub source: String,
}

impl Dns {
    /// `server`: a DNS server to ask instead of the system's (`--dns`).
    pub fn new(
        server: Option<SocketAddr>,
        timeout: Duration,
        overrides: Vec<ResolveOverride>,
        connect_to: Vec<ConnectTo>,
    ) -> Self {
        let provider = TokioRuntimeProvider::default();
        let (builder, source) = match server {
            Some(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for conn in &mut ns.connections {
                    conn.port = addr.port();
                }
                let config = ResolverConfig::from_name_servers(vec![ns]);
                (
                    Ok(TokioResolver::builder_with_config(config, provider)),
                    format!("DNS server {addr}"),
                )
            }
            // resolv.conf, or on Windows the DNS servers of the adapters that are up; named in the
            // evidence, so a user sees which servers answered.
            None => match hickory_resolver::system_conf::read_system_conf() {
                Ok((config, options)) => {
                    // Windows lists a server once per adapter: name each once.
                    let mut servers: Vec<String> = Vec::new();
                    for ns in config.name_servers() {
                        let ip = ns.ip.to_string();
                        if !servers.contains(&ip) {
                            servers.push(ip);
                        }
                    }
                    let source = if servers.is_empty() {
                        "the system's DNS servers (none configured)".to_string()
                    } else {
                        format!("the system's DNS servers ({})", servers.join(", "))
                    };
                    let mut builder = TokioResolver::builder_with_config(config, provider);
                    *builder.options_mut() = options;
                    (Ok(builder), source)
                }
                Err(e) => (
                    Err(format!("cannot read the system DNS settings: {e}")),
                    "the system's DNS servers".to_string(),
                ),
            },
        };
        let resolver = builder.and_then(|mut b| {
            let opts = b.options_mut();
            opts.timeout = timeout;
            opts.attempts = 1;
            if server.is_some() {
                opts.use_hosts_file = ResolveHosts::Never;
            }
            b.build().map_err(|e| format!("cannot start the DNS resolver: {e}"))
        });
        Dns {
            resolver,
            overrides,
            connect_to,
            source,
        }
    }

    /// The same resolver and overrides, with `host:port` reached through `server` (on the same port)
    /// before any `--connect-to`: one server behind a name, checked directly with SNI and Host still
    /// `host`. `server` resolves like any name (an address, `--resolve`, `--dns`).
    pub fn through(&self, host: &str, port: u16, server: &str) -> Dns {
        let mut dns = self.clone();
        dns.connect_to.insert(
            0,
            ConnectTo {
                host: host.to_string(),
                port,
                to_host: server.to_string(),
                to_port: port,
            },
        );
        dns
    }

    /// Where a connection to `host:port` really goes (after `--connect-to`).
    pub fn route(&self, host: &str, port: u16) -> (String, u16) {
        match self.connect_to.iter().find(|c| c.host == host && c.port == port) {
            Some(c) => (c.to_host.clone(), c.to_port),
            None => (host.to_string(), port),
        }
    }

    /// The addresses to try for `host:port`, and where the answer came from.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<(Vec<IpAddr>, String), NetError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok((vec![ip], "an IP address (no lookup)".to_string()));
        }
        if let Some(o) = self.overrides.iter().find(|o| o.host == host && o.port == port) {
            return Ok((o.addrs.clone(), "--resolve".to_string()));
        }
        let resolver = self.resolver.as_ref().map_err(|reason| NetError::Dns {
            host: host.to_string(),
            reason: reason.clone(),
        })?;
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        match resolver.lookup_ip(fqdn.as_str()).await {
            Ok(lookup) => {
                let addrs: Vec<IpAddr> = lookup.iter().collect();
                if addrs.is_empty() {
                    Err(NetError::NoAddress { host: host.to_string() })
                } else {
                    Ok((addrs, self.source.clone()))
                }
            }
            Err(e) if e.is_nx_domain() => Err(NetError::NoSuchName { host: host.to_string() }),
            Err(e) if e.is_no_records_found() => Err(NetError::NoAddress { host: host.to_string() }),
            Err(e) => Err(NetError::Dns {
                host: host.to_string(),
                reason: e.to_string(),
            }),
        }
    }
}

impl Dns {
    /// The SRV records of `name`, in the order a client tries them.
    pub async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, NetError> {
        let resolver = self.resolver.as_ref().map_err(|reason| NetError::Dns {
            host: name.to_string(),
            reason: reason.clone(),
        })?;
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match resolver.srv_lookup(fqdn.as_str()).await {
            Ok(lookup) => {
                let mut records: Vec<SrvRecord> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        hickory_resolver::proto::rr::RData::SRV(srv) => Some(SrvRecord {
                            priority: srv.priority,
                            weight: srv.weight,
                            port: srv.port,
                            target: srv.target.to_utf8().trim_end_matches('.').to_ascii_lowercase(),
                        }),
                        _ => None,
                    })
                    .collect();
                srv_order(&mut records);
                Ok(records)
            }
            Err(e) if e.is_nx_domain() => Err(NetError::NoSuchName { host: name.to_string() }),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(NetError::Dns {
                host: name.to_string(),
                reason: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srv_lowest_priority_wins_and_weight_breaks_ties() {
        let r = |priority, weight, target: &str| SrvRecord {
            priority,
            weight,
            port: 443,
            target: target.into(),
        };
        let mut records = vec![r(20, 0, "backup"), r(10, 5, "light"), r(10, 50, "heavy")];
        srv_order(&mut records);
        let order: Vec<&str> = records.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(order, ["heavy", "light", "backup"]);
    }

    #[test]
    fn overrides_parse_like_curl() {
        let o: ResolveOverride = "Mail.Contoso.com:443:192.0.2.1,[2001:db8::1]"
            .parse()
            .expect("override");
        assert_eq!(o.host, "mail.contoso.com");
        assert_eq!(o.addrs.len(), 2);
        assert!("mail.contoso.com:443".parse::<ResolveOverride>().is_err());
        assert!("mail.contoso.com:99999:192.0.2.1".parse::<ResolveOverride>().is_err());
        let c: ConnectTo = "mail.contoso.com:443:127.0.0.1:8443".parse().expect("connect-to");
        assert_eq!((c.to_host.as_str(), c.to_port), ("127.0.0.1", 8443));
    }
}
