//! KB step 3: the Autodiscover sequence for an address, every candidate shown with what happened
//! there, then KB step 2 on the Outlook Anywhere host it returned.
//!
//! The four candidates run at the same time (a dead one costs one timeout, not one each), but the
//! verdict honours the client's order: the first candidate that answers as Autodiscover decides. A
//! 401 to the credentials decides nothing while a later candidate answers (Microsoft's "Handling
//! Autodiscover error messages": the next URL may accept them), and never when it comes from another
//! product (a SharePoint site on the root domain). Each candidate sends the password only when every
//! earlier one has ended without deciding (`gate.rs`), and every logon is counted and shown.

use std::time::Instant;

use futures_util::future::join_all;
use time::OffsetDateTime;
use url::Url;

use migcheck_shared::kb::{AutodiscoverProblem, RefusedLogon, autodiscover_error_meaning};
use migcheck_shared::request::ValidAutodiscover;
use migcheck_shared::{Check, Evidence, KbStep, Phase, PhaseTiming, Status};

use super::certificate::{CertificateChecks, judge};
use super::logon::{self, AcceptedAt, Endpoint, VirtualDirectory};
use super::{Outcome, Recorder, endpoints};
use crate::net::Net;
use crate::probe::Credentials;
use crate::probe::autodiscover::client::{self, Consent, Ending, Failure, MapiAsk, Run};
use crate::probe::autodiscover::gate::LogonGate;
use crate::probe::autodiscover::pox::{ProtocolBlock, Settings};
use crate::probe::autodiscover::server_kind::ServerKind;

/// redirectAddr answers followed before giving up.
const MAX_ADDRESS_REDIRECTS: usize = 10;

/// The candidates in the order a client tries them: id suffix, title, and how to run it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Candidate {
    Root,
    Host,
    Redirect,
    Srv,
}

impl Candidate {
    const ORDER: [Candidate; 4] = [Candidate::Root, Candidate::Host, Candidate::Redirect, Candidate::Srv];

    fn id(self) -> &'static str {
        match self {
            Candidate::Root => "root",
            Candidate::Host => "host",
            Candidate::Redirect => "redirect",
            Candidate::Srv => "srv",
        }
    }

    fn title(self, domain: &str) -> String {
        match self {
            Candidate::Root => format!("POST https://{domain}/autodiscover/autodiscover.xml"),
            Candidate::Host => format!("POST https://autodiscover.{domain}/autodiscover/autodiscover.xml"),
            Candidate::Redirect => format!("GET http://autodiscover.{domain}/autodiscover/autodiscover.xml (redirect)"),
            Candidate::Srv => format!("DNS SRV _autodiscover._tcp.{domain}"),
        }
    }
}

/// The whole Autodiscover mode: its checks and the headline when all passes.
pub(crate) async fn checks(net: &Net, rec: &Recorder, target: &ValidAutodiscover) -> (Vec<Check>, String) {
    let consent = Consent {
        domain: target.email.domain.clone(),
        allow_any: target.allow_credential_redirect,
    };
    let creds = Credentials::new(&target.user, &target.password);
    let mut checks = Vec::new();
    let mut address = target.email.address.clone();
    let mut addresses_seen = vec![address.to_ascii_lowercase()];
    let mut settings: Option<(Box<Settings>, String, Option<AcceptedAt>, MapiAsk)> = None;
    // Hosts that let a POX request run into its deadline: V2 does not wait on them a second time.
    let mut silent: Vec<String> = Vec::new();
    for round in 1..=MAX_ADDRESS_REDIRECTS + 1 {
        let (check, decided, round_silent) = round_checks(net, rec, round, &address, &creds, &consent).await;
        silent.extend(round_silent);
        checks.push(check);
        match decided {
            Some(Ending::Settings {
                settings: s,
                url,
                signed_in,
                mapi,
            }) => {
                // The credentials are good: a later refusal elsewhere is not the password (logon.rs).
                let accepted = signed_in.map(|scheme| AcceptedAt(format!("Autodiscover at {url} ({scheme})")));
                settings = Some((s, url, accepted, mapi));
                break;
            }
            Some(Ending::RedirectAddr(next)) => {
                let key = next.to_ascii_lowercase();
                let stop = if addresses_seen.contains(&key) {
                    Some(format!(
                        "redirectAddr loop: {next} was asked before ({})",
                        addresses_seen.join(" → ")
                    ))
                } else if round > MAX_ADDRESS_REDIRECTS {
                    Some(format!("more than {MAX_ADDRESS_REDIRECTS} redirectAddr answers"))
                } else if migcheck_shared::input::parse_email("redirect", &next).is_err() {
                    Some(format!("redirectAddr '{next}' is not an e-mail address"))
                } else {
                    None
                };
                if let Some(why) = stop {
                    let run = rec.start(KbStep::Autodiscover, "autodiscover.redirect_addr", "redirectAddr", None);
                    checks.push(rec.finish(
                        run,
                        Outcome::problem(AutodiscoverProblem::RedirectAddrStops {
                            address: address.clone(),
                            why,
                        }),
                        vec![],
                    ));
                    break;
                }
                addresses_seen.push(key);
                address = next;
            }
            _ => break,
        }
    }
    let Some((settings, url, accepted, mapi)) = settings else {
        return (checks, String::new());
    };
    checks.push(settings_check(rec, &settings, &url, &mapi));
    let answered = endpoints::Answered {
        settings: &settings,
        mapi: &mapi,
        url: &url,
        address: &address,
        silent: &silent,
        accepted: accepted.as_ref(),
    };
    let (endpoint_checks, headline) = endpoints::checks(net, rec, target, answered, &consent, &creds).await;
    checks.extend(endpoint_checks);
    (checks, headline)
}

/// One pass of the four candidates for `address`; returns its check, the deciding ending and the hosts
/// that did not answer within the deadline.
async fn round_checks(
    net: &Net,
    rec: &Recorder,
    round: usize,
    address: &str,
    creds: &Credentials<'_>,
    consent: &Consent,
) -> (Check, Option<Ending>, Vec<String>) {
    let domain = address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    let parent_id = if round == 1 {
        "autodiscover".to_string()
    } else {
        format!("autodiscover.{round}")
    };
    let parent = rec.start(
        KbStep::Autodiscover,
        parent_id.clone(),
        format!("Autodiscover for {address}"),
        None,
    );
    // Every candidate starts now; the verdict below still takes them in the client's order.
    let running: Vec<_> = Candidate::ORDER
        .iter()
        .map(|c| {
            (
                *c,
                rec.start(
                    KbStep::Autodiscover,
                    format!("{parent_id}.{}", c.id()),
                    c.title(&domain),
                    Some(&parent_id),
                ),
            )
        })
        .collect();
    let domain = domain.as_str();
    let gate = LogonGate::new(Candidate::ORDER.len());
    let gate = &gate;
    let runs = join_all(Candidate::ORDER.into_iter().enumerate().map(|(i, c)| async move {
        let turn = gate.turn(i);
        let url = match c {
            Candidate::Root => Url::parse(&format!("https://{domain}/autodiscover/autodiscover.xml")).ok(),
            Candidate::Host => Url::parse(&format!("https://autodiscover.{domain}/autodiscover/autodiscover.xml")).ok(),
            _ => None,
        };
        // The certificate of the candidate's host is fetched beside its POST, not after the round:
        // the name is known now, and a client's wait should not grow by a handshake (issue 21). Only
        // a TLS handshake: nothing of the user's goes with it.
        let early_host = url.as_ref().and_then(|u| u.host_str().map(str::to_string));
        let early = async {
            let host = early_host?;
            let checks = inspect(net, &host).await;
            Some((host, checks))
        };
        let candidate = async {
            let run = match (c, url) {
                (Candidate::Redirect, _) => client::redirect_get(net, domain, address, creds, consent, &turn).await,
                (Candidate::Srv, _) => client::srv(net, domain, address, creds, consent, &turn).await,
                (_, Some(url)) => client::post(net, url, address, creds, consent, &turn).await,
                (_, None) => Run {
                    steps: Vec::new(),
                    ending: Ending::Failed(Failure::Status(format!("'{domain}' cannot form a URL"))),
                    srv: Vec::new(),
                },
            };
            gate.finish(i, stops_the_logons(&run.ending));
            // Each candidate reports its own time, not that of the slowest one it waited for.
            (run, Instant::now())
        };
        let ((run, end), early) = tokio::join!(candidate, early);
        (run, (end, early))
    }))
    .await;
    let (runs, ends): (Vec<Run>, Vec<(Instant, Early)>) = runs.into_iter().unzip();
    let (ends, early): (Vec<Instant>, Vec<Early>) = ends.into_iter().unzip();
    let decider = decider(&runs);
    let decided = decider.map(|d| runs[d].ending.clone());
    let stopped: Vec<String> = runs
        .iter()
        .filter_map(|run| match &run.ending {
            Ending::Stopped { host } => Some(host.clone()),
            _ => None,
        })
        .collect();
    let silent: Vec<String> = runs.iter().filter_map(silent_host).collect();
    // The certificates of the hosts reached, fetched together.
    let ids: Vec<String> = running.iter().map(|(_, r)| r.id.clone()).collect();
    let certificates = join_all(
        runs.iter()
            .zip(early)
            .enumerate()
            .map(|(i, (run, early))| certificate_checks(net, rec, &ids[i], run, decider == Some(i), early)),
    )
    .await;
    let logons = Logons::of(&runs);
    let mut children = Vec::new();
    for (i, ((((candidate, mut running), run), certificates), end)) in
        running.into_iter().zip(runs).zip(certificates).zip(ends).enumerate()
    {
        running.ended_at(end);
        for step in &run.steps {
            for (phase, start, end) in &step.phases {
                running.timings.push(PhaseTiming {
                    phase: *phase,
                    start_ms: rec.ms(*start),
                    duration_ms: end.saturating_duration_since(*start).as_millis() as u64,
                });
            }
        }
        let outcome = candidate_outcome(candidate, domain, &run, decider.map(|d| i.cmp(&d)), creds);
        children.push(rec.finish(running, outcome, certificates));
    }
    let outcome = match &decided {
        Some(Ending::Settings { url, .. }) => Outcome::pass(format!(
            "Autodiscover answers for {address} at {url}.{}",
            logons.sentence()
        )),
        Some(Ending::RedirectAddr(next)) => Outcome::new(
            Status::Info,
            format!("Autodiscover sends {address} on to {next}.{}", logons.sentence()),
        ),
        Some(_) => Outcome::new(
            Status::Fail,
            format!(
                "Autodiscover for {address} answers, but not with settings.{}",
                logons.sentence()
            ),
        ),
        None => no_candidate(address, domain, &consent.domain, &stopped),
    };
    (rec.finish(parent, logons.shown(outcome), children), decided, silent)
}

/// The host a candidate's last request went to, when that request ran into its deadline.
fn silent_host(run: &Run) -> Option<String> {
    let Ending::Failed(Failure::Net(error)) = &run.ending else {
        return None;
    };
    if !error.is_timeout() {
        return None;
    }
    let url = Url::parse(&run.steps.last()?.url).ok()?;
    url.host_str().map(str::to_ascii_lowercase)
}

/// An answer as Autodiscover that decides the sequence: a client stops at the first of these.
fn answers(ending: &Ending) -> bool {
    matches!(
        ending,
        Ending::Settings { .. }
            | Ending::RedirectAddr(_)
            | Ending::Error { .. }
            | Ending::Failed(Failure::RedirectLoop(_) | Failure::TooManyRedirects)
    )
}

/// What the server that refused the credentials is (None: they were not refused).
fn refused_by(ending: &Ending) -> Option<&ServerKind> {
    match ending {
        Ending::Failed(Failure::CredentialsRefused { kind, .. }) => Some(kind),
        _ => None,
    }
}

/// Whether later candidates keep the password after this ending: an answer as Autodiscover, or
/// Exchange itself refusing the credentials (another try could only add a refused logon).
fn stops_the_logons(ending: &Ending) -> bool {
    answers(ending) || matches!(refused_by(ending), Some(ServerKind::Exchange { .. }))
}

/// The candidate that decides: the first that answers as Autodiscover; when none does, the first
/// refusal of the credentials by a server that may be Autodiscover. A SharePoint site's 401 never decides.
fn decider(runs: &[Run]) -> Option<usize> {
    runs.iter().position(|r| answers(&r.ending)).or_else(|| {
        runs.iter()
            .position(|r| refused_by(&r.ending).is_some_and(ServerKind::may_be_autodiscover))
    })
}

/// Every logon a round made, candidate by candidate in the client's order.
struct Logons(Vec<client::LogonTry>);

impl Logons {
    fn of(runs: &[Run]) -> Self {
        Logons(runs.iter().flat_map(Run::logons).collect())
    }

    /// " 2 logons with the migration account's credentials: 1 refused, 1 accepted."
    fn sentence(&self) -> String {
        let n = self.0.len();
        if n == 0 {
            return " No logon with the migration account's credentials.".to_string();
        }
        let refused = self.0.iter().filter(|l| !l.accepted).count();
        format!(
            " {n} logon{} with the migration account's credentials: {} accepted, {refused} refused.",
            if n == 1 { "" } else { "s" },
            n - refused
        )
    }

    /// The outcome with each logon as a fact.
    fn shown(&self, outcome: Outcome) -> Outcome {
        let mut evidence = Evidence::default();
        for (i, l) in self.0.iter().enumerate() {
            evidence = evidence.fact(&format!("Logon {}", i + 1), logon_words(l));
        }
        if self.0.is_empty() {
            evidence = evidence.fact(
                "Logons",
                "none: no candidate asked for the credentials, or none was reached",
            );
        }
        outcome.with_evidence(evidence)
    }
}

fn logon_words(l: &client::LogonTry) -> String {
    format!(
        "POST {}: {}, {} ({})",
        l.url,
        l.scheme,
        if l.accepted { "accepted" } else { "refused" },
        l.status
    )
}

/// `domain`: the domain asked in this round; `home`: the user's own domain, where credentials may go.
fn no_candidate(address: &str, domain: &str, home: &str, stopped: &[String]) -> Outcome {
    if let Some(host) = stopped.first() {
        return Outcome::problem(AutodiscoverProblem::PasswordWouldLeave {
            address: address.to_string(),
            host: host.clone(),
            home: home.to_string(),
            domain: domain.to_string(),
        });
    }
    Outcome::problem(AutodiscoverProblem::NoCandidate {
        address: address.to_string(),
        domain: domain.to_string(),
    })
}

fn evidence_of(run: &Run) -> Evidence {
    let mut evidence = Evidence::default();
    for r in &run.srv {
        evidence = evidence.fact(
            "SRV record",
            format!(
                "priority {} weight {} port {} target {}",
                r.priority, r.weight, r.port, r.target
            ),
        );
    }
    for step in &run.steps {
        let mut parts = Vec::new();
        if !step.resolved.is_empty() {
            let list = step
                .resolved
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            parts.push(format!("DNS {list}"));
        }
        if let Some(peer) = step.peer {
            parts.push(format!("connected to {peer}"));
        }
        if let Some(tls) = step.tls {
            parts.push(tls.to_string());
        }
        if let Some(status) = &step.status {
            parts.push(status.clone());
        }
        if let Some(wait) = step.logon_wait {
            parts.push(format!(
                "the password waited {} ms for the earlier candidates to end (a client tries them in order)",
                wait.as_millis()
            ));
        }
        if let Some(auth) = step.auth {
            parts.push(format!("signed in with {auth}"));
        }
        if let Some(binding) = &step.binding {
            parts.push(format!("channel binding {}", binding.words()));
        }
        parts.push(step.note.clone());
        evidence = evidence.fact(&format!("{} {}", step.method, step.url), parts.join("; "));
        if !step.offered.is_empty() {
            evidence = evidence.fact("WWW-Authenticate", step.offered.join(" | "));
        }
        for (name, value) in &step.fingerprint {
            evidence = evidence.fact(name, value.clone());
        }
    }
    evidence
}

fn candidate_outcome(
    candidate: Candidate,
    domain: &str,
    run: &Run,
    relative: Option<std::cmp::Ordering>,
    creds: &Credentials<'_>,
) -> Outcome {
    use std::cmp::Ordering::*;
    let mut evidence = evidence_of(run);
    let logons = run.logons();
    evidence = evidence.fact(
        "Logons with the credentials",
        match (&run.ending, logons.len()) {
            (Ending::Held { .. }, 0) => "none: the password was not sent, an earlier candidate had decided".to_string(),
            (_, 0) => "none".to_string(),
            (_, n) => format!("{n}: {}", logons.iter().map(logon_words).collect::<Vec<_>>().join("; ")),
        },
    );
    if let Some(kind) = refused_by(&run.ending) {
        evidence = evidence.fact("Refused by", kind.words());
    }
    let outcome = match (&run.ending, relative) {
        (Ending::Settings { url, .. }, Some(Equal)) => Outcome::pass(format!("Settings from {url}{}.", auth_of(run))),
        (Ending::Settings { url, .. }, _) => Outcome::new(
            Status::Info,
            format!("Also answers with settings ({url}); not used, an earlier candidate decided."),
        ),
        (Ending::RedirectAddr(next), Some(Equal)) => Outcome::new(
            Status::Info,
            format!("redirectAddr to {next}: the sequence starts again for that address."),
        ),
        (Ending::Error { url, code, message }, Some(Equal)) => Outcome::problem(AutodiscoverProblem::ErrorAnswer {
            url: url.clone(),
            code: code.clone(),
            message: message.clone(),
        }),
        (Ending::Failed(Failure::CredentialsRefused { scheme, offered, .. }), Some(Equal)) => {
            let last = run.steps.last();
            let endpoint = Endpoint::at(last.map_or("", |s| s.url.as_str()), VirtualDirectory::Autodiscover);
            let binding = last.and_then(|s| s.binding.as_ref());
            // Autodiscover checks no channel binding: never Extended Protection here.
            let logon = logon::judge(&endpoint, creds, scheme, binding, false, None).err();
            Outcome::problem(AutodiscoverProblem::CredentialsRefused {
                logon: logon.unwrap_or(RefusedLogon::Ntlm),
                offered: offered.clone(),
            })
        }
        (Ending::Failed(f @ (Failure::RedirectLoop(_) | Failure::TooManyRedirects)), Some(Equal)) => {
            Outcome::problem(AutodiscoverProblem::RedirectsCircle {
                what: client::describe(f),
                path: redirect_path(run),
            })
        }
        (Ending::Failed(Failure::CredentialsRefused { scheme, kind, .. }), _) if !kind.may_be_autodiscover() => {
            Outcome::new(
                Status::Info,
                format!(
                    "Refused the credentials ({scheme}), but this is {}: its 401 says nothing about the password, and clients go on to the next candidate.",
                    kind.words()
                ),
            )
        }
        (Ending::Failed(Failure::CredentialsRefused { scheme, kind, .. }), Some(Less)) => Outcome::new(
            Status::Info,
            format!(
                "Refused the credentials ({scheme}; {}); one 401 is no verdict on the password, and a later candidate decided.",
                kind.words()
            ),
        ),
        (Ending::Held { .. }, _) => Outcome::skip(
            "Not needed: an earlier candidate decided before this one's turn; the password was not sent here.",
        ),
        (Ending::Failed(Failure::Net(e)), _)
            if candidate == Candidate::Root && e.to_string().contains("not valid for name") =>
        {
            Outcome::skip(format!(
                "Expected: {domain} is a web site whose certificate does not cover it ({e}); clients move on to the next candidate."
            ))
        }
        (ending, Some(Less)) => Outcome::new(
            Status::Info,
            format!("No answer here ({}); a later candidate answered.", ending_words(ending)),
        ),
        (ending, Some(Greater)) => Outcome::skip(format!(
            "Not needed: an earlier candidate decided ({}).",
            ending_words(ending)
        )),
        (ending, _) => Outcome::new(Status::Fail, format!("No settings here: {}.", ending_words(ending))),
    };
    outcome.with_evidence(evidence)
}

/// KB step 2 on every https host the candidate reached: one compact check per host. Only the
/// certificate of the candidate that decided can raise a finding; the others are shown for the record.
/// A candidate host's certificate, fetched while its POST ran: (host, what it showed).
type Early = Option<(String, Option<CertificateChecks>)>;

async fn certificate_checks(
    net: &Net,
    rec: &Recorder,
    parent: &str,
    run: &Run,
    decisive: bool,
    mut early: Early,
) -> Vec<Check> {
    let mut hosts: Vec<String> = Vec::new();
    let reached_tls = |s: &&client::Step| s.method == "POST" && (s.tls.is_some() || s.certificate_refused);
    for step in run.steps.iter().filter(reached_tls) {
        if let Some(host) = Url::parse(&step.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
    }
    let mut checks = Vec::new();
    for (n, host) in hosts.iter().enumerate() {
        let run_check = rec.start(
            KbStep::Certificate,
            format!("{parent}.cert.{}", n + 1),
            format!("Certificate of {host}"),
            Some(parent),
        );
        let fetched = match early.take() {
            Some((early_host, checks)) if early_host.eq_ignore_ascii_case(host) => checks,
            other => {
                early = other;
                inspect(net, host).await
            }
        };
        let outcome = match fetched {
            Some(verdicts) => compact(host, verdicts, decisive),
            None => Outcome::skip(format!("The certificate of {host} could not be fetched again.")),
        };
        checks.push(rec.finish(run_check, outcome, vec![]));
    }
    checks
}

async fn inspect(net: &Net, host: &str) -> Option<CertificateChecks> {
    let (via_host, via_port) = net.dns.route(host, 443);
    let (addrs, _) = net.dns.resolve(&via_host, via_port).await.ok()?;
    let connected = net.connect(&addrs, via_port).await.ok()?;
    let inspection = net.inspect(connected.stream, connected.peer, host).await;
    if inspection.chain.is_empty() {
        return None;
    }
    Some(judge(
        host,
        &inspection,
        &net.trust,
        net.vantage,
        OffsetDateTime::now_utc(),
    ))
}

/// The six certificate verdicts folded into one: the worst status, its words and its fix.
fn compact(host: &str, v: CertificateChecks, decisive: bool) -> Outcome {
    let certificates = v.chain.evidence.certificates.clone();
    let verdicts = [v.version, v.chain, v.dates, v.name, v.key, v.signature];
    let worst = verdicts
        .into_iter()
        .filter(|o| matches!(o.status, Status::Fail | Status::Warn))
        .min_by_key(|o| if o.status == Status::Fail { 0 } else { 1 });
    let mut outcome = match worst {
        Some(mut o) => {
            if !decisive {
                o.problem = None;
            }
            o
        }
        None => Outcome::pass(format!(
            "The certificate of {host} is trusted, in date and covers the name."
        )),
    };
    outcome.evidence = Evidence {
        facts: Vec::new(),
        certificates,
    };
    outcome
}

fn redirect_path(run: &Run) -> String {
    run.steps
        .iter()
        .filter(|s| s.method == "POST")
        .map(|s| s.url.as_str())
        .collect::<Vec<_>>()
        .join(" → ")
}

fn auth_of(run: &Run) -> String {
    run.steps
        .iter()
        .rev()
        .find_map(|s| s.auth)
        .map(|a| format!(", signed in with {a}"))
        .unwrap_or_default()
}

fn ending_words(ending: &Ending) -> String {
    match ending {
        Ending::Failed(f) => client::describe(f),
        Ending::Stopped { host } => format!("stopped: would send your password to {host}"),
        Ending::Held { .. } => "the password was not sent: an earlier candidate decided".to_string(),
        Ending::Settings { url, .. } => format!("settings from {url}"),
        Ending::RedirectAddr(a) => format!("redirectAddr to {a}"),
        Ending::Error { code, .. } => format!("error {code}: {}", autodiscover_error_meaning(code)),
    }
}

fn settings_check(rec: &Recorder, settings: &Settings, url: &str, mapi: &MapiAsk) -> Check {
    let run = rec.start(
        KbStep::Autodiscover,
        "autodiscover.settings",
        "Outlook Anywhere settings from Autodiscover",
        None,
    );
    let mut evidence = Evidence::default().fact("From", url).fact(
        "Asked as",
        "the migration service asks (the EWS Managed API): no X-MapiHttpCapability, no X-ClientCanHandle",
    );
    if let Some(n) = &settings.display_name {
        evidence = evidence.fact("Display name", n.clone());
    }
    if let Some(dn) = &settings.legacy_dn {
        evidence = evidence.fact("LegacyDN", dn.clone());
    }
    if let Some(exch) = &settings.exch {
        if let Some(s) = &exch.server {
            evidence = evidence.fact("RPC server (EXCH Server)", s.clone());
        }
        if let (Some(v), Some(raw)) = (&exch.server_version, &exch.server_version_raw) {
            evidence = evidence.fact("Exchange version", format!("{} {v} (ServerVersion {raw})", v.product()));
        }
    }
    if let Some(expr) = &settings.expr {
        for (label, value) in [
            ("Outlook Anywhere host (EXPR Server)", expr.server.clone()),
            (
                "SSL",
                expr.ssl.map(|s| if s { "On".to_string() } else { "Off".to_string() }),
            ),
            ("AuthPackage", expr.auth_package.clone()),
            ("CertPrincipalName", expr.cert_principal_name.clone()),
        ] {
            if let Some(v) = value {
                evidence = evidence.fact(label, v);
            }
        }
    }
    evidence = evidence.fact("EWS URL", ews_url_words(settings));
    evidence = mapi_evidence(evidence, settings, mapi);
    let outcome = match settings.expr.as_ref().and_then(|e| e.server.as_ref().map(|s| (e, s))) {
        None => Outcome::problem(AutodiscoverProblem::NoExpr),
        Some((_, server)) if migcheck_shared::input::parse_host("EXPR Server", server).is_err() => {
            Outcome::problem(AutodiscoverProblem::ExprNotAHost { server: server.clone() })
        }
        Some((expr, _)) if expr.ssl == Some(false) => Outcome::problem(AutodiscoverProblem::ExprWithoutSsl),
        Some((expr, server)) => Outcome::pass(format!(
            "Outlook Anywhere at {server}{}{}.",
            expr.auth_package
                .as_ref()
                .map(|a| format!(", {a} authentication"))
                .unwrap_or_default(),
            settings
                .exch
                .as_ref()
                .and_then(|e| e.server.as_ref())
                .map(|s| format!(", RPC server {s}"))
                .unwrap_or_default()
        )),
    };
    rec.finish(run, outcome.with_evidence(evidence), vec![])
}

/// The EWS URL the settings give (EXPR's, for a client outside, then EXCH's; `EwsUrl`, else `ASUrl`),
/// and which element named it.
pub(super) fn ews_url(settings: &Settings) -> Option<(String, String)> {
    [("EXPR", settings.expr.as_ref()), ("EXCH", settings.exch.as_ref())]
        .into_iter()
        .find_map(|(name, block)| {
            let (url, element) = block.and_then(ProtocolBlock::ews)?;
            Some((url.to_string(), format!("{name} {}", element.name())))
        })
}

fn ews_url_words(settings: &Settings) -> String {
    match ews_url(settings) {
        Some((url, from)) if from.ends_with("ASUrl") => {
            format!("{url} (from {from}: no EwsUrl, as in Exchange 2007's answers, whose Availability service is EWS)")
        }
        Some((url, from)) => format!("{url} (from {from})"),
        None => "none: neither EXPR nor EXCH has an EwsUrl or an ASUrl".to_string(),
    }
}

/// What the second request, with X-MapiHttpCapability, showed: MAPI over HTTP and EXHTTP.
fn mapi_evidence(mut evidence: Evidence, first: &Settings, mapi: &MapiAsk) -> Evidence {
    const ASKED: &str = "MAPI over HTTP (asked with X-MapiHttpCapability: 1)";
    let second = match mapi {
        MapiAsk::Answered(s) => Some(s.as_ref()),
        MapiAsk::Failed(why) => {
            evidence = evidence.fact(ASKED, format!("no answer to read: {why}"));
            None
        }
        MapiAsk::NotAsked(why) => {
            evidence = evidence.fact(ASKED, format!("not asked: {why}"));
            None
        }
    };
    if let Some(s) = second {
        let said = match (&s.mapi_http, s.expr.is_some() || s.exch.is_some()) {
            (Some(_), false) => {
                "enabled: a mapiHttp block, and no top-level EXCH or EXPR ([MS-OXDSCLI] 3.2.5.1); Outlook 2013 SP1 and later connect with it, the migration service does not ask for it"
            }
            (Some(_), true) => "enabled: a mapiHttp block beside EXCH and EXPR",
            (None, _) => {
                "not offered: the answer has EXCH and EXPR again (MAPI over HTTP is off for this mailbox, or the server is older than Exchange 2013 SP1)"
            }
        };
        evidence = evidence.fact(ASKED, said);
    }
    if let Some(m) = second.and_then(|s| s.mapi_http.as_ref()).or(first.mapi_http.as_ref()) {
        for (label, external, internal) in [
            (
                "MAPI over HTTP mail store",
                &m.mail_store_external,
                &m.mail_store_internal,
            ),
            (
                "MAPI over HTTP address book",
                &m.address_book_external,
                &m.address_book_internal,
            ),
        ] {
            match (external, internal) {
                (Some(u), _) => evidence = evidence.fact(label, u.clone()),
                (None, Some(u)) => evidence = evidence.fact(label, format!("{u} (InternalUrl only)")),
                (None, None) => {}
            }
        }
    }
    for block in second
        .map(|s| s.exhttp.as_slice())
        .unwrap_or_default()
        .iter()
        .chain(&first.exhttp)
    {
        let mut parts = vec![block.server.clone().unwrap_or_else(|| "no Server".to_string())];
        if let Some(ssl) = block.ssl {
            parts.push(format!("SSL {}", if ssl { "On" } else { "Off" }));
        }
        if let Some(a) = &block.auth_package {
            parts.push(format!("AuthPackage {a}"));
        }
        evidence = evidence.fact(
            "EXHTTP (RPC over HTTP for clients other than Outlook; the migration service reads EXPR)",
            parts.join(", "),
        );
    }
    evidence
}

/// V2 on `hosts`, except those in `silent` (POX already waited out their deadline: the evidence says
/// so instead of waiting again).
pub(super) async fn v2_check(net: &Net, rec: &Recorder, hosts: &[String], silent: &[String], address: &str) -> Check {
    let mut run = rec.start(KbStep::Autodiscover, "autodiscover.v2", "Autodiscover V2 (JSON)", None);
    let t = Instant::now();
    let answers = join_all(hosts.iter().map(|host| async move {
        if silent.iter().any(|s| s.eq_ignore_ascii_case(host)) {
            Err(format!(
                "not asked: {host} did not answer the POX request above within the deadline"
            ))
        } else {
            client::v2(net, host, address).await.map_err(|e| e.to_string())
        }
    }))
    .await;
    rec.phase(&mut run, Phase::Http, t);
    let mut found = None;
    let mut evidence = Evidence::default();
    for (host, answer) in hosts.iter().zip(answers) {
        let said = match answer {
            Ok((status, Some(url))) => {
                found.get_or_insert_with(|| (host.clone(), url.clone()));
                format!("{status}: EWS at {url}")
            }
            Ok((status, None)) => status,
            Err(e) => e,
        };
        evidence = evidence.fact(&format!("GET https://{host}/autodiscover/autodiscover.json"), said);
    }
    let outcome = match found {
        Some((host, url)) => Outcome::pass(format!("Autodiscover V2 on {host} gives the EWS URL {url}.")),
        None => Outcome::new(
            Status::Info,
            "No Autodiscover V2 answer; POX Autodiscover (above) is what the migration service uses.",
        ),
    };
    rec.finish(run, outcome.with_evidence(evidence), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_expr_server_is_a_finding_not_a_lookup() {
        let expr = ProtocolBlock {
            server: Some("mail contoso.com/../x".into()),
            ..ProtocolBlock::default()
        };
        let settings = Settings {
            expr: Some(expr),
            ..Settings::default()
        };
        let rec = Recorder::quiet();
        let check = settings_check(
            &rec,
            &settings,
            "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
            &MapiAsk::NotAsked("a test".into()),
        );
        assert_eq!(check.status, Status::Fail);
        assert!(
            check
                .summary
                .contains("'mail contoso.com/../x', which is not a host name"),
            "{}",
            check.summary
        );
        assert_eq!(rec.findings().len(), 1);
    }

    #[test]
    fn a_401_decides_only_when_no_later_candidate_answers_and_never_from_another_product() {
        let run = |ending: Ending| Run {
            steps: Vec::new(),
            ending,
            srv: Vec::new(),
        };
        let refused = |kind: ServerKind| {
            run(Ending::Failed(Failure::CredentialsRefused {
                scheme: "Basic",
                offered: vec!["Basic".into()],
                kind,
            }))
        };
        let settings = || {
            run(Ending::Settings {
                url: "https://autodiscover.contoso.com/autodiscover/autodiscover.xml".into(),
                settings: Box::default(),
                signed_in: Some("Basic"),
                mapi: MapiAsk::NotAsked("a test".into()),
            })
        };
        let nothing = || run(Ending::Failed(Failure::Status("404 Not Found".into())));
        let sharepoint = || {
            refused(ServerKind::Other {
                product: "SharePoint",
                header: "MicrosoftSharePointTeamServices: 15.0.0.4701".into(),
            })
        };
        let exchange = || {
            refused(ServerKind::Exchange {
                header: "X-FEServer: EX01".into(),
            })
        };
        // A 401 from IIS that may be anything, then settings: the settings decide.
        assert_eq!(decider(&[refused(ServerKind::Unknown), settings()]), Some(1));
        assert_eq!(decider(&[sharepoint(), settings()]), Some(1));
        // No candidate answers: the first refusal by a server that may be Autodiscover decides.
        assert_eq!(decider(&[sharepoint(), nothing(), exchange()]), Some(2));
        assert_eq!(decider(&[refused(ServerKind::Unknown), exchange()]), Some(0));
        // A SharePoint site's 401 alone decides nothing.
        assert_eq!(decider(&[sharepoint(), nothing()]), None);
        // Exchange refusing the password keeps it from the later candidates; SharePoint does not.
        assert!(stops_the_logons(&exchange().ending));
        assert!(!stops_the_logons(&sharepoint().ending));
        assert!(!stops_the_logons(&refused(ServerKind::Unknown).ending));
    }

    #[test]
    fn the_ews_url_is_ews_url_then_as_url_and_none_is_said() {
        let block = |ews: Option<&str>, r#as: Option<&str>| {
            Some(ProtocolBlock {
                server: Some("mail.contoso.com".into()),
                ews_url: ews.map(str::to_string),
                as_url: r#as.map(str::to_string),
                ..ProtocolBlock::default()
            })
        };
        let mut settings = Settings {
            expr: block(None, None),
            exch: block(None, None),
            ..Settings::default()
        };
        assert_eq!(ews_url(&settings), None);
        let rec = Recorder::quiet();
        let url = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml";
        let check = settings_check(&rec, &settings, url, &MapiAsk::NotAsked("a test".into()));
        let shown = check
            .evidence
            .facts
            .iter()
            .find(|f| f.label == "EWS URL")
            .map(|f| f.value.as_str());
        assert_eq!(shown, Some("none: neither EXPR nor EXCH has an EwsUrl or an ASUrl"));
        // Exchange 2007: EXCH's ASUrl when EXPR has none; EXPR's wins, and an EwsUrl over an ASUrl.
        settings.exch = block(None, Some("https://ex07.contoso.com/ews/exchange.asmx"));
        assert_eq!(
            ews_url(&settings),
            Some(("https://ex07.contoso.com/ews/exchange.asmx".into(), "EXCH ASUrl".into()))
        );
        settings.expr = block(
            Some("https://mail.contoso.com/EWS/Exchange.asmx"),
            Some("https://x/ews/exchange.asmx"),
        );
        assert_eq!(
            ews_url(&settings),
            Some((
                "https://mail.contoso.com/EWS/Exchange.asmx".into(),
                "EXPR EwsUrl".into()
            ))
        );
    }
}
