//! One full diagnosis of the healthy lab scenario, Autodiscover through to the endpoint binds, timed
//! through the CLI (a whole process per run, as a user runs it) and through the relay's API.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use migcheck_lab::{AdScenario, Lab};
use migcheck_shared::{Event, Report, Verdict};

const PASSWORD_VAR: &str = "MIGCHECK_BENCH_PASSWORD";

/// The network flags that point migcheck at the lab, with a per-step timeout.
pub fn lab_flags(timeout_secs: u64) -> Vec<String> {
    Lab::shared().migcheck_flags(timeout_secs)
}

/// `migcheck check --email ... --json` on `s`: its wall time and report.
pub fn cli(migcheck: &Path, s: AdScenario, timeout_secs: u64) -> Result<(Duration, Report), String> {
    cli_with(migcheck, s, &lab_flags(timeout_secs))
}

/// The same with the network flags given (the lab's, or the latency injector's).
pub fn cli_with(migcheck: &Path, s: AdScenario, flags: &[String]) -> Result<(Duration, Report), String> {
    let start = Instant::now();
    let out = Command::new(migcheck)
        .args(["check", "--email", &s.email(), "--user", &s.user()])
        .args(["--password-env", PASSWORD_VAR, "--json"])
        .args(flags)
        .env(PASSWORD_VAR, s.password())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", migcheck.display()))?;
    let took = start.elapsed();
    let report: Report = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "migcheck printed no report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((took, report))
}

pub fn body(s: AdScenario) -> String {
    serde_json::json!({ "mode": "autodiscover", "email": s.email(), "user": s.user(), "password": s.password() })
        .to_string()
}

/// One diagnosis through the relay's API, timed to the last byte of the stream.
pub async fn api(client: &reqwest::Client, relay: SocketAddr, body: &str) -> Result<(Duration, Report), String> {
    let start = Instant::now();
    let response = client
        .post(format!("http://{relay}/api/v1/diagnose"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("POST: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("reading the stream: {e}"))?;
    let took = start.elapsed();
    if !status.is_success() {
        return Err(format!("the relay answered {status}: {text}"));
    }
    match text.lines().last().map(serde_json::from_str::<Event>) {
        Some(Ok(Event::Done { report })) => Ok((took, report)),
        other => Err(format!("the stream did not end with a report: {other:?}")),
    }
}

/// The healthy scenario as migcheck must see it (the lab plays an Exchange 2016 past its support end).
pub fn check_healthy(report: &Report) -> Result<(), String> {
    if report.verdict == Verdict::Warn && report.findings.len() == 1 {
        Ok(())
    } else {
        Err(format!(
            "unexpected verdict {:?}: {} ({} findings)",
            report.verdict,
            report.headline,
            report.findings.len()
        ))
    }
}
