//! Relay capacity: a fixed number of full diagnoses at a fixed concurrency against one relay process,
//! bounded in time; diagnoses per second, errors, p99 and the relay's peak memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::latency;
use crate::stats::Samples;

pub struct Capacity {
    pub requests: usize,
    pub per_second: f64,
    pub errors: usize,
    pub first_error: Option<String>,
    pub p99: Duration,
    pub peak_rss_mib: f64,
    /// The relay's own CPU time per diagnosis (the lab and the load generator use the rest).
    pub relay_cpu_per_diagnosis: Duration,
}

/// `requests` diagnoses of `body`, `concurrency` at a time; stops at `limit` whatever is left.
pub async fn run(relay: SocketAddr, body: &str, concurrency: usize, requests: usize, limit: Duration) -> Capacity {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap_or_default();
    let next = Arc::new(AtomicUsize::new(0));
    let times = Arc::new(Mutex::new(Vec::with_capacity(requests)));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, next, times, errors) = (client.clone(), next.clone(), times.clone(), errors.clone());
            let body = body.to_string();
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < requests && started.elapsed() < limit {
                    let outcome = latency::api(&client, relay, &body).await;
                    match outcome.and_then(|(took, report)| latency::check_healthy(&report).map(|()| took)) {
                        Ok(took) => times.lock().await.push(took),
                        Err(e) => errors.lock().await.push(e),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    let wall = started.elapsed();
    let times = std::mem::take(&mut *times.lock().await);
    let errors = std::mem::take(&mut *errors.lock().await);
    let done = times.len();
    Capacity {
        requests: done + errors.len(),
        per_second: done as f64 / wall.as_secs_f64().max(1e-9),
        errors: errors.len() + requests.saturating_sub(done + errors.len()),
        first_error: errors.into_iter().next(),
        p99: Samples::new(times).percentile(99),
        peak_rss_mib: 0.0,
        relay_cpu_per_diagnosis: Duration::ZERO,
    }
}
