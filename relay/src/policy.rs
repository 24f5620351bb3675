//! The egress policy: which addresses and ports the relay may connect to.
//!
//! It is applied to the exact socket address about to be connected (after DNS), never to a name, so a
//! name that resolves to a private address is refused however it is spelled.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use migcheck_shared::kb::Vantage;

/// Where the relay may connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EgressPolicy {
    /// Only globally routable unicast addresses, on the allowed ports (the hosted default).
    Public { ports: Vec<u16> },
    /// Anywhere (a consultant inside a customer network).
    Any,
    /// Only the listed networks, any port (tests, and consultants who want a fence).
    Networks(Vec<IpNet>),
}

/// Why the policy refused an address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The address is loopback, private, link-local or otherwise not on the public internet.
    #[error(
        "{addr} is {range}, which migcheck does not reach in its public egress mode (it reaches such addresses when started with --egress any, or --egress and a list of networks)"
    )]
    NotPublic { addr: IpAddr, range: &'static str },
    /// The port is not among the allowed ones.
    #[error("port {port} is not among the ports migcheck may reach (allowed: {allowed}; --ports changes them)")]
    Port { port: u16, allowed: String },
    /// The address is outside the configured networks.
    #[error("{addr} is outside the networks migcheck may reach ({allowed}; --egress changes them)")]
    OutsideNetworks { addr: IpAddr, allowed: String },
    /// The name resolves to public and non-public addresses at once: a way to reach an internal host
    /// through a name that looks public, so none of its addresses is used.
    #[error(
        "the name resolves to the public address {public} and also to {private}, {range}: migcheck does not use a name that mixes public and non-public addresses"
    )]
    MixedResolution {
        public: IpAddr,
        private: IpAddr,
        range: &'static str,
    },
}

impl EgressPolicy {
    pub fn public_default() -> Self {
        EgressPolicy::Public { ports: vec![443, 80] }
    }

    /// Checks one socket address about to be connected.
    pub fn check(&self, target: SocketAddr) -> Result<(), Refusal> {
        let addr = target.ip().to_canonical();
        match self {
            EgressPolicy::Any => Ok(()),
            EgressPolicy::Networks(nets) => {
                if nets.iter().any(|n| n.contains(&addr)) {
                    Ok(())
                } else {
                    Err(Refusal::OutsideNetworks {
                        addr,
                        allowed: join(nets),
                    })
                }
            }
            EgressPolicy::Public { ports } => {
                if let Some(range) = non_public_range(addr) {
                    return Err(Refusal::NotPublic { addr, range });
                }
                if !ports.contains(&target.port()) {
                    return Err(Refusal::Port {
                        port: target.port(),
                        allowed: join(ports),
                    });
                }
                Ok(())
            }
        }
    }

    /// Checks all the addresses a name resolved to, before any is tried: in public mode a name that
    /// mixes public and non-public addresses is refused whole (DNS answers are the attacker's to choose).
    pub fn check_resolution(&self, addrs: &[IpAddr]) -> Result<(), Refusal> {
        if !matches!(self, EgressPolicy::Public { .. }) {
            return Ok(());
        }
        let public = addrs.iter().find(|a| non_public_range(**a).is_none());
        let private = addrs.iter().find_map(|a| non_public_range(*a).map(|range| (a, range)));
        match (public, private) {
            (Some(&public), Some((&private, range))) => Err(Refusal::MixedResolution {
                public: public.to_canonical(),
                private: private.to_canonical(),
                range,
            }),
            _ => Ok(()),
        }
    }

    /// Where the relay looks from: only the public mode sees what the internet (and so Exchange Online)
    /// sees; the others may reach a name's internal server.
    pub fn vantage(&self) -> Vantage {
        match self {
            EgressPolicy::Public { .. } => Vantage::Internet,
            EgressPolicy::Any | EgressPolicy::Networks(_) => Vantage::Inside,
        }
    }

    /// Replaces the allowed ports of the public policy (other policies ignore ports).
    pub fn with_ports(self, new_ports: Vec<u16>) -> Self {
        match self {
            EgressPolicy::Public { .. } => EgressPolicy::Public { ports: new_ports },
            other => other,
        }
    }
}

impl fmt::Display for EgressPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EgressPolicy::Public { ports } => write!(f, "public: public addresses only, ports {}", join(ports)),
            EgressPolicy::Any => write!(f, "any: every address and port"),
            EgressPolicy::Networks(nets) => write!(f, "networks: {}", join(nets)),
        }
    }
}

impl FromStr for EgressPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "public" => Ok(EgressPolicy::public_default()),
            "any" => Ok(EgressPolicy::Any),
            list => {
                let nets = list
                    .split(',')
                    .map(|part| {
                        let part = part.trim();
                        parse_network(part)
                            .ok_or_else(|| format!("'{part}' is not a CIDR network (expected public, any, or a list like 10.0.0.0/8,192.168.1.5)"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(EgressPolicy::Networks(nets))
            }
        }
    }
}

/// A CIDR network (`10.0.0.0/8`) or a single address (`192.168.1.5`, as a /32 or /128).
pub fn parse_network(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .ok()
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// The name of the special-purpose range an address falls in, or `None` for a public unicast address.
pub fn non_public_range(addr: IpAddr) -> Option<&'static str> {
    match addr.to_canonical() {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

const V4_RANGES: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "in 0.0.0.0/8 (this network)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "a private address (10.0.0.0/8)"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "a carrier-grade NAT address (100.64.0.0/10)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "a loopback address"),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "a link-local address (169.254.0.0/16)",
    ),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "a private address (172.16.0.0/12)"),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "an IETF protocol address (192.0.0.0/24)",
    ),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "a documentation address (192.0.2.0/24)",
    ),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "a 6to4 relay address (192.88.99.0/24)",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "a private address (192.168.0.0/16)"),
    (
        Ipv4Addr::new(198, 18, 0, 0),
        15,
        "a benchmarking address (198.18.0.0/15)",
    ),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "a documentation address (198.51.100.0/24)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "a documentation address (203.0.113.0/24)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "a multicast address"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "a reserved address (240.0.0.0/4)"),
];

fn v4_range(addr: Ipv4Addr) -> Option<&'static str> {
    V4_RANGES
        .iter()
        .find_map(|&(net, len, name)| Ipv4Net::new(net, len).ok().filter(|n| n.contains(&addr)).map(|_| name))
}

fn v6_range(addr: Ipv6Addr) -> Option<&'static str> {
    let seg = addr.segments();
    let in_net = |net: Ipv6Addr, len: u8| Ipv6Net::new(net, len).is_ok_and(|n| n.contains(&addr));
    let embedded_v4 = |o: [u8; 16], at: usize| Ipv4Addr::new(o[at], o[at + 1], o[at + 2], o[at + 3]);
    if addr.is_unspecified() {
        return Some("the unspecified address (::)");
    }
    if addr.is_loopback() {
        return Some("a loopback address");
    }
    // IPv4-compatible (::a.b.c.d) is deprecated and never routed.
    if seg[..6] == [0; 6] {
        return Some("an IPv4-compatible IPv6 address (::/96)");
    }
    if in_net(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return v4_range(embedded_v4(addr.octets(), 12)).map(|_| "a NAT64 form of a non-public IPv4 address");
    }
    if in_net(Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        return v4_range(embedded_v4(addr.octets(), 2)).map(|_| "a 6to4 form of a non-public IPv4 address");
    }
    let table: &[(Ipv6Addr, u8, &'static str)] = &[
        (
            Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
            64,
            "a discard-only address (100::/64)",
        ),
        (
            Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
            32,
            "a Teredo address (2001::/32)",
        ),
        (
            Ipv6Addr::new(0x2001, 0x2, 0, 0, 0, 0, 0, 0),
            48,
            "a benchmarking address (2001:2::/48)",
        ),
        (
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
            32,
            "a documentation address (2001:db8::/32)",
        ),
        (
            Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
            20,
            "a documentation address (3fff::/20)",
        ),
        (
            Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
            7,
            "a unique local address (fc00::/7)",
        ),
        (
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
            10,
            "a link-local address (fe80::/10)",
        ),
        (
            Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
            10,
            "a site-local address (fec0::/10)",
        ),
        (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "a multicast address"),
    ];
    table
        .iter()
        .find(|&&(net, len, _)| in_net(net, len))
        .map(|&(_, _, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &EgressPolicy, addr: &str) -> bool {
        policy.check(addr.parse().expect("socket address")).is_err()
    }

    #[test]
    fn public_policy_refuses_every_non_public_form() {
        let p = EgressPolicy::public_default();
        for a in [
            "127.0.0.1:443",
            "10.1.2.3:443",
            "172.16.0.1:443",
            "192.168.1.1:443",
            "100.64.0.1:443",
            "169.254.169.254:80",
            "0.0.0.0:443",
            "224.0.0.1:443",
            "255.255.255.255:443",
            "192.0.2.1:443",
            "[::1]:443",
            "[::]:443",
            "[fd00::1]:443",
            "[fe80::1]:443",
            "[fec0::1]:443",
            "[ff02::1]:443",
            "[::ffff:127.0.0.1]:443",
            "[::ffff:10.0.0.1]:443",
            "[::127.0.0.1]:443",
            "[64:ff9b::a00:1]:443",
            "[2002:c0a8:0101::1]:443",
            "[2001:0:4136:e378::1]:443",
        ] {
            assert!(refused(&p, a), "{a} should be refused");
        }
    }

    #[test]
    fn public_policy_allows_public_addresses_on_allowed_ports_only() {
        let p = EgressPolicy::public_default();
        assert!(!refused(&p, "52.96.0.1:443"));
        assert!(!refused(&p, "[2603:1036::1]:443"));
        assert!(
            !refused(&p, "[64:ff9b::3460:1]:443"),
            "NAT64 of a public address is public"
        );
        let err = p.check("52.96.0.1:25".parse().expect("addr")).expect_err("port 25");
        assert_eq!(
            err.to_string(),
            "port 25 is not among the ports migcheck may reach (allowed: 443,80; --ports changes them)"
        );
    }

    #[test]
    fn a_name_mixing_public_and_private_addresses_is_refused_whole() {
        let public = EgressPolicy::public_default();
        let ips = |list: &[&str]| list.iter().map(|a| a.parse().expect("ip")).collect::<Vec<IpAddr>>();
        for mixed in [
            &["93.184.215.14", "127.0.0.1"][..],
            &["10.0.0.5", "93.184.215.14"],
            &["2606:2800:21f:cb07::1", "::ffff:192.168.1.1"],
            &["93.184.215.14", "fd00::1"],
        ] {
            let refusal = public.check_resolution(&ips(mixed)).expect_err("mixed");
            assert!(
                matches!(refusal, Refusal::MixedResolution { .. }),
                "{mixed:?}: {refusal:?}"
            );
            assert!(refusal.to_string().contains("mixes public and non-public"), "{refusal}");
        }
        assert_eq!(
            public
                .check_resolution(&ips(&["93.184.215.14", "127.0.0.1"]))
                .map_err(|r| r.to_string()),
            Err("the name resolves to the public address 93.184.215.14 and also to 127.0.0.1, a loopback address: migcheck does not use a name that mixes public and non-public addresses".into())
        );
        // All public, or all private (refused address by address later, with its own message), pass here.
        assert_eq!(
            public.check_resolution(&ips(&["93.184.215.14", "2606:2800:21f:cb07::1"])),
            Ok(())
        );
        assert_eq!(public.check_resolution(&ips(&["127.0.0.1", "10.1.1.1"])), Ok(()));
        // A consultant's policies do not judge names.
        for policy in [EgressPolicy::Any, "127.0.0.0/8".parse().expect("cidr")] {
            assert_eq!(policy.check_resolution(&ips(&["93.184.215.14", "127.0.0.1"])), Ok(()));
        }
    }

    #[test]
    fn refusal_says_why() {
        let err = EgressPolicy::public_default()
            .check("10.0.0.5:443".parse().expect("addr"))
            .expect_err("private");
        assert_eq!(
            err.to_string(),
            "10.0.0.5 is a private address (10.0.0.0/8), which migcheck does not reach in its public egress mode (it reaches such addresses when started with --egress any, or --egress and a list of networks)"
        );
    }

    #[test]
    fn cidr_lists_parse_and_fence() {
        let p: EgressPolicy = "127.0.2.0/24, 10.0.0.7".parse().expect("policy");
        assert!(!refused(&p, "127.0.2.9:8443"));
        assert!(!refused(&p, "10.0.0.7:443"));
        assert!(refused(&p, "10.0.0.8:443"));
        assert!("127.0.0.0/33".parse::<EgressPolicy>().is_err());
        assert_eq!("any".parse::<EgressPolicy>(), Ok(EgressPolicy::Any));
    }
}
