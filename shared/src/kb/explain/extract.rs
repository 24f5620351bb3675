//! The names and codes a paste mentions: host names, URLs, e-mail addresses, HTTP status codes, the
//! authentication header the server sent, RPC errors, Exchange builds, and the server parameters of a
//! PowerShell line. Plain scanning, no regex; each list keeps the first [`MAX_EACH`] in order of
//! appearance, each once.

use serde::{Deserialize, Serialize};

use super::fold::Folded;

/// At most this many of each kind.
pub const MAX_EACH: usize = 16;

/// What the paste names.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    pub hosts: Vec<String>,
    pub urls: Vec<String>,
    pub emails: Vec<String>,
    pub http_statuses: Vec<u16>,
    /// As quoted by the error (`Basic realm="mail.contoso.com"`, `Negotiate,NTLM`).
    pub www_authenticate: Vec<String>,
    /// Lower-case hex, as the RPC proxy's status line writes it (`6ba`).
    pub rpc_errors: Vec<String>,
    /// `15.2.1544.4`; Exchange Online's own servers (15.20 and later) left out.
    pub exchange_builds: Vec<String>,
    /// `-RemoteServer NAME` of a Test-MigrationServerAvailability or New-MoveRequest line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_server: Option<String>,
    /// `-RPCProxyServer NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc_proxy_server: Option<String>,
    /// `-ExchangeServer NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_server: Option<String>,
}

impl Extracted {
    pub fn is_empty(&self) -> bool {
        *self == Extracted::default()
    }

    /// What was found, one kind a line (`hosts: mail.contoso.com, ...`), for people.
    pub fn described(&self) -> Vec<String> {
        let x = self;
        let join = |v: &[String]| v.join(", ");
        let mut out = Vec::new();
        let mut kind = |label: &str, value: String| {
            if !value.is_empty() {
                out.push(format!("{label}: {value}"));
            }
        };
        kind("hosts", join(&x.hosts));
        kind("URLs", join(&x.urls));
        kind("e-mail addresses", join(&x.emails));
        kind(
            "HTTP status",
            x.http_statuses
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        );
        kind(
            "authentication offered (WWW-Authenticate)",
            x.www_authenticate
                .iter()
                .map(|h| format!("'{h}'"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        kind("RPC error", join(&x.rpc_errors));
        kind("Exchange build", join(&x.exchange_builds));
        for (label, value) in [
            ("-RemoteServer", &x.remote_server),
            ("-RPCProxyServer", &x.rpc_proxy_server),
            ("-ExchangeServer", &x.exchange_server),
        ] {
            if let Some(v) = value {
                kind(label, v.clone());
            }
        }
        out
    }
}

fn add<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if list.len() < MAX_EACH && !list.contains(&item) {
        list.push(item);
    }
}

/// Microsoft's own service names: they appear in every Exchange Online error, and are not the user's.
const MICROSOFT_SUFFIXES: &[&str] = &[
    "outlook.com",
    "office365.com",
    "office.com",
    "microsoft.com",
    "microsoftonline.com",
    "windows.net",
    "live.com",
];

/// Last labels that are file names (`mrsproxy.svc`), not top-level domains.
const FILE_SUFFIXES: &[&str] = &[
    "svc", "xml", "dll", "exe", "asmx", "aspx", "ashx", "json", "txt", "log", "ps1", "config", "htm", "html", "cs",
    "md", "msi", "cer", "pfx", "pem",
];

/// A DNS name as errors print them: two labels or more of letters, digits and hyphens, the last one
/// letters only in one case (so `Microsoft.Exchange.Net` and `System.ServiceModel`, .NET type names,
/// are not taken) and not a file suffix.
fn looks_like_host(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    let Some(last) = labels.last() else {
        return false;
    };
    labels.len() >= 2
        && name.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && (2..=24).contains(&last.len())
        && last.chars().all(|c| c.is_ascii_alphabetic())
        && (last.chars().all(|c| c.is_ascii_lowercase()) || last.chars().all(|c| c.is_ascii_uppercase()))
        && !FILE_SUFFIXES.contains(&last.to_ascii_lowercase().as_str())
}

fn is_microsoft(host: &str) -> bool {
    MICROSOFT_SUFFIXES
        .iter()
        .any(|s| host == *s || host.strip_suffix(s).is_some_and(|rest| rest.ends_with('.')))
}

/// Characters that end a token: quotes and brackets around names in error messages, and `<>` of the
/// sources' placeholders (`mail.<DomainName>.com` then yields no name).
fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || "'\"`=,;()[]{}<>|".contains(c)
}

fn trim_token(token: &str) -> &str {
    token.trim_matches(|c: char| c == '.' || c == ':' || c == '!' || c == '?')
}

pub fn extract(folded: &Folded) -> Extracted {
    let mut x = Extracted::default();
    let plain: String = folded.plain.iter().collect();
    let lower: String = folded.lower.iter().collect();
    urls(&plain, &mut x);
    let tokens: Vec<&str> = plain.split(is_delimiter).map(trim_token).collect();
    for (i, token) in tokens.iter().enumerate() {
        if let Some((local, domain)) = token.split_once('@') {
            let local = local.strip_prefix("mailto:").unwrap_or(local);
            if !local.is_empty()
                && local.chars().all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
                && looks_like_host(domain)
            {
                add(&mut x.emails, format!("{local}@{}", domain.to_ascii_lowercase()));
            }
        } else if looks_like_host(token) && !token.contains("://") {
            let host = token.to_ascii_lowercase();
            if !is_microsoft(&host) {
                add(&mut x.hosts, host);
            }
        }
        server_parameter(&tokens, i, &mut x);
    }
    statuses(&lower, &mut x);
    headers(&plain, &lower, &mut x);
    rpc_errors(&lower, &mut x);
    builds(&tokens, &lower, &mut x);
    x
}

/// `-RemoteServer NAME` and its kin: the next non-empty token.
fn server_parameter(tokens: &[&str], i: usize, x: &mut Extracted) {
    let slot = match tokens[i].to_ascii_lowercase().as_str() {
        "-remoteserver" => &mut x.remote_server,
        "-rpcproxyserver" => &mut x.rpc_proxy_server,
        "-exchangeserver" => &mut x.exchange_server,
        _ => return,
    };
    if slot.is_none()
        && let Some(name) = tokens[i + 1..].iter().find(|t| !t.is_empty())
        && looks_like_host(name)
    {
        *slot = Some(name.to_ascii_lowercase());
    }
}

/// `http://` and `https://` URLs, up to a quote, a bracket or a space; their hosts are hosts too.
fn urls(plain: &str, x: &mut Extracted) {
    // ASCII lower case keeps every byte where it was, so offsets hold in `plain`.
    let ascii = plain.to_ascii_lowercase();
    let mut from = 0;
    for (at, _) in ascii.match_indices("http") {
        if at < from || !(ascii[at..].starts_with("http://") || ascii[at..].starts_with("https://")) {
            continue;
        }
        let url_and_more = &plain[at..];
        let end = url_and_more.find(is_delimiter).unwrap_or(url_and_more.len());
        from = at + end;
        let url = url_and_more[..end].trim_end_matches(['.', ',', ':', ';']);
        if let Some(host) = url_host(url)
            && looks_like_host(host)
        {
            let host = host.to_ascii_lowercase();
            if !is_microsoft(&host) {
                add(&mut x.urls, url.to_string());
                add(&mut x.hosts, host);
            }
        }
        if x.urls.len() >= MAX_EACH {
            break;
        }
    }
}

/// The host of `scheme://host[:port]/...`.
pub(super) fn url_host(url: &str) -> Option<&str> {
    let after = url.split_once("://")?.1;
    let authority = after.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host.split(':').next().unwrap_or(host))
}

/// Three digits after `(`, `http status `, `http/1.x ` or `status code `, between 100 and 599.
fn statuses(lower: &str, x: &mut Extracted) {
    for lead in ["(", "http status ", "http/1.0 ", "http/1.1 ", "status code "] {
        for (at, _) in lower.match_indices(lead) {
            let after = &lower[at + lead.len()..];
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() == 3
                && let Ok(code) = digits.parse::<u16>()
                && (100..=599).contains(&code)
                && (lead != "(" || after[3..].starts_with(')'))
            {
                add(&mut x.http_statuses, code);
            }
        }
    }
}

/// WCF's `The authentication header received from the server was '...'`.
fn headers(plain: &str, lower: &str, x: &mut Extracted) {
    const LEAD: &str = "authentication header received from the server was '";
    for (at, _) in lower.match_indices(LEAD).take(MAX_EACH) {
        // `lower` and `plain` hold the same characters one for one, but not always the same bytes.
        let chars_before = lower[..at].chars().count() + LEAD.chars().count();
        let quoted: String = plain
            .chars()
            .skip(chars_before)
            .take_while(|&c| c != '\'')
            .take(200)
            .collect();
        if !quoted.is_empty() {
            add(&mut x.www_authenticate, quoted);
        }
    }
}

/// `RPC Error: 6ba` (the RPC proxy's status line) and `Error 0x6ba`.
fn rpc_errors(lower: &str, x: &mut Extracted) {
    for lead in ["rpc error: ", "error 0x"] {
        for (at, _) in lower.match_indices(lead) {
            let hex: String = lower[at + lead.len()..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .take(8)
                .collect();
            let hex = hex.trim_start_matches('0');
            if !hex.is_empty() {
                add(&mut x.rpc_errors, hex.to_string());
            }
        }
    }
}

/// `15.2.1544.4`-like tokens with an Exchange major version (8, 14, 15), and `Version 14.3 (Build 123.4)`.
fn builds(tokens: &[&str], lower: &str, x: &mut Extracted) {
    for token in tokens {
        let parts: Vec<&str> = token.split('.').collect();
        if (3..=4).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()))
            && is_on_premises(parts[0], parts[1])
        {
            add(&mut x.exchange_builds, token.to_string());
        }
    }
    for (at, _) in lower.match_indices("version ") {
        let after = &lower[at + "version ".len()..];
        let version: String = after.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        let Some((major, minor)) = version.split_once('.') else {
            continue;
        };
        let Some(build) = after[version.len()..].strip_prefix(" (build ") else {
            continue;
        };
        let build: String = build.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        if !build.is_empty() && !minor.is_empty() && is_on_premises(major, minor) {
            add(
                &mut x.exchange_builds,
                format!("{version}.{}", build.trim_end_matches('.')),
            );
        }
    }
}

/// Exchange 2007 (8), 2010 (14), 2013-SE (15.0-15.2); 15.20 and later are Exchange Online's servers.
fn is_on_premises(major: &str, minor: &str) -> bool {
    matches!(major, "8" | "14") || (major == "15" && minor.parse::<u32>().is_ok_and(|m| m < 20))
}
