//! KB step 1: Outlook Anywhere (RPC over HTTP) through the proxy, as the migration service uses it:
//! what IIS offers, the echo, the logon on both channels, the virtual connection, and a bind of each
//! mailbox endpoint (6001 mail store, 6002 referral, 6004 address book).

use std::time::Instant;

use futures_util::future::join_all;
use rustls::pki_types::CertificateDer;

use migcheck_shared::kb::OutlookAnywhereProblem;
use migcheck_shared::request::{AuthMethod, ValidOutlookAnywhere};
use migcheck_shared::{Check, Evidence, HostPort, KbStep, Phase, Status};

use super::logon::{self, AcceptedAt};
use super::{Outcome, Recorder, host};
use crate::net::Net;
use crate::net::ntlm::ChallengeInfo;
use crate::probe::Credentials;
use crate::probe::certificate;
use crate::probe::rpch::channel::ResponseHead;
use crate::probe::rpch::client::{self, Answer, Logon, Target};
use crate::probe::rpch::pdu::{self, Interface, rts_flags};
use crate::probe::rpch::virtual_connection;

mod connection;

use connection::{
    bind_outcome, connection_outcome, credentials_problem, logon_outcome, problem_of_error, status_problem,
};

/// The endpoints the migration service needs, each bound through the proxy.
const ENDPOINTS: [(u16, Interface, &str); 3] = [
    (6001, pdu::EMSMDB, "mail store (EMSMDB)"),
    (6002, pdu::RFR, "address book referral (RFR)"),
    (6004, pdu::NSPI, "address book (NSPI)"),
];

/// What the Outlook Anywhere checks need.
pub(crate) struct OutlookAnywhere<'a> {
    pub proxy: &'a HostPort,
    pub server: &'a str,
    pub logon: Logon<'a>,
    /// Whether the password may go to the proxy (Autodiscover mode asks for consent outside the domain).
    pub may_send_password: Result<(), String>,
    /// What Autodiscover's EXPR block says about the proxy's certificate.
    pub cert_principal: CertPrincipal<'a>,
    /// Where the credentials were accepted before (Autodiscover): a refused logon here is then not the
    /// password.
    pub accepted: Option<&'a AcceptedAt>,
}

/// What the EXPR block's `CertPrincipalName` asks of the proxy's certificate: Outlook's "Only connect
/// to proxy servers that have this principal name in their certificate" (mutual authentication).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertPrincipal<'a> {
    /// No Autodiscover answer (the manual mode): nothing to compare.
    Unknown,
    /// The EXPR block has no `CertPrincipalName`: "the default is set to msstd:SERVER, where SERVER is the
    /// value that is specified in the Server (POX) element" (POX reference, CertPrincipalName (POX)).
    Default,
    /// `none`, as `Set-OutlookProvider EXPR -CertPrincipalName none` sets it: mutual authentication off
    /// (Microsoft's umutg blog "All about Set-OutlookProvider": "Setting CertPrincipalName parameter value
    /// to none, is how you disable mutual authentication settings"). The value as sent.
    Off(&'a str),
    /// A principal name (`msstd:mail.contoso.com`), as sent.
    Name(&'a str),
}

impl<'a> CertPrincipal<'a> {
    /// The EXPR block's `CertPrincipalName` as the Autodiscover parser gives it (None when absent).
    pub(crate) fn from_expr(value: Option<&'a str>) -> Self {
        match value.map(str::trim) {
            None | Some("") => CertPrincipal::Default,
            Some(v) if v.eq_ignore_ascii_case("none") => CertPrincipal::Off(v),
            Some(v) => CertPrincipal::Name(v),
        }
    }
}

/// The manual mode: the proxy's certificate (KB step 2), then Outlook Anywhere.
pub(crate) async fn manual_checks(net: &Net, rec: &Recorder, target: &ValidOutlookAnywhere) -> (Vec<Check>, String) {
    let mut checks = host::host_checks(net, rec, &target.rpc_proxy).await;
    let oa = OutlookAnywhere {
        proxy: &target.rpc_proxy,
        server: &target.exchange_server,
        logon: Logon {
            auth: target.auth,
            creds: Credentials::new(&target.user, &target.password),
        },
        may_send_password: Ok(()),
        cert_principal: CertPrincipal::Unknown,
        accepted: None,
    };
    let (oa_check, echo) = checks_for(net, rec, &oa).await;
    checks.push(oa_check);
    let port = target.rpc_proxy.port.unwrap_or(443);
    let authority = crate::net::http::authority(&target.rpc_proxy.host, port);
    let mailbox = target.target_mailbox.as_ref().map(|m| m.address.as_str());
    let url = format!("https://{authority}/EWS/Exchange.asmx");
    let creds = &oa.logon.creds;
    checks.extend(match echo {
        // The proxy refused these credentials: another logon would only count toward the lockout.
        EchoLogon::Refused => {
            let why = "Not tried: the RPC proxy refused these credentials (above); another logon would count toward the account's lockout.";
            super::ews::version_without_logon(net, rec, &url, why).await
        }
        EchoLogon::Accepted(at) => super::ews::with_version(net, rec, &url, creds, mailbox, None, Some(&at)).await,
        EchoLogon::Unknown => super::ews::with_version(net, rec, &url, creds, mailbox, None, None).await,
    });
    let headline = format!(
        "Outlook Anywhere works: {} accepts {} with {} and reaches the mail store, address book and referral endpoints of {}.",
        target.rpc_proxy.host,
        target.user,
        target.auth.label(),
        target.exchange_server
    );
    (checks, headline)
}

/// What the echo with the credentials showed about them.
pub(crate) enum EchoLogon {
    /// It passed: where, for a later refusal's finding (logon.rs).
    Accepted(AcceptedAt),
    /// 401: the credentials (or Extended Protection) were refused.
    Refused,
    /// Not tried, or it stopped on something else.
    Unknown,
}

/// The `oa` group of checks, and what the echo showed about the credentials.
pub(crate) async fn checks_for(net: &Net, rec: &Recorder, oa: &OutlookAnywhere<'_>) -> (Check, EchoLogon) {
    let proxy = oa.proxy.host.as_str();
    let run = rec.start(
        KbStep::OutlookAnywhere,
        "oa",
        format!("Outlook Anywhere (RPC over HTTP) through {proxy} to {}", oa.server),
        None,
    );
    let target = |endpoint| Target {
        proxy,
        proxy_port: oa.proxy.port.unwrap_or(443),
        server: oa.server,
        endpoint,
    };
    let mut children = Vec::new();
    // The echo's connection opens while the anonymous request runs (issue 21: DNS, TCP and TLS as soon
    // as the name is known); its credentials still wait for the anonymous answer, as before.
    let go_ahead = oa.may_send_password.is_ok();
    let echo_channel = async {
        match go_ahead {
            true => Some(client::Channel::open(net, proxy, oa.proxy.port.unwrap_or(443)).await),
            false => None,
        }
    };
    let ((auth_check, anonymous), echo_channel) = tokio::join!(auth_check(net, rec, oa, target(6001)), echo_channel);
    let go_on = auth_check.status != Status::Fail;
    children.push(auth_check);
    if let Some(answer) = anonymous
        .as_ref()
        .filter(|_| oa.cert_principal != CertPrincipal::Unknown)
    {
        children.push(cert_principal_check(rec, oa.cert_principal, proxy, answer));
    }
    let skip = |rec: &Recorder, id: &str, title: String, why: &str| {
        let run = rec.start(KbStep::OutlookAnywhere, id, title, Some("oa"));
        rec.finish(run, Outcome::skip(why), vec![])
    };
    let titles = titles(oa);
    if !go_on {
        for (id, title) in titles {
            children.push(skip(
                rec,
                &id,
                title,
                "Not tried: the proxy does not take this logon (above).",
            ));
        }
        return (finish_group(rec, run, children, proxy), EchoLogon::Unknown);
    }
    if let Err(why) = &oa.may_send_password {
        for (id, title) in titles {
            children.push(skip(rec, &id, title, why));
        }
        return (finish_group(rec, run, children, proxy), EchoLogon::Unknown);
    }
    // Likewise the binds' channels open while the echo runs; their credentials wait for its answer.
    let echo_channel = match echo_channel {
        Some(c) => c,
        None => client::Channel::open(net, proxy, oa.proxy.port.unwrap_or(443)).await,
    };
    let bind_channels = join_all(
        ENDPOINTS
            .iter()
            .map(|(endpoint, _, _)| virtual_connection::open(net, target(*endpoint))),
    );
    let ((ping, refused), bind_channels) = tokio::join!(ping_check(rec, oa, target(6001), echo_channel), bind_channels);
    let rejected = ping.status == Status::Fail;
    // The echo took the credentials: a refusal elsewhere (EWS) is then not the password (logon.rs).
    let echo = match ping.status {
        Status::Pass => EchoLogon::Accepted(AcceptedAt(format!("the RPC proxy {proxy} ({})", oa.logon.auth.label()))),
        _ if refused => EchoLogon::Refused,
        _ => EchoLogon::Unknown,
    };
    children.push(ping);
    if rejected {
        // Each further try with a rejected password counts toward the account's lockout.
        for (id, title) in titles.into_iter().skip(1) {
            children.push(skip(
                rec,
                &id,
                title,
                "Not tried: the echo with these credentials failed (above).",
            ));
        }
        return (finish_group(rec, run, children, proxy), echo);
    }
    let mut logon_run = rec.start(KbStep::OutlookAnywhere, "oa.logon", titles[1].1.clone(), Some("oa"));
    let mut connection_run = rec.start(
        KbStep::OutlookAnywhere,
        "oa.connection",
        titles[2].1.clone(),
        Some("oa"),
    );
    let bind_runs: Vec<_> = ENDPOINTS
        .iter()
        .zip(&titles[3..])
        .map(|(_, (id, title))| rec.start(KbStep::OutlookAnywhere, id.clone(), title.clone(), Some("oa")))
        .collect();
    let t = Instant::now();
    let vcs = join_all(
        ENDPOINTS
            .iter()
            .zip(bind_channels)
            .map(|((endpoint, interface, _), opened)| {
                virtual_connection::bind_on(opened, target(*endpoint), *interface, oa.logon)
            }),
    )
    .await;
    rec.phase(&mut logon_run, Phase::Http, t);
    rec.phase(&mut connection_run, Phase::Rpc, t);
    children.push(rec.finish(logon_run, logon_outcome(oa, &vcs), vec![]));
    children.push(rec.finish(connection_run, connection_outcome(oa, &vcs), vec![]));
    for ((mut bind_run, vc), (_, _, name)) in bind_runs.into_iter().zip(&vcs).zip(ENDPOINTS) {
        rec.phase(&mut bind_run, Phase::Rpc, t);
        children.push(rec.finish(bind_run, bind_outcome(oa, vc, name), vec![]));
    }
    (finish_group(rec, run, children, proxy), echo)
}

fn titles(oa: &OutlookAnywhere<'_>) -> Vec<(String, String)> {
    let mut t = vec![
        ("oa.ping".to_string(), "Ping the RPC proxy (echo)".to_string()),
        (
            "oa.logon".to_string(),
            format!(
                "Log on to the IN and OUT channels as {} ({})",
                oa.logon.creds.user,
                oa.logon.auth.label()
            ),
        ),
        (
            "oa.connection".to_string(),
            "Open the virtual connection (CONN/A1, B1, A3, C2)".to_string(),
        ),
    ];
    for (endpoint, _, name) in ENDPOINTS {
        t.push((
            format!("oa.bind.{endpoint}"),
            format!("Bind the {name} on {}:{endpoint}", oa.server),
        ));
    }
    t
}

fn finish_group(rec: &Recorder, run: super::Running, children: Vec<Check>, proxy: &str) -> Check {
    let summary = match super::worst(&children) {
        Some(Status::Fail) => format!("Outlook Anywhere through {proxy} does not work for the migration service."),
        Some(Status::Warn) => format!("Outlook Anywhere through {proxy} works, with warnings."),
        _ => format!("Outlook Anywhere through {proxy} works."),
    };
    rec.finish_parent(run, children, summary)
}

fn head_facts(mut evidence: Evidence, label: &str, head: &ResponseHead) -> Evidence {
    evidence = evidence.fact(label, format!("{} {}", head.status, head.reason));
    for name in ["www-authenticate", "allow", "server", "content-type"] {
        for value in head.header_values(name) {
            evidence = evidence.fact(&format!("{label}: {name}"), value.to_string());
        }
    }
    evidence
}

fn challenge_facts(mut evidence: Evidence, info: &ChallengeInfo) -> Evidence {
    for (label, value) in [
        ("NTLM: NetBIOS domain", &info.netbios_domain),
        ("NTLM: NetBIOS computer", &info.netbios_computer),
        ("NTLM: DNS domain", &info.dns_domain),
        ("NTLM: DNS computer", &info.dns_computer),
        ("NTLM: server OS version", &info.server_version),
    ] {
        if let Some(v) = value {
            evidence = evidence.fact(label, v.clone());
        }
    }
    evidence
}

/// What IIS answers without credentials: the schemes it offers, or a front proxy's 405.
async fn auth_check(
    net: &Net,
    rec: &Recorder,
    oa: &OutlookAnywhere<'_>,
    target: Target<'_>,
) -> (Check, Option<Answer>) {
    let proxy = target.proxy;
    let mut run = rec.start(
        KbStep::OutlookAnywhere,
        "oa.auth",
        format!("Authentication IIS offers on https://{proxy}/rpc/rpcproxy.dll"),
        Some("oa"),
    );
    let t = Instant::now();
    let answered = client::anonymous(net, target).await;
    rec.phase(&mut run, Phase::Http, t);
    let request = format!("RPC_IN_DATA /rpc/rpcproxy.dll?{}:6001, no credentials", oa.server);
    let answer = match answered {
        Ok(a) => a,
        Err(e) => {
            let outcome = Outcome::problem(OutlookAnywhereProblem::ProxyUnreachable {
                proxy: proxy.to_string(),
                error: e.to_string(),
            })
            .fact("Request", request);
            return (rec.finish(run, outcome, vec![]), None);
        }
    };
    let mut evidence = Evidence::default().fact("Request", request);
    if let Some(v) = answer.tls_version {
        evidence = evidence.fact("TLS", v);
    }
    evidence = head_facts(evidence, "Answer", &answer.head);
    let schemes = answer.schemes();
    let offers = |name: &str| schemes.iter().any(|s| s.eq_ignore_ascii_case(name));
    let chosen = oa.logon.auth.label();
    let status = answer.head.status;
    let outcome = match status {
        401 if offers(chosen) => {
            let basic_note = if oa.logon.auth == AuthMethod::Ntlm && !offers("Basic") {
                " Basic is not offered (needed only for -Authentication Basic)."
            } else {
                ""
            };
            Outcome::pass(format!(
                "IIS asks for authentication and offers {}; {chosen}, as the migration will use, is among them.{basic_note}",
                schemes.join(", ")
            ))
        }
        401 => Outcome::problem(OutlookAnywhereProblem::MethodNotOffered {
            proxy: proxy.to_string(),
            method: oa.logon.auth,
            offered: schemes,
        }),
        405 | 501 => Outcome::problem(OutlookAnywhereProblem::VerbsBlocked {
            proxy: proxy.to_string(),
            status,
            reason: answer.head.reason.clone(),
            allow: answer.head.header_values("allow").join(", "),
            server: answer.head.header_values("server").join(", "),
        }),
        404 => Outcome::problem(OutlookAnywhereProblem::NotPublished {
            proxy: proxy.to_string(),
        }),
        200 if answer.rts().is_some_and(|r| r.flags & rts_flags::ECHO != 0) => Outcome::new(
            Status::Warn,
            format!(
                "The RPC proxy on {proxy} answers without asking for credentials; the migration service will still send them."
            ),
        ),
        _ => Outcome::problem(OutlookAnywhereProblem::NotRpcProxy {
            proxy: proxy.to_string(),
            status,
            reason: answer.head.reason.clone(),
        }),
    };
    (rec.finish(run, outcome.with_evidence(evidence), vec![]), Some(answer))
}

/// The principal name CertPrincipalName asks for must be on the proxy's certificate; `none` turns the
/// comparison off, and no CertPrincipalName means `msstd:<EXPR Server>`.
fn cert_principal_check(rec: &Recorder, principal: CertPrincipal<'_>, proxy: &str, answer: &Answer) -> Check {
    let default = format!("msstd:{proxy}");
    let is_default = matches!(principal, CertPrincipal::Default | CertPrincipal::Unknown);
    let (title, principal, shown) = match principal {
        CertPrincipal::Off(value) => {
            let run = rec.start(
                KbStep::OutlookAnywhere,
                "oa.cert_principal",
                format!("CertPrincipalName {value}: mutual authentication off"),
                Some("oa"),
            );
            let outcome = Outcome::new(
                Status::Info,
                format!(
                    "CertPrincipalName is {value} (Set-OutlookProvider EXPR -CertPrincipalName none): mutual authentication is off, so no principal name is compared with the certificate of {proxy}."
                ),
            )
            .with_evidence(Evidence::default().fact("CertPrincipalName (EXPR)", value.to_string()));
            return rec.finish(run, outcome, vec![]);
        }
        CertPrincipal::Name(value) => (
            format!("CertPrincipalName {value} matches the certificate of {proxy}"),
            value,
            value.to_string(),
        ),
        CertPrincipal::Default | CertPrincipal::Unknown => (
            format!("CertPrincipalName (default {default}) matches the certificate of {proxy}"),
            default.as_str(),
            format!("not set: the default is {default} (msstd: and the EXPR Server)"),
        ),
    };
    let run = rec.start(KbStep::OutlookAnywhere, "oa.cert_principal", title, Some("oa"));
    let trimmed = principal.trim();
    let name = trimmed
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("msstd:"))
        .map_or(trimmed, |_| &trimmed[6..])
        .to_ascii_lowercase();
    let decoded = answer
        .leaf
        .as_deref()
        .map(|der| certificate::decode(&CertificateDer::from(der)));
    let outcome = match decoded {
        Some(Ok(cert)) => {
            let mut names: Vec<String> = Vec::new();
            for name in cert.common_name.iter().chain(&cert.dns_names) {
                // The subject CN is usually among the DNS names too: each name once.
                let name = name.to_ascii_lowercase();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            let evidence = Evidence::default()
                .fact("CertPrincipalName (EXPR)", shown)
                .fact(
                    "Certificate subject CN",
                    cert.common_name.clone().unwrap_or_else(|| "(none)".into()),
                )
                .fact("Certificate names", cert.dns_names.join(", "));
            if !names.iter().any(|n| name_matches(n, &name)) {
                let principal = if is_default {
                    format!("{default} (the default: Autodiscover sets no CertPrincipalName)")
                } else {
                    principal.to_string()
                };
                Outcome::problem(OutlookAnywhereProblem::CertPrincipalMismatch {
                    principal,
                    proxy: proxy.to_string(),
                    names,
                    on_certificate: cert.common_name.clone().unwrap_or_else(|| proxy.to_string()),
                })
            } else if is_default {
                Outcome::pass(format!(
                    "Autodiscover sets no CertPrincipalName, so clients expect the default {default}; the certificate of {proxy} carries {name}."
                ))
            } else {
                Outcome::pass(format!(
                    "The certificate of {proxy} carries {name}, as CertPrincipalName asks."
                ))
            }
            .with_evidence(evidence)
        }
        Some(Err(e)) => Outcome::new(Status::Warn, format!("The proxy's certificate cannot be read: {e}.")),
        None => Outcome::skip("The proxy sent no certificate to compare."),
    };
    rec.finish(run, outcome, vec![])
}

/// A certificate name (possibly `*.domain`) covers `name`.
fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(rest) => name.split_once('.').is_some_and(|(_, tail)| tail == rest),
        None => pattern == name,
    }
}

/// The echo with the credentials: the proxy is alive and takes the logon.
/// The echo check, and whether the proxy refused the logon (401).
async fn ping_check(
    rec: &Recorder,
    oa: &OutlookAnywhere<'_>,
    target: Target<'_>,
    channel: Result<client::Channel, client::RpchError>,
) -> (Check, bool) {
    let proxy = target.proxy;
    let mut run = rec.start(
        KbStep::OutlookAnywhere,
        "oa.ping",
        "Ping the RPC proxy (echo)",
        Some("oa"),
    );
    let t = Instant::now();
    let echoed = client::echo_on(channel, target, oa.logon).await;
    rec.phase(&mut run, Phase::Http, t);
    let who = format!("{} ({})", oa.logon.creds.user, oa.logon.auth.label());
    let mut evidence = Evidence::default().fact("Logged on as", who.clone());
    let refused = matches!(&echoed, Ok(answer) if answer.head.status == 401);
    let outcome = match echoed {
        Err(e) => problem_of_error(&e, proxy),
        Ok(answer) => {
            evidence = head_facts(evidence, "Answer", &answer.head);
            evidence = logon::binding_fact(evidence, "NTLM", answer.binding.as_ref());
            if let Some(info) = &answer.challenge {
                evidence = challenge_facts(evidence, info);
            }
            let echo = answer.rts().is_some_and(|r| r.flags & rts_flags::ECHO != 0);
            match answer.head.status {
                200 if echo => Outcome::pass(format!("The RPC proxy answers the echo (a 20-byte RTS PDU) for {who}.")),
                200 => Outcome::new(
                    Status::Warn,
                    format!(
                        "{proxy} answers 200 to the echo, but not with the echo PDU: something else than the RPC proxy may answer."
                    ),
                ),
                401 => credentials_problem(oa, proxy, answer.challenge.as_ref(), answer.binding.as_ref()),
                _ => status_problem(&answer.head, proxy, oa.server, 6001),
            }
        }
    };
    (rec.finish(run, outcome.with_evidence(evidence), vec![]), refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::rpch::channel::parse_head;

    fn answer_with_certificate(names: &[&str]) -> Answer {
        let key = rcgen::KeyPair::generate().expect("key");
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
        let cert = params.self_signed(&key).expect("certificate");
        Answer {
            head: parse_head(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
                .expect("head")
                .expect("complete"),
            body: Vec::new(),
            challenge: None,
            binding: None,
            peer: "127.0.0.1:443".parse().expect("address"),
            leaf: Some(cert.der().to_vec()),
            tls_version: None,
        }
    }

    #[test]
    fn a_cert_principal_name_off_the_certificate_is_the_mutual_authentication_failure() {
        let answer = answer_with_certificate(&["mail.contoso.com", "autodiscover.contoso.com"]);
        let rec = Recorder::quiet();
        let check = cert_principal_check(
            &rec,
            CertPrincipal::Name("msstd:owa.contoso.com"),
            "mail.contoso.com",
            &answer,
        );
        assert_eq!(check.status, Status::Fail, "{}", check.summary);
        assert!(
            check.summary.contains("Mutual Authentication could not be established"),
            "{}",
            check.summary
        );
        let findings = rec.findings();
        assert_eq!(findings[0].cause, migcheck_shared::Cause::Certificate);
        assert!(
            findings[0].fix.contains("Set-OutlookProvider EXPR -CertPrincipalName"),
            "{}",
            findings[0].fix
        );

        for (principal, proxy) in [
            ("msstd:mail.contoso.com", "mail.contoso.com"),
            ("msstd:Autodiscover.Contoso.com", "mail.contoso.com"),
        ] {
            let check = cert_principal_check(&rec, CertPrincipal::Name(principal), proxy, &answer);
            assert_eq!(check.status, Status::Pass, "{principal}: {}", check.summary);
        }
        let wildcard = answer_with_certificate(&["*.contoso.com"]);
        let check = cert_principal_check(
            &rec,
            CertPrincipal::Name("msstd:mail.contoso.com"),
            "mail.contoso.com",
            &wildcard,
        );
        assert_eq!(check.status, Status::Pass, "{}", check.summary);
        let check = cert_principal_check(
            &rec,
            CertPrincipal::Name("msstd:a.b.contoso.com"),
            "mail.contoso.com",
            &wildcard,
        );
        assert_eq!(check.status, Status::Fail, "a wildcard covers one label only");
    }

    /// The lab's POX answers for its CertPrincipalName scenarios: Microsoft's POX response example with
    /// the lab's names, its EXPR block as it is (no CertPrincipalName) and with the
    /// `<CertPrincipalName>none` of `Set-OutlookProvider EXPR -CertPrincipalName none`
    /// (tests/lab/src/exchange_server/pox.rs names the sources).
    fn pox_answer(s: migcheck_lab::OaScenario) -> String {
        s.autodiscover_answer().expect("the scenario answers Autodiscover")
    }

    fn expr_value(xml: &str) -> Option<String> {
        let settings = match crate::probe::autodiscover::pox::parse(xml.as_bytes()) {
            Ok(crate::probe::autodiscover::pox::PoxAnswer::Settings(s)) => s,
            other => panic!("not settings: {other:?}"),
        };
        settings.expr.and_then(|e| e.cert_principal_name)
    }

    #[test]
    fn cert_principal_name_none_turns_mutual_authentication_off_and_compares_nothing() {
        // A certificate for another name: with `none` nothing is compared, so nothing fails.
        let answer = answer_with_certificate(&["owa.fabrikam.com"]);
        let pox = pox_answer(migcheck_lab::OaScenario::CertPrincipalNone);
        assert!(pox.contains("<CertPrincipalName>none</CertPrincipalName>"), "{pox}");
        for value in ["none", " None ", "NONE"] {
            let sent = expr_value(&pox.replace(">none<", &format!(">{value}<")));
            let principal = CertPrincipal::from_expr(sent.as_deref());
            assert!(matches!(principal, CertPrincipal::Off(_)), "{value}: {principal:?}");
            let rec = Recorder::quiet();
            let check = cert_principal_check(&rec, principal, "exchange.contoso.com", &answer);
            assert_eq!(check.status, Status::Info, "{value}: {}", check.summary);
            assert!(
                check.summary.contains("mutual authentication is off")
                    && !check.summary.contains("Mutual Authentication could not be established"),
                "{}",
                check.summary
            );
            assert!(rec.findings().is_empty(), "{value}");
        }
    }

    #[test]
    fn no_cert_principal_name_is_the_msstd_default_of_the_expr_server() {
        let pox = pox_answer(migcheck_lab::OaScenario::CertPrincipalDefault);
        assert!(!pox.contains("CertPrincipalName"), "{pox}");
        assert_eq!(
            CertPrincipal::from_expr(expr_value(&pox).as_deref()),
            CertPrincipal::Default
        );
        let rec = Recorder::quiet();
        let check = cert_principal_check(
            &rec,
            CertPrincipal::Default,
            "exchange.contoso.com",
            &answer_with_certificate(&["Exchange.contoso.com"]),
        );
        assert_eq!(check.status, Status::Pass, "{}", check.summary);
        assert_eq!(
            check.title,
            "CertPrincipalName (default msstd:exchange.contoso.com) matches the certificate of exchange.contoso.com"
        );
        assert!(
            check.summary.starts_with("Autodiscover sets no CertPrincipalName"),
            "{}",
            check.summary
        );
        // The default still has to be on the certificate.
        let check = cert_principal_check(
            &rec,
            CertPrincipal::Default,
            "exchange.contoso.com",
            &answer_with_certificate(&["mail.contoso.com"]),
        );
        assert_eq!(check.status, Status::Fail, "{}", check.summary);
        assert!(
            check
                .summary
                .starts_with("CertPrincipalName is msstd:exchange.contoso.com (the default: Autodiscover sets no CertPrincipalName), but the certificate of exchange.contoso.com is for rcgen self signed cert, mail.contoso.com:"),
            "{}",
            check.summary
        );
        // A principal name given is compared as before.
        let sent = expr_value(&pox.replace(
            "<Type>EXPR</Type>",
            "<Type>EXPR</Type><CertPrincipalName>msstd:mail.contoso.com</CertPrincipalName>",
        ));
        assert_eq!(
            CertPrincipal::from_expr(sent.as_deref()),
            CertPrincipal::Name("msstd:mail.contoso.com")
        );
    }
}
