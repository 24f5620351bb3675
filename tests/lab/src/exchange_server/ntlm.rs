//! The real NTLM acceptor: pyspnego's server side in a long-lived Python helper
//! (`peers/ntlm_server.py`), spoken to over its stdin/stdout, one line per message. The helper is
//! tied to the thread that spawns it (`PR_SET_PDEATHSIG`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::oneshot;

use super::TokenChecking;
use crate::{LabError, servers, sys};

/// The acceptor's verdict on one token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Send this CHALLENGE and wait for the AUTHENTICATE on the same connection.
    Challenge(Vec<u8>),
    /// Authenticated as `DOMAIN\user` (or the UPN).
    Ok(String),
    Fail(String),
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Verdict>>>>;

/// The running helper.
pub(crate) struct NtlmHelper {
    child: Child,
    to_helper: Mutex<mpsc::Sender<String>>,
    pending: Pending,
}

/// The venv's python: `MIGCHECK_LAB_PYTHON`, else `<workspace>/target/lab-venv/bin/python`.
pub(crate) fn python() -> Result<PathBuf, LabError> {
    let path = match std::env::var_os("MIGCHECK_LAB_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => venv_dir().join("bin").join("python"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(LabError::Setup(format!(
            "the lab's Python venv is missing ({} does not exist): run `cargo xtask test` once, or \
             `python3 -m venv {venv} && {venv}/bin/pip install pyspnego==0.11.2 impacket==0.13.1` \
             (or set MIGCHECK_LAB_PYTHON to a python that has pyspnego)",
            path.display(),
            venv = venv_dir().display()
        )))
    }
}

/// `<workspace>/target/lab-venv` (fixed, whatever CARGO_TARGET_DIR says).
pub(crate) fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lab-venv")
}

impl NtlmHelper {
    /// Starts the helper with `config` (the stores, see the script) and waits for its `READY`.
    pub(crate) fn spawn(config: &Path, log: &Path) -> Result<NtlmHelper, LabError> {
        let python = python()?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("peers")
            .join("ntlm_server.py");
        let mut cmd = std::process::Command::new(&python);
        cmd.arg(&script)
            .arg(config)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(servers::log_file(log)?);
        let mut child = sys::spawn_tied(&mut cmd)
            .map_err(|e| LabError::io(format!("starting the NTLM helper {}", python.display()), e))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(LabError::Setup("internal: the NTLM helper has no pipes".into()));
        };
        let mut lines = BufReader::new(stdout);
        let (ready_tx, ready_rx) = mpsc::channel();
        let pending: Pending = Arc::default();
        let reader_pending = Arc::clone(&pending);
        thread::Builder::new()
            .name("migcheck-lab-ntlm-read".into())
            .spawn(move || {
                let mut first = String::new();
                let ok = lines.read_line(&mut first).is_ok() && first.trim() == "READY";
                let _ = ready_tx.send(ok);
                if ok {
                    read_answers(lines, &reader_pending);
                }
            })
            .map_err(|e| LabError::io("spawning the NTLM reader thread", e))?;
        let (tx, rx) = mpsc::channel::<String>();
        thread::Builder::new()
            .name("migcheck-lab-ntlm-write".into())
            .spawn(move || {
                let mut stdin = stdin;
                for line in rx {
                    if stdin.write_all(line.as_bytes()).and_then(|()| stdin.flush()).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| LabError::io("spawning the NTLM writer thread", e))?;
        let helper = NtlmHelper {
            child,
            to_helper: Mutex::new(tx),
            pending,
        };
        match ready_rx.recv_timeout(Duration::from_secs(20)) {
            Ok(true) => Ok(helper),
            _ => Err(LabError::Setup(format!(
                "the NTLM helper ({} {}) did not start (is pyspnego installed in the venv?):\n{}",
                python.display(),
                script.display(),
                servers::tail(log, 15)
            ))),
        }
    }

    /// Hands one token of connection `conn` (`<store>/<n>`) to the acceptor, checked as the virtual
    /// directory's Extended Protection says against the certificate of `host`; 5 s at most.
    pub(crate) async fn step(&self, conn: &str, token: &[u8], checking: TokenChecking, host: &str) -> Verdict {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut p) = self.pending.lock() {
            p.insert(conn.to_string(), tx);
        }
        let line = format!("{conn} {} {} {host}\n", STANDARD.encode(token), checking.helper_word());
        let sent = self.to_helper.lock().map(|s| s.send(line).is_ok()).unwrap_or(false);
        if !sent {
            return Verdict::Fail("the NTLM helper is gone".into());
        }
        match tokio::time::timeout(Duration::from_secs(5), rx).await {
            Ok(Ok(v)) => v,
            _ => {
                if let Ok(mut p) = self.pending.lock() {
                    p.remove(conn);
                }
                Verdict::Fail("the NTLM helper did not answer".into())
            }
        }
    }

    /// The connection closed: the helper forgets its half-done context.
    pub(crate) fn forget(&self, conn: &str) {
        if let Ok(s) = self.to_helper.lock() {
            let _ = s.send(format!("{conn} DROP\n"));
        }
    }
}

fn read_answers(lines: BufReader<std::process::ChildStdout>, pending: &Pending) {
    for line in lines.lines().map_while(Result::ok) {
        let mut parts = line.splitn(3, ' ');
        let (Some(conn), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        let rest = parts.next().unwrap_or("").trim().to_string();
        let verdict = match kind {
            "CHALLENGE" => match STANDARD.decode(&rest) {
                Ok(b) => Verdict::Challenge(b),
                Err(_) => Verdict::Fail("undecodable challenge".into()),
            },
            "OK" => Verdict::Ok(rest),
            _ => Verdict::Fail(rest),
        };
        let waiter = pending.lock().ok().and_then(|mut p| p.remove(conn));
        if let Some(w) = waiter {
            let _ = w.send(verdict);
        }
    }
}

impl Drop for NtlmHelper {
    fn drop(&mut self) {
        servers::stop(&mut self.child);
    }
}
