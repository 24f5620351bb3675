//! HTTP/1.1 over a connection the relay opened itself (so the egress policy vetted the address), one
//! connection per conversation: NTLM needs its three messages on the same connection. Every answer is
//! bounded: headers by hyper's limits, the body by `MAX_BODY`, each step by the network timeout.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use migcheck_shared::Phase;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::client::Resumption;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use super::{Net, NetError};

/// Larger answers are cut here: an Autodiscover or SOAP answer is a few kilobytes.
pub const MAX_BODY: usize = 256 * 1024;

/// An open HTTP connection to one host.
pub struct HttpConnection {
    sender: SendRequest<Full<Bytes>>,
    /// The `Host` header value.
    authority: String,
    pub peer: SocketAddr,
    /// What DNS (or an override) answered for the host.
    pub resolved: Vec<IpAddr>,
    /// The negotiated TLS version, for https.
    pub tls_version: Option<&'static str>,
    /// The server's certificate (DER), for https: what NTLM binds its logon to.
    pub leaf: Option<Vec<u8>>,
    /// When each phase of opening the connection started and ended, for the waterfall.
    pub phases: Vec<(Phase, Instant, Instant)>,
}

/// A verified TLS connection, for protocols that write their own HTTP/1.1.
pub struct TlsConnection {
    pub stream: super::TlsStream,
    pub peer: SocketAddr,
    pub resolved: Vec<IpAddr>,
    pub tls_version: Option<&'static str>,
    /// The negotiated cipher suite (IANA name).
    pub cipher_suite: Option<String>,
    /// rustls, or OpenSSL for a server whose suites rustls does not speak.
    pub client: super::TlsClient,
    /// The server's certificate (DER), to compare its names with what the client expects.
    pub leaf: Option<Vec<u8>>,
    pub phases: Vec<(Phase, Instant, Instant)>,
}

/// One answer, as received.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    pub status: u16,
    pub reason: String,
    /// In the order received; names lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Every value of a header in a received list (names compared case-insensitively).
pub fn header_values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

impl HttpAnswer {
    /// Every value of a header (names compared case-insensitively).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        header_values(&self.headers, name)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// The status line as a user knows it: `401 Unauthorized`.
    pub fn status_line(&self) -> String {
        format!("{} {}", self.status, self.reason)
    }
}

impl Net {
    /// The strict client of [`TrustStore::strict_config`](super::TrustStore::strict_config), resuming
    /// the TLS sessions of this diagnosis: its later connections to a host skip the certificate and
    /// key exchange work on both sides.
    fn strict_tls(&self) -> Result<ClientConfig, String> {
        let mut config = (*self.trust.strict_config()?).clone();
        config.resumption = Resumption::store(self.sessions.clone());
        Ok(config)
    }

    /// Opens a verified TLS connection to `host:port` (after DNS and the egress policy), for protocols
    /// that speak HTTP/1.1 by hand (RPC over HTTP streams its bodies).
    pub async fn open_tls(&self, host: &str, port: u16) -> Result<TlsConnection, NetError> {
        let (via_host, via_port) = self.dns.route(host, port);
        let t_dns = Instant::now();
        let (addrs, _) = self.dns.resolve(&via_host, via_port).await?;
        let t_tcp = Instant::now();
        let connected = self.connect(&addrs, via_port).await.map_err(|(e, _)| e)?;
        let t_tls = Instant::now();
        let peer = connected.peer;
        let secured = self.secure(host, connected).await?;
        Ok(TlsConnection {
            stream: secured.stream,
            peer,
            resolved: addrs,
            tls_version: secured.version,
            cipher_suite: secured.suite,
            client: secured.client,
            leaf: secured.leaf,
            phases: vec![
                (Phase::Dns, t_dns, t_tcp),
                (Phase::Tcp, t_tcp, t_tls),
                (Phase::Tls, t_tls, Instant::now()),
            ],
        })
    }

    pub(super) async fn tls_handshake(
        &self,
        host: &str,
        connected: super::Connected,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, NetError> {
        let peer = connected.peer;
        let config = self
            .strict_tls()
            .map_err(|reason| NetError::TlsHandshake { addr: peer, reason })?;
        let name = ServerName::try_from(host.to_string()).map_err(|e| NetError::TlsHandshake {
            addr: peer,
            reason: format!("'{host}' is not a TLS server name: {e}"),
        })?;
        match timeout(
            self.timeout,
            TlsConnector::from(Arc::new(config)).connect(name, connected.stream),
        )
        .await
        {
            Err(_) => Err(NetError::TlsTimeout {
                addr: peer,
                secs: self.timeout.as_secs(),
            }),
            Ok(Err(e)) => Err(super::tls::classify(peer, &e)),
            Ok(Ok(tls)) => Ok(tls),
        }
    }

    /// Opens `https://host:port` (verified) or `http://host:port`, after DNS and the egress policy.
    pub async fn open_http(&self, host: &str, port: u16, https: bool) -> Result<HttpConnection, NetError> {
        let default_port = if https { 443 } else { 80 };
        let authority = if port == default_port {
            host.to_string()
        } else {
            format!("{host}:{port}")
        };
        if !https {
            let (via_host, via_port) = self.dns.route(host, port);
            let t_dns = Instant::now();
            let (addrs, _) = self.dns.resolve(&via_host, via_port).await?;
            let t_tcp = Instant::now();
            let connected = self.connect(&addrs, via_port).await.map_err(|(e, _)| e)?;
            let phases = vec![(Phase::Dns, t_dns, t_tcp), (Phase::Tcp, t_tcp, Instant::now())];
            let peer = connected.peer;
            let sender = handshake(TokioIo::new(connected.stream), peer, self).await?;
            return Ok(HttpConnection {
                sender,
                authority,
                peer,
                resolved: addrs,
                tls_version: None,
                leaf: None,
                phases,
            });
        }
        let tls = self.open_tls(host, port).await?;
        let sender = handshake(TokioIo::new(tls.stream), tls.peer, self).await?;
        Ok(HttpConnection {
            sender,
            authority,
            peer: tls.peer,
            resolved: tls.resolved,
            tls_version: tls.tls_version,
            leaf: tls.leaf,
            phases: tls.phases,
        })
    }
}

async fn handshake<T>(io: TokioIo<T>, peer: SocketAddr, net: &Net) -> Result<SendRequest<Full<Bytes>>, NetError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = timeout(net.timeout, http1::handshake(io))
        .await
        .map_err(|_| NetError::HttpTimeout {
            addr: peer,
            secs: net.timeout.as_secs(),
        })?
        .map_err(|e| NetError::Http {
            addr: peer,
            reason: e.to_string(),
        })?;
    // The connection task ends when the sender is dropped or the peer closes.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

impl HttpConnection {
    /// Whether another request can go on this connection (the server has not closed it).
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }

    /// Sends one request and reads the whole (bounded) answer.
    pub async fn send(
        &mut self,
        net: &Net,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetError> {
        let peer = self.peer;
        let http_error = |reason: String| NetError::Http { addr: peer, reason };
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.authority);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| http_error(format!("bad request: {e}")))?;
        let exchange = async {
            self.sender.ready().await.map_err(|e| http_error(e.to_string()))?;
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|e| http_error(describe_hyper(&e)))?;
            let status = response.status();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| http_error(describe_body_error(&*e)))?
                .to_bytes()
                .to_vec();
            Ok::<_, NetError>(HttpAnswer {
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_string(),
                headers,
                body,
            })
        };
        timeout(net.timeout, exchange)
            .await
            .map_err(|_| NetError::HttpTimeout {
                addr: peer,
                secs: net.timeout.as_secs(),
            })?
    }
}

/// hyper's words, with its limit on the response head said plainly.
fn describe_hyper(e: &hyper::Error) -> String {
    if e.is_parse_too_large() {
        return String::from(
            "the answer's headers are larger than migcheck accepts (about 400 KB): not an answer a web server sends",
        );
    }
    e.to_string()
}

/// Why reading a body stopped; a body past [`MAX_BODY`] is cut there (it is never decompressed either:
/// migcheck sends no Accept-Encoding and reads what comes as opaque bytes).
fn describe_body_error(e: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
        return format!(
            "the answer is larger than {} KiB, more than any Autodiscover or SOAP answer; migcheck stopped reading",
            MAX_BODY / 1024
        );
    }
    match e.downcast_ref::<hyper::Error>() {
        Some(h) => format!("reading the body: {}", describe_hyper(h)),
        None => format!("reading the body: {e}"),
    }
}

/// The authority of a URL or `Host` header: the host alone on 443, `host:port` on any other port.
pub fn authority(host: &str, port: u16) -> String {
    if port == 443 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    }
}
