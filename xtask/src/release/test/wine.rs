//! migcheck.exe under wine, in a fresh prefix made for one run.

use std::ffi::OsStr;
use std::fs::{self};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::{Output, run_for};
use crate::Result;
use crate::workspace;

pub(super) struct Wine {
    pub(super) prefix: PathBuf,
    pub(super) exe: PathBuf,
    pub(super) logs: PathBuf,
    /// The URLs the prefix's browser was asked to open (winebrowser runs a recording script).
    pub(super) browser_log: PathBuf,
}

impl Wine {
    /// A fresh prefix, the stand-in `bcryptprimitives.dll` in its system32, and a browser that records.
    pub(super) fn new(work: &Path, exe: &Path) -> Result<Wine> {
        let dir = work.join("wine");
        let wine = Wine {
            prefix: dir.join("prefix"),
            exe: exe.to_path_buf(),
            logs: work.join("logs").join("wine"),
            browser_log: dir.join("browser-opened.txt"),
        };
        fs::create_dir_all(&wine.logs).map_err(|e| e.to_string())?;
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut boot = wine.command();
        boot.args(["wineboot", "--init"]);
        run_for(boot, &wine.logs, "wineboot")?.expect_code(0)?;
        let system32 = wine.prefix.join("drive_c").join("windows").join("system32");
        if !system32.is_dir() {
            return Err(format!("wineboot made no {}", system32.display()));
        }
        let sources = workspace().join("tests").join("wine");
        // Built outside the folder wine runs in: Windows looks for DLLs in the current folder first,
        // and the test must prove the copy in system32 is found.
        let dll = work.join("stand-in").join("bcryptprimitives.dll");
        fs::create_dir_all(work.join("stand-in")).map_err(|e| e.to_string())?;
        let mut gcc = Command::new("x86_64-w64-mingw32-gcc");
        gcc.args(["-shared", "-O2", "-s", "-o"])
            .arg(&dll)
            .arg(sources.join("bcryptprimitives.c"))
            .arg(sources.join("bcryptprimitives.def"))
            .arg("-lbcrypt");
        run_for(gcc, &wine.logs, "stand-in-dll")?.expect_code(0)?;
        fs::copy(&dll, system32.join("bcryptprimitives.dll"))
            .map_err(|e| format!("cannot copy the stand-in DLL: {e}"))?;
        let recorder = dir.join("browser.sh");
        fs::write(
            &recorder,
            format!("#!/bin/sh\necho \"$1\" >> '{}'\n", wine.browser_log.display()),
        )
        .map_err(|e| e.to_string())?;
        let chmod = Command::new("chmod")
            .arg("+x")
            .arg(&recorder)
            .status()
            .map_err(|e| e.to_string())?;
        if !chmod.success() {
            return Err("chmod +x failed".into());
        }
        let mut reg = wine.command();
        reg.args([
            "reg",
            "add",
            "HKCU\\Software\\Wine\\WineBrowser",
            "/v",
            "Browsers",
            "/d",
        ])
        .arg(&recorder)
        .arg("/f");
        run_for(reg, &wine.logs, "reg-browser")?.expect_code(0)?;
        Ok(wine)
    }

    /// `wine` with this prefix, nothing downloaded, no display.
    pub(super) fn command(&self) -> Command {
        let mut command = Command::new("wine");
        command
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=d")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            // The Windows certificate store, not a PEM file, must be what --system-roots reads.
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .current_dir(self.prefix.parent().unwrap_or(&self.prefix));
        command
    }

    /// `wine migcheck.exe ARGS`.
    pub(super) fn exe(&self, args: &[impl AsRef<OsStr>], log: &str) -> Result<Output> {
        let mut command = self.command();
        command.arg(&self.exe).args(args);
        run_for(command, &self.logs, log)
    }

    /// Imports a DER root into the current user's Root store, as certmgr.msc's import does: the
    /// registry value `Blob` (a serialized CERT_CERT_PROP_ID property) under the SHA-1 thumbprint.
    pub(super) fn import_root(&self, der_file: &Path) -> Result {
        let der = fs::read(der_file).map_err(|e| format!("cannot read {}: {e}", der_file.display()))?;
        let fingerprint = Command::new("openssl")
            .args(["x509", "-inform", "der", "-noout", "-fingerprint", "-sha1", "-in"])
            .arg(der_file)
            .output()
            .map_err(|e| format!("cannot start openssl: {e}"))?;
        let thumbprint: String = String::from_utf8_lossy(&fingerprint.stdout)
            .split('=')
            .nth(1)
            .unwrap_or_default()
            .trim()
            .replace(':', "")
            .to_ascii_uppercase();
        if thumbprint.len() != 40 {
            return Err(format!("openssl gave no SHA-1 fingerprint for {}", der_file.display()));
        }
        const CERT_CERT_PROP_ID: u32 = 32;
        let mut blob = Vec::with_capacity(der.len() + 12);
        blob.extend(CERT_CERT_PROP_ID.to_le_bytes());
        blob.extend(1u32.to_le_bytes());
        blob.extend(u32::try_from(der.len()).map_err(|e| e.to_string())?.to_le_bytes());
        blob.extend(&der);
        let hex: String = blob.iter().map(|b| format!("{b:02x}")).collect();
        let key = format!("HKCU\\Software\\Microsoft\\SystemCertificates\\Root\\Certificates\\{thumbprint}");
        let mut reg = self.command();
        reg.args(["reg", "add", &key, "/v", "Blob", "/t", "REG_BINARY", "/d", &hex, "/f"]);
        run_for(reg, &self.logs, "reg-root")?.expect_code(0)
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        // Ends every process of this prefix (and its wineserver); other prefixes are untouched. Then the
        // prefix goes (some 700 MB); the logs stay.
        for flag in ["-k", "-w"] {
            let _ = Command::new("wineserver")
                .arg(flag)
                .env("WINEPREFIX", &self.prefix)
                .status();
        }
        let _ = fs::remove_dir_all(&self.prefix);
    }
}

/// `C:`-style path of a Unix path: wine maps `Z:` to `/`.
pub(super) fn win_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}
