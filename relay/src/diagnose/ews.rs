//! KB step 4 and the EWS side of a remote move: EWS answers, the migration account logs on, and it
//! opens the target mailbox's Inbox (Full Access). The ServerVersionInfo it gets feeds the version check.

use std::time::Instant;

use migcheck_shared::{Cause, Check, Evidence, Phase, Status};

use super::Recorder;
use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::Outcome;
use crate::probe::autodiscover::client::Credentials;
use crate::probe::ews::{self, EwsAnswer, Exchange};

const KB_PERMISSIONS: Option<u8> = Some(4);

const FIX_EWS: &str = r#"# Publish EWS externally with an authentication the migration service can use
Get-WebServicesVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication
Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl https://<host>/EWS/Exchange.asmx -BasicAuthentication $true"#;

const FIX_FULL_ACCESS: &str = r#"# Give the migration account Full Access to the mailbox (or Receive As on every database)
Add-MailboxPermission -Identity MAILBOX -User USER -AccessRights FullAccess -InheritanceType All -AutoMapping $false
Get-MailboxDatabase | Add-ADPermission -User USER -ExtendedRights Receive-As
# Members of Domain Admins or Enterprise Admins are explicitly denied mailbox access on premises: use an
# account outside those groups, and check for Deny entries:
Get-MailboxPermission -Identity MAILBOX | Where-Object { $_.Deny -eq $true }"#;

/// The EWS group of checks. `mailbox`: the mailbox the account must open (None: not checked).
pub(crate) async fn checks(
    net: &Net,
    rec: &Recorder,
    url: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
) -> (Check, Option<(Exchange, String)>) {
    let run = rec.start_step(KB_PERMISSIONS, "ews", format!("EWS at {url}"), None);
    let mut auth_run = rec.start_step(
        KB_PERMISSIONS,
        "ews.auth",
        format!("Authentication IIS offers on {url}"),
        Some("ews"),
    );
    let logon_run = rec.start_step(
        KB_PERMISSIONS,
        "ews.logon",
        format!("Log on to EWS as {}", creds.user),
        Some("ews"),
    );
    let permission_run = mailbox.map(|m| {
        rec.start_step(
            KB_PERMISSIONS,
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
            let problem = Outcome::problem(
                Status::Fail,
                Cause::ExternalAccess,
                format!("EWS at {url} cannot be reached: {e}."),
                FIX_EWS,
            );
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
    children.push(rec.finish(auth_run, auth_outcome(url, &exchange.anonymous), vec![]));
    children.push(rec.finish(logon_run, logon_outcome(url, creds, &exchange), vec![]));
    if let (Some(r), Some(m)) = (permission_run, mailbox) {
        children.push(rec.finish(r, permission_outcome(m, creds, &exchange), vec![]));
    }
    let summary = match super::worst(&children) {
        Some(Status::Fail) => format!("EWS at {url} does not work for the migration account."),
        _ => format!("EWS at {url} works for the migration account."),
    };
    (
        rec.finish_parent(run, children, summary),
        Some((exchange, url.to_string())),
    )
}

fn head_evidence(label: &str, answer: &HttpAnswer) -> Evidence {
    let mut e = Evidence::default().fact(label, answer.status_line());
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
        401 => Outcome::problem(
            Status::Fail,
            Cause::ExternalAccess,
            format!(
                "EWS at {url} offers only {}: neither Basic nor NTLM.",
                schemes.join(", ")
            ),
            FIX_EWS,
        ),
        404 => Outcome::problem(
            Status::Fail,
            Cause::ExternalAccess,
            format!(
                "There is no EWS at {url} (404): EWS is not published at this name, or the server is older than Exchange 2007."
            ),
            FIX_EWS,
        ),
        _ => Outcome::problem(
            Status::Fail,
            Cause::ExternalAccess,
            format!(
                "EWS at {url} answers {} without asking for credentials.",
                anonymous.status_line()
            ),
            FIX_EWS,
        ),
    };
    outcome.with_evidence(head_evidence("Anonymous answer", anonymous))
}

fn logon_outcome(url: &str, creds: &Credentials<'_>, exchange: &Exchange) -> Outcome {
    let Some((scheme, answer, said)) = &exchange.authenticated else {
        return Outcome::skip("Not tried: EWS did not ask for credentials migcheck can answer (above).");
    };
    let mut evidence = head_evidence(&format!("With credentials ({scheme})"), answer);
    if let Some(v) = &said.version_text {
        evidence = evidence.fact("ServerVersionInfo", v.clone());
    }
    let outcome = match (answer.status, &said.version) {
        (401, _) => Outcome::problem(
            Status::Fail,
            Cause::Permissions,
            format!("EWS at {url} rejects the credentials of {} ({scheme}).", creds.user),
            crate::probe::rpch::explain::FIX_CREDENTIALS,
        ),
        (_, Some(build)) => Outcome::pass(format!(
            "{} logs on to EWS ({scheme}); the server is {}.",
            creds.user,
            build.describe()
        )),
        (status, None) => Outcome::problem(
            Status::Fail,
            Cause::ExternalAccess,
            format!(
                "EWS at {url} answers {status}{} but not as EWS (no ServerVersionInfo).",
                said.fault.as_deref().map(|f| format!(" ({f})")).unwrap_or_default()
            ),
            FIX_EWS,
        ),
    };
    outcome.with_evidence(evidence)
}

/// GetFolder's answer for the target mailbox, as a finding in KB terms.
fn permission_outcome(mailbox: &str, creds: &Credentials<'_>, exchange: &Exchange) -> Outcome {
    let Some((_, answer, said)) = &exchange.authenticated else {
        return Outcome::skip("Not tried: the logon did not succeed (above).");
    };
    if answer.status == 401 {
        return Outcome::skip("Not tried: the logon was rejected (above).");
    }
    let fix = FIX_FULL_ACCESS.replace("MAILBOX", mailbox).replace("USER", creds.user);
    let evidence = answer_evidence(said);
    let user = creds.user;
    let code = said.response_code.as_deref().unwrap_or("");
    let outcome = match (said.response_class.as_deref(), code) {
        (Some("Success"), _) => Outcome::pass(format!("{user} opens the Inbox of {mailbox}: Full Access works.")),
        (_, "ErrorAccessDenied") => Outcome::problem(
            Status::Fail,
            Cause::Permissions,
            format!(
                "{user} may not open the mailbox {mailbox} (ErrorAccessDenied): the migration account needs Full Access to it or Receive As on its database. Members of Domain Admins and Enterprise Admins are often explicitly denied mailbox access on premises."
            ),
            fix,
        ),
        (_, "ErrorImpersonateUserDenied") => Outcome::problem(
            Status::Fail,
            Cause::Permissions,
            format!(
                "{user} may not act as {mailbox} (ErrorImpersonateUserDenied): give it Full Access to the mailbox (or the ApplicationImpersonation role)."
            ),
            format!("{fix}\nNew-ManagementRoleAssignment -Role ApplicationImpersonation -User {user}"),
        ),
        (_, "ErrorNonExistentMailbox") => Outcome::problem(
            Status::Fail,
            Cause::WrongServerName,
            format!(
                "There is no mailbox {mailbox} behind this server (ErrorNonExistentMailbox): check the address (the primary SMTP address), or whether the mailbox was already moved."
            ),
            format!("Get-Recipient {mailbox} | Format-List RecipientTypeDetails,PrimarySmtpAddress,Database"),
        ),
        (_, "ErrorMailboxMoveInProgress") => Outcome::problem(
            Status::Warn,
            Cause::ExternalAccess,
            format!(
                "The mailbox {mailbox} is being moved right now (ErrorMailboxMoveInProgress): wait for that move or remove it before migrating."
            ),
            format!(
                "Get-MoveRequest {mailbox} | Format-List Status,PercentComplete\n# then: Remove-MoveRequest {mailbox}"
            ),
        ),
        (_, "ErrorMailboxStoreUnavailable") => Outcome::problem(
            Status::Fail,
            Cause::ExternalAccess,
            format!(
                "The database of {mailbox} is not available (ErrorMailboxStoreUnavailable): it is dismounted or its server cannot be reached."
            ),
            format!(
                "Get-Mailbox {mailbox} | Format-List Database\nGet-MailboxDatabase -Status | Format-Table Name,Server,Mounted"
            ),
        ),
        (class, code) => Outcome::problem(
            Status::Fail,
            Cause::Permissions,
            format!(
                "EWS answered {} for the Inbox of {mailbox}{}.",
                if code.is_empty() {
                    class.unwrap_or("nothing readable")
                } else {
                    code
                },
                said.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            ),
            fix,
        ),
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

/// EWS (with the mailbox check), OWA as a version witness (at the same time), then the version check.
pub(crate) async fn with_version(
    net: &Net,
    rec: &Recorder,
    url: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
    autodiscover_version: Option<crate::probe::version::ExchangeBuild>,
) -> Vec<Check> {
    let owa_host = crate::probe::logon::https_target(url).ok();
    let owa = async {
        match &owa_host {
            Some((host, port, _)) => crate::probe::owa::probe(net, host, *port).await,
            None => crate::probe::owa::OwaProbe::default(),
        }
    };
    let ((ews_check, exchange), owa) = tokio::join!(checks(net, rec, url, creds, mailbox), owa);
    let said = exchange
        .as_ref()
        .and_then(|(x, _)| x.authenticated.as_ref().map(|(_, _, s)| s));
    let sources = super::version::sources(autodiscover_version, said, &owa);
    vec![ews_check, super::version::check(rec, &sources, &owa)]
}
