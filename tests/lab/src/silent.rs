//! The `Silent` fixture: accepts TCP connections and never sends a byte, holding them open until the
//! lab stops (a firewall that drops after the handshake, or a hung server).

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// Connections held at most; past that the oldest is closed (tests open a handful).
const MAX_HELD: usize = 1024;

pub(crate) struct SilentServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SilentServer {
    /// Binds `ip:port` (port 0: any free port) and starts accepting.
    pub(crate) fn bind(ip: Ipv4Addr, port: u16) -> io::Result<SilentServer> {
        let listener = TcpListener::bind((ip, port))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("migcheck-lab-silent".into())
            .spawn(move || accept_loop(&listener, &stop2))?;
        Ok(SilentServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }
}

fn accept_loop(listener: &TcpListener, stop: &AtomicBool) {
    let mut held: Vec<TcpStream> = Vec::new();
    loop {
        let conn = listener.accept();
        if stop.load(Ordering::SeqCst) {
            return; // dropping `held` closes every connection
        }
        match conn {
            Ok((stream, _)) => {
                if held.len() >= MAX_HELD {
                    held.remove(0);
                }
                held.push(stream);
            }
            // e.g. EMFILE: do not spin
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
