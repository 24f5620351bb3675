//! The plan: runs the KB's checks for a request as a tree, streams `started`/`finished` events as they
//! happen, and ends with the report (verdict, headline, findings in order of importance).

use std::time::Instant;

use time::OffsetDateTime;
use tokio::sync::mpsc::UnboundedSender;

use migcheck_shared::request::ValidRequest;
use migcheck_shared::{
    Check, DiagnoseRequest, Event, Finding, HostPort, Phase, PhaseTiming, Report, SCHEMA_VERSION, Status, Verdict,
};

use crate::net::{LegacyAnswer, Net, NetError};
use crate::probe::tls::judge;
use crate::probe::{Outcome, Problem};

/// KB 2389390 step 2: the certificate.
const KB_CERT: Option<u8> = Some(2);

/// Builds the tree and the findings while the checks run, and tells the listener as it goes.
struct Recorder {
    events: UnboundedSender<Event>,
    t0: Instant,
    findings: Vec<Finding>,
}

/// A check underway: when it started, and its phases so far.
struct Running {
    id: &'static str,
    title: String,
    started: Instant,
    timings: Vec<PhaseTiming>,
}

impl Recorder {
    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.t0).as_millis() as u64
    }

    fn start(&self, id: &'static str, title: impl Into<String>, parent: Option<&str>) -> Running {
        let title = title.into();
        // A listener that went away (a closed page) is not an error for the diagnosis itself.
        let _ = self.events.send(Event::Started {
            id: id.to_string(),
            title: title.clone(),
            parent: parent.map(str::to_string),
        });
        Running {
            id,
            title,
            started: Instant::now(),
            timings: Vec::new(),
        }
    }

    fn phase(&self, run: &mut Running, phase: Phase, from: Instant) {
        run.timings.push(PhaseTiming {
            phase,
            start_ms: self.ms(from),
            duration_ms: from.elapsed().as_millis() as u64,
        });
    }

    fn finish(&mut self, run: Running, outcome: Outcome, children: Vec<Check>) -> Check {
        let check = Check {
            id: run.id.to_string(),
            title: run.title,
            status: outcome.status,
            summary: outcome.summary,
            evidence: outcome.evidence,
            elapsed_ms: run.started.elapsed().as_millis() as u64,
            timings: run.timings,
            kb_step: KB_CERT,
            children,
        };
        if let Some(Problem { cause, summary, fix }) = outcome.finding {
            self.findings.push(Finding {
                cause,
                severity: check.status,
                kb_step: check.kb_step,
                summary,
                fix,
                check_ids: vec![check.id.clone()],
            });
        }
        let _ = self.events.send(Event::Finished { check: check.clone() });
        check
    }

    /// A parent takes the worst status of its children.
    fn finish_parent(&mut self, run: Running, children: Vec<Check>, summary: String) -> Check {
        let status = worst(&children).unwrap_or(Status::Skip);
        self.finish(run, Outcome::new(status, summary), children)
    }
}

fn worst(checks: &[Check]) -> Option<Status> {
    let rank = |s: Status| match s {
        Status::Fail => 4,
        Status::Warn => 3,
        Status::Pass => 2,
        Status::Info => 1,
        Status::Skip => 0,
    };
    checks.iter().map(|c| c.status).max_by_key(|s| rank(*s))
}

/// Runs a validated request to its report, sending events to `events` as checks start and finish.
pub async fn run(net: &Net, request: DiagnoseRequest, valid: ValidRequest, events: UnboundedSender<Event>) -> Report {
    let mut rec = Recorder {
        events,
        t0: Instant::now(),
        findings: Vec::new(),
    };
    let (checks, target) = match valid {
        ValidRequest::Host(target) => (host_checks(net, &mut rec, &target).await, target),
    };
    let report = conclude(request, checks, rec.findings, rec.t0, &target);
    let _ = rec.events.send(Event::Done { report: report.clone() });
    report
}

fn conclude(
    inputs: DiagnoseRequest,
    checks: Vec<Check>,
    mut findings: Vec<Finding>,
    t0: Instant,
    target: &HostPort,
) -> Report {
    let verdict = checks
        .iter()
        .filter_map(|c| c.status.verdict())
        .max()
        .unwrap_or(Verdict::Pass);
    // Failures before warnings; within each, the plan's order (connect, TLS version, chain, dates, name...).
    findings.sort_by_key(|f| if f.severity == Status::Fail { 0 } else { 1 });
    let where_ = format!("{}:{}", target.host, target.port.unwrap_or(443));
    let headline = match findings.first() {
        Some(f) if verdict != Verdict::Pass => f.summary.clone(),
        _ => format!(
            "The certificate of {where_} is trusted, in date and covers the name; TLS is fine for Exchange Online."
        ),
    };
    Report {
        schema_version: SCHEMA_VERSION,
        verdict,
        headline,
        inputs,
        checks,
        findings,
        elapsed_ms: t0.elapsed().as_millis() as u64,
    }
}

/// KB step 2 on one host: reach it, then judge its TLS and certificate.
async fn host_checks(net: &Net, rec: &mut Recorder, target: &HostPort) -> Vec<Check> {
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
    let summary = match worst(&children) {
        Some(Status::Pass) => format!("The certificate of {host} is fine for Exchange Online."),
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
        NetError::Refused { .. } => (
            format!("{e}."),
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
