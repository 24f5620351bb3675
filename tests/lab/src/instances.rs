//! Several relays as a hosting provider runs them (deploy/compose.yaml), as processes on loopback: a
//! real Redis (Debian's `redis-server`) that their rate limit shares, and a real nginx in front that
//! spreads the requests over them round robin and tells them the client in `X-Forwarded-For`.
//!
//! Start them from a thread that lives as long as the returned values (a test's own): they get
//! `PR_SET_PDEATHSIG` tied to it, and are killed when dropped.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::nginx::quote;
use crate::servers::{POLL, READY_TIMEOUT, log_file, spawn_nginx, stop, tail, write};
use crate::{LabError, sys};

/// The header nginx adds to every answer: which relay (`127.0.0.1:PORT`) gave it.
pub const SERVED_BY: &str = "x-served-by";

const ATTEMPTS: usize = 8;

/// A `redis-server` on `127.0.0.1`, no persistence; stopped and started again on the same port at will.
pub struct RedisServer {
    child: Option<Child>,
    dir: PathBuf,
    addr: SocketAddr,
}

impl RedisServer {
    pub fn start() -> Result<RedisServer, LabError> {
        let dir = crate::make_lab_dir()?.join("redis");
        std::fs::create_dir_all(&dir).map_err(|e| LabError::io(format!("creating {}", dir.display()), e))?;
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let addr = free_port()?;
            let mut server = RedisServer {
                child: None,
                dir: dir.clone(),
                addr,
            };
            match server.start_again() {
                Ok(()) => return Ok(server),
                Err(e) if e.to_string().contains("Address already in use") => last = e.to_string(),
                Err(e) => return Err(e),
            }
        }
        Err(LabError::Setup(format!(
            "redis-server found no free port; last:\n{last}"
        )))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What `--rate-limit-store` takes.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Kills it (SIGKILL: as a crashed or unplugged store, nothing said to the clients).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child);
        }
    }

    /// Starts it (again) on its port, empty, and returns once it answers PING.
    pub fn start_again(&mut self) -> Result<(), LabError> {
        self.stop();
        let log = self.dir.join("redis.log");
        let _ = std::fs::remove_file(&log);
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--port", &self.addr.port().to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(log_file(&self.dir.join("redis.stdout"))?)
            .stderr(log_file(&self.dir.join("redis.stderr"))?);
        let mut child = sys::spawn_tied(&mut cmd)
            .map_err(|e| LabError::io("starting redis-server (is it installed? Debian: redis-server)", e))?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|e| LabError::io("waiting for redis-server", e))?
            {
                return Err(LabError::Setup(format!(
                    "redis-server exited ({status}) before it was ready:\n{}",
                    tail(&log, 20)
                )));
            }
            if answers_ping(self.addr) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                stop(&mut child);
                return Err(LabError::Setup(format!(
                    "redis-server did not answer on {} within {READY_TIMEOUT:?}:\n{}",
                    self.addr,
                    tail(&log, 20)
                )));
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An nginx that spreads requests round robin over `backends` (HTTP), one try each (no retry on the
/// other backend), and says in [`SERVED_BY`] which one answered.
pub struct Balancer {
    child: Child,
    addr: SocketAddr,
}

impl Balancer {
    pub fn start(backends: &[SocketAddr]) -> Result<Balancer, LabError> {
        let dir = crate::make_lab_dir()?.join("balancer");
        for d in [dir.join("logs"), dir.join("tmp")] {
            std::fs::create_dir_all(&d).map_err(|e| LabError::io(format!("creating {}", d.display()), e))?;
        }
        let error_log = dir.join("logs").join("error.log");
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let addr = free_port()?;
            let conf = dir.join("nginx.conf");
            write(&conf, balancer_config(&dir, addr, backends))?;
            let _ = std::fs::remove_file(&error_log);
            let mut child = spawn_nginx(&dir, &conf, &error_log)?;
            let deadline = Instant::now() + READY_TIMEOUT;
            loop {
                if let Some(status) = child.try_wait().map_err(|e| LabError::io("waiting for nginx", e))? {
                    last = tail(&error_log, 20);
                    if last.contains("Address already in use") {
                        break;
                    }
                    return Err(LabError::Setup(format!("nginx (balancer) exited ({status}):\n{last}")));
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Ok(Balancer { child, addr });
                }
                if Instant::now() > deadline {
                    stop(&mut child);
                    return Err(LabError::Setup(format!(
                        "nginx (balancer) did not listen on {addr}:\n{}",
                        tail(&error_log, 20)
                    )));
                }
                std::thread::sleep(POLL);
            }
        }
        Err(LabError::Setup(format!(
            "nginx (balancer) found no free port; last:\n{last}"
        )))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// The reverse proxy of deploy/compose.yaml: X-Forwarded-For is SET to the client's address (the edge
/// believes no header from the internet); the relays trust the proxy's address (`--trusted-proxy`).
fn balancer_config(dir: &Path, listen: SocketAddr, backends: &[SocketAddr]) -> String {
    let q = |p: &Path| quote(&p.display().to_string());
    let mut c = String::new();
    let _ = writeln!(
        c,
        "# generated by migcheck-lab: a load balancer in front of several relays"
    );
    let _ = writeln!(c, "master_process off;\ndaemon off;");
    let _ = writeln!(c, "pid {};", q(&dir.join("nginx.pid")));
    let _ = writeln!(c, "events {{ worker_connections 256; }}");
    let _ = writeln!(c, "http {{");
    let _ = writeln!(c, "    access_log {};", q(&dir.join("logs").join("access.log")));
    for t in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        let _ = writeln!(c, "    {t}_temp_path {};", q(&dir.join("tmp").join(t)));
    }
    let _ = writeln!(c, "    upstream relays {{");
    for b in backends {
        let _ = writeln!(c, "        server {b};");
    }
    let _ = writeln!(c, "    }}");
    let _ = writeln!(c, "    server {{");
    let _ = writeln!(c, "        listen {listen};");
    let _ = writeln!(c, "        location / {{");
    let _ = writeln!(c, "            proxy_pass http://relays;");
    let _ = writeln!(c, "            proxy_set_header X-Forwarded-For $remote_addr;");
    let _ = writeln!(c, "            proxy_buffering off;");
    let _ = writeln!(c, "            proxy_next_upstream off;");
    let _ = writeln!(c, "            add_header X-Served-By $upstream_addr always;");
    let _ = writeln!(c, "        }}");
    let _ = writeln!(c, "    }}");
    let _ = writeln!(c, "}}");
    c
}

/// A port free on 127.0.0.1 at this moment.
fn free_port() -> Result<SocketAddr, LabError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map_err(|e| LabError::io("finding a free port on 127.0.0.1", e))
}

fn answers_ping(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}
