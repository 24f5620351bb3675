//! HTTP/1.1 for the lab's RPC proxy: bounded request heads (httparse), bounded body reads, and
//! responses written by hand (RPC over HTTP needs status lines and streams no framework writes).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

/// The largest request head accepted (IIS: 16 KiB by default).
pub(crate) const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 48;

/// A parsed request head.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Content-Length`; `Err` when it is not a number (or repeated with different values).
    pub(crate) fn content_length(&self) -> Result<u64, String> {
        let mut values = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.trim());
        let Some(first) = values.next() else { return Ok(0) };
        if values.any(|v| v != first) {
            return Err("conflicting Content-Length headers".into());
        }
        first.parse().map_err(|_| format!("bad Content-Length {first:?}"))
    }

    pub(crate) fn chunked(&self) -> bool {
        self.header("transfer-encoding").is_some()
    }

    pub(crate) fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
    }

    /// The path without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub(crate) fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    pub(crate) fn host(&self) -> &str {
        self.header("host").unwrap_or("-")
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed (or was idle too long) between requests: not worth an answer.
    Closed,
    /// A malformed or oversized head: answer 400 and close.
    Bad(String),
}

/// A server connection: the stream and what was read past the last head.
pub(crate) struct Conn<S> {
    pub stream: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(crate) fn new(stream: S) -> Self {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads one request head: `idle` bounds the wait for its first byte, `limit` the whole head.
    pub(crate) async fn read_head(&mut self, idle: Duration, limit: Duration) -> Result<Request, ReadError> {
        if self.buf.is_empty() {
            let mut chunk = [0u8; 4096];
            match timeout(idle, self.stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                _ => return Err(ReadError::Closed),
            }
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let request = Request {
                        method: req.method.unwrap_or("").to_string(),
                        target: req.path.unwrap_or("").to_string(),
                        headers: req
                            .headers
                            .iter()
                            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
                            .collect(),
                    };
                    self.buf.drain(..len);
                    return Ok(request);
                }
                Ok(httparse::Status::Partial) if self.buf.len() < MAX_HEAD => {}
                Ok(httparse::Status::Partial) => return Err(ReadError::Bad("request head too large".into())),
                Err(e) => return Err(ReadError::Bad(format!("malformed request head: {e}"))),
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                Ok(_) => return Err(ReadError::Closed),
                Err(_) => return Err(ReadError::Bad("request head not complete in time".into())),
            }
        }
    }

    /// Reads exactly `n` body bytes within `limit`; `None` on EOF or timeout.
    pub(crate) async fn read_exact(&mut self, n: usize, limit: Duration) -> Option<Vec<u8>> {
        let from_buf = n.min(self.buf.len());
        let mut out: Vec<u8> = self.buf.drain(..from_buf).collect();
        if out.len() < n {
            let start = out.len();
            out.resize(n, 0);
            match timeout(limit, self.stream.read_exact(&mut out[start..])).await {
                Ok(Ok(_)) => {}
                _ => return None,
            }
        }
        Some(out)
    }

    /// Reads one whole DCE/RPC PDU (its length from the common header), waiting at most `limit`.
    pub(crate) async fn read_pdu(&mut self, limit: Duration) -> Option<Result<Vec<u8>, String>> {
        let mut pdu = self.read_exact(super::pdu::HEADER_LEN, limit).await?;
        let h = match super::pdu::parse_header(&pdu) {
            Ok(h) => h,
            Err(e) => return Some(Err(e)),
        };
        let rest = usize::from(h.frag_len) - super::pdu::HEADER_LEN;
        pdu.extend(self.read_exact(rest, limit).await?);
        Some(Ok(pdu))
    }

    /// Writes and flushes; `false` when the peer is gone.
    pub(crate) async fn send(&mut self, bytes: &[u8]) -> bool {
        send(&mut self.stream, bytes).await
    }

    /// Reads and throws away up to `n` body bytes (to keep the connection for the next request).
    pub(crate) async fn discard(&mut self, n: u64, limit: Duration) -> bool {
        let Ok(n) = usize::try_from(n) else { return false };
        self.read_exact(n, limit).await.is_some()
    }
}

/// Writes and flushes within 10 s; `false` when the peer is gone or stuck.
pub(crate) async fn send<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8]) -> bool {
    let write = async {
        w.write_all(bytes).await?;
        w.flush().await
    };
    matches!(timeout(Duration::from_secs(10), write).await, Ok(Ok(())))
}

/// A response head (and body): `Content-Length` is added unless `headers` has one.
pub(crate) fn response(status: u16, reason: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// `data` as one chunk of a chunked body (RFC 9112 7.1: the size in hex, CRLF, the data, CRLF; lower-case
/// hex without extensions, which impacket's `int(size_line, 16)` reads).
pub(crate) fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// The reason phrase of the statuses the proxy uses.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}
