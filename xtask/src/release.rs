//! `cargo xtask release [--test]`: the binaries a consultant copies onto a customer's machine, the relay
//! and the page in one file each:
//!
//! - `migcheck.exe` for x86_64 Windows (`x86_64-pc-windows-gnu`, cross-compiled with Debian's mingw-w64),
//! - `migcheck-x86_64-linux-musl`, a static x86_64 Linux binary that runs on any distribution.
//!
//! Installs what is missing (the two rustup targets; Debian's `gcc-mingw-w64-x86-64` and `musl-tools`),
//! builds the page (`dist`), then the relay for both targets, and copies them with a `SHA256SUMS` into
//! `<target dir>/release-artifacts/`, printing their sizes raw and gzip. With `--test` it then runs both
//! binaries against the lab on loopback (see `release/test.rs`): `migcheck.exe` under wine, the Linux
//! one in an empty root directory.

mod test;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{Result, assets, cargo, dist, has_command, run, step};

/// One release binary: the Rust target, the file name it ships under, and the C toolchain its build
/// needs (ring's C and assembly parts, and OpenSSL, are built with it).
pub(crate) struct Target {
    pub(crate) triple: &'static str,
    pub(crate) artifact: &'static str,
    /// Environment for cargo: the linker and the C compiler, set here rather than in a global config.
    env: &'static [(&'static str, &'static str)],
    /// A command the build needs, and the Debian package that brings it.
    tool: (&'static str, &'static str),
}

pub(crate) const WINDOWS: Target = Target {
    triple: "x86_64-pc-windows-gnu",
    artifact: "migcheck.exe",
    env: &[
        ("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER", "x86_64-w64-mingw32-gcc"),
        ("CC_x86_64_pc_windows_gnu", "x86_64-w64-mingw32-gcc"),
        ("AR_x86_64_pc_windows_gnu", "x86_64-w64-mingw32-ar"),
    ],
    tool: ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"),
};

/// Rust's musl target links its own C runtime statically (self-contained); only ring's C code and
/// OpenSSL need a musl-capable compiler: musl-gcc.
pub(crate) const LINUX: Target = Target {
    triple: "x86_64-unknown-linux-musl",
    artifact: "migcheck-x86_64-linux-musl",
    env: &[("CC_x86_64_unknown_linux_musl", "musl-gcc")],
    tool: ("musl-gcc", "musl-tools"),
};

const TARGETS: [&Target; 2] = [&WINDOWS, &LINUX];

/// What building OpenSSL from source needs besides the C compiler: (command, Debian package).
const OPENSSL_BUILD_TOOLS: [(&str, &str); 2] = [("perl", "perl"), ("make", "make")];

pub(crate) fn main(args: &[OsString]) -> Result {
    const USAGE: &str = "usage: cargo xtask release [--test | --test-only]";
    let (build_them, test_them) = match args.iter().map(|a| a.to_str()).collect::<Vec<_>>().as_slice() {
        [] => (true, false),
        [Some("--test")] => (true, true),
        // The artifacts a previous `cargo xtask release` made, tested again without rebuilding.
        [Some("--test-only")] => (false, true),
        _ => return Err(format!("release: unknown arguments {args:?} ({USAGE})")),
    };
    let started = Instant::now();
    let artifacts = if build_them { build()? } else { built()? };
    let built = started.elapsed();
    if !test_them {
        step(&format!("release: built in {:.0} s", built.as_secs_f64()));
        return Ok(());
    }
    let tested = Instant::now();
    let outcome = test::run(&artifacts);
    step(&format!(
        "release: built in {:.0} s, tested in {:.0} s",
        built.as_secs_f64(),
        tested.elapsed().as_secs_f64()
    ));
    outcome
}

/// The artifacts of an earlier build, for `--test-only`.
fn built() -> Result<Artifacts> {
    let target_dir = target_dir()?;
    let dir = target_dir.join("release-artifacts");
    let (windows, linux) = (dir.join(WINDOWS.artifact), dir.join(LINUX.artifact));
    for file in [&windows, &linux] {
        if !file.is_file() {
            return Err(format!("{} is missing: run cargo xtask release first", file.display()));
        }
    }
    step(&format!("testing the artifacts already in {}", dir.display()));
    Ok(Artifacts {
        dir,
        windows,
        linux,
        target_dir,
    })
}

/// The two binaries, built and copied into the artifacts folder.
pub(crate) struct Artifacts {
    pub(crate) dir: PathBuf,
    pub(crate) windows: PathBuf,
    pub(crate) linux: PathBuf,
    /// Cargo's target directory (CARGO_TARGET_DIR honoured): the tests work under it.
    pub(crate) target_dir: PathBuf,
}

fn build() -> Result<Artifacts> {
    ensure_rust_targets(&TARGETS.map(|t| t.triple))?;
    ensure_debian_packages(&TARGETS.map(|t| t.tool))?;
    // openssl-src (feature vendored-openssl) runs OpenSSL's own Configure (perl) and make.
    ensure_debian_packages(&OPENSSL_BUILD_TOOLS)?;
    let timed = Instant::now();
    dist()?;
    step(&format!(
        "the page (dist/) built in {:.0} s",
        timed.elapsed().as_secs_f64()
    ));
    let target_dir = target_dir()?;
    let dir = target_dir.join("release-artifacts");
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut copied = Vec::new();
    for target in TARGETS {
        let timed = Instant::now();
        let built = build_relay(target)?;
        step(&format!(
            "{} built in {:.0} s",
            target.triple,
            timed.elapsed().as_secs_f64()
        ));
        let to = dir.join(target.artifact);
        fs::copy(&built, &to).map_err(|e| format!("cannot copy {} to {}: {e}", built.display(), to.display()))?;
        copied.push(to);
    }
    write_checksums(&dir)?;
    print_sizes(&copied)?;
    let [windows, linux] = <[PathBuf; 2]>::try_from(copied).map_err(|_| "two binaries expected".to_string())?;
    Ok(Artifacts {
        dir,
        windows,
        linux,
        target_dir,
    })
}

/// `cargo build --release -p migcheck-relay --target T`, returning the binary's path.
fn build_relay(target: &Target) -> Result<PathBuf> {
    step(&format!(
        "cargo build --release -p migcheck-relay --target {} --features vendored-openssl",
        target.triple
    ));
    let mut command = cargo();
    command
        .args(["build", "--release", "-p", "migcheck-relay", "--target", target.triple])
        // OpenSSL (the second TLS client) built from source and linked in: nothing to install beside
        // the binary. Debug and test builds link the system's libssl instead, which builds in seconds.
        .args(["--features", "vendored-openssl"])
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped());
    for (key, value) in target.env {
        command.env(key, value);
    }
    let output = command
        .spawn()
        .and_then(|c| c.wait_with_output())
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo build for {} failed ({})", target.triple, output.status));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["target"]["name"] == "migcheck")
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
        .ok_or_else(|| {
            format!(
                "cargo built migcheck-relay for {} but named no executable",
                target.triple
            )
        })
}

/// Cargo's target directory, as cargo itself sees it (CARGO_TARGET_DIR, build.target-dir).
fn target_dir() -> Result<PathBuf> {
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start cargo metadata: {e}"))?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata named no target directory".into())
}

fn write_checksums(dir: &Path) -> Result {
    let names: Vec<&str> = TARGETS.iter().map(|t| t.artifact).collect();
    let output = Command::new("sha256sum")
        .args(&names)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot start sha256sum: {e}"))?;
    if !output.status.success() {
        return Err(format!("sha256sum failed ({})", output.status));
    }
    fs::write(dir.join("SHA256SUMS"), &output.stdout).map_err(|e| format!("cannot write SHA256SUMS: {e}"))
}

fn print_sizes(files: &[PathBuf]) -> Result {
    step(&format!(
        "release artifacts in {} (raw / gzip -9):",
        files
            .first()
            .and_then(|f| f.parent())
            .map(|d| d.display().to_string())
            .unwrap_or_default()
    ));
    for file in files {
        let bytes = fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let gzip = assets::gzip(&bytes)?.len();
        println!(
            "  {name:<28} {:>10} {:>10}   ({:.1} MB / {:.1} MB)",
            bytes.len(),
            gzip,
            bytes.len() as f64 / 1e6,
            gzip as f64 / 1e6
        );
    }
    Ok(())
}

/// `rustup target add` for the targets that are missing.
fn ensure_rust_targets(targets: &[&str]) -> Result {
    if !has_command("rustup") {
        step(&format!(
            "rustup not found: assuming the targets {} are installed",
            targets.join(", ")
        ));
        return Ok(());
    }
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot start rustup: {e}"))?;
    let installed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        step(&format!("rust targets present: {}", targets.join(", ")));
        return Ok(());
    }
    step(&format!("rustup target add {}", missing.join(" ")));
    let mut command = Command::new("rustup");
    command.args(["target", "add"]).args(&missing);
    run(command, "rustup target add")
}

/// `apt-get install` of the packages whose command is missing: (command, packages separated by spaces).
pub(crate) fn ensure_debian_packages(tools: &[(&str, &str)]) -> Result {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(command, _)| !has_command(command))
        .flat_map(|(_, packages)| packages.split_whitespace())
        .collect();
    if missing.is_empty() {
        let commands: Vec<&str> = tools.iter().map(|(c, _)| *c).collect();
        step(&format!("present: {}", commands.join(", ")));
        return Ok(());
    }
    step(&format!("missing {}: apt-get update", missing.join(", ")));
    let mut update = Command::new("apt-get");
    update.args(["update", "-q"]);
    run(update, "apt-get update")?;
    step(&format!("apt-get install -y {}", missing.join(" ")));
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-q"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(install, "apt-get install")?;
    let still: Vec<&str> = tools
        .iter()
        .filter(|(command, _)| !has_command(command))
        .map(|(command, _)| *command)
        .collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("still missing after apt-get install: {}", still.join(", ")))
    }
}
