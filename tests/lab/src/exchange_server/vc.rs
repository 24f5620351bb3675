//! The virtual connection ([MS-RPCH] 3.2.3/3.2.4, proxy role): the OUT channel (CONN/A1 in, 200 +
//! CONN/A3 + CONN/C2 out, then the answers) and the IN channel (CONN/B1, then DCE/RPC PDUs), two TLS
//! connections joined by the virtual-connection cookie. The proxy plays the RPC server too: it
//! answers binds itself, per the host's mode and the port the channel was opened for.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::Mode;
use super::conn::{Ctx, STEP, Stream};
use super::http::{self, Conn, Request};
use super::pdu::{self, CtxResult, Syntax};

/// The ConnectionTimeout the proxy announces in CONN/A3 and CONN/C2 (2 minutes).
const CONNECTION_TIMEOUT_MS: u32 = 120_000;
/// The ReceiveWindowSize of CONN/C2.
const RECEIVE_WINDOW: u32 = 65_536;
/// The longest a channel lives (the lab's clients use seconds).
const CHANNEL_LIFE: Duration = Duration::from_secs(600);
/// How long an IN channel waits for its OUT channel to appear.
const JOIN_WAIT: Duration = Duration::from_secs(5);
/// How long an IN channel waits for its next PDU.
const PDU_IDLE: Duration = Duration::from_secs(120);
/// The content length of a channel's response (as IIS announces it).
const CHANNEL_LENGTH: &str = "1073741824";
/// nca_s_unk_if: the fault status for a call on an interface that is not there.
pub(crate) const NCA_S_UNK_IF: u32 = 0x1C01_0003;

/// An open OUT channel, as an IN channel finds it.
pub(crate) struct OutHandle {
    id: u64,
    tx: mpsc::Sender<Vec<u8>>,
}

/// An authenticated RPC_OUT_DATA whose 100 Continue (if asked for) is sent.
pub(crate) async fn out_channel(ctx: &Ctx, conn: &mut Conn<Stream>, req: &Request, user: &str) {
    let Some(bytes) = conn.read_exact(76, STEP).await else {
        return;
    };
    let a1 = match pdu::conn_a1(&bytes) {
        Ok(a1) => a1,
        Err(why) => {
            ctx.log(req, 400, user);
            let body = format!("not a CONN/A1: {why}\n");
            let _ = conn
                .send(&http::response(
                    400,
                    "Bad Request",
                    &ctx.server_headers(),
                    body.as_bytes(),
                ))
                .await;
            return;
        }
    };
    let _ = a1.receive_window;
    ctx.log(req, 200, user);
    let chunked = ctx.host.mode == Mode::TmgChunked;
    let mut head = String::from("HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\n");
    if chunked {
        // TMG 2010 re-frames the answer: impacket's client looks for "transfer-encoding: chunked" in this
        // head and de-chunks the OUT channel ("For Microsoft TMG 2010 it can cause more than one read",
        // fortra/impacket rpch.py `create_tunnel`, `rpc_out_recv1`); RFC 9112 6.1: no Content-Length
        // beside it. No verbatim TMG head is public: the rest is IIS's head and TMG's Via (conn.rs).
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else {
        head.push_str(&format!("Content-Length: {CHANNEL_LENGTH}\r\n"));
    }
    for (k, v) in ctx.server_headers() {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if !conn.send(head.as_bytes()).await {
        return;
    }
    let (mut rd, mut wr) = tokio::io::split(&mut conn.stream);
    if ctx.host.mode == Mode::SilentAfterHeaders {
        // Nothing more, ever: hold the connection until the client gives up.
        let _ = tokio::time::timeout(CHANNEL_LIFE, drain(&mut rd)).await;
        return;
    }
    let a3 = pdu::conn_a3(CONNECTION_TIMEOUT_MS);
    let c2 = pdu::conn_c2(RECEIVE_WINDOW, CONNECTION_TIMEOUT_MS);
    let sent = if chunked {
        send_first_chunks(&mut wr, &a3, &c2).await
    } else {
        http::send(&mut wr, &[a3, c2].concat()).await
    };
    if !sent {
        return;
    }
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let id = ctx.shared.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = (ctx.listen.ip(), a1.vc_cookie);
    if let Ok(mut vcs) = ctx.shared.vcs.lock() {
        vcs.insert(key, OutHandle { id, tx });
    }
    let relay = async {
        loop {
            tokio::select! {
                pdu = rx.recv() => {
                    let Some(p) = pdu else { return };
                    let bytes = if chunked { http::chunk(&p) } else { p };
                    if !http::send(&mut wr, &bytes).await {
                        return;
                    }
                }
                // The client sends nothing more on OUT; EOF or an error ends the channel.
                () = drain(&mut rd) => return,
            }
        }
    };
    let _ = tokio::time::timeout(CHANNEL_LIFE, relay).await;
    if let Ok(mut vcs) = ctx.shared.vcs.lock()
        && vcs.get(&key).is_some_and(|h| h.id == id)
    {
        vcs.remove(&key);
    }
}

/// CONN/A3 and CONN/C2 as TMG forwards them chunked: a proxy frames what it has read from IIS, so a
/// chunk ends where its read ended, not between PDUs (impacket: "We should not be using any information
/// from the TCP level to determine HTTP boundaries"). The first chunk holds CONN/A3 and C2's 16-byte
/// header, the second the rest of C2; the first size line goes out in two writes, as a client may then
/// read it in two ("For Microsoft TMG 2010 it can cause more than one read").
async fn send_first_chunks<W: tokio::io::AsyncWrite + Unpin>(wr: &mut W, a3: &[u8], c2: &[u8]) -> bool {
    let cut = pdu::HEADER_LEN.min(c2.len());
    let first = http::chunk(&[a3, &c2[..cut]].concat());
    http::send(wr, &first[..1]).await
        && http::send(wr, &first[1..]).await
        && http::send(wr, &http::chunk(&c2[cut..])).await
}

/// Reads and ignores until EOF or an error.
async fn drain<R: tokio::io::AsyncRead + Unpin>(rd: &mut R) {
    let mut buf = [0u8; 1024];
    while matches!(rd.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// An authenticated RPC_IN_DATA (its 100 Continue sent): CONN/B1, then PDUs until the client stops.
pub(crate) async fn in_channel(ctx: &Ctx, conn: &mut Conn<Stream>, req: &Request, user: &str, port: u16) {
    ctx.log(req, 200, user);
    // The client sends CONN/B1 once its OUT channel is open: allow for that.
    let Some(Ok(first)) = conn.read_pdu(Duration::from_secs(30)).await else {
        return;
    };
    let Ok(b1) = pdu::conn_b1(&first) else { return };
    let _ = b1.assoc_group;
    let out = join(ctx, &b1.vc_cookie).await;
    let work = async {
        loop {
            let pdu = match conn.read_pdu(PDU_IDLE).await {
                Some(Ok(p)) => p,
                _ => return,
            };
            let Some(answer) = answer(ctx.host.mode, port, &pdu) else {
                continue;
            };
            if let Some(out) = &out
                && out.send(answer).await.is_err()
            {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(CHANNEL_LIFE, work).await;
}

/// The OUT channel of this virtual connection, waiting [`JOIN_WAIT`] for it to open.
async fn join(ctx: &Ctx, cookie: &[u8; 16]) -> Option<mpsc::Sender<Vec<u8>>> {
    let deadline = tokio::time::Instant::now() + JOIN_WAIT;
    loop {
        let found = ctx
            .shared
            .vcs
            .lock()
            .ok()
            .and_then(|vcs| vcs.get(&(ctx.listen.ip(), *cookie)).map(|h| h.tx.clone()));
        if found.is_some() || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The answer to one PDU from the IN channel (None: no answer, e.g. RTS flow control and pings).
fn answer(mode: Mode, port: u16, pdu_bytes: &[u8]) -> Option<Vec<u8>> {
    let h = pdu::parse_header(pdu_bytes).ok()?;
    match h.ptype {
        pdu::PTYPE_BIND => Some(bind_answer(mode, port, pdu_bytes, h.call_id)),
        // No interface really runs behind the proxy: every call faults with "unknown interface"
        // (impacket's rpcmap then falls back to binding the UUID it was given).
        pdu::PTYPE_REQUEST => Some(pdu::fault(
            h.call_id,
            pdu::request_context(pdu_bytes).unwrap_or(0),
            NCA_S_UNK_IF,
        )),
        _ => None,
    }
}

/// (interface, major, minor, port; 0 = any port).
const INTERFACES: &[(&str, u16, u16, u16)] = &[
    ("a4f1db00-ca47-1067-b31f-00dd010662da", 0, 81, 6001), // EMSMDB
    ("1544f5e0-613c-11d1-93df-00c04fd7bd09", 1, 0, 6002),  // RFR
    ("f5cc5a18-4264-101a-8c59-08002b2f8426", 56, 0, 6004), // NSPI
    ("afa8bd80-7d8a-11c9-bef4-08002b102989", 1, 0, 0),     // MGMT
];
const NDR: (&str, u16, u16) = ("8a885d04-1ceb-11c9-9fe8-08002b104860", 2, 0);
/// The first 8 bytes (wire order) of the bind-time feature negotiation "transfer syntax".
const BTFN_PREFIX: [u8; 8] = [0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45];
/// The features acknowledged: KeepConnectionOnOrphanSupported only.
const BTFN_FEATURES: u16 = 0x0002;

fn bind_answer(mode: Mode, port: u16, bytes: &[u8], call_id: u32) -> Vec<u8> {
    let Ok(bind) = pdu::parse_bind(bytes) else {
        return pdu::bind_nak(call_id, 0);
    };
    match (mode, port) {
        (Mode::BindRejected, 6002) => return pdu::fault(call_id, 0, NCA_S_UNK_IF),
        (Mode::BindRejected, 6004) => return pdu::bind_nak(call_id, 2),
        _ => {}
    }
    let ndr = Syntax::new(NDR.0, NDR.1, NDR.2);
    let results: Vec<CtxResult> = bind
        .contexts
        .iter()
        .map(|c| {
            if c.transfer_syntaxes.iter().any(|t| t.uuid[..8] == BTFN_PREFIX) {
                return CtxResult::NegotiateAck(BTFN_FEATURES);
            }
            if mode == Mode::BindRejected && port == 6001 {
                return CtxResult::ProviderRejection(1);
            }
            let listens = INTERFACES.iter().any(|(uuid, major, _, p)| {
                Syntax::new(uuid, 0, 0).is_some_and(|s| s.uuid == c.abstract_syntax.uuid)
                    && c.abstract_syntax.major == *major
                    && (*p == 0 || *p == port)
            });
            match ndr {
                Some(ndr) if listens && c.transfer_syntaxes.contains(&ndr) => CtxResult::Accepted(ndr),
                _ if listens => CtxResult::ProviderRejection(2),
                _ => CtxResult::ProviderRejection(1),
            }
        })
        .collect();
    let assoc = if bind.assoc_group != 0 {
        bind.assoc_group
    } else {
        0x0001_2b3c
    };
    pdu::bind_ack(&bind, assoc, &port.to_string(), &results)
}
