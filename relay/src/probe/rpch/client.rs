//! An RPC over HTTP v2 client ([MS-RPCH] 3.2.2): one channel on its TLS connection, its logon, the
//! anonymous probe and the echo (the virtual connection over two channels is in `virtual_connection`).
//!
//! The channels speak HTTP/1.1 by hand: their bodies are announced and then streamed PDU by PDU, which
//! no HTTP client library does. Every read is bounded in size and time; the IN channel answers only when
//! something is wrong, so it is watched while the OUT channel is read.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

use migcheck_shared::Phase;
use migcheck_shared::request::AuthMethod;

use super::channel::{self, HeadError, Method, ResponseHead};
use super::chunked::{ChunkError, Dechunker};
use super::pdu::{Header, PduError, Rts};
use crate::net::http::TlsConnection;
use crate::net::ntlm::{ChallengeInfo, NtlmError};
use crate::net::{Net, NetError, TlsStream};
use crate::probe::Credentials;
use crate::probe::auth::ChannelBinding;

/// An error body (a 401 page, an IIS error) is read up to this size, then dropped.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Where the channels go: `https://proxy:proxy_port/rpc/rpcproxy.dll?server:endpoint`.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub proxy: &'a str,
    pub proxy_port: u16,
    /// The RPC server behind the proxy (`-ExchangeServer`).
    pub server: &'a str,
    /// The endpoint (6001, 6002, 6004).
    pub endpoint: u16,
}

impl Target<'_> {
    pub(super) fn head(&self, method: Method, content_length: u64, authorization: Option<&str>) -> Vec<u8> {
        let host = crate::net::http::authority(self.proxy, self.proxy_port);
        channel::request_head(method, &host, self.server, self.endpoint, content_length, authorization)
    }
}

/// The migration account and the method the migration service logs on to the proxy with
/// (`-Authentication`): unlike the other endpoints, the channels do not pick from what IIS offers.
#[derive(Debug, Clone, Copy)]
pub struct Logon<'a> {
    pub auth: AuthMethod,
    pub creds: Credentials<'a>,
}

/// Why a step of the conversation did not complete. Messages never carry the password.
#[derive(Debug, thiserror::Error)]
pub enum RpchError {
    /// The connection could not be opened (DNS, policy, TCP, TLS).
    #[error(transparent)]
    Net(#[from] NetError),
    /// The proxy kept the connection open but sent nothing in time.
    #[error("{addr} sent nothing within {secs} s while migcheck waited for {what}")]
    Timeout {
        addr: SocketAddr,
        what: &'static str,
        secs: u64,
    },
    /// The proxy closed the connection.
    #[error("{addr} closed the connection while migcheck waited for {what}")]
    Closed { addr: SocketAddr, what: &'static str },
    /// Reading or writing failed (reset, TLS alert).
    #[error("the connection to {addr} failed while {what}: {reason}")]
    Io {
        addr: SocketAddr,
        what: &'static str,
        reason: String,
    },
    /// The answer is not an HTTP response head, or it is too large.
    #[error("{addr} answered something that is not HTTP: {error}")]
    Head { addr: SocketAddr, error: HeadError },
    /// The channel's body is not the PDU expected.
    #[error("{addr} sent a PDU migcheck cannot read: {error}")]
    Pdu { addr: SocketAddr, error: PduError },
    /// The body is chunked (`Transfer-Encoding: chunked`) and its framing is broken.
    #[error("{addr} sent a chunked body migcheck cannot de-chunk: {error}")]
    Chunk { addr: SocketAddr, error: ChunkError },
    /// The chunked body ended (its last chunk, size 0) before what was awaited came.
    #[error("{addr} ended the chunked body (a last chunk of size 0) while migcheck waited for {what}")]
    BodyEnded { addr: SocketAddr, what: &'static str },
    /// The proxy keeps the OUT channel busy with pings or flow control and never sends the awaited PDU.
    #[error(
        "{addr} sent {count} RTS pings or acknowledgements in a row and still no {what}: the proxy keeps the channel alive but nothing behind it answers"
    )]
    TooChatty {
        addr: SocketAddr,
        count: usize,
        what: &'static str,
    },
    /// The NTLM handshake could not go on.
    #[error("NTLM with {addr}: {error}")]
    Ntlm { addr: SocketAddr, error: NtlmError },
}

/// One TLS connection carrying one channel.
pub struct Channel {
    stream: TlsStream,
    /// What was read and not used yet: the body's data once de-chunked.
    buf: Vec<u8>,
    /// The body being read is chunked: its decoder and the bytes not decoded yet.
    chunked: Option<(Dechunker, Vec<u8>)>,
    pub peer: SocketAddr,
    pub tls_version: Option<&'static str>,
    /// The proxy's certificate (DER).
    pub leaf: Option<Vec<u8>>,
    pub phases: Vec<(Phase, std::time::Instant, std::time::Instant)>,
    wait: Duration,
}

impl Channel {
    pub async fn open(net: &Net, host: &str, port: u16) -> Result<Channel, RpchError> {
        let TlsConnection {
            stream,
            peer,
            tls_version,
            leaf,
            phases,
            ..
        } = net.open_tls(host, port).await?;
        Ok(Channel {
            stream,
            buf: Vec::new(),
            chunked: None,
            peer,
            tls_version,
            leaf,
            phases,
            wait: net.timeout,
        })
    }

    pub(super) async fn write(&mut self, bytes: &[u8], what: &'static str) -> Result<(), RpchError> {
        let addr = self.peer;
        let io = |e: std::io::Error| RpchError::Io {
            addr,
            what,
            reason: e.to_string(),
        };
        match timeout(self.wait, async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        })
        .await
        {
            Ok(r) => r.map_err(io),
            Err(_) => Err(RpchError::Timeout {
                addr,
                what,
                secs: self.wait.as_secs(),
            }),
        }
    }

    /// Reads more bytes (de-chunked when the body is chunked), without a time limit of its own (callers
    /// bound it). Cancel-safe: bytes are kept only once a read completes.
    async fn fill(&mut self, what: &'static str) -> Result<(), RpchError> {
        if self.chunked.as_ref().is_some_and(|(d, _)| d.finished()) {
            return Err(RpchError::BodyEnded { addr: self.peer, what });
        }
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk).await {
            Ok(0) => Err(RpchError::Closed { addr: self.peer, what }),
            Ok(n) => self.take(&chunk[..n]),
            Err(e) => Err(RpchError::Io {
                addr: self.peer,
                what,
                reason: e.to_string(),
            }),
        }
    }

    /// Keeps bytes just read, de-chunking them when the body is chunked.
    fn take(&mut self, bytes: &[u8]) -> Result<(), RpchError> {
        match &mut self.chunked {
            None => {
                self.buf.extend_from_slice(bytes);
                Ok(())
            }
            Some((decoder, raw)) => {
                raw.extend_from_slice(bytes);
                decoder
                    .decode(raw, &mut self.buf)
                    .map_err(|error| RpchError::Chunk { addr: self.peer, error })
            }
        }
    }

    /// Reads the body after `head` as it is framed: a chunked one is de-chunked from here on (what was
    /// read past the head included), so PDUs are read from its data.
    pub(super) fn body_of(&mut self, head: &ResponseHead) -> Result<(), RpchError> {
        if !head.chunked() || self.chunked.is_some() {
            return Ok(());
        }
        let raw = std::mem::take(&mut self.buf);
        self.chunked = Some((Dechunker::default(), Vec::new()));
        self.take(&raw)
    }

    /// The chunked body ended: what followed it (the next answer on the connection) is read plainly.
    fn end_chunked(&mut self) -> Vec<u8> {
        let body = std::mem::take(&mut self.buf);
        if let Some((_, rest)) = self.chunked.take() {
            self.buf = rest;
        }
        body
    }

    fn timed_out(&self, what: &'static str) -> RpchError {
        RpchError::Timeout {
            addr: self.peer,
            what,
            secs: self.wait.as_secs(),
        }
    }

    /// Waits for a response head, however long it takes (the IN channel's watcher).
    pub(super) async fn next_head(&mut self) -> Result<ResponseHead, RpchError> {
        loop {
            match channel::parse_head(&self.buf) {
                Ok(Some(head)) => {
                    self.buf.drain(..head.len);
                    return Ok(head);
                }
                Ok(None) => self.fill("the response head").await?,
                Err(error) => return Err(RpchError::Head { addr: self.peer, error }),
            }
        }
    }

    /// Reads a response head within the time limit.
    pub async fn read_head(&mut self) -> Result<ResponseHead, RpchError> {
        match timeout(self.wait, self.next_head()).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out("the response head")),
        }
    }

    /// Reads (and keeps, up to a limit) the body a `Content-Length` announces, or a chunked one, so the
    /// connection can carry the next request. Without either, nothing is read.
    pub async fn read_body(&mut self, head: &ResponseHead) -> Result<Vec<u8>, RpchError> {
        if head.chunked() {
            return self.read_chunked_body(head).await;
        }
        let length = head
            .header_values("content-length")
            .first()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if length > MAX_ERROR_BODY {
            return Err(RpchError::Head {
                addr: self.peer,
                error: HeadError::NotHttp(format!("a body of {length} bytes where a short answer belongs")),
            });
        }
        let what = "the response body";
        let wait = self.wait;
        let read = async {
            while self.buf.len() < length {
                self.fill(what).await?;
            }
            Ok(self.buf.drain(..length).collect())
        };
        match timeout(wait, read).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out(what)),
        }
    }

    async fn read_chunked_body(&mut self, head: &ResponseHead) -> Result<Vec<u8>, RpchError> {
        self.body_of(head)?;
        let what = "the response body";
        let wait = self.wait;
        let read = async {
            while !self.chunked.as_ref().is_some_and(|(d, _)| d.finished()) {
                if self.buf.len() > MAX_ERROR_BODY {
                    return Err(RpchError::Head {
                        addr: self.peer,
                        error: HeadError::NotHttp(format!(
                            "a chunked body longer than {MAX_ERROR_BODY} bytes where a short answer belongs"
                        )),
                    });
                }
                self.fill(what).await?;
            }
            Ok(self.end_chunked())
        };
        match timeout(wait, read).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out(what)),
        }
    }

    /// Waits for one whole PDU, however long it takes.
    async fn next_pdu(&mut self) -> Result<Vec<u8>, RpchError> {
        loop {
            if self.buf.len() >= Header::LEN {
                let header = Header::read(&self.buf).map_err(|error| RpchError::Pdu { addr: self.peer, error })?;
                let len = header.frag_len as usize;
                if self.buf.len() >= len {
                    return Ok(self.buf.drain(..len).collect());
                }
            }
            self.fill("a PDU").await?;
        }
    }

    /// Reads one PDU within the time limit.
    pub async fn read_pdu(&mut self, what: &'static str) -> Result<Vec<u8>, RpchError> {
        match timeout(self.wait, self.next_pdu()).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out(what)),
        }
    }
}

/// A request's answer: the head, the start of its body, what an NTLM challenge revealed and how the NTLM
/// logon was bound to the connection.
#[derive(Debug)]
pub struct Answer {
    pub head: ResponseHead,
    pub body: Vec<u8>,
    pub challenge: Option<ChallengeInfo>,
    pub binding: Option<ChannelBinding>,
    pub peer: SocketAddr,
    pub leaf: Option<Vec<u8>>,
    pub tls_version: Option<&'static str>,
}

impl Answer {
    /// The scheme names the proxy offers (`Negotiate`, `NTLM`, `Basic`).
    pub fn schemes(&self) -> Vec<String> {
        self.head
            .header_values("www-authenticate")
            .iter()
            .filter_map(|v| v.split_whitespace().next())
            .map(str::to_string)
            .collect()
    }

    /// The body as an RTS PDU, when it is one (the echo).
    pub fn rts(&self) -> Option<Rts> {
        Rts::decode(&self.body).ok()
    }
}

/// An echo request without credentials: what IIS asks for (401 with its schemes), or what stands in
/// front of it (405 with Allow).
pub async fn anonymous(net: &Net, target: Target<'_>) -> Result<Answer, RpchError> {
    let mut ch = Channel::open(net, target.proxy, target.proxy_port).await?;
    let head = target.head(Method::In, 0, None);
    ch.write(&head, "sending the anonymous request").await?;
    let head = ch.read_head().await?;
    let body = ch.read_body(&head).await.unwrap_or_default();
    Ok(answer(ch, head, body, None))
}

fn answer(ch: Channel, head: ResponseHead, body: Vec<u8>, logon: Option<Authorization>) -> Answer {
    let (challenge, binding) = logon.map_or((None, None), |l| (l.challenge, l.binding));
    Answer {
        head,
        body,
        challenge,
        binding,
        peer: ch.peer,
        leaf: ch.leaf,
        tls_version: ch.tls_version,
    }
}

/// A channel's logon: the `Authorization` value of its real request, what an NTLM challenge revealed, and
/// how the NTLM logon was bound to the channel's TLS connection.
pub struct Authorization {
    pub value: String,
    pub challenge: Option<ChallengeInfo>,
    pub binding: Option<ChannelBinding>,
}

/// The logon on one channel: the `Authorization` value for the real request, after the NTLM
/// NEGOTIATE/CHALLENGE leg on the same connection, bound to the certificate of this very connection.
/// `Err(Ok(answer))`: the proxy answered the NEGOTIATE with something else than a challenge (405, 503...).
pub(super) async fn authorization(
    ch: &mut Channel,
    method: Method,
    target: Target<'_>,
    logon: Logon<'_>,
) -> Result<Authorization, Result<(ResponseHead, Vec<u8>), RpchError>> {
    match logon.auth {
        AuthMethod::Basic => Ok(Authorization {
            value: logon.creds.basic(),
            challenge: None,
            binding: None,
        }),
        AuthMethod::Ntlm => {
            let (mut ntlm, binding) = logon.creds.ntlm_bound(ch.leaf.as_deref());
            let negotiate = ntlm.negotiate_header();
            let head = target.head(method, 0, Some(&negotiate));
            ch.write(&head, "sending the NTLM NEGOTIATE").await.map_err(Err)?;
            let head = ch.read_head().await.map_err(Err)?;
            let body = ch.read_body(&head).await.map_err(Err)?;
            if head.status != 401 {
                return Err(Ok((head, body)));
            }
            let values = head.header_values("www-authenticate");
            match ntlm.authenticate_header(&values) {
                Ok((value, info)) => Ok(Authorization {
                    value,
                    challenge: Some(info),
                    binding: Some(binding),
                }),
                Err(NtlmError::NoChallenge) => Err(Ok((head, body))),
                Err(error) => Err(Err(RpchError::Ntlm { addr: ch.peer, error })),
            }
        }
    }
}

/// The echo with credentials ("ping the RPC proxy"): a live proxy answers 200 and the 20-byte echo PDU.
/// On a channel opened beforehand (while the anonymous request ran): the credentials go only now, so
/// opening it early adds no logon.
pub async fn echo_on(
    opened: Result<Channel, RpchError>,
    target: Target<'_>,
    logon: Logon<'_>,
) -> Result<Answer, RpchError> {
    let mut ch = opened?;
    let logged = match authorization(&mut ch, Method::In, target, logon).await {
        Ok(v) => v,
        Err(Ok((head, body))) => return Ok(answer(ch, head, body, None)),
        Err(Err(e)) => return Err(e),
    };
    let head = target.head(Method::In, 0, Some(&logged.value));
    ch.write(&head, "sending the echo request").await?;
    let head = ch.read_head().await?;
    let body = ch.read_body(&head).await?;
    Ok(answer(ch, head, body, Some(logged)))
}
