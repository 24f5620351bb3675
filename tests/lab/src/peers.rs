//! What the independent peers (exchangelib, impacket, sslyze, curl) need to stay inside the lab.

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use crate::OaScenario;

/// Environment that would send a client elsewhere: proxies, and this machine's CA bundles.
pub const FOREIGN_ENV: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "CURL_CA_BUNDLE",
];

/// The MS-OXCRPC mail store interface (EMSMDB).
pub const EMSMDB: &str = "A4F1DB00-CA47-1067-B31F-00DD010662DA";

/// impacket's rpcmap (from the venv whose `python` is given) binding EMSMDB through `s`'s proxy at
/// `proxy`, with Basic as the scenario's migration account; the environment cleared of [`FOREIGN_ENV`].
pub fn rpcmap(python: &Path, s: OaScenario, proxy: IpAddr) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg(python.with_file_name("rpcmap.py"))
        .arg(format!("ncacn_http:{}[6001,RpcProxy={proxy}:443]", s.exchange_server()))
        .args([
            "-uuid",
            &format!("{EMSMDB} v0.81"),
            "-auth-level",
            "1",
            "-auth-transport",
        ])
        .arg(format!("OALAB/migadmin:{}", s.password()));
    for v in FOREIGN_ENV {
        cmd.env_remove(v);
    }
    cmd
}
