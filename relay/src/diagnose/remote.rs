//! The remote-move mode (`Test-MigrationServerAvailability -ExchangeRemoteMove -RemoteServer`): the
//! server's certificate, EWS and the mailbox permission, the MRS Proxy endpoint, and the version.

use std::time::Instant;

use migcheck_shared::kb::MrsProblem;
use migcheck_shared::request::ValidRemoteMove;
use migcheck_shared::{Check, Evidence, HostPort, KbStep, Phase, Status};

use super::logon::{self, Endpoint, VirtualDirectory};
use super::{Outcome, Recorder, ews, host};
use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::Credentials;
use crate::probe::mrs::{self, MrsState};

pub(crate) async fn checks(net: &Net, rec: &Recorder, target: &ValidRemoteMove) -> (Vec<Check>, String) {
    // Modern Hybrid: the name is Microsoft's, reached only by Exchange Online; check from inside instead.
    if let Some(agent) = &target.agent {
        return super::hybrid::checks(net, rec, target, agent).await;
    }
    let creds = Credentials::new(&target.user, &target.password);
    let mailbox = target.target_mailbox.as_ref().map(|m| m.address.as_str());
    let checks = server_checks(net, rec, &target.remote_server, &creds, mailbox).await;
    let headline = format!(
        "A remote move can reach {}: MRS Proxy answers, EWS takes the logon of {}{}.",
        target.remote_server.host,
        target.user,
        mailbox.map(|m| format!(" and finds {m}")).unwrap_or_default()
    );
    (checks, headline)
}

/// What a remote move needs of one server: its certificate, MRS Proxy, EWS (and `mailbox`), the version.
pub(super) async fn server_checks(
    net: &Net,
    rec: &Recorder,
    server: &HostPort,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
) -> Vec<Check> {
    let host = server.host.as_str();
    let port = server.port.unwrap_or(443);
    let mut checks = host::host_checks(net, rec, server).await;
    let authority = if port == 443 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    let url = format!("https://{authority}/EWS/Exchange.asmx");
    let (ews_checks, mrs_check) = tokio::join!(
        // EWS and MRS Proxy run at once: neither has seen the credentials accepted before.
        ews::for_remote_move(net, rec, &url, creds, mailbox),
        mrs_checks(net, rec, host, port, creds)
    );
    checks.push(mrs_check);
    checks.extend(ews_checks);
    checks
}

/// How much of an answer's body the evidence quotes, in characters.
const BODY_SHOWN: usize = 200;

fn evidence(label: &str, answer: &HttpAnswer) -> Evidence {
    let mut e = Evidence::default().fact(label, answer.status_line());
    for name in ["www-authenticate", "server", "content-type", "x-feserver"] {
        for v in answer.header_values(name) {
            e = e.fact(&format!("{label}: {name}"), v.to_string());
        }
    }
    let body = String::from_utf8_lossy(&answer.body);
    let words = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut first: String = words.chars().take(BODY_SHOWN).collect();
    // Say that it goes on, so a cut word is not read as the server's.
    if words.chars().nth(BODY_SHOWN).is_some() {
        first.push('…');
    }
    if !first.is_empty() {
        e = e.fact(&format!("{label}: body"), first);
    }
    e
}

async fn mrs_checks(net: &Net, rec: &Recorder, host: &str, port: u16, creds: &Credentials<'_>) -> Check {
    let url = format!("https://{host}{}", mrs::PATH);
    let run = rec.start(KbStep::OutlookAnywhere, "mrs", format!("MRS Proxy at {url}"), None);
    let mut anonymous_run = rec.start(
        KbStep::OutlookAnywhere,
        "mrs.anonymous",
        format!("POST {url} without credentials"),
        Some("mrs"),
    );
    let credentials_run = rec.start(
        KbStep::OutlookAnywhere,
        "mrs.credentials",
        format!("POST {url} as {}", creds.user),
        Some("mrs"),
    );
    let t = Instant::now();
    let probed = mrs::probe(net, host, port, creds).await;
    rec.phase(&mut anonymous_run, Phase::Http, t);
    let probe = match probed {
        Ok(p) => p,
        Err(e) => {
            let problem = Outcome::problem(MrsProblem::Unreachable {
                url: url.clone(),
                host: host.to_string(),
                error: e.to_string(),
            });
            let children = vec![
                rec.finish(anonymous_run, problem, vec![]),
                rec.finish(credentials_run, Outcome::skip("Not tried."), vec![]),
            ];
            return rec.finish_parent(run, children, format!("MRS Proxy at {url} cannot be reached."));
        }
    };
    let anonymous = match probe.anonymous.status {
        401 => Outcome::pass("IIS asks for credentials: the path exists."),
        404 | 503 => Outcome::problem(MrsProblem::Off {
            url: url.clone(),
            host: host.to_string(),
            status_line: probe.anonymous.status_line(),
        }),
        _ => Outcome::new(
            Status::Info,
            format!("{url} answers {} without credentials.", probe.anonymous.status_line()),
        ),
    }
    .with_evidence(evidence("Anonymous answer", &probe.anonymous));
    let anonymous_failed = anonymous.status == Status::Fail;
    let credentials = match (&probe.authenticated, probe.state()) {
        (None, _) if anonymous_failed => Outcome::skip("Not tried: the endpoint is off (above)."),
        (None, _) => Outcome::skip("Not tried: the endpoint did not ask for credentials."),
        (Some(attempt), state) => {
            let (scheme, answer) = (attempt.scheme, &attempt.answer);
            let endpoint = Endpoint::at(&url, VirtualDirectory::Ews);
            let outcome = match state {
                MrsState::Enabled => Outcome::pass(format!(
                    "MRS Proxy answers the migration account ({scheme}) with {}: it is enabled.",
                    answer.status_line()
                )),
                MrsState::Disabled => Outcome::problem(MrsProblem::OffWithCredentials {
                    url: url.clone(),
                    host: host.to_string(),
                    status_line: answer.status_line(),
                }),
                MrsState::Rejected => {
                    match logon::judge(&endpoint, creds, scheme, attempt.binding.as_ref(), false, None) {
                        Ok(refused) => Outcome::problem(MrsProblem::ChannelBindingRefused(refused)),
                        Err(logon) => Outcome::problem(MrsProblem::CredentialsRefused {
                            url: url.clone(),
                            user: creds.user.to_string(),
                            logon,
                        }),
                    }
                }
            };
            let label = format!("With credentials ({scheme})");
            outcome.with_evidence(logon::binding_fact(
                evidence(&label, answer),
                &label,
                attempt.binding.as_ref(),
            ))
        }
    };
    let children = vec![
        rec.finish(anonymous_run, anonymous, vec![]),
        rec.finish(credentials_run, credentials, vec![]),
    ];
    let summary = match super::worst(&children) {
        Some(Status::Fail) => format!("MRS Proxy at {url} does not work for remote moves."),
        _ => format!("MRS Proxy at {url} is enabled."),
    };
    rec.finish_parent(run, children, summary)
}

#[cfg(test)]
mod tests {
    use super::{BODY_SHOWN, evidence};
    use crate::net::http::HttpAnswer;

    fn body_fact(body: &str) -> String {
        let answer = HttpAnswer {
            status: 500,
            reason: "Internal Server Error".into(),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        let e = evidence("POST", &answer);
        e.facts
            .iter()
            .find(|f| f.label == "POST: body")
            .map(|f| f.value.clone())
            .unwrap_or_default()
    }

    #[test]
    fn a_quoted_body_says_when_it_goes_on() {
        assert_eq!(
            body_fact("There was no endpoint\n  listening."),
            "There was no endpoint listening."
        );
        let long = "word ".repeat(100);
        let shown = body_fact(&long);
        assert_eq!(shown.chars().count(), BODY_SHOWN + 1);
        assert!(shown.ends_with('…'), "{shown}");
    }
}
