//! TCP connect, through the egress policy, bounded in time.

use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{Net, NetError};

/// An open connection and what it took to get it.
pub struct Connected {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Addresses tried before this one, each with why it was not used.
    pub skipped: Vec<(SocketAddr, NetError)>,
}

impl Net {
    /// Connects to the first of `addrs` that the policy allows and that answers. When none works the
    /// error of the first allowed address is returned (or the policy refusal when all were refused).
    pub async fn connect(
        &self,
        addrs: &[IpAddr],
        port: u16,
    ) -> Result<Connected, (NetError, Vec<(SocketAddr, NetError)>)> {
        let mut skipped: Vec<(SocketAddr, NetError)> = Vec::new();
        for &ip in addrs {
            let addr = SocketAddr::new(ip, port);
            if let Err(refusal) = self.egress.check(addr) {
                skipped.push((addr, NetError::Refused { addr, refusal }));
                continue;
            }
            match timeout(self.timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    // Small request/response exchanges: do not wait for Nagle.
                    let _ = stream.set_nodelay(true);
                    return Ok(Connected {
                        stream,
                        peer: addr,
                        skipped,
                    });
                }
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    skipped.push((addr, NetError::ConnectionRefused { addr }));
                }
                Ok(Err(e)) => skipped.push((
                    addr,
                    NetError::Connect {
                        addr,
                        reason: e.to_string(),
                    },
                )),
                Err(_) => skipped.push((
                    addr,
                    NetError::ConnectTimeout {
                        addr,
                        secs: self.timeout.as_secs(),
                    },
                )),
            }
        }
        let first = skipped
            .iter()
            .find(|(_, e)| !matches!(e, NetError::Refused { .. }))
            .or(skipped.first())
            .map(|(_, e)| e.clone())
            .unwrap_or(NetError::NoAddress {
                host: String::from("(no address)"),
            });
        Err((first, skipped))
    }
}
