//! Routing and authentication of the web side: EWS and MRS Proxy behind the host's authentication
//! (anonymous: 401 with its `WWW-Authenticate` list), OWA's redirect and logon page anonymously,
//! Exchange 2003's `/exchange/` behind authentication and its `/exchweb/` logon form anonymously.

use super::conn::{self, Ctx, STEP, Stream};
use super::http::{self, Conn, Request};
use super::owa::{self, Page};
use super::{Mode, Vdir, Web, ews, get_user_settings};

/// Which part of the web side a path belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Ews,
    Mrs,
    Owa,
    /// `/EWS/Exchange.asmx/wssecurity` and `/autodiscover/autodiscover.svc/wssecurity`: WS-Security,
    /// anonymous at the transport (IIS lets the request in; WCF checks the message).
    WsSecurity,
    /// `/autodiscover/autodiscover.svc` (SOAP Autodiscover), behind the Autodiscover virtual
    /// directory's authentication.
    SoapAutodiscover,
    /// Exchange 2003: `/exchange/`.
    Exchange,
    /// Exchange 2003: `/exchweb/`.
    Exchweb,
}

/// The route of a (lowercased) path on a host; None: not the web side's (RPC, MAPI, or 404).
pub(crate) fn route(web: &Web, path: &str) -> Option<Route> {
    let under = |dir: &str| path == dir || path.starts_with(&format!("{dir}/"));
    match web {
        Web::Exchange(_) if path == "/ews/exchange.asmx" => Some(Route::Ews),
        Web::Exchange(_) if under("/ews/mrsproxy.svc") => Some(Route::Mrs),
        Web::Exchange(_) if under("/owa") => Some(Route::Owa),
        Web::Exchange(_) if path == "/ews/exchange.asmx/wssecurity" => Some(Route::WsSecurity),
        Web::Exchange(_) if path == "/autodiscover/autodiscover.svc/wssecurity" => Some(Route::WsSecurity),
        Web::Exchange(_) if path == "/autodiscover/autodiscover.svc" => Some(Route::SoapAutodiscover),
        Web::Exchange2003 if under("/exchange") => Some(Route::Exchange),
        Web::Exchange2003 if under("/exchweb") => Some(Route::Exchweb),
        _ => None,
    }
}

/// Serves one request of the web side; `false` when the connection must close.
pub(crate) async fn serve(
    ctx: &Ctx,
    conn: &mut Conn<Stream>,
    req: &Request,
    ntlm_user: &mut Option<String>,
    route: Route,
) -> bool {
    let path = req.path().to_ascii_lowercase();
    let name = ctx.host.name.as_str();
    let web = match &ctx.host.web {
        Web::Exchange(w) => Some(w),
        Web::Exchange2003 => None,
    };
    let mut logged_user = "-".to_string();
    let page = match (route, web) {
        (Route::Owa, Some(w)) => owa::owa(name, w.owa_version, &path),
        (Route::Exchweb, _) if path == "/exchweb/bin/auth/owalogon.asp" => owa::owa2003_logon(),
        (Route::Exchweb, _) if path.starts_with("/exchweb/img/") => Page {
            status: 200,
            headers: vec![("Content-Type", "image/gif".into())],
            body: b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
        },
        (Route::Exchweb, _) => not_found(),
        (Route::WsSecurity, _) => ws_security_fault(),
        _ => {
            // Everything else is behind the host's authentication.
            let vdir = match route {
                Route::Exchange => Vdir::Exchange2003,
                Route::SoapAutodiscover => Vdir::Autodiscover,
                _ => Vdir::Ews,
            };
            let user = match conn::authenticate(ctx, req, ntlm_user, vdir).await {
                Ok(u) => u,
                Err(mut challenge) => {
                    ctx.log(req, 401, "-");
                    challenge.push(("Content-Type", "text/html".into()));
                    let body = b"401 - Unauthorized: Access is denied due to invalid credentials.\n";
                    return conn::finish(ctx, conn, req, 401, "Unauthorized", challenge, body).await;
                }
            };
            logged_user.clone_from(&user);
            match (route, web) {
                (Route::Ews, Some(w)) if req.method == "POST" => {
                    let host = ews::Host {
                        build: w.ews_version,
                        mail_domain: &w.mail_domain,
                    };
                    return soap_post(ctx, conn, req, &user, |body| ews::answer(&host, body)).await;
                }
                (Route::SoapAutodiscover, Some(w)) if req.method == "POST" => {
                    let host = get_user_settings::SoapHost {
                        name,
                        build: w.ews_version,
                        mail_domain: &w.mail_domain,
                        external_ews: w.external_ews,
                    };
                    return soap_post(ctx, conn, req, &user, |body| get_user_settings::answer(&host, body)).await;
                }
                (Route::Ews, Some(_)) => Page {
                    status: 200,
                    headers: vec![("Content-Type", "text/html; charset=utf-8".into())],
                    body: owa::wcf_help("Service", &format!("https://{name}/EWS/Exchange.asmx")).into_bytes(),
                },
                (Route::Mrs, Some(w)) => owa::mrs(name, w.mrs_enabled),
                (Route::Exchange, None) => owa::owa2003_mailbox(&user),
                _ => not_found(),
            }
        }
    };
    ctx.log(req, page.status, &logged_user);
    let reason = http::reason(page.status);
    conn::finish(ctx, conn, req, page.status, reason, page.headers, &page.body).await
}

/// nginx's own 404 page with `server_tokens off`: `ngx_http_error_404_page` and `ngx_http_error_tail`
/// of nginx/nginx@e23e7dd83a75b073773c3bc1e57bdb36c27bcc3f:src/http/ngx_http_special_response.c (CRLF
/// line ends), sent with `Server: nginx` and `Content-Type: text/html`.
const NGINX_404: &[u8] = b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// What a reverse proxy that publishes only `/rpc/` and `/autodiscover/` answers for any other
/// (lowercased) path: its own 404, the request never reaching Exchange. The exact answer of such a
/// publishing rule is not published for TMG (Microsoft's TMG documentation names only the log event
/// "No matching rule was found"); an nginx in that role answers its own page, so the lab plays nginx.
pub(crate) fn unpublished(mode: Mode, path: &str) -> Option<Page> {
    let published = ["/rpc/", "/autodiscover/"].iter().any(|dir| path.starts_with(dir));
    (mode == Mode::RpcAndAutodiscoverOnly && !published).then(|| Page {
        status: 404,
        headers: vec![("Server", "nginx".into()), ("Content-Type", "text/html".into())],
        body: NGINX_404.to_vec(),
    })
}

/// nginx's tail of every special page (`ngx_http_error_tail`, same file as [`NGINX_404`]).
const NGINX_TAIL: &str = "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// nginx's own page for `status` (`ngx_http_error_401_page`, `ngx_http_error_302_page` of
/// ngx_http_special_response.c: the title and heading are the status line, CRLF line ends).
fn nginx_page(status: u16, title: &str) -> Vec<u8> {
    format!("<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n<center><h1>{status} {title}</h1></center>\r\n{NGINX_TAIL}").into_bytes()
}

/// What a device in front that pre-authenticates answers for /EWS/ and /autodiscover/ (lowercased
/// `path`), the request never reaching Exchange; None: it passes the request on.
/// - [`Mode::PreAuthBasic`]: nginx `auth_basic "<host>";` answers a request without a valid Basic logon
///   `401` with `WWW-Authenticate: Basic realm="<host>"` (nginx/nginx:src/http/modules/
///   ngx_http_auth_basic_module.c: `Basic realm="`), its 401 page and `Server: nginx` (`server_tokens
///   off`). Exchange Online meets exactly this: "The authentication header received from the server was
///   'Basic realm="mail.domain.com"'" (Microsoft Q&A 2188108, issue 19 research F1). A valid Basic
///   logon goes on to Exchange, the `Authorization` header with it (nginx passes it upstream).
/// - [`Mode::PreAuthRedirect`]: `return 302 https://<host>/login/;` (nginx's 302 page with
///   `Location`): a generic device's redirect to its login page. The exact redirects of F5 APM, KEMP ESP,
///   NetScaler or Entra application proxy are not published verbatim (research §4.4), so the lab plays
///   nginx and says so.
pub(crate) fn front_device(ctx: &Ctx, req: &Request, path: &str) -> Option<Page> {
    let covered = ["/ews/", "/autodiscover/"].iter().any(|dir| path.starts_with(dir));
    if !covered {
        return None;
    }
    let host = &ctx.host;
    match host.mode {
        Mode::PreAuthBasic => {
            let signed_in = match super::auth::parse(req.header("authorization")) {
                super::auth::Credentials::Basic { octets } => {
                    super::auth::check_basic(&host.users, &octets, host.iis.basic).is_some()
                }
                _ => false,
            };
            (!signed_in).then(|| Page {
                status: 401,
                headers: vec![
                    ("Server", "nginx".into()),
                    ("Content-Type", "text/html".into()),
                    ("WWW-Authenticate", format!("Basic realm=\"{}\"", host.name)),
                ],
                body: nginx_page(401, "Authorization Required"),
            })
        }
        Mode::PreAuthRedirect => Some(Page {
            status: 302,
            headers: vec![
                ("Server", "nginx".into()),
                ("Content-Type", "text/html".into()),
                ("Location", format!("https://{}/login/", host.name)),
            ],
            body: nginx_page(302, "Found"),
        }),
        _ => None,
    }
}

/// What a WS-Security path answers a POST without a signed message. Modelled: Exchange's answer to an
/// anonymous POST there is not published (issue 19 research §8, "not found verbatim"); the lab sends
/// WCF's fault for a message that fails its security check, with Exchange's headers as on every
/// answer, which is all a "who answered" check reads.
fn ws_security_fault() -> Page {
    Page {
        status: 500,
        headers: vec![("Content-Type", "text/xml; charset=utf-8".into())],
        body: b"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode xmlns:a=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\">a:InvalidSecurity</faultcode><faultstring xml:lang=\"en-US\">An error occurred when verifying security for the message.</faultstring></s:Fault></s:Body></s:Envelope>".to_vec(),
    }
}

fn not_found() -> Page {
    Page {
        status: 404,
        headers: vec![("Content-Type", "text/html".into())],
        body: b"404 - File or directory not found.\n".to_vec(),
    }
}

/// An authenticated SOAP POST (EWS, SOAP Autodiscover): the body (bounded) read and answered by `answer`.
async fn soap_post(
    ctx: &Ctx,
    conn: &mut Conn<Stream>,
    req: &Request,
    user: &str,
    answer: impl FnOnce(&[u8]) -> (u16, String),
) -> bool {
    let refuse = |status: u16| {
        ctx.log(req, status, user);
        (status, http::reason(status))
    };
    let length = match req.content_length() {
        _ if req.chunked() => return close(ctx, conn, refuse(411)).await,
        Ok(n) if n <= ews::MAX_BODY as u64 => n as usize,
        _ => return close(ctx, conn, refuse(413)).await,
    };
    if req.expects_continue() && !conn.send(b"HTTP/1.1 100 Continue\r\n\r\n").await {
        return false;
    }
    let Some(body) = conn.read_exact(length, STEP).await else {
        return false;
    };
    let (status, xml) = answer(&body);
    ctx.log(req, status, user);
    let headers = vec![("Content-Type", "text/xml; charset=utf-8".to_string())];
    let answer = (status, http::reason(status));
    conn::send_answer(ctx, conn, req, answer, headers, xml.as_bytes(), true).await
}

/// An error answer that closes the connection (the body is not read).
async fn close(ctx: &Ctx, conn: &mut Conn<Stream>, (status, reason): (u16, &str)) -> bool {
    let mut headers = ctx.server_headers();
    headers.push(("Connection", "close".into()));
    let _ = conn.send(&http::response(status, reason, &headers, b"")).await;
    false
}
