//! Running the binaries: bounded in time, output kept in the logs folder, results counted.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::RUN_LIMIT;
use crate::Result;

pub(super) struct Output {
    pub(super) code: Option<i32>,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

impl Output {
    pub(super) fn expect_code(&self, code: i32) -> Result {
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

    pub(super) fn expect_stdout(&self, words: &str) -> Result {
        if self.stdout.contains(words) {
            Ok(())
        } else {
            Err(format!("stdout lacks {words:?}: {}", tail(&self.stdout)))
        }
    }

    pub(super) fn expect_stderr(&self, words: &str) -> Result {
        if self.stderr.contains(words) {
            Ok(())
        } else {
            Err(format!("stderr lacks {words:?}: {}", tail(&self.stderr)))
        }
    }

    pub(super) fn report(&self) -> Result<Value> {
        serde_json::from_str(&self.stdout).map_err(|e| {
            format!(
                "stdout is not a JSON report ({e}): {}; stderr: {}",
                tail(&self.stdout),
                tail(&self.stderr)
            )
        })
    }
}

pub(super) fn tail(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let start = chars.len().saturating_sub(1500);
    chars[start..].iter().collect()
}

/// Runs `command` to its end (at most RUN_LIMIT), its output kept in `logs/NAME.out` and `.err`.
pub(super) fn run_for(mut command: Command, logs: &Path, name: &str) -> Result<Output> {
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
pub(super) struct Background {
    pub(super) child: Child,
    pub(super) err_path: PathBuf,
}

impl Background {
    pub(super) fn start(mut command: Command, logs: &Path, name: &str) -> Result<Background> {
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

    pub(super) fn stderr(&self) -> String {
        fs::read_to_string(&self.err_path).unwrap_or_default()
    }

    /// The URL of `serving the page at URL`, once the server says it.
    pub(super) fn wait_for_url(&self) -> Result<String> {
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

pub(super) fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
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
pub(super) fn http(url: &str, post: Option<&str>, save_as: &Path) -> Result<(u16, String, Vec<u8>)> {
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
pub(super) struct Results {
    pub(super) passed: usize,
    pub(super) failed: Vec<String>,
}

impl Results {
    pub(super) fn scenario(&mut self, name: &str, test: impl FnOnce() -> Result) {
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

    pub(super) fn failed(&mut self, what: &str) {
        println!("  FAIL  {what}");
        self.failed.push(what.to_string());
    }

    pub(super) fn finish(self) -> Result {
        println!("release-test: {} passed, {} failed", self.passed, self.failed.len());
        if self.failed.is_empty() {
            Ok(())
        } else {
            Err(format!("release test failed: {}", self.failed.join("; ")))
        }
    }
}
