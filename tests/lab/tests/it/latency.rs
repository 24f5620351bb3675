//! The latency injector: bytes through it unchanged in both directions, each end's half-close passed
//! on, the handshake's round trip paid before the first byte, a held gate keeping connections from
//! their server until it opens, and the lab's names answered with the relays' addresses. Asserted on
//! order and the injector's own accounting; the only times compared are lower bounds the injector must
//! respect (a sleep never ends early), never how fast anything was.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use migcheck_lab::latency::{Injector, Route};
use migcheck_lab::{AdScenario, Lab};

use crate::common::resolver_at;

/// Longer than anything here takes: only a lost half-close reaches it.
const STUCK: Duration = Duration::from_secs(10);

/// A server that reads to the end, then answers the bytes reversed and closes; it reports when its
/// first byte came and everything it read.
fn reversing_server() -> (SocketAddr, mpsc::Receiver<(Instant, Vec<u8>)>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the server");
    let addr = listener.local_addr().expect("server address");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        // A half-close that never comes fails the test instead of hanging it.
        conn.set_read_timeout(Some(STUCK)).expect("read timeout");
        let mut first = [0u8; 1];
        conn.read_exact(&mut first).expect("the first byte");
        let at = Instant::now();
        let mut all = first.to_vec();
        // Ends only if the client's half-close came through.
        conn.read_to_end(&mut all).expect("read to the end");
        let answer: Vec<u8> = all.iter().rev().copied().collect();
        conn.write_all(&answer).expect("answer");
        conn.shutdown(Shutdown::Write).expect("half-close");
        tx.send((at, all)).expect("report");
    });
    (addr, rx)
}

fn injector(rtt: Duration, backend: SocketAddr) -> Injector {
    let route = Route {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        backend,
    };
    Injector::start(rtt, &[route], None).expect("start the injector")
}

/// Sends `payload`, half-closes, reads the answer to its end.
fn exchange(to: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let mut conn = TcpStream::connect(to).expect("connect to the relay");
    conn.set_read_timeout(Some(STUCK)).expect("read timeout");
    conn.write_all(payload).expect("send");
    conn.shutdown(Shutdown::Write).expect("half-close");
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).expect("read the answer");
    answer
}

#[test]
fn at_0_ms_bytes_pass_unchanged_both_ways_and_each_half_close_follows_them() {
    let (server, seen) = reversing_server();
    let injector = injector(Duration::ZERO, server);
    // Larger than one chunk, so it crosses in several.
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let answer = exchange(injector.routes()[0].listen, &payload);
    let (_, received) = seen.recv().expect("the server's report");
    assert_eq!(received, payload, "the server got other bytes than the client sent");
    let reversed: Vec<u8> = payload.iter().rev().copied().collect();
    assert_eq!(answer, reversed, "the client got other bytes than the server sent");
    let counts = injector.counts();
    assert_eq!(counts.connections, 1);
    assert!(counts.chunks_up >= 1 && counts.chunks_down >= 1, "{counts:?}");
    assert_eq!(counts.held_for_handshake, 0, "at 0 ms nothing waits: {counts:?}");
}

#[test]
fn a_held_gate_keeps_a_connection_from_its_server_until_it_is_released() {
    let (server, seen) = reversing_server();
    let injector = injector(Duration::ZERO, server);
    injector.hold();
    let to = injector.routes()[0].listen;
    let client = thread::spawn(move || exchange(to, b"held"));
    let waiting = Instant::now();
    while injector.counts().held_at_gate == 0 {
        assert!(waiting.elapsed() < STUCK, "the injector never took the connection");
        thread::sleep(Duration::from_millis(5));
    }
    // Held: accepted, and not connected to the server (it counts a connection once connected).
    assert_eq!(injector.counts().connections, 0, "a held connection reached its server");
    assert!(seen.try_recv().is_err(), "the server heard from a held connection");
    injector.release();
    assert_eq!(client.join().expect("the client"), b"dleh");
    let (_, received) = seen.recv().expect("the server's report");
    assert_eq!(received, b"held");
    let counts = injector.counts();
    assert_eq!((counts.held_at_gate, counts.connections), (1, 1), "{counts:?}");
}

#[test]
fn with_a_round_trip_set_the_first_byte_waits_for_the_handshake_then_half_a_round_trip() {
    let rtt = Duration::from_millis(80);
    let (server, seen) = reversing_server();
    let injector = injector(rtt, server);
    let started = Instant::now();
    let answer = exchange(injector.routes()[0].listen, b"ping");
    let answered = started.elapsed();
    let (first_byte, received) = seen.recv().expect("the server's report");
    assert_eq!(received, b"ping");
    assert_eq!(answer, b"gnip");
    // Lower bounds: the handshake (one round trip) and half a round trip each way.
    let arrived = first_byte.duration_since(started);
    assert!(
        arrived >= rtt + rtt / 2,
        "the first byte reached the server after {arrived:?}"
    );
    assert!(answered >= rtt * 2, "the answer came after {answered:?}");
    let counts = injector.counts();
    assert!(
        counts.held_for_handshake >= 1,
        "nothing waited for the handshake: {counts:?}"
    );
    assert_eq!(counts.connections, 1);
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn through_the_lab_injector_names_resolve_to_relays_that_reach_the_servers() {
    let lab = Lab::shared();
    let ad = lab.autodiscover();
    let through = lab.through_latency(Duration::from_millis(20)).expect("the injector");
    let name = format!("autodiscover.{}", AdScenario::Healthy.domain());
    let server = ad.addr(&name).expect("the host is in the lab");
    let relay = through.relay_addr(server);
    assert_ne!(relay, server);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let answers: Vec<IpAddr> = rt
        .block_on(resolver_at(through.dns(), false).lookup_ip(name.as_str()))
        .expect("the relay answers")
        .iter()
        .collect();
    assert_eq!(
        answers,
        [relay],
        "the DNS relay must answer the relay's address, not the server's"
    );
    let counts = through.counts();
    assert!(counts.dns_answers >= 1 && counts.dns_rewritten >= 1, "{counts:?}");
    // The fence holds the relays and not the servers.
    let second = |ip: IpAddr| ip.to_string().split('.').nth(1).map(str::to_string);
    assert_ne!(second(relay), second(server));
    assert_eq!(
        through.egress_cidr(),
        format!("127.{}.0.0/16", second(relay).unwrap_or_default())
    );
    // The relay reaches nginx behind it: a TLS client's first bytes get an answer.
    let mut conn = TcpStream::connect((relay, 443)).expect("connect to the relay");
    conn.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 400"),
        "nginx's answer to plain HTTP on its TLS port: {:?}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(through.counts().connections, 1);
}
