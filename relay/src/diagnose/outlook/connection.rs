//! What the three virtual connections saw, as the logon, connection and bind checks: which channel
//! stopped where, and what that means in Exchange terms.

use migcheck_shared::Evidence;
use migcheck_shared::kb::OutlookAnywhereProblem as Problem;

use super::{Outcome, OutlookAnywhere, challenge_facts};
use crate::net::ntlm::ChallengeInfo;
use crate::probe::rpch::channel::ResponseHead;
use crate::probe::rpch::client::{RpchError, VirtualConnection};
use crate::probe::rpch::explain::{self, SERVER_UNAVAILABLE};
use crate::probe::rpch::pdu::{self, BindAnswer};

pub(super) fn credentials_problem(oa: &OutlookAnywhere<'_>, proxy: &str, challenge: Option<&ChallengeInfo>) -> Outcome {
    Outcome::problem(Problem::CredentialsRefused {
        proxy: proxy.to_string(),
        user: oa.creds.user.to_string(),
        method: oa.creds.auth,
        domain: challenge.and_then(|c| c.netbios_domain.clone()),
    })
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

pub(super) fn logon_outcome(oa: &OutlookAnywhere<'_>, vcs: &[VirtualConnection]) -> Outcome {
    let proxy = oa.proxy.host.as_str();
    let mut evidence = Evidence::default();
    if let Some(info) = vcs.iter().find_map(|v| v.challenge.as_ref()) {
        evidence = challenge_facts(evidence, info);
    }
    for vc in vcs {
        let said = match (&vc.refused, &vc.out_head, &vc.error) {
            (Some((method, head)), _, _) => format!("{} answered {} {}", method.name(), head.status, head.reason),
            (None, Some(head), _) => format!("RPC_OUT_DATA answered {} {}", head.status, head.reason),
            (None, None, Some(e)) => e.to_string(),
            (None, None, None) => "no answer".into(),
        };
        evidence = evidence.fact(&endpoint_label(vc), said);
    }
    let rejected = vcs
        .iter()
        .find(|vc| vc.refused.as_ref().is_some_and(|(_, h)| h.status == 401));
    let outcome = if rejected.is_some() {
        credentials_problem(oa, proxy, vcs.iter().find_map(|v| v.challenge.as_ref()))
    } else if vcs.iter().all(|vc| vc.logged_on()) {
        Outcome::pass(format!(
            "Both channels (RPC_IN_DATA and RPC_OUT_DATA) accept {} with {} on all three endpoints.",
            oa.creds.user,
            oa.creds.auth.label()
        ))
    } else if let Some(e) = vcs.iter().find_map(|vc| {
        vc.error
            .as_ref()
            .filter(|_| vc.out_head.is_none() && vc.refused.is_none())
    }) {
        problem_of_error(e, proxy)
    } else {
        // Past the logon, but stopped by the RPC server's side: the connection check says why.
        Outcome::pass(format!(
            "The proxy accepted the logon of {}; what stopped the channels is below.",
            oa.creds.user
        ))
    };
    outcome.with_evidence(evidence)
}

pub(super) fn connection_outcome(oa: &OutlookAnywhere<'_>, vcs: &[VirtualConnection]) -> Outcome {
    let proxy = oa.proxy.host.as_str();
    let mut evidence = Evidence::default();
    for vc in vcs {
        let said = if let Some(c2) = &vc.conn_c2 {
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
        } else if let Some((method, head)) = &vc.refused {
            format!("{} answered {} {}", method.name(), head.status, head.reason)
        } else if let Some(e) = &vc.error {
            e.to_string()
        } else if let Some(head) = &vc.out_head {
            format!("RPC_OUT_DATA answered {} {}", head.status, head.reason)
        } else {
            "not opened".into()
        };
        evidence = evidence.fact(&endpoint_label(vc), said);
    }
    let outcome = if vcs.iter().all(VirtualConnection::opened) {
        Outcome::pass(format!(
            "The proxy opened the virtual connection to {} on all three endpoints (CONN/A3 and CONN/C2 received).",
            oa.server
        ))
    } else if vcs
        .iter()
        .any(|vc| vc.refused.as_ref().is_some_and(|(_, h)| h.status == 401))
    {
        Outcome::skip("Not opened: the logon was rejected (above).")
    } else if let Some((head, vc)) = vcs.iter().find_map(|vc| {
        vc.refused
            .as_ref()
            .map(|(_, h)| h)
            .or(vc.out_head.as_ref().filter(|h| h.status != 200))
            .map(|h| (h, vc))
    }) {
        status_problem(head, proxy, oa.server, vc.endpoint)
    } else if let Some((e, vc)) = vcs.iter().find_map(|vc| vc.error.as_ref().map(|e| (e, vc))) {
        match e {
            RpchError::Timeout { secs, .. } if vc.logged_on() => Outcome::problem(Problem::ConnectionSilent {
                proxy: proxy.to_string(),
                secs: *secs,
                server: oa.server.to_string(),
                endpoint: vc.endpoint,
            }),
            _ => problem_of_error(e, proxy),
        }
    } else {
        Outcome::new(migcheck_shared::Status::Fail, "The virtual connection did not open.")
    };
    outcome.with_evidence(evidence)
}

pub(super) fn bind_outcome(oa: &OutlookAnywhere<'_>, vc: &VirtualConnection, name: &str) -> Outcome {
    let at = format!("{}:{}", oa.server, vc.endpoint);
    match (&vc.bind, &vc.error) {
        (Some(answer), _) => {
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
        (None, Some(e)) if vc.opened() => Outcome::problem(Problem::BindUnanswered {
            name: name.to_string(),
            at,
            error: e.to_string(),
        }),
        _ => Outcome::skip("Not tried: the virtual connection did not open (above)."),
    }
}
