//! `migcheck health URL`: one GET, exit 0 on a 2xx answer and 1 otherwise. A distroless container has
//! no curl for its HEALTHCHECK; the relay's own binary asks its `/healthz` instead.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

pub async fn run(url: &str, timeout: Duration, ca_file: Option<&Path>) -> ExitCode {
    match tokio::time::timeout(timeout, status_of(url, ca_file)).await {
        Ok(Ok(status)) if status.is_success() => {
            println!("{status}");
            ExitCode::SUCCESS
        }
        Ok(Ok(status)) => {
            eprintln!("migcheck health: {url} answered {status}");
            ExitCode::from(1)
        }
        Ok(Err(e)) => {
            eprintln!("migcheck health: {url}: {e}");
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!(
                "migcheck health: {url}: no answer within {} s (--timeout)",
                timeout.as_secs()
            );
            ExitCode::from(1)
        }
    }
}

/// The status `url` answers a GET with.
async fn status_of(url: &str, ca_file: Option<&Path>) -> Result<hyper::StatusCode, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let host = parsed.host().ok_or("the URL has no host")?;
    let port = parsed.port_or_known_default().ok_or("the URL has no port")?;
    let name = match &host {
        url::Host::Domain(d) => d.to_string(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    let tcp = TcpStream::connect((name.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {name} port {port}: {e}"))?;
    let authority = parsed[url::Position::BeforeHost..url::Position::AfterPort].to_string();
    let path = &parsed[url::Position::BeforePath..url::Position::AfterQuery];
    match parsed.scheme() {
        "http" => get(tcp, &authority, path).await,
        "https" => {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(ca_file)?));
            let server = rustls_pki_types::ServerName::try_from(name.clone())
                .map_err(|e| format!("{name} is not a name TLS can check: {e}"))?;
            let tls = connector
                .connect(server, tcp)
                .await
                .map_err(|e| format!("TLS with {name}: {e}"))?;
            get(tls, &authority, path).await
        }
        other => Err(format!("{other}: only http and https URLs")),
    }
}

async fn get<I>(io: I, authority: &str, path: &str) -> Result<hyper::StatusCode, String>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(
            hyper::header::USER_AGENT,
            concat!("migcheck-health/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("HTTP: {e}"))?;
    // The status is the answer; the body is not read.
    let response = sender.send_request(request).await.map_err(|e| format!("HTTP: {e}"))?;
    Ok(response.status())
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
