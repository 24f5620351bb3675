//! Several instances (issue 22): two real `migcheck serve` processes behind a real nginx (round robin)
//! share their per-client rate limit through a real Redis; when Redis stops, each falls back to its own
//! limit and says so once; when it is back, the budget is shared again.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use migcheck_lab::instances::{Balancer, RedisServer, SERVED_BY};
use migcheck_lab::relay_process::RelayProcess;
use migcheck_relay::limits::{Hosting, Limits, StoreStatus};
use migcheck_relay::rate_store::RateStore;

/// Diagnoses a client may start at once. The rate is 1 a minute, so nothing refills during a test.
const BURST: usize = 3;

/// A diagnosis that costs a rate token and then ends at once: the public egress policy refuses the
/// loopback address before any connection (no traffic, no lab needed).
const CHEAP: &str = r#"{"mode":"host","host":"127.0.0.1","port":443}"#;

fn relay(store: &RedisServer) -> RelayProcess {
    let args = [
        "--rate-per-minute",
        "1",
        "--burst",
        &BURST.to_string(),
        // nginx reaches the relays from 127.0.0.1: its X-Forwarded-For names the client.
        "--trusted-proxy",
        "127.0.0.1",
        "--rate-limit-store",
        &store.url(),
    ]
    .map(String::from);
    RelayProcess::start(Path::new(env!("CARGO_BIN_EXE_migcheck")), &args).expect("migcheck serve")
}

/// What one request through the balancer got: the status, and which relay answered.
struct Answer {
    status: u16,
    by: String,
}

/// `n` diagnoses from the loopback address `source`, one after the other, through `balancer`.
async fn diagnoses(balancer: SocketAddr, source: &str, n: usize) -> Vec<Answer> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .local_address(source.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client");
    let mut answers = Vec::new();
    for _ in 0..n {
        let response = client
            .post(format!("http://{balancer}/api/v1/diagnose"))
            .header("content-type", "application/json")
            .body(CHEAP)
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        let by = response
            .headers()
            .get(SERVED_BY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.text().await.expect("body");
        match status {
            200 => assert!(body.contains(r#""event":"done""#), "{body}"),
            429 => {
                let json: serde_json::Value = serde_json::from_str(&body).expect("json");
                let error = json["error"].as_str().unwrap_or_default();
                assert!(error.starts_with("too many diagnoses from your address"), "{body}");
            }
            other => panic!("unexpected {other} from {by}: {body}"),
        }
        answers.push(Answer { status, by });
    }
    answers
}

fn admitted(answers: &[Answer]) -> usize {
    answers.iter().filter(|a| a.status == 200).count()
}

/// The relays that gave answers with `status`.
fn answered(answers: &[Answer], status: u16) -> BTreeSet<&str> {
    answers
        .iter()
        .filter(|a| a.status == status)
        .map(|a| a.by.as_str())
        .collect()
}

fn lines_with(relay: &RelayProcess, text: &str) -> usize {
    relay.log().iter().filter(|l| l.contains(text)).count()
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn two_instances_behind_nginx_share_one_budget_and_fall_back_to_their_own() {
    let mut redis = RedisServer::start().expect("redis-server");
    let relays = [relay(&redis), relay(&redis)];
    let balancer = Balancer::start(&relays.each_ref().map(|r| r.addr)).expect("nginx");
    let names: BTreeSet<String> = relays.iter().map(|r| r.addr.to_string()).collect();
    let names: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let at = redis.addr().to_string();
    for r in &relays {
        assert_eq!(
            lines_with(r, &format!("rate-limit store {at} reachable")),
            1,
            "{:?}",
            r.log()
        );
    }

    // Shared: one client gets its burst across both instances, not a burst from each.
    let flood = diagnoses(balancer.addr(), "127.0.0.5", 2 * BURST).await;
    assert_eq!(admitted(&flood), BURST, "admitted across both instances");
    assert_eq!(answered(&flood, 200), names, "round robin: both instances admitted");
    assert_eq!(answered(&flood, 429), names, "both instances refused the same client");
    let other = diagnoses(balancer.addr(), "127.0.0.6", 1).await;
    assert_eq!(admitted(&other), 1, "another client has its own budget");
    let keys = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &redis.addr().port().to_string(), "--scan"])
        .output()
        .expect("redis-cli");
    let keys = String::from_utf8_lossy(&keys.stdout).into_owned();
    assert_eq!(keys.lines().count(), 2, "one key a client: {keys}");
    assert!(
        keys.lines()
            .all(|k| k.starts_with("migcheck:rate:") && !k.contains("127.0.0")),
        "{keys}"
    );

    for r in &relays {
        assert_eq!(readyz(r).await.0, 200, "ready with the store answering");
    }

    // Redis gone: each instance counts on its own, so a new client gets a burst from each.
    redis.stop();
    let alone = diagnoses(balancer.addr(), "127.0.0.7", 2 * BURST + 2).await;
    // Not ready while the store does not answer (a load balancer may prefer another instance), yet
    // serving on its own limit, as above.
    for r in &relays {
        let (status, body) = readyz(r).await;
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("store"), "the reason names the store: {body}");
    }
    assert_eq!(admitted(&alone), 2 * BURST, "each instance its own burst");
    for name in &names {
        let by_this = alone.iter().filter(|a| a.by == *name && a.status == 200).count();
        assert_eq!(by_this, BURST, "admitted by {name}");
    }
    assert_eq!(answered(&alone, 429), names, "each refuses past its own burst");
    for r in &relays {
        assert_eq!(
            lines_with(r, "unreachable"),
            1,
            "said once, not per request: {:?}",
            r.log()
        );
        assert!(
            !r.log().iter().any(|l| l.contains("127.0.0.7")),
            "the client's address is not logged"
        );
    }

    // Redis back: each instance notices (its watch asks every 2 s) and says so once; shared again.
    redis.start_again().expect("redis-server again");
    let deadline = Instant::now() + Duration::from_secs(30);
    while relays.iter().any(|r| lines_with(r, "reachable again") == 0) {
        assert!(
            Instant::now() < deadline,
            "not back: {:?}",
            relays.each_ref().map(RelayProcess::log)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = diagnoses(balancer.addr(), "127.0.0.8", 2 * BURST).await;
    assert_eq!(admitted(&again), BURST, "shared again");
    for r in &relays {
        assert_eq!(readyz(r).await.0, 200, "ready again");
    }
    for r in &relays {
        assert_eq!(lines_with(r, "reachable again"), 1, "{:?}", r.log());
        assert_eq!(lines_with(r, "unreachable"), 1, "{:?}", r.log());
    }
}

/// `GET /readyz` straight to one relay: the status and the body.
async fn readyz(relay: &RelayProcess) -> (u16, String) {
    let http = reqwest::Client::builder().no_proxy().build().expect("client");
    let answer = http
        .get(format!("http://{}/readyz", relay.addr))
        .send()
        .await
        .expect("readyz");
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap_or_default())
}

/// What `/readyz` reads: not configured without a store; reachable or not as the store answers.
#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn store_status_follows_the_store() {
    assert_eq!(Hosting::default().store_status(), StoreStatus::NotConfigured);
    let mut redis = RedisServer::start().expect("redis-server");
    let limits = Limits {
        rate_per_minute: 1,
        burst: 1,
        ..Limits::default()
    };
    let hosting = Hosting::new(limits).with_rate_limit_store(RateStore::connect(&redis.url()).expect("url"));
    assert_eq!(hosting.store_status(), StoreStatus::Unreachable, "not asked yet");
    hosting.check_store().await;
    assert_eq!(hosting.store_status(), StoreStatus::Reachable);
    let client = Some("192.0.2.1".parse().expect("ip"));
    assert!(hosting.admit(client).await.is_ok());
    assert!(hosting.admit(client).await.is_err(), "over the burst");
    redis.stop();
    hosting.check_store().await;
    assert_eq!(hosting.store_status(), StoreStatus::Unreachable);
    // Its own limit now, which had not counted this client: one more, then refused.
    assert!(hosting.admit(client).await.is_ok());
    assert!(hosting.admit(client).await.is_err());
}
