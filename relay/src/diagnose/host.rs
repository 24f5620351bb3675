//! KB step 2 on one host: reach it, then judge its TLS and certificate.

use std::time::Instant;

use time::OffsetDateTime;

use migcheck_shared::{Check, HostPort, Phase, Status};

use super::{Recorder, worst};
use crate::net::{LegacyAnswer, Net, NetError};
use crate::probe::Outcome;
use crate::probe::tls::{judge, private_root};

/// The headline when every check passed: fine for Exchange Online only if a public CA made it trusted.
pub(crate) fn pass_headline(target: &HostPort, checks: &[Check]) -> String {
    let sound = format!(
        "The certificate of {}:{} is trusted, in date and covers the name",
        target.host,
        target.port.unwrap_or(443)
    );
    match checks.iter().find_map(|c| c.find("tls.chain")).and_then(private_root) {
        Some(from) => format!("{sound}, but only through a root from {from}: {ONLY_PUBLIC}"),
        None => format!("{sound}; TLS is fine for Exchange Online."),
    }
}

/// Why a chain trusted through `--ca-file` or the system store is not enough.
const ONLY_PUBLIC: &str = "Exchange Online trusts only public certification authorities.";

pub(crate) async fn host_checks(net: &Net, rec: &Recorder, target: &HostPort) -> Vec<Check> {
    let host = target.host.as_str();
    let port = target.port.unwrap_or(443);
    let (via_host, via_port) = net.dns.route(host, port);

    let net_run = rec.start("net", format!("Reach {host}:{port}"), None);
    let mut dns_run = rec.start("net.dns", format!("Resolve {via_host}"), Some("net"));
    let dns_t = Instant::now();
    let resolved = net.dns.resolve(&via_host, via_port).await;
    rec.phase(&mut dns_run, Phase::Dns, dns_t);
    let addrs = match resolved {
        Ok((addrs, source)) => {
            let list = addrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            let dns = rec.finish(
                dns_run,
                Outcome::pass(format!("{via_host} resolves to {list}."))
                    .fact("Addresses", list.clone())
                    .fact("Answered by", source),
                vec![],
            );
            (addrs, dns)
        }
        Err(e) => {
            let dns = rec.finish(
                dns_run,
                dns_failure(host, &e).fact("Asked", net.dns.source.clone()),
                vec![],
            );
            let tcp = rec.start("net.tcp", format!("Connect to {via_host}:{via_port}"), Some("net"));
            let tcp = rec.finish(tcp, Outcome::skip("Not tried: the name did not resolve."), vec![]);
            let reach = rec.finish_parent(net_run, vec![dns, tcp], format!("{host} cannot be reached: {e}."));
            let tls = rec.start("tls", format!("Certificate and TLS of {host}"), None);
            let tls = rec.finish(tls, Outcome::skip("Not checked: no connection."), vec![]);
            return vec![reach, tls];
        }
    };
    let (addrs, dns) = addrs;

    let mut tcp_run = rec.start("net.tcp", format!("Connect to {via_host}:{via_port}"), Some("net"));
    let tcp_t = Instant::now();
    let connected = net.connect(&addrs, via_port).await;
    rec.phase(&mut tcp_run, Phase::Tcp, tcp_t);
    let connected = match connected {
        Ok(c) => {
            let mut outcome =
                Outcome::pass(format!("Connected to {}.", c.peer)).fact("Connected to", c.peer.to_string());
            for (addr, why) in &c.skipped {
                outcome = outcome.fact("Not used", format!("{addr}: {why}"));
            }
            let tcp = rec.finish(tcp_run, outcome, vec![]);
            let reach = rec.finish_parent(net_run, vec![dns, tcp], format!("{host}:{port} accepts connections."));
            (c, reach)
        }
        Err((e, tried)) => {
            let mut outcome = connect_failure(host, port, &e);
            for (addr, why) in &tried {
                outcome = outcome.fact("Tried", format!("{addr}: {why}"));
            }
            let tcp = rec.finish(tcp_run, outcome, vec![]);
            let reach = rec.finish_parent(net_run, vec![dns, tcp], format!("{host}:{port} cannot be reached."));
            let tls = rec.start("tls", format!("Certificate and TLS of {host}"), None);
            let tls = rec.finish(tls, Outcome::skip("Not checked: no connection."), vec![]);
            return vec![reach, tls];
        }
    };
    let (conn, reach) = connected;

    let tls_run = rec.start("tls", format!("Certificate and TLS of {host}"), None);
    let mut hs_run = rec.start("tls.handshake", "TLS handshake", Some("tls"));
    let hs_t = Instant::now();
    let mut inspection = net.inspect_tls(conn.stream, conn.peer, host).await;
    if inspection.may_be_old_tls() {
        inspection.legacy = net.legacy_tls(inspection.peer, host).await.ok();
    }
    rec.phase(&mut hs_run, Phase::Tls, hs_t);
    let handshake = rec.finish(hs_run, handshake_outcome(host, port, &inspection), vec![]);
    let verdicts = judge(host, &inspection, &net.trust, OffsetDateTime::now_utc());
    let mut children = vec![handshake];
    for (id, title, outcome) in [
        ("tls.version", "TLS version".to_string(), verdicts.version),
        ("tls.chain", "Trusted certificate chain".to_string(), verdicts.chain),
        ("tls.dates", "Certificate dates".to_string(), verdicts.dates),
        ("tls.name", format!("Certificate covers {host}"), verdicts.name),
        ("tls.key", "Key strength".to_string(), verdicts.key),
        ("tls.signature", "Signature algorithm".to_string(), verdicts.signature),
    ] {
        let run = rec.start(id, title, Some("tls"));
        children.push(rec.finish(run, outcome, vec![]));
    }
    let private = children.iter().find(|c| c.id == "tls.chain").and_then(private_root);
    let summary = match (worst(&children), private) {
        (Some(Status::Pass), Some(from)) => {
            format!("The certificate of {host} is sound, but trusted only through a root from {from}: {ONLY_PUBLIC}")
        }
        (Some(Status::Pass), None) => format!("The certificate of {host} is fine for Exchange Online."),
        _ => format!("The certificate or TLS set-up of {host} has problems."),
    };
    let tls = rec.finish_parent(tls_run, children, summary);
    vec![reach, tls]
}

/// An error whose message starts with the address, led by the name the user typed.
fn at(host: &str, e: &NetError) -> String {
    match e {
        NetError::ConnectionRefused { .. }
        | NetError::ConnectTimeout { .. }
        | NetError::TlsTimeout { .. }
        | NetError::NotTls { .. }
        | NetError::TlsTooOld { .. }
        | NetError::TlsIncompatible { .. } => format!("{host} at {e}"),
        _ => e.to_string(),
    }
}

fn dns_failure(host: &str, e: &NetError) -> Outcome {
    let fix = format!(
        "# Publish an A record for {host} in public DNS, pointing at the Exchange server or the reverse proxy in front of it; then check it\nResolve-DnsName {host} -Type A"
    );
    Outcome::problem(
        Status::Fail,
        migcheck_shared::Cause::Network,
        format!("{e}: Exchange Online cannot find the server."),
        fix,
    )
}

fn connect_failure(host: &str, port: u16, e: &NetError) -> Outcome {
    let (summary, fix) = match e {
        // The policy's own sentence, led by the name the user typed (the error starts "not connecting to").
        NetError::Refused { addr, refusal } => (
            format!("{host} is at {addr}, where migcheck does not connect: {refusal}."),
            format!(
                "# Exchange Online reaches only public addresses: publish {host} on a public address.\n# To test an internal server, run the migcheck binary inside the network:\n# migcheck check --host {host} --egress any"
            ),
        ),
        NetError::ConnectionRefused { .. } => (
            format!("{}.", at(host, e)),
            format!(
                "# Make the Exchange server (or its reverse proxy) accept HTTPS on port {port}: check the https binding of the Default Web Site and the firewall / NAT rule that forwards {port} to it\nGet-WebBinding -Name 'Default Web Site' -Protocol https"
            ),
        ),
        NetError::ConnectTimeout { .. } => (
            format!("{}: a firewall is probably dropping the connection.", at(host, e)),
            format!(
                "# Allow inbound TCP {port} from the internet to the Exchange server or its reverse proxy and check the NAT rule; then test from outside\nTest-NetConnection {host} -Port {port}"
            ),
        ),
        _ => (
            format!("{e}."),
            format!(
                "# Check the route and firewall between the internet and {host}:{port}\nTest-NetConnection {host} -Port {port}"
            ),
        ),
    };
    Outcome::problem(Status::Fail, migcheck_shared::Cause::Network, summary, fix)
}

fn handshake_outcome(host: &str, port: u16, inspection: &crate::net::Inspection) -> Outcome {
    let mut outcome = match &inspection.error {
        None => Outcome::pass(format!(
            "Handshake completed: {}, {}.",
            inspection.version.unwrap_or("TLS"),
            inspection.cipher_suite.clone().unwrap_or_default()
        )),
        // The version check raises this one's finding.
        Some(e) if inspection.old_tls_only().is_some() => Outcome::new(Status::Fail, format!("{}.", at(host, e))),
        Some(NetError::NotTls { .. }) => Outcome::problem(
            Status::Fail,
            migcheck_shared::Cause::ExternalAccess,
            format!("{host}:{port} does not speak TLS: SSL is not set up where Exchange Online connects."),
            format!(
                "# Outlook Anywhere needs SSL: bind a certificate to the https binding of the Default Web Site, and make the firewall forward {port} to that binding, not to plain HTTP\nGet-ExchangeCertificate | Format-List Thumbprint,Services,Subject,NotAfter\nEnable-ExchangeCertificate -Thumbprint <thumbprint> -Services IIS"
            ),
        ),
        Some(e @ NetError::TlsTimeout { .. }) => Outcome::problem(
            Status::Fail,
            migcheck_shared::Cause::Network,
            format!("{}.", at(host, e)),
            format!(
                "# Something accepts connections on {host}:{port} but never answers TLS: check the firewall, load balancer or reverse proxy in front of Exchange, and that the https binding has a certificate\nGet-WebBinding -Name 'Default Web Site' -Protocol https"
            ),
        ),
        Some(e) => Outcome::problem(
            Status::Fail,
            migcheck_shared::Cause::Network,
            format!("{}.", at(host, e)),
            format!(
                "# Exchange Online needs TLS 1.2 or newer with an ECDHE AES-GCM cipher suite: check the TLS settings of {host}:{port} and of any load balancer in front of it"
            ),
        ),
    };
    outcome = outcome.fact("Server", inspection.peer.to_string());
    if let Some(e) = &inspection.error {
        outcome = outcome.fact("Error", e.to_string());
    }
    if let Some(v) = inspection.version {
        outcome = outcome.fact("Version", v);
    }
    if let Some(s) = &inspection.cipher_suite {
        outcome = outcome.fact("Cipher suite", s.clone());
    }
    if let Some(a) = &inspection.alpn {
        outcome = outcome.fact("ALPN", a.clone());
    }
    if !inspection.chain.is_empty() {
        outcome = outcome.fact("Certificates presented", inspection.chain.len().to_string());
    }
    if let Some(answer) = &inspection.legacy {
        let said = match answer {
            LegacyAnswer::Chose(v) => format!("chose {v}"),
            LegacyAnswer::Alert(code) => format!("refused with TLS alert {code}"),
            LegacyAnswer::Nothing => "no TLS answer".to_string(),
        };
        outcome = outcome.fact("Offered TLS 1.0 and 1.1", said);
    }
    if let Some(p) = &inspection.signature_problem {
        outcome = outcome.fact("Handshake signature", format!("a strict client would reject it: {p}"));
    }
    outcome
}
