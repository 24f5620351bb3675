//! A verified TLS connection, whichever client carries it: rustls first, OpenSSL for servers whose
//! suites rustls does not speak (see `fallback.rs`). Both verified the chain with our `TrustStore`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The bytes of one TLS connection.
pub enum TlsStream {
    Rustls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    OpenSsl(Box<tokio_openssl::SslStream<TcpStream>>),
}

/// Which TLS client carries a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsClient {
    Rustls,
    /// The second client, for a server that offers none of rustls's suites.
    OpenSsl,
}

impl TlsClient {
    /// Its name in the report.
    pub fn label(self) -> &'static str {
        match self {
            TlsClient::Rustls => "rustls",
            TlsClient::OpenSsl => "OpenSSL (for suites rustls does not speak)",
        }
    }
}

impl AsyncRead for TlsStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TlsStream::Rustls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            TlsStream::OpenSsl(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            TlsStream::Rustls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            TlsStream::OpenSsl(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TlsStream::Rustls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            TlsStream::OpenSsl(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TlsStream::Rustls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            TlsStream::OpenSsl(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
