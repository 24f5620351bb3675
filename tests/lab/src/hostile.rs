//! Hostile servers as data: the scenarios of the zone [`HOSTILE_ZONE`], each a host
//! `<slug>.hostile.test` on `127.(10+k).102.N:443` (N = the scenario's number) with a certificate from
//! the lab CA (so a strict TLS client gets past the handshake and meets the hostility), served by a
//! small server of our own. Each one misbehaves in one way a server on the internet could, to prove
//! the relay ends every such conversation with a clear failure, in time, in bounded memory.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::LabError;
use crate::certs::AdCertFiles;
use crate::zone::{ZonePlan, ZoneScenario};

/// The DNS zone of the hostile hosts.
pub const HOSTILE_ZONE: &str = "hostile.test";
/// The third octet of the hostile hosts in the lab's slot block.
const THIRD_OCTET: u8 = 102;
const PORT: u16 = 443;
/// The longest request head read (the relay's are a few hundred bytes).
const MAX_REQUEST_HEAD: usize = 64 * 1024;
/// The longest a misbehaviour goes on when the client does not hang up (they end when it does).
const LIFETIME: Duration = Duration::from_secs(120);

/// One hostile server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostileScenario {
    /// `trickle.`: after TLS, the status line, then one byte of a header a second: the head never ends.
    Trickle,
    /// `endless.`: a 200 with a chunked body that never ends.
    EndlessBody,
    /// `bigheaders.`: a 200 with 1 MiB of headers.
    HugeHeaders,
    /// `gzipbomb.`: a 200 `Content-Encoding: gzip` whose body inflates to 100 MiB of zeros.
    GzipBomb,
    /// `entities.`: a 200 `text/xml` "billion laughs" entity-expansion bomb.
    EntityBomb,
    /// `deepxml.`: a 200 `text/xml` of 30 000 nested elements (210 KB: under the relay's body limit).
    DeepXml,
    /// `redirects.`: every request is redirected (302) to the next URL of an endless chain on itself.
    RedirectChain,
    /// `loopback.`: every request is redirected (302) to `https://127.0.0.1/...`.
    RedirectLoopback,
    /// `garbage.`: answers the TLS ClientHello with bytes that are not TLS.
    GarbageTls,
    /// `ntlmlies.`: an RPC proxy whose NTLM CHALLENGE has offsets and lengths pointing outside it.
    NtlmLies,
    /// `rtslies.`: an RPC proxy that answers with an RTS PDU claiming 65535 bytes, sends 10, then
    /// nothing (Basic accepted).
    RtsLies,
    /// `rtspings.`: an RPC proxy whose OUT channel sends RTS pings forever (Basic accepted).
    RtsPings,
    /// `ntlmcut.`: asks for NTLM (401 `WWW-Authenticate: NTLM`), answers the NEGOTIATE with a
    /// well-formed CHALLENGE, and closes the connection on the AUTHENTICATE without answering: the
    /// client cannot know whether its password was checked (and a refusal counted).
    NtlmCut,
}

impl HostileScenario {
    /// Every scenario, in the order of their addresses (`Trickle` is `127.(10+k).102.1`).
    pub const ALL: &'static [HostileScenario] = &[
        HostileScenario::Trickle,
        HostileScenario::EndlessBody,
        HostileScenario::HugeHeaders,
        HostileScenario::GzipBomb,
        HostileScenario::EntityBomb,
        HostileScenario::DeepXml,
        HostileScenario::RedirectChain,
        HostileScenario::RedirectLoopback,
        HostileScenario::GarbageTls,
        HostileScenario::NtlmLies,
        HostileScenario::RtsLies,
        HostileScenario::RtsPings,
        HostileScenario::NtlmCut,
    ];

    /// A short lowercase id; also the first label of the host.
    pub fn slug(self) -> &'static str {
        match self {
            HostileScenario::Trickle => "trickle",
            HostileScenario::EndlessBody => "endless",
            HostileScenario::HugeHeaders => "bigheaders",
            HostileScenario::GzipBomb => "gzipbomb",
            HostileScenario::EntityBomb => "entities",
            HostileScenario::DeepXml => "deepxml",
            HostileScenario::RedirectChain => "redirects",
            HostileScenario::RedirectLoopback => "loopback",
            HostileScenario::GarbageTls => "garbage",
            HostileScenario::NtlmLies => "ntlmlies",
            HostileScenario::RtsLies => "rtslies",
            HostileScenario::RtsPings => "rtspings",
            HostileScenario::NtlmCut => "ntlmcut",
        }
    }

    /// `<slug>.hostile.test`.
    pub fn host(self) -> String {
        format!("{}.{HOSTILE_ZONE}", self.slug())
    }
}

impl ZoneScenario for HostileScenario {
    const ALL: &'static [HostileScenario] = HostileScenario::ALL;

    fn host_name(self) -> String {
        self.host()
    }

    fn cert_slug(self) -> String {
        format!("hostile-{}", self.slug())
    }
}

impl std::fmt::Display for HostileScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

pub(crate) type HostilePlan = ZonePlan<HostileScenario>;

pub(crate) fn plan(slot: &crate::slot::Slot) -> HostilePlan {
    ZonePlan::new(slot, HOSTILE_ZONE, THIRD_OCTET)
}

/// The running hostile hosts: started by [`crate::Lab::hostile`], stopped with the lab.
pub struct HostileLab {
    plan: HostilePlan,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for HostileLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostileLab").finish_non_exhaustive()
    }
}

impl HostileLab {
    pub(crate) fn start(plan: HostilePlan, certs: &AdCertFiles) -> Result<HostileLab, LabError> {
        let mut hosts = Vec::new();
        for &s in HostileScenario::ALL {
            let cert = certs
                .leaves
                .get(&s.cert_slug())
                .ok_or_else(|| LabError::Setup(format!("internal: no certificate for {}", s.host())))?;
            let tls = crate::exchange_server::tls_acceptor(&cert.chain, &cert.key, &s.host())?;
            hosts.push((s, plan.addr(s), tls));
        }
        let bomb = Arc::new(gzip_bomb()?);
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), LabError>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("migcheck-lab-hostile".into())
            .spawn(move || run(hosts, bomb, ready_tx, stop_rx))
            .map_err(|e| LabError::io("spawning the hostile servers' thread", e))?;
        let thread = crate::sys::await_ready(ready_rx, thread, "the hostile servers' thread")?;
        Ok(HostileLab {
            plan,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The host's address (`127.(10+k).102.N`).
    pub fn addr(&self, s: HostileScenario) -> IpAddr {
        self.plan.addr(s)
    }
}

impl Drop for HostileLab {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type Host = (HostileScenario, IpAddr, tokio_rustls::TlsAcceptor);

fn run(hosts: Vec<Host>, bomb: Arc<Vec<u8>>, ready: mpsc::Sender<Result<(), LabError>>, stop: oneshot::Receiver<()>) {
    let Some(rt) = crate::sys::server_runtime("migcheck-lab-hostile-rt", "hostile servers'", &ready) else {
        return;
    };
    rt.block_on(async move {
        for (s, ip, tls) in hosts {
            let addr = SocketAddr::from((ip, PORT));
            let listener = match TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    let _ = ready.send(Err(LabError::io(format!("binding {} on {addr}", s.host()), e)));
                    return;
                }
            };
            let bomb = Arc::clone(&bomb);
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (tls, bomb) = (tls.clone(), Arc::clone(&bomb));
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(LIFETIME, serve(s, stream, tls, &bomb)).await;
                    });
                }
            });
        }
        let _ = ready.send(Ok(()));
        let _ = stop.await;
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}

/// 100 gzip members of 1 MiB of zeros each (a gzip stream may be many members): about 100 KiB that
/// inflate to 100 MiB.
fn gzip_bomb() -> Result<Vec<u8>, LabError> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&vec![0u8; 1 << 20])
        .and_then(|()| encoder.finish())
        .map(|member| member.repeat(100))
        .map_err(|e| LabError::io("compressing the gzip bomb", e))
}

async fn serve(s: HostileScenario, mut stream: TcpStream, tls: tokio_rustls::TlsAcceptor, bomb: &[u8]) {
    if s == HostileScenario::GarbageTls {
        let mut hello = [0u8; 1024];
        let _ = stream.read(&mut hello).await;
        let garbage: Vec<u8> = (0u8..=255).cycle().skip(7).step_by(3).take(512).collect();
        let _ = stream.write_all(&garbage).await;
        let _ = stream.flush().await;
        tokio::time::sleep(LIFETIME).await;
        return;
    }
    let Ok(mut stream) = tls.accept(stream).await else {
        return;
    };
    let _ = misbehave(s, &mut stream, bomb).await;
}

/// A request as far as the hostile servers care.
struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    content_length: usize,
}

async fn misbehave<S: AsyncRead + AsyncWrite + Unpin>(
    s: HostileScenario,
    stream: &mut S,
    bomb: &[u8],
) -> std::io::Result<()> {
    if s == HostileScenario::Trickle {
        stream.write_all(b"HTTP/1.1 200 OK\r\nX-Trickle: ").await?;
        loop {
            stream.write_all(b"a").await?;
            stream.flush().await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    // Requests on one connection until the client hangs up (NTLM needs two on the same one).
    while let Some(req) = read_request(stream).await? {
        match s {
            HostileScenario::EndlessBody => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .await?;
                let chunk = [b"10000\r\n".as_slice(), &[b' '; 0x10000], b"\r\n"].concat();
                loop {
                    stream.write_all(&chunk).await?;
                }
            }
            HostileScenario::HugeHeaders => {
                let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n".to_vec();
                for i in 0..16384 {
                    let _ = write!(head, "X-Pad-{i:05}: {}\r\n", "a".repeat(50));
                }
                head.extend_from_slice(b"\r\n");
                stream.write_all(&head).await?;
            }
            HostileScenario::GzipBomb => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                    bomb.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(bomb).await?;
            }
            HostileScenario::EntityBomb => send_xml(stream, &entity_bomb()).await?,
            HostileScenario::DeepXml => {
                let depth = 30_000;
                let xml = format!("<?xml version=\"1.0\"?>{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
                send_xml(stream, &xml).await?;
            }
            HostileScenario::RedirectChain => {
                let n = req
                    .path
                    .strip_prefix("/hop/")
                    .and_then(|p| p.split('/').next())
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
                let next = format!("https://{}/hop/{}/autodiscover/autodiscover.xml", s.host(), n + 1);
                redirect(stream, &next).await?;
            }
            HostileScenario::RedirectLoopback => {
                redirect(stream, "https://127.0.0.1/autodiscover/autodiscover.xml").await?;
            }
            HostileScenario::NtlmLies => {
                let challenge = match req.authorization.as_deref() {
                    Some(a) if a.len() > 5 && a[..5].eq_ignore_ascii_case("NTLM ") => {
                        use base64::Engine as _;
                        format!(
                            "NTLM {}",
                            base64::engine::general_purpose::STANDARD.encode(lying_challenge())
                        )
                    }
                    _ => "NTLM".to_string(),
                };
                let head =
                    format!("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {challenge}\r\nContent-Length: 0\r\n\r\n");
                stream.write_all(head.as_bytes()).await?;
            }
            HostileScenario::NtlmCut => {
                let challenge = match ntlm_message_type(req.authorization.as_deref()) {
                    None => "NTLM".to_string(),
                    Some(1) => {
                        use base64::Engine as _;
                        format!(
                            "NTLM {}",
                            base64::engine::general_purpose::STANDARD.encode(spec_challenge())
                        )
                    }
                    // The AUTHENTICATE (or anything else): hang up without a word.
                    Some(_) => return Ok(()),
                };
                let head =
                    format!("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {challenge}\r\nContent-Length: 0\r\n\r\n");
                stream.write_all(head.as_bytes()).await?;
            }
            HostileScenario::RtsLies | HostileScenario::RtsPings if req.authorization.is_none() => {
                stream
                    .write_all(
                        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"hostile\"\r\nContent-Length: 0\r\n\r\n",
                    )
                    .await?;
            }
            HostileScenario::RtsLies => {
                stream
                    .write_all(b"HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nContent-Length: 76\r\n\r\n")
                    .await?;
                // A CO header (RTS, ping flags) that claims 65535 bytes; then 10 bytes and silence.
                let mut pdu = vec![5, 0, 20, 3, 0x10, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0];
                pdu.extend_from_slice(&[0u8; 10]);
                stream.write_all(&pdu).await?;
                stream.flush().await?;
                tokio::time::sleep(LIFETIME).await;
            }
            // A proxy that logs on, answers the echo, keeps the IN channel open and silent as a real one
            // does, and on the OUT channel sends RTS pings forever instead of CONN/A3.
            HostileScenario::RtsPings if req.method.eq_ignore_ascii_case("RPC_IN_DATA") && req.content_length == 0 => {
                let echo = crate::exchange_server::rts::echo();
                stream
                    .write_all(b"HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nContent-Length: 20\r\n\r\n")
                    .await?;
                stream.write_all(&echo).await?;
            }
            HostileScenario::RtsPings if req.method.eq_ignore_ascii_case("RPC_IN_DATA") => {
                tokio::time::sleep(LIFETIME).await;
                return Ok(());
            }
            HostileScenario::RtsPings => {
                stream
                    .write_all(
                        b"HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nContent-Length: 1073741824\r\n\r\n",
                    )
                    .await?;
                // RTS ping: a 20-byte PDU, flags RTS_FLAG_PING, no commands.
                let ping = [5u8, 0, 20, 3, 0x10, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
                loop {
                    stream.write_all(&ping).await?;
                    stream.flush().await?;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            HostileScenario::Trickle | HostileScenario::GarbageTls => return Ok(()),
        }
        stream.flush().await?;
    }
    Ok(())
}

async fn send_xml<S: AsyncWrite + Unpin>(stream: &mut S, xml: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        xml.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(xml.as_bytes()).await
}

async fn redirect<S: AsyncWrite + Unpin>(stream: &mut S, location: &str) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
    stream.write_all(head.as_bytes()).await
}

/// "Billion laughs": ten levels of ten references, 10^9 `lol`s once expanded.
fn entity_bomb() -> String {
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE Autodiscover [\n<!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        let refs: String = (0..10).map(|_| format!("&lol{};", i - 1)).collect();
        xml.push_str(&format!("<!ENTITY lol{i} \"{refs}\">\n"));
    }
    xml.push_str("]>\n<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">&lol9;</Autodiscover>\n");
    xml
}

/// An NTLM CHALLENGE (type 2) whose TargetName and TargetInfo fields point far outside the message.
fn lying_challenge() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&2u32.to_le_bytes());
    // TargetName: length 0x4000 at offset 0xFFFFFFF0.
    m.extend_from_slice(&0x4000u16.to_le_bytes());
    m.extend_from_slice(&0x4000u16.to_le_bytes());
    m.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    m.extend_from_slice(&0xE289_8215u32.to_le_bytes());
    m.extend_from_slice(&[0x11; 8]); // server challenge
    m.extend_from_slice(&[0; 8]); // reserved
    // TargetInfo: length 0xFFFF at offset 0x7FFFFFFF.
    m.extend_from_slice(&0xFFFFu16.to_le_bytes());
    m.extend_from_slice(&0xFFFFu16.to_le_bytes());
    m.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    m.extend_from_slice(&[10, 0, 0x63, 0x45, 0, 0, 0, 15]); // version
    m
}

/// The type of the NTLM message in `Authorization: NTLM <base64>` (1 NEGOTIATE, 3 AUTHENTICATE); None
/// without one.
fn ntlm_message_type(authorization: Option<&str>) -> Option<u32> {
    use base64::Engine as _;
    let token = authorization?.strip_prefix("NTLM ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(token.trim()).ok()?;
    let kind: [u8; 4] = raw.get(8..12)?.try_into().ok()?;
    Some(u32::from_le_bytes(kind))
}

/// [MS-NLMP] 4.2.4.3: the CHALLENGE_MESSAGE of the spec's NTLMv2 example (target "Server", flags
/// 0xE28A8233, server challenge 0123456789abcdef, target info NbDomainName "Domain", NbComputerName
/// "Server"): a well-formed challenge any NTLM client answers.
fn spec_challenge() -> Vec<u8> {
    const HEX: &str = "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef\
        00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00\
        610069006e0001000c0053006500720076006500720000000000";
    let digits: Vec<u8> = HEX.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).unwrap_or("00");
            u8::from_str_radix(text, 16).unwrap_or(0)
        })
        .collect()
}

/// Reads one request head (bounded) and discards a short body; None when the client hung up.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() >= MAX_REQUEST_HEAD || stream.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        buf.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default().to_string();
    let mut authorization = None;
    let mut length = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.trim().to_string());
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    // RPC_IN_DATA announces up to 1 GiB and streams it: only short bodies are read here.
    if length <= MAX_REQUEST_HEAD {
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).await?;
    }
    Ok(Some(Request {
        method,
        path,
        authorization,
        content_length: length,
    }))
}
