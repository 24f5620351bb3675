//! The lab for the release test: `migcheck-lab --demo-out DIR`, its fixtures and scenarios on loopback.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{PASSWORD_VAR, STEP_TIMEOUT};
use crate::Result;
use crate::step;

/// `migcheck-lab --demo-out DIR`: the lab's certificate fixtures, Autodiscover, Outlook Anywhere and EWS
/// scenarios on loopback, with the demo's requests and the relay flags that point at it.
pub(super) struct Lab {
    pub(super) child: Child,
    /// `--dns ADDR --public-ca-file PEM --egress CIDRS [--timeout N]`.
    pub(super) flags: Vec<String>,
    pub(super) ca_file: PathBuf,
    /// The lab's root as DER (`openssl x509 -outform der`), as Windows exports a `.cer`.
    pub(super) ca_der: PathBuf,
    pub(super) port: u16,
    pub(super) expired_host: String,
    pub(super) ad_email: String,
    pub(super) ad_user: String,
    pub(super) ad_password: String,
    /// The demo's remote move to a Windows Server 2012 R2 with only DHE suites: `check` arguments
    /// without the password, and the password.
    pub(super) windows_args: Vec<String>,
    pub(super) windows_password: String,
}

impl Lab {
    pub(super) fn start(work: &Path, bin: &Path) -> Result<Lab> {
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

    pub(super) fn read(child: Child, dir: &Path) -> Result<Lab> {
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
        // The Windows TLS demo: the remote move whose server's suites only OpenSSL speaks.
        let windows = demos
            .iter()
            .map(|d| &d["request"])
            .find(|r| r["remote_server"].as_str().is_some_and(|s| s.starts_with("dheonly.")))
            .cloned()
            .ok_or("the lab's demos have no remote move to dheonly.")?;
        let text = |v: &Value| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("not a string: {v}"))
        };
        let ca_file = flags
            .iter()
            .position(|f| f == "--public-ca-file")
            .and_then(|i| flags.get(i + 1))
            .map(PathBuf::from)
            .ok_or("the lab's relay flags have no --public-ca-file")?;
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
            windows_args: [
                "check",
                "--remote-server",
                &text(&windows["remote_server"])?,
                "--user",
                &text(&windows["user"])?,
                "--target-mailbox",
                &text(&windows["target_mailbox"])?,
                "--password-env",
                PASSWORD_VAR,
                "--json",
            ]
            .map(String::from)
            .to_vec(),
            windows_password: text(&windows["password"])?,
            flags,
        })
    }

    /// The lab's flags with its CA as a public one (`--public-ca-file`, the lab stands for the internet)
    /// at the path the binary sees, and the step timeout.
    pub(super) fn flags_with_ca(&self, ca: &str) -> Vec<String> {
        let mut flags = self.flags_without_trust();
        flags.extend(["--public-ca-file".into(), ca.into()]);
        flags
    }

    /// The lab's `--dns` and `--egress`, with this test's step timeout; no root (each scenario says how
    /// the lab's root is trusted).
    pub(super) fn flags_without_trust(&self) -> Vec<String> {
        let mut flags = self.flags.clone();
        for flag in ["--public-ca-file", "--ca-file", "--timeout"] {
            if let Some(i) = flags.iter().position(|f| f == flag) {
                flags.drain(i..(i + 2).min(flags.len()));
            }
        }
        flags.extend(["--timeout".into(), STEP_TIMEOUT.into()]);
        flags
    }

    /// `check --host HOST --port P --json` with the lab's DNS and egress, and `extra` (the trust).
    pub(super) fn check_args(&self, host: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = ["check", "--host", host, "--port", &self.port.to_string(), "--json"]
            .map(String::from)
            .to_vec();
        args.extend(self.flags_without_trust());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// `check` of the Windows TLS demo (a remote move), with the lab's flags.
    pub(super) fn windows_args(&self, ca: &str) -> Vec<String> {
        let mut args = self.windows_args.clone();
        args.extend(self.flags_with_ca(ca));
        args
    }

    pub(super) fn autodiscover_args(&self, ca: &str) -> Vec<String> {
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
pub(super) fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}
