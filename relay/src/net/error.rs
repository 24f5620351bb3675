use std::net::SocketAddr;

use crate::policy::Refusal;

/// A network step that did not succeed, grouped by whose fault it is. Each carries the operation's
/// target so the message stands on its own.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NetError {
    // --- The name: DNS has no usable answer.
    /// The name does not exist (NXDOMAIN).
    #[error("{host} does not exist in DNS")]
    NoSuchName { host: String },
    /// The name exists but has no A or AAAA record.
    #[error("{host} has no address record (A or AAAA) in DNS")]
    NoAddress { host: String },
    /// The DNS server did not answer in time.
    #[error("no DNS answer for {host} within {secs} s")]
    DnsTimeout { host: String, secs: u64 },
    /// The lookup failed for another reason (server failure, refused, unreachable DNS server).
    #[error("looking up {host} failed: {reason}")]
    Dns { host: String, reason: String },

    // --- Our policy: the relay will not go there.
    /// The egress policy refused the address the name resolved to.
    #[error("not connecting to {addr}: {refusal}")]
    Refused { addr: SocketAddr, refusal: Refusal },

    // --- The path: TCP did not connect.
    /// Something answered with a reset: nothing listens on that port.
    #[error("{addr} refused the connection: nothing listens on port {}", addr.port())]
    ConnectionRefused { addr: SocketAddr },
    /// No answer at all: a firewall drops the packets, or the host is down.
    #[error("no answer from {addr} within {secs} s")]
    ConnectTimeout { addr: SocketAddr, secs: u64 },
    /// Any other connect failure (host unreachable, network unreachable...).
    #[error("connecting to {addr} failed: {reason}")]
    Connect { addr: SocketAddr, reason: String },

    // --- The peer: TLS did not complete.
    /// The connection opened but the TLS handshake did not finish in time.
    #[error("{addr} accepted the connection but did not complete a TLS handshake within {secs} s")]
    TlsTimeout { addr: SocketAddr, secs: u64 },
    /// The peer answered with something that is not TLS (usually plain HTTP).
    #[error("{addr} did not answer with TLS: {reason}")]
    NotTls { addr: SocketAddr, reason: String },
    /// The peer speaks only TLS 1.1 or older.
    #[error("{addr} offers nothing newer than TLS 1.1 ({reason})")]
    TlsTooOld { addr: SocketAddr, reason: String },
    /// The peer and we share no cipher suite or other parameter.
    #[error("{addr} and migcheck have no TLS parameters in common ({reason})")]
    TlsIncompatible { addr: SocketAddr, reason: String },
    /// The certificate failed verification on a connection meant to carry credentials.
    #[error("{addr} presented a certificate migcheck does not trust: {reason}")]
    Certificate { addr: SocketAddr, reason: String },
    /// The handshake failed in another way (connection reset, alert from the peer...).
    #[error("TLS handshake with {addr} failed: {reason}")]
    TlsHandshake { addr: SocketAddr, reason: String },

    // --- The conversation: HTTP did not complete.
    /// No HTTP answer in time.
    #[error("{addr} did not answer the HTTP request within {secs} s")]
    HttpTimeout { addr: SocketAddr, secs: u64 },
    /// The peer broke the HTTP exchange (closed, answered something that is not HTTP, too large).
    #[error("the HTTP exchange with {addr} failed: {reason}")]
    Http { addr: SocketAddr, reason: String },
}

impl NetError {
    /// The peer (or its DNS) said nothing within the deadline: asking it again costs the deadline again.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            NetError::DnsTimeout { .. }
                | NetError::ConnectTimeout { .. }
                | NetError::TlsTimeout { .. }
                | NetError::HttpTimeout { .. }
        )
    }

    /// The address a TCP connection was made to before this failure, if it got that far.
    pub fn connected_peer(&self) -> Option<SocketAddr> {
        match self {
            NetError::TlsTimeout { addr, .. }
            | NetError::NotTls { addr, .. }
            | NetError::TlsTooOld { addr, .. }
            | NetError::TlsIncompatible { addr, .. }
            | NetError::Certificate { addr, .. }
            | NetError::TlsHandshake { addr, .. }
            | NetError::HttpTimeout { addr, .. }
            | NetError::Http { addr, .. } => Some(*addr),
            _ => None,
        }
    }
}
