//! The page, embedded in the binary (built into `dist/` by `cargo xtask dist`).

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "../dist"]
#[allow_missing = true]
struct Dist;

/// The page's security headers: the wasm needs 'wasm-unsafe-eval', nothing needs inline script.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match Dist::get(path).or_else(|| (!path.contains('.')).then(|| Dist::get("index.html")).flatten()) {
        Some(file) => {
            let mime = file.metadata.mimetype().to_string();
            let mut response = (StatusCode::OK, file.data.into_owned()).into_response();
            if let Ok(v) = HeaderValue::from_str(&mime) {
                response.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            response
        }
        None if path == "index.html" => (
            StatusCode::NOT_FOUND,
            "The page is not built into this binary. Build it with `cargo xtask dist` (or run `cargo xtask run`).",
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
