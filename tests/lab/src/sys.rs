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

/// Takes an exclusive `flock(2)` on `file` without waiting: `Ok(false)` when another open file (in
/// this or another process) holds it. The lock goes with the file descriptor: closing it, or the
/// process dying, releases it. (`File::try_lock` would do, but needs Rust 1.89; the MSRV is 1.88.)
pub(crate) fn try_flock(file: &std::fs::File) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock(2) on a file descriptor we own for the duration of the call; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

/// Sends SIGKILL to one process by id (the lab's own children's children only).
pub(crate) fn kill_pid(pid: u32) -> io::Result<()> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: kill(2) with a specific positive pid and a valid signal; no memory is passed.
    if unsafe { libc::kill(pid, libc::SIGKILL) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A two-thread tokio runtime for one of the lab's own servers; a failure to build it is reported on
/// `ready` (the caller then returns).
pub(crate) fn server_runtime(
    thread_name: &str,
    what: &str,
    ready: &std::sync::mpsc::Sender<Result<(), crate::LabError>>,
) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(thread_name)
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            let _ = ready.send(Err(crate::LabError::io(format!("building the {what} runtime"), e)));
            None
        }
    }
}

/// Waits until a server thread says it is ready; on a failure (or a thread that ended first) joins it
/// and returns the error.
pub(crate) fn await_ready(
    ready: std::sync::mpsc::Receiver<Result<(), crate::LabError>>,
    thread: std::thread::JoinHandle<()>,
    what: &str,
) -> Result<std::thread::JoinHandle<()>, crate::LabError> {
    match ready.recv() {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(crate::LabError::Setup(format!("{what} ended before it was ready")))
        }
    }
}
