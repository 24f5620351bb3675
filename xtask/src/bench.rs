//! `cargo xtask bench [--runs N] [--only page|capacity] [--rtt 0,50,100,200]`: installs what the benchmarks need (the test packages, the lab venv,
//! sslyze in a venv of its own, the browser test's npm packages), builds the page and, in release, the relay and
//! `migcheck-bench`, then runs it: it prints the table and writes BENCHMARKS.md (with `--rtt`, only the
//! diagnosis and the peers across those emulated round-trip times, and only their section).

use std::ffi::OsString;
use std::process::{Command, Stdio};

use crate::{
    DEBIAN_PYTHON, Result, build_executables, dist, ensure_browser_test_deps, ensure_lab_venv, ensure_test_packages,
    run, step, workspace,
};

/// The peer for certificates, pinned like the lab's other Python packages.
const SSLYZE: &str = "sslyze==6.3.1";

pub fn main(args: &[OsString]) -> Result {
    ensure_test_packages()?;
    // `--only page` needs Chromium and the page, not the lab's Python or the peers.
    let page_only = args.windows(2).any(|w| w[0] == "--only" && w[1] == "page");
    if !page_only {
        ensure_lab_venv()?;
        ensure_sslyze()?;
    }
    ensure_browser_test_deps()?;
    dist()?;
    let built = build_executables(&["--release", "-p", "migcheck-relay", "-p", "migcheck-bench"])?;
    let find = |name: &str| {
        built
            .iter()
            .find(|p| p.file_name().is_some_and(|f| f == name))
            .cloned()
            .ok_or_else(|| format!("cargo built no {name}"))
    };
    let (migcheck, bench) = (find("migcheck")?, find("migcheck-bench")?);
    step(&format!("{} (prints the table, writes BENCHMARKS.md)", bench.display()));
    let mut command = Command::new(bench);
    command
        .arg("--root")
        .arg(workspace())
        .arg("--migcheck")
        .arg(migcheck)
        .args(args)
        .current_dir(workspace());
    run(command, "the benchmarks")
}

/// sslyze in `target/bench-venv`: its own venv, because it pins a `cryptography` older than the one
/// impacket's pyOpenSSL needs in the lab venv.
fn ensure_sslyze() -> Result {
    let venv = workspace().join("target/bench-venv");
    let bin = venv.join("bin");
    let has = Command::new(bin.join("python"))
        .args(["-c", "import sslyze"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has {
        step(&format!("sslyze present in {}", venv.display()));
        return Ok(());
    }
    if !bin.join("python").is_file() {
        step(&format!("python3 -m venv {}", venv.display()));
        let mut create = Command::new(DEBIAN_PYTHON);
        create.args(["-m", "venv"]).arg(&venv);
        run(create, "python3 -m venv")?;
    }
    step(&format!("pip install {SSLYZE} (into {})", venv.display()));
    let mut pip = Command::new(bin.join("pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check", SSLYZE]);
    run(pip, "pip install sslyze")
}
