//! dnsmasq's command line, and a minimal DNS query used only to see that dnsmasq answers.

use std::ffi::OsString;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

use crate::Fixture;

/// The zones the lab answers for; every other name under them is NXDOMAIN.
pub(crate) const ZONES: &[&str] = &["contoso.test", "fabrikam.test"];

/// `extra`: more records (the Autodiscover scenarios' zone, A and SRV records).
pub(crate) fn dnsmasq_args(listen: SocketAddr, log_file: &Path, as_root: bool, extra: &[String]) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--pid-file=",
        "--bind-interfaces",
        "--log-queries",
        // A realistic TTL instead of dnsmasq's default of 0 for local records.
        "--local-ttl=60",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    if as_root {
        // Stay root:root. By default dnsmasq switches to the user "dnsmasq" (which may not exist) and
        // the group "dip"; any change of uid or gid makes the kernel clear PR_SET_PDEATHSIG, and the
        // dnsmasq would outlive the test process that started it.
        args.push("--user=root".into());
        args.push("--group=root".into());
    }
    args.push(format!("--listen-address={}", listen.ip()).into());
    args.push(format!("--port={}", listen.port()).into());
    let mut log = OsString::from("--log-facility=");
    log.push(log_file);
    args.push(log);
    for zone in ZONES {
        args.push(format!("--local=/{zone}/").into());
    }
    for &f in Fixture::ALL {
        let Some(ip) = f.ipv4() else { continue };
        for name in std::iter::once(f.host_name()).chain(f.alias_names().iter().copied()) {
            args.push(format!("--host-record={name},{ip}").into());
        }
    }
    args.extend(extra.iter().map(OsString::from));
    args
}

/// Sends one A query for `name` over UDP and returns the reply's RCODE.
pub(crate) fn udp_query_rcode(server: SocketAddr, name: &str, timeout: Duration) -> io::Result<u8> {
    let id: u16 = (std::process::id() as u16) ^ 0x5a5a;
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; QDCOUNT 1
    for label in name.split('.') {
        let len =
            u8::try_from(label.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "label too long"))?;
        q.push(len);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]); // root, QTYPE A, QCLASS IN
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.set_read_timeout(Some(timeout))?;
    sock.send_to(&q, server)?;
    let mut buf = [0u8; 512];
    loop {
        let (n, from) = sock.recv_from(&mut buf)?;
        if from == server && n >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 {
            return Ok(buf[3] & 0x0f);
        }
    }
}
