//! The lab's servers never outlive the process that started them: the `migcheck-lab` binary cleans up
//! on SIGTERM, and on SIGKILL the kernel kills nginx and dnsmasq (PR_SET_PDEATHSIG), and the
//! Autodiscover servers: their nginx, and Apache (whose workers run as `nobody`) through its PID
//! namespace.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Started {
    child: Child,
    tls: SocketAddr,
    dns: SocketAddr,
    dir: PathBuf,
    /// autodiscover.healthy (nginx) and autodiscover.ntlmonly (Apache), port 443.
    ad_nginx: SocketAddr,
    ad_apache: SocketAddr,
}

/// Starts the binary and reads its table until it says it is running.
fn start_binary() -> Started {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migcheck-lab"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn migcheck-lab");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let running = line.starts_with("Running;");
            if tx.send(line).is_err() || running {
                break;
            }
        }
    });
    let (mut tls, mut dns, mut dir) = (None, None, None);
    let (mut ad_nginx, mut ad_apache) = (None, None);
    let mut seen = Vec::new();
    loop {
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => l,
            Err(e) => {
                let _ = child.kill();
                panic!(
                    "migcheck-lab did not report ready ({e}); output so far:\n{}",
                    seen.join("\n")
                );
            }
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Valid", "mail.contoso.test", addr] => tls = addr.parse().ok(),
            ["DNS", "(UDP+TCP)", addr] => dns = addr.parse().ok(),
            ["lab", "directory", path] => dir = Some(PathBuf::from(path)),
            ["autodiscover.healthy.adlab.test", addr, ..] => ad_nginx = format!("{addr}:443").parse().ok(),
            ["autodiscover.ntlmonly.adlab.test", addr, ..] => ad_apache = format!("{addr}:443").parse().ok(),
            _ => {}
        }
        let done = line.starts_with("Running;");
        seen.push(line);
        if done {
            break;
        }
    }
    let (Some(tls), Some(dns), Some(dir), Some(ad_nginx), Some(ad_apache)) = (tls, dns, dir, ad_nginx, ad_apache)
    else {
        let _ = child.kill();
        panic!("unexpected migcheck-lab output:\n{}", seen.join("\n"));
    };
    Started {
        child,
        tls,
        dns,
        dir,
        ad_nginx,
        ad_apache,
    }
}

fn answers(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Waits until nothing answers on `addr` any more.
fn wait_gone(addr: SocketAddr, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while answers(addr) {
        assert!(Instant::now() < deadline, "{what} on {addr} still answers");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn sigterm_stops_the_servers_and_removes_the_directory() {
    let mut s = start_binary();
    assert!(answers(s.tls) && answers(s.dns) && answers(s.ad_nginx) && answers(s.ad_apache));
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(s.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
    let exit = s.child.wait().expect("wait");
    assert!(exit.success(), "migcheck-lab exited with {exit}");
    wait_gone(s.tls, "nginx");
    wait_gone(s.dns, "dnsmasq");
    wait_gone(s.ad_nginx, "the Autodiscover nginx");
    wait_gone(s.ad_apache, "Apache");
    assert!(!s.dir.exists(), "{} was not removed", s.dir.display());
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn sigkill_of_the_parent_kills_nginx_and_dnsmasq() {
    let mut s = start_binary();
    assert!(answers(s.tls) && answers(s.dns) && answers(s.ad_nginx) && answers(s.ad_apache));
    s.child.kill().expect("SIGKILL");
    let _ = s.child.wait();
    wait_gone(s.tls, "nginx");
    wait_gone(s.dns, "dnsmasq");
    wait_gone(s.ad_nginx, "the Autodiscover nginx");
    wait_gone(s.ad_apache, "Apache (its workers run as nobody)");
    // The directory stays (nobody ran Drop); the next lab removes it since this pid is gone.
}
