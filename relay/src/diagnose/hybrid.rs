//! A remote move to a Hybrid Agent's name (Modern Hybrid): the public name is Microsoft's App Proxy, which
//! only Exchange Online reaches, so it is never probed. From inside (where the agent runs) migcheck tries
//! the agent machine's outbound connections Microsoft lists, and the remote-move checks on the internal
//! server the agent publishes (`--agent-target`), whose certificate may come from an internal CA.

use std::time::Instant;

use futures_util::future::join_all;

use migcheck_shared::kb::{self, AgentEndpoint, HybridProblem, Vantage};
use migcheck_shared::request::{HybridAgent, ValidRemoteMove};
use migcheck_shared::{Check, KbStep, Phase};

use super::{Outcome, Recorder};
use crate::net::Net;
use crate::probe::Credentials;

pub(crate) async fn checks(
    net: &Net,
    rec: &Recorder,
    target: &ValidRemoteMove,
    agent: &HybridAgent,
) -> (Vec<Check>, String) {
    let name = target.remote_server.host.as_str();
    let run = rec.start(
        KbStep::Certificate,
        "hybrid",
        format!("The Hybrid Agent at {name}"),
        None,
    );
    let mut explained =
        Outcome::new(migcheck_shared::Status::Info, kb::agent_name(name)).fact("Application id", agent.app_id.clone());
    for (label, command) in kb::agent_by_hand(name) {
        explained = explained.fact(label, command);
    }
    let mut checks = vec![rec.finish(run, explained, vec![])];
    let inside = net.vantage != Vantage::Internet;
    checks.push(outbound(net, rec, inside).await);
    let published = match (&agent.target, inside) {
        (Some(server), true) => {
            let creds = Credentials::new(&target.user, &target.password);
            let mailbox = target.target_mailbox.as_ref().map(|m| m.address.as_str());
            let behind = net.clone().seen_from(Vantage::BehindAgent);
            checks.extend(
                super::remote::server_checks(&behind, rec, server, &creds, mailbox, super::remote::Logon::Try, None)
                    .await
                    .0,
            );
            format!(
                " MRS Proxy and EWS on {}, which the agent publishes, take the logon of {}.",
                server.host, target.user
            )
        }
        (Some(_), false) => String::new(),
        (None, _) => {
            let run = rec.start(
                KbStep::Certificate,
                "hybrid.target",
                "The server the Hybrid Agent publishes",
                None,
            );
            checks.push(rec.finish(run, Outcome::skip(kb::NO_AGENT_TARGET), vec![]));
            String::new()
        }
    };
    let headline = if inside {
        format!("{name} is a Hybrid Agent's name; its machine reaches the hosts Microsoft lists for it.{published}")
    } else {
        format!(
            "{name} is a Hybrid Agent's name, which only Exchange Online reaches: run migcheck on the agent's machine to check it."
        )
    };
    (checks, headline)
}

/// One check per host and port Microsoft lists for the agent's machine: a TCP connection opens.
async fn outbound(net: &Net, rec: &Recorder, inside: bool) -> Check {
    let run = rec.start(
        KbStep::Certificate,
        "hybrid.outbound",
        "Outbound connections of the Hybrid Agent's machine",
        None,
    );
    if !inside {
        return rec.finish(run, Outcome::skip(kb::OUTBOUND_FROM_INTERNET), vec![]);
    }
    let children = join_all(kb::AGENT_ENDPOINTS.iter().map(|e| endpoint(net, rec, e))).await;
    let summary = match super::worst(&children) {
        Some(migcheck_shared::Status::Fail) => {
            "The Hybrid Agent's machine cannot reach every host Microsoft lists for it.".to_string()
        }
        _ => format!(
            "The Hybrid Agent's machine reaches every host of a fixed name Microsoft lists for it; let through the wildcard ones too: {}.",
            kb::AGENT_WILDCARDS
        ),
    };
    rec.finish_parent(run, children, summary)
}

async fn endpoint(net: &Net, rec: &Recorder, e: &AgentEndpoint) -> Check {
    let (host, port) = (e.host, e.port);
    let mut run = rec.start(
        KbStep::Certificate,
        format!("hybrid.outbound.{host}:{port}"),
        format!("Connect to {host}:{port} ({})", e.purpose),
        Some("hybrid.outbound"),
    );
    let t = Instant::now();
    let (via_host, via_port) = net.dns.route(host, port);
    let connected = match net.dns.resolve(&via_host, via_port).await {
        Ok((addrs, _)) => net.connect(&addrs, via_port).await.map_err(|(e, _)| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    rec.phase(&mut run, Phase::Tcp, t);
    let outcome = match connected {
        Ok(c) => {
            Outcome::pass(format!("Connected to {host}:{port} at {}.", c.peer)).fact("Connected to", c.peer.to_string())
        }
        Err(error) => Outcome::problem(HybridProblem::OutboundBlocked {
            host: host.to_string(),
            port,
            purpose: e.purpose.to_string(),
            error: error.trim_end_matches('.').to_string(),
        }),
    };
    rec.finish(run, outcome, vec![])
}
