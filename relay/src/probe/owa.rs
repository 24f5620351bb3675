//! Outlook on the web as a version witness: `X-OWA-Version` and the build in the logon page's resource
//! paths (`/owa/auth/15.1.2507/...`, `/owa/14.3.513.0/...`); where there is no `/owa/`, Exchange 2003's
//! `/exchange/` under IIS 6.

use crate::net::http::HttpAnswer;
use crate::net::{Net, NetError};

/// What the OWA pages showed.
#[derive(Debug, Default, Clone)]
pub struct OwaProbe {
    /// `X-OWA-Version` from any answer.
    pub header: Option<String>,
    /// The build in a resource path of the logon page.
    pub path_build: Option<String>,
    /// Exchange 2003's fingerprint: `/exchange/` answered by IIS 6 (the `Server` header).
    pub exchange_2003: Option<String>,
    /// (request, status line) for the evidence.
    pub seen: Vec<(String, String)>,
}

/// The first `/owa/auth/<build>/` or `/owa/<build>/` in a page.
pub fn build_in_page(page: &str) -> Option<String> {
    for prefix in ["/owa/auth/", "/owa/"] {
        for (at, _) in page.match_indices(prefix) {
            let rest = &page[at + prefix.len()..];
            let build: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
            if build.split('.').filter(|p| !p.is_empty()).count() >= 3 && rest[build.len()..].starts_with('/') {
                return Some(build);
            }
        }
    }
    None
}

async fn get(net: &Net, host: &str, port: u16, path: &str) -> Result<HttpAnswer, NetError> {
    let mut conn = net.open_http(host, port, true).await?;
    conn.send(net, "GET", path, &[("user-agent", "migcheck")], Vec::new())
        .await
}

/// GET `/owa/` (and the logon page it redirects to on the same host), or `/exchange/`.
pub async fn probe(net: &Net, host: &str, port: u16) -> OwaProbe {
    let mut out = OwaProbe::default();
    let note = |out: &mut OwaProbe, path: &str, answer: &Result<HttpAnswer, NetError>| {
        let said = match answer {
            Ok(a) => a.status_line(),
            Err(e) => e.to_string(),
        };
        out.seen.push((format!("GET https://{host}{path}"), said));
        if let Ok(a) = answer {
            if out.header.is_none() {
                out.header = a.header("x-owa-version").map(|v| v.trim().to_string());
            }
            if out.path_build.is_none() {
                out.path_build = build_in_page(&String::from_utf8_lossy(&a.body));
            }
        }
    };
    let owa = get(net, host, port, "/owa/").await;
    note(&mut out, "/owa/", &owa);
    let next = owa.as_ref().ok().and_then(|a| {
        let location = a.header("location")?;
        // Only a redirect on the same host: a path, or an absolute URL naming this host.
        let path = match location.strip_prefix("https://") {
            Some(rest) => {
                let (authority, path) = rest.split_once('/')?;
                (authority.eq_ignore_ascii_case(host)).then(|| format!("/{path}"))?
            }
            None if location.starts_with('/') => location.to_string(),
            None => return None,
        };
        (300..400).contains(&a.status).then_some(path)
    });
    if let Some(path) = next {
        let logon = get(net, host, port, &path).await;
        note(&mut out, &path, &logon);
    }
    if matches!(&owa, Ok(a) if a.status == 404) {
        let exchange = get(net, host, port, "/exchange/").await;
        note(&mut out, "/exchange/", &exchange);
        if let Ok(a) = &exchange {
            let server = a.header("server").unwrap_or_default();
            if server.contains("IIS/6.0") && (a.status == 401 || a.status == 200) {
                out.exchange_2003 = Some(format!("/exchange/ answers {} from {server}", a.status_line()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_are_read_from_resource_paths() {
        let page =
            r#"<link rel="shortcut icon" href="/owa/auth/15.1.2507/themes/resources/favicon.ico" type="image/x-icon">"#;
        assert_eq!(build_in_page(page).as_deref(), Some("15.1.2507"));
        let page_2010 = r#"<img src="/owa/14.3.513.0/themes/base/lgntopl.gif">"#;
        assert_eq!(build_in_page(page_2010).as_deref(), Some("14.3.513.0"));
        assert_eq!(build_in_page(r#"<a href="/owa/auth/logon.aspx">"#), None);
        assert_eq!(build_in_page("/owa/15/x"), None);
        assert_eq!(
            build_in_page("/owa/auth/15.1.2507"),
            None,
            "no closing slash: not a path"
        );
    }
}
