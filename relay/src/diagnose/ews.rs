//! KB step 4 and the EWS side of a remote move: EWS answers, the migration account logs on, and it
//! opens the target mailbox's Inbox (Full Access). The ServerVersionInfo it gets feeds the version check.
//! A refused NTLM logon may be tried once more without the channel binding (`logon.rs` says when).

use std::time::Instant;

use migcheck_shared::kb::EwsProblem;
use migcheck_shared::{Check, Evidence, KbStep, Phase, Status};

use super::logon::{self, AcceptedAt, Endpoint, VirtualDirectory};
use super::{Outcome, Recorder};
use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::Credentials;
use crate::probe::auth::Attempt;
use crate::probe::ews::{self, EwsAnswer, Exchange};

/// The logons EWS got: the first, and the one try without the channel binding when there was one.
struct Logons {
    first: Option<(Attempt, EwsAnswer)>,
    retry: Option<(Attempt, EwsAnswer)>,
    /// Why the retry got no answer, when it did not.
    retry_error: Option<String>,
}

impl Logons {
    /// The retry was accepted where the first was refused.
    fn retry_accepted(&self) -> bool {
        self.retry.as_ref().is_some_and(|(a, _)| a.answer.status != 401)
    }

    /// The logon whose answer counts: the retry when it got in, else the first.
    fn effective(&self) -> Option<&(Attempt, EwsAnswer)> {
        if self.retry_accepted() {
            self.retry.as_ref()
        } else {
            self.first.as_ref()
        }
    }
}

/// The EWS group of checks. `mailbox`: the mailbox the account must open (None: not checked);
/// `accepted`: where the credentials were accepted before (allows the one retry without the binding).
pub(crate) async fn checks(
    net: &Net,
    rec: &Recorder,
    url: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
    accepted: Option<&AcceptedAt>,
) -> (Check, Option<EwsAnswer>) {
    let run = rec.start(KbStep::Permissions, "ews", format!("EWS at {url}"), None);
    let mut auth_run = rec.start(
        KbStep::Permissions,
        "ews.auth",
        format!("Authentication IIS offers on {url}"),
        Some("ews"),
    );
    let logon_run = rec.start(
        KbStep::Permissions,
        "ews.logon",
        format!("Log on to EWS as {}", creds.user),
        Some("ews"),
    );
    let permission_run = mailbox.map(|m| {
        rec.start(
            KbStep::Permissions,
            "ews.permission",
            format!("Open the Inbox of {m} as {} (Full Access)", creds.user),
            Some("ews"),
        )
    });
    let t = Instant::now();
    let exchanged = ews::get_folder(net, url, creds, mailbox).await;
    rec.phase(&mut auth_run, Phase::Http, t);
    let mut children = Vec::new();
    let exchange = match exchanged {
        Err(e) => {
            let problem = Outcome::problem(EwsProblem::Unreachable {
                url: url.to_string(),
                error: e.to_string(),
            });
            children.push(rec.finish(auth_run, problem, vec![]));
            children.push(rec.finish(logon_run, Outcome::skip("Not tried: EWS cannot be reached."), vec![]));
            if let Some(r) = permission_run {
                children.push(rec.finish(r, Outcome::skip("Not tried: EWS cannot be reached."), vec![]));
            }
            return (
                rec.finish_parent(run, children, format!("EWS at {url} cannot be reached.")),
                None,
            );
        }
        Ok(x) => x,
    };
    let Exchange {
        anonymous,
        authenticated: first,
    } = exchange;
    let retry = match &first {
        Some((attempt, _)) if logon::may_retry_without_binding(attempt, VirtualDirectory::Ews, accepted) => {
            Some(ews::get_folder(net, url, &creds.without_binding(), mailbox).await)
        }
        _ => None,
    };
    let (retry, retry_error) = match retry {
        Some(Ok(x)) => (x.authenticated, None),
        Some(Err(e)) => (None, Some(e.to_string())),
        None => (None, None),
    };
    let logons = Logons {
        first,
        retry,
        retry_error,
    };
    children.push(rec.finish(auth_run, auth_outcome(url, &anonymous), vec![]));
    children.push(rec.finish(logon_run, logon_outcome(url, creds, &logons, accepted), vec![]));
    if let (Some(r), Some(m)) = (permission_run, mailbox) {
        children.push(rec.finish(r, permission_outcome(m, creds, &logons), vec![]));
    }
    let summary = match super::worst(&children) {
        Some(Status::Fail) => format!("EWS at {url} does not work for the migration account."),
        _ => format!("EWS at {url} works for the migration account."),
    };
    let said = logons.effective().map(|(_, said)| said.clone());
    (rec.finish_parent(run, children, summary), said)
}

fn head_evidence(label: &str, answer: &HttpAnswer) -> Evidence {
    head_facts(Evidence::default(), label, answer)
}

fn head_facts(evidence: Evidence, label: &str, answer: &HttpAnswer) -> Evidence {
    let mut e = evidence.fact(label, answer.status_line());
    for name in [
        "www-authenticate",
        "x-owa-version",
        "server",
        "x-feserver",
        "x-beserver",
    ] {
        for v in answer.header_values(name) {
            e = e.fact(&format!("{label}: {name}"), v.to_string());
        }
    }
    e
}

fn auth_outcome(url: &str, anonymous: &HttpAnswer) -> Outcome {
    let schemes: Vec<String> = anonymous
        .header_values("www-authenticate")
        .iter()
        .filter_map(|v| v.split_whitespace().next().map(str::to_string))
        .collect();
    let outcome = match anonymous.status {
        401 if schemes
            .iter()
            .any(|s| s.eq_ignore_ascii_case("basic") || s.eq_ignore_ascii_case("ntlm")) =>
        {
            Outcome::pass(format!("EWS asks for credentials and offers {}.", schemes.join(", ")))
        }
        401 => Outcome::problem(EwsProblem::NoUsableScheme {
            url: url.to_string(),
            schemes,
        }),
        404 => Outcome::problem(EwsProblem::NotFound { url: url.to_string() }),
        _ => Outcome::problem(EwsProblem::Anonymous {
            url: url.to_string(),
            status_line: anonymous.status_line(),
        }),
    };
    outcome.with_evidence(head_evidence("Anonymous answer", anonymous))
}

fn logon_outcome(url: &str, creds: &Credentials<'_>, logons: &Logons, accepted: Option<&AcceptedAt>) -> Outcome {
    let Some((first, first_said)) = &logons.first else {
        return Outcome::skip("Not tried: EWS did not ask for credentials migcheck can answer (above).");
    };
    let scheme = first.scheme;
    let label = format!("With credentials ({scheme})");
    let mut evidence = logon::binding_fact(head_evidence(&label, &first.answer), &label, first.binding.as_ref());
    if let Some((retry, _)) = &logons.retry {
        let label = format!("Once more without the channel binding ({})", retry.scheme);
        evidence = logon::binding_fact(
            head_facts(evidence, &label, &retry.answer),
            &label,
            retry.binding.as_ref(),
        );
    }
    if let Some(error) = &logons.retry_error {
        evidence = evidence.fact("Once more without the channel binding", error.clone());
    }
    let (answer, said) = logons
        .effective()
        .map_or((&first.answer, first_said), |(a, s)| (&a.answer, s));
    if let Some(v) = &said.version_text {
        evidence = evidence.fact("ServerVersionInfo", v.clone());
    }
    let endpoint = Endpoint::at(url, VirtualDirectory::Ews);
    let judged = || {
        logon::judge(
            &endpoint,
            creds,
            scheme,
            first.binding.as_ref(),
            logons.retry_accepted(),
            accepted,
        )
    };
    let outcome = match (first.answer.status, answer.status, &said.version) {
        (401, _, _) => match judged() {
            Ok(refused) => Outcome::problem(EwsProblem::ChannelBindingRefused(refused)),
            Err(logon) => Outcome::problem(EwsProblem::CredentialsRefused {
                url: url.to_string(),
                user: creds.user.to_string(),
                logon,
            }),
        },
        (_, _, Some(build)) => Outcome::pass(format!(
            "{} logs on to EWS ({scheme}); the server is {}.",
            creds.user,
            build.describe()
        )),
        (_, status, None) => Outcome::problem(EwsProblem::NotEws {
            url: url.to_string(),
            status,
            fault: said.fault.clone(),
        }),
    };
    outcome.with_evidence(evidence)
}

/// GetFolder's answer for the target mailbox, as a finding in KB terms.
fn permission_outcome(mailbox: &str, creds: &Credentials<'_>, logons: &Logons) -> Outcome {
    let Some((attempt, said)) = logons.effective() else {
        return Outcome::skip("Not tried: the logon did not succeed (above).");
    };
    if attempt.answer.status == 401 {
        return Outcome::skip("Not tried: the logon was rejected (above).");
    }
    let evidence = answer_evidence(said);
    let user = creds.user.to_string();
    let mailbox = mailbox.to_string();
    let code = said.response_code.as_deref().unwrap_or("");
    let outcome = match (said.response_class.as_deref(), code) {
        (Some("Success"), _) => Outcome::pass(format!("{user} opens the Inbox of {mailbox}: Full Access works.")),
        (_, "ErrorAccessDenied") => Outcome::problem(EwsProblem::AccessDenied { user, mailbox }),
        (_, "ErrorImpersonateUserDenied") => Outcome::problem(EwsProblem::ImpersonateDenied { user, mailbox }),
        (_, "ErrorNonExistentMailbox") => Outcome::problem(EwsProblem::NoSuchMailbox { mailbox }),
        (_, "ErrorMailboxMoveInProgress") => Outcome::problem(EwsProblem::MoveInProgress { mailbox }),
        (_, "ErrorMailboxStoreUnavailable") => Outcome::problem(EwsProblem::StoreUnavailable { mailbox }),
        (class, code) => Outcome::problem(EwsProblem::MailboxRefused {
            user,
            mailbox,
            answer: if code.is_empty() {
                class.unwrap_or("nothing readable").to_string()
            } else {
                code.to_string()
            },
            message: said.message.clone(),
        }),
    };
    outcome.with_evidence(evidence)
}

fn answer_evidence(said: &EwsAnswer) -> Evidence {
    let mut e = Evidence::default();
    for (label, value) in [
        ("ResponseClass", &said.response_class),
        ("ResponseCode", &said.response_code),
        ("MessageText", &said.message),
        ("SOAP fault", &said.fault),
    ] {
        if let Some(v) = value {
            e = e.fact(label, v.clone());
        }
    }
    e
}

/// EWS not tried (`why`), and the version check from what OWA shows without credentials.
pub(crate) async fn version_without_logon(net: &Net, rec: &Recorder, url: &str, why: &str) -> Vec<Check> {
    let run = rec.start(KbStep::Permissions, "ews", format!("EWS at {url}"), None);
    let ews = rec.finish(run, Outcome::skip(why), vec![]);
    let owa = owa_of(net, url).await;
    let sources = super::version::sources(None, None, &owa);
    vec![ews, super::version::check(rec, &sources, &owa)]
}

/// OWA on the host of `url`, as a version witness.
async fn owa_of(net: &Net, url: &str) -> crate::probe::owa::OwaProbe {
    match crate::probe::auth::https_target(url) {
        Ok((host, port, _)) => crate::probe::owa::probe(net, &host, port).await,
        Err(_) => crate::probe::owa::OwaProbe::default(),
    }
}

/// EWS (with the mailbox check), OWA as a version witness (at the same time), then the version check.
pub(crate) async fn with_version(
    net: &Net,
    rec: &Recorder,
    url: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
    autodiscover_version: Option<crate::probe::version::ExchangeBuild>,
    accepted: Option<&AcceptedAt>,
) -> Vec<Check> {
    let owa = owa_of(net, url);
    let ((ews_check, said), owa) = tokio::join!(checks(net, rec, url, creds, mailbox, accepted), owa);
    let sources = super::version::sources(autodiscover_version, said.as_ref(), &owa);
    vec![ews_check, super::version::check(rec, &sources, &owa)]
}

#[cfg(test)]
mod tests {
    use migcheck_shared::kb::{BindingEvidence, Problem};
    use migcheck_shared::{Cause, Password};

    use super::*;
    use crate::net::ntlm::EndPointHash;
    use crate::probe::auth::ChannelBinding;

    const URL: &str = "https://mail.contoso.com/EWS/Exchange.asmx";

    fn attempt(status: u16, binding: ChannelBinding) -> (Attempt, EwsAnswer) {
        let answer = HttpAnswer {
            status,
            reason: if status == 401 { "Unauthorized" } else { "OK" }.into(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let said = EwsAnswer {
            version: (status == 200).then(|| crate::probe::version::ExchangeBuild::new(15, 2, 2562)),
            response_class: (status == 200).then(|| "Success".to_string()),
            ..EwsAnswer::default()
        };
        let attempt = Attempt {
            scheme: "NTLM",
            binding: Some(binding),
            answer,
        };
        (attempt, said)
    }

    fn bound() -> ChannelBinding {
        ChannelBinding::Sent {
            hash: EndPointHash::Sha256,
            thumbprint: "0A1B2C".into(),
        }
    }

    /// Autodiscover (or the echo) took the credentials; EWS refused the bound logon and took the one
    /// without the binding: Extended Protection behind a device, a warning, and the mailbox is opened.
    #[test]
    fn a_retry_accepted_after_proof_is_extended_protection_and_its_logon_counts() {
        let password = Password::new("x");
        let creds = Credentials::new("CONTOSO\\migadmin", &password);
        let proof =
            AcceptedAt("Autodiscover at https://autodiscover.contoso.com/autodiscover/autodiscover.xml (Basic)".into());
        let logons = Logons {
            first: Some(attempt(401, bound())),
            retry: Some(attempt(200, ChannelBinding::Omitted)),
            retry_error: None,
        };
        let outcome = logon_outcome(URL, &creds, &logons, Some(&proof));
        assert_eq!(outcome.status, Status::Warn, "{}", outcome.summary);
        let Some(Problem::Ews(EwsProblem::ChannelBindingRefused(refused))) = &outcome.problem else {
            panic!("{:?}", outcome.problem);
        };
        assert_eq!(refused.shown_by, BindingEvidence::AcceptedWithout);
        assert_eq!(
            (refused.host.as_str(), refused.thumbprint.as_str()),
            ("mail.contoso.com", "0A1B2C")
        );
        let labels: Vec<&str> = outcome.evidence.facts.iter().map(|f| f.label.as_str()).collect();
        for label in [
            "With credentials (NTLM)",
            "With credentials (NTLM): channel binding",
            "Once more without the channel binding (NTLM)",
            "Once more without the channel binding (NTLM): channel binding",
        ] {
            assert!(labels.contains(&label), "{label}: {labels:?}");
        }
        assert_eq!(
            permission_outcome("adele@contoso.com", &creds, &logons).status,
            Status::Pass
        );

        // The retry refused too: the proof still points at Extended Protection (EWS set to Require).
        let both_refused = Logons {
            first: Some(attempt(401, bound())),
            retry: Some(attempt(401, ChannelBinding::Omitted)),
            retry_error: None,
        };
        let outcome = logon_outcome(URL, &creds, &both_refused, Some(&proof));
        assert_eq!(outcome.status, Status::Fail);
        assert_eq!(outcome.problem.map(|p| p.cause()), Some(Cause::ExternalAccess));
        assert!(
            outcome
                .summary
                .contains("yet Autodiscover at https://autodiscover.contoso.com"),
            "{}",
            outcome.summary
        );
        assert_eq!(
            permission_outcome("adele@contoso.com", &creds, &both_refused).status,
            Status::Skip
        );
    }
}
