//! `cargo xtask fuzz [--secs N] [TARGET...]`: the cargo-fuzz targets in `fuzz/`, each run N seconds
//! (default 600) on its committed corpus `fuzz/corpus/<target>/`, one after the other (one core).
//!
//! Installs cargo-fuzz (pinned) when missing or another version, builds every target with the nightly
//! toolchain and the address sanitizer (stable and `-s none` when there is no nightly), then prints one
//! line per target: executions, rate, corpus size, outcome. A crash, a hang (`-timeout`), a leak or an
//! out-of-memory fails the task with the path of the input libFuzzer wrote under `fuzz/artifacts/<target>/`.
//! Built artifacts go where cargo puts them: `fuzz/target/`, or `$CARGO_TARGET_DIR`.
//!
//! `cargo xtask fuzz --short` is the run `cargo xtask test` ends with: an unoptimised build without
//! debuginfo (a fraction of the release build's time), 10 s per target, and the inputs it finds kept out
//! of the committed corpus (in `fuzz/target/short-run/<target>/`), so a test run leaves the repository
//! as it was.
//!
//! `cargo xtask fuzz --replay` instead replays every corpus file through the targets on stable Rust
//! (`cargo test --manifest-path fuzz/Cargo.toml`): no libFuzzer, no nightly.

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::cargo_tool::CargoTool;
use super::{Result, has_command, step, workspace};

/// The cargo-fuzz this task installs when `cargo fuzz` is missing or another version.
const CARGO_FUZZ: CargoTool = CargoTool {
    krate: "cargo-fuzz",
    subcommand: "fuzz",
    version: "0.13.2",
};
const DEFAULT_SECS: u64 = 600;
/// Seconds per target in the short run of the test suite: enough to replay the corpus and then mutate
/// it some thousands of times.
const SHORT_SECS: u64 = 10;
/// libFuzzer's limits for every run: memory per process, and seconds for one input (a hang).
const RSS_LIMIT_MB: u32 = 2048;
const INPUT_TIMEOUT_SECS: u32 = 10;

/// How a run is built and where it keeps what it finds.
struct Plan {
    secs: u64,
    /// `--short`: the unoptimised build, new inputs outside the committed corpus.
    short: bool,
}

pub fn run(args: &[OsString]) -> Result {
    let mut plan = Plan {
        secs: DEFAULT_SECS,
        short: false,
    };
    let mut replay = false;
    let mut wanted = Vec::new();
    let mut args = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secs" => {
                let value = args.next().ok_or("--secs needs a number of seconds")?;
                plan.secs = value
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("--secs {value}: not a number of seconds"))?;
            }
            "--short" => {
                plan = Plan {
                    secs: SHORT_SECS,
                    short: true,
                }
            }
            "--replay" => replay = true,
            flag if flag.starts_with('-') => return Err(format!("fuzz: unknown option {flag}")),
            _ => wanted.push(arg),
        }
    }
    let fuzz_dir = workspace().join("fuzz");
    if replay {
        return replay_corpus(&fuzz_dir);
    }
    fuzz(&fuzz_dir, &wanted, &plan)
}

/// The short run of every target, as the test suite makes it.
pub fn short() -> Result {
    fuzz(
        &workspace().join("fuzz"),
        &[],
        &Plan {
            secs: SHORT_SECS,
            short: true,
        },
    )
}

fn fuzz(fuzz_dir: &Path, wanted: &[String], plan: &Plan) -> Result {
    let all = targets(fuzz_dir)?;
    for name in wanted {
        if !all.contains(name) {
            return Err(format!("fuzz: no target {name} (targets: {})", all.join(", ")));
        }
    }
    let targets = if wanted.is_empty() { all } else { wanted.to_vec() };
    CARGO_FUZZ.ensure()?;
    let toolchain = Toolchain::pick(plan.short);
    let started = Instant::now();
    step(&format!("cargo {}fuzz build{}", toolchain.plus(), toolchain.flags()));
    let mut build = toolchain.cargo_fuzz("build");
    if let [only] = targets.as_slice() {
        build.arg(only); // else every target
    }
    super::run(build, "cargo fuzz build")?;
    step(&format!("built in {:.0?}", started.elapsed()));
    let mut failures = Vec::new();
    let mut executions = 0;
    for target in &targets {
        let outcome = fuzz_one(&toolchain, fuzz_dir, target, plan)?;
        println!("{outcome}");
        let _ = std::io::stdout().flush();
        executions += outcome.executions.unwrap_or(0);
        if let Some(failure) = outcome.failure {
            failures.push(format!("{target}: {failure}"));
        }
    }
    if failures.is_empty() {
        step(&format!(
            "fuzz: {} targets, {} s each, {executions} executions, no crash ({:.0?} in all)",
            targets.len(),
            plan.secs,
            started.elapsed()
        ));
        Ok(())
    } else {
        Err(format!("fuzzing found {}", failures.join("; ")))
    }
}

/// The target names: `fuzz/fuzz_targets/*.rs`, sorted.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let dir = fuzz_dir.join("fuzz_targets");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Nightly builds with the address sanitizer; without a nightly toolchain, stable and `-s none`.
struct Toolchain {
    nightly: bool,
    /// `--dev`: the unoptimised build.
    dev: bool,
}

impl Toolchain {
    fn pick(dev: bool) -> Self {
        let nightly = has_command("rustup")
            && Command::new("rustup")
                .args(["run", "nightly", "rustc", "--version"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if !nightly {
            step("no nightly toolchain: building on stable without a sanitizer (-s none)");
        }
        Toolchain { nightly, dev }
    }

    fn plus(&self) -> &'static str {
        if self.nightly { "+nightly " } else { "" }
    }

    fn flags(&self) -> String {
        let mut flags = String::new();
        if !self.nightly {
            flags.push_str(" -s none");
        }
        if self.dev {
            flags.push_str(" --dev");
        }
        flags
    }

    /// `cargo [+nightly] fuzz SUBCOMMAND [-s none]`, through rustup's proxy on PATH (the `cargo` running
    /// this task takes no `+toolchain`), from the workspace root.
    fn cargo_fuzz(&self, subcommand: &str) -> Command {
        let mut command = Command::new("cargo");
        if self.nightly {
            command.arg("+nightly");
        }
        command.args(["fuzz", subcommand]);
        if !self.nightly {
            command.args(["-s", "none"]);
        }
        if self.dev {
            // No debuginfo: the short run's build is most of its time, and a crash is reported by its
            // input file, which a long run (optimised, with debuginfo) then replays.
            command.arg("--dev").env("CARGO_PROFILE_DEV_DEBUG", "0");
        }
        command
            .current_dir(workspace())
            .env_remove("CARGO")
            .env_remove("RUSTUP_TOOLCHAIN");
        command
    }
}

/// One target's run, as its line prints.
struct Outcome {
    target: String,
    secs: f64,
    executions: Option<u64>,
    rate: Option<u64>,
    corpus: usize,
    failure: Option<String>,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let number = |n: Option<u64>| n.map_or_else(|| "?".to_string(), |n| n.to_string());
        write!(
            f,
            "xtask: fuzz {:<17} {:>11} executions in {:>4.0} s ({:>6}/s), corpus {:>4} files: {}",
            self.target,
            number(self.executions),
            self.secs,
            number(self.rate),
            self.corpus,
            self.failure.as_deref().unwrap_or("no crash")
        )
    }
}

/// `cargo fuzz run TARGET fuzz/corpus/TARGET -- -max_total_time=SECS ...`; libFuzzer's output goes to
/// `fuzz/artifacts/TARGET/last-run.log`, its tail to the terminal when the run fails.
fn fuzz_one(toolchain: &Toolchain, fuzz_dir: &Path, target: &str, plan: &Plan) -> Result<Outcome> {
    let corpus = fuzz_dir.join("corpus").join(target);
    // libFuzzer writes what it finds into the first directory and only reads the others.
    let found = if plan.short {
        let dir = fuzz_dir.join("target").join("short-run").join(target);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        dir
    } else {
        corpus.clone()
    };
    let secs = plan.secs;
    let artifacts = fuzz_dir.join("artifacts").join(target);
    fs::create_dir_all(&corpus).map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    fs::create_dir_all(&artifacts).map_err(|e| format!("cannot create {}: {e}", artifacts.display()))?;
    let log_path = artifacts.join("last-run.log");
    let mut log = fs::File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let mut command = toolchain.cargo_fuzz("run");
    command.arg(target).arg(&found);
    if found != corpus {
        command.arg(&corpus);
    }
    command
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
        .arg("-print_final_stats=1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start cargo fuzz run {target}: {e}"))?;
    let mut executions = None;
    let mut rate = None;
    let mut written: Option<PathBuf> = None;
    let mut tail: Vec<String> = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(std::result::Result::ok) {
            let _ = writeln!(log, "{line}");
            if let Some(n) = stat(&line, "stat::number_of_executed_units:") {
                executions = Some(n);
            } else if let Some(n) = stat(&line, "stat::average_exec_per_sec:") {
                rate = Some(n);
            } else if let Some(path) = line.split_once("Test unit written to ").map(|(_, p)| p.trim()) {
                let path = Path::new(path);
                written = Some(if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    workspace().join(path)
                });
            }
            tail.push(line);
            if tail.len() > 60 {
                tail.remove(0);
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo fuzz run {target}: {e}"))?;
    let failure = if status.success() {
        None
    } else {
        for line in &tail {
            eprintln!("  | {line}");
        }
        Some(match &written {
            Some(path) => format!("FAILED ({status}), input written to {}", path.display()),
            None => format!("FAILED ({status}), no input written; log {}", log_path.display()),
        })
    };
    let corpus_files = fs::read_dir(&corpus).map(|d| d.flatten().count()).unwrap_or(0);
    Ok(Outcome {
        target: target.to_string(),
        secs: started.elapsed().as_secs_f64(),
        executions,
        rate,
        corpus: corpus_files,
        failure,
    })
}

/// The number after `key` in a libFuzzer final-stats line (`stat::number_of_executed_units: 123`).
fn stat(line: &str, key: &str) -> Option<u64> {
    line.trim().strip_prefix(key)?.trim().parse().ok()
}

fn replay_corpus(fuzz_dir: &Path) -> Result {
    step("cargo test --manifest-path fuzz/Cargo.toml (every corpus file through its target, stable)");
    let mut command = Command::new("cargo");
    command
        .arg("test")
        .arg("--manifest-path")
        .arg(fuzz_dir.join("Cargo.toml"))
        .current_dir(workspace())
        .env_remove("CARGO");
    super::run(command, "the corpus replay")
}

#[cfg(test)]
mod tests {
    use super::stat;

    #[test]
    fn libfuzzer_final_stats_are_read() {
        assert_eq!(
            stat(
                "stat::number_of_executed_units: 1234567",
                "stat::number_of_executed_units:"
            ),
            Some(1234567)
        );
        assert_eq!(
            stat("stat::average_exec_per_sec:     2057", "stat::average_exec_per_sec:"),
            Some(2057)
        );
        assert_eq!(stat("#1234 DONE", "stat::number_of_executed_units:"), None);
    }
}
