//! The page as the relay serves it to a browser: precompressed by `Accept-Encoding` (with `Vary`), under
//! content-hashed names cached for a year, the HTML revalidated each load, preload hints for the module
//! and the wasm, and the strict CSP. Needs the page built (`cargo xtask dist`); no lab.

use std::io::Read as _;
use std::net::SocketAddr;

use crate::common::*;

/// What Chromium sends.
const BROWSER: &str = "gzip, deflate, br, zstd";

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// The body decoded as its `Content-Encoding` says.
    fn decoded(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.header("content-encoding") {
            "" => out.clone_from(&self.body),
            "br" => {
                brotli::Decompressor::new(&self.body[..], 4096)
                    .read_to_end(&mut out)
                    .expect("brotli");
            }
            "gzip" => {
                flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_end(&mut out)
                    .expect("gzip");
            }
            other => panic!("unexpected content-encoding {other}"),
        }
        out
    }
}

/// GET `path` with this `Accept-Encoding` (none when empty); reqwest here decodes nothing itself.
async fn get(relay: SocketAddr, path: &str, accept_encoding: &str) -> Got {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut request = client.get(format!("http://{relay}{path}"));
    if !accept_encoding.is_empty() {
        request = request.header("accept-encoding", accept_encoding);
    }
    let response = request.send().await.expect("send");
    Got {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

/// The value of `attribute="..."` in the first tag of `html` that contains all of `marks`.
fn attribute_of_tag(html: &str, marks: &[&str], attribute: &str) -> String {
    let tag = html
        .split('<')
        .find(|tag| marks.iter().all(|m| tag.contains(m)))
        .unwrap_or_else(|| panic!("index.html has no tag with {marks:?}:\n{html}"));
    let start = format!("{attribute}=\"");
    let value = tag
        .split_once(&start)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(value, _)| value)
        .unwrap_or_else(|| panic!("<{tag}: no {attribute}"));
    value.to_string()
}

/// `/stem.<16 lower-case hex digits>.ext`.
fn assert_hashed(path: &str, stem: &str, ext: &str) {
    let hash = path
        .strip_prefix(&format!("/{stem}."))
        .and_then(|rest| rest.strip_suffix(&format!(".{ext}")))
        .unwrap_or_else(|| panic!("{path} is not /{stem}.<hash>.{ext}"));
    assert!(
        hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{path}: no content hash"
    );
}

#[tokio::test]
#[ignore = "needs the page built: cargo xtask test (or cargo xtask dist)"]
async fn the_page_is_served_precompressed_under_hashed_names_with_preload_hints() {
    let relay = start_relay(offline_net()).await;

    // The HTML: revalidated on every load, the strict CSP, compressed like the rest.
    let page = get(relay, "/", BROWSER).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "no-cache");
    assert_eq!(page.header("vary").to_ascii_lowercase(), "accept-encoding");
    assert_eq!(page.header("content-encoding"), "br");
    assert_eq!(
        page.header("content-security-policy"),
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    );
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    let html = String::from_utf8(page.decoded()).expect("utf-8");
    assert!(
        html.contains("<title>migcheck: Unable to connect to the server</title>"),
        "{html}"
    );
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script type=\"module\" src=\"/").count(),
        "inline script in index.html:\n{html}"
    );
    // A deep link is the page too, revalidated as well.
    let deep = get(relay, "/wizard", "").await;
    assert_eq!((deep.status, deep.header("cache-control")), (200, "no-cache"));
    assert!(deep.header("content-encoding").is_empty());
    assert_eq!(String::from_utf8_lossy(&deep.body), html);

    // The names it carries: each with its content hash; the module and the wasm preloaded, the wasm in
    // CORS mode (`crossorigin`), as wasm-bindgen's fetch() asks for it, so the preload is used.
    let module = attribute_of_tag(&html, &["rel=\"modulepreload\""], "href");
    let wasm = attribute_of_tag(
        &html,
        &[
            "rel=\"preload\"",
            "as=\"fetch\"",
            "type=\"application/wasm\"",
            " crossorigin>",
        ],
        "href",
    );
    let style = attribute_of_tag(&html, &["rel=\"stylesheet\""], "href");
    let boot = attribute_of_tag(&html, &["script type=\"module\""], "src");
    assert_hashed(&module, "migcheck_frontend", "js");
    assert_hashed(&wasm, "migcheck_frontend_bg", "wasm");
    assert_hashed(&style, "style", "css");
    assert_hashed(&boot, "boot", "js");

    for (path, mime) in [
        (&wasm, "application/wasm"),
        (&module, "text/javascript"),
        (&boot, "text/javascript"),
        (&style, "text/css"),
    ] {
        let plain = get(relay, path, "").await;
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(plain.header("content-type"), mime, "{path}");
        assert_eq!(plain.header("content-encoding"), "", "{path} without Accept-Encoding");
        assert_eq!(
            plain.header("cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert_eq!(plain.header("vary").to_ascii_lowercase(), "accept-encoding", "{path}");
        for (accept, coding) in [
            (BROWSER, "br"),
            ("gzip", "gzip"),
            ("br;q=0, gzip", "gzip"),
            ("identity", ""),
            ("br;q=0, gzip;q=0", ""),
        ] {
            let got = get(relay, path, accept).await;
            assert_eq!(got.status, 200, "{path} {accept}");
            assert_eq!(got.header("content-encoding"), coding, "{path} with {accept}");
            assert_eq!(got.header("content-type"), mime, "{path} with {accept}");
            assert_eq!(
                got.header("vary").to_ascii_lowercase(),
                "accept-encoding",
                "{path} with {accept}"
            );
            assert_eq!(got.header("cache-control"), "public, max-age=31536000, immutable");
            assert!(
                coding.is_empty() || got.body.len() < plain.body.len(),
                "{path}: {coding} is no smaller"
            );
            assert!(
                got.decoded() == plain.body,
                "{path} with {accept} decodes to other bytes"
            );
        }
    }
    assert_eq!(&get(relay, &wasm, "").await.body[..4], b"\0asm");
    // boot.js starts the hashed module with the hashed wasm.
    let boot_js = String::from_utf8(get(relay, &boot, "").await.body).expect("utf-8");
    assert!(
        boot_js.contains(&format!("\"{module}\"")) && boot_js.contains(&format!("\"{wasm}\"")),
        "{boot_js}"
    );
    // The brotli variant is not a file of its own; a plain name of a hashed file is gone.
    assert_eq!(get(relay, &format!("{wasm}.br"), BROWSER).await.status, 404);
    assert_eq!(get(relay, "/migcheck_frontend_bg.wasm", BROWSER).await.status, 404);
}
