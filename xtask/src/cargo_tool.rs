//! Cargo subcommands the tasks install themselves (cargo-fuzz, cargo-deny), each pinned to one version:
//! another version may read its configuration (deny.toml) or build its targets differently.

use std::process::{Command, Stdio};

use super::{Result, run, step};

/// A cargo subcommand installed from crates.io: `cargo SUBCOMMAND` runs the crate's binary.
pub struct CargoTool {
    pub krate: &'static str,
    pub subcommand: &'static str,
    pub version: &'static str,
}

impl CargoTool {
    /// Installs the pinned version (`cargo install --locked --version`) unless `cargo SUBCOMMAND
    /// --version` already names it; cargo install replaces another installed version.
    pub fn ensure(&self) -> Result {
        let installed = Command::new("cargo")
            .args([self.subcommand, "--version"])
            .env_remove("CARGO")
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        match installed {
            Some(version) if version.split_whitespace().any(|word| word == self.version) => {
                step(&format!("{version}: present"));
                return Ok(());
            }
            Some(version) => step(&format!("{version} is installed, the tasks pin {}", self.version)),
            None => {}
        }
        step(&format!(
            "cargo install {} --locked --version {}",
            self.krate, self.version
        ));
        let mut install = Command::new("cargo");
        install
            .args(["install", self.krate, "--locked", "--version", self.version])
            .env_remove("CARGO");
        run(install, &format!("cargo install {}", self.krate))
    }
}
