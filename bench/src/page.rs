//! The page as a browser gets it from the relay: the bytes received per load (DevTools'
//! `encodedDataLength`: headers and body as they came over the wire) for each content coding the browser
//! may accept, and the time to first paint and to a usable form on loopback and over an emulated slow 4G
//! link, in headless Chromium (tests/browser/bench-render.mjs). Fresh browser context per load: each is a
//! first load.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::stats::{Samples, ms};
use crate::{Row, row};

/// The budget of a first load, as received (issue 21: at or under 200 KB brotli).
const FIRST_LOAD_BUDGET: u64 = 200_000;
/// Loads on loopback and over the slow link.
const LOOPBACK_RUNS: usize = 10;
const SLOW_RUNS: usize = 5;

/// One response of a load, as DevTools saw it.
struct Received {
    path: String,
    encoding: String,
    bytes: u64,
}

struct Load {
    first_paint: Duration,
    interactive: Duration,
    responses: Vec<Received>,
}

/// What a page load needs from the relay for `bench-render.mjs`: the network to emulate and the codings
/// Chromium may accept (`None`: what it sends by itself).
struct Setup<'a> {
    network: &'a str,
    encodings: Option<&'a str>,
    runs: usize,
}

fn loads(root: &Path, relay: SocketAddr, setup: &Setup) -> Result<Vec<Load>, String> {
    let mut command = Command::new("node");
    command
        // Named from its folder, so a relative --root works too.
        .arg("bench-render.mjs")
        .current_dir(root.join("tests/browser"))
        .env("MIGCHECK_URL", format!("http://{relay}/"))
        .env("RUNS", setup.runs.to_string())
        .env("NETWORK", setup.network);
    if let Some(encodings) = setup.encodings {
        command.env("ENCODINGS", encodings);
    }
    let out = command.output().map_err(|e| format!("cannot run node: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let parsed: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| {
        format!(
            "bench-render.mjs printed no figures ({e}): {text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let millis = |v: &serde_json::Value| Duration::from_secs_f64(v.as_f64().unwrap_or(0.0) / 1000.0);
    Ok(parsed["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|run| Load {
            first_paint: millis(&run["first_paint_ms"]),
            interactive: millis(&run["interactive_ms"]),
            responses: run["responses"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| Received {
                    path: r["path"].as_str().unwrap_or_default().to_string(),
                    encoding: r["encoding"].as_str().unwrap_or_default().to_string(),
                    bytes: r["bytes"].as_u64().unwrap_or(0),
                })
                .collect(),
        })
        .collect())
}

/// The wasm and the JS module each fetched exactly once (a preload that does not match the fetch that
/// uses it costs a second download), and every response's bytes counted.
fn check_load(load: &Load) -> Result<(), String> {
    for ext in [".wasm", ".js"] {
        let fetched = load
            .responses
            .iter()
            .filter(|r| r.path.starts_with("/migcheck_frontend") && r.path.ends_with(ext))
            .count();
        if fetched != 1 {
            return Err(format!("one load fetched the page's {ext} {fetched} times, not once"));
        }
    }
    match load.responses.iter().find(|r| r.bytes == 0) {
        Some(r) => Err(format!("DevTools counted no bytes for {}", r.path)),
        None => Ok(()),
    }
}

fn total(load: &Load) -> u64 {
    load.responses.iter().map(|r| r.bytes).sum()
}

fn wasm_and_js(load: &Load) -> u64 {
    load.responses
        .iter()
        .filter(|r| r.path.starts_with("/migcheck_frontend"))
        .map(|r| r.bytes)
        .sum()
}

/// "/a.js br 1,234 B, ..." for one load.
fn describe(load: &Load) -> String {
    let parts: Vec<String> = load
        .responses
        .iter()
        .map(|r| format!("`{}` {} {} B", r.path, r.encoding, r.bytes))
        .collect();
    parts.join(", ")
}

fn medians(loads: &[Load]) -> (Samples, Samples) {
    (
        Samples::new(loads.iter().map(|l| l.first_paint).collect()),
        Samples::new(loads.iter().map(|l| l.interactive).collect()),
    )
}

/// The page's rows of the table (the relay at `relay` serving it), with the per-coding detail in `detail`.
pub fn rows(root: &Path, relay: SocketAddr, detail: &mut String) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    // One load per coding set, unthrottled: what each kind of client receives.
    let mut first_load = 0;
    for (label, encodings) in [
        ("as Chromium asks (br, gzip, deflate, zstd)", None),
        ("gzip only", Some("gzip")),
        ("identity only", Some("")),
    ] {
        let setup = Setup {
            network: "loopback",
            encodings,
            runs: 1,
        };
        let load = loads(root, relay, &setup)?;
        let load = load.first().ok_or("bench-render.mjs made no load")?;
        check_load(load)?;
        if encodings.is_none() {
            first_load = total(load);
        }
        let _ = writeln!(
            detail,
            "- page load, {label}: {} bytes received ({} wasm + js), {} requests: {}",
            total(load),
            wasm_and_js(load),
            load.responses.len(),
            describe(load)
        );
    }
    rows.push(row(
        "Page, first load as received (Chromium's Accept-Encoding; DevTools encodedDataLength)",
        format!("{:.1} KB ({first_load} bytes)", first_load as f64 / 1000.0),
        "≤ 200 KB",
        Some(first_load <= FIRST_LOAD_BUDGET),
    ));

    let timed = [
        (
            "loopback",
            LOOPBACK_RUNS,
            "Page on loopback",
            "first render < 500 ms",
            Duration::from_millis(500),
        ),
        (
            "slow4g",
            SLOW_RUNS,
            "Page over slow 4G (150 ms, 1.6 Mbit/s down)",
            "usable ≤ 2 s",
            Duration::from_secs(2),
        ),
    ];
    for (network, runs, what, target, limit) in timed {
        let setup = Setup {
            network,
            encodings: None,
            runs,
        };
        let measured = loads(root, relay, &setup)?;
        measured.iter().try_for_each(check_load)?;
        let (paint, usable) = medians(&measured);
        rows.push(row(
            format!("{what}, first paint / usable form (median of {})", usable.len()),
            format!("{} / {}", ms(paint.median()), ms(usable.median())),
            target,
            Some(usable.median() <= limit),
        ));
        let spread: Vec<String> = measured.iter().map(|l| ms(l.interactive)).collect();
        let _ = writeln!(detail, "- {what}, usable form per load: {}", spread.join(", "));
    }
    Ok(rows)
}
