//! HTTP/1.1 to another relay, by URL: `migcheck health`'s GET and the comparison's calls to the relay
//! that looks from outside (`--compare-with`). hyper's own client connection over TCP or rustls (with
//! Mozilla's roots and `--ca-file`'s): one request per connection, nothing pooled.

use std::path::Path;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Sends `request` to `url` with `suffix` appended to its path (`""` for `url` itself); its URI and
/// `Host` are set here. An error says what failed, in words, without the request's headers.
pub async fn send(
    url: &str,
    suffix: &str,
    mut request: hyper::Request<Full<Bytes>>,
    ca_file: Option<&Path>,
) -> Result<hyper::Response<Incoming>, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let host = parsed.host().ok_or("the URL has no host")?;
    let port = parsed.port_or_known_default().ok_or("the URL has no port")?;
    let name = match &host {
        url::Host::Domain(d) => d.to_string(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    let authority = parsed[url::Position::BeforeHost..url::Position::AfterPort].to_string();
    let path = match suffix {
        "" => parsed[url::Position::BeforePath..url::Position::AfterQuery].to_string(),
        s => format!("{}{s}", parsed.path().trim_end_matches('/')),
    };
    let path = if path.is_empty() { "/".to_string() } else { path };
    *request.uri_mut() = path.parse().map_err(|e| format!("not a path: {e}"))?;
    request.headers_mut().insert(
        hyper::header::HOST,
        authority.parse().map_err(|e| format!("not a host: {e}"))?,
    );
    let tcp = TcpStream::connect((name.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {name} port {port}: {e}"))?;
    match parsed.scheme() {
        "http" => exchange(tcp, request).await,
        "https" => {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(ca_file)?));
            let server = rustls_pki_types::ServerName::try_from(name.clone())
                .map_err(|e| format!("{name} is not a name TLS can check: {e}"))?;
            let tls = connector
                .connect(server, tcp)
                .await
                .map_err(|e| format!("TLS with {name}: {e}"))?;
            exchange(tls, request).await
        }
        other => Err(format!("{other}: only http and https URLs")),
    }
}

async fn exchange<I>(io: I, request: hyper::Request<Full<Bytes>>) -> Result<hyper::Response<Incoming>, String>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(connection);
    sender.send_request(request).await.map_err(|e| format!("HTTP: {e}"))
}

/// Mozilla's roots and, with --ca-file, the roots in that PEM file.
fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| format!("{}: not a PEM certificate: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: not a root certificate: {e}", path.display()))?;
        }
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}
