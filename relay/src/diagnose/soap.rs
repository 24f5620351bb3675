//! The check `autodiscover.soap`: SOAP Autodiscover (GetUserSettings), which the hybrid side uses, asked
//! for one mailbox on one host: where POX Autodiscover answered (the Autodiscover mode), or the remote
//! server after its MRS Proxy logon (the remote-move mode).
//!
//! Lockout: the password goes to autodiscover.svc only when this diagnosis has already seen the
//! credentials accepted ([`AcceptedAt`]: the POX logon, or the MRS Proxy logon) and only after the
//! anonymous POST asked for it; the one logon is shown in the evidence as the other logons are.

use std::time::Instant;

use migcheck_shared::kb::{Problem, SoapProblem};
use migcheck_shared::{Check, Evidence, KbStep, Phase, Status};

use super::logon::{self, AcceptedAt};
use super::{Outcome, Recorder};
use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::Credentials;
use crate::probe::autodiscover::soap::{self, SoapAnswer, SoapProbe, UserResponse};
use crate::probe::front::{self, Answerer};
use crate::probe::version::ExchangeBuild;

pub(super) const ID: &str = "autodiscover.soap";
const TITLE: &str = "SOAP Autodiscover (GetUserSettings)";

/// Which mode asks, for what the outcome weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    /// Beside POX and V2: every failure while POX works is a warning.
    Autodiscover,
    /// After the MRS Proxy logon: only what matters to a hybrid move (no ExternalEwsUrl, a refused
    /// logon) is a finding; the rest is told as information (the `preauth` checks cover a device).
    RemoteMove,
}

/// One GetUserSettings to ask.
pub(super) struct SoapAsk<'a> {
    pub host: &'a str,
    pub port: u16,
    pub mailbox: &'a str,
    /// The EWS URL POX Autodiscover gave, to compare with ExternalEwsUrl.
    pub pox_ews: Option<&'a str>,
    /// The version POX Autodiscover named (Exchange 2007 has no SOAP Autodiscover).
    pub version: Option<ExchangeBuild>,
    /// Where the credentials were accepted in this diagnosis (None: they are not sent).
    pub accepted: Option<&'a AcceptedAt>,
    pub purpose: Purpose,
}

impl SoapAsk<'_> {
    fn url(&self) -> String {
        format!(
            "https://{}{}",
            crate::net::http::authority(self.host, self.port),
            soap::PATH
        )
    }
}

/// Asks and judges.
pub(super) async fn check(net: &Net, rec: &Recorder, ask: &SoapAsk<'_>, creds: &Credentials<'_>) -> Check {
    let mut run = rec.start(KbStep::Autodiscover, ID, TITLE, None);
    let url = ask.url();
    if let Some(v) = ask.version.filter(|v| v.major < 14) {
        let outcome = Outcome::skip(format!(
            "Not asked: {} ({v}) has no SOAP Autodiscover; it came with Exchange 2010, which a hybrid deployment needs anyway.",
            v.product()
        ));
        return rec.finish(run, outcome.fact("URL", url), vec![]);
    }
    let t = Instant::now();
    let probed = soap::get_user_settings(net, (ask.host, ask.port), ask.mailbox, creds, ask.accepted.is_some()).await;
    rec.phase(&mut run, Phase::Http, t);
    let outcome = match probed {
        Err(e) => Outcome::new(Status::Info, format!("POST {url}: {e}.")).fact("URL", url.clone()),
        Ok(probe) => judge(ask, &url, &probe),
    };
    rec.finish(run, outcome, vec![])
}

/// The outcome of what came back, with its evidence.
fn judge(ask: &SoapAsk<'_>, url: &str, probe: &SoapProbe) -> Outcome {
    let mut evidence = Evidence::default()
        .fact("URL", url)
        .fact("Asked for", format!("{} ({})", ask.mailbox, soap::SETTINGS.join(", ")))
        .fact("Anonymous answer", probe.anonymous.status_line());
    let answer = probe.answer();
    let outcome = match &probe.logon {
        None if probe.anonymous.status == 401 => {
            evidence = evidence.fact(
                "Logon",
                "none: the credentials were not accepted anywhere before in this diagnosis, so migcheck does not risk a refused logon here",
            );
            Outcome::new(
                Status::Info,
                format!(
                    "{url} asks for a logon; not signed in: no earlier logon proved the credentials, and each refused one counts toward the lockout."
                ),
            )
        }
        Some(Err(e)) => {
            evidence = evidence.fact("Logon", format!("not made: {e}"));
            Outcome::new(
                Status::Info,
                format!("{url} asks for a logon migcheck cannot make: {e}."),
            )
        }
        Some(Ok(attempt)) => {
            evidence = evidence.fact(
                "Logon",
                format!(
                    "POST {url}: {}, {} ({})",
                    attempt.scheme,
                    if attempt.answer.status == 401 {
                        "refused"
                    } else {
                        "accepted"
                    },
                    attempt.answer.status_line()
                ),
            );
            evidence = logon::binding_fact(evidence, "Logon", attempt.binding.as_ref());
            match (attempt.answer.status, ask.accepted) {
                (401, Some(AcceptedAt(at))) => weigh(
                    ask,
                    SoapProblem::LogonRefused {
                        url: url.to_string(),
                        scheme: attempt.scheme.to_string(),
                        accepted_at: at.clone(),
                    },
                ),
                _ => read(ask, url, answer, &mut evidence),
            }
        }
        None => read(ask, url, answer, &mut evidence),
    };
    outcome.with_evidence(evidence)
}

/// What the (last) answer says.
fn read(ask: &SoapAsk<'_>, url: &str, answer: &HttpAnswer, evidence: &mut Evidence) -> Outcome {
    let who = front::who_answered(answer);
    let status = answer.status_line();
    *evidence = std::mem::take(evidence).fact("Answer", status.clone());
    if let Answerer::Device(_) = who {
        *evidence = std::mem::take(evidence).fact(
            "Answered by",
            format!("something in front of Exchange ({})", who.signs()),
        );
        return weigh(
            ask,
            SoapProblem::DeviceAnswered {
                url: url.to_string(),
                seen: who.signs(),
            },
        );
    }
    let parsed = soap::parse(&answer.body);
    let parsed = match (answer.status, parsed) {
        (200, Ok(a)) => a,
        (_, Err(e)) => {
            let said = if answer.status == 200 {
                format!("{status}, {e}")
            } else {
                status
            };
            return weigh(
                ask,
                SoapProblem::NotPublished {
                    url: url.to_string(),
                    said,
                },
            );
        }
        // A GetUserSettings answer with another status than 200: read it as it is.
        (_, Ok(a)) => a,
    };
    settings_outcome(ask, url, &parsed, evidence)
}

fn settings_outcome(ask: &SoapAsk<'_>, url: &str, answer: &SoapAnswer, evidence: &mut Evidence) -> Outcome {
    let mut e = std::mem::take(evidence).fact("ErrorCode", answer.error_code.clone().unwrap_or_else(|| "none".into()));
    if let Some(m) = &answer.error_message {
        e = e.fact("ErrorMessage", m.clone());
    }
    let code = answer.error_code.as_deref().unwrap_or("NoError");
    let Some(user) = answer.user.as_ref().filter(|_| code == "NoError") else {
        *evidence = e;
        return weigh(
            ask,
            SoapProblem::ErrorCode {
                url: url.to_string(),
                code: code.to_string(),
                message: answer
                    .error_message
                    .clone()
                    .unwrap_or_else(|| "no UserResponse in the answer".into()),
            },
        );
    };
    e = user_facts(e, user);
    let user_code = user.error_code.as_deref().unwrap_or("NoError");
    let message = user.error_message.clone().unwrap_or_default();
    let outcome = match user_code {
        "NoError" => no_error(ask, url, user, &mut e),
        "InvalidUser" => weigh(
            ask,
            SoapProblem::InvalidUser {
                url: url.to_string(),
                mailbox: ask.mailbox.to_string(),
                message,
            },
        ),
        "RedirectAddress" | "RedirectUrl" => Outcome::new(
            Status::Info,
            format!(
                "SOAP Autodiscover at {url} sends {} on to {} ({user_code}); migcheck does not follow it.",
                ask.mailbox,
                user.redirect_target.as_deref().unwrap_or("nowhere named")
            ),
        ),
        other => weigh(
            ask,
            SoapProblem::ErrorCode {
                url: url.to_string(),
                code: other.to_string(),
                message,
            },
        ),
    };
    *evidence = e;
    outcome
}

/// The user's settings as facts: each setting, each setting error.
fn user_facts(mut e: Evidence, user: &UserResponse) -> Evidence {
    if let Some(c) = &user.error_code {
        e = e.fact("User ErrorCode", c.clone());
    }
    if let Some(m) = &user.error_message {
        e = e.fact("User ErrorMessage", m.clone());
    }
    // The server names its settings: prefixed, so none can pass for one of migcheck's own facts ("Logon").
    for (name, value) in &user.settings {
        e = e.fact(&format!("Setting {name}"), value.clone());
    }
    for err in &user.setting_errors {
        e = e.fact(
            &format!("Setting {} (not given)", err.name),
            format!("{}: {}", err.code, err.message),
        );
    }
    e
}

/// A NoError answer: the settings the hybrid side needs.
fn no_error(ask: &SoapAsk<'_>, url: &str, user: &UserResponse, e: &mut Evidence) -> Outcome {
    let Some(external) = user.setting("ExternalEwsUrl") else {
        return weigh(
            ask,
            SoapProblem::NoExternalEwsUrl {
                url: url.to_string(),
                mailbox: ask.mailbox.to_string(),
                internal: user.setting("InternalEwsUrl").map(str::to_string),
                code: user.setting_error("ExternalEwsUrl").map(|e| e.code.clone()),
            },
        );
    };
    let cas = user
        .setting("CasVersion")
        .map(|v| format!(", CasVersion {v}"))
        .unwrap_or_default();
    let (same, differs) = match ask.pox_ews {
        Some(pox) if pox.eq_ignore_ascii_case(external) => {
            *e = std::mem::take(e).fact("Agrees with POX", format!("yes: POX names the same EWS URL {pox}"));
            (" (the EWS URL POX Autodiscover names too)".to_string(), String::new())
        }
        Some(pox) => {
            *e = std::mem::take(e).fact("Agrees with POX", format!("no: POX names {pox}"));
            (String::new(), format!("; POX Autodiscover names {pox} instead"))
        }
        None => (String::new(), String::new()),
    };
    Outcome::pass(format!(
        "SOAP Autodiscover at {url} gives the settings of {}: ExternalEwsUrl {external}{same}{cas}{differs}.",
        ask.mailbox
    ))
}

/// A problem as the purpose weighs it: a finding, or (in a remote move, where it does not stop the
/// move) the KB's words as information.
fn weigh(ask: &SoapAsk<'_>, problem: SoapProblem) -> Outcome {
    let matters = match ask.purpose {
        Purpose::Autodiscover => true,
        Purpose::RemoteMove => matches!(
            problem,
            SoapProblem::NoExternalEwsUrl { .. } | SoapProblem::LogonRefused { .. }
        ),
    };
    if matters {
        Outcome::problem(problem)
    } else {
        Outcome::new(Status::Info, Problem::from(problem).summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.svc";

    fn ask(purpose: Purpose, pox_ews: Option<&'static str>) -> SoapAsk<'static> {
        SoapAsk {
            host: "autodiscover.contoso.com",
            port: 443,
            mailbox: "adele@contoso.com",
            pox_ews,
            version: None,
            accepted: None,
            purpose,
        }
    }

    fn answered(status: u16, headers: &[(&str, &str)], body: &str) -> SoapProbe {
        SoapProbe {
            anonymous: HttpAnswer {
                status,
                reason: http_reason(status).into(),
                headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                body: body.as_bytes().to_vec(),
            },
            logon: None,
        }
    }

    fn http_reason(status: u16) -> &'static str {
        match status {
            200 => "OK",
            302 => "Found",
            401 => "Unauthorized",
            _ => "Not Found",
        }
    }

    const EXCHANGE: [(&str, &str); 1] = [("X-FEServer", "EX01")];

    #[test]
    fn exchange_onlines_captured_answer_passes_and_says_when_pox_disagrees() {
        let body = include_str!("../probe/autodiscover/soap/fixtures/ews-javascript-api-exchange-online.xml");
        let outcome = judge(
            &ask(
                Purpose::Autodiscover,
                Some("https://mail.contoso.com/EWS/Exchange.asmx"),
            ),
            URL,
            &answered(200, &EXCHANGE, body),
        );
        assert_eq!(outcome.status, Status::Pass);
        assert_eq!(
            outcome.summary,
            format!(
                "SOAP Autodiscover at {URL} gives the settings of adele@contoso.com: ExternalEwsUrl https://outlook.office365.com/EWS/Exchange.asmx, CasVersion 15.01.0049.012; POX Autodiscover names https://mail.contoso.com/EWS/Exchange.asmx instead."
            )
        );
        let fact = |label: &str| {
            outcome
                .evidence
                .facts
                .iter()
                .find(|f| f.label == label)
                .map(|f| f.value.clone())
        };
        assert_eq!(
            fact("Setting ActiveDirectoryServer (not given)").as_deref(),
            Some("SettingIsNotAvailable: User setting 'ActiveDirectoryServer' is not available.")
        );
    }

    #[test]
    fn no_external_ews_url_an_error_code_a_404_and_a_device_are_warnings_beside_pox() {
        let docs = include_str!("../probe/autodiscover/soap/fixtures/ms-docs-2018-exchange2010.xml");
        let invalid = include_str!("../probe/autodiscover/soap/fixtures/exchangelib-invalid-setting.xml");
        let a = ask(Purpose::Autodiscover, None);
        let cases = [
            (
                answered(200, &EXCHANGE, docs),
                // Microsoft's example answer does not list ExternalEwsUrl at all.
                "gives no ExternalEwsUrl for adele@contoso.com (not in the answer): the server did not give it",
            ),
            (
                answered(200, &EXCHANGE, invalid),
                "answered ErrorCode InvalidSetting (\"An error message\"): a requested setting is not valid.",
            ),
            (
                answered(404, &EXCHANGE, "404 - File or directory not found."),
                "does not answer GetUserSettings (404 Not Found)",
            ),
            (
                answered(
                    302,
                    &[
                        ("Location", "https://autodiscover.contoso.com/login/"),
                        ("Server", "nginx"),
                    ],
                    "",
                ),
                "Something in front of Exchange answered SOAP Autodiscover",
            ),
        ];
        for (probe, words) in cases {
            let outcome = judge(&a, URL, &probe);
            assert_eq!(outcome.status, Status::Warn, "{}", outcome.summary);
            assert!(outcome.summary.contains(words), "{}", outcome.summary);
            assert!(outcome.problem.is_some());
        }
        // In a remote move only what matters to the move is a finding: a 404 is told.
        let outcome = judge(&ask(Purpose::RemoteMove, None), URL, &answered(404, &EXCHANGE, ""));
        assert_eq!((outcome.status, outcome.problem.is_none()), (Status::Info, true));
        let outcome = judge(&ask(Purpose::RemoteMove, None), URL, &answered(200, &EXCHANGE, docs));
        assert_eq!(outcome.status, Status::Warn);
    }

    #[test]
    fn a_401_without_proven_credentials_gets_no_logon() {
        let probe = answered(401, &[("WWW-Authenticate", "NTLM")], "");
        let outcome = judge(&ask(Purpose::Autodiscover, None), URL, &probe);
        assert_eq!(outcome.status, Status::Info);
        assert!(outcome.summary.contains("not signed in"), "{}", outcome.summary);
        assert!(
            outcome
                .evidence
                .facts
                .iter()
                .any(|f| f.label == "Logon" && f.value.starts_with("none:"))
        );
    }
}
