//! One TLS connection of the proxy: requests in a keep-alive loop, routing, authentication (Basic
//! here, NTLM through the helper, connection-bound), the echo, and the hand-off to the channels.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::auth::{self, Credentials, Scheme};
use super::http::{self, Conn, ReadError, Request};
use super::ntlm::Verdict;
use super::{HostConfig, Mode, Shared, Vdir, Web, mapi, pdu, pox, vc, web};

/// How long a keep-alive connection may sit idle before its next request.
const IDLE: Duration = Duration::from_secs(30);
/// How long a request head (or a small body) may take once started.
pub(crate) const STEP: Duration = Duration::from_secs(10);
const TLS_HANDSHAKE: Duration = Duration::from_secs(60);
/// Bodies read and thrown away to keep a connection (larger ones close it).
const MAX_DISCARD: u64 = 64 * 1024;
const IIS: &str = "Microsoft-IIS/10.0";
/// Exchange 2010 runs on Windows Server 2008 R2.
const IIS_2010: &str = "Microsoft-IIS/7.5";
/// Exchange 2003 runs on Windows Server 2003.
const IIS_2003: &str = "Microsoft-IIS/6.0";
const FRONT_PROXY: &str = "BIG-IP-LabProxy/1.0 (reverse proxy, migcheck-lab)";
/// The `Via` Microsoft TMG adds to what it forwards, as impacket's RPC over HTTP client quotes it from a
/// TMG's `100 Continue` ("HTTP/1.1 100 Continue / Via: 1.1 FIREWALL1", fortra/impacket
/// `impacket/dcerpc/v5/rpch.py`, `_read_100_continue`); RFC 9110 7.6.3: a proxy adds Via to each message
/// it forwards.
pub(crate) const TMG_VIA: &str = "1.1 FIREWALL1";

pub(crate) type Stream = TlsStream<TcpStream>;

/// What a connection serves and for whom.
pub(crate) struct Ctx {
    pub shared: Arc<Shared>,
    pub host: Arc<HostConfig>,
    pub listen: SocketAddr,
    /// `<store>/<n>`: this connection's id at the NTLM helper.
    pub conn_id: String,
}

impl Ctx {
    pub(crate) fn log(&self, req: &Request, status: u16, user: &str) {
        self.shared.log(self.listen, &self.host, req, status, user);
    }

    /// The headers an IIS front end adds (none for the reverse proxy in front): the IIS of the
    /// host's Exchange, `X-FEServer` from 2013 on, `X-OWA-Version` from 2010 on.
    pub(crate) fn server_headers(&self) -> Vec<(&'static str, String)> {
        if self.host.mode == Mode::FrontProxy405 {
            return vec![("Server", FRONT_PROXY.to_string())];
        }
        let mut headers = self.iis_headers();
        if self.host.mode == Mode::TmgChunked {
            headers.push(("Via", TMG_VIA.to_string()));
        }
        headers
    }

    /// The `100 Continue` of an RPC channel (with TMG's `Via` when TMG publishes the host).
    pub(crate) fn continue_head(&self) -> String {
        match self.host.mode {
            Mode::TmgChunked => format!("HTTP/1.1 100 Continue\r\nVia: {TMG_VIA}\r\n\r\n"),
            _ => "HTTP/1.1 100 Continue\r\n\r\n".to_string(),
        }
    }

    /// What IIS itself adds.
    fn iis_headers(&self) -> Vec<(&'static str, String)> {
        match &self.host.web {
            Web::Exchange2003 => vec![
                ("Server", IIS_2003.to_string()),
                ("X-Powered-By", "ASP.NET".to_string()),
            ],
            Web::Exchange(w) if w.owa_version.starts_with("14.") => vec![
                ("Server", IIS_2010.to_string()),
                ("X-Powered-By", "ASP.NET".to_string()),
                ("X-OWA-Version", w.owa_version.to_string()),
            ],
            Web::Exchange(w) => vec![
                ("Server", IIS.to_string()),
                ("X-Powered-By", "ASP.NET".to_string()),
                ("X-FEServer", w.fe_server.to_string()),
                ("X-OWA-Version", w.owa_version.to_string()),
            ],
        }
    }
}

pub(crate) async fn accept_loop(
    listener: TcpListener,
    tls: TlsAcceptor,
    host: Arc<HostConfig>,
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
) {
    loop {
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
            return;
        };
        let (tcp, _) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let listen = tcp
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from((host.ip, super::PORT)));
        let tls = tls.clone();
        let host = Arc::clone(&host);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let _permit = permit;
            let Ok(Ok(stream)) = tokio::time::timeout(TLS_HANDSHAKE, tls.accept(tcp)).await else {
                return;
            };
            let n = shared.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let ctx = Ctx {
                conn_id: format!("{}/{n}", host.ntlm_store),
                shared,
                host,
                listen,
            };
            serve(&ctx, Conn::new(stream)).await;
        });
    }
}

/// The keep-alive loop of one connection.
async fn serve(ctx: &Ctx, mut conn: Conn<Stream>) {
    // The user an NTLM handshake authenticated on this connection.
    let mut ntlm_user: Option<String> = None;
    loop {
        let req = match conn.read_head(IDLE, STEP).await {
            Ok(r) => r,
            Err(ReadError::Closed) => break,
            Err(ReadError::Bad(why)) => {
                let body = format!("400 Bad Request: {why}\n");
                let _ = conn
                    .send(&http::response(
                        400,
                        "Bad Request",
                        &[("Connection", "close".into())],
                        body.as_bytes(),
                    ))
                    .await;
                break;
            }
        };
        let keep = handle(ctx, &mut conn, &req, &mut ntlm_user).await;
        if !keep {
            break;
        }
    }
    if let Some(ntlm) = &ctx.shared.ntlm {
        ntlm.forget(&ctx.conn_id);
    }
}

fn is_rpc(method: &str) -> bool {
    method == "RPC_IN_DATA" || method == "RPC_OUT_DATA"
}

/// Serves one request; `false` when the connection must close.
async fn handle(ctx: &Ctx, conn: &mut Conn<Stream>, req: &Request, ntlm_user: &mut Option<String>) -> bool {
    let path = req.path().to_ascii_lowercase();
    if ctx.host.mode == Mode::FrontProxy405 {
        let (status, extra, body): (u16, Vec<(&str, String)>, &[u8]) = if is_rpc(&req.method) {
            (
                405,
                vec![("Allow", "GET, HEAD, POST, OPTIONS".into())],
                b"405 Method Not Allowed\n",
            )
        } else if path == "/" && (req.method == "GET" || req.method == "HEAD") {
            (
                200,
                vec![("Content-Type", "text/html".into())],
                b"<!doctype html><title>Welcome</title><h1>Contoso web gateway</h1>\n",
            )
        } else {
            (404, Vec::new(), b"404 Not Found\n")
        };
        ctx.log(req, status, "-");
        return finish(ctx, conn, req, status, http::reason(status), extra, body).await;
    }
    if let Some(page) = web::unpublished(ctx.host.mode, &path).or_else(|| web::front_device(ctx, req, &path)) {
        ctx.log(req, page.status, "-");
        return finish(
            ctx,
            conn,
            req,
            page.status,
            http::reason(page.status),
            page.headers,
            &page.body,
        )
        .await;
    }
    if let Some(route) = web::route(&ctx.host.web, &path) {
        return web::serve(ctx, conn, req, ntlm_user, route).await;
    }
    if let Mode::OwnAutodiscover { cert_principal } = ctx.host.mode
        && path == pox::PATH
    {
        return pox::serve(ctx, conn, req, ntlm_user, cert_principal).await;
    }
    let rpc = path == "/rpc/rpcproxy.dll" && is_rpc(&req.method);
    let mapi = (path.starts_with("/mapi/emsmdb") || path.starts_with("/mapi/nspi")) && req.method == "POST";
    if !rpc && !mapi {
        ctx.log(req, 404, "-");
        return finish(
            ctx,
            conn,
            req,
            404,
            "Not Found",
            Vec::new(),
            b"404 - File or directory not found.\n",
        )
        .await;
    }
    let vdir = if rpc { Vdir::Rpc } else { Vdir::Mapi };
    let user = match authenticate(ctx, req, ntlm_user, vdir).await {
        Ok(u) => u,
        Err(challenge) => return unauthorized(ctx, conn, req, challenge).await,
    };
    if mapi {
        let status_and_body = mapi::answer(req);
        ctx.log(req, 200, &user);
        let mut headers = status_and_body.0;
        headers.extend(ctx.server_headers());
        return finish(ctx, conn, req, 200, "OK", headers, &status_and_body.1).await;
    }
    rpc_request(ctx, conn, req, &user).await
}

/// Checks the request's credentials on the virtual directory `vdir` (its schemes, its Extended
/// Protection). `Err`: the `WWW-Authenticate` headers of the 401 to send.
pub(crate) async fn authenticate(
    ctx: &Ctx,
    req: &Request,
    ntlm_user: &mut Option<String>,
    vdir: Vdir,
) -> Result<String, Vec<(&'static str, String)>> {
    let host = &ctx.host;
    let schemes = host.schemes_for(vdir);
    let offered = |s| schemes.contains(&s);
    let refuse = || auth::challenges(schemes, &host.name);
    match auth::parse(req.header("authorization")) {
        Credentials::Basic { octets } if offered(Scheme::Basic) => {
            auth::check_basic(&host.users, &octets, host.iis.basic).ok_or_else(refuse)
        }
        Credentials::Ntlm { token, negotiate } if offered(Scheme::Ntlm) => {
            let Some(helper) = &ctx.shared.ntlm else {
                return Err(refuse());
            };
            *ntlm_user = None;
            let checking = host.iis.ep.of(vdir);
            match helper.step(&ctx.conn_id, &token, checking, &host.name).await {
                Verdict::Challenge(c) => {
                    let scheme = if negotiate { "Negotiate" } else { "NTLM" };
                    Err(vec![("WWW-Authenticate", format!("{scheme} {}", STANDARD.encode(c)))])
                }
                Verdict::Ok(user) => {
                    *ntlm_user = Some(user.clone());
                    Ok(user)
                }
                Verdict::Fail(_) => Err(refuse()),
            }
        }
        // IIS keeps an NTLM logon for the rest of the connection.
        Credentials::None => ntlm_user.clone().ok_or_else(refuse),
        _ => Err(refuse()),
    }
}

/// IIS's 401 with the `WWW-Authenticate` headers `challenge` (from [`authenticate`]).
pub(crate) async fn unauthorized(
    ctx: &Ctx,
    conn: &mut Conn<Stream>,
    req: &Request,
    mut challenge: Vec<(&'static str, String)>,
) -> bool {
    ctx.log(req, 401, "-");
    let body = b"401 - Unauthorized: Access is denied due to invalid credentials.\n";
    challenge.push(("Content-Type", "text/html".into()));
    finish(ctx, conn, req, 401, "Unauthorized", challenge, body).await
}

/// Sends a whole response and decides whether the connection can stay: only when the request's
/// body is small enough to read and throw away (a 1 GiB channel body never is).
pub(crate) async fn finish(
    ctx: &Ctx,
    conn: &mut Conn<Stream>,
    req: &Request,
    status: u16,
    reason: &str,
    headers: Vec<(&'static str, String)>,
    body: &[u8],
) -> bool {
    send_answer(ctx, conn, req, (status, reason), headers, body, false).await
}

/// [`finish`], for a request whose body the handler has read already (`body_read`).
pub(crate) async fn send_answer(
    ctx: &Ctx,
    conn: &mut Conn<Stream>,
    req: &Request,
    (status, reason): (u16, &str),
    mut headers: Vec<(&'static str, String)>,
    body: &[u8],
    body_read: bool,
) -> bool {
    if !headers.iter().any(|(k, _)| *k == "Server") {
        headers.extend(ctx.server_headers());
    }
    let length = if body_read { Ok(0) } else { req.content_length() };
    let keep = !req.chunked()
        && match length {
            Ok(0) => true,
            Ok(n) => n <= MAX_DISCARD && !req.expects_continue(),
            Err(_) => false,
        };
    if keep {
        if let Ok(n) = length
            && n > 0
            && !conn.discard(n, STEP).await
        {
            return false;
        }
    } else {
        headers.push(("Connection", "close".into()));
    }
    let head_only = req.method == "HEAD";
    let mut bytes = http::response(status, reason, &headers, body);
    if head_only {
        bytes.truncate(bytes.len() - body.len());
    }
    conn.send(&bytes).await && keep
}

/// An authenticated RPC_IN_DATA / RPC_OUT_DATA.
async fn rpc_request(ctx: &Ctx, conn: &mut Conn<Stream>, req: &Request, user: &str) -> bool {
    let length = match req.content_length() {
        Ok(n) if !req.chunked() => n,
        _ => {
            ctx.log(req, 400, user);
            return finish(ctx, conn, req, 400, "Bad Request", Vec::new(), b"400 Bad Request\n").await;
        }
    };
    if length <= 16 {
        return echo(ctx, conn, req, user, length).await;
    }
    let target = req.query().and_then(|q| {
        let (server, port) = q.rsplit_once(':')?;
        Some((server.to_string(), port.parse::<u16>().ok()?))
    });
    let Some((server, port)) = target else {
        ctx.log(req, 400, user);
        return finish(ctx, conn, req, 400, "Bad Request", Vec::new(), b"400 Bad Request\n").await;
    };
    let known = ctx.host.rpc_servers.iter().any(|s| s.eq_ignore_ascii_case(&server));
    if !known || !(6001..=6004).contains(&port) || ctx.host.mode == Mode::Unreachable6ba {
        ctx.log(req, 503, user);
        let mut headers = ctx.server_headers();
        headers.push(("Connection", "close".into()));
        let _ = conn.send(&http::response(503, "RPC Error: 6ba", &headers, b"")).await;
        return false;
    }
    if req.expects_continue() && !conn.send(ctx.continue_head().as_bytes()).await {
        return false;
    }
    if req.method == "RPC_OUT_DATA" {
        if length != 76 {
            ctx.log(req, 400, user);
            let _ = conn
                .send(&http::response(400, "Bad Request", &ctx.server_headers(), b""))
                .await;
            return false;
        }
        vc::out_channel(ctx, conn, req, user).await;
    } else {
        vc::in_channel(ctx, conn, req, user, port).await;
    }
    false
}

/// The echo request ([MS-RPCH] 3.2.3.5.1... "ping the proxy"): 200 with the echo RTS PDU.
async fn echo(ctx: &Ctx, conn: &mut Conn<Stream>, req: &Request, user: &str, length: u64) -> bool {
    if req.expects_continue() && !conn.send(ctx.continue_head().as_bytes()).await {
        return false;
    }
    if length > 0 && !conn.discard(length, STEP).await {
        return false;
    }
    ctx.log(req, 200, user);
    let mut headers = vec![("Content-Type", "application/rpc".to_string())];
    headers.extend(ctx.server_headers());
    conn.send(&http::response(200, "OK", &headers, &pdu::echo())).await
}
