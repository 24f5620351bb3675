//! `migcheck health URL`: one GET, exit 0 on a 2xx answer and 1 otherwise. A distroless container has
//! no curl for its HEALTHCHECK; the relay's own binary asks its `/healthz` instead.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;

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

/// The status `url` answers a GET with (the body is not read).
async fn status_of(url: &str, ca_file: Option<&Path>) -> Result<hyper::StatusCode, String> {
    let request = hyper::Request::get("/")
        .header(
            hyper::header::USER_AGENT,
            concat!("migcheck-health/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::new()))
        .map_err(|e| format!("HTTP: {e}"))?;
    Ok(crate::upstream::send(url, "", request, ca_file).await?.status())
}
