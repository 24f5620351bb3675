//! The release binaries against the lab on loopback, as a consultant runs them (`cargo xtask release
//! --test`):
//!
//! - `migcheck.exe` under wine, in a fresh `WINEPREFIX` made for this run: `--help` in Windows form, `check`
//!   on certificate fixtures (the lab's CA as a `Z:\...` path and as a DER `.cer`), `--system-roots` with the
//!   lab's root imported into the prefix's Windows certificate store (and not trusted without the flag),
//!   `check --email` on an Autodiscover scenario (Exchange 2016 behind Outlook Anywhere and EWS), `serve`
//!   answering the page and a diagnosis, and a start without arguments (a double-click) that opens the
//!   page in the default browser and reads the system's DNS servers.
//! - `migcheck-x86_64-linux-musl`: no program interpreter (static), then `check` and `serve` run by
//!   `chroot` in a directory that holds only the binary and the lab's CA (no libc, no loader, no tools).
//!
//! Debian 12's wine 8.0 lacks `bcryptprimitives.dll`, which Rust 1.78+ programs import (`ProcessPrng`):
//! the test builds a stand-in from `tests/wine/` with mingw into the prefix's system32. It is for this
//! test only and never lands in the release artifacts.
//!
//! wine runs with `WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=d"` (no Mono or Gecko download) and
//! without `DISPLAY`. Network traffic goes to loopback only: every name is asked of the lab's dnsmasq,
//! and the start without arguments resolves nothing.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Artifacts;
use crate::{Result, build_bin, ensure_lab_venv, ensure_test_packages, step, workspace};

/// The lab's valid certificate fixture (`Fixture::Valid` in tests/lab): leaf and intermediate sent,
/// signed by the lab's root.
const VALID_HOST: &str = "mail.contoso.test";
/// The password variable the CLI is given (`--password-env`).
const PASSWORD_VAR: &str = "MIGCHECK_PASSWORD";
/// The time limit of one network step, as the relay's CLI tests use (wine is a little slower).
const STEP_TIMEOUT: &str = "5";
/// The longest one run of a binary may take.
const RUN_LIMIT: Duration = Duration::from_secs(120);

pub(super) fn run(artifacts: &Artifacts) -> Result {
    ensure_test_packages()?;
    ensure_lab_venv()?;
    super::ensure_debian_packages(&[("wine", "wine wine64")])?;
    let work = artifacts.target_dir.join("release-test");
    if work.exists() {
        fs::remove_dir_all(&work).map_err(|e| format!("cannot clear {}: {e}", work.display()))?;
    }
    fs::create_dir_all(work.join("logs")).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    check_artifacts_dir(&artifacts.dir)?;

    let lab_bin = build_bin("migcheck-lab")?;
    let timed = Instant::now();
    let lab = Lab::start(&work, &lab_bin)?;
    step(&format!("the lab is up in {:.0} s", timed.elapsed().as_secs_f64()));
    let mut results = Results::default();

    let timed = Instant::now();
    match Wine::new(&work, &artifacts.windows) {
        Ok(wine) => {
            step(&format!(
                "fresh WINEPREFIX with the stand-in bcryptprimitives.dll in {:.0} s",
                timed.elapsed().as_secs_f64()
            ));
            wine_scenarios(&wine, &lab, &mut results);
        }
        Err(e) => results.failed(&format!("wine: {e}")),
    }
    match Chroot::new(&work, &artifacts.linux, &lab) {
        Ok(root) => static_scenarios(&root, &lab, &mut results),
        Err(e) => results.failed(&format!("static binary: {e}")),
    }
    drop(lab);
    results.finish()
}

/// Only what ships is in the artifacts folder: the two binaries and their checksums.
fn check_artifacts_dir(dir: &Path) -> Result {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut shipped = [super::LINUX.artifact, "SHA256SUMS", super::WINDOWS.artifact];
    shipped.sort();
    if names != shipped {
        return Err(format!("{} holds {names:?}, not just {shipped:?}", dir.display()));
    }
    Ok(())
}

fn wine_scenarios(wine: &Wine, lab: &Lab, results: &mut Results) {
    results.scenario("migcheck.exe --help: migcheck.exe, cmd.exe and PowerShell", || {
        let out = wine.exe(&["--help"], "help")?;
        out.expect_code(0)?;
        for words in [
            "Usage: migcheck.exe [OPTIONS] [COMMAND]",
            "migcheck.exe check --host mail.contoso.com",
            "set MIGCHECK_PASSWORD=",
            "$env:MIGCHECK_PASSWORD = '...'",
            "--ca-file C:\\certs\\contoso-root.cer",
            "--system-roots",
        ] {
            out.expect_stdout(words)?;
        }
        let out = wine.exe(&["check", "--help"], "check-help")?;
        out.expect_code(0)?;
        out.expect_stdout("Usage: migcheck.exe check [OPTIONS]")?;
        out.expect_stdout("$env:MIGCHECK_PASSWORD = '...' in PowerShell")
    });

    let ca = win_path(&lab.ca_file);
    results.scenario(
        "migcheck.exe check: expired certificate, the lab CA as a Z:\\ path",
        || {
            let out = wine.exe(&lab.check_args(&lab.expired_host, &["--ca-file", &ca]), "check-expired")?;
            expect_expired(&out)
        },
    );

    results.scenario("migcheck.exe check: a missing --ca-file is named as typed", || {
        let missing = "Z:\\no\\such\\folder\\contoso-root.cer";
        let out = wine.exe(&lab.check_args(VALID_HOST, &["--ca-file", missing]), "check-missing-ca")?;
        out.expect_code(2)?;
        out.expect_stderr(&format!("--ca-file {missing}: "))
    });

    results.scenario(
        "migcheck.exe check: valid certificate, the lab root as a DER .cer",
        || {
            let cer = win_path(&lab.ca_der);
            let out = wine.exe(&lab.check_args(VALID_HOST, &["--ca-file", &cer]), "check-der")?;
            expect_trusted(&out)
        },
    );

    results.scenario(
        "migcheck.exe check --system-roots: the lab root from the Windows certificate store, only when asked",
        || {
            let out = wine.exe(&lab.check_args(VALID_HOST, &["--system-roots"]), "check-store-before")?;
            expect_untrusted(&out).map_err(|e| format!("before the import: {e}"))?;
            wine.import_root(&lab.ca_der)?;
            let out = wine.exe(&lab.check_args(VALID_HOST, &[]), "check-store-not-asked")?;
            expect_untrusted(&out).map_err(|e| format!("without --system-roots: {e}"))?;
            let out = wine.exe(&lab.check_args(VALID_HOST, &["--system-roots"]), "check-store")?;
            expect_trusted(&out)
        },
    );

    results.scenario(
        "migcheck.exe check --email: Autodiscover, Outlook Anywhere and EWS on the lab's Exchange 2016",
        || {
            let mut command = wine.command();
            command
                .arg(&wine.exe)
                .args(lab.autodiscover_args(&ca))
                .env(PASSWORD_VAR, &lab.ad_password);
            let out = run_for(command, &wine.logs, "check-autodiscover")?;
            expect_autodiscover(&out, &lab.ad_password)
        },
    );

    results.scenario("migcheck.exe serve: the page and a diagnosis", || {
        let mut command = wine.command();
        command
            .arg(&wine.exe)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(lab.flags_with_ca(&ca));
        let server = Background::start(command, &wine.logs, "serve")?;
        let url = server.wait_for_url()?;
        expect_page_and_diagnosis(&url, lab, &wine.logs)
    });

    results.scenario(
        "migcheck.exe without arguments (a double-click): serves, opens the default browser, reads the system's DNS servers",
        || {
            let mut command = wine.command();
            command.arg(&wine.exe);
            let server = Background::start(command, &wine.logs, "double-click")?;
            let url = server.wait_for_url()?;
            let opened = wait_for(Duration::from_secs(30), || {
                fs::read_to_string(&wine.browser_log).ok().filter(|t| !t.trim().is_empty())
            })
            .ok_or_else(|| format!("no browser was opened; stderr: {}", server.stderr()))?;
            if opened.trim() != url {
                return Err(format!("the browser was opened on {opened:?}, the page is at {url}"));
            }
            let (code, _, body) = http(&url, None, &wine.logs.join("double-click-page"))?;
            if code != 200 || !String::from_utf8_lossy(&body).contains("<title>migcheck") {
                return Err(format!("GET {url}: {code}"));
            }
            expect_system_dns(&server.stderr())
        },
    );
}

fn static_scenarios(root: &Chroot, lab: &Lab, results: &mut Results) {
    results.scenario("migcheck-x86_64-linux-musl is static: no program interpreter", || {
        expect_static(&root.original)
    });

    let ca = "/lab-ca.pem";
    results.scenario(
        "static binary in an empty root: check on an expired certificate",
        || {
            let out = run_for(
                root.command(&lab.check_args(&lab.expired_host, &["--ca-file", ca])),
                &root.logs,
                "check-expired",
            )?;
            expect_expired(&out)
        },
    );

    results.scenario(
        "static binary in an empty root: check --system-roots with SSL_CERT_FILE",
        || {
            let mut command = root.command(&lab.check_args(VALID_HOST, &["--system-roots"]));
            command.env("SSL_CERT_FILE", ca);
            let out = run_for(command, &root.logs, "check-system-roots")?;
            expect_trusted(&out)
        },
    );

    results.scenario(
        "static binary in an empty root: check --email, Autodiscover on the lab's Exchange 2016",
        || {
            let mut command = root.command(&lab.autodiscover_args(ca));
            command.env(PASSWORD_VAR, &lab.ad_password);
            let out = run_for(command, &root.logs, "check-autodiscover")?;
            expect_autodiscover(&out, &lab.ad_password)
        },
    );

    results.scenario(
        "static binary in an empty root: serve, the page and a diagnosis",
        || {
            let mut args: Vec<String> = vec!["serve".into(), "--listen".into(), "127.0.0.1:0".into()];
            args.extend(lab.flags_with_ca(ca));
            let server = Background::start(root.command(&args), &root.logs, "serve")?;
            let url = server.wait_for_url()?;
            expect_page_and_diagnosis(&url, lab, &root.logs)
        },
    );
}

// ---- what a user must see ----

fn expect_expired(out: &Output) -> Result {
    out.expect_code(1)?;
    let report = out.report()?;
    expect_verdict(&report, "fail")?;
    expect_status(&report, "tls.dates", "fail")?;
    expect_first_cause(&report, "certificate")?;
    let headline = report["headline"].as_str().unwrap_or_default();
    if !headline.contains("expired on") {
        return Err(format!("headline {headline:?} does not say it expired"));
    }
    Ok(())
}

fn expect_trusted(out: &Output) -> Result {
    out.expect_code(0)?;
    let report = out.report()?;
    expect_verdict(&report, "pass")?;
    expect_status(&report, "tls.chain", "pass")
}

fn expect_untrusted(out: &Output) -> Result {
    out.expect_code(1)?;
    let report = out.report()?;
    expect_status(&report, "tls.chain", "fail")
}

/// The lab's healthy Autodiscover scenario: the autodiscover host gives the settings, Outlook Anywhere
/// and EWS work, and the one finding is the version past its end of support (a warning: exit 0).
fn expect_autodiscover(out: &Output, password: &str) -> Result {
    if out.stdout.contains(password) || out.stderr.contains(password) {
        return Err("the password is in the output".into());
    }
    out.expect_code(0)?;
    let report = out.report()?;
    expect_verdict(&report, "warn")?;
    for id in [
        "autodiscover.host",
        "autodiscover.settings",
        "oa.logon",
        "oa.connection",
        "ews.logon",
    ] {
        expect_status(&report, id, "pass")?;
    }
    let causes: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["cause"].as_str())
        .collect();
    if causes != ["unsupported_version"] {
        return Err(format!("findings {causes:?}, expected only unsupported_version"));
    }
    Ok(())
}

/// The embedded page (index.html and the wasm), then a diagnosis through the API, streamed.
fn expect_page_and_diagnosis(url: &str, lab: &Lab, logs: &Path) -> Result {
    let (code, _, body) = http(url, None, &logs.join("page"))?;
    let page = String::from_utf8_lossy(&body);
    if code != 200 || !page.contains("<title>migcheck: Unable to connect to the server</title>") {
        return Err(format!(
            "GET {url}: {code} {}",
            page.chars().take(200).collect::<String>()
        ));
    }
    let wasm_url = format!("{url}migcheck_frontend_bg.wasm");
    let (code, content_type, body) = http(&wasm_url, None, &logs.join("wasm"))?;
    if code != 200 || content_type != "application/wasm" || !body.starts_with(b"\0asm") {
        return Err(format!("GET {wasm_url}: {code} {content_type}, {} bytes", body.len()));
    }
    let request = serde_json::json!({"mode": "host", "host": lab.expired_host, "port": lab.port}).to_string();
    let api = format!("{url}api/v1/diagnose");
    let (code, _, body) = http(&api, Some(&request), &logs.join("diagnose"))?;
    let text = String::from_utf8_lossy(&body);
    if code != 200 {
        return Err(format!("POST {api}: {code} {text}"));
    }
    let last: Value = text
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("POST {api}: no NDJSON events: {text}"))?;
    if last["event"] != "done" {
        return Err(format!("POST {api}: the stream ended with {last}"));
    }
    let events = text.lines().filter(|l| l.contains("\"event\":\"finished\"")).count();
    if events < 5 {
        return Err(format!("POST {api}: only {events} checks finished"));
    }
    expect_verdict(&last["report"], "fail")?;
    expect_status(&last["report"], "tls.dates", "fail")
}

/// The line `serve` prints names the system's DNS servers, as read by the Windows API (wine answers from
/// the host's resolv.conf).
fn expect_system_dns(stderr: &str) -> Result {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("DNS: "))
        .ok_or_else(|| format!("no DNS line: {stderr}"))?;
    if !line.starts_with("DNS: the system's DNS servers (") {
        return Err(format!("not the system's DNS servers: {line}"));
    }
    let resolv = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let servers: Vec<&str> = resolv
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(str::trim)
        .collect();
    if !servers.is_empty() && !servers.iter().any(|s| line.contains(s)) {
        return Err(format!("{line:?} names none of resolv.conf's {servers:?}"));
    }
    Ok(())
}

/// An ELF executable without a PT_INTERP program header needs no dynamic loader; `ldd` agrees.
fn expect_static(binary: &Path) -> Result {
    let bytes = fs::read(binary).map_err(|e| format!("cannot read {}: {e}", binary.display()))?;
    if !bytes.starts_with(b"\x7fELF\x02\x01") {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes)
    };
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return Err("a truncated ELF header".into());
    };
    const PT_INTERP: u32 = 3;
    for i in 0..phnum {
        let at = usize::try_from(phoff)
            .unwrap_or(usize::MAX)
            .saturating_add(i * phentsize);
        match u32_at(at) {
            Some(PT_INTERP) => return Err("it names a program interpreter (dynamically linked)".into()),
            Some(_) => {}
            None => return Err("a truncated program header table".into()),
        }
    }
    let ldd = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| format!("cannot start ldd: {e}"))?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&ldd.stdout),
        String::from_utf8_lossy(&ldd.stderr)
    );
    if said.contains("not a dynamic executable") || said.contains("statically linked") {
        Ok(())
    } else {
        Err(format!("ldd says: {said}"))
    }
}

// ---- the report ----

fn find_check<'a>(checks: &'a Value, id: &str) -> Option<&'a Value> {
    checks.as_array()?.iter().find_map(|c| {
        if c["id"] == id {
            Some(c)
        } else {
            find_check(&c["children"], id)
        }
    })
}

fn expect_status(report: &Value, id: &str, status: &str) -> Result {
    let check = find_check(&report["checks"], id).ok_or_else(|| format!("no check {id} in the report"))?;
    if check["status"] == status {
        Ok(())
    } else {
        Err(format!(
            "{id} is {} ({}), expected {status}",
            check["status"], check["summary"]
        ))
    }
}

fn expect_verdict(report: &Value, verdict: &str) -> Result {
    if report["verdict"] == verdict {
        Ok(())
    } else {
        Err(format!(
            "verdict {} ({}), expected {verdict}",
            report["verdict"], report["headline"]
        ))
    }
}

fn expect_first_cause(report: &Value, cause: &str) -> Result {
    let first = &report["findings"][0]["cause"];
    if first == cause {
        Ok(())
    } else {
        Err(format!("first finding's cause {first}, expected {cause}"))
    }
}

// ---- the lab ----

/// `migcheck-lab --demo-out DIR`: the lab's certificate fixtures, Autodiscover, Outlook Anywhere and EWS
/// scenarios on loopback, with the demo's requests and the relay flags that point at it.
struct Lab {
    child: Child,
    /// `--dns ADDR --ca-file PEM --egress CIDRS [--timeout N]`.
    flags: Vec<String>,
    ca_file: PathBuf,
    /// The lab's root as DER (`openssl x509 -outform der`), as Windows exports a `.cer`.
    ca_der: PathBuf,
    port: u16,
    expired_host: String,
    ad_email: String,
    ad_user: String,
    ad_password: String,
}

impl Lab {
    fn start(work: &Path, bin: &Path) -> Result<Lab> {
        let dir = work.join("lab");
        step("starting the lab (migcheck-lab --demo-out)");
        let stdout = File::create(work.join("logs").join("lab.out")).map_err(|e| e.to_string())?;
        let mut child = Command::new(bin)
            .arg("--demo-out")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let demos = dir.join("demos.json");
        let deadline = Instant::now() + Duration::from_secs(180);
        while !demos.exists() {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("the lab stopped before it was ready ({status})"));
            }
            if Instant::now() > deadline {
                stop(&mut child);
                return Err("the lab was not ready within 180 s".into());
            }
            sleep(Duration::from_millis(200));
        }
        let mut lab = Lab::read(child, &dir)?;
        lab.ca_der = work.join("lab-root.cer");
        let converted = Command::new("openssl")
            .args(["x509", "-outform", "der", "-in"])
            .arg(&lab.ca_file)
            .arg("-out")
            .arg(&lab.ca_der)
            .status()
            .map_err(|e| format!("cannot start openssl: {e}"))?;
        if !converted.success() {
            return Err(format!("openssl x509 -outform der failed ({converted})"));
        }
        Ok(lab)
    }

    fn read(child: Child, dir: &Path) -> Result<Lab> {
        let read = |name: &str| -> Result<Value> {
            let text = fs::read_to_string(dir.join(name)).map_err(|e| format!("cannot read the lab's {name}: {e}"))?;
            serde_json::from_str(&text).map_err(|e| format!("the lab's {name}: {e}"))
        };
        let flags: Vec<String> = serde_json::from_value(read("relay-flags.json")?).map_err(|e| e.to_string())?;
        let demos = read("demos.json")?;
        let demos = demos.as_array().cloned().unwrap_or_default();
        let by_mode = |mode: &str| {
            demos
                .iter()
                .map(|d| &d["request"])
                .find(|r| r["mode"] == mode)
                .cloned()
                .ok_or_else(|| format!("the lab's demos have no {mode} request"))
        };
        let (host, ad) = (by_mode("host")?, by_mode("autodiscover")?);
        let text = |v: &Value| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("not a string: {v}"))
        };
        let ca_file = flags
            .iter()
            .position(|f| f == "--ca-file")
            .and_then(|i| flags.get(i + 1))
            .map(PathBuf::from)
            .ok_or("the lab's relay flags have no --ca-file")?;
        Ok(Lab {
            child,
            ca_file,
            ca_der: PathBuf::new(),
            port: host["port"]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or("the lab's host demo has no port")?,
            expired_host: text(&host["host"])?,
            ad_email: text(&ad["email"])?,
            ad_user: text(&ad["user"])?,
            ad_password: text(&ad["password"])?,
            flags,
        })
    }

    /// The lab's flags with the CA file as the binary sees it, and the step timeout.
    fn flags_with_ca(&self, ca: &str) -> Vec<String> {
        let mut flags = self.flags_without_trust();
        flags.extend(["--ca-file".into(), ca.into()]);
        flags
    }

    /// The lab's `--dns` and `--egress`, with this test's step timeout; no `--ca-file` (each scenario
    /// says how the lab's root is trusted).
    fn flags_without_trust(&self) -> Vec<String> {
        let mut flags = self.flags.clone();
        for flag in ["--ca-file", "--timeout"] {
            if let Some(i) = flags.iter().position(|f| f == flag) {
                flags.drain(i..(i + 2).min(flags.len()));
            }
        }
        flags.extend(["--timeout".into(), STEP_TIMEOUT.into()]);
        flags
    }

    /// `check --host HOST --port P --json` with the lab's DNS and egress, and `extra` (the trust).
    fn check_args(&self, host: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = ["check", "--host", host, "--port", &self.port.to_string(), "--json"]
            .map(String::from)
            .to_vec();
        args.extend(self.flags_without_trust());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    fn autodiscover_args(&self, ca: &str) -> Vec<String> {
        let mut args: Vec<String> = [
            "check",
            "--email",
            &self.ad_email,
            "--user",
            &self.ad_user,
            "--password-env",
            PASSWORD_VAR,
            "--json",
        ]
        .map(String::from)
        .to_vec();
        args.extend(self.flags_with_ca(ca));
        args
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// SIGTERM (the lab stops its servers and removes its directory), then wait.
fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}

// ---- wine ----

struct Wine {
    prefix: PathBuf,
    exe: PathBuf,
    logs: PathBuf,
    /// The URLs the prefix's browser was asked to open (winebrowser runs a recording script).
    browser_log: PathBuf,
}

impl Wine {
    /// A fresh prefix, the stand-in `bcryptprimitives.dll` in its system32, and a browser that records.
    fn new(work: &Path, exe: &Path) -> Result<Wine> {
        let dir = work.join("wine");
        let wine = Wine {
            prefix: dir.join("prefix"),
            exe: exe.to_path_buf(),
            logs: work.join("logs").join("wine"),
            browser_log: dir.join("browser-opened.txt"),
        };
        fs::create_dir_all(&wine.logs).map_err(|e| e.to_string())?;
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut boot = wine.command();
        boot.args(["wineboot", "--init"]);
        run_for(boot, &wine.logs, "wineboot")?.expect_code(0)?;
        let system32 = wine.prefix.join("drive_c").join("windows").join("system32");
        if !system32.is_dir() {
            return Err(format!("wineboot made no {}", system32.display()));
        }
        let sources = workspace().join("tests").join("wine");
        // Built outside the folder wine runs in: Windows looks for DLLs in the current folder first,
        // and the test must prove the copy in system32 is found.
        let dll = work.join("stand-in").join("bcryptprimitives.dll");
        fs::create_dir_all(work.join("stand-in")).map_err(|e| e.to_string())?;
        let mut gcc = Command::new("x86_64-w64-mingw32-gcc");
        gcc.args(["-shared", "-O2", "-s", "-o"])
            .arg(&dll)
            .arg(sources.join("bcryptprimitives.c"))
            .arg(sources.join("bcryptprimitives.def"))
            .arg("-lbcrypt");
        run_for(gcc, &wine.logs, "stand-in-dll")?.expect_code(0)?;
        fs::copy(&dll, system32.join("bcryptprimitives.dll"))
            .map_err(|e| format!("cannot copy the stand-in DLL: {e}"))?;
        let recorder = dir.join("browser.sh");
        fs::write(
            &recorder,
            format!("#!/bin/sh\necho \"$1\" >> '{}'\n", wine.browser_log.display()),
        )
        .map_err(|e| e.to_string())?;
        let chmod = Command::new("chmod")
            .arg("+x")
            .arg(&recorder)
            .status()
            .map_err(|e| e.to_string())?;
        if !chmod.success() {
            return Err("chmod +x failed".into());
        }
        let mut reg = wine.command();
        reg.args([
            "reg",
            "add",
            "HKCU\\Software\\Wine\\WineBrowser",
            "/v",
            "Browsers",
            "/d",
        ])
        .arg(&recorder)
        .arg("/f");
        run_for(reg, &wine.logs, "reg-browser")?.expect_code(0)?;
        Ok(wine)
    }

    /// `wine` with this prefix, nothing downloaded, no display.
    fn command(&self) -> Command {
        let mut command = Command::new("wine");
        command
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=d")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            // The Windows certificate store, not a PEM file, must be what --system-roots reads.
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .current_dir(self.prefix.parent().unwrap_or(&self.prefix));
        command
    }

    /// `wine migcheck.exe ARGS`.
    fn exe(&self, args: &[impl AsRef<OsStr>], log: &str) -> Result<Output> {
        let mut command = self.command();
        command.arg(&self.exe).args(args);
        run_for(command, &self.logs, log)
    }

    /// Imports a DER root into the current user's Root store, as certmgr.msc's import does: the
    /// registry value `Blob` (a serialized CERT_CERT_PROP_ID property) under the SHA-1 thumbprint.
    fn import_root(&self, der_file: &Path) -> Result {
        let der = fs::read(der_file).map_err(|e| format!("cannot read {}: {e}", der_file.display()))?;
        let fingerprint = Command::new("openssl")
            .args(["x509", "-inform", "der", "-noout", "-fingerprint", "-sha1", "-in"])
            .arg(der_file)
            .output()
            .map_err(|e| format!("cannot start openssl: {e}"))?;
        let thumbprint: String = String::from_utf8_lossy(&fingerprint.stdout)
            .split('=')
            .nth(1)
            .unwrap_or_default()
            .trim()
            .replace(':', "")
            .to_ascii_uppercase();
        if thumbprint.len() != 40 {
            return Err(format!("openssl gave no SHA-1 fingerprint for {}", der_file.display()));
        }
        const CERT_CERT_PROP_ID: u32 = 32;
        let mut blob = Vec::with_capacity(der.len() + 12);
        blob.extend(CERT_CERT_PROP_ID.to_le_bytes());
        blob.extend(1u32.to_le_bytes());
        blob.extend(u32::try_from(der.len()).map_err(|e| e.to_string())?.to_le_bytes());
        blob.extend(&der);
        let hex: String = blob.iter().map(|b| format!("{b:02x}")).collect();
        let key = format!("HKCU\\Software\\Microsoft\\SystemCertificates\\Root\\Certificates\\{thumbprint}");
        let mut reg = self.command();
        reg.args(["reg", "add", &key, "/v", "Blob", "/t", "REG_BINARY", "/d", &hex, "/f"]);
        run_for(reg, &self.logs, "reg-root")?.expect_code(0)
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        // Ends every process of this prefix (and its wineserver); other prefixes are untouched. Then the
        // prefix goes (some 700 MB); the logs stay.
        for flag in ["-k", "-w"] {
            let _ = Command::new("wineserver")
                .arg(flag)
                .env("WINEPREFIX", &self.prefix)
                .status();
        }
        let _ = fs::remove_dir_all(&self.prefix);
    }
}

/// `C:`-style path of a Unix path: wine maps `Z:` to `/`.
fn win_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

// ---- the static binary in an empty root ----

struct Chroot {
    root: PathBuf,
    original: PathBuf,
    logs: PathBuf,
}

impl Chroot {
    /// A directory with only `/migcheck` and `/lab-ca.pem`: no libc, no loader, no /etc.
    fn new(work: &Path, binary: &Path, lab: &Lab) -> Result<Chroot> {
        let root = work.join("empty-root");
        fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        fs::copy(binary, root.join("migcheck")).map_err(|e| format!("cannot copy {}: {e}", binary.display()))?;
        fs::copy(&lab.ca_file, root.join("lab-ca.pem")).map_err(|e| format!("cannot copy the lab CA: {e}"))?;
        let logs = work.join("logs").join("static");
        fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
        Ok(Chroot {
            root,
            original: binary.to_path_buf(),
            logs,
        })
    }

    /// `chroot ROOT /migcheck ARGS` with a bare environment.
    fn command(&self, args: &[impl AsRef<OsStr>]) -> Command {
        // Debian keeps chroot in /usr/sbin, which a non-login PATH may lack.
        let chroot = ["/usr/sbin/chroot", "/sbin/chroot"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .unwrap_or("chroot");
        let mut command = Command::new(chroot);
        command.arg(&self.root).arg("/migcheck").args(args).env_clear();
        command
    }
}

// ---- running things ----

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    fn expect_code(&self, code: i32) -> Result {
        if self.code == Some(code) {
            Ok(())
        } else {
            Err(format!(
                "exit code {:?}, expected {code}; stderr: {}",
                self.code,
                tail(&self.stderr)
            ))
        }
    }

    fn expect_stdout(&self, words: &str) -> Result {
        if self.stdout.contains(words) {
            Ok(())
        } else {
            Err(format!("stdout lacks {words:?}: {}", tail(&self.stdout)))
        }
    }

    fn expect_stderr(&self, words: &str) -> Result {
        if self.stderr.contains(words) {
            Ok(())
        } else {
            Err(format!("stderr lacks {words:?}: {}", tail(&self.stderr)))
        }
    }

    fn report(&self) -> Result<Value> {
        serde_json::from_str(&self.stdout).map_err(|e| {
            format!(
                "stdout is not a JSON report ({e}): {}; stderr: {}",
                tail(&self.stdout),
                tail(&self.stderr)
            )
        })
    }
}

fn tail(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let start = chars.len().saturating_sub(1500);
    chars[start..].iter().collect()
}

/// Runs `command` to its end (at most RUN_LIMIT), its output kept in `logs/NAME.out` and `.err`.
fn run_for(mut command: Command, logs: &Path, name: &str) -> Result<Output> {
    let (out_path, err_path) = (logs.join(format!("{name}.out")), logs.join(format!("{name}.err")));
    let out = File::create(&out_path).map_err(|e| e.to_string())?;
    let err = File::create(&err_path).map_err(|e| e.to_string())?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{name} did not end within {} s; stderr: {}",
                RUN_LIMIT.as_secs(),
                tail(&fs::read_to_string(&err_path).unwrap_or_default())
            ));
        }
        sleep(Duration::from_millis(50));
    };
    Ok(Output {
        code: status.code(),
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
    })
}

/// A server running for one scenario; killed when dropped.
struct Background {
    child: Child,
    err_path: PathBuf,
}

impl Background {
    fn start(mut command: Command, logs: &Path, name: &str) -> Result<Background> {
        let err_path = logs.join(format!("{name}.err"));
        let out = File::create(logs.join(format!("{name}.out"))).map_err(|e| e.to_string())?;
        let err = File::create(&err_path).map_err(|e| e.to_string())?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
        Ok(Background { child, err_path })
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.err_path).unwrap_or_default()
    }

    /// The URL of `serving the page at URL`, once the server says it.
    fn wait_for_url(&self) -> Result<String> {
        wait_for(Duration::from_secs(60), || {
            self.stderr()
                .lines()
                .find_map(|l| l.split("serving the page at ").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string)
        })
        .ok_or_else(|| format!("the server did not start: {}", tail(&self.stderr())))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        sleep(Duration::from_millis(100));
    }
}

/// GET (or POST a JSON body) with curl, never through a proxy: status, content type and body.
fn http(url: &str, post: Option<&str>, save_as: &Path) -> Result<(u16, String, Vec<u8>)> {
    let mut curl = Command::new("curl");
    curl.args([
        "-sS",
        "--noproxy",
        "*",
        "--max-time",
        "120",
        "-w",
        "%{http_code} %{content_type}",
        "-o",
    ])
    .arg(save_as);
    if let Some(body) = post {
        curl.args(["-H", "content-type: application/json", "--data-binary", body]);
    }
    let output = curl.arg(url).output().map_err(|e| format!("cannot start curl: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "curl {url}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let written = String::from_utf8_lossy(&output.stdout).into_owned();
    let (code, content_type) = written.split_once(' ').unwrap_or((&written, ""));
    let body = fs::read(save_as).unwrap_or_default();
    Ok((
        code.parse().map_err(|_| format!("curl {url}: no status ({written})"))?,
        content_type.split(';').next().unwrap_or_default().trim().to_string(),
        body,
    ))
}

// ---- results ----

#[derive(Default)]
struct Results {
    passed: usize,
    failed: Vec<String>,
}

impl Results {
    fn scenario(&mut self, name: &str, test: impl FnOnce() -> Result) {
        let timed = Instant::now();
        let outcome = test();
        let took = timed.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => {
                println!("  ok    {name} ({took:.1} s)");
                self.passed += 1;
            }
            Err(e) => {
                println!("  FAIL  {name} ({took:.1} s): {e}");
                self.failed.push(name.to_string());
            }
        }
    }

    fn failed(&mut self, what: &str) {
        println!("  FAIL  {what}");
        self.failed.push(what.to_string());
    }

    fn finish(self) -> Result {
        println!("release-test: {} passed, {} failed", self.passed, self.failed.len());
        if self.failed.is_empty() {
            Ok(())
        } else {
            Err(format!("release test failed: {}", self.failed.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_paths_are_z_drive_paths_under_wine() {
        assert_eq!(
            win_path(Path::new("/tmp/migcheck-lab/ca.pem")),
            "Z:\\tmp\\migcheck-lab\\ca.pem"
        );
    }

    #[test]
    fn checks_are_found_anywhere_in_the_tree() {
        let report = serde_json::json!({"checks": [
            {"id": "net", "status": "pass", "children": []},
            {"id": "tls", "status": "fail", "children": [{"id": "tls.dates", "status": "fail", "summary": "expired"}]},
        ]});
        assert!(expect_status(&report, "tls.dates", "fail").is_ok());
        assert!(expect_status(&report, "net", "fail").is_err());
        assert!(expect_status(&report, "oa.ping", "pass").is_err());
    }

    #[test]
    fn a_dynamically_linked_program_is_not_static() {
        // Whatever runs this test is a dynamically linked program (cargo's test harness on glibc).
        let me = std::env::current_exe().expect("the test binary");
        assert!(expect_static(&me).is_err());
    }
}
