//! The `outside` mode: what a host shows anyone on the internet, with no password. KB step 2 on the
//! host (DNS, TCP, TLS, the certificate), then who answers an anonymous POST to each Exchange path.
//! One relay inside a network and one on the internet run it alike, so `compare` can set the two
//! views side by side check by check.

use migcheck_shared::kb::compare::{ANSWER, ANSWERED_BY, BY_DEVICE, BY_EXCHANGE, BY_UNKNOWN, NO_ANSWER, OUTSIDE_PATHS};
use migcheck_shared::{Check, HostPort, KbStep, Status};

use super::remote::{evidence, in_front};
use super::{Outcome, Recorder, host};
use crate::net::Net;
use crate::net::http::{self, HttpAnswer};
use crate::probe::front::{self, Answerer};

pub(crate) async fn checks(net: &Net, rec: &Recorder, target: &HostPort) -> (Vec<Check>, String) {
    let mut checks = host::host_checks(net, rec, target).await;
    let headline = host::pass_headline(target, &checks);
    let reached = checks
        .iter()
        .find_map(|c| c.find("net.tcp"))
        .is_some_and(|c| c.status == Status::Pass);
    checks.push(paths(net, rec, &target.host, target.port.unwrap_or(443), reached).await);
    (checks, headline)
}

async fn paths(net: &Net, rec: &Recorder, host: &str, port: u16, reached: bool) -> Check {
    let authority = http::authority(host, port);
    let run = rec.start(
        KbStep::OutlookAnywhere,
        "paths",
        format!("Who answers each Exchange path at {authority}, without credentials"),
        None,
    );
    if !reached {
        return rec.finish(run, Outcome::skip("Not tried: no connection."), vec![]);
    }
    let one = |(id, path, unauthenticated): (&'static str, &'static str, bool)| {
        let url = format!("https://{authority}{path}");
        let run = rec.start(KbStep::OutlookAnywhere, id, format!("Who answers {url}"), Some("paths"));
        async move {
            let outcome = match front::post_anonymous(net, host, port, path).await {
                Err(e) => Outcome::new(Status::Info, format!("POST {url} without credentials: {e}."))
                    .fact(ANSWERED_BY, NO_ANSWER)
                    .fact(ANSWER, e.to_string()),
                Ok(answer) => answered(&url, host, &answer, unauthenticated),
            };
            rec.finish(run, outcome, vec![])
        }
    };
    let children = futures_util::future::join_all(OUTSIDE_PATHS.map(one)).await;
    let by_device = children
        .iter()
        .filter(|c| {
            c.evidence
                .facts
                .iter()
                .any(|f| f.label == ANSWERED_BY && f.value == BY_DEVICE)
        })
        .count();
    let summary = match by_device {
        0 => format!("No device in front of Exchange shows on these paths at {authority}."),
        n => format!("A device in front of Exchange answers {n} of these paths at {authority}."),
    };
    rec.finish_parent(run, children, summary)
}

fn answered(url: &str, host: &str, answer: &HttpAnswer, unauthenticated: bool) -> Outcome {
    let who = front::who_answered(answer);
    let status_line = answer.status_line();
    let outcome = match &who {
        Answerer::Exchange(_) => Outcome::pass(format!("Exchange answers {status_line} ({}).", who.signs())),
        Answerer::Device(_) if unauthenticated => in_front(url, host, &who),
        Answerer::Device(_) => Outcome::new(
            Status::Info,
            format!(
                "Something in front of Exchange answers {status_line} ({}).",
                who.signs()
            ),
        ),
        Answerer::Unknown => Outcome::new(
            Status::Info,
            format!(
                "{url} answers {status_line}: nothing shows who answered (none of Exchange's headers, nor a device's signs)."
            ),
        ),
    };
    let class = match who {
        Answerer::Exchange(_) => BY_EXCHANGE,
        Answerer::Device(_) => BY_DEVICE,
        Answerer::Unknown => BY_UNKNOWN,
    };
    let mut evidence = evidence(ANSWER, answer).fact(ANSWERED_BY, class);
    if !who.signs().is_empty() {
        evidence = evidence.fact("Signs", who.signs());
    }
    outcome.with_evidence(evidence)
}
