//! An empty root for the static binary: nothing in it but the binary and the lab's CA.

use std::ffi::OsStr;
use std::fs::{self};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::lab::Lab;
use crate::Result;

pub(super) struct Chroot {
    pub(super) root: PathBuf,
    pub(super) original: PathBuf,
    pub(super) logs: PathBuf,
}

impl Chroot {
    /// A directory with only `/migcheck` and `/lab-ca.pem`: no libc, no loader, no /etc.
    pub(super) fn new(work: &Path, binary: &Path, lab: &Lab) -> Result<Chroot> {
        let root = work.join("empty-root");
        fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        fs::copy(binary, root.join("migcheck")).map_err(|e| format!("cannot copy {}: {e}", binary.display()))?;
        fs::copy(&lab.ca_file, root.join("lab-ca.pem")).map_err(|e| format!("cannot copy the lab CA: {e}"))?;
        let logs = work.join("logs").join("static");
        fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
        Ok(Chroot {
            root,
            original: binary.to_path_buf(),
            logs,
        })
    }

    /// `chroot ROOT /migcheck ARGS` with a bare environment.
    pub(super) fn command(&self, args: &[impl AsRef<OsStr>]) -> Command {
        // Debian keeps chroot in /usr/sbin, which a non-login PATH may lack.
        let chroot = ["/usr/sbin/chroot", "/sbin/chroot"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .unwrap_or("chroot");
        let mut command = Command::new(chroot);
        command.arg(&self.root).arg("/migcheck").args(args).env_clear();
        command
    }
}
