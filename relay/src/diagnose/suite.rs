//! The negotiated cipher suite against Exchange Online's (the KB's list), for `tls.handshake`: a suite
//! off the list is tried once more with exactly that list, so the warning comes only where Exchange
//! Online's own client could not connect.

use migcheck_shared::kb::{EXCHANGE_ONLINE_SUITES_SOURCE, SuiteJudgement, TlsProblem, exchange_online_lists};

use super::Outcome;
use crate::net::{Inspection, Net, SecondTry, TlsClient};

/// What Exchange Online makes of the suite of a completed TLS 1.2 handshake (`None`: not judged, the
/// handshake did not complete or was TLS 1.3, for which Microsoft lists no suites).
pub(crate) async fn judge(net: &Net, host: &str, inspection: &Inspection) -> Option<SuiteJudgement> {
    if inspection.error.is_some() || inspection.version != Some("TLS 1.2") {
        return None;
    }
    let suite = inspection.cipher_suite.as_deref()?;
    if exchange_online_lists(suite) {
        return Some(SuiteJudgement::Listed);
    }
    Some(match net.try_exchange_online_suites(inspection.peer, host).await {
        Ok(n) => SuiteJudgement::ChoseListed {
            suite: n.suite.unwrap_or_default(),
        },
        Err(e) => SuiteJudgement::NoneInCommon { answer: e.to_string() },
    })
}

/// The completed handshake's outcome: its version and suite, and what Exchange Online makes of them.
pub(crate) fn completed(host: &str, inspection: &Inspection, judgement: Option<&SuiteJudgement>) -> Outcome {
    let version = inspection.version.unwrap_or("TLS");
    let suite = inspection.cipher_suite.clone().unwrap_or_default();
    let done = format!("Handshake completed: {version}, {suite}.");
    let outcome = match judgement {
        Some(SuiteJudgement::NoneInCommon { answer }) => Outcome::problem(TlsProblem::NoExchangeOnlineSuite {
            host: host.to_string(),
            suite,
        })
        .fact("Offered only Exchange Online's suites", answer.clone()),
        Some(j) => Outcome::pass(match j.sentence() {
            Some(s) => format!("{done} {s}"),
            None => done,
        }),
        None => Outcome::pass(done),
    };
    match judgement {
        Some(_) => outcome.fact("Exchange Online's suites", EXCHANGE_ONLINE_SUITES_SOURCE),
        None => outcome,
    }
}

/// Which client completed the handshake, and what the other said: the evidence of the second try.
pub(crate) fn second_try_facts(mut outcome: Outcome, inspection: &Inspection) -> Outcome {
    match &inspection.second_try {
        Some(SecondTry::Completed { rustls }) => {
            outcome = outcome
                .fact("TLS client", TlsClient::OpenSsl.label())
                .fact("First try (rustls)", rustls.to_string());
        }
        Some(SecondTry::Failed(e)) => {
            outcome = outcome.fact("Second try (OpenSSL, TLS 1.2 with Windows' suites)", e.to_string());
        }
        None if inspection.error.is_none() => outcome = outcome.fact("TLS client", TlsClient::Rustls.label()),
        None => {}
    }
    outcome
}
