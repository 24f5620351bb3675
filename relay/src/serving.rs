//! The relay's listeners: connections accepted under a cap, each served by hyper's HTTP/1.1 server with
//! a header-read timeout, and a graceful stop.
//!
//! `axum::serve` has no knob for these, so the accept loop is ours and each connection is hyper's own
//! `http1::Builder` (with `TokioTimer`, so `header_read_timeout` runs) watched by hyper-util's
//! `GracefulShutdown`. hyper starts the header timer whenever the connection waits for a request head,
//! the first or the next one on a kept-alive connection: a slow-header client and an idle keep-alive
//! connection are both closed when it runs out.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::limits::client_key;
use crate::telemetry;

/// How connections are kept in check.
#[derive(Debug, Clone)]
pub struct Hygiene {
    /// The longest a connection may take to send a request's head, counted from when the relay waits
    /// for one: also how long an idle keep-alive connection stays open. (The body's bound is the API's
    /// `Lifecycle::request_timeout`, set to the same figure.)
    pub header_timeout: Duration,
    /// Connections open at once; past it the relay stops accepting (the kernel's backlog queues them).
    pub max_connections: usize,
    /// Connections one client address (an IPv6 /64) may hold open; past it a new one is closed at once.
    pub max_per_client: usize,
    /// Peers the per-client cap does not count: the trusted reverse proxies, whose connections carry
    /// many clients.
    pub proxies: Vec<IpNet>,
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `stop` is cancelled; then returns
/// the open connections, told to close once their request is answered, for the caller to wait on.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    hygiene: Hygiene,
    stop: CancellationToken,
) -> GracefulShutdown {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(hygiene.max_connections));
    let per_client = Arc::new(PerClient::default());
    let hygiene = Arc::new(hygiene);
    loop {
        let accepted = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => tokio::select! {
                    accepted = listener.accept() => accepted.map(|a| (a, permit)),
                    () = stop.cancelled() => break,
                },
                Err(_) => break,
            },
            () = stop.cancelled() => break,
        };
        let ((tcp, peer), permit) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors, most likely: give the open connections time to close.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let counted = if hygiene.proxies.iter().any(|n| n.contains(&peer.ip().to_canonical())) {
            None
        } else {
            match PerClient::enter(&per_client, peer.ip(), hygiene.max_per_client) {
                Some(entry) => Some(entry),
                None => {
                    telemetry::connection_refused();
                    tracing::debug!("a client address holds too many connections; one more closed");
                    continue;
                }
            }
        };
        let (router, hygiene, tls, watcher) = (router.clone(), Arc::clone(&hygiene), tls.clone(), graceful.watcher());
        tokio::spawn(async move {
            let _held = (permit, counted, telemetry::OpenConnection::open());
            match tls {
                None => connection(tcp, peer, router, &hygiene, watcher).await,
                Some(acceptor) => {
                    if let Some(tls) = crate::serve_tls::handshake(&acceptor, tcp, peer).await {
                        connection(tls, peer, router, &hygiene, watcher).await;
                    }
                }
            }
        });
    }
    graceful
}

/// One connection, served until it closes, its header timer runs out, or the relay stops.
async fn connection<I>(io: I, peer: SocketAddr, router: Router, hygiene: &Hygiene, watcher: Watcher)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // The handlers read the client's address as axum's `ConnectInfo`.
    let service = router.map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(hygiene.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection ended");
    }
}

/// Open connections per client address; an address leaves the map with its last connection.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

/// One connection of `ip`, counted until dropped.
struct Entry {
    map: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    fn enter(map: &Arc<PerClient>, ip: IpAddr, cap: usize) -> Option<Entry> {
        let ip = client_key(ip);
        let mut counts = map.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Entry {
            map: Arc::clone(map),
            ip,
        })
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut counts = self.map.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_address_holds_at_most_its_cap() {
        let map = Arc::new(PerClient::default());
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let first = PerClient::enter(&map, ip, 2).expect("first");
        let second = PerClient::enter(&map, ip, 2).expect("second");
        assert!(PerClient::enter(&map, ip, 2).is_none());
        assert!(PerClient::enter(&map, "192.0.2.2".parse().expect("ip"), 2).is_some());
        drop(first);
        let third = PerClient::enter(&map, ip, 2).expect("a slot came back");
        drop((second, third));
        assert!(map.0.lock().expect("lock").is_empty(), "no address stays behind");
    }
}
