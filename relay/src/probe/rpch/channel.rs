//! The HTTP side of an RPC over HTTP channel ([MS-RPCH] 2.1.2.1): the request head of RPC_IN_DATA /
//! RPC_OUT_DATA (custom methods, a body announced but streamed PDU by PDU), and the response head read
//! byte by byte, bounded, because a proxy's `503 RPC Error: 6ba` is told by its status line.

/// The response head may not be larger than this.
pub const MAX_HEAD: usize = 16 * 1024;
/// The IN channel announces a 1 GiB body (it is never sent in full).
pub const IN_CONTENT_LENGTH: u64 = 1_073_741_824;
/// The OUT channel's body is exactly CONN/A1.
pub const OUT_CONTENT_LENGTH: u64 = 76;

/// Which channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    In,
    Out,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::In => "RPC_IN_DATA",
            Method::Out => "RPC_OUT_DATA",
        }
    }
}

/// The request head for `https://host/rpc/rpcproxy.dll?server:port`.
pub fn request_head(
    method: Method,
    host: &str,
    server: &str,
    port: u16,
    content_length: u64,
    authorization: Option<&str>,
) -> Vec<u8> {
    let mut head = format!(
        "{} /rpc/rpcproxy.dll?{server}:{port} HTTP/1.1\r\nHost: {host}\r\nAccept: application/rpc\r\nUser-Agent: MSRPC\r\nCache-Control: no-cache\r\nPragma: No-cache\r\nConnection: Keep-Alive\r\nContent-Length: {content_length}\r\n",
        method.name()
    );
    if let Some(value) = authorization {
        head.push_str("Authorization: ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A response head as the proxy sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    /// The reason phrase as sent (`RPC Error: 6ba`), not the canonical one.
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// How many bytes of the buffer the head took.
    pub len: usize,
}

impl ResponseHead {
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        crate::net::http::header_values(&self.headers, name)
    }

    /// The body is chunked (`Transfer-Encoding: chunked`, RFC 9112 7.1: chunked is the final coding), as
    /// TMG sends the RPC_OUT_DATA answer; IIS itself announces a `Content-Length`.
    pub fn chunked(&self) -> bool {
        self.header_values("transfer-encoding").iter().any(|v| {
            v.rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        })
    }

    /// The hex code of `503 RPC Error: 6ba`: the RPC status the proxy met behind itself.
    pub fn rpc_error(&self) -> Option<u32> {
        let code = self.reason.trim().strip_prefix("RPC Error:")?.trim();
        u32::from_str_radix(code, 16).ok()
    }
}

/// Why a response head could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("the answer is not HTTP: {0}")]
    NotHttp(String),
    #[error("the response head is larger than {MAX_HEAD} bytes")]
    TooLarge,
}

/// Parses a response head from the start of `bytes`; `Ok(None)` when more bytes are needed.
pub fn parse_head(bytes: &[u8]) -> Result<Option<ResponseHead>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => Ok(Some(ResponseHead {
            status: response.code.unwrap_or(0),
            reason: response.reason.unwrap_or("").to_string(),
            headers: response
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect(),
            len,
        })),
        Ok(httparse::Status::Partial) if bytes.len() >= MAX_HEAD => Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HeadError::NotHttp(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_heads_carry_the_rpch_headers() {
        let head = String::from_utf8(request_head(
            Method::Out,
            "mail.contoso.com",
            "ex01.contoso.com",
            6001,
            OUT_CONTENT_LENGTH,
            Some("Basic eA=="),
        ))
        .expect("ascii");
        assert!(head.starts_with(
            "RPC_OUT_DATA /rpc/rpcproxy.dll?ex01.contoso.com:6001 HTTP/1.1\r\nHost: mail.contoso.com\r\n"
        ));
        for line in [
            "Accept: application/rpc",
            "User-Agent: MSRPC",
            "Content-Length: 76",
            "Authorization: Basic eA==",
            "Pragma: No-cache",
        ] {
            assert!(head.contains(&format!("{line}\r\n")), "{line}");
        }
        assert!(head.ends_with("\r\n\r\n"));
        let head =
            String::from_utf8(request_head(Method::In, "mail", "x", 6004, IN_CONTENT_LENGTH, None)).expect("ascii");
        assert!(head.contains("Content-Length: 1073741824\r\n") && !head.contains("Authorization"));
    }

    #[test]
    fn a_6ba_answer_is_read_with_its_code() {
        let raw = b"HTTP/1.0 503 RPC Error: 6ba\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n";
        let head = parse_head(raw).expect("parse").expect("complete");
        assert_eq!((head.status, head.reason.as_str()), (503, "RPC Error: 6ba"));
        assert_eq!(head.rpc_error(), Some(0x6ba));
        assert_eq!(head.len, raw.len());
    }

    #[test]
    fn transfer_encoding_chunked_is_read_as_the_last_coding() {
        // (TMG's chunked OUT answer is read whole in chunked.rs's tests.)
        let iis =
            parse_head(b"HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nContent-Length: 1073741824\r\n\r\n")
                .expect("parse")
                .expect("complete");
        assert!(!iis.chunked());
        for (value, chunked) in [
            ("CHUNKED", true),
            ("gzip, chunked", true),
            ("chunked, gzip", false),
            ("identity", false),
        ] {
            let raw = format!("HTTP/1.1 200 Success\r\nTransfer-Encoding: {value}\r\n\r\n");
            let head = parse_head(raw.as_bytes()).expect("parse").expect("complete");
            assert_eq!(head.chunked(), chunked, "{value}");
        }
    }

    #[test]
    fn a_proxy_that_drops_the_verbs_is_read_with_its_allow_header() {
        let raw = b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, OPTIONS\r\nContent-Length: 0\r\n\r\n";
        let head = parse_head(raw).expect("parse").expect("complete");
        assert_eq!(head.status, 405);
        assert_eq!(head.header_values("allow"), ["GET, HEAD, POST, OPTIONS"]);
        assert_eq!(head.rpc_error(), None);
    }

    #[test]
    fn partial_huge_and_garbage_heads() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Ty"), Ok(None));
        let mut huge = b"HTTP/1.1 200 OK\r\nX-Filler: ".to_vec();
        huge.resize(MAX_HEAD + 10, b'a');
        assert_eq!(parse_head(&huge), Err(HeadError::TooLarge));
        assert!(matches!(
            parse_head(b"\x05\x00\x14\x03 not http"),
            Err(HeadError::NotHttp(_))
        ));
    }
}
