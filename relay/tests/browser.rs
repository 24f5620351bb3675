//! The page in headless Chromium (tests/browser/*.test.mjs, driven by playwright-core), against a relay
//! on loopback and the lab. Needs the page built and the npm packages installed: `cargo xtask test`
//! does both.

mod common;

use std::path::PathBuf;

use common::*;
use migcheck_lab::Fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_diagnoses_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        root.join("dist/index.html").exists(),
        "the page is not built: run `cargo xtask test` (or `cargo xtask dist`)"
    );
    assert!(
        root.join("tests/browser/node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `cargo xtask test` (or `npm ci` in tests/browser)"
    );
    let relay = start_relay(lab_net(3)).await;
    let out = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", "tests/browser/"])
        .current_dir(&root)
        .env("MIGCHECK_URL", format!("http://{relay}/"))
        .env("MIGCHECK_LAB_PORT", lab().port().to_string())
        .env("MIGCHECK_EXPIRED_HOST", lab().fixture(Fixture::Expired).name)
        .env("MIGCHECK_SILENT_HOST", lab().fixture(Fixture::Silent).name)
        .output()
        .await
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "browser tests failed:\n{text}");
    // node skips a test whose settings are missing; here every one must have run.
    assert!(
        text.contains("skipped 0") && text.contains("pass 3"),
        "not every browser test ran:\n{text}"
    );
}
