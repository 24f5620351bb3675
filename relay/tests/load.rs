//! A bounded load test on loopback: the real `migcheck serve` process with the public relay's rate limits,
//! 200 full Autodiscover diagnoses at once from 200 client addresses, a client flooding the relay beside
//! one that is not, and the relay's peak memory. A fixed number of requests: it stops by itself.
//! The figures are printed, never asserted (this machine is noisy); what is asserted is what users see.
//! "At once" is held by structure: the lab's servers sit behind the latency injector's gate, closed
//! until the relay's own metrics count all 200 started and none finished (an earlier version compared
//! times, and failed on a slower machine when one diagnosis ended before the last had begun).
//!
//! A test binary of its own, not a module of `it`: it loads the whole machine, and cargo runs test
//! binaries one after another, so no other test's 2-second network steps run beside it.

// The relay's test helpers live with the `it` binary; this binary uses a part of them.
#[allow(dead_code)]
#[path = "it/common.rs"]
mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use migcheck_lab::relay_process::RelayProcess;
use migcheck_lab::{AdScenario, Fixture};
use migcheck_shared::{Event, Report, Verdict};

/// `migcheck serve` (this build) on the lab (`net`: its DNS, roots, egress and step timeout) with the
/// public relay's limits, unless `extra` says otherwise.
fn start_relay_process(net: Vec<String>, extra: &[&str]) -> RelayProcess {
    let mut args = net;
    // Generous steps and deadline: the lab's servers share this machine's two cores with 200
    // diagnoses, and what is tested is that all finish, not how fast.
    args.extend(["--deadline".to_string(), "300".to_string()]);
    args.extend(extra.iter().map(ToString::to_string));
    RelayProcess::start(std::path::Path::new(env!("CARGO_BIN_EXE_migcheck")), &args).expect("migcheck serve")
}

/// What one client got: the report, the refusal's status, Retry-After and message, or a connection
/// closed before any answer (past `--max-connections-per-client`, the relay closes a new connection at
/// once).
enum Answer {
    Report(Box<Report>),
    Refused {
        status: u16,
        retry_after: Option<u64>,
        body: String,
    },
    Closed(String),
}

/// One diagnosis sent from `source` (a loopback address of its own: the relay limits per address).
async fn diagnose_from(relay: SocketAddr, source: IpAddr, body: &str) -> Answer {
    let client = reqwest::Client::builder()
        .no_proxy()
        .local_address(source)
        .build()
        .expect("client");
    let sent = client
        .post(format!("http://{relay}/api/v1/diagnose"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(e) => return Answer::Closed(format!("{e:?}")),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let text = response.bytes().await.expect("the answer's body");
    let text = String::from_utf8_lossy(&text).into_owned();
    if status != 200 {
        return Answer::Refused {
            status,
            retry_after,
            body: text,
        };
    }
    let last = text.lines().last().unwrap_or_default();
    match serde_json::from_str::<Event>(last) {
        Ok(Event::Done { report }) => Answer::Report(Box::new(report)),
        other => panic!("the stream from {source} did not end with a report: {other:?}"),
    }
}

fn healthy_autodiscover() -> String {
    let s = AdScenario::Healthy;
    serde_json::json!({ "mode": "autodiscover", "email": s.email(), "user": s.user(), "password": s.password() })
        .to_string()
}

/// The healthy lab as every diagnosis must see it: only the lab's old Exchange 2016 to warn about.
fn assert_healthy(report: &Report, who: &str) {
    let causes: Vec<String> = report.findings.iter().map(|f| format!("{:?}", f.cause)).collect();
    assert_eq!(report.verdict, Verdict::Warn, "{who}: {} {causes:?}", report.headline);
    assert_eq!(causes.len(), 1, "{who}: {causes:?}");
}

/// The relay's counter `name` from its `/metrics`, summed over its labels.
async fn counter(relay: SocketAddr, name: &str) -> f64 {
    let text = get_text(&format!("http://{relay}/metrics")).await;
    text.lines()
        .filter(|line| line.strip_prefix(name).is_some_and(|rest| rest.starts_with(['{', ' '])))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the lab: cargo xtask test"]
async fn two_hundred_diagnoses_at_once_all_finish() {
    const CLIENTS: u8 = 200;
    // Longer than a step's timeout (60 s below): past it, a held diagnosis ends with a timeout, and the
    // wait ends on that.
    const UNDER_WAY: Duration = Duration::from_secs(90);
    let _ = lab().autodiscover();
    // The lab's servers behind the injector's gate, held: every connection a diagnosis makes to them
    // waits there. "At once" is then a matter of structure, not of this machine's speed: no diagnosis
    // can end before the gate opens, and it opens only once the relay has all 200 under way (a relay
    // that queued them would never get there).
    let through = lab().through_latency(Duration::ZERO).expect("the latency injector");
    through.hold();
    // The public relay's defaults, but room for all 200 at once.
    let relay = start_relay_process(through.migcheck_flags(60), &["--max-concurrent", "256"]);
    let idle = relay.peak_rss_mib();
    let body = Arc::new(healthy_autodiscover());
    let tasks: Vec<_> = (1..=CLIENTS)
        .map(|i| {
            let (body, addr) = (Arc::clone(&body), relay.addr);
            tokio::spawn(async move {
                let source = IpAddr::V4(Ipv4Addr::new(127, 0, 1, i));
                let answer = diagnose_from(addr, source, &body).await;
                (source, answer, Instant::now())
            })
        })
        .collect();
    let waiting = Instant::now();
    let (started, finished) = loop {
        let started = counter(relay.addr, "migcheck_diagnoses_started_total").await;
        let finished = counter(relay.addr, "migcheck_diagnoses_finished_total").await;
        if started >= f64::from(CLIENTS) || finished > 0.0 || waiting.elapsed() > UNDER_WAY {
            break (started, finished);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        (started, finished),
        (f64::from(CLIENTS), 0.0),
        "all {CLIENTS} diagnoses must be under way at once, none ended: {started} started, {finished} ended"
    );
    let released = Instant::now();
    through.release();
    let mut took = Vec::new();
    for task in tasks {
        let (source, answer, done) = task.await.expect("client task");
        match answer {
            Answer::Report(report) => assert_healthy(&report, &source.to_string()),
            Answer::Refused { status, body, .. } => panic!("{source} was refused: {status} {body}"),
            Answer::Closed(e) => panic!("{source} got no answer: {e}"),
        }
        took.push(done.duration_since(released));
    }
    let wall = released.elapsed();
    let counts = through.counts();
    assert!(counts.held_at_gate > 0, "nothing waited at the gate: {counts:?}");
    assert_eq!(
        counter(relay.addr, "migcheck_diagnoses_finished_total").await,
        f64::from(CLIENTS)
    );
    took.sort();
    let peak = relay.peak_rss_mib();
    println!(
        "load: {CLIENTS} full Autodiscover diagnoses under way at once ({} connections held at the gate): all finished healthy {:.2} s after it opened; median {} ms, p99 {} ms after it; relay peak RSS {peak:.1} MiB (idle {idle:.1} MiB)",
        counts.held_at_gate,
        wall.as_secs_f64(),
        took[took.len() / 2].as_millis(),
        took[took.len() * 99 / 100].as_millis(),
    );
    // A bound, not a figure: buffers are capped per probe, so 200 diagnoses stay well inside this.
    assert!(peak < 256.0, "the relay used {peak:.1} MiB for {CLIENTS} diagnoses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the lab: cargo xtask test"]
async fn a_flooding_client_does_not_stop_another() {
    const FLOOD: usize = 60;
    let _ = lab().autodiscover();
    // The public relay exactly as it ships: 10 diagnoses a minute per address, bursts of 5, 32 at once,
    // 32 connections per address.
    let relay = start_relay_process(lab_flags(60), &[]);
    let flooder = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 1));
    let polite = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 2));
    let valid = lab().fixture(Fixture::Valid);
    let cheap = serde_json::json!({ "mode": "host", "host": valid.name, "port": lab().port() }).to_string();
    let flooding = Instant::now();
    let flood: Vec<_> = (0..FLOOD)
        .map(|_| {
            let (addr, body) = (relay.addr, cheap.clone());
            tokio::spawn(async move { diagnose_from(addr, flooder, &body).await })
        })
        .collect();
    let other = diagnose_from(relay.addr, polite, &healthy_autodiscover()).await;
    match other {
        Answer::Report(report) => assert_healthy(&report, "the other client"),
        Answer::Refused { status, body, .. } => {
            panic!("the other client was refused during the flood: {status} {body}")
        }
        Answer::Closed(e) => panic!("the other client got no answer during the flood: {e}"),
    }
    let (mut served, mut refused, mut closed) = (0, 0, 0);
    for task in flood {
        match task.await.expect("flood task") {
            Answer::Report(_) => served += 1,
            Answer::Refused {
                status,
                retry_after,
                body,
            } => {
                assert_eq!(status, 429, "{body}");
                assert!(retry_after.is_some_and(|s| s >= 1), "no Retry-After: {body}");
                assert!(body.contains("too many diagnoses from your address"), "{body}");
                refused += 1;
            }
            // More than the 32 connections an address may hold: the rest are closed unread.
            Answer::Closed(_) => closed += 1,
        }
    }
    let flood_took = flooding.elapsed();
    println!(
        "flood: {FLOOD} requests at once from {flooder}: {served} served, {refused} refused with 429, {closed} closed past the connection cap; {polite} got its full diagnosis meanwhile; relay peak RSS {:.1} MiB",
        relay.peak_rss_mib()
    );
    // The burst of 5, and one more for each 6-second interval (10 a minute) the flood lasted, however
    // slow this machine: the bound follows the time taken, it does not assume one.
    let refills = usize::try_from(flood_took.as_secs() / 6).unwrap_or(usize::MAX);
    assert!(
        (5..=6 + refills).contains(&served),
        "{served} of the flood were served in {flood_took:?}"
    );
}
