//! The release binaries against the lab on loopback, as a consultant runs them (`cargo xtask release
//! --test`):
//!
//! - `migcheck.exe` under wine, in a fresh `WINEPREFIX` made for this run: `--help` in Windows form, `check`
//!   on certificate fixtures (the lab's CA as a `Z:\...` path for `--public-ca-file`, and as a DER `.cer` for
//!   `--ca-file`), `--system-roots` with the lab's root imported into the prefix's Windows certificate store
//!   (trusted as a private root with the flag, not trusted without it),
//!   `check --email` on an Autodiscover scenario (Exchange 2016 behind Outlook Anywhere and EWS), `check
//!   --remote-server` on a Windows Server 2012 R2 with only DHE suites (the built-in OpenSSL), `serve`
//!   answering the page and a diagnosis, and a start without arguments (a double-click) that opens the
//!   page in the default browser and reads the system's DNS servers.
//! - `migcheck-x86_64-linux-musl`: no program interpreter (static), then `check` (the same three) and `serve` run by
//!   `chroot` in a directory that holds only the binary and the lab's CA (no libc, no loader, no tools).
//!
//! Debian 12's wine 8.0 lacks `bcryptprimitives.dll`, which Rust 1.78+ programs import (`ProcessPrng`):
//! the test builds a stand-in from `tests/wine/` with mingw into the prefix's system32. It is for this
//! test only and never lands in the release artifacts.
//!
//! wine runs with `WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=d"` (no Mono or Gecko download) and
//! without `DISPLAY`. Network traffic goes to loopback only: every name is asked of the lab's dnsmasq,
//! and the start without arguments resolves nothing.

use std::fs::{self};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

mod chroot;
mod lab;
mod process;
mod wine;

use super::Artifacts;
use crate::{Result, build_bin, ensure_lab_venv, ensure_test_packages, step};
use chroot::Chroot;
use lab::Lab;
use process::{Background, Output, Results, http, run_for, wait_for};
use wine::{Wine, win_path};

/// The lab's valid certificate fixture (`Fixture::Valid` in tests/lab): leaf and intermediate sent,
/// signed by the lab's root.
const VALID_HOST: &str = "mail.contoso.test";
/// The password variable the CLI is given (`--password-env`).
pub(super) const PASSWORD_VAR: &str = "MIGCHECK_PASSWORD";
/// The time limit of one network step, as the relay's CLI tests use (wine is a little slower).
pub(super) const STEP_TIMEOUT: &str = "5";
/// The longest one run of a binary may take.
pub(super) const RUN_LIMIT: Duration = Duration::from_secs(120);

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
            let out = wine.exe(
                &lab.check_args(&lab.expired_host, &["--public-ca-file", &ca]),
                "check-expired",
            )?;
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
        "migcheck.exe check: valid certificate, the lab root as a DER .cer (--ca-file: trusted, private)",
        || {
            let cer = win_path(&lab.ca_der);
            let out = wine.exe(&lab.check_args(VALID_HOST, &["--ca-file", &cer]), "check-der")?;
            expect_trusted_privately(&out, "--ca-file")
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
            expect_trusted_privately(&out, SYSTEM_STORE)
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

    results.scenario(
        "migcheck.exe check --remote-server: Windows Server 2012 R2 suites (DHE only), through the built-in OpenSSL",
        || {
            let mut command = wine.command();
            command
                .arg(&wine.exe)
                .args(lab.windows_args(&ca))
                .env(PASSWORD_VAR, &lab.windows_password);
            let out = run_for(command, &wine.logs, "check-windows-tls")?;
            expect_windows_tls(&out, &lab.windows_password)
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
                root.command(&lab.check_args(&lab.expired_host, &["--public-ca-file", ca])),
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
            expect_trusted_privately(&out, SYSTEM_STORE)
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
        "static binary in an empty root: check --remote-server, Windows Server 2012 R2 suites (DHE only) through the built-in OpenSSL",
        || {
            let mut command = root.command(&lab.windows_args(ca));
            command.env(PASSWORD_VAR, &lab.windows_password);
            let out = run_for(command, &root.logs, "check-windows-tls")?;
            expect_windows_tls(&out, &lab.windows_password)
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

/// How the report names a root from `--system-roots`.
const SYSTEM_STORE: &str = "this computer's certificate store (--system-roots)";

/// Trusted through a root that is not a public CA (`from`: `--ca-file`, the system store): seen from
/// inside a network (the lab's egress), a warning that the view from the internet decides (exit 0).
fn expect_trusted_privately(out: &Output, from: &str) -> Result {
    out.expect_code(0)?;
    let report = out.report()?;
    expect_verdict(&report, "warn")?;
    expect_status(&report, "tls.chain", "warn")?;
    expect_first_cause(&report, "certificate")?;
    let headline = report["headline"].as_str().unwrap_or_default();
    if !headline.contains(&format!("a root from {from}: a private certification authority")) {
        return Err(format!(
            "headline {headline:?} does not name the private root from {from}"
        ));
    }
    Ok(())
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

/// A server with only DHE_RSA suites (none rustls or Exchange Online offers): OpenSSL, built into the
/// binary, connects and verifies; the handshake warns, EWS and MRS Proxy pass behind it (exit 0).
fn expect_windows_tls(out: &Output, password: &str) -> Result {
    if out.stdout.contains(password) || out.stderr.contains(password) {
        return Err("the password is in the output".into());
    }
    out.expect_code(0)?;
    let report = out.report()?;
    expect_verdict(&report, "warn")?;
    expect_status(&report, "tls.handshake", "warn")?;
    for id in ["tls.chain", "mrs.credentials", "ews.permission"] {
        expect_status(&report, id, "pass")?;
    }
    let summary = find_check(&report["checks"], "tls.handshake")
        .and_then(|c| c["summary"].as_str())
        .unwrap_or_default();
    if !summary.contains("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384") {
        return Err(format!("tls.handshake says {summary:?}, not the DHE suite"));
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
    // The wasm's name carries its content hash: index.html's preload hint names it.
    let wasm = page
        .split('"')
        .find(|part| part.starts_with("/migcheck_frontend_bg.") && part.ends_with(".wasm"))
        .ok_or_else(|| format!("GET {url}: index.html names no wasm"))?;
    let wasm_url = format!("{url}{}", wasm.trim_start_matches('/'));
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
