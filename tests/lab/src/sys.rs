//! The lab's only unsafe code: two libc calls that std does not wrap.
//!
//! The workspace denies `unsafe_code`; it is allowed here because tying a child's life to ours needs
//! `prctl(PR_SET_PDEATHSIG)` between fork and exec (`CommandExt::pre_exec` is unsafe by definition),
//! and choosing dnsmasq's `--user` needs the effective uid.
#![allow(unsafe_code)]

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

/// Spawns `cmd` so that the kernel SIGKILLs it when the spawning thread ends (or the process dies).
/// Spawn from a thread that lives as long as the child should.
pub(crate) fn spawn_tied(cmd: &mut Command) -> io::Result<Child> {
    // SAFETY: the closure runs in the forked child before exec; it only calls prctl(2), which is
    // async-signal-safe, and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// Whether this process runs as root (dnsmasq then needs `--user=root`, or it drops to a user that
/// may not exist here).
pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
