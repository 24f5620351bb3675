//! What the three virtual connections saw, as the logon, connection and bind checks: which channel
//! stopped where, and what that means in Exchange terms.

use migcheck_shared::Evidence;
use migcheck_shared::kb::OutlookAnywhereProblem as Problem;

use super::{Outcome, OutlookAnywhere, challenge_facts};
use crate::diagnose::logon::{self, Endpoint, VirtualDirectory};
use crate::net::ntlm::ChallengeInfo;
use crate::probe::auth::ChannelBinding;
use crate::probe::rpch::channel::{Method, ResponseHead};
use crate::probe::rpch::client::RpchError;
use crate::probe::rpch::explain::{self, SERVER_UNAVAILABLE};
use crate::probe::rpch::pdu::{self, BindAnswer};
use crate::probe::rpch::virtual_connection::{Stage, VirtualConnection};

/// A 401 to the logon: the credentials, or Extended Protection when the evidence shows it. `/rpc` is
/// `Require` by default, so there is no retry without the binding (`logon.rs`).
pub(super) fn credentials_problem(
    oa: &OutlookAnywhere<'_>,
    proxy: &str,
    challenge: Option<&ChallengeInfo>,
    binding: Option<&ChannelBinding>,
) -> Outcome {
    let url = match oa.proxy.port {
        Some(port) if port != 443 => format!("https://{proxy}:{port}/rpc/rpcproxy.dll"),
        _ => format!("https://{proxy}/rpc/rpcproxy.dll"),
    };
    let endpoint = Endpoint::at(&url, VirtualDirectory::Rpc);
    let creds = &oa.logon.creds;
    match logon::judge(&endpoint, creds, oa.logon.auth.label(), binding, false, oa.accepted) {
        Ok(refused) => Outcome::problem(Problem::ChannelBindingRefused(refused)),
        Err(logon) => Outcome::problem(Problem::CredentialsRefused {
            proxy: proxy.to_string(),
            user: creds.user.to_string(),
            logon,
            domain: challenge.and_then(|c| c.netbios_domain.clone()),
        }),
    }
}

/// A status that is neither 200 nor 401 on a channel.
pub(super) fn status_problem(head: &ResponseHead, proxy: &str, server: &str, endpoint: u16) -> Outcome {
    let proxy = proxy.to_string();
    let reason = head.reason.clone();
    Outcome::problem(match (head.status, head.rpc_error()) {
        (503, Some(SERVER_UNAVAILABLE)) => Problem::ServerUnavailable {
            proxy,
            server: server.to_string(),
            endpoint,
        },
        (status @ (405 | 501), _) => Problem::ChannelVerbsBlocked { proxy, status, reason },
        (404, _) => Problem::ServerNotAllowed {
            proxy,
            server: server.to_string(),
            endpoint,
        },
        (status, _) => Problem::ChannelAnswered { proxy, status, reason },
    })
}

pub(super) fn problem_of_error(e: &RpchError, proxy: &str) -> Outcome {
    let error = e.to_string();
    Outcome::problem(match e {
        RpchError::Timeout { .. } | RpchError::TooChatty { .. } => Problem::ChannelSilent { error },
        _ => Problem::ChannelBroke {
            proxy: proxy.to_string(),
            error,
        },
    })
}

fn endpoint_label(vc: &VirtualConnection) -> String {
    format!("Endpoint {}", vc.endpoint)
}

fn answered(method: Method, head: &ResponseHead) -> String {
    let mut said = format!("{} answered {} {}", method.name(), head.status, head.reason);
    // A proxy in front (TMG) re-frames the OUT channel: say so, with the Via it added.
    let mut framing = Vec::new();
    if head.chunked() {
        framing.push("Transfer-Encoding: chunked, read de-chunked".to_string());
    }
    framing.extend(head.header_values("via").iter().map(|v| format!("Via: {v}")));
    if !framing.is_empty() {
        said.push_str(&format!(" ({})", framing.join("; ")));
    }
    said
}

/// A channel refused the account (401), at its logon or later.
fn rejected(vc: &VirtualConnection) -> bool {
    vc.refused().is_some_and(|(_, head)| head.status == 401)
}

pub(super) fn logon_outcome(oa: &OutlookAnywhere<'_>, vcs: &[VirtualConnection]) -> Outcome {
    let proxy = oa.proxy.host.as_str();
    let mut evidence = Evidence::default();
    if let Some(info) = vcs.iter().find_map(|v| v.challenge.as_ref()) {
        evidence = challenge_facts(evidence, info);
    }
    evidence = logon::binding_fact(evidence, "NTLM", vcs.iter().find_map(|v| v.binding.as_ref()));
    for vc in vcs {
        let said = match &vc.stage {
            Stage::Refused { method, head } => answered(*method, head),
            Stage::AwaitingLogon(e) | Stage::AwaitingOutHead(e) => e.to_string(),
            Stage::OutRefused(out)
            | Stage::AwaitingConnA3 { out, .. }
            | Stage::AwaitingConnC2 { out, .. }
            | Stage::AwaitingBindAnswer { out, .. }
            | Stage::Bound { out, .. } => answered(Method::Out, out),
        };
        evidence = evidence.fact(&endpoint_label(vc), said);
    }
    // A connection that broke before any answer to the logon says nothing about the credentials.
    let unanswered = vcs.iter().find_map(|vc| match &vc.stage {
        Stage::AwaitingLogon(e) | Stage::AwaitingOutHead(e) => Some(e),
        _ => None,
    });
    let outcome = if vcs.iter().any(rejected) {
        credentials_problem(
            oa,
            proxy,
            vcs.iter().find_map(|v| v.challenge.as_ref()),
            vcs.iter().find_map(|v| v.binding.as_ref()),
        )
    } else if vcs.iter().all(VirtualConnection::logged_on) {
        Outcome::pass(format!(
            "Both channels (RPC_IN_DATA and RPC_OUT_DATA) accept {} with {} on all three endpoints.",
            oa.logon.creds.user,
            oa.logon.auth.label()
        ))
    } else if let Some(e) = unanswered {
        problem_of_error(e, proxy)
    } else {
        // Past the logon, but stopped by the RPC server's side: the connection check says why.
        Outcome::pass(format!(
            "The proxy accepted the logon of {}; what stopped the channels is below.",
            oa.logon.creds.user
        ))
    };
    outcome.with_evidence(evidence)
}

pub(super) fn connection_outcome(oa: &OutlookAnywhere<'_>, vcs: &[VirtualConnection]) -> Outcome {
    let proxy = oa.proxy.host.as_str();
    let mut evidence = Evidence::default();
    for vc in vcs {
        let said = match &vc.stage {
            Stage::AwaitingBindAnswer { c2, .. } | Stage::Bound { c2, .. } => {
                let timeout = c2.commands.iter().find_map(|c| match c {
                    pdu::RtsCommand::ConnectionTimeout(ms) => Some(*ms),
                    _ => None,
                });
                format!(
                    "CONN/A3 and CONN/C2 received{}",
                    timeout
                        .map(|ms| format!(", connection timeout {} s", ms / 1000))
                        .unwrap_or_default()
                )
            }
            Stage::Refused { method, head } => answered(*method, head),
            Stage::AwaitingLogon(e)
            | Stage::AwaitingOutHead(e)
            | Stage::AwaitingConnA3 { error: e, .. }
            | Stage::AwaitingConnC2 { error: e, .. } => e.to_string(),
            Stage::OutRefused(head) => answered(Method::Out, head),
        };
        evidence = evidence.fact(&endpoint_label(vc), said);
    }
    // The endpoints that did not open tell why, an answer before a silence; a bind that failed after
    // the opening is the bind checks' business.
    let stopped: Vec<&VirtualConnection> = vcs.iter().filter(|vc| !vc.opened()).collect();
    let refusal = stopped.iter().find_map(|vc| match &vc.stage {
        Stage::Refused { head, .. } | Stage::OutRefused(head) => Some((*vc, head)),
        _ => None,
    });
    let failure = stopped.iter().find_map(|vc| vc.error().map(|e| (*vc, e)));
    let chunked = vcs.iter().any(|vc| vc.out_head().is_some_and(ResponseHead::chunked));
    let outcome = if stopped.is_empty() {
        let framing = if chunked {
            " The OUT channel's answer came chunked (Transfer-Encoding: chunked), as Microsoft TMG sends it: read de-chunked."
        } else {
            ""
        };
        Outcome::pass(format!(
            "The proxy opened the virtual connection to {} on all three endpoints (CONN/A3 and CONN/C2 received).{framing}",
            oa.server
        ))
    } else if vcs.iter().any(rejected) {
        Outcome::skip("Not opened: the logon was rejected (above).")
    } else if let Some((vc, head)) = refusal {
        status_problem(head, proxy, oa.server, vc.endpoint)
    } else if let Some((vc, error)) = failure {
        match error {
            // Logged on, then nothing: no CONN/A3 or CONN/C2.
            RpchError::Timeout { secs, .. } if vc.logged_on() => Outcome::problem(Problem::ConnectionSilent {
                proxy: proxy.to_string(),
                secs: *secs,
                server: oa.server.to_string(),
                endpoint: vc.endpoint,
            }),
            _ => problem_of_error(error, proxy),
        }
    } else {
        Outcome::new(migcheck_shared::Status::Fail, "The virtual connection did not open.")
    };
    outcome.with_evidence(evidence)
}

pub(super) fn bind_outcome(oa: &OutlookAnywhere<'_>, vc: &VirtualConnection, name: &str) -> Outcome {
    let at = format!("{}:{}", oa.server, vc.endpoint);
    match &vc.stage {
        Stage::Bound { answer, .. } => {
            let (accepted, words) = explain::bind_answer(answer);
            let evidence = Evidence::default().fact("Answer", words.clone());
            if accepted {
                return Outcome::pass(format!("The {name} answers through the proxy at {at}: {words}."))
                    .with_evidence(evidence);
            }
            let name = name.to_string();
            let problem = match answer {
                BindAnswer::Fault {
                    status: SERVER_UNAVAILABLE,
                } => Problem::ServerUnavailable {
                    proxy: oa.proxy.host.clone(),
                    server: oa.server.to_string(),
                    endpoint: vc.endpoint,
                },
                BindAnswer::Fault { status: 0x5 } => Problem::BindAccessDenied { name, at },
                _ => Problem::BindRejected {
                    name,
                    at,
                    answer: words,
                },
            };
            Outcome::problem(problem).with_evidence(evidence)
        }
        Stage::AwaitingBindAnswer { error, .. } => Outcome::problem(Problem::BindUnanswered {
            name: name.to_string(),
            at,
            error: error.to_string(),
        }),
        _ => Outcome::skip("Not tried: the virtual connection did not open (above)."),
    }
}

#[cfg(test)]
mod tests {
    use migcheck_shared::{Cause, HostPort, Password, Status};

    use super::*;
    use crate::probe::Credentials;
    use crate::probe::rpch::channel::parse_head;
    use crate::probe::rpch::client::Logon;

    fn head(text: &str) -> ResponseHead {
        parse_head(format!("{text}\r\nContent-Length: 0\r\n\r\n").as_bytes())
            .expect("head")
            .expect("complete")
    }

    fn outcome(stages: Vec<Stage>, check: fn(&OutlookAnywhere<'_>, &[VirtualConnection]) -> Outcome) -> Outcome {
        let proxy = HostPort {
            host: "mail.contoso.com".into(),
            port: None,
        };
        let password = Password::new("x");
        let oa = OutlookAnywhere {
            proxy: &proxy,
            server: "ex01.contoso.com",
            logon: Logon {
                auth: migcheck_shared::AuthMethod::Basic,
                creds: Credentials::new("CONTOSO\\migadmin", &password),
            },
            may_send_password: Ok(()),
            cert_principal: crate::diagnose::outlook::CertPrincipal::Unknown,
            accepted: None,
        };
        let vcs: Vec<VirtualConnection> = stages
            .into_iter()
            .zip([6001, 6002, 6004])
            .map(|(stage, endpoint)| VirtualConnection {
                endpoint,
                challenge: None,
                binding: None,
                stage,
            })
            .collect();
        check(&oa, &vcs)
    }

    fn timeout(what: &'static str) -> RpchError {
        RpchError::Timeout {
            addr: "127.0.0.1:443".parse().expect("address"),
            what,
            secs: 10,
        }
    }

    #[test]
    fn an_answer_says_more_than_a_silence() {
        // One endpoint heard nothing after the logon; another got the proxy's 503 RPC Error: 6ba: the
        // wrong server name is the finding, whatever the order of the endpoints.
        let silent = Stage::AwaitingConnA3 {
            out: head("HTTP/1.1 200 Success"),
            error: timeout("CONN/A3"),
        };
        let refused = Stage::Refused {
            method: Method::In,
            head: head("HTTP/1.1 503 RPC Error: 6ba"),
        };
        let found = outcome(vec![silent, refused], connection_outcome);
        let problem = found.problem.expect("a finding");
        assert_eq!(problem.cause(), Cause::WrongServerName, "{}", found.summary);
        assert!(found.summary.contains("ex01.contoso.com:6002"), "{}", found.summary);
    }

    #[test]
    fn a_silence_after_the_logon_is_named_as_such_and_the_logon_passes() {
        let stages = || {
            vec![
                Stage::AwaitingConnC2 {
                    out: head("HTTP/1.1 200 Success"),
                    error: timeout("CONN/C2"),
                },
                Stage::AwaitingConnA3 {
                    out: head("HTTP/1.1 200 Success"),
                    error: timeout("CONN/A3"),
                },
            ]
        };
        let connection = outcome(stages(), connection_outcome);
        assert!(
            connection
                .summary
                .contains("accepted the channels (200) but then sent nothing for 10 s"),
            "{}",
            connection.summary
        );
        let logon = outcome(stages(), logon_outcome);
        assert_eq!(logon.status, Status::Pass, "{}", logon.summary);
        assert!(logon.problem.is_none());
        let bind = outcome(stages(), |oa, vcs| bind_outcome(oa, &vcs[0], "mail store (EMSMDB)"));
        assert_eq!(bind.status, Status::Skip, "{}", bind.summary);
    }

    /// Autodiscover took the credentials; both channels' bound NTLM logons got 401 on /rpc (Require):
    /// Extended Protection, not the password, with no retry.
    #[test]
    fn a_bound_refusal_after_autodiscover_took_the_credentials_is_extended_protection() {
        use crate::diagnose::logon::AcceptedAt;
        use crate::net::ntlm::EndPointHash;
        use crate::probe::auth::ChannelBinding;
        let proxy = HostPort {
            host: "mail.contoso.com".into(),
            port: None,
        };
        let password = Password::new("x");
        let proof =
            AcceptedAt("Autodiscover at https://autodiscover.contoso.com/autodiscover/autodiscover.xml (Basic)".into());
        let mut oa = OutlookAnywhere {
            proxy: &proxy,
            server: "ex01.contoso.com",
            logon: Logon {
                auth: migcheck_shared::AuthMethod::Ntlm,
                creds: Credentials::new("CONTOSO\\migadmin", &password),
            },
            may_send_password: Ok(()),
            cert_principal: crate::diagnose::outlook::CertPrincipal::Unknown,
            accepted: Some(&proof),
        };
        let binding = ChannelBinding::Sent {
            hash: EndPointHash::Sha384,
            thumbprint: "FFEE".into(),
        };
        let found = credentials_problem(&oa, "mail.contoso.com", None, Some(&binding));
        assert_eq!(
            found.problem.map(|p| p.cause()),
            Some(Cause::ExternalAccess),
            "{}",
            found.summary
        );
        assert!(
            found
                .summary
                .starts_with("https://mail.contoso.com/rpc/rpcproxy.dll refuses the NTLM logon of CONTOSO\\migadmin, yet Autodiscover"),
            "{}",
            found.summary
        );
        // Without the proof: the credentials, with the hint.
        oa.accepted = None;
        let found = credentials_problem(&oa, "mail.contoso.com", None, Some(&binding));
        assert_eq!(found.problem.map(|p| p.cause()), Some(Cause::Permissions));
        assert!(
            found.summary.contains("Extended Protection may be the reason"),
            "{}",
            found.summary
        );
    }

    /// Through TMG the OUT channel's answer is chunked: the connection opens, and the evidence says how
    /// the answer came.
    #[test]
    fn a_chunked_out_channel_opens_and_says_so() {
        let tmg = || {
            parse_head(b"HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nTransfer-Encoding: chunked\r\nVia: 1.1 FIREWALL1\r\n\r\n")
                .expect("head")
                .expect("complete")
        };
        let opened = || Stage::AwaitingBindAnswer {
            out: tmg(),
            c2: pdu::Rts {
                flags: 0,
                commands: vec![pdu::RtsCommand::ConnectionTimeout(120_000)],
            },
            error: timeout("the answer to the bind"),
        };
        let found = outcome(vec![opened(), opened(), opened()], connection_outcome);
        assert_eq!(found.status, Status::Pass, "{}", found.summary);
        assert!(
            found.summary.contains("came chunked (Transfer-Encoding: chunked)"),
            "{}",
            found.summary
        );
        let logon = outcome(vec![opened(), opened(), opened()], logon_outcome);
        assert!(
            logon.evidence.facts.iter().any(|f| f.value
                == "RPC_OUT_DATA answered 200 Success (Transfer-Encoding: chunked, read de-chunked; Via: 1.1 FIREWALL1)"),
            "{:?}",
            logon.evidence
        );
    }

    #[test]
    fn a_refused_logon_skips_the_connection() {
        let rejected = Stage::Refused {
            method: Method::Out,
            head: head("HTTP/1.1 401 Unauthorized"),
        };
        let logon = outcome(vec![rejected], logon_outcome);
        assert_eq!(logon.problem.map(|p| p.cause()), Some(Cause::Permissions));
        let rejected = Stage::Refused {
            method: Method::Out,
            head: head("HTTP/1.1 401 Unauthorized"),
        };
        assert_eq!(outcome(vec![rejected], connection_outcome).status, Status::Skip);
    }
}
