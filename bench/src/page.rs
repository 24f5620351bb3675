//! The page: its bytes as served (raw, gzip, brotli) and its time to first paint and to an interactive
//! form in headless Chromium (tests/browser/bench-render.mjs).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::stats::Samples;

pub struct Sizes {
    pub name: &'static str,
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

/// The wasm and the js glue, each raw, gzip -9 and brotli q11, and their sum.
pub fn sizes(dist: &Path) -> Result<Vec<Sizes>, String> {
    let mut all = Vec::new();
    for name in ["migcheck_frontend_bg.wasm", "migcheck_frontend.js"] {
        let bytes = std::fs::read(dist.join(name)).map_err(|e| format!("{}: {e}", dist.join(name).display()))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes).map_err(|e| e.to_string())?;
        let gzip = gz.finish().map_err(|e| e.to_string())?.len();
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut br, &params).map_err(|e| e.to_string())?;
        all.push(Sizes {
            name,
            raw: bytes.len(),
            gzip,
            brotli: br.len(),
        });
    }
    let total = Sizes {
        name: "wasm + js",
        raw: all.iter().map(|s| s.raw).sum(),
        gzip: all.iter().map(|s| s.gzip).sum(),
        brotli: all.iter().map(|s| s.brotli).sum(),
    };
    all.push(total);
    Ok(all)
}

pub struct Render {
    pub first_paint: Samples,
    pub interactive: Samples,
}

/// `runs` loads of the page served by `relay`, each in a fresh browser context.
pub fn render(root: &Path, relay: SocketAddr, runs: usize) -> Result<Render, String> {
    let out = Command::new("node")
        .arg(root.join("tests/browser/bench-render.mjs"))
        .current_dir(root.join("tests/browser"))
        .env("MIGCHECK_URL", format!("http://{relay}/"))
        .env("RUNS", runs.to_string())
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let parsed: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| {
        format!(
            "bench-render.mjs printed no figures ({e}): {text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let series = |key: &str| {
        let runs = parsed["runs"].as_array().cloned().unwrap_or_default();
        Samples::new(
            runs.iter()
                .filter_map(|r| r[key].as_f64())
                .map(|ms| Duration::from_secs_f64(ms / 1000.0))
                .collect(),
        )
    };
    Ok(Render {
        first_paint: series("first_paint_ms"),
        interactive: series("interactive_ms"),
    })
}
