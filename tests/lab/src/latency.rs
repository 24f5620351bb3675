//! The latency injector: the lab as seen across a network with a chosen round-trip time.
//!
//! This kernel has no netem, so the delay is added in userspace. Each route is a small TCP relay: it
//! listens on a loopback address of its own, connects to the lab server behind it, and hands every chunk
//! on half a round trip after it read it, in each direction. A connection's first byte is held until one
//! round trip after the accept as well, so the TCP handshake is paid as on a real network (a client's
//! `connect` returns at once here; its first byte reaches the server 1.5 round trips after it started,
//! as it would). DNS goes through a UDP relay that delays each answer by a round trip and rewrites the
//! lab's addresses in it to the relays' ([`Injector::start`]'s `rewrite`), so a client that resolves
//! through it reaches the servers only through the relays.
//!
//! What it does not emulate: a refused connection is refused at once (nothing listens on the relay's
//! address), not after a round trip; bandwidth is unlimited; DNS over TCP is not relayed.
//! At a round trip of 0 nothing sleeps: a chunk is written as soon as it is read.
//!
//! The gate ([`Injector::hold`], [`Injector::release`]) is for tests of concurrency: while it is held,
//! a connection is accepted and then kept waiting, unconnected to its server, until the gate opens. A
//! client can then be made to have all its work under way at once before any of it can end, so "at
//! once" is asserted by structure, not by how fast this machine happens to be.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::LabError;

/// The largest chunk read at once, and how many chunks may wait in one direction of a connection.
const CHUNK: usize = 64 * 1024;
const QUEUED_CHUNKS: usize = 256;
/// How long the DNS relay waits for the lab's dnsmasq.
const DNS_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest DNS message relayed (dnsmasq's UDP answers are far smaller).
const DNS_MAX: usize = 4096;

/// One TCP relay: where clients connect, and the lab server behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub listen: SocketAddr,
    pub backend: SocketAddr,
}

/// The DNS relay: where it listens (port 0: any), the lab's dnsmasq, and how an A record's address is
/// rewritten (`None`: kept).
pub struct DnsRoute {
    pub listen: SocketAddr,
    pub upstream: SocketAddr,
    pub rewrite: fn(Ipv4Addr, u8) -> Option<Ipv4Addr>,
    /// Passed to `rewrite` (the lab slot's octet).
    pub rewrite_arg: u8,
}

/// What the injector did, counted as it happened (for tests and for the benchmark's accounting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Connections accepted and connected to their server.
    pub connections: u64,
    /// Connections accepted whose server refused (the client's connection is then closed).
    pub refused: u64,
    /// Chunks handed on, client to server and server to client.
    pub chunks_up: u64,
    pub chunks_down: u64,
    /// Chunks that waited for a connection's handshake round trip before their half round trip.
    pub held_for_handshake: u64,
    /// Connections accepted while the gate was held (they waited for [`Injector::release`]).
    pub held_at_gate: u64,
    /// DNS answers relayed.
    pub dns_answers: u64,
    /// A records rewritten to a relay's address.
    pub dns_rewritten: u64,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    refused: AtomicU64,
    chunks_up: AtomicU64,
    chunks_down: AtomicU64,
    held_for_handshake: AtomicU64,
    held_at_gate: AtomicU64,
    dns_answers: AtomicU64,
    dns_rewritten: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A running injector; dropping it closes every relay and connection.
pub struct Injector {
    rtt: Duration,
    routes: Vec<Route>,
    dns: Option<SocketAddr>,
    counters: Arc<Counters>,
    /// `true` while the gate is open (it starts open).
    gate: watch::Sender<bool>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Injector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injector")
            .field("rtt", &self.rtt)
            .field("routes", &self.routes.len())
            .field("dns", &self.dns)
            .finish_non_exhaustive()
    }
}

impl Injector {
    /// Binds every route (a listen port of 0 takes any free port: see [`Injector::routes`]) and the
    /// DNS relay, then relays on a thread of its own until dropped.
    pub fn start(rtt: Duration, routes: &[Route], dns: Option<DnsRoute>) -> Result<Injector, LabError> {
        let counters = Arc::new(Counters::default());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (routes, thread_counters) = (routes.to_vec(), Arc::clone(&counters));
        let (gate, gate_rx) = watch::channel(true);
        let thread = thread::Builder::new()
            .name("migcheck-lab-latency".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("migcheck-lab-latency")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(LabError::io("building the latency injector's runtime", e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    match bind(rtt, &routes, dns, &thread_counters, &gate_rx).await {
                        Ok(bound) => {
                            let _ = ready_tx.send(Ok(bound));
                            let _ = stop_rx.await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
                // Dropping the runtime here ends every relay task and closes their sockets.
            })
            .map_err(|e| LabError::io("spawning the latency injector's thread", e))?;
        match ready_rx.recv() {
            Ok(Ok((routes, dns))) => Ok(Injector {
                rtt,
                routes,
                dns,
                counters,
                gate,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(LabError::Setup("the latency injector ended before it was ready".into()))
            }
        }
    }

    pub fn rtt(&self) -> Duration {
        self.rtt
    }

    /// The routes as bound (a listen port of 0 replaced by the one taken).
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Where the DNS relay listens.
    pub fn dns(&self) -> Option<SocketAddr> {
        self.dns
    }

    /// From now on, a connection accepted waits, unconnected to its server, until [`Injector::release`].
    pub fn hold(&self) {
        self.gate.send_replace(false);
    }

    /// Opens the gate: every connection waiting at it goes on to its server, and new ones no longer wait.
    pub fn release(&self) {
        self.gate.send_replace(true);
    }

    pub fn counts(&self) -> Counts {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            connections: get(&c.connections),
            refused: get(&c.refused),
            chunks_up: get(&c.chunks_up),
            chunks_down: get(&c.chunks_down),
            held_for_handshake: get(&c.held_for_handshake),
            held_at_gate: get(&c.held_at_gate),
            dns_answers: get(&c.dns_answers),
            dns_rewritten: get(&c.dns_rewritten),
        }
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type Bound = (Vec<Route>, Option<SocketAddr>);

async fn bind(
    rtt: Duration,
    routes: &[Route],
    dns: Option<DnsRoute>,
    counters: &Arc<Counters>,
    gate: &watch::Receiver<bool>,
) -> Result<Bound, LabError> {
    let mut bound = Vec::new();
    for r in routes {
        let listener = TcpListener::bind(r.listen).await.map_err(|e| {
            LabError::io(
                format!("binding the latency relay for {} on {}", r.backend, r.listen),
                e,
            )
        })?;
        let listen = listener
            .local_addr()
            .map_err(|e| LabError::io("reading a relay's address", e))?;
        bound.push(Route {
            listen,
            backend: r.backend,
        });
        tokio::spawn(accept_loop(
            listener,
            r.backend,
            rtt,
            Arc::clone(counters),
            gate.clone(),
        ));
    }
    let dns = match dns {
        Some(route) => {
            let socket = UdpSocket::bind(route.listen)
                .await
                .map_err(|e| LabError::io(format!("binding the DNS relay on {}", route.listen), e))?;
            let addr = socket
                .local_addr()
                .map_err(|e| LabError::io("reading the DNS relay's address", e))?;
            tokio::spawn(dns_loop(Arc::new(socket), route, rtt, Arc::clone(counters)));
            Some(addr)
        }
        None => None,
    };
    Ok((bound, dns))
}

async fn accept_loop(
    listener: TcpListener,
    backend: SocketAddr,
    rtt: Duration,
    counters: Arc<Counters>,
    gate: watch::Receiver<bool>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // e.g. EMFILE: do not spin
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let accepted = Instant::now();
        let counters = Arc::clone(&counters);
        let mut gate = gate.clone();
        tokio::spawn(async move {
            if !*gate.borrow_and_update() {
                Counters::add(&counters.held_at_gate);
                // An error means the injector is going away: its runtime ends this task anyway.
                let _ = gate.wait_for(|open| *open).await;
            }
            let Ok(server) = TcpStream::connect(backend).await else {
                Counters::add(&counters.refused);
                return; // dropping `client` closes it
            };
            Counters::add(&counters.connections);
            // Each chunk is written as soon as it is due: Nagle's algorithm would hold small ones back.
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let handshake_done = accepted + rtt;
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let up = pipe(
                client_read,
                server_write,
                rtt / 2,
                handshake_done,
                Direction::Up,
                &counters,
            );
            let down = pipe(
                server_read,
                client_write,
                rtt / 2,
                handshake_done,
                Direction::Down,
                &counters,
            );
            tokio::join!(up, down);
        });
    }
}

#[derive(Clone, Copy)]
enum Direction {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

/// Copies `from` to `to`, each chunk due half a round trip after it was read (and not before the
/// handshake is done); the end of `from` (or an error reading it) becomes a half-close of `to` when due.
async fn pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    half: Duration,
    handshake_done: Instant,
    direction: Direction,
    counters: &Counters,
) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Option<Vec<u8>>)>(QUEUED_CHUNKS);
    let due = |now: Instant| {
        if now < handshake_done {
            Counters::add(&counters.held_for_handshake);
        }
        now.max(handshake_done) + half
    };
    let read = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = from.read(&mut buf).await.unwrap_or(0);
            let chunk = (n > 0).then(|| buf[..n].to_vec());
            let end = chunk.is_none();
            if tx.send((due(Instant::now()), chunk)).await.is_err() || end {
                return;
            }
        }
    };
    let write = async move {
        while let Some((at, chunk)) = rx.recv().await {
            if at > Instant::now() {
                tokio::time::sleep_until(at).await;
            }
            let Some(bytes) = chunk else {
                let _ = to.shutdown().await;
                return;
            };
            // Counted before it is written, so whoever reads it sees it counted.
            Counters::add(match direction {
                Direction::Up => &counters.chunks_up,
                Direction::Down => &counters.chunks_down,
            });
            if to.write_all(&bytes).await.is_err() {
                return; // dropping `rx` ends the reader at its next chunk
            }
        }
    };
    tokio::join!(read, write);
}

async fn dns_loop(socket: Arc<UdpSocket>, route: DnsRoute, rtt: Duration, counters: Arc<Counters>) {
    let route = Arc::new(route);
    let mut buf = vec![0u8; DNS_MAX];
    loop {
        let Ok((n, client)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let query = buf[..n].to_vec();
        let (socket, route, counters) = (Arc::clone(&socket), Arc::clone(&route), Arc::clone(&counters));
        tokio::spawn(async move {
            let asked = Instant::now();
            tokio::time::sleep(rtt / 2).await;
            let Some(answer) = ask(route.upstream, &query).await else {
                return; // the client's own timeout and retry apply, as on a lossy network
            };
            let (answer, rewritten) = rewrite(&answer, route.rewrite, route.rewrite_arg);
            tokio::time::sleep_until(asked + rtt).await;
            // Counted before it is sent, so a client that has its answer sees it counted.
            Counters::add(&counters.dns_answers);
            counters.dns_rewritten.fetch_add(rewritten, Ordering::Relaxed);
            let _ = socket.send_to(&answer, client).await;
        });
    }
}

/// One query to the lab's dnsmasq, from a socket of its own.
async fn ask(upstream: SocketAddr, query: &[u8]) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.ok()?;
    socket.connect(upstream).await.ok()?;
    socket.send(query).await.ok()?;
    let mut buf = vec![0u8; DNS_MAX];
    let n = tokio::time::timeout(DNS_UPSTREAM_TIMEOUT, socket.recv(&mut buf))
        .await
        .ok()?
        .ok()?;
    buf.truncate(n);
    Some(buf)
}

/// The answer with every A record (answer and additional sections) rewritten; unchanged if it does not
/// parse. Returns how many records were rewritten.
fn rewrite(answer: &[u8], map: fn(Ipv4Addr, u8) -> Option<Ipv4Addr>, arg: u8) -> (Vec<u8>, u64) {
    use hickory_proto::op::Message;
    use hickory_proto::rr::RData;
    let Ok(mut message) = Message::from_vec(answer) else {
        return (answer.to_vec(), 0);
    };
    let mut rewritten = 0;
    for record in message.answers.iter_mut().chain(message.additionals.iter_mut()) {
        if let RData::A(a) = &mut record.data
            && let Some(to) = map(a.0, arg)
        {
            a.0 = to;
            rewritten += 1;
        }
    }
    match message.to_vec() {
        Ok(bytes) => (bytes, rewritten),
        Err(_) => (answer.to_vec(), 0),
    }
}

// ---------------------------------------------------------------------------------------------
// The lab behind the injector.

/// Added to the second octet of a lab slot's addresses for their relays: slot k's `127.(10+k).a.b` is
/// reached through the injector at `127.(110+k).a.b` (slots end at 109, so the two never meet).
const MIRROR_OFFSET: u8 = 100;
/// The ports the slot's servers listen on.
const PORTS: [u16; 2] = [443, 80];
/// How long a server has to accept the probe that decides whether it gets a relay.
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// The relay's address for a lab server's address in the slot whose second octet is `slot_octet`.
fn mirror(ip: Ipv4Addr, slot_octet: u8) -> Option<Ipv4Addr> {
    let [a, b, c, d] = ip.octets();
    (a == 127 && b == slot_octet).then(|| Ipv4Addr::new(127, b.saturating_add(MIRROR_OFFSET), c, d))
}

/// The lab's slot servers (Autodiscover, Outlook Anywhere, EWS) as seen across a network: started by
/// [`crate::Lab::through_latency`]. Point a client at [`LatencyLab::dns`] and it reaches every server
/// only through the injector; [`LatencyLab::egress_cidr`] holds the relays' addresses and no server's.
#[derive(Debug)]
pub struct LatencyLab {
    injector: Injector,
    slot_octet: u8,
    ca_file: std::path::PathBuf,
}

impl LatencyLab {
    /// `servers`: the slot's server addresses; those that accept a connection on 443 or 80 now get a
    /// relay (start the parts of the lab you need first). `dns`: the lab's dnsmasq.
    pub(crate) fn start(
        rtt: Duration,
        slot_octet: u8,
        servers: &[Ipv4Addr],
        dns: SocketAddr,
        ca_file: std::path::PathBuf,
    ) -> Result<LatencyLab, LabError> {
        let mut routes = Vec::new();
        for &ip in servers {
            let Some(relay) = mirror(ip, slot_octet) else { continue };
            for port in PORTS {
                let backend = SocketAddr::new(ip.into(), port);
                if std::net::TcpStream::connect_timeout(&backend, PROBE_TIMEOUT).is_ok() {
                    routes.push(Route {
                        listen: SocketAddr::new(relay.into(), port),
                        backend,
                    });
                }
            }
        }
        let dns_listen = Ipv4Addr::new(127, slot_octet.saturating_add(MIRROR_OFFSET), 0, 1);
        let dns = DnsRoute {
            listen: SocketAddr::new(dns_listen.into(), 0),
            upstream: dns,
            rewrite: mirror,
            rewrite_arg: slot_octet,
        };
        let injector = Injector::start(rtt, &routes, Some(dns))?;
        Ok(LatencyLab {
            injector,
            slot_octet,
            ca_file,
        })
    }

    pub fn rtt(&self) -> Duration {
        self.injector.rtt()
    }

    /// The DNS relay: the lab's names, answered after a round trip with the relays' addresses.
    pub fn dns(&self) -> SocketAddr {
        // Always bound by `start`.
        self.injector
            .dns()
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
    }

    /// Where a lab server's address is reached through the injector (unchanged if it is not a slot address).
    pub fn relay_addr(&self, ip: std::net::IpAddr) -> std::net::IpAddr {
        match ip {
            std::net::IpAddr::V4(v4) => mirror(v4, self.slot_octet).map_or(ip, Into::into),
            v6 => v6,
        }
    }

    /// The relays' block only: a client fenced to it cannot reach a server except through the injector.
    pub fn egress_cidr(&self) -> String {
        format!("127.{}.0.0/16", self.slot_octet.saturating_add(MIRROR_OFFSET))
    }

    /// `migcheck`'s flags for the lab through the injector (as [`crate::Lab::migcheck_flags`]).
    pub fn migcheck_flags(&self, timeout_secs: u64) -> Vec<String> {
        vec![
            "--dns".into(),
            self.dns().to_string(),
            "--public-ca-file".into(),
            self.ca_file.display().to_string(),
            "--egress".into(),
            self.egress_cidr(),
            "--timeout".into(),
            timeout_secs.to_string(),
        ]
    }

    pub fn routes(&self) -> &[Route] {
        self.injector.routes()
    }

    pub fn counts(&self) -> Counts {
        self.injector.counts()
    }

    /// Holds every new connection to the servers at the injector's gate (see [`Injector::hold`]).
    pub fn hold(&self) {
        self.injector.hold();
    }

    /// Lets every connection held at the gate go on, and new ones through.
    pub fn release(&self) {
        self.injector.release();
    }
}
