//! The Autodiscover client sequence ([MS-OXDSCLI]) for one candidate: the POST with the answer's
//! redirects, the anonymous HTTP redirect GET, and the SRV lookup. Each returns the steps it took
//! (for the evidence) and how it ended. Credentials go only where [`Consent`] allows, only over
//! verified TLS, and only when the candidate's [`Turn`] comes.
//!
//! The POST asks as the migration service does (the EWS Managed API: no `X-MapiHttpCapability`, no
//! `X-ClientCanHandle`), so a server with MAPI over HTTP on still answers the EXCH and EXPR blocks the
//! verdict is about ([MS-OXDSCLI] 3.2.5.1 leaves them out of a mapiHttp answer). After that answer,
//! the same request goes once more on the same signed-in connection with `X-MapiHttpCapability: 1`
//! and `X-ClientCanHandle: ExHttpInfo`: what MAPI over HTTP and EXHTTP say, at no new logon.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

use migcheck_shared::Phase;
use url::Url;

use super::gate::Turn;
use super::pox::{self, PoxAnswer, PoxError, Settings};
use super::server_kind::ServerKind;
use crate::net::http::{HttpAnswer, HttpConnection};
use crate::net::{Net, NetError, SrvRecord};
use crate::probe::ProbeError;
use crate::probe::auth::{ChannelBinding, Credentials, authenticate};

/// At most this many redirects (HTTP, redirectUrl) in one candidate's chain.
pub const MAX_REDIRECTS: usize = 10;

/// Headers that tell an Exchange (or what stands in front of it) apart; shown as evidence.
const FINGERPRINT: &[&str] = &[
    "server",
    "x-feserver",
    "x-beserver",
    "x-calculatedbetarget",
    "x-diaginfo",
    "request-id",
    "x-owa-version",
    "x-caserrorcode",
    "ms-diagnostics-public",
    "microsoftsharepointteamservices",
    "sprequestguid",
];

/// What the first request carries: what the EWS Managed API, on which the migration service is built,
/// puts on a POX request (beside its own User-Agent).
const ASK_AS_THE_MIGRATION_SERVICE: [(&str, &str); 2] =
    [("content-type", "text/xml; charset=utf-8"), ("user-agent", "migcheck")];

/// The second request's own headers: MAPI over HTTP's block ([MS-OXDSCLI] 2.2.2.1; Version 1 is the
/// only one) and the EXHTTP blocks (POX reference: "ExHttpInfo", Exchange 15.00.0995.014 and later).
pub const ASK_FOR_MAPI: [(&str, &str); 2] = [("x-mapihttpcapability", "1"), ("x-clientcanhandle", "ExHttpInfo")];

/// Who may receive the password: hosts in the e-mail domain (or below it), or any host when the user
/// agreed.
pub struct Consent {
    pub domain: String,
    pub allow_any: bool,
}

impl Consent {
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allow_any || host == self.domain || host.ends_with(&format!(".{}", self.domain))
    }
}

/// One request of a candidate and what came back.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub method: &'static str,
    pub url: String,
    /// What DNS answered for the host.
    pub resolved: Vec<std::net::IpAddr>,
    pub peer: Option<SocketAddr>,
    pub tls: Option<&'static str>,
    /// `401 Unauthorized`.
    pub status: Option<String>,
    /// The WWW-Authenticate values of an anonymous 401.
    pub offered: Vec<String>,
    /// The scheme that carried the credentials.
    pub auth: Option<&'static str>,
    /// NTLM: how the logon was bound to its connection.
    pub binding: Option<ChannelBinding>,
    pub fingerprint: Vec<(String, String)>,
    /// What happened, in words.
    pub note: String,
    /// The TLS handshake stopped on the certificate (so it is worth judging in detail).
    pub certificate_refused: bool,
    /// How long the password waited for the earlier candidates to end (see `gate.rs`).
    pub logon_wait: Option<std::time::Duration>,
    /// Connection phases and the HTTP exchange: (phase, start, end).
    pub phases: Vec<(Phase, Instant, Instant)>,
}

/// Why a candidate gave no settings.
#[derive(Debug, Clone)]
pub enum Failure {
    /// DNS, TCP, TLS or HTTP did not work.
    Net(NetError),
    /// An HTTP status that is neither settings nor a redirect.
    Status(String),
    /// The credentials were refused (a 401 after sending them); `kind`: what the server's answers
    /// show it to be (a SharePoint site's 401 says nothing about the password).
    CredentialsRefused {
        scheme: &'static str,
        offered: Vec<String>,
        kind: ServerKind,
    },
    /// The 401 offered no scheme migcheck can use.
    NoScheme {
        offered: Vec<String>,
    },
    /// The logon could not go on (an NTLM handshake the server broke off).
    Probe(ProbeError),
    /// A 200 that is not an Autodiscover answer.
    NotAutodiscover(PoxError),
    /// A redirect came back to a URL already visited.
    RedirectLoop(String),
    TooManyRedirects,
    /// A redirect to plain http (credentials would travel in clear).
    InsecureRedirect(String),
    /// No `_autodiscover._tcp` record.
    NoSrv,
}

impl From<ProbeError> for Failure {
    fn from(error: ProbeError) -> Failure {
        match error {
            ProbeError::Net(e) => Failure::Net(e),
            ProbeError::NoScheme { offered } => Failure::NoScheme { offered },
            other => Failure::Probe(other),
        }
    }
}

/// What the second request, with `X-MapiHttpCapability: 1`, gave.
#[derive(Debug, Clone)]
pub enum MapiAsk {
    /// The server's answer to it.
    Answered(Box<Settings>),
    /// Asked; the answer was no settings (what came back).
    Failed(String),
    /// Not asked (why).
    NotAsked(String),
}

/// How a candidate ended.
#[derive(Debug, Clone)]
pub enum Ending {
    Settings {
        url: String,
        /// The answer to the request as the migration service makes it.
        settings: Box<Settings>,
        /// The scheme the server accepted the credentials with (None: it answered without asking).
        signed_in: Option<&'static str>,
        /// The same request again with `X-MapiHttpCapability`.
        mapi: MapiAsk,
    },
    RedirectAddr(String),
    /// An Autodiscover error answer.
    Error {
        url: String,
        code: String,
        message: String,
    },
    Failed(Failure),
    /// Credentials would have gone to `host`, outside the e-mail domain, without consent.
    Stopped {
        host: String,
    },
    /// A 401 asked for the password, and an earlier candidate (its index in the round) had decided
    /// before this one's turn came: the password was not sent.
    Held {
        earlier: usize,
    },
}

/// A candidate's whole run.
#[derive(Debug, Clone)]
pub struct Run {
    pub steps: Vec<Step>,
    pub ending: Ending,
    /// For the SRV candidate: the records found, in the order tried.
    pub srv: Vec<SrvRecord>,
}

/// One logon with the migration account's credentials (a request that carried them and got an answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogonTry {
    pub url: String,
    pub scheme: &'static str,
    /// The answer's status line.
    pub status: String,
    pub accepted: bool,
}

impl Run {
    fn end(steps: Vec<Step>, ending: Ending) -> Self {
        Run {
            steps,
            ending,
            srv: Vec::new(),
        }
    }

    /// Every logon this candidate made, in order (each refused one counts toward the lockout).
    pub fn logons(&self) -> Vec<LogonTry> {
        self.steps
            .iter()
            .filter_map(|s| {
                let scheme = s.auth?;
                let status = s.status.clone().unwrap_or_default();
                Some(LogonTry {
                    url: s.url.clone(),
                    scheme,
                    accepted: !status.starts_with("401"),
                    status,
                })
            })
            .collect()
    }
}

fn fingerprint(answer: &HttpAnswer) -> Vec<(String, String)> {
    FINGERPRINT
        .iter()
        .filter_map(|name| answer.header(name).map(|v| (name.to_string(), v.to_string())))
        .collect()
}

fn path_of(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Whether an answer ends its connection (`Connection: close`).
fn closes(answer: &HttpAnswer) -> bool {
    answer
        .header_values("connection")
        .iter()
        .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
}

/// POSTs the Autodiscover request to `start`, following HTTP redirects and redirectUrl answers. The
/// password goes out only when `turn` comes.
pub async fn post(
    net: &Net,
    start: Url,
    email: &str,
    creds: &Credentials<'_>,
    consent: &Consent,
    turn: &Turn<'_>,
) -> Run {
    let mut steps = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut url = start;
    let body = pox::request_body(email);
    let headers = ASK_AS_THE_MIGRATION_SERVICE;
    loop {
        if !seen.insert(url.as_str().to_ascii_lowercase()) {
            return Run::end(steps, Ending::Failed(Failure::RedirectLoop(url.to_string())));
        }
        if seen.len() > MAX_REDIRECTS + 1 {
            return Run::end(steps, Ending::Failed(Failure::TooManyRedirects));
        }
        if url.scheme() != "https" {
            return Run::end(steps, Ending::Failed(Failure::InsecureRedirect(url.to_string())));
        }
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let mut step = Step {
            method: "POST",
            url: url.to_string(),
            ..Step::default()
        };
        let mut conn = match net.open_http(&host, port, true).await {
            Ok(c) => c,
            Err(e) => {
                step.peer = e.connected_peer();
                step.certificate_refused = matches!(e, NetError::Certificate { .. });
                step.note = e.to_string();
                steps.push(step);
                return Run::end(steps, Ending::Failed(Failure::Net(e)));
            }
        };
        step.peer = Some(conn.peer);
        step.tls = conn.tls_version;
        step.resolved = conn.resolved.clone();
        step.phases = conn.phases.clone();
        let path = path_of(&url);
        let t_http = Instant::now();
        let mut answer = match conn.send(net, "POST", &path, &headers, body.clone().into_bytes()).await {
            Ok(a) => a,
            Err(e) => {
                step.note = e.to_string();
                steps.push(step);
                return Run::end(steps, Ending::Failed(Failure::Net(e)));
            }
        };
        if answer.status == 401 {
            step.offered = answer
                .header_values("www-authenticate")
                .into_iter()
                .map(str::to_string)
                .collect();
            if !consent.allows(&host) {
                step.status = Some(answer.status_line());
                step.note = format!("stopped: would send your password to {host}");
                steps.push(step);
                return Run::end(steps, Ending::Stopped { host });
            }
            let t_wait = Instant::now();
            let turn_came = turn.wait().await;
            step.logon_wait = Some(t_wait.elapsed()).filter(|w| w.as_millis() > 0);
            if let Err(earlier) = turn_came {
                step.status = Some(answer.status_line());
                step.fingerprint = fingerprint(&answer);
                step.note = "the password was not sent: an earlier candidate decided".into();
                steps.push(step);
                return Run::end(steps, Ending::Held { earlier });
            }
            let anonymous = answer;
            match authenticate(net, &mut conn, &path, &headers, &body, creds, &step.offered).await {
                Ok(attempt) => {
                    step.auth = Some(attempt.scheme);
                    step.binding = attempt.binding;
                    answer = attempt.answer;
                }
                Err(error) => {
                    let failure = Failure::from(error);
                    step.status = Some(anonymous.status_line());
                    step.fingerprint = fingerprint(&anonymous);
                    step.note = describe(&failure);
                    steps.push(step);
                    return Run::end(steps, Ending::Failed(failure));
                }
            }
            if answer.status == 401 {
                let scheme = step.auth.unwrap_or("Basic");
                let kind = ServerKind::of(&[&anonymous, &answer]);
                step.status = Some(answer.status_line());
                step.fingerprint = fingerprint(&answer);
                step.note = format!("the server refused the credentials ({scheme}): {}", kind.words());
                let offered = step.offered.clone();
                steps.push(step);
                return Run::end(
                    steps,
                    Ending::Failed(Failure::CredentialsRefused { scheme, offered, kind }),
                );
            }
        }
        step.status = Some(answer.status_line());
        step.fingerprint = fingerprint(&answer);
        step.phases.push((Phase::Http, t_http, Instant::now()));
        match answer.status {
            301 | 302 | 303 | 307 | 308 => {
                let Some(next) = answer.header("location").and_then(|l| url.join(l).ok()) else {
                    step.note = "a redirect without a usable Location".into();
                    steps.push(step);
                    return Run::end(steps, Ending::Failed(Failure::Status(answer.status_line())));
                };
                step.note = format!("redirected to {next}");
                steps.push(step);
                url = next;
            }
            200 => match pox::parse(&answer.body) {
                Ok(PoxAnswer::Settings(settings)) => {
                    step.note =
                        "Autodiscover settings (asked as the migration service asks: no X-MapiHttpCapability)".into();
                    let signed_in = step.auth;
                    steps.push(step);
                    let (mapi, mapi_step) = if closes(&answer) || !conn.is_open() {
                        let why =
                            "the server closed the connection after its answer: asking again would take another logon";
                        (MapiAsk::NotAsked(why.into()), None)
                    } else {
                        let (mapi, step) = ask_mapi(net, &mut conn, &url, &path, &body, signed_in, creds).await;
                        (mapi, Some(step))
                    };
                    steps.extend(mapi_step);
                    return Run::end(
                        steps,
                        Ending::Settings {
                            url: url.to_string(),
                            settings,
                            signed_in,
                            mapi,
                        },
                    );
                }
                Ok(PoxAnswer::RedirectUrl(next)) => match Url::parse(&next) {
                    Ok(next) => {
                        step.note = format!("redirectUrl to {next}");
                        steps.push(step);
                        url = next;
                    }
                    Err(e) => {
                        step.note = format!("redirectUrl '{next}' is not a URL: {e}");
                        steps.push(step);
                        return Run::end(steps, Ending::Failed(Failure::InsecureRedirect(next)));
                    }
                },
                Ok(PoxAnswer::RedirectAddr(address)) => {
                    step.note = format!("redirectAddr to {address}");
                    steps.push(step);
                    return Run::end(steps, Ending::RedirectAddr(address));
                }
                Ok(PoxAnswer::Error { code, message }) => {
                    step.note = format!("Autodiscover error {code}: {message}");
                    steps.push(step);
                    return Run::end(
                        steps,
                        Ending::Error {
                            url: url.to_string(),
                            code,
                            message,
                        },
                    );
                }
                Err(e) => {
                    step.note = e.to_string();
                    steps.push(step);
                    return Run::end(steps, Ending::Failed(Failure::NotAutodiscover(e)));
                }
            },
            _ => {
                step.note = format!("answered {}", answer.status_line());
                steps.push(step);
                return Run::end(steps, Ending::Failed(Failure::Status(answer.status_line())));
            }
        }
    }
}

/// The same request once more on the connection that got the settings, with [`ASK_FOR_MAPI`]: never a
/// new logon (an NTLM connection stays signed in; Basic goes with each request, as the first did).
async fn ask_mapi(
    net: &Net,
    conn: &mut HttpConnection,
    url: &Url,
    path: &str,
    body: &str,
    signed_in: Option<&'static str>,
    creds: &Credentials<'_>,
) -> (MapiAsk, Step) {
    let mut step = Step {
        method: "POST",
        url: url.to_string(),
        peer: Some(conn.peer),
        tls: conn.tls_version,
        ..Step::default()
    };
    let basic = (signed_in == Some("Basic")).then(|| creds.basic());
    let mut headers: Vec<(&str, &str)> = ASK_AS_THE_MIGRATION_SERVICE.to_vec();
    headers.extend(ASK_FOR_MAPI);
    if let Some(b) = &basic {
        headers.push(("authorization", b.as_str()));
    }
    let how = match signed_in {
        Some("Basic") => "the Basic credentials again",
        Some(_) => "no new logon: the connection is signed in",
        None => "anonymous, as the first",
    };
    let lead =
        format!("again with X-MapiHttpCapability: 1 and X-ClientCanHandle: ExHttpInfo, on the same connection ({how})");
    let t = Instant::now();
    let answer = match conn.send(net, "POST", path, &headers, body.as_bytes().to_vec()).await {
        Ok(a) => a,
        Err(e) => {
            step.note = format!("{lead}: {e}");
            return (MapiAsk::Failed(e.to_string()), step);
        }
    };
    step.phases.push((Phase::Http, t, Instant::now()));
    step.status = Some(answer.status_line());
    step.fingerprint = fingerprint(&answer);
    let mapi = match (answer.status, pox::parse(&answer.body)) {
        (401, _) => MapiAsk::Failed(format!(
            "{}: the server wants a logon for this request too; migcheck does not log on again for it",
            answer.status_line()
        )),
        (200, Ok(PoxAnswer::Settings(settings))) => MapiAsk::Answered(settings),
        (200, Ok(PoxAnswer::Error { code, message })) => {
            MapiAsk::Failed(format!("Autodiscover error {code}: {message}"))
        }
        (200, Ok(PoxAnswer::RedirectAddr(a))) => MapiAsk::Failed(format!("redirectAddr to {a}")),
        (200, Ok(PoxAnswer::RedirectUrl(u))) => MapiAsk::Failed(format!("redirectUrl to {u}")),
        (200, Err(e)) => MapiAsk::Failed(e.to_string()),
        _ => MapiAsk::Failed(format!("answered {}", answer.status_line())),
    };
    step.note = match &mapi {
        MapiAsk::Answered(s) if s.mapi_http.is_some() => format!("{lead}: a mapiHttp block"),
        MapiAsk::Answered(_) => format!("{lead}: no mapiHttp block"),
        MapiAsk::Failed(why) | MapiAsk::NotAsked(why) => format!("{lead}: {why}"),
    };
    (mapi, step)
}

/// What a failure means, in words for the evidence.
pub fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Net(e) => e.to_string(),
        Failure::Status(s) => format!("answered {s}"),
        Failure::CredentialsRefused { scheme, kind, .. } => {
            format!("the server refused the credentials ({scheme}): {}", kind.words())
        }
        Failure::NoScheme { offered } => ProbeError::NoScheme {
            offered: offered.clone(),
        }
        .to_string(),
        Failure::Probe(e) => e.to_string(),
        Failure::NotAutodiscover(e) => e.to_string(),
        Failure::RedirectLoop(u) => format!("a redirect loop: {u} was visited before"),
        Failure::TooManyRedirects => format!("more than {MAX_REDIRECTS} redirects"),
        Failure::InsecureRedirect(u) => format!("a redirect to {u}, which is not https"),
        Failure::NoSrv => "no _autodiscover._tcp SRV record".into(),
    }
}

/// Candidate 3: the anonymous GET on http://autodiscover.DOMAIN whose redirect is then POSTed to.
pub async fn redirect_get(
    net: &Net,
    domain: &str,
    email: &str,
    creds: &Credentials<'_>,
    consent: &Consent,
    turn: &Turn<'_>,
) -> Run {
    let host = format!("autodiscover.{domain}");
    let url = format!("http://{host}/autodiscover/autodiscover.xml");
    let mut step = Step {
        method: "GET",
        url: url.clone(),
        ..Step::default()
    };
    let answer = match net.open_http(&host, 80, false).await {
        Ok(mut conn) => {
            step.peer = Some(conn.peer);
            conn.send(
                net,
                "GET",
                "/autodiscover/autodiscover.xml",
                &[("user-agent", "migcheck")],
                Vec::new(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            step.note = e.to_string();
            return Run::end(vec![step], Ending::Failed(Failure::Net(e)));
        }
    };
    step.status = Some(answer.status_line());
    step.fingerprint = fingerprint(&answer);
    let location = matches!(answer.status, 301 | 302 | 303 | 307 | 308)
        .then(|| answer.header("location"))
        .flatten()
        .and_then(|l| Url::parse(&url).ok()?.join(l).ok());
    let Some(next) = location else {
        step.note = format!("answered {} (no redirect)", answer.status_line());
        return Run::end(vec![step], Ending::Failed(Failure::Status(answer.status_line())));
    };
    if next.scheme() != "https" {
        step.note = format!("redirected to {next}, which is not https");
        return Run::end(vec![step], Ending::Failed(Failure::InsecureRedirect(next.to_string())));
    }
    step.note = format!("redirected to {next}");
    let mut run = post(net, next, email, creds, consent, turn).await;
    run.steps.insert(0, step);
    run
}

/// Candidate 4: the `_autodiscover._tcp` SRV record with the lowest priority value.
pub async fn srv(
    net: &Net,
    domain: &str,
    email: &str,
    creds: &Credentials<'_>,
    consent: &Consent,
    turn: &Turn<'_>,
) -> Run {
    let name = format!("_autodiscover._tcp.{domain}");
    let records = match net.dns.srv(&name).await {
        Ok(r) if !r.is_empty() => r,
        Ok(_) | Err(NetError::NoSuchName { .. }) => {
            let step = Step {
                method: "SRV",
                url: name,
                note: "no SRV record".into(),
                ..Step::default()
            };
            return Run::end(vec![step], Ending::Failed(Failure::NoSrv));
        }
        Err(e) => {
            let step = Step {
                method: "SRV",
                url: name,
                note: e.to_string(),
                ..Step::default()
            };
            return Run::end(vec![step], Ending::Failed(Failure::Net(e)));
        }
    };
    let target = records[0].target.clone();
    let step = Step {
        method: "SRV",
        url: name,
        note: format!("lowest priority: {target}"),
        ..Step::default()
    };
    // Outlook ignores the SRV port and uses 443.
    let run = match Url::parse(&format!("https://{target}/autodiscover/autodiscover.xml")) {
        Ok(url) => post(net, url, email, creds, consent, turn).await,
        Err(e) => Run::end(
            Vec::new(),
            Ending::Failed(Failure::Status(format!(
                "the SRV target '{target}' is not a host name: {e}"
            ))),
        ),
    };
    let mut steps = vec![step];
    steps.extend(run.steps);
    Run {
        steps,
        ending: run.ending,
        srv: records,
    }
}

/// Autodiscover V2: the anonymous JSON answer with the EWS URL.
pub async fn v2(net: &Net, host: &str, email: &str) -> Result<(String, Option<String>), ProbeError> {
    let mut conn = net.open_http(host, 443, true).await?;
    let text = format!("https://{host}/autodiscover/autodiscover.json");
    let mut url = Url::parse(&text).map_err(|e| ProbeError::NotAUrl {
        url: text,
        reason: e.to_string(),
    })?;
    url.query_pairs_mut()
        .append_pair("Email", email)
        .append_pair("Protocol", "Ews");
    let answer = conn
        .send(
            net,
            "GET",
            &path_of(&url),
            &[("user-agent", "migcheck"), ("accept", "application/json")],
            Vec::new(),
        )
        .await?;
    let status = answer.status_line();
    if answer.status != 200 {
        return Ok((status, None));
    }
    let json: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| ProbeError::NotJson {
        status_line: status.clone(),
        reason: e.to_string(),
    })?;
    Ok((status, json.get("Url").and_then(|u| u.as_str()).map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_covers_the_domain_and_below_only() {
        let c = Consent {
            domain: "contoso.com".into(),
            allow_any: false,
        };
        assert!(c.allows("contoso.com"));
        assert!(c.allows("Autodiscover.Contoso.com."));
        assert!(!c.allows("evilcontoso.com"));
        assert!(!c.allows("autodiscover.fabrikam.com"));
        assert!(
            Consent {
                domain: "contoso.com".into(),
                allow_any: true
            }
            .allows("autodiscover.fabrikam.com")
        );
    }
}
