//! Deadlines, tested on tokio's paused clock: a server that accepts and never answers costs exactly
//! the configured timeout, whatever it is, and the wait ends as a clear outcome.

use std::time::Duration;

use crate::common::*;
use migcheck_lab::Fixture;
use migcheck_relay::net::NetError;

#[tokio::test(start_paused = true)]
#[ignore = "needs the lab: cargo xtask test"]
async fn a_silent_server_costs_one_timeout() {
    let mut net = lab_net(10);
    net.timeout = Duration::from_secs(600);
    let silent = lab().fixture(Fixture::Silent);
    let connected = net
        .connect(&[silent.addr], lab().port())
        .await
        .unwrap_or_else(|(e, _)| panic!("{e}"));
    let before = tokio::time::Instant::now();
    let inspection = net.inspect_tls(connected.stream, connected.peer, &silent.name).await;
    // The paused clock jumps to the deadline once nothing else can happen: the wait is exactly one
    // timeout of virtual time, not a guess at real time.
    assert_eq!(before.elapsed(), Duration::from_secs(600));
    match inspection.error {
        Some(NetError::TlsTimeout { secs: 600, .. }) => {}
        other => panic!("expected a TLS timeout after 600 s, got {other:?}"),
    }
    assert!(inspection.chain.is_empty());
}
