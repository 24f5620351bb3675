//! The second TLS client, OpenSSL, for servers whose cipher suites rustls does not speak.
//!
//! rustls offers only forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20). A Windows Server
//! 2012 R2 or 2008 R2 with an RSA certificate offers ECDHE_RSA only with AES-CBC, and GCM only with DHE
//! or static RSA (Microsoft, "TLS Cipher Suites in Windows 8.1" and "... in Windows 7"): no suite in
//! common, although Exchange Online connects to it fine. When rustls's handshake fails that way,
//! migcheck connects again with OpenSSL offering TLS 1.2 and the suites Windows servers offer, for the
//! inspection and for every probe after it.
//!
//! The certificate is still judged by us, never by OpenSSL: OpenSSL verifies nothing (it only proves
//! the server holds the key, through the signed key exchange or the RSA key transport), and the chain
//! it captured goes through webpki with our `TrustStore`, exactly as rustls's strict client does, before
//! a single byte is sent. A connection whose chain fails is closed unused.
//!
//! Which host and address needed the second client is remembered for the diagnosis ([`TlsRoutes`]), so
//! later connections go to OpenSSL straight away instead of failing rustls each time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use openssl::ssl::{ErrorCode, Ssl, SslContext, SslMethod, SslVerifyMode, SslVersion};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_openssl::SslStream;

use migcheck_shared::kb::EXCHANGE_ONLINE_SUITES;

use super::stream::{TlsClient, TlsStream};
use super::{Connected, Inspection, Net, NetError, TrustStore};

/// What OpenSSL offers after Exchange Online's own suites (taken from the KB, in its order, so a
/// server that lets the client choose picks one of those): the rest of what Windows Server 2012 R2 and
/// 2016 enable by default and OpenSSL has (ECDHE_ECDSA, DHE_RSA, static RSA with CBC). Not DHE_DSS (no
/// Exchange has a DSA certificate, and webpki verifies none) nor 3DES and RC4.
const WINDOWS_EXTRA_SUITES: &[&str] = &[
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-ECDSA-AES128-SHA",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-SHA",
    "DHE-RSA-AES128-SHA",
    "AES256-SHA256",
    "AES128-SHA256",
    "AES256-SHA",
    "AES128-SHA",
];

/// What the second client tried, when rustls's handshake failed.
#[derive(Clone, Debug)]
pub enum SecondTry {
    /// OpenSSL completed the handshake; rustls had failed with this.
    Completed { rustls: NetError },
    /// OpenSSL failed too, with this.
    Failed(NetError),
}

/// What a handshake agreed on.
#[derive(Clone, Debug)]
pub struct Negotiated {
    /// `TLS 1.2`, ...
    pub version: Option<&'static str>,
    /// The IANA name (`TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384`).
    pub suite: Option<String>,
    /// Leaf first, as sent.
    pub chain: Vec<CertificateDer<'static>>,
    pub alpn: Option<String>,
}

/// A connection verified by our `TrustStore`, and what it agreed on.
pub struct Secured {
    pub stream: TlsStream,
    pub client: TlsClient,
    pub version: Option<&'static str>,
    pub suite: Option<String>,
    /// The server's certificate (DER): what a channel binding is computed from.
    pub leaf: Option<Vec<u8>>,
}

/// The hosts (by name and address) on which rustls failed for want of common parameters and OpenSSL
/// succeeded, with rustls's error; kept for one diagnosis (see `Net::for_one_diagnosis`).
#[derive(Debug, Default)]
pub struct TlsRoutes {
    needs_openssl: Mutex<HashMap<(String, SocketAddr), NetError>>,
}

impl TlsRoutes {
    fn key(host: &str, peer: SocketAddr) -> (String, SocketAddr) {
        (host.to_ascii_lowercase(), peer)
    }

    /// rustls's refusal when this host needed OpenSSL earlier in the diagnosis.
    pub fn remembered(&self, host: &str, peer: SocketAddr) -> Option<NetError> {
        self.needs_openssl
            .lock()
            .ok()
            .and_then(|m| m.get(&Self::key(host, peer)).cloned())
    }

    fn remember(&self, host: &str, peer: SocketAddr, rustls: NetError) {
        if let Ok(mut m) = self.needs_openssl.lock() {
            m.insert(Self::key(host, peer), rustls);
        }
    }
}

/// A failure that the second client may get past: no common version, suite or other parameter, or a
/// server that hangs up on a ClientHello it cannot serve (Schannel may close instead of alerting).
fn worth_a_second_try(e: &NetError) -> bool {
    matches!(
        e,
        NetError::TlsTooOld { .. } | NetError::TlsIncompatible { .. } | NetError::TlsHandshake { .. }
    )
}

impl Net {
    /// A verified TLS connection on `connected`: rustls, or OpenSSL when rustls fails for want of
    /// common parameters (or failed so on this host before, in this diagnosis).
    pub(super) async fn secure(&self, host: &str, connected: Connected) -> Result<Secured, NetError> {
        let peer = connected.peer;
        if self.tls_routes.remembered(host, peer).is_some() {
            return self.secure_with_openssl(host, connected.stream, peer).await;
        }
        let rustls_error = match self.tls_handshake(host, connected).await {
            Ok(stream) => {
                let conn = stream.get_ref().1;
                return Ok(Secured {
                    version: super::tls::version_name(conn.protocol_version()),
                    suite: conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())),
                    leaf: conn.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()),
                    client: TlsClient::Rustls,
                    stream: TlsStream::Rustls(Box::new(stream)),
                });
            }
            Err(e) if worth_a_second_try(&e) => e,
            Err(e) => return Err(e),
        };
        let again = self.connect(&[peer.ip()], peer.port()).await.map_err(|(e, _)| e)?;
        match self.secure_with_openssl(host, again.stream, peer).await {
            Ok(secured) => {
                tracing::debug!(%peer, host, "rustls found no common parameters; OpenSSL connected");
                self.tls_routes.remember(host, peer, rustls_error);
                Ok(secured)
            }
            // What rustls said is what a user can act on when OpenSSL cannot connect either (a server
            // that speaks only TLS 1.0); a certificate refusal is OpenSSL's own finding.
            Err(e @ NetError::Certificate { .. }) => Err(e),
            Err(_) => Err(rustls_error),
        }
    }

    async fn secure_with_openssl(&self, host: &str, stream: TcpStream, peer: SocketAddr) -> Result<Secured, NetError> {
        let ciphers = fallback_ciphers();
        let (stream, negotiated) = self.openssl_handshake(stream, peer, host, &ciphers).await?;
        verify_chain(&self.trust, &negotiated.chain, host, peer)?;
        Ok(Secured {
            stream: TlsStream::OpenSsl(Box::new(stream)),
            client: TlsClient::OpenSsl,
            version: negotiated.version,
            suite: negotiated.suite,
            leaf: negotiated.chain.first().map(|c| c.to_vec()),
        })
    }

    /// The inspection handshake (rustls, trusting anything, see `tls.rs`), and when it fails for want
    /// of common parameters the same look with OpenSSL on a new connection. On success the inspection
    /// carries OpenSSL's version, suite and chain, and `second_try` says what rustls answered.
    pub async fn inspect(&self, stream: TcpStream, peer: SocketAddr, host: &str) -> Inspection {
        if let Some(rustls) = self.tls_routes.remembered(host, peer) {
            let mut inspection = Inspection::new(peer);
            match self.openssl_handshake(stream, peer, host, &fallback_ciphers()).await {
                Ok((_, negotiated)) => {
                    inspection.take(negotiated);
                    inspection.second_try = Some(SecondTry::Completed { rustls });
                }
                Err(e) => {
                    inspection.error = Some(rustls);
                    inspection.second_try = Some(SecondTry::Failed(e));
                }
            }
            return inspection;
        }
        let mut inspection = self.inspect_tls(stream, peer, host).await;
        let Some(rustls) = inspection.error.clone().filter(worth_a_second_try) else {
            return inspection;
        };
        let tried = match self.connect(&[peer.ip()], peer.port()).await {
            Ok(again) => {
                self.openssl_handshake(again.stream, peer, host, &fallback_ciphers())
                    .await
            }
            Err((e, _)) => Err(e),
        };
        match tried {
            Ok((_, negotiated)) => {
                self.tls_routes.remember(host, peer, rustls.clone());
                inspection.take(negotiated);
                // rustls's look at the signature is moot: OpenSSL checked the one it completed with.
                inspection.signature_problem = None;
                inspection.error = None;
                inspection.second_try = Some(SecondTry::Completed { rustls });
            }
            Err(e) => inspection.second_try = Some(SecondTry::Failed(e)),
        }
        inspection
    }

    /// A handshake offering exactly Exchange Online's suites (the KB's list), on a new connection: can
    /// Exchange Online's own client connect to this server? Nothing is sent over it.
    pub async fn try_exchange_online_suites(&self, peer: SocketAddr, host: &str) -> Result<Negotiated, NetError> {
        let ciphers = openssl_names(EXCHANGE_ONLINE_SUITES).join(":");
        let again = self.connect(&[peer.ip()], peer.port()).await.map_err(|(e, _)| e)?;
        let (_, negotiated) = self.openssl_handshake(again.stream, peer, host, &ciphers).await?;
        Ok(negotiated)
    }

    /// An OpenSSL handshake that trusts anything (our webpki check comes after), TLS 1.2 only, with
    /// `ciphers` (OpenSSL names).
    async fn openssl_handshake(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        host: &str,
        ciphers: &str,
    ) -> Result<(SslStream<TcpStream>, Negotiated), NetError> {
        let failed = |reason: String| NetError::TlsHandshake { addr: peer, reason };
        let ssl = client_ssl(host, ciphers).map_err(|e| failed(format!("setting up OpenSSL: {e}")))?;
        let mut tls = SslStream::new(ssl, stream).map_err(|e| failed(format!("setting up OpenSSL: {e}")))?;
        match timeout(self.timeout, Pin::new(&mut tls).connect()).await {
            Err(_) => Err(NetError::TlsTimeout {
                addr: peer,
                secs: self.timeout.as_secs(),
            }),
            Ok(Err(e)) => Err(classify(peer, &e)),
            Ok(Ok(())) => {
                let negotiated = negotiated(tls.ssl());
                Ok((tls, negotiated))
            }
        }
    }
}

impl Inspection {
    /// Nothing learned yet about `peer`.
    pub(super) fn new(peer: SocketAddr) -> Inspection {
        Inspection {
            peer,
            version: None,
            cipher_suite: None,
            alpn: None,
            chain: Vec::new(),
            signature_problem: None,
            error: None,
            legacy: None,
            second_try: None,
        }
    }

    /// What OpenSSL's completed handshake agreed on.
    fn take(&mut self, negotiated: Negotiated) {
        self.version = negotiated.version;
        self.cipher_suite = negotiated.suite;
        self.alpn = negotiated.alpn;
        self.chain = negotiated.chain;
    }
}

/// OpenSSL's names of `suites` (IANA names); those it does not know are left out.
fn openssl_names(suites: &[&str]) -> Vec<&'static str> {
    suites
        .iter()
        .map(|s| openssl::ssl::cipher_name(s))
        .filter(|n| *n != "(NONE)")
        .collect()
}

/// The second client's offer: Exchange Online's suites first, then Windows' others.
fn fallback_ciphers() -> String {
    let mut names = openssl_names(EXCHANGE_ONLINE_SUITES);
    names.extend(WINDOWS_EXTRA_SUITES.iter().copied());
    names.join(":")
}

fn client_ssl(host: &str, ciphers: &str) -> Result<Ssl, openssl::error::ErrorStack> {
    let mut ctx = SslContext::builder(SslMethod::tls_client())?;
    // TLS 1.2 only: Exchange Online needs it, and a server that speaks only older versions is judged so
    // by the version check (after this client failed too).
    ctx.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    ctx.set_max_proto_version(Some(SslVersion::TLS1_2))?;
    ctx.set_cipher_list(ciphers)?;
    // The same in the system's libssl (Debian builds it for level 2) and the vendored one (level 1):
    // level 1 takes the 1024-bit DHE groups older Windows servers may send; the certificate's own key
    // is held to 2048 bits by webpki and the KB.
    ctx.set_security_level(1);
    // Verification is ours (webpki on the captured chain); OpenSSL only carries the bytes.
    ctx.set_verify(SslVerifyMode::NONE);
    ctx.set_alpn_protos(b"\x08http/1.1")?;
    let ctx = ctx.build();
    let mut ssl = Ssl::new(&ctx)?;
    if host.parse::<std::net::IpAddr>().is_err() {
        ssl.set_hostname(host)?;
    }
    Ok(ssl)
}

fn negotiated(ssl: &openssl::ssl::SslRef) -> Negotiated {
    let chain: Vec<CertificateDer<'static>> = match ssl.peer_cert_chain() {
        Some(stack) => stack
            .iter()
            .filter_map(|c| c.to_der().ok())
            .map(CertificateDer::from)
            .collect(),
        None => ssl
            .peer_certificate()
            .and_then(|c| c.to_der().ok())
            .map(CertificateDer::from)
            .into_iter()
            .collect(),
    };
    Negotiated {
        version: ssl.version2().map(version_name),
        suite: ssl.current_cipher().and_then(|c| c.standard_name()).map(str::to_string),
        chain,
        alpn: ssl
            .selected_alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
    }
}

fn version_name(v: SslVersion) -> &'static str {
    if v == SslVersion::TLS1_3 {
        "TLS 1.3"
    } else if v == SslVersion::TLS1_2 {
        "TLS 1.2"
    } else if v == SslVersion::TLS1_1 {
        "TLS 1.1"
    } else if v == SslVersion::TLS1 {
        "TLS 1.0"
    } else {
        "an older TLS version"
    }
}

/// The chain OpenSSL captured, judged as rustls's strict client judges one: webpki, our roots, the
/// name, the dates.
fn verify_chain(
    trust: &TrustStore,
    chain: &[CertificateDer<'static>],
    host: &str,
    peer: SocketAddr,
) -> Result<(), NetError> {
    let refused = |reason: String| NetError::Certificate { addr: peer, reason };
    let (leaf, intermediates) = chain
        .split_first()
        .ok_or_else(|| refused("the server presented no certificate".into()))?;
    let roots = rustls::RootCertStore {
        roots: trust.anchors.clone(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| refused(e.to_string()))?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| refused(format!("'{host}' is not a TLS server name: {e}")))?;
    verifier
        .verify_server_cert(leaf, intermediates, &name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| match e {
            rustls::Error::InvalidCertificate(c) => refused(c.to_string()),
            other => refused(other.to_string()),
        })
}

/// Puts an OpenSSL handshake failure in the group a user can act on, as `tls::classify` does for rustls.
fn classify(addr: SocketAddr, e: &openssl::ssl::Error) -> NetError {
    let reasons: Vec<String> = e
        .ssl_error()
        .map(|stack| {
            stack
                .errors()
                .iter()
                .filter_map(|er| er.reason())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let said = reasons.join("; ");
    let has = |words: &[&str]| words.iter().any(|w| said.contains(w));
    if has(&["protocol version", "unsupported protocol", "no protocols available"]) {
        return NetError::TlsTooOld {
            addr,
            reason: format!("OpenSSL: {said}"),
        };
    }
    if has(&[
        "handshake failure",
        "no shared cipher",
        "insufficient security",
        "no cipher",
        "too small",
    ]) {
        return NetError::TlsIncompatible {
            addr,
            reason: format!("OpenSSL: {said}"),
        };
    }
    if has(&["wrong version number", "packet length too long", "record layer failure"]) {
        return NetError::NotTls {
            addr,
            reason: format!("OpenSSL: {said}"),
        };
    }
    let closed = e.code() == ErrorCode::ZERO_RETURN
        || (e.code() == ErrorCode::SYSCALL && said.is_empty())
        || e.io_error()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof);
    if closed || said.contains("unexpected eof") {
        return NetError::TlsHandshake {
            addr,
            reason: "the server closed the connection during the handshake".into(),
        };
    }
    let reason = if said.is_empty() { e.to_string() } else { said };
    NetError::TlsHandshake {
        addr,
        reason: format!("OpenSSL: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_online_suites_come_first_in_openssl_names() {
        let offer = fallback_ciphers();
        assert!(
            offer.starts_with("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:"),
            "{offer}"
        );
        assert_eq!(
            openssl_names(EXCHANGE_ONLINE_SUITES).len(),
            EXCHANGE_ONLINE_SUITES.len(),
            "OpenSSL knows every suite of the KB's list"
        );
        // Every name is one OpenSSL accepts.
        assert!(client_ssl("mail.contoso.test", &offer).is_ok());
    }

    #[test]
    fn a_route_is_remembered_by_name_and_address() {
        let routes = TlsRoutes::default();
        let peer: SocketAddr = "127.0.0.1:443".parse().expect("address");
        assert!(routes.remembered("Mail.Contoso.test", peer).is_none());
        routes.remember(
            "mail.contoso.test",
            peer,
            NetError::TlsIncompatible {
                addr: peer,
                reason: "received fatal alert: HandshakeFailure".into(),
            },
        );
        assert!(routes.remembered("MAIL.contoso.test", peer).is_some());
        let other: SocketAddr = "127.0.0.2:443".parse().expect("address");
        assert!(routes.remembered("mail.contoso.test", other).is_none());
    }
}
