//! A minimal TLS 1.0/1.1 ClientHello, to learn which old version a server speaks. rustls speaks only
//! TLS 1.2 and 1.3, so when its handshake is refused this asks the question the other way round: "would
//! you speak TLS 1.1 or 1.0?". Only the ServerHello's version is read; the handshake goes no further.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{Net, NetError};

/// What a server said to a ClientHello offering TLS 1.0 and 1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyAnswer {
    /// It chose this version (`TLS 1.0`, `TLS 1.1`...).
    Chose(&'static str),
    /// It refused with an alert (its description code).
    Alert(u8),
    /// It closed the connection or sent something else.
    Nothing,
}

// Cipher suites a TLS 1.0/1.1 server offers: ECDHE and RSA key exchange with AES-CBC, then 3DES.
const SUITES: &[u16] = &[0xC014, 0xC013, 0xC00A, 0xC009, 0x0035, 0x002F, 0x000A];

fn client_hello(host: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(160);
    body.extend_from_slice(&[0x03, 0x02]); // client_version: TLS 1.1
    let mut random = [0u8; 32];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    body.extend_from_slice(&random);
    body.push(0); // no session id
    body.extend_from_slice(&((SUITES.len() * 2) as u16).to_be_bytes());
    for s in SUITES {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    let mut ext = Vec::new();
    if host.parse::<std::net::IpAddr>().is_err() && host.len() < 256 {
        let name = host.as_bytes();
        let list_len = name.len() + 3;
        ext.extend_from_slice(&[0x00, 0x00]);
        ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(list_len as u16).to_be_bytes());
        ext.push(0); // host_name
        ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        ext.extend_from_slice(name);
    }
    // supported_groups: secp256r1, secp384r1; ec_point_formats: uncompressed; renegotiation_info.
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18]);
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    ext.extend_from_slice(&[0xff, 0x01, 0x00, 0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);

    let mut handshake = vec![0x01]; // ClientHello
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01]; // handshake record, TLS 1.0 framing
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// Reads the answer's first record header and enough of it to know the version or the alert.
pub fn read_answer(bytes: &[u8]) -> LegacyAnswer {
    match bytes {
        // handshake record; ServerHello (2) whose server_version follows the 4-byte handshake header
        [0x16, 0x03, _, _, _, 0x02, _, _, _, 0x03, minor, ..] => LegacyAnswer::Chose(match minor {
            0 => "SSL 3.0",
            1 => "TLS 1.0",
            2 => "TLS 1.1",
            3 => "TLS 1.2",
            _ => "a newer TLS",
        }),
        [0x15, 0x03, _, _, _, _level, description, ..] => LegacyAnswer::Alert(*description),
        _ => LegacyAnswer::Nothing,
    }
}

impl Net {
    /// Sends the legacy ClientHello on a fresh connection to `peer` (vetted by the egress policy).
    pub async fn legacy_tls(&self, peer: SocketAddr, host: &str) -> Result<LegacyAnswer, NetError> {
        let connected = self.connect(&[peer.ip()], peer.port()).await.map_err(|(e, _)| e)?;
        let mut stream: TcpStream = connected.stream;
        let exchange = async {
            stream.write_all(&client_hello(host)).await?;
            let mut buf = [0u8; 11];
            let mut got = 0;
            while got < buf.len() {
                match stream.read(&mut buf[got..]).await? {
                    0 => break,
                    n => got += n,
                }
            }
            Ok::<_, std::io::Error>(read_answer(&buf[..got]))
        };
        match timeout(self.timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Ok(LegacyAnswer::Nothing),
            Err(_) => Err(NetError::TlsTimeout {
                addr: peer,
                secs: self.timeout.as_secs(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_is_a_well_formed_record() {
        let hello = client_hello("oldtls.contoso.test");
        assert_eq!(&hello[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(u16::from_be_bytes([hello[3], hello[4]]) as usize, hello.len() - 5);
        assert_eq!(hello[5], 0x01);
        assert_eq!(&hello[9..11], &[0x03, 0x02]);
        assert!(hello.windows(19).any(|w| w == b"oldtls.contoso.test"));
    }

    #[test]
    fn answers_are_read_from_their_first_bytes() {
        // A TLS 1.1 ServerHello as OpenSSL sends it, and a protocol_version alert.
        assert_eq!(
            read_answer(&[0x16, 0x03, 0x02, 0x00, 0x51, 0x02, 0x00, 0x00, 0x4d, 0x03, 0x02]),
            LegacyAnswer::Chose("TLS 1.1")
        );
        assert_eq!(
            read_answer(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]),
            LegacyAnswer::Alert(70)
        );
        assert_eq!(read_answer(b"HTTP/1.1 400"), LegacyAnswer::Nothing);
        assert_eq!(read_answer(&[]), LegacyAnswer::Nothing);
    }
}
