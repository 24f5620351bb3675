//! A `migcheck serve` process pointed at the lab, for the load test and the benchmarks: its own process,
//! so its memory is its own; killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::LabError;

pub struct RelayProcess {
    child: Child,
    pub addr: SocketAddr,
    /// What it wrote to stderr (its log), the first [`KEPT_LINES`] lines.
    log: Arc<Mutex<Vec<String>>>,
}

const KEPT_LINES: usize = 10_000;

impl RelayProcess {
    /// Starts `binary serve --listen 127.0.0.1:0 ARGS` and waits for the line saying where it serves.
    pub fn start(binary: &Path, args: &[String]) -> Result<Self, LabError> {
        Self::start_with_env(binary, args, &[])
    }

    /// [`RelayProcess::start`] with environment variables of its own (an access token's variable).
    pub fn start_with_env(binary: &Path, args: &[String], env: &[(&str, &str)]) -> Result<Self, LabError> {
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| LabError::io(format!("starting {} serve", binary.display()), e))?;
        let stderr = child.stderr.take();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&log);
        // Reads the serving line, then keeps draining so the relay never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in stderr
                .into_iter()
                .flat_map(|s| BufReader::new(s).lines().map_while(Result::ok))
            {
                if let Some(rest) = line.split("serving the page at http://").nth(1) {
                    let _ = tx.send(rest.split('/').next().unwrap_or_default().to_string());
                }
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() < KEPT_LINES {
                    kept.push(line);
                }
            }
        });
        let said = rx.recv_timeout(Duration::from_secs(30));
        let addr = said.ok().and_then(|a| a.parse().ok());
        match addr {
            Some(addr) => Ok(RelayProcess { child, addr, log }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(LabError::io(
                    format!("{} serve did not say where it serves", binary.display()),
                    std::io::Error::from(std::io::ErrorKind::TimedOut),
                ))
            }
        }
    }

    /// The lines of its log so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The CPU time (user and system) the relay has used so far; zero when unknown.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields 14 and 15 (utime, stime), counted after the ')' that ends the command name.
        let ticks: u64 = stat
            .rsplit_once(')')
            .map(|(_, rest)| {
                rest.split_whitespace()
                    .skip(11)
                    .take(2)
                    .filter_map(|f| f.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0);
        // Linux reports in clock ticks of 1/100 s (USER_HZ) on every architecture Rust targets here.
        Duration::from_millis(ticks * 10)
    }

    /// The most resident memory the relay has used so far (VmHWM), in MiB; 0 when unknown.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
