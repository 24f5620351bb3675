//! The relay's Prometheus metrics, through the `metrics` facade: every name and label is here.
//!
//! Labels come only from closed sets (mode, verdict, cause, reason): never a host name, an address or
//! a user name, which would leak what users diagnose and give each client a series of its own. Without
//! an installed recorder (the tests' in-process relays, `migcheck check`) every call here is a no-op.

use std::time::{Duration, Instant};

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use migcheck_shared::{DiagnoseRequest, Event, Verdict};

const STARTED: &str = "migcheck_diagnoses_started_total";
const FINISHED: &str = "migcheck_diagnoses_finished_total";
const FINDINGS: &str = "migcheck_findings_total";
const DURATION: &str = "migcheck_diagnosis_duration_seconds";
const REFUSALS: &str = "migcheck_refusals_total";
const OPEN_STREAMS: &str = "migcheck_open_streams";
const OUTBOUND: &str = "migcheck_outbound_connections_total";
const OPEN_CONNECTIONS: &str = "migcheck_open_connections";
const CONNECTIONS_REFUSED: &str = "migcheck_connections_refused_total";

/// Installs the process's recorder; its handle renders the text `/metrics` serves.
pub fn install() -> Result<PrometheusHandle, String> {
    // A diagnosis takes from under a second (a host check) to the deadline (90 s by default).
    let buckets = [0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 180.0];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(DURATION.into()), &buckets)
        .map_err(|e| format!("metrics: {e}"))?
        .install_recorder()
        .map_err(|e| format!("metrics: {e}"))?;
    describe_counter!(STARTED, "Diagnoses started, by mode.");
    describe_counter!(
        FINISHED,
        "Diagnoses ended, by mode and verdict (pass, warn, fail; error: stopped by the deadline or a shutdown; abandoned: the client went away)."
    );
    describe_counter!(FINDINGS, "Findings reported, by the KB's cause.");
    describe_histogram!(DURATION, metrics::Unit::Seconds, "How long diagnoses ran, by mode.");
    describe_counter!(REFUSALS, "Requests and connections refused, by reason.");
    describe_gauge!(OPEN_STREAMS, "Diagnosis streams open now.");
    describe_counter!(OUTBOUND, "Connections the probes opened to the servers diagnosed.");
    describe_gauge!(OPEN_CONNECTIONS, "Client connections open now.");
    describe_counter!(
        CONNECTIONS_REFUSED,
        "Client connections closed at once because their address had too many open."
    );
    // Histograms keep their samples until upkeep folds them in; render() alone would let them grow.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// Why the relay said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The egress policy kept a probe from an address.
    Egress,
    /// A 429: the client's rate, or all diagnosis slots taken.
    RateLimit,
    /// The API needs the access token and the request lacked it.
    Token,
    /// The request was not a valid diagnose request.
    Validation,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Refusal::Egress => "egress",
            Refusal::RateLimit => "rate_limit",
            Refusal::Token => "token",
            Refusal::Validation => "validation",
        }
    }
}

pub fn refused(reason: Refusal) {
    counter!(REFUSALS, "reason" => reason.label()).increment(1);
}

/// A probe opened a connection.
pub fn outbound_connection() {
    counter!(OUTBOUND).increment(1);
}

/// A client connection refused at once (its address holds too many).
pub fn connection_refused() {
    counter!(CONNECTIONS_REFUSED).increment(1);
}

/// Counts one client connection while it lives.
pub struct OpenConnection(());

impl OpenConnection {
    pub fn open() -> Self {
        gauge!(OPEN_CONNECTIONS).increment(1.0);
        OpenConnection(())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        gauge!(OPEN_CONNECTIONS).decrement(1.0);
    }
}

/// One diagnosis from start to its last event: started, open stream, and how it ended.
pub struct DiagnosisMeter {
    mode: &'static str,
    started: Instant,
    ended: bool,
}

impl DiagnosisMeter {
    pub fn start(request: &DiagnoseRequest) -> Self {
        let mode = request.mode();
        counter!(STARTED, "mode" => mode).increment(1);
        gauge!(OPEN_STREAMS).increment(1.0);
        DiagnosisMeter {
            mode,
            started: Instant::now(),
            ended: false,
        }
    }

    /// Looks at each event the stream carries; the last one (`done` or `error`) ends the diagnosis.
    pub fn saw(&mut self, event: &Event) {
        match event {
            Event::Done { report } => {
                for finding in &report.findings {
                    // The cause's wire name (`external_access`): a closed set.
                    if let Ok(serde_json::Value::String(cause)) = serde_json::to_value(finding.cause) {
                        counter!(FINDINGS, "cause" => cause).increment(1);
                    }
                }
                let verdict = match report.verdict {
                    Verdict::Pass => "pass",
                    Verdict::Warn => "warn",
                    Verdict::Fail => "fail",
                };
                self.end(verdict);
            }
            Event::Error { .. } => self.end("error"),
            Event::Started { .. } | Event::Finished { .. } => {}
        }
    }

    fn end(&mut self, verdict: &'static str) {
        if self.ended {
            return;
        }
        self.ended = true;
        counter!(FINISHED, "mode" => self.mode, "verdict" => verdict).increment(1);
        histogram!(DURATION, "mode" => self.mode).record(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for DiagnosisMeter {
    fn drop(&mut self) {
        self.end("abandoned");
        gauge!(OPEN_STREAMS).decrement(1.0);
    }
}
