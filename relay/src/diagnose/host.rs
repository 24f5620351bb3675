//! KB step 2 on one host: reach it, then judge its TLS and certificate.

use std::time::Instant;

use time::OffsetDateTime;

use migcheck_shared::kb::{ReachProblem, SuiteJudgement};
use migcheck_shared::{Check, HostPort, KbStep, Phase, Status};

use super::certificate::{judge, private_root};
use super::{Outcome, Recorder, suite, worst};
use crate::net::{LegacyAnswer, Net, NetError};

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

    let net_run = rec.start(KbStep::Certificate, "net", format!("Reach {host}:{port}"), None);
    let mut dns_run = rec.start(
        KbStep::Certificate,
        "net.dns",
        format!("Resolve {via_host}"),
        Some("net"),
    );
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
            let tcp = rec.start(
                KbStep::Certificate,
                "net.tcp",
                format!("Connect to {via_host}:{via_port}"),
                Some("net"),
            );
            let tcp = rec.finish(tcp, Outcome::skip("Not tried: the name did not resolve."), vec![]);
            let reach = rec.finish_parent(net_run, vec![dns, tcp], format!("{host} cannot be reached: {e}."));
            let tls = rec.start(
                KbStep::Certificate,
                "tls",
                format!("Certificate and TLS of {host}"),
                None,
            );
            let tls = rec.finish(tls, Outcome::skip("Not checked: no connection."), vec![]);
            return vec![reach, tls];
        }
    };
    let (addrs, dns) = addrs;

    let mut tcp_run = rec.start(
        KbStep::Certificate,
        "net.tcp",
        format!("Connect to {via_host}:{via_port}"),
        Some("net"),
    );
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
            if let NetError::Refused { refusal, .. } = &e {
                // For the comparison of two views: this relay did not look (`kb::compare`).
                outcome = outcome.fact(migcheck_shared::kb::compare::REFUSED_BY_POLICY, refusal.to_string());
            }
            for (addr, why) in &tried {
                outcome = outcome.fact("Tried", format!("{addr}: {why}"));
            }
            let tcp = rec.finish(tcp_run, outcome, vec![]);
            let reach = rec.finish_parent(net_run, vec![dns, tcp], format!("{host}:{port} cannot be reached."));
            let tls = rec.start(
                KbStep::Certificate,
                "tls",
                format!("Certificate and TLS of {host}"),
                None,
            );
            let tls = rec.finish(tls, Outcome::skip("Not checked: no connection."), vec![]);
            return vec![reach, tls];
        }
    };
    let (conn, reach) = connected;

    let tls_run = rec.start(
        KbStep::Certificate,
        "tls",
        format!("Certificate and TLS of {host}"),
        None,
    );
    let mut hs_run = rec.start(KbStep::Certificate, "tls.handshake", "TLS handshake", Some("tls"));
    let hs_t = Instant::now();
    // rustls, then (for want of common parameters) OpenSSL; only when both fail, the old-TLS question.
    let mut inspection = net.inspect(conn.stream, conn.peer, host).await;
    if inspection.may_be_old_tls() {
        inspection.legacy = net.legacy_tls(inspection.peer, host).await.ok();
    }
    let judgement = suite::judge(net, host, &inspection).await;
    rec.phase(&mut hs_run, Phase::Tls, hs_t);
    let handshake = rec.finish(
        hs_run,
        handshake_outcome(host, port, &inspection, judgement.as_ref()),
        vec![],
    );
    let verdicts = judge(host, &inspection, &net.trust, net.vantage, OffsetDateTime::now_utc());
    let mut children = vec![handshake];
    for (id, title, outcome) in [
        ("tls.version", "TLS version".to_string(), verdicts.version),
        ("tls.chain", "Trusted certificate chain".to_string(), verdicts.chain),
        ("tls.dates", "Certificate dates".to_string(), verdicts.dates),
        ("tls.name", format!("Certificate covers {host}"), verdicts.name),
        ("tls.key", "Key strength".to_string(), verdicts.key),
        ("tls.signature", "Signature algorithm".to_string(), verdicts.signature),
    ] {
        let run = rec.start(KbStep::Certificate, id, title, Some("tls"));
        children.push(rec.finish(run, outcome, vec![]));
    }
    let private = children.iter().find(|c| c.id == "tls.chain").and_then(private_root);
    // A private root is the chain's warning or failure: when it is the only one, say so.
    let rest_sound = {
        let rest: Vec<Check> = children.iter().filter(|c| c.id != "tls.chain").cloned().collect();
        matches!(worst(&rest), Some(Status::Pass | Status::Info | Status::Skip) | None)
    };
    let summary = match (worst(&children), private) {
        (_, Some(from)) if rest_sound => {
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
    Outcome::problem(ReachProblem::NoAddress {
        host: host.to_string(),
        error: e.to_string(),
    })
}

fn connect_failure(host: &str, port: u16, e: &NetError) -> Outcome {
    let host = host.to_string();
    let error = at(&host, e);
    Outcome::problem(match e {
        // The policy's own sentence, led by the name the user typed (the error starts "not connecting to").
        NetError::Refused { addr, refusal } => ReachProblem::Refused {
            host,
            addr: addr.to_string(),
            refusal: refusal.to_string(),
        },
        NetError::ConnectionRefused { .. } => ReachProblem::ConnectionRefused { host, port, error },
        NetError::ConnectTimeout { .. } => ReachProblem::ConnectTimeout { host, port, error },
        _ => ReachProblem::ConnectFailed { host, port, error },
    })
}

fn handshake_outcome(
    host: &str,
    port: u16,
    inspection: &crate::net::Inspection,
    judgement: Option<&SuiteJudgement>,
) -> Outcome {
    let mut outcome = match &inspection.error {
        None => suite::completed(host, inspection, judgement),
        // The version check raises this one's finding.
        Some(e) if inspection.old_tls_only().is_some() => Outcome::new(Status::Fail, format!("{}.", at(host, e))),
        Some(NetError::NotTls { .. }) => Outcome::problem(ReachProblem::NotTls {
            host: host.to_string(),
            port,
        }),
        Some(e @ NetError::TlsTimeout { .. }) => Outcome::problem(ReachProblem::TlsTimeout {
            host: host.to_string(),
            port,
            error: at(host, e),
        }),
        Some(e) => Outcome::problem(ReachProblem::TlsFailed {
            host: host.to_string(),
            port,
            error: at(host, e),
        }),
    };
    outcome = suite::second_try_facts(outcome.fact("Server", inspection.peer.to_string()), inspection);
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
