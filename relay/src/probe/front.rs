//! Who answered a request: Exchange, or a device in front of it (a reverse proxy, WAF or load balancer
//! that pre-authenticates). Facts only: the signs seen on one answer, sorted by whose they are.
//!
//! Exchange's signs (issue 19 research §4):
//! - `X-FEServer` / `X-BEServer`: static IIS custom headers Exchange setup writes into the front end's
//!   and back end's web.config files (CSS-Exchange HealthChecker test data,
//!   `DefaultWebSite-EWS_web.config`: `<add name="X-FEServer" value="SOLO-E16A" />`), so every answer of
//!   Exchange 2013 and later carries them, 401s included;
//! - `request-id` and `X-CalculatedBETarget` on Exchange's 401s and proxied answers (real captures);
//! - `X-OWA-Version` (Exchange 2010 and later) and Autodiscover's `X-SOAP-Enabled` /
//!   `X-WSSecurity-Enabled` (which the EWS Managed API reads);
//! - a 401 offering Windows authentication (`Negotiate`, `NTLM`), possibly beside its own
//!   `Basic realm=`, which Exchange and devices both send, so a realm decides nothing.
//!
//! A device's signs: a redirect (to its login page), only `Basic` offered, an HTML page, its own
//! `Server` header, and none of Exchange's headers. nginx's `auth_basic` answers
//! `WWW-Authenticate: Basic realm="..."` with its own HTML page and `Server: nginx`
//! (nginx/nginx:src/http/modules/ngx_http_auth_basic_module.c, src/http/ngx_http_special_response.c).

use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::ProbeError;
use crate::probe::auth::offers;

/// The headers only Exchange sends, in the order the evidence names them.
pub const EXCHANGE_HEADERS: [&str; 7] = [
    "x-feserver",
    "x-beserver",
    "request-id",
    "x-calculatedbetarget",
    "x-owa-version",
    "x-soap-enabled",
    "x-wssecurity-enabled",
];

/// Who answered, with the signs that show it (words for the evidence and the finding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answerer {
    /// Exchange's own headers, or its Windows authentication.
    Exchange(Vec<String>),
    /// None of Exchange's signs, and a device's.
    Device(Vec<String>),
    /// Neither's signs (an IIS page without Exchange's headers, say).
    Unknown,
}

impl Answerer {
    /// The signs in one line.
    pub fn signs(&self) -> String {
        match self {
            Answerer::Exchange(s) | Answerer::Device(s) => s.join("; "),
            Answerer::Unknown => String::new(),
        }
    }
}

/// The `WWW-Authenticate` values of an answer.
pub fn offered(answer: &HttpAnswer) -> Vec<String> {
    answer
        .header_values("www-authenticate")
        .iter()
        .map(|v| v.to_string())
        .collect()
}

/// Whether a 401 offers Windows authentication (NTLM or Negotiate).
pub fn offers_windows(answer: &HttpAnswer) -> bool {
    let offered = offered(answer);
    offers(&offered, "NTLM") || offers(&offered, "Negotiate")
}

/// Decides who answered on Exchange's headers first: any of them, or Windows authentication offered,
/// is Exchange; else a device when a device's sign shows.
pub fn who_answered(answer: &HttpAnswer) -> Answerer {
    let mut exchange: Vec<String> = EXCHANGE_HEADERS
        .iter()
        .filter_map(|name| answer.header(name).map(|v| format!("{}: {v}", display_name(name))))
        .collect();
    let offered = offered(answer);
    if answer.status == 401 && offers_windows(answer) {
        exchange.push(format!("401 offering {}", offered.join(", ")));
    }
    if !exchange.is_empty() {
        return Answerer::Exchange(exchange);
    }
    let mut device = Vec::new();
    if (300..400).contains(&answer.status) {
        let to = answer.header("location").unwrap_or("nowhere named");
        device.push(format!("{} redirecting to {to}", answer.status_line()));
    }
    if answer.status == 401 && offers(&offered, "Basic") {
        device.push(format!("401 offering only {}", offered.join(", ")));
    }
    if let Some(server) = answer.header("server").filter(|s| !s.starts_with("Microsoft-IIS")) {
        device.push(format!("Server: {server}"));
    }
    let html = answer
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/html"));
    if html && matches!(answer.status, 200..=299 | 401 | 403) {
        let title = title(&answer.body).map(|t| format!(" \"{t}\"")).unwrap_or_default();
        device.push(format!("an HTML page{title} ({})", answer.status_line()));
    }
    if device.is_empty() {
        return Answerer::Unknown;
    }
    device.push("none of Exchange's headers (X-FEServer, X-BEServer, request-id, X-CalculatedBETarget)".into());
    Answerer::Device(device)
}

/// A header's name as Exchange writes it.
fn display_name(name: &str) -> &'static str {
    match name {
        "x-feserver" => "X-FEServer",
        "x-beserver" => "X-BEServer",
        "request-id" => "request-id",
        "x-calculatedbetarget" => "X-CalculatedBETarget",
        "x-owa-version" => "X-OWA-Version",
        "x-soap-enabled" => "X-SOAP-Enabled",
        _ => "X-WSSecurity-Enabled",
    }
}

/// The `<title>` of an HTML page (bounded, whitespace folded), if any.
fn title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let words = text[start..end].split_whitespace().collect::<Vec<_>>().join(" ");
    (!words.is_empty()).then(|| words.chars().take(80).collect())
}

/// The anonymous POST Exchange Online makes to a WS-Security path (no credentials), on a fresh https
/// connection: what answers it.
pub async fn post_anonymous(net: &Net, host: &str, port: u16, path: &str) -> Result<HttpAnswer, ProbeError> {
    let headers = [("content-type", "text/xml; charset=utf-8"), ("user-agent", "migcheck")];
    let mut conn = net.open_http(host, port, true).await?;
    Ok(conn.send(net, "POST", path, &headers, Vec::new()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> HttpAnswer {
        HttpAnswer {
            status,
            reason: match status {
                302 => "Found",
                401 => "Unauthorized",
                _ => "Not Found",
            }
            .to_string(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// Exchange 2013's anonymous 401 (issue 19 research F6, a public capture): Negotiate, NTLM and its
    /// own Basic realm, X-FEServer and request-id.
    #[test]
    fn exchange_is_known_by_its_headers_whatever_realm_it_offers() {
        let f6 = answer(
            401,
            &[
                ("Server", "Microsoft-IIS/8.5"),
                ("request-id", "63ed5608-920f-4761-978a-54c192328582"),
                ("WWW-Authenticate", "Negotiate"),
                ("WWW-Authenticate", "NTLM"),
                ("WWW-Authenticate", "Basic realm=\"172.20.33.130\""),
                ("X-FEServer", "PITSVCAS02"),
            ],
            "",
        );
        let Answerer::Exchange(signs) = who_answered(&f6) else {
            panic!("{:?}", who_answered(&f6));
        };
        assert!(signs.contains(&"X-FEServer: PITSVCAS02".to_string()), "{signs:?}");
        assert!(signs.iter().any(|s| s.starts_with("request-id: ")), "{signs:?}");
        // Windows authentication turned off: Basic alone, but Exchange's headers still say who answered.
        let basic_only = answer(
            401,
            &[
                ("X-FEServer", "EX01"),
                ("WWW-Authenticate", "Basic realm=\"mail.contoso.com\""),
            ],
            "",
        );
        assert!(matches!(who_answered(&basic_only), Answerer::Exchange(_)));
    }

    #[test]
    fn a_device_is_known_by_its_redirect_its_basic_realm_its_page_and_no_exchange_header() {
        // F9 (F5 BIG-IP, a public write-up).
        let big_ip = answer(
            302,
            &[("Location", "https://somesite.com/owa/"), ("Server", "BigIP")],
            "",
        );
        let Answerer::Device(signs) = who_answered(&big_ip) else {
            panic!("{:?}", who_answered(&big_ip));
        };
        assert_eq!(signs[0], "302 Found redirecting to https://somesite.com/owa/");
        assert!(signs.contains(&"Server: BigIP".to_string()), "{signs:?}");
        // nginx auth_basic: its realm, its page, its name.
        let nginx = answer(
            401,
            &[
                ("Server", "nginx"),
                ("Content-Type", "text/html"),
                ("WWW-Authenticate", "Basic realm=\"mail.contoso.com\""),
            ],
            "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>",
        );
        let signs = who_answered(&nginx).signs();
        for words in [
            "401 offering only Basic realm=\"mail.contoso.com\"",
            "Server: nginx",
            "an HTML page \"401 Authorization Required\"",
            "none of Exchange's headers",
        ] {
            assert!(signs.contains(words), "{words}: {signs}");
        }
        // IIS's own 404 without Exchange's headers says nothing either way.
        let iis = answer(
            404,
            &[("Server", "Microsoft-IIS/6.0"), ("Content-Type", "text/html")],
            "",
        );
        assert_eq!(who_answered(&iis), Answerer::Unknown);
    }
}
