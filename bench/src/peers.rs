//! The tools people use today, run on the same lab in the same run: exchangelib 4.9 (POX Autodiscover),
//! impacket's rpcmap (RPC over HTTP), sslyze (certificate). Each run is timed as a whole process, as a
//! user would run it; an unexpected answer is an error, so a figure always means the work was done.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use migcheck_lab::peers::FOREIGN_ENV;
use migcheck_lab::{AdScenario, Lab, OaScenario};

pub struct Peers {
    pub root: PathBuf,
}

impl Peers {
    fn venv(&self, program: &str) -> PathBuf {
        self.root.join("target/lab-venv/bin").join(program)
    }

    /// exchangelib's POX Autodiscover of `s` (Debian's python3-exchangelib), with its per-request
    /// timeout, resolving through `dns` (the lab's, or the latency injector's).
    pub fn exchangelib(&self, s: AdScenario, timeout: Option<u64>, dns: SocketAddr) -> Result<Duration, String> {
        let lab = Lab::shared();
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(self.root.join("tests/lab/peers/exchangelib_autodiscover.py"))
            .arg("--dns")
            .arg(dns.to_string())
            .arg("--ca-file")
            .arg(lab.ca_file())
            .args(["--email", &s.email(), "--user", &s.user()])
            .env("LAB_PASSWORD", s.password());
        if let Some(t) = timeout {
            cmd.args(["--timeout", &t.to_string()]);
        }
        let (took, out) = timed(cmd)?;
        if out.contains("\"ews_endpoint\"") {
            Ok(took)
        } else {
            Err(format!("exchangelib found no settings: {out}"))
        }
    }

    /// impacket's rpcmap binding EMSMDB through the healthy Outlook Anywhere proxy, reached at `proxy`
    /// (its own address, or its relay's).
    pub fn rpcmap(&self, proxy: IpAddr) -> Result<Duration, String> {
        let cmd = migcheck_lab::peers::rpcmap(&self.venv("python"), OaScenario::Healthy, proxy);
        let (took, out) = timed(cmd)?;
        if out.contains("Protocol: [MS-OXCRPC]") {
            Ok(took)
        } else {
            Err(format!("rpcmap did not bind EMSMDB: {out}"))
        }
    }

    /// sslyze --certinfo on the healthy scenario's Exchange host, trusting the lab CA.
    pub fn sslyze(&self, host: &str, ip: IpAddr) -> Result<Duration, String> {
        let mut cmd = Command::new(self.root.join("target/bench-venv/bin/python"));
        cmd.args(["-m", "sslyze", "--certinfo", "--certinfo_ca_file"])
            .arg(Lab::shared().ca_file())
            .arg(format!("{host}:443{{{ip}}}"));
        let (took, out) = timed(cmd)?;
        if out.contains("Certificate Chain #1")
            && out.contains("Supplied CA file CA Store (N/A):   OK - Certificate is trusted")
        {
            Ok(took)
        } else {
            Err(format!("sslyze did not report the certificate: {out}"))
        }
    }

    /// Whether sslyze is installed in its venv (`cargo xtask bench` installs it).
    pub fn has_sslyze(&self) -> bool {
        venv_has(&self.root.join("target/bench-venv"), "sslyze")
    }
}

fn venv_has(venv: &Path, module: &str) -> bool {
    Command::new(venv.join("bin/python"))
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` to its end with the lab-only environment: wall time and all it printed.
fn timed(mut cmd: Command) -> Result<(Duration, String), String> {
    for v in FOREIGN_ENV {
        cmd.env_remove(v);
    }
    cmd.stdin(Stdio::null());
    let start = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    let took = start.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((took, text))
}
