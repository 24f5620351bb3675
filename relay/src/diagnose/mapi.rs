//! MAPI over HTTP, when Autodiscover returned a mapiHttp block: a PING on the mail store and the
//! address book URLs. The migration service itself goes through Outlook Anywhere, so a failure here is
//! a warning: Outlook clients after the move, and Exchange's own health, still need it.

use std::time::Instant;

use futures_util::future::join_all;

use migcheck_shared::kb::MapiProblem;
use migcheck_shared::{Check, Evidence, KbStep, Phase, Status};

use super::logon::{self, AcceptedAt, Endpoint, VirtualDirectory};
use super::{Outcome, Recorder};
use crate::net::Net;
use crate::probe::Credentials;
use crate::probe::auth::Attempt;
use crate::probe::mapi::{self, Ping};

/// The `mapi` group: `(id suffix, name, url)` for each URL Autodiscover gave.
pub(crate) async fn checks(
    net: &Net,
    rec: &Recorder,
    urls: &[(&'static str, &'static str, String)],
    creds: &Credentials<'_>,
    may_send_password: &Result<(), String>,
    accepted: Option<&AcceptedAt>,
) -> Check {
    let run = rec.start(KbStep::OutlookAnywhere, "mapi", "MAPI over HTTP (PING)", None);
    let runs: Vec<_> = urls
        .iter()
        .map(|(id, name, url)| {
            rec.start(
                KbStep::OutlookAnywhere,
                format!("mapi.{id}"),
                format!("PING the {name} at {url}"),
                Some("mapi"),
            )
        })
        .collect();
    let t = Instant::now();
    let pings = join_all(urls.iter().map(|(_, _, url)| async move {
        match may_send_password {
            Ok(()) => Some(mapi::ping(net, url, creds).await),
            Err(_) => None,
        }
    }))
    .await;
    let mut children = Vec::new();
    for ((mut check_run, ping), (_, name, url)) in runs.into_iter().zip(pings).zip(urls) {
        rec.phase(&mut check_run, Phase::Http, t);
        let outcome = match (ping, may_send_password) {
            (None, Err(why)) => Outcome::skip(why.clone()),
            (None, Ok(())) => Outcome::skip("Not tried."),
            (Some(Err(e)), _) => Outcome::problem(MapiProblem::Unreachable {
                name: name.to_string(),
                url: url.clone(),
                error: e.to_string(),
            }),
            (Some(Ok(ping)), _) => ping_outcome(&ping, name, url, creds, accepted),
        };
        children.push(rec.finish(check_run, outcome, vec![]));
    }
    let summary = match super::worst(&children) {
        Some(Status::Pass) => "MAPI over HTTP answers PING on every URL Autodiscover gave.".to_string(),
        Some(Status::Skip) | None => "MAPI over HTTP was not tried.".to_string(),
        _ => "MAPI over HTTP does not answer as it should (Outlook Anywhere is what the migration uses).".to_string(),
    };
    rec.finish_parent(run, children, summary)
}

fn ping_outcome(ping: &Ping, name: &str, url: &str, creds: &Credentials<'_>, accepted: Option<&AcceptedAt>) -> Outcome {
    let mut evidence = Evidence::default().fact("Anonymous answer", ping.anonymous.status_line());
    for scheme in ping.anonymous.header_values("www-authenticate") {
        evidence = evidence.fact("Anonymous answer: www-authenticate", scheme.to_string());
    }
    let last = ping.last();
    if let Some(attempt) = &ping.authenticated {
        let label = format!("With credentials ({})", attempt.scheme);
        evidence = evidence.fact(&label, attempt.answer.status_line());
        evidence = logon::binding_fact(evidence, &label, attempt.binding.as_ref());
    }
    let code = last.header("x-responsecode").map(str::to_string);
    if let Some(c) = &code {
        evidence = evidence.fact("X-ResponseCode", format!("{c} ({})", mapi::response_code(c)));
    }
    for name in ["x-serverapplication", "x-requestid"] {
        if let Some(v) = last.header(name) {
            evidence = evidence.fact(name, v.to_string());
        }
    }
    let outcome = match (last.status, code.as_deref().map(str::trim)) {
        (200, Some("0")) => Outcome::pass(format!("The {name} answers PING (X-ResponseCode 0).")),
        (401, _) if ping.authenticated.is_some() => refused(ping.authenticated.as_ref(), url, creds, accepted),
        (status, Some(c)) => Outcome::problem(MapiProblem::ResponseCode {
            url: url.to_string(),
            status,
            code: c.to_string(),
            meaning: mapi::response_code(c).to_string(),
        }),
        (_, None) => Outcome::problem(MapiProblem::NotMapi {
            url: url.to_string(),
            status_line: last.status_line(),
        }),
    };
    outcome.with_evidence(evidence)
}

/// A 401 after the credentials. `/mapi` is `Require` by default: no retry without the binding.
fn refused(attempt: Option<&Attempt>, url: &str, creds: &Credentials<'_>, accepted: Option<&AcceptedAt>) -> Outcome {
    let endpoint = Endpoint::at(url, VirtualDirectory::Mapi);
    let scheme = attempt.map_or("NTLM", |a| a.scheme);
    match logon::judge(
        &endpoint,
        creds,
        scheme,
        attempt.and_then(|a| a.binding.as_ref()),
        false,
        accepted,
    ) {
        Ok(refused) => Outcome::problem(MapiProblem::ChannelBindingRefused(refused)),
        Err(logon) => Outcome::problem(MapiProblem::CredentialsRefused {
            url: url.to_string(),
            logon,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::http::HttpAnswer;

    fn answer(status: u16, headers: &[(&str, &str)]) -> HttpAnswer {
        HttpAnswer {
            status,
            reason: String::new(),
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: Vec::new(),
        }
    }

    fn ping(last: HttpAnswer) -> Ping {
        Ping {
            anonymous: answer(401, &[("www-authenticate", "Basic realm=\"mail\"")]),
            authenticated: Some(Attempt {
                scheme: "Basic",
                binding: None,
                answer: last,
            }),
        }
    }

    #[test]
    fn x_response_code_decides_and_is_explained() {
        let url = "https://mail.contoso.com/mapi/emsmdb/?MailboxId=x@contoso.com";
        let password = migcheck_shared::Password::new("x");
        let creds = Credentials::new("CONTOSO\\migadmin", &password);
        let ping_outcome = |ping: &Ping, name: &str, url: &str| ping_outcome(ping, name, url, &creds, None);
        let ok = ping_outcome(&ping(answer(200, &[("x-responsecode", "0")])), "mail store", url);
        assert_eq!(ok.status, Status::Pass);
        let denied = ping_outcome(&ping(answer(200, &[("x-responsecode", "11")])), "mail store", url);
        assert_eq!(denied.status, Status::Warn);
        assert!(
            denied.summary.contains("X-ResponseCode 11 (no privilege)"),
            "{}",
            denied.summary
        );
        let rejected = ping_outcome(&ping(answer(401, &[])), "mail store", url);
        assert_eq!(
            rejected.problem.map(|p| p.cause()),
            Some(migcheck_shared::Cause::Permissions),
            "a 401 after the credentials"
        );
        // /mapi is Require: after Autodiscover took the credentials, a refused bound logon is Extended
        // Protection (still a warning: MAPI is beside the migration's path).
        let proof = AcceptedAt("Autodiscover at https://autodiscover.contoso.com/ (Basic)".into());
        let bound = Ping {
            anonymous: answer(401, &[("www-authenticate", "NTLM")]),
            authenticated: Some(Attempt {
                scheme: "NTLM",
                binding: Some(crate::probe::auth::ChannelBinding::Sent {
                    hash: crate::net::ntlm::EndPointHash::Sha256,
                    thumbprint: "AB".into(),
                }),
                answer: answer(401, &[]),
            }),
        };
        let ep = super::ping_outcome(&bound, "mail store", url, &creds, Some(&proof));
        assert_eq!(ep.status, Status::Warn);
        assert_eq!(
            ep.problem.map(|p| p.cause()),
            Some(migcheck_shared::Cause::ExternalAccess)
        );
        let not_mapi = ping_outcome(&ping(answer(200, &[])), "mail store", url);
        assert!(
            not_mapi.summary.contains("not a MAPI over HTTP endpoint"),
            "{}",
            not_mapi.summary
        );
    }
}
