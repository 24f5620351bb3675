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
    /// In public mode a name resolving to public and non-public addresses is refused before any is tried.
    pub async fn connect(
        &self,
        addrs: &[IpAddr],
        port: u16,
    ) -> Result<Connected, (NetError, Vec<(SocketAddr, NetError)>)> {
        let mut skipped: Vec<(SocketAddr, NetError)> = Vec::new();
        if let Err(refusal) = self.egress.check_resolution(addrs) {
            let addr = SocketAddr::new(addrs.first().copied().unwrap_or(IpAddr::from([0, 0, 0, 0])), port);
            let error = NetError::Refused { addr, refusal };
            crate::telemetry::refused(crate::telemetry::Refusal::Egress);
            return Err((error.clone(), vec![(addr, error)]));
        }
        for &ip in addrs {
            let addr = SocketAddr::new(ip, port);
            if let Err(refusal) = self.egress.check(addr) {
                crate::telemetry::refused(crate::telemetry::Refusal::Egress);
                skipped.push((addr, NetError::Refused { addr, refusal }));
                continue;
            }
            match timeout(self.timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    // Small request/response exchanges: do not wait for Nagle.
                    let _ = stream.set_nodelay(true);
                    crate::telemetry::outbound_connection();
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::net::{Dns, TrustStore};
    use crate::policy::{EgressPolicy, Refusal};

    #[tokio::test]
    async fn a_name_mixing_public_and_loopback_is_refused_before_any_connection() {
        let timeout = Duration::from_secs(1);
        // No port is allowed: were the name not refused whole, the public address would be refused by
        // port and the loopback one by range, so nothing can leave this machine either way.
        let net = Net::new(
            Arc::new(Dns::new(
                Some("127.0.0.1:9".parse().expect("addr")),
                timeout,
                vec![],
                vec![],
            )),
            EgressPolicy::public_default().with_ports(vec![]),
            Arc::new(TrustStore::load(None).expect("roots")),
            timeout,
        );
        let addrs: Vec<IpAddr> = vec!["127.0.0.1".parse().expect("ip"), "93.184.215.14".parse().expect("ip")];
        let Err((error, skipped)) = net.connect(&addrs, 443).await else {
            panic!("connected");
        };
        assert!(
            matches!(
                &error,
                NetError::Refused {
                    refusal: Refusal::MixedResolution { .. },
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("mixes public and non-public addresses"),
            "{error}"
        );
        assert_eq!(skipped.len(), 1, "{skipped:?}");
    }
}
