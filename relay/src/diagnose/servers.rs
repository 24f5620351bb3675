//! Every server behind the remote server's name (`--servers`): the remote move's checks against each
//! server directly, SNI and Host still the name, shown as one group in which a server that differs
//! stands out. Exchange Online spreads its calls over the servers behind the name, and MRS Proxy must be
//! on "on all Mailbox servers" (Learn's MRS Proxy page), "on all of the external facing Exchange
//! servers" (KB 10094): one server off fails some moves and not others.
//!
//! Each server is a logon (MRS Proxy's and EWS's), after the name's own. The first server is checked
//! alone, and only if the name did not refuse the password; the others, four at a time, only if neither
//! the name nor the first server refused it. Once refused, the password is not sent again: the servers
//! left get the checks that need none (certificate, who answers), their logons shown as not tried.

use migcheck_shared::kb::{OnServer, Problem};
use migcheck_shared::request::ValidRemoteMove;
use migcheck_shared::{Check, KbStep, Status};

use super::Recorder;
use super::remote::{Logon, name_checks};
use crate::net::Net;

/// How many servers are checked at once, after the first.
const AT_ONCE: usize = 4;

/// The group of per-server checks; `None` when no servers were listed.
pub(crate) async fn check(net: &Net, rec: &Recorder, target: &ValidRemoteMove) -> Option<Check> {
    let (first, rest) = target.servers.split_first()?;
    let name = target.remote_server.host.as_str();
    let run = rec.start(
        KbStep::OutlookAnywhere,
        "servers",
        format!("Each server behind {name}, directly: {}", target.servers.join(", ")),
        None,
    );
    let logon = |refused: bool| if refused { Logon::Withheld } else { Logon::Try };
    // The name's own checks logged on first: a refusal there stops every server's logon.
    let (first_check, refused) = one(net, rec, target, first, logon(rec.password_refused())).await;
    let logon = logon(refused || rec.password_refused());
    let mut children = vec![first_check];
    for batch in rest.chunks(AT_ONCE) {
        let runs: Vec<_> = batch
            .iter()
            .map(|server| one(net, rec, target, server, logon))
            .collect();
        children.extend(futures_util::future::join_all(runs).await.into_iter().map(|(c, _)| c));
    }
    let summary = compare(name, &target.servers, &children);
    Some(rec.finish_parent(run, children, summary))
}

/// The checks of one server, their ids under `servers.<server>.`; whether it refused the password.
async fn one(net: &Net, rec: &Recorder, target: &ValidRemoteMove, server: &str, logon: Logon) -> (Check, bool) {
    let name = target.remote_server.host.as_str();
    let port = target.remote_server.port.unwrap_or(443);
    let prefix = format!("servers.{server}");
    let run = rec.start(None, prefix.clone(), format!("{server}, as {name}"), Some("servers"));
    let sub = rec.detached();
    let mut checks = name_checks(&net.through(name, port, server), &sub, target, logon).await;
    for c in &mut checks {
        rename(c, &prefix);
    }
    let refused = sub.password_refused();
    for (id, problem) in sub.kept() {
        let id = format!("{prefix}.{id}");
        let severity = find(&checks, &id).map_or(Status::Fail, |c| c.status);
        let on = Problem::OnServer(Box::new(OnServer {
            server: server.to_string(),
            name: name.to_string(),
            problem,
        }));
        rec.raise(id, severity, &on);
    }
    let failing: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.summary.as_str())
        .collect();
    let summary = if failing.is_empty() {
        format!("{server}: nothing fails.")
    } else {
        format!("{server}: {}", failing.join(" "))
    };
    (rec.finish_parent(run, checks, summary), refused)
}

fn rename(check: &mut Check, prefix: &str) {
    check.id = format!("{prefix}.{}", check.id);
    for c in &mut check.children {
        rename(c, prefix);
    }
}

fn find<'a>(checks: &'a [Check], id: &str) -> Option<&'a Check> {
    checks.iter().find_map(|c| c.find(id))
}

/// One sentence: which servers differ from the others, check by check (the first level of each
/// server's checks: `net`, `tls`, `mrs`, `preauth`, `ews`, ...).
fn compare(name: &str, servers: &[String], children: &[Check]) -> String {
    let mut differences = Vec::new();
    let Some(first) = children.first() else {
        return format!("No server behind {name} was checked.");
    };
    for aspect in &first.children {
        let suffix = aspect.id.strip_prefix(&format!("{}.", first.id)).unwrap_or(&aspect.id);
        let statuses: Vec<(&str, Option<Status>)> = servers
            .iter()
            .zip(children)
            .map(|(server, c)| (server.as_str(), c.find(&format!("{}.{suffix}", c.id)).map(|a| a.status)))
            .collect();
        let failing: Vec<&str> = statuses
            .iter()
            .filter(|(_, s)| *s == Some(Status::Fail))
            .map(|(server, _)| *server)
            .collect();
        if !failing.is_empty() && failing.len() < statuses.len() {
            let passing: Vec<&str> = statuses
                .iter()
                .filter(|(_, s)| *s != Some(Status::Fail))
                .map(|(server, _)| *server)
                .collect();
            differences.push(format!(
                "{suffix} fails on {} and not on {}",
                failing.join(", "),
                passing.join(", ")
            ));
        }
    }
    match differences.as_slice() {
        [] if children.iter().any(|c| c.status == Status::Fail) => {
            format!("Every server behind {name} fails the same checks.")
        }
        [] => format!("The {} servers behind {name} answer alike.", children.len()),
        _ => format!(
            "The servers behind {name} differ: {}. A remote move fails whenever the load balancer sends it to a failing server.",
            differences.join("; ")
        ),
    }
}
