//! What the lab's test binaries share.

use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use migcheck_lab::Lab;

/// An independent DNS client (hickory) that asks only the lab's dnsmasq, over UDP or TCP, uncached.
pub fn resolver(lab: &Lab, tcp: bool) -> Resolver<TokioRuntimeProvider> {
    let ip = lab.dns().ip();
    let mut ns = if tcp {
        NameServerConfig::tcp(ip)
    } else {
        NameServerConfig::udp(ip)
    };
    for c in &mut ns.connections {
        c.port = lab.dns().port();
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
