//! KB step 4 and the EWS side of a remote move: EWS answers, the migration account logs on, and it
//! opens the target mailbox's Inbox (Full Access). The ServerVersionInfo it gets feeds the version check.
//! A refused NTLM logon may be tried once more without the channel binding (`logon.rs` says when).
//!
//! Whether EWS missing stops the migration depends on the mode ([`EwsPath`]): a remote move goes through
//! `/EWS/` (MRS Proxy lives there), a cutover or staged migration through Outlook Anywhere only, where
//! EWS is just how migcheck checks the permission.

use std::time::Instant;

use migcheck_shared::kb::{self, EwsProblem};
use migcheck_shared::{Check, Evidence, KbStep, Phase, Problem, Status};

use super::logon::{self, AcceptedAt, Endpoint, VirtualDirectory};
use super::{Outcome, Recorder};
use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::Credentials;
use crate::probe::auth::Attempt;
use crate::probe::ews::{self, EwsAnswer, Exchange, REQUEST_SERVER_VERSION};

/// Whether the migration itself goes through EWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EwsPath {
    /// A remote move: MRS Proxy is `/EWS/mrsproxy.svc`; EWS that cannot be used fails.
    OnPath,
    /// A cutover or staged migration (the Outlook Anywhere and Autodiscover modes): EWS is only how
    /// migcheck checks the mailbox permission, so EWS that cannot be used is a warning saying the
    /// permission was not checked.
    OffPath,
}

/// The error codes about the mailbox, whether in a response message or (rarely) a SOAP fault: the
/// permission check judges them. Any other fault is about the request itself.
const MAILBOX_CODES: [&str; 5] = [
    "ErrorAccessDenied",
    "ErrorImpersonateUserDenied",
    "ErrorNonExistentMailbox",
    "ErrorMailboxMoveInProgress",
    "ErrorMailboxStoreUnavailable",
];

/// A SOAP fault of EWS's own about the request (not the mailbox): its code.
fn request_fault(said: &EwsAnswer) -> Option<&str> {
    said.ews_fault().filter(|code| !MAILBOX_CODES.contains(code))
}

/// The problems that say EWS cannot be used at all (not the logon, not the mailbox).
fn unusable(problem: &EwsProblem) -> bool {
    matches!(
        problem,
        EwsProblem::Unreachable { .. }
            | EwsProblem::NotFound { .. }
            | EwsProblem::Anonymous { .. }
            | EwsProblem::NoUsableScheme { .. }
            | EwsProblem::NotEws { .. }
    )
}

/// What the migration account and the mailbox need to be named in a finding.
struct Subject<'a> {
    path: EwsPath,
    user: &'a str,
    mailbox: Option<&'a str>,
}

impl Subject<'_> {
    /// `outcome` as the mode weighs it: off the migration's path, EWS that cannot be used is the
    /// warning that the permission was not checked (with how to check it by hand), its evidence kept.
    fn weigh(&self, outcome: Outcome) -> Outcome {
        match (self.path, outcome.problem) {
            (EwsPath::OffPath, Some(Problem::Ews(p))) if unusable(&p) => Outcome::problem(EwsProblem::MissingOffPath {
                missing: Box::new(p),
                user: self.user.to_string(),
                mailbox: self.mailbox.map(str::to_string),
            })
            .with_evidence(outcome.evidence),
            (_, problem) => Outcome { problem, ..outcome },
        }
    }
}

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
/// `accepted`: where the credentials were accepted before (allows the one retry without the binding);
/// `path`: whether the migration goes through EWS.
async fn checks(
    net: &Net,
    rec: &Recorder,
    url: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
    accepted: Option<&AcceptedAt>,
    path: EwsPath,
) -> (Check, Option<EwsAnswer>) {
    let subject = Subject {
        path,
        user: creds.user,
        mailbox,
    };
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
        let title = match path {
            EwsPath::OffPath => format!("Open the Inbox of {m} as {} (Full Access)", creds.user),
            // A remote move does not open mailboxes as the account: EWS only shows the mailbox is there.
            EwsPath::OnPath => format!("Find the mailbox {m} as {}", creds.user),
        };
        rec.start(KbStep::Permissions, "ews.permission", title, Some("ews"))
    });
    let t = Instant::now();
    let exchanged = ews::get_folder(net, url, creds, mailbox).await;
    rec.phase(&mut auth_run, Phase::Http, t);
    let mut children = Vec::new();
    let exchange = match exchanged {
        Err(e) => {
            let problem = subject.weigh(Outcome::problem(EwsProblem::Unreachable {
                url: url.to_string(),
                error: e.to_string(),
            }));
            children.push(rec.finish(auth_run, problem, vec![]));
            children.push(rec.finish(logon_run, Outcome::skip("Not tried: EWS cannot be reached."), vec![]));
            if let Some(r) = permission_run {
                children.push(rec.finish(r, Outcome::skip("Not tried: EWS cannot be reached."), vec![]));
            }
            let summary = match path {
                EwsPath::OnPath => format!("EWS at {url} cannot be reached."),
                EwsPath::OffPath => {
                    format!("EWS at {url} cannot be reached; the migration does not go through it.")
                }
            };
            return (rec.finish_parent(run, children, summary), None);
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
    let auth = subject.weigh(auth_outcome(url, &anonymous));
    let logon = match &logons.first {
        None if anonymous.status != 401 => {
            Outcome::skip("Not tried: nothing at this URL asked for credentials (above).")
        }
        _ => subject.weigh(logon_outcome(url, creds, &logons, accepted, mailbox)),
    };
    let unchecked = [&auth, &logon]
        .iter()
        .any(|o| matches!(o.problem, Some(Problem::Ews(EwsProblem::MissingOffPath { .. }))));
    children.push(rec.finish(auth_run, auth, vec![]));
    children.push(rec.finish(logon_run, logon, vec![]));
    if let (Some(r), Some(m)) = (permission_run, mailbox) {
        children.push(rec.finish(r, permission_outcome(m, creds, &logons, path), vec![]));
    }
    let summary = match super::worst(&children) {
        Some(Status::Fail) => format!("EWS at {url} does not work for the migration account."),
        _ if unchecked => format!(
            "EWS at {url} cannot be used; the migration does not go through it, but the mailbox permission was not checked."
        ),
        Some(Status::Warn) => format!("EWS at {url} works for the migration account, with warnings."),
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

fn logon_outcome(
    url: &str,
    creds: &Credentials<'_>,
    logons: &Logons,
    accepted: Option<&AcceptedAt>,
    mailbox: Option<&str>,
) -> Outcome {
    let Some((first, first_said)) = &logons.first else {
        return Outcome::skip("Not tried: EWS did not ask for credentials migcheck can answer (above).");
    };
    let scheme = first.scheme;
    let label = format!("With credentials ({scheme})");
    let mut evidence = Evidence::default().fact("RequestServerVersion", REQUEST_SERVER_VERSION);
    evidence = logon::binding_fact(
        head_facts(evidence, &label, &first.answer),
        &label,
        first.binding.as_ref(),
    );
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
    if let Some(code) = said.ews_fault() {
        evidence = evidence.fact("SOAP fault (EWS's, no SOAP header)", code.to_string());
        if let Some(text) = &said.fault {
            evidence = evidence.fact("faultstring", text.clone());
        }
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
        // A fault without a header is EWS speaking: the logon went through, the request did not.
        (_, _, None) if request_fault(said).is_some() => Outcome::problem(EwsProblem::RequestFault {
            url: url.to_string(),
            user: creds.user.to_string(),
            mailbox: mailbox.map(str::to_string),
            code: request_fault(said).unwrap_or_default().to_string(),
            text: said.fault.clone(),
            requested: REQUEST_SERVER_VERSION.to_string(),
        }),
        (_, _, None) if said.ews_fault().is_some() => Outcome::pass(format!(
            "{} logs on to EWS ({scheme}); EWS answers the mailbox request with a SOAP fault, which carries no ServerVersionInfo.",
            creds.user
        )),
        (_, status, None) => Outcome::problem(EwsProblem::NotEws {
            url: url.to_string(),
            status,
            fault: said.fault.clone(),
        }),
    };
    outcome.with_evidence(evidence)
}

/// GetFolder's answer for the target mailbox, as a finding in KB terms. On a remote move's path a refusal
/// to open the mailbox is no finding: the move needs a role on premises, not Full Access.
fn permission_outcome(mailbox: &str, creds: &Credentials<'_>, logons: &Logons, path: EwsPath) -> Outcome {
    let Some((attempt, said)) = logons.effective() else {
        return Outcome::skip("Not tried: the logon did not succeed (above).");
    };
    if attempt.answer.status == 401 {
        return Outcome::skip("Not tried: the logon was rejected (above).");
    }
    if let Some(code) = request_fault(said) {
        return Outcome::skip(format!("Not answered: EWS refused the request itself ({code}, above)."));
    }
    let evidence = answer_evidence(said).fact("X-AnchorMailbox (sent)", mailbox);
    let user = creds.user.to_string();
    let mailbox = mailbox.to_string();
    let code = said.response_code.as_deref().or(said.ews_fault()).unwrap_or("");
    let outcome = match (said.response_class.as_deref(), code) {
        (Some("Success"), _) if path == EwsPath::OnPath => Outcome::pass(format!(
            "{user} opens the Inbox of {mailbox}: the mailbox is on this Exchange. {}",
            kb::remote_move_role(&user)
        )),
        (Some("Success"), _) => Outcome::pass(format!("{user} opens the Inbox of {mailbox}: Full Access works.")),
        (_, "ErrorAccessDenied" | "ErrorImpersonateUserDenied") if path == EwsPath::OnPath => Outcome::pass(format!(
            "EWS finds the mailbox {mailbox} and does not let {user} open it ({code}), which a remote move does not need. {}",
            kb::remote_move_role(&user)
        )),
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
        ("SOAP fault code", &said.fault_code),
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

/// For a cutover or staged migration (the Outlook Anywhere and Autodiscover modes), where EWS is off the
/// migration's path: EWS (with the mailbox check), OWA as a version witness (at the same time), then the
/// version check.
pub(crate) async fn with_version(
    net: &Net,
    rec: &Recorder,
    url: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
    autodiscover_version: Option<crate::probe::version::ExchangeBuild>,
    accepted: Option<&AcceptedAt>,
) -> Vec<Check> {
    let ews = Ews {
        url,
        creds,
        mailbox,
        accepted,
        path: EwsPath::OffPath,
    };
    checks_and_version(net, rec, ews, autodiscover_version).await
}

/// The same for a remote move, whose MRS Proxy lives under `/EWS/`: EWS that cannot be used fails.
pub(crate) async fn for_remote_move(
    net: &Net,
    rec: &Recorder,
    url: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
) -> Vec<Check> {
    let ews = Ews {
        url,
        creds,
        mailbox,
        accepted: None,
        path: EwsPath::OnPath,
    };
    checks_and_version(net, rec, ews, None).await
}

/// What the EWS checks are asked.
struct Ews<'a> {
    url: &'a str,
    creds: &'a Credentials<'a>,
    mailbox: Option<&'a str>,
    accepted: Option<&'a AcceptedAt>,
    path: EwsPath,
}

async fn checks_and_version(
    net: &Net,
    rec: &Recorder,
    ews: Ews<'_>,
    autodiscover_version: Option<crate::probe::version::ExchangeBuild>,
) -> Vec<Check> {
    let Ews {
        url,
        creds,
        mailbox,
        accepted,
        path,
    } = ews;
    let owa = owa_of(net, url);
    let ((ews_check, said), owa) = tokio::join!(checks(net, rec, url, creds, mailbox, accepted, path), owa);
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
        let outcome = logon_outcome(URL, &creds, &logons, Some(&proof), None);
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
            permission_outcome("adele@contoso.com", &creds, &logons, EwsPath::OffPath).status,
            Status::Pass
        );

        // The retry refused too: the proof still points at Extended Protection (EWS set to Require).
        let both_refused = Logons {
            first: Some(attempt(401, bound())),
            retry: Some(attempt(401, ChannelBinding::Omitted)),
            retry_error: None,
        };
        let outcome = logon_outcome(URL, &creds, &both_refused, Some(&proof), None);
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
            permission_outcome("adele@contoso.com", &creds, &both_refused, EwsPath::OffPath).status,
            Status::Skip
        );
    }

    /// A 500 answer with EWS's fault and no SOAP header, as Exchange refuses a request it cannot take.
    fn faulted(code: &str) -> Logons {
        let answer = HttpAnswer {
            status: 500,
            reason: "Internal Server Error".into(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let said = EwsAnswer {
            fault: Some("The specified server version is invalid.".into()),
            fault_code: Some(code.into()),
            ..EwsAnswer::default()
        };
        let attempt = Attempt {
            scheme: "Basic",
            binding: None,
            answer,
        };
        Logons {
            first: Some((attempt, said)),
            retry: None,
            retry_error: None,
        }
    }

    #[test]
    fn a_fault_without_a_header_is_ews_refusing_the_request_not_a_missing_ews_nor_a_permission() {
        let password = Password::new("x");
        let creds = Credentials::new("CONTOSO\\migadmin", &password);
        let logons = faulted("ErrorInvalidServerVersion");
        let outcome = logon_outcome(URL, &creds, &logons, None, Some("adele@contoso.com"));
        assert_eq!(outcome.status, Status::Warn, "{}", outcome.summary);
        assert!(
            matches!(outcome.problem, Some(Problem::Ews(EwsProblem::RequestFault { .. }))),
            "{:?}",
            outcome.problem
        );
        assert!(
            outcome.summary.contains("RequestServerVersion Exchange2007_SP1"),
            "{}",
            outcome.summary
        );
        let labels: Vec<&str> = outcome.evidence.facts.iter().map(|f| f.label.as_str()).collect();
        assert!(labels.contains(&"RequestServerVersion"), "{labels:?}");
        assert!(labels.contains(&"SOAP fault (EWS's, no SOAP header)"), "{labels:?}");
        let permission = permission_outcome("adele@contoso.com", &creds, &logons, EwsPath::OnPath);
        assert_eq!(permission.status, Status::Skip, "{}", permission.summary);
        assert!(permission.problem.is_none());

        // A fault about the mailbox is judged by the permission check.
        let denied = faulted("ErrorAccessDenied");
        let logon = logon_outcome(URL, &creds, &denied, None, Some("adele@contoso.com"));
        assert_eq!(logon.status, Status::Pass, "{}", logon.summary);
        let permission = permission_outcome("adele@contoso.com", &creds, &denied, EwsPath::OffPath);
        assert!(
            matches!(permission.problem, Some(Problem::Ews(EwsProblem::AccessDenied { .. }))),
            "{:?}",
            permission.problem
        );
        // Issue 19, point 6: on a remote move's path the refusal is no finding; the role is named instead.
        let remote = permission_outcome("adele@contoso.com", &creds, &denied, EwsPath::OnPath);
        assert_eq!((remote.status, remote.problem), (Status::Pass, None));
        assert!(
            remote.summary.contains("(ErrorAccessDenied), which a remote move does not need. A remote move needs CONTOSO\\migadmin in the Organization Management or Recipient Management role group on premises"),
            "{}",
            remote.summary
        );
    }

    #[test]
    fn missing_ews_fails_on_a_remote_move_and_warns_off_its_path() {
        let missing =
            || Outcome::problem(EwsProblem::NotFound { url: URL.into() }).fact("Anonymous answer", "404 Not Found");
        let on = Subject {
            path: EwsPath::OnPath,
            user: "CONTOSO\\migadmin",
            mailbox: Some("adele@contoso.com"),
        };
        let outcome = on.weigh(missing());
        assert_eq!(outcome.status, Status::Fail);
        assert_eq!(outcome.problem.map(|p| p.cause()), Some(Cause::ExternalAccess));

        let off = Subject {
            path: EwsPath::OffPath,
            ..on
        };
        let outcome = off.weigh(missing());
        assert_eq!(outcome.status, Status::Warn, "{}", outcome.summary);
        assert_eq!(outcome.evidence.facts.len(), 1, "the evidence is kept");
        let Some(problem) = outcome.problem else {
            panic!("no problem")
        };
        assert_eq!(problem.cause(), Cause::Permissions);
        assert!(
            problem
                .fix()
                .contains("Get-MailboxPermission -Identity adele@contoso.com"),
            "{}",
            problem.fix()
        );
        // What is not about EWS being there stays as it is, off the path too.
        let denied = off.weigh(Outcome::problem(EwsProblem::AccessDenied {
            user: "u".into(),
            mailbox: "m".into(),
        }));
        assert_eq!(denied.status, Status::Fail);
    }
}
