//! `cargo xtask check`: the gates every change passes before the tests run. Formatting (the workspace,
//! and the fuzz workspace beside it, which `cargo fmt --all` does not reach), clippy with warnings as
//! errors (the host crates with their tests, and the page as it is built, for wasm32), and cargo-deny's
//! licence, ban and source checks against `deny.toml`.
//!
//! Every gate runs even when one before it failed, so one run names them all. cargo-deny's advisories
//! check is left out: it needs the RustSec database from github.com, which the CI machines cannot
//! reach.

use std::process::Command;
use std::time::Instant;

use super::cargo_tool::CargoTool;
use super::{FRONTEND, Result, WASM_TARGET, cargo, ensure_rustup, ensure_wasm_target, run, step, workspace};

/// Installed when `cargo deny` is missing or another version: its deny.toml schema changes between
/// releases.
const CARGO_DENY: CargoTool = CargoTool {
    krate: "cargo-deny",
    subcommand: "deny",
    version: "0.20.2",
};

/// One gate: the command line it stands for, and the function that runs it.
struct Gate {
    what: &'static str,
    run: fn() -> Result,
}

const GATES: &[Gate] = &[
    Gate {
        what: "cargo fmt --all --check",
        run: fmt_workspace,
    },
    Gate {
        what: "cargo fmt --all --check --manifest-path fuzz/Cargo.toml",
        run: fmt_fuzz,
    },
    Gate {
        what: "cargo clippy --workspace --all-targets -- -D warnings",
        run: clippy_host,
    },
    Gate {
        what: "cargo clippy -p migcheck-frontend --target wasm32-unknown-unknown --all-targets -- -D warnings",
        run: clippy_wasm,
    },
    Gate {
        what: "cargo deny check licenses bans sources",
        run: deny,
    },
];

pub fn run_all() -> Result {
    let started = Instant::now();
    // rustup's default profile has both; a minimal one (as some CI images use) has neither.
    for component in ["rustfmt", "clippy"] {
        ensure_rustup("component", component)?;
    }
    let mut failed = Vec::new();
    for gate in GATES {
        step(gate.what);
        let gate_started = Instant::now();
        let outcome = (gate.run)();
        let took = gate_started.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => step(&format!("passed in {took:.0} s: {}", gate.what)),
            Err(e) => {
                step(&format!("FAILED in {took:.0} s: {e}"));
                failed.push(gate.what);
            }
        }
    }
    println!(
        "check: {} of {} gates passed in {:.0} s",
        GATES.len() - failed.len(),
        GATES.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("the gates failed: {}", failed.join("; ")))
    }
}

fn fmt_workspace() -> Result {
    let mut command = cargo();
    command.args(["fmt", "--all", "--check"]);
    run(command, "cargo fmt --check")
}

/// The fuzz targets are a workspace of their own (excluded from ours), formatted with the same
/// rustfmt.toml: rustfmt looks for it upwards from each file.
fn fmt_fuzz() -> Result {
    let mut command = cargo();
    command
        .args(["fmt", "--all", "--check", "--manifest-path"])
        .arg(workspace().join("fuzz").join("Cargo.toml"));
    run(command, "cargo fmt --check of fuzz/")
}

fn clippy_host() -> Result {
    let mut command = cargo();
    command.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    run(command, "cargo clippy")
}

/// The page's wasm32-only code (its entry point, under `cfg(target_arch = "wasm32")`) is never
/// compiled for the host.
fn clippy_wasm() -> Result {
    ensure_wasm_target()?;
    let mut command = cargo();
    command
        .args(["clippy", "-p", FRONTEND, "--target", WASM_TARGET, "--all-targets"])
        .args(["--", "-D", "warnings"]);
    run(command, "cargo clippy of the page (wasm32)")
}

fn deny() -> Result {
    CARGO_DENY.ensure()?;
    let mut command = Command::new("cargo");
    command
        .args(["deny", "--locked", "check", "licenses", "bans", "sources"])
        .current_dir(workspace())
        .env_remove("CARGO");
    run(command, "cargo deny check")
}
