//! Every server behind the remote server's name (`--servers`): the remote move's checks against each
//! server directly, SNI and Host still the name, shown as one group in which a server that differs
//! stands out. Exchange Online spreads its calls over the servers behind the name, and MRS Proxy must be
//! on "on all Mailbox servers" (Learn's MRS Proxy page), "on all of the external facing Exchange
//! servers" (KB 10094): one server off fails some moves and not others.
//!
//! Each server is up to three logons (MRS Proxy; EWS, only if MRS Proxy did not refuse; SOAP Autodiscover
//! with a mailbox, only after an accepted MRS Proxy logon), after the name's own, one server after another
//! and in the order listed: a server logs on only if neither the name nor any server before it refused the
//! password (or cut a logon off after it went out: the server may have counted a refusal). Once refused,
//! the password is not sent again (each refusal counts toward the account's
//! lockout): the servers left get the checks that need none (certificate, who answers), their logons
//! shown as not tried. One at a time costs wall time (a server's checks take a few round trips), which a
//! consultant listing servers can afford; a lockout they cannot.

use migcheck_shared::kb::{OnServer, Problem};
use migcheck_shared::request::ValidRemoteMove;
use migcheck_shared::{Check, KbStep, Status};

use super::Recorder;
use super::logon::AcceptedAt;
use super::remote::{Logon, server_checks};
use crate::net::Net;
use crate::probe::Credentials;

/// The group of per-server checks; `None` when no servers were listed.
pub(crate) async fn check(
    net: &Net,
    rec: &Recorder,
    target: &ValidRemoteMove,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
    accepted_by_name: Option<&AcceptedAt>,
) -> Option<Check> {
    if target.servers.is_empty() {
        return None;
    }
    let name = target.remote_server.host.as_str();
    let run = rec.start(
        KbStep::OutlookAnywhere,
        "servers",
        format!("Each server behind {name}, directly: {}", target.servers.join(", ")),
        None,
    );
    // The name's own checks logged on first: a refusal there stops every server's logon.
    let mut refused = rec.password_refused();
    let mut children = Vec::with_capacity(target.servers.len());
    for server in &target.servers {
        let logon = if refused { Logon::Withheld } else { Logon::OneAtATime };
        let (check, refused_here) = one(net, rec, target, server, creds, mailbox, (logon, accepted_by_name)).await;
        refused |= refused_here;
        children.push(check);
    }
    let summary = compare(name, &target.servers, &children);
    Some(rec.finish_parent(run, children, summary))
}

/// The checks of one server, their ids under `servers.<server>.`; whether it refused the password.
async fn one(
    net: &Net,
    rec: &Recorder,
    target: &ValidRemoteMove,
    server: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
    (logon, accepted_by_name): (Logon, Option<&AcceptedAt>),
) -> (Check, bool) {
    let name = target.remote_server.host.as_str();
    let port = target.remote_server.port.unwrap_or(443);
    let prefix = format!("servers.{server}");
    let run = rec.start(None, prefix.clone(), format!("{server}, as {name}"), Some("servers"));
    let sub = rec.detached();
    let through = net.through(name, port, server);
    let (mut checks, _) = server_checks(
        &through,
        &sub,
        &target.remote_server,
        creds,
        mailbox,
        logon,
        accepted_by_name,
    )
    .await;
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
/// server's checks: `net`, `tls`, `mrs`, `preauth`, `ews`, ...). Only servers where a check ran count:
/// one not tried (its logon withheld) neither fails nor passes it, and is named apart.
fn compare(name: &str, servers: &[String], children: &[Check]) -> String {
    let mut differences = Vec::new();
    let Some(first) = children.first() else {
        return format!("No server behind {name} was checked.");
    };
    let status_of = |c: &Check, suffix: &str| c.find(&format!("{}.{suffix}", c.id)).map(|a| a.status);
    for aspect in &first.children {
        let suffix = aspect.id.strip_prefix(&format!("{}.", first.id)).unwrap_or(&aspect.id);
        let ran: Vec<(&str, Status)> = servers
            .iter()
            .zip(children)
            .filter_map(|(server, c)| match status_of(c, suffix) {
                Some(Status::Skip) | None => None,
                Some(status) => Some((server.as_str(), status)),
            })
            .collect();
        let (failing, passing): (Vec<_>, Vec<_>) = ran.iter().partition(|(_, s)| *s == Status::Fail);
        if !failing.is_empty() && !passing.is_empty() {
            let names = |list: &[&(&str, Status)]| list.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(", ");
            differences.push(format!(
                "{suffix} fails on {} and not on {}",
                names(&failing),
                names(&passing)
            ));
        }
    }
    let withheld: Vec<&str> = servers
        .iter()
        .zip(children)
        .filter(|(_, c)| status_of(c, "mrs") == Some(Status::Skip))
        .map(|(server, _)| server.as_str())
        .collect();
    let not_tried = match withheld.as_slice() {
        [] => String::new(),
        list => format!(
            " Not sent the password (refused, or a logon cut off, before): {}; only their checks that need none ran.",
            list.join(", ")
        ),
    };
    let lead = match differences.as_slice() {
        [] if children.iter().any(|c| c.status == Status::Fail) => {
            format!("Every server behind {name} fails the same checks.")
        }
        [] => format!("The {} servers behind {name} answer alike.", children.len()),
        _ => format!(
            "The servers behind {name} differ: {}. A remote move fails whenever the load balancer sends it to a failing server.",
            differences.join("; ")
        ),
    };
    format!("{lead}{not_tried}")
}
