//! A small raw RPC over HTTP v2 client: the CONN/A1, CONN/B1 and bind vectors of rpch-vectors.txt
//! (bytes captured from a real Outlook, valid to send with their cookies) against the lab's proxy,
//! and the exact layouts of what comes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use migcheck_lab::{Lab, OaScenario};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const A1: &str = "05 00 14 03 10 00 00 00 4c 00 00 00 00 00 00 00 00 00 04 00 06 00 00 00 01 00 00 00 03 00 00 00
97 15 f8 97 f6 6d 23 4e 78 ca 17 6f dd e1 bf 2d 03 00 00 00 86 39 b6 d2 c9 62 a2 77 e4 7a 10 f3
57 2d e7 c2 00 00 00 00 00 00 01 00";
const B1: &str = "05 00 14 03 10 00 00 00 68 00 00 00 00 00 00 00 00 00 06 00 06 00 00 00 01 00 00 00 03 00 00 00
97 15 f8 97 f6 6d 23 4e 78 ca 17 6f dd e1 bf 2d 03 00 00 00 25 0d 9e 0d ce 53 ca 78 ee 0c a1 03
b3 54 a1 07 04 00 00 00 00 00 00 40 05 00 00 00 e0 93 04 00 0c 00 00 00 1b 38 50 77 23 b8 42 40
91 fe 8d 4b 9e e8 ed 1a";
const BIND_HEAD: &str =
    "05 00 0b 03 10 00 00 00 48 00 00 00 01 00 00 00 b8 10 b8 10 00 00 00 00 01 00 00 00 00 00 01 00";
const NDR: &str = "04 5d 88 8a eb 1c c9 11 9f e8 08 00 2b 10 48 60 02 00 00 00";
const EMSMDB: &str = "00 db f1 a4 47 ca 67 10 b3 1f 00 dd 01 06 62 da 00 00 51 00";
const NSPI: &str = "18 5a cc f5 64 42 1a 10 8c 59 08 00 2b 2f 84 26 38 00 00 00";
const RFR: &str = "e0 f5 44 15 3c 61 d1 11 93 df 00 c0 4f d7 bd 09 01 00 00 00";
const BIND_BTFN: &str =
    "05 00 0b 03 10 00 00 00 74 00 00 00 01 00 00 00 b8 10 b8 10 00 00 00 00 02 00 00 00 00 00 01 00
00 db f1 a4 47 ca 67 10 b3 1f 00 dd 01 06 62 da 00 00 51 00 04 5d 88 8a eb 1c c9 11 9f e8 08 00
2b 10 48 60 02 00 00 00 01 00 01 00 00 db f1 a4 47 ca 67 10 b3 1f 00 dd 01 06 62 da 00 00 51 00
2c 1c b7 6c 12 98 40 45 03 00 00 00 00 00 00 00 01 00 00 00";

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex"))
        .collect()
}

/// The 72-byte bind vector for one interface (its abstract syntax, NDR offered).
fn bind(interface: &str) -> Vec<u8> {
    [hex(BIND_HEAD), hex(interface), hex(NDR)].concat()
}

async fn connect(s: OaScenario) -> TlsStream<TcpStream> {
    let lab = Lab::shared();
    let ip = lab.outlook_anywhere().addr(s);
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(lab.ca_file()).expect("CA file") {
        roots.add(cert.expect("CA cert")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect((ip, 443)).await.expect("connect");
    let name = ServerName::try_from(s.proxy_host()).expect("name");
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS")
}

/// Opens a channel: the request head with Basic credentials, then `body`.
async fn channel(s: OaScenario, method: &str, port: u16, length: u64, body: &[u8]) -> TlsStream<TcpStream> {
    let mut tls = connect(s).await;
    let login = STANDARD.encode(format!("{}:{}", s.user(), s.password()));
    let head = format!(
        "{method} /rpc/rpcproxy.dll?{}:{port} HTTP/1.1\r\nHost: {}\r\nAccept: application/rpc\r\nUser-Agent: MSRPC\r\nCache-Control: no-cache\r\nConnection: Keep-Alive\r\nContent-Length: {length}\r\nAuthorization: Basic {login}\r\n\r\n",
        s.exchange_server(),
        s.proxy_host()
    );
    tls.write_all(head.as_bytes()).await.expect("send head");
    tls.write_all(body).await.expect("send body");
    tls.flush().await.expect("flush");
    tls
}

async fn read_head(tls: &mut TlsStream<TcpStream>) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = timeout(Duration::from_secs(3), tls.read(&mut byte))
            .await
            .expect("head in time")
            .expect("read");
        assert!(
            n == 1 && head.len() < 4096,
            "head ended early: {}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("ASCII head")
}

async fn read_exact(tls: &mut TlsStream<TcpStream>, n: usize, limit: Duration) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; n];
    match timeout(limit, tls.read_exact(&mut buf)).await {
        Ok(Ok(_)) => Some(buf),
        _ => None,
    }
}

async fn read_pdu(tls: &mut TlsStream<TcpStream>) -> Vec<u8> {
    let mut pdu = read_exact(tls, 16, Duration::from_secs(3)).await.expect("a PDU header");
    let len = usize::from(u16::from_le_bytes([pdu[8], pdu[9]]));
    pdu.extend(
        read_exact(tls, len - 16, Duration::from_secs(3))
            .await
            .expect("the PDU body"),
    );
    pdu
}

/// The captured CONN/A1 and CONN/B1 with a virtual-connection cookie of their own (bytes 32..48),
/// so that the virtual connections of tests running at once stay apart.
fn a1_b1() -> (Vec<u8>, Vec<u8>) {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let (mut a1, mut b1) = (hex(A1), hex(B1));
    let n = NEXT.fetch_add(1, Ordering::Relaxed).to_le_bytes();
    for pdu in [&mut a1, &mut b1] {
        pdu[32..36].copy_from_slice(&n);
        pdu[36..40].copy_from_slice(&std::process::id().to_le_bytes());
    }
    (a1, b1)
}

/// An open virtual connection for `port`: (OUT, IN); the OUT head, CONN/A3 and CONN/C2 are checked.
async fn open(s: OaScenario, port: u16) -> (TlsStream<TcpStream>, TlsStream<TcpStream>) {
    let (a1, b1) = a1_b1();
    let mut out = channel(s, "RPC_OUT_DATA", port, 76, &a1).await;
    let inn = channel(s, "RPC_IN_DATA", port, 1_073_741_824, &b1).await;
    let head = read_head(&mut out).await;
    assert!(head.starts_with("HTTP/1.1 200 Success\r\n"), "{head}");
    assert!(head.contains("Content-Type: application/rpc\r\n") && head.contains("Content-Length: 1073741824\r\n"));
    let a3 = read_pdu(&mut out).await;
    assert_eq!(
        a3[..24],
        hex("05 00 14 03 10 00 00 00 1c 00 00 00 00 00 00 00 00 00 01 00 02 00 00 00")[..]
    );
    let c2 = read_pdu(&mut out).await;
    assert_eq!(c2.len(), 44);
    assert_eq!(
        c2[..28],
        hex("05 00 14 03 10 00 00 00 2c 00 00 00 00 00 00 00 00 00 03 00 06 00 00 00 01 00 00 00")[..]
    );
    assert_eq!(c2[28..40], hex("00 00 00 00 00 00 01 00 02 00 00 00")[..]);
    assert!(u32::from_le_bytes([c2[40], c2[41], c2[42], c2[43]]) >= 30_000);
    (out, inn)
}

/// A bind_ack's secondary address and results (result, reason, transfer syntax).
fn ack(pdu: &[u8]) -> (String, Vec<(u16, u16, Vec<u8>)>) {
    assert_eq!(
        (pdu[2], u32::from_le_bytes([pdu[12], pdu[13], pdu[14], pdu[15]])),
        (0x0c, 1),
        "{pdu:02x?}"
    );
    let len = usize::from(u16::from_le_bytes([pdu[24], pdu[25]]));
    let addr = String::from_utf8(pdu[26..26 + len].to_vec()).expect("ASCII");
    let mut at = (26 + len).div_ceil(4) * 4;
    let n = usize::from(pdu[at]);
    at += 4;
    let results = (0..n)
        .map(|i| {
            let r = &pdu[at + 24 * i..at + 24 * (i + 1)];
            (
                u16::from_le_bytes([r[0], r[1]]),
                u16::from_le_bytes([r[2], r[3]]),
                r[4..].to_vec(),
            )
        })
        .collect();
    (addr, results)
}

async fn ask(out: &mut TlsStream<TcpStream>, inn: &mut TlsStream<TcpStream>, pdu: &[u8]) -> Vec<u8> {
    inn.write_all(pdu).await.expect("send on IN");
    inn.flush().await.expect("flush");
    read_pdu(out).await
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn healthy_opens_the_virtual_connection_and_accepts_the_exchange_binds() {
    let s = OaScenario::Healthy;
    let (mut out, mut inn) = open(s, 6001).await;
    let (addr, results) = ack(&ask(&mut out, &mut inn, &bind(EMSMDB)).await);
    assert_eq!((addr.as_str(), results), ("6001\0", vec![(0, 0, hex(NDR))]));
    let (_, results) = ack(&ask(&mut out, &mut inn, &hex(BIND_BTFN)).await);
    assert_eq!(results.iter().map(|r| r.0).collect::<Vec<_>>(), vec![0, 3]);
    // EMSMDB does not listen on 6002; RFR does. NSPI on 6004.
    for (port, interface, want) in [(6002, EMSMDB, (2, 1)), (6002, RFR, (0, 0)), (6004, NSPI, (0, 0))] {
        let (mut out, mut inn) = open(s, port).await;
        let (addr, results) = ack(&ask(&mut out, &mut inn, &bind(interface)).await);
        assert_eq!(addr, format!("{port}\0"));
        assert_eq!((results[0].0, results[0].1), want, "{port} {interface}");
    }
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn bind_rejected_answers_ack_rejection_fault_and_nak() {
    let s = OaScenario::BindRejected;
    let (mut out, mut inn) = open(s, 6001).await;
    let (_, results) = ack(&ask(&mut out, &mut inn, &bind(EMSMDB)).await);
    assert_eq!((results[0].0, results[0].1), (2, 1));
    let (mut out, mut inn) = open(s, 6002).await;
    let fault = ask(&mut out, &mut inn, &bind(RFR)).await;
    assert_eq!(
        (
            fault[2],
            u32::from_le_bytes([fault[24], fault[25], fault[26], fault[27]])
        ),
        (0x03, 0x1C01_0003)
    );
    let (mut out, mut inn) = open(s, 6004).await;
    let nak = ask(&mut out, &mut inn, &bind(NSPI)).await;
    assert_eq!((nak[2], u16::from_le_bytes([nak[16], nak[17]])), (0x0d, 2));
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn silent_after_headers_sends_the_head_and_then_nothing() {
    let s = OaScenario::SilentAfterHeaders;
    let mut out = channel(s, "RPC_OUT_DATA", 6001, 76, &hex(A1)).await;
    let head = read_head(&mut out).await;
    assert!(head.starts_with("HTTP/1.1 200 Success\r\n"), "{head}");
    assert_eq!(read_exact(&mut out, 1, Duration::from_secs(2)).await, None);
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn a_bad_conn_a1_is_refused() {
    let s = OaScenario::Healthy;
    let mut a1 = hex(A1);
    a1[24] = 2; // Version 2
    let mut out = channel(s, "RPC_OUT_DATA", 6001, 76, &a1).await;
    assert!(read_head(&mut out).await.starts_with("HTTP/1.1 400 "));
}

/// Reads one chunk of a chunked body: its size line, its data and the CRLF after it.
async fn read_chunk(tls: &mut TlsStream<TcpStream>) -> (String, Vec<u8>) {
    let mut line = Vec::new();
    while !line.ends_with(b"\r\n") {
        let byte = read_exact(tls, 1, Duration::from_secs(3))
            .await
            .expect("a chunk size line");
        line.extend(byte);
        assert!(line.len() < 64, "{line:?}");
    }
    let line = String::from_utf8(line).expect("ASCII size line");
    let size = usize::from_str_radix(line.trim_end(), 16).expect("a hex size");
    let data = read_exact(tls, size + 2, Duration::from_secs(3))
        .await
        .expect("the chunk");
    assert!(data.ends_with(b"\r\n"), "{data:02x?}");
    (line, data[..size].to_vec())
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn tmg_sends_the_out_channel_chunked_with_chunks_that_cut_pdus() {
    let s = OaScenario::TmgChunked;
    let (a1, b1) = a1_b1();
    let mut out = channel(s, "RPC_OUT_DATA", 6001, 76, &a1).await;
    let mut inn = channel(s, "RPC_IN_DATA", 6001, 1_073_741_824, &b1).await;
    let head = read_head(&mut out).await;
    assert!(head.starts_with("HTTP/1.1 200 Success\r\n"), "{head}");
    for line in [
        "Content-Type: application/rpc",
        "Transfer-Encoding: chunked",
        "Via: 1.1 FIREWALL1",
    ] {
        assert!(head.contains(&format!("{line}\r\n")), "{line}: {head}");
    }
    assert!(!head.contains("Content-Length"), "{head}");
    // CONN/A3 (28 bytes) and the 16-byte header of CONN/C2 in one chunk, the rest of C2 in the next.
    let (size, first) = read_chunk(&mut out).await;
    assert_eq!((size.as_str(), first.len()), ("2c\r\n", 44));
    assert_eq!(
        first[..24],
        hex("05 00 14 03 10 00 00 00 1c 00 00 00 00 00 00 00 00 00 01 00 02 00 00 00")[..]
    );
    assert_eq!(
        first[28..44],
        hex("05 00 14 03 10 00 00 00 2c 00 00 00 00 00 00 00")[..]
    );
    let (size, second) = read_chunk(&mut out).await;
    assert_eq!((size.as_str(), second.len()), ("1c\r\n", 28));
    assert_eq!(second[..12], hex("00 00 03 00 06 00 00 00 01 00 00 00")[..]);
    // The bind's answer: one chunk, one PDU.
    inn.write_all(&bind(EMSMDB)).await.expect("send on IN");
    inn.flush().await.expect("flush");
    let (_, pdu) = read_chunk(&mut out).await;
    assert_eq!(usize::from(u16::from_le_bytes([pdu[8], pdu[9]])), pdu.len());
    let (addr, results) = ack(&pdu);
    assert_eq!((addr.as_str(), results), ("6001\0", vec![(0, 0, hex(NDR))]));
}

/// TMG adds its Via to a channel's `100 Continue` too, in the form impacket quotes it.
#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn tmg_adds_its_via_to_100_continue() {
    let s = OaScenario::TmgChunked;
    let mut tls = connect(s).await;
    let login = STANDARD.encode(format!("{}:{}", s.user(), s.password()));
    let head = format!(
        "RPC_IN_DATA /rpc/rpcproxy.dll?{}:6001 HTTP/1.1\r\nHost: {}\r\nUser-Agent: MSRPC\r\nContent-Length: 0\r\nExpect: 100-continue\r\nAuthorization: Basic {login}\r\n\r\n",
        s.exchange_server(),
        s.proxy_host()
    );
    tls.write_all(head.as_bytes()).await.expect("send head");
    tls.flush().await.expect("flush");
    assert_eq!(
        read_head(&mut tls).await,
        "HTTP/1.1 100 Continue\r\nVia: 1.1 FIREWALL1\r\n\r\n"
    );
    let answer = read_head(&mut tls).await;
    assert!(
        answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.contains("Via: 1.1 FIREWALL1\r\n"),
        "{answer}"
    );
}
