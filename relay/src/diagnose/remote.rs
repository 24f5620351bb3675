//! The remote-move mode (`Test-MigrationServerAvailability -ExchangeRemoteMove -RemoteServer`): the
//! server's certificate, EWS and the mailbox permission, the MRS Proxy endpoint, and the version.

use std::time::Instant;

use migcheck_shared::kb::{DeviceAnswer, MrsProblem};
use migcheck_shared::request::ValidRemoteMove;
use migcheck_shared::{Check, Evidence, HostPort, KbStep, Phase, Status};

use super::logon::AcceptedAt;
use super::logon::{self, Endpoint, VirtualDirectory};
use super::{Outcome, Recorder, ews, host, soap};
use crate::net::Net;
use crate::net::http::{self, HttpAnswer};
use crate::probe::Credentials;
use crate::probe::auth::Attempt;
use crate::probe::front::{self, Answerer};
use crate::probe::mrs;

pub(crate) async fn checks(net: &Net, rec: &Recorder, target: &ValidRemoteMove) -> (Vec<Check>, String) {
    // Modern Hybrid: the name is Microsoft's, reached only by Exchange Online; check from inside instead.
    if let Some(agent) = &target.agent {
        return super::hybrid::checks(net, rec, target, agent).await;
    }
    let host = target.remote_server.host.as_str();
    let creds = Credentials::new(&target.user, &target.password);
    let mailbox = target.target_mailbox.as_ref().map(|m| m.address.as_str());
    let (mut checks, accepted) =
        server_checks(net, rec, &target.remote_server, &creds, mailbox, Logon::Try, None).await;
    let behind = match super::servers::check(net, rec, target, &creds, mailbox, accepted.as_ref()).await {
        Some(servers) => {
            checks.push(servers);
            format!(" and each of the {} servers behind it", target.servers.len())
        }
        None => String::new(),
    };
    let headline = format!(
        "A remote move can reach {host}{behind}: MRS Proxy answers, EWS takes the logon of {}{}.",
        target.user,
        mailbox.map(|m| format!(" and finds {m}")).unwrap_or_default()
    );
    (checks, headline)
}

/// Whether a run of the checks may send the password, and how.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Logon {
    /// MRS Proxy and EWS log on at once (the name's own checks).
    Try,
    /// MRS Proxy first, EWS only if MRS Proxy did not refuse the password (a server behind the name:
    /// each server's logons are a lockout's worth more).
    OneAtATime,
    /// Not sent: it was refused before (or a logon was cut off after it went out), and each refusal
    /// counts toward a lockout.
    Withheld,
}

/// What a remote move needs of one server: its certificate, MRS Proxy, EWS (and `mailbox`), the version;
/// through `net`, which may reach one server behind the name directly ([`Net::through`]). With
/// `accepted_before` (the name's own MRS Proxy logon went through), a refusal here is not the password.
/// Returns the checks and where MRS Proxy accepted the logon here, if it did.
pub(super) async fn server_checks(
    net: &Net,
    rec: &Recorder,
    server: &HostPort,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
    logon: Logon,
    accepted_before: Option<&AcceptedAt>,
) -> (Vec<Check>, Option<AcceptedAt>) {
    let host = server.host.as_str();
    let port = server.port.unwrap_or(443);
    let mut checks = host::host_checks(net, rec, server).await;
    let authority = http::authority(host, port);
    let url = format!("https://{authority}/EWS/Exchange.asmx");
    let withheld = |step: KbStep, id: &str, what: &str, why: &str| {
        let run = rec.start(step, id, format!("{what} at {authority}"), None);
        rec.finish(run, Outcome::skip(why), vec![])
    };
    const EARLIER: &str = "Not tried: the password was refused (or its logon cut off unanswered) on an earlier server, and each refused logon counts toward the account's lockout.";
    if logon == Logon::Withheld {
        checks.push(withheld(KbStep::OutlookAnywhere, "mrs", "MRS Proxy", EARLIER));
        checks.push(preauth_checks(net, rec, host, port).await);
        checks.push(withheld(KbStep::Permissions, "ews", "EWS", EARLIER));
        return (checks, None);
    }
    let (ews_checks, (mrs_check, mrs_accepted), preauth_check) = if logon == Logon::OneAtATime {
        let (mrs, preauth_check) = tokio::join!(
            mrs_checks(net, rec, host, port, creds, accepted_before),
            preauth_checks(net, rec, host, port)
        );
        let ews_checks = if rec.password_refused() {
            let why = "Not tried: MRS Proxy on this server refused the password (or cut its logon off unanswered), and each refused logon counts toward the account's lockout.";
            vec![withheld(KbStep::Permissions, "ews", "EWS", why)]
        } else {
            ews::for_remote_move(net, rec, &url, creds, mailbox).await
        };
        (ews_checks, mrs, preauth_check)
    } else {
        tokio::join!(
            // EWS and MRS Proxy run at once: neither has seen the credentials accepted before.
            ews::for_remote_move(net, rec, &url, creds, mailbox),
            mrs_checks(net, rec, host, port, creds, accepted_before),
            preauth_checks(net, rec, host, port)
        )
    };
    checks.push(mrs_check);
    checks.push(preauth_check);
    checks.extend(ews_checks);
    // After the MRS Proxy logon, and only when it was accepted: what SOAP Autodiscover says of the mailbox.
    let accepted =
        mrs_accepted.map(|scheme| AcceptedAt(format!("MRS Proxy at https://{authority}{} ({scheme})", mrs::PATH)));
    if let Some(mailbox) = mailbox {
        checks.push(soap_check(net, rec, (host, port), mailbox, accepted.as_ref(), creds).await);
    }
    (checks, accepted)
}

/// `autodiscover.soap` on the remote server for `mailbox`, or why it was not asked.
async fn soap_check(
    net: &Net,
    rec: &Recorder,
    (host, port): (&str, u16),
    mailbox: &str,
    accepted: Option<&AcceptedAt>,
    creds: &Credentials<'_>,
) -> Check {
    if accepted.is_none() {
        let run = rec.start(
            KbStep::Autodiscover,
            soap::ID,
            "SOAP Autodiscover (GetUserSettings)",
            None,
        );
        let why = "Not asked: the MRS Proxy logon was not accepted, and migcheck sends the password to SOAP Autodiscover only after a logon has proved it.";
        return rec.finish(run, Outcome::skip(why), vec![]);
    }
    let ask = soap::SoapAsk {
        host,
        port,
        mailbox,
        pox_ews: None,
        version: None,
        accepted,
        purpose: soap::Purpose::RemoteMove,
    };
    soap::check(net, rec, &ask, creds).await
}

/// How much of an answer's body the evidence quotes, in characters.
const BODY_SHOWN: usize = 200;

pub(super) fn evidence(label: &str, answer: &HttpAnswer) -> Evidence {
    let mut e = Evidence::default().fact(label, answer.status_line());
    for name in [
        "www-authenticate",
        "location",
        "server",
        "content-type",
        "x-feserver",
        "x-beserver",
        "request-id",
        "x-calculatedbetarget",
    ] {
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

/// MRS Proxy's checks, and the scheme of its logon when Exchange accepted it (not a 401).
async fn mrs_checks(
    net: &Net,
    rec: &Recorder,
    host: &str,
    port: u16,
    creds: &Credentials<'_>,
    accepted_before: Option<&AcceptedAt>,
) -> (Check, Option<&'static str>) {
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
        format!("POST {url} as {} (NTLM, as Exchange Online logs on)", creds.user),
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
            return (
                rec.finish_parent(run, children, format!("MRS Proxy at {url} cannot be reached.")),
                None,
            );
        }
    };
    let accepted = probe
        .authenticated
        .as_ref()
        .filter(|a| a.answer.status != 401 && matches!(front::who_answered(&a.answer), Answerer::Exchange(_)))
        .map(|a| a.scheme);
    let anonymous = anonymous_outcome(&url, host, &probe.anonymous);
    let anonymous_failed = anonymous.status == Status::Fail;
    let credentials = match (&probe.authenticated, &probe.cut) {
        (_, Some(cut)) => Outcome::problem(MrsProblem::LogonCut {
            url: url.clone(),
            host: host.to_string(),
            user: creds.user.to_string(),
            error: cut.to_string(),
        }),
        (None, None) if anonymous_failed => Outcome::skip("Not tried: see the anonymous answer above."),
        (None, None) => Outcome::skip("Not tried: the endpoint did not ask for credentials."),
        (Some(attempt), None) => credentials_outcome(&url, host, creds, attempt, accepted_before),
    };
    let children = vec![
        rec.finish(anonymous_run, anonymous, vec![]),
        rec.finish(credentials_run, credentials, vec![]),
    ];
    let summary = match super::worst(&children) {
        Some(Status::Fail) => format!("MRS Proxy at {url} does not work for remote moves."),
        Some(Status::Pass) => format!("MRS Proxy at {url} is enabled."),
        _ => format!("MRS Proxy at {url}: see below."),
    };
    (rec.finish_parent(run, children, summary), accepted)
}

/// What the anonymous answer shows: who answered it first (a device in front is a failure whatever it
/// answered), then whether Exchange offers Windows authentication there. An anonymous answer cannot show
/// whether MRS Proxy is on: Exchange checks that only for a signed-in caller (KB 3063913's 403).
fn anonymous_outcome(url: &str, host: &str, answer: &HttpAnswer) -> Outcome {
    let who = front::who_answered(answer);
    let outcome = match (&who, answer.status) {
        (Answerer::Device(_), _) => in_front(url, host, &who),
        (_, 401) if front::offers_windows(answer) => Outcome::pass(format!(
            "Exchange asks for Windows authentication ({}): the path exists and Exchange Online can log on.",
            who.signs()
        )),
        (_, 401) => Outcome::problem(MrsProblem::NoWindowsAuth {
            url: url.to_string(),
            host: host.to_string(),
            offered: front::offered(answer).join(","),
        }),
        (_, 404 | 503) => Outcome::problem(MrsProblem::Off {
            url: url.to_string(),
            host: host.to_string(),
            status_line: answer.status_line(),
        }),
        _ => Outcome::new(
            Status::Info,
            format!("{url} answers {} without credentials.", answer.status_line()),
        ),
    };
    outcome.with_evidence(who_fact(evidence("Anonymous answer", answer), "Anonymous answer", &who))
}

/// What the answer to the NTLM logon shows. MRS Proxy is enabled only when Exchange answered it.
/// With `accepted` (the logon went through elsewhere in this run), a 401 here is read as the channel
/// binding refused, not a wrong password ([`logon::judge`]).
fn credentials_outcome(
    url: &str,
    host: &str,
    creds: &Credentials<'_>,
    attempt: &Attempt,
    accepted: Option<&AcceptedAt>,
) -> Outcome {
    let (scheme, answer) = (attempt.scheme, &attempt.answer);
    let who = front::who_answered(answer);
    let endpoint = Endpoint::at(url, VirtualDirectory::Ews);
    let outcome = match (&who, answer.status) {
        (_, 401) => match logon::judge(&endpoint, creds, scheme, attempt.binding.as_ref(), false, accepted) {
            Ok(refused) => Outcome::problem(MrsProblem::ChannelBindingRefused(refused)),
            Err(logon) => Outcome::problem(MrsProblem::CredentialsRefused {
                url: url.to_string(),
                user: creds.user.to_string(),
                logon,
            }),
        },
        (Answerer::Device(_), _) => in_front(url, host, &who),
        (_, 403) => Outcome::problem(MrsProblem::ForbiddenAfterLogon {
            url: url.to_string(),
            host: host.to_string(),
            user: creds.user.to_string(),
            status_line: answer.status_line(),
        }),
        (_, 404 | 503) => Outcome::problem(MrsProblem::OffWithCredentials {
            url: url.to_string(),
            host: host.to_string(),
            status_line: answer.status_line(),
        }),
        (Answerer::Exchange(_), _) => Outcome::pass(format!(
            "Exchange answers the {scheme} logon of the migration account with {} ({}): MRS Proxy is enabled.",
            answer.status_line(),
            who.signs()
        )),
        (Answerer::Unknown, _) => Outcome::new(
            Status::Info,
            format!(
                "{url} answers the {scheme} logon with {}, but nothing shows that Exchange answered (none of its headers): whether MRS Proxy is enabled is not known.",
                answer.status_line()
            ),
        ),
    };
    let label = format!("With credentials ({scheme})");
    outcome.with_evidence(logon::binding_fact(
        who_fact(evidence(&label, answer), &label, &who),
        &label,
        attempt.binding.as_ref(),
    ))
}

/// Something in front of Exchange answered `url`: the finding names what it sent.
pub(super) fn in_front(url: &str, host: &str, who: &Answerer) -> Outcome {
    Outcome::problem(MrsProblem::DeviceInFront {
        host: host.to_string(),
        answers: vec![DeviceAnswer {
            url: url.to_string(),
            seen: who.signs(),
        }],
    })
}

/// The evidence line saying who answered, under `label`.
fn who_fact(evidence: Evidence, label: &str, who: &Answerer) -> Evidence {
    let words = match who {
        Answerer::Exchange(_) => format!("Exchange ({})", who.signs()),
        Answerer::Device(_) => format!("something in front of Exchange ({})", who.signs()),
        Answerer::Unknown => "not shown: none of Exchange's headers, nor a device's signs".to_string(),
    };
    evidence.fact(&format!("{label}: answered by"), words)
}

/// The three WS-Security paths Exchange Online calls anonymously (KB 10094), beside MRS Proxy: who
/// answers an anonymous POST to each.
const PREAUTH_PATHS: [(&str, &str); 3] = [
    ("preauth.ews_wssecurity", "/EWS/Exchange.asmx/wssecurity"),
    ("preauth.autodiscover_svc", "/autodiscover/autodiscover.svc"),
    (
        "preauth.autodiscover_wssecurity",
        "/autodiscover/autodiscover.svc/wssecurity",
    ),
];

async fn preauth_checks(net: &Net, rec: &Recorder, host: &str, port: u16) -> Check {
    let authority = http::authority(host, port);
    let run = rec.start(
        KbStep::OutlookAnywhere,
        "preauth",
        format!("Who answers the paths Exchange Online calls without pre-authentication at {authority}"),
        None,
    );
    let one = |(id, path): (&'static str, &'static str)| {
        let url = format!("https://{authority}{path}");
        let run = rec.start(
            KbStep::OutlookAnywhere,
            id,
            format!("POST {url} without credentials"),
            Some("preauth"),
        );
        async move {
            let outcome = match front::post_anonymous(net, host, port, path).await {
                Err(e) => Outcome::new(Status::Info, format!("POST {url}: {e}.")),
                Ok(answer) => preauth_outcome(&url, host, &answer),
            };
            rec.finish(run, outcome, vec![])
        }
    };
    let children = futures_util::future::join_all(PREAUTH_PATHS.map(one)).await;
    let summary = match super::worst(&children) {
        Some(Status::Fail) => format!("Something in front of Exchange at {authority} answers instead of Exchange."),
        Some(Status::Pass) => format!("Exchange itself answers these paths at {authority}."),
        _ => format!("Who answers these paths at {authority} is not shown."),
    };
    rec.finish_parent(run, children, summary)
}

fn preauth_outcome(url: &str, host: &str, answer: &HttpAnswer) -> Outcome {
    let who = front::who_answered(answer);
    let outcome = match &who {
        Answerer::Device(_) => in_front(url, host, &who),
        Answerer::Exchange(_) => Outcome::pass(format!(
            "Exchange answered {} ({}): nothing in front pre-authenticates this path.",
            answer.status_line(),
            who.signs()
        )),
        Answerer::Unknown => Outcome::new(
            Status::Info,
            format!(
                "{url} answers {}: nothing shows who answered (none of Exchange's headers, nor a device's signs).",
                answer.status_line()
            ),
        ),
    };
    outcome.with_evidence(who_fact(evidence("Anonymous answer", answer), "Anonymous answer", &who))
}

#[cfg(test)]
mod tests {
    use super::{BODY_SHOWN, anonymous_outcome, credentials_outcome, evidence};
    use crate::diagnose::logon::AcceptedAt;
    use crate::net::http::HttpAnswer;
    use crate::probe::Credentials;
    use crate::probe::auth::{Attempt, ChannelBinding};
    use migcheck_shared::Status;

    fn answer_401(headers: &[(&str, &str)]) -> HttpAnswer {
        HttpAnswer {
            status: 401,
            reason: "Unauthorized".into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: Vec::new(),
        }
    }

    /// A server behind the name refusing the bound NTLM logon that the name's own MRS Proxy accepted: not
    /// the password (the same account logged on a moment before) but the channel binding, as when that
    /// server sits behind a device that re-encrypts. Without the name's acceptance it reads as refused
    /// credentials.
    #[test]
    fn a_refusal_after_the_name_accepted_is_the_binding_not_the_password() {
        let url = "https://mail.contoso.com/EWS/mrsproxy.svc";
        let password = migcheck_shared::Password::new("not-shown");
        let creds = Credentials::new("CONTOSO\\migadmin", &password);
        let attempt = Attempt {
            scheme: "NTLM",
            binding: Some(ChannelBinding::Sent {
                hash: crate::net::ntlm::EndPointHash::Sha256,
                thumbprint: "AB12".into(),
            }),
            answer: answer_401(&[("X-FEServer", "EX02"), ("WWW-Authenticate", "NTLM")]),
        };
        let accepted = AcceptedAt("MRS Proxy at https://mail.contoso.com/EWS/mrsproxy.svc (NTLM)".into());
        let after = credentials_outcome(url, "mail.contoso.com", &creds, &attempt, Some(&accepted));
        assert_eq!(after.status, Status::Fail);
        assert!(
            after.summary.contains(
                "yet MRS Proxy at https://mail.contoso.com/EWS/mrsproxy.svc (NTLM) accepted the same credentials"
            ),
            "{}",
            after.summary
        );
        let alone = credentials_outcome(url, "mail.contoso.com", &creds, &attempt, None);
        assert!(
            alone.summary.contains("rejects the credentials of CONTOSO\\migadmin"),
            "{}",
            alone.summary
        );
    }

    /// Exchange's own 401 offering only Basic (Windows authentication off, or a device rewriting the
    /// challenge and passing Exchange's headers): a failure with both fixes; Basic beside Negotiate and
    /// NTLM (issue 19 research F7) passes.
    #[test]
    fn mrs_proxy_without_windows_authentication_fails_whoever_offers_basic() {
        let url = "https://mail.contoso.com/EWS/mrsproxy.svc";
        let basic_only = answer_401(&[
            ("X-FEServer", "EX01"),
            ("WWW-Authenticate", "Basic realm=\"mail.contoso.com\""),
        ]);
        let outcome = anonymous_outcome(url, "mail.contoso.com", &basic_only);
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome
                .summary
                .contains("The authentication header received from the server was 'Basic realm=\"mail.contoso.com\"'"),
            "{}",
            outcome.summary
        );
        let fix = outcome.problem.as_ref().map(|p| p.fix()).unwrap_or_default();
        assert!(
            fix.contains("-WindowsAuthentication $true") && fix.contains("pre-authentication"),
            "{fix}"
        );
        let f7 = answer_401(&[
            ("request-id", "e379a219-4853-478b-ab37-842e5e5915b9"),
            ("x-calculatedbetarget", "ex19-01.domain.corp"),
            ("www-authenticate", "Negotiate"),
            ("www-authenticate", "NTLM"),
            ("x-feserver", "EX19-01"),
            ("www-authenticate", "Basic realm=\"mail.domain.corp\""),
        ]);
        assert_eq!(anonymous_outcome(url, "mail.domain.corp", &f7).status, Status::Pass);
    }

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
