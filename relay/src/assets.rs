//! The page, embedded in the binary (built into `dist/` by `cargo xtask dist`).
//!
//! `dist/` holds `index.html` and the files it names under content-hashed names (`boot.<hash>.js`,
//! `style.<hash>.css`, `migcheck_frontend.<hash>.js`, `migcheck_frontend_bg.<hash>.wasm`), each with
//! `NAME.br` (brotli q11) and `NAME.gz` (gzip -9) beside it, made by the build. A request gets the
//! variant its `Accept-Encoding` prefers (brotli, then gzip, then the file itself), with `Vary:
//! Accept-Encoding`; hashed names are cached for a year (a new build is a new name), `index.html` is
//! revalidated on every load so a new build is seen at once.

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "../dist"]
#[allow_missing = true]
struct Dist;

/// The page's security headers: the wasm needs 'wasm-unsafe-eval', nothing needs inline script.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// For names that carry their content's hash: the same name is always the same bytes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For `index.html` (and any name without a hash): ask the relay each time, so a new build shows at once.
const REVALIDATE: &str = "no-cache";
/// Hex digits of the content hash in a name (`cargo xtask dist`, xtask/src/assets.rs).
const HASH_HEX: usize = 16;

/// The precompressed variants the build makes, in the relay's order of preference.
const CODINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

pub async fn serve(uri: Uri, request_headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    // The variants are served in place of their file, never by their own name.
    let variant = CODINGS.iter().any(|(_, ext)| path.ends_with(ext));
    let found = if variant {
        None
    } else {
        match Dist::get(path) {
            Some(file) => Some((path, file)),
            // A path without an extension is the page's own (a reload on a deep link).
            None if !path.contains('.') => Dist::get("index.html").map(|f| ("index.html", f)),
            None => None,
        }
    };
    let Some((path, file)) = found else {
        return if path == "index.html" {
            (
                StatusCode::NOT_FOUND,
                "The page is not built into this binary. Build it with `cargo xtask dist` (or run `cargo xtask run`).",
            )
                .into_response()
        } else {
            (StatusCode::NOT_FOUND, "not found").into_response()
        };
    };
    let accepted = request_headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let available: Vec<&str> = CODINGS
        .iter()
        .filter(|(_, ext)| Dist::get(&format!("{path}{ext}")).is_some())
        .map(|(coding, _)| *coding)
        .collect();
    let chosen = choose_coding(&accepted, &available);
    let body = chosen
        .and_then(|coding| CODINGS.iter().find(|(c, _)| *c == coding))
        .and_then(|(_, ext)| Dist::get(&format!("{path}{ext}")))
        .map_or(file.data.clone(), |variant| variant.data);
    let mime = file.metadata.mimetype().to_string();
    let mut response = (StatusCode::OK, body.into_owned()).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(coding) = chosen {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let cache = if is_content_hashed(path) { IMMUTABLE } else { REVALIDATE };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// `name.<16 hex digits>.ext`: a name `cargo xtask dist` gave from the file's content.
fn is_content_hashed(path: &str) -> bool {
    let parts: Vec<&str> = path.rsplit('/').next().unwrap_or(path).split('.').collect();
    parts.len() >= 3 && {
        let hash = parts[parts.len() - 2];
        hash.len() == HASH_HEX && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

/// The coding of `available` (in the relay's order of preference) that `accept_encoding` rates highest,
/// or `None` for the file itself. A coding rated `q=0`, and one not named where no `*` covers it, is
/// refused; equal ratings go to the relay's order. The file itself is always sent when nothing fits:
/// every client decodes identity.
fn choose_coding<'a>(accept_encoding: &str, available: &[&'a str]) -> Option<&'a str> {
    let rating = |coding: &str| -> f32 {
        let mut star = None;
        for item in accept_encoding.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case(coding) {
                return q;
            }
            if name == "*" {
                star = Some(q);
            }
        }
        star.unwrap_or(0.0)
    };
    let mut best: Option<(&str, f32)> = None;
    for &coding in available {
        let q = rating(coding);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((coding, q));
        }
    }
    best.map(|(coding, _)| coding)
}

#[cfg(test)]
mod tests {
    use super::{choose_coding, is_content_hashed};

    const BOTH: &[&str] = &["br", "gzip"];

    #[test]
    fn brotli_first_then_gzip_then_the_file() {
        assert_eq!(choose_coding("gzip, deflate, br, zstd", BOTH), Some("br"));
        assert_eq!(choose_coding("gzip, deflate", BOTH), Some("gzip"));
        assert_eq!(choose_coding("", BOTH), None);
        assert_eq!(choose_coding("identity", BOTH), None);
        assert_eq!(choose_coding("GZIP", BOTH), Some("gzip"));
        // Only what the build made: a file with no .br gets gzip.
        assert_eq!(choose_coding("gzip, br", &["gzip"]), Some("gzip"));
        assert_eq!(choose_coding("br", &[]), None);
    }

    #[test]
    fn q_values_are_honoured() {
        assert_eq!(choose_coding("br;q=0, gzip", BOTH), Some("gzip"));
        assert_eq!(choose_coding("br; q=0.0, gzip;q=0", BOTH), None);
        assert_eq!(choose_coding("br;q=0.5, gzip;q=0.8", BOTH), Some("gzip"));
        assert_eq!(choose_coding("*", BOTH), Some("br"));
        assert_eq!(choose_coding("*;q=0", BOTH), None);
        assert_eq!(choose_coding("br;q=0, *", BOTH), Some("gzip"));
        assert_eq!(choose_coding("br;q=nonsense", BOTH), Some("br"));
    }

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        assert!(is_content_hashed("migcheck_frontend_bg.0123456789abcdef.wasm"));
        assert!(is_content_hashed("style.fedcba9876543210.css"));
        assert!(!is_content_hashed("index.html"));
        assert!(!is_content_hashed("migcheck_frontend_bg.wasm"));
        assert!(!is_content_hashed("a.0123456789ABCDEF.js"), "dist writes lower case");
        assert!(!is_content_hashed("a.0123456789abcde.js"));
    }
}
