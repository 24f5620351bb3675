//! RTS and DCE/RPC connection-oriented PDUs: what migcheck sends (CONN/A1, CONN/B1, bind) and what it
//! reads (CONN/A3, CONN/C2, echo, bind_ack, bind_nak, fault). All little-endian ([MS-RPCH] 2.2.3,
//! C706 chapter 12). Reading never trusts a length it was given: every field is bounds-checked.

/// A 16-byte cookie (virtual connection, channel, association group).
pub type Cookie = [u8; 16];

const RPC_VERSION: u8 = 5;
const PFC_FIRST_LAST: u8 = 0x03;
/// Little-endian integers, ASCII, IEEE floats.
const DREP: [u8; 4] = [0x10, 0, 0, 0];
const MAX_FRAG: u16 = 4280;

/// PDU types ([C706] 12.1).
pub mod ptype {
    pub const REQUEST: u8 = 0x00;
    pub const RESPONSE: u8 = 0x02;
    pub const FAULT: u8 = 0x03;
    pub const BIND: u8 = 0x0B;
    pub const BIND_ACK: u8 = 0x0C;
    pub const BIND_NAK: u8 = 0x0D;
    pub const RTS: u8 = 0x14;
}

/// RTS flags ([MS-RPCH] 2.2.3.6.1).
pub mod rts_flags {
    pub const NONE: u16 = 0x0;
    pub const PING: u16 = 0x1;
    pub const OTHER_CMD: u16 = 0x2;
    pub const RECYCLE_CHANNEL: u16 = 0x4;
    pub const IN_CHANNEL: u16 = 0x8;
    pub const OUT_CHANNEL: u16 = 0x10;
    pub const EOF: u16 = 0x20;
    pub const ECHO: u16 = 0x40;
}

/// One RTS command ([MS-RPCH] 2.2.3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtsCommand {
    ReceiveWindowSize(u32),
    FlowControlAck {
        bytes_received: u32,
        available_window: u32,
        channel_cookie: Cookie,
    },
    ConnectionTimeout(u32),
    Cookie(Cookie),
    ChannelLifetime(u32),
    ClientKeepalive(u32),
    Version(u32),
    Empty,
    Padding(u32),
    NegativeAnce,
    Ance,
    ClientAddress(std::net::IpAddr),
    AssociationGroupId(Cookie),
    Destination(u32),
    PingTrafficSentNotify(u32),
}

/// An RTS PDU: its flags and commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rts {
    pub flags: u16,
    pub commands: Vec<RtsCommand>,
}

/// Why bytes could not be read as a PDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PduError {
    /// Fewer bytes than the header or a field needs.
    #[error("the PDU is cut short ({0})")]
    Truncated(&'static str),
    /// Not DCE/RPC version 5, or not little-endian.
    #[error("not a DCE/RPC 5 PDU ({0})")]
    NotRpc(&'static str),
    /// A PDU type or command that is not the one expected here.
    #[error("unexpected PDU: {0}")]
    Unexpected(String),
}

fn header(ptype: u8, frag_len: u16, call_id: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(frag_len as usize);
    out.extend_from_slice(&[RPC_VERSION, 0, ptype, PFC_FIRST_LAST]);
    out.extend_from_slice(&DREP);
    out.extend_from_slice(&frag_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // auth_length
    out.extend_from_slice(&call_id.to_le_bytes());
    out
}

impl RtsCommand {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut put = |kind: u32, body: &[u8]| {
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(body);
        };
        match self {
            RtsCommand::ReceiveWindowSize(v) => put(0, &v.to_le_bytes()),
            RtsCommand::FlowControlAck {
                bytes_received,
                available_window,
                channel_cookie,
            } => {
                let mut b = Vec::with_capacity(24);
                b.extend_from_slice(&bytes_received.to_le_bytes());
                b.extend_from_slice(&available_window.to_le_bytes());
                b.extend_from_slice(channel_cookie);
                put(1, &b)
            }
            RtsCommand::ConnectionTimeout(v) => put(2, &v.to_le_bytes()),
            RtsCommand::Cookie(c) => put(3, c),
            RtsCommand::ChannelLifetime(v) => put(4, &v.to_le_bytes()),
            RtsCommand::ClientKeepalive(v) => put(5, &v.to_le_bytes()),
            RtsCommand::Version(v) => put(6, &v.to_le_bytes()),
            RtsCommand::Empty => put(7, &[]),
            RtsCommand::Padding(n) => {
                let mut b = n.to_le_bytes().to_vec();
                b.resize(4 + *n as usize, 0);
                put(8, &b)
            }
            RtsCommand::NegativeAnce => put(9, &[]),
            RtsCommand::Ance => put(10, &[]),
            RtsCommand::ClientAddress(addr) => {
                let mut b = Vec::new();
                match addr {
                    std::net::IpAddr::V4(v4) => {
                        b.extend_from_slice(&0u32.to_le_bytes());
                        b.extend_from_slice(&v4.octets());
                    }
                    std::net::IpAddr::V6(v6) => {
                        b.extend_from_slice(&1u32.to_le_bytes());
                        b.extend_from_slice(&v6.octets());
                    }
                }
                b.extend_from_slice(&[0; 12]);
                put(11, &b)
            }
            RtsCommand::AssociationGroupId(c) => put(12, c),
            RtsCommand::Destination(v) => put(13, &v.to_le_bytes()),
            RtsCommand::PingTrafficSentNotify(v) => put(14, &v.to_le_bytes()),
        }
    }
}

impl Rts {
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&self.flags.to_le_bytes());
        body.extend_from_slice(&(self.commands.len() as u16).to_le_bytes());
        for c in &self.commands {
            c.encode(&mut body);
        }
        let mut out = header(ptype::RTS, (16 + body.len()) as u16, 0);
        out.extend_from_slice(&body);
        out
    }

    /// CONN/A1, sent on the OUT channel ([MS-RPCH] 2.2.4.2).
    pub fn conn_a1(connection: Cookie, out_channel: Cookie, receive_window: u32) -> Self {
        Rts {
            flags: rts_flags::NONE,
            commands: vec![
                RtsCommand::Version(1),
                RtsCommand::Cookie(connection),
                RtsCommand::Cookie(out_channel),
                RtsCommand::ReceiveWindowSize(receive_window),
            ],
        }
    }

    /// CONN/B1, sent on the IN channel ([MS-RPCH] 2.2.4.5).
    pub fn conn_b1(connection: Cookie, in_channel: Cookie, association_group: Cookie) -> Self {
        Rts {
            flags: rts_flags::NONE,
            commands: vec![
                RtsCommand::Version(1),
                RtsCommand::Cookie(connection),
                RtsCommand::Cookie(in_channel),
                RtsCommand::ChannelLifetime(0x4000_0000),
                RtsCommand::ClientKeepalive(300_000),
                RtsCommand::AssociationGroupId(association_group),
            ],
        }
    }

    /// The echo request and the proxy's answer to it.
    pub fn echo() -> Self {
        Rts {
            flags: rts_flags::ECHO,
            commands: Vec::new(),
        }
    }

    /// Reads an RTS PDU.
    pub fn decode(bytes: &[u8]) -> Result<Self, PduError> {
        let head = Header::read(bytes)?;
        if head.ptype != ptype::RTS {
            return Err(PduError::Unexpected(format!(
                "PDU type 0x{:02x}, expected RTS",
                head.ptype
            )));
        }
        let body = head.body(bytes)?;
        let mut r = Reader { bytes: body, at: 0 };
        let flags = r.u16("RTS flags")?;
        let count = r.u16("RTS command count")?;
        let mut commands = Vec::new();
        for _ in 0..count {
            let kind = r.u32("RTS command type")?;
            commands.push(match kind {
                0 => RtsCommand::ReceiveWindowSize(r.u32("ReceiveWindowSize")?),
                1 => RtsCommand::FlowControlAck {
                    bytes_received: r.u32("FlowControlAck")?,
                    available_window: r.u32("FlowControlAck")?,
                    channel_cookie: r.cookie("FlowControlAck cookie")?,
                },
                2 => RtsCommand::ConnectionTimeout(r.u32("ConnectionTimeout")?),
                3 => RtsCommand::Cookie(r.cookie("Cookie")?),
                4 => RtsCommand::ChannelLifetime(r.u32("ChannelLifetime")?),
                5 => RtsCommand::ClientKeepalive(r.u32("ClientKeepalive")?),
                6 => RtsCommand::Version(r.u32("Version")?),
                7 => RtsCommand::Empty,
                8 => {
                    let n = r.u32("Padding")?;
                    r.skip(n as usize, "Padding bytes")?;
                    RtsCommand::Padding(n)
                }
                9 => RtsCommand::NegativeAnce,
                10 => RtsCommand::Ance,
                11 => {
                    let family = r.u32("ClientAddress family")?;
                    let addr = match family {
                        0 => {
                            let b = r.take(4, "ClientAddress IPv4")?;
                            std::net::IpAddr::from([b[0], b[1], b[2], b[3]])
                        }
                        1 => {
                            let mut o = [0u8; 16];
                            o.copy_from_slice(r.take(16, "ClientAddress IPv6")?);
                            std::net::IpAddr::from(o)
                        }
                        other => return Err(PduError::Unexpected(format!("ClientAddress family {other}"))),
                    };
                    r.skip(12, "ClientAddress padding")?;
                    RtsCommand::ClientAddress(addr)
                }
                12 => RtsCommand::AssociationGroupId(r.cookie("AssociationGroupId")?),
                13 => RtsCommand::Destination(r.u32("Destination")?),
                14 => RtsCommand::PingTrafficSentNotify(r.u32("PingTrafficSentNotify")?),
                other => return Err(PduError::Unexpected(format!("RTS command type {other}"))),
            });
        }
        Ok(Rts { flags, commands })
    }
}

/// The common 16-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub ptype: u8,
    pub flags: u8,
    pub frag_len: u16,
    pub auth_len: u16,
    pub call_id: u32,
}

impl Header {
    pub const LEN: usize = 16;

    /// Reads the header; `frag_len` tells how many bytes the whole PDU has.
    pub fn read(bytes: &[u8]) -> Result<Self, PduError> {
        let Some(h) = bytes.get(..Self::LEN) else {
            return Err(PduError::Truncated("header"));
        };
        if h[0] != RPC_VERSION || h[1] != 0 {
            return Err(PduError::NotRpc("version"));
        }
        if h[4] & 0xF0 != 0x10 {
            return Err(PduError::NotRpc("big-endian data representation"));
        }
        let frag_len = u16::from_le_bytes([h[8], h[9]]);
        if (frag_len as usize) < Self::LEN {
            return Err(PduError::NotRpc("fragment length shorter than the header"));
        }
        Ok(Header {
            ptype: h[2],
            flags: h[3],
            frag_len,
            auth_len: u16::from_le_bytes([h[10], h[11]]),
            call_id: u32::from_le_bytes([h[12], h[13], h[14], h[15]]),
        })
    }

    /// The body after the header (up to `frag_len`).
    pub fn body<'a>(&self, bytes: &'a [u8]) -> Result<&'a [u8], PduError> {
        bytes
            .get(Self::LEN..self.frag_len as usize)
            .ok_or(PduError::Truncated("body shorter than its fragment length"))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PduError> {
        let end = self.at.checked_add(n).ok_or(PduError::Truncated(what))?;
        let slice = self.bytes.get(self.at..end).ok_or(PduError::Truncated(what))?;
        self.at = end;
        Ok(slice)
    }

    fn skip(&mut self, n: usize, what: &'static str) -> Result<(), PduError> {
        self.take(n, what).map(|_| ())
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, PduError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, PduError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, PduError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn cookie(&mut self, what: &'static str) -> Result<Cookie, PduError> {
        let mut c = [0u8; 16];
        c.copy_from_slice(self.take(16, what)?);
        Ok(c)
    }
}

/// An interface: UUID (as written, `a4f1db00-ca47-1067-b31f-00dd010662da`) and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    pub uuid: [u8; 16],
    pub major: u16,
    pub minor: u16,
}

impl Interface {
    /// Parses the text form into the wire form (the first three fields little-endian).
    pub const fn new(text: &[u8; 36], major: u16, minor: u16) -> Self {
        const fn nibble(c: u8) -> u8 {
            match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => 0,
            }
        }
        // Text positions of the 16 bytes, in text order.
        const POS: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
        let mut raw = [0u8; 16];
        let mut i = 0;
        while i < 16 {
            raw[i] = nibble(text[POS[i]]) << 4 | nibble(text[POS[i] + 1]);
            i += 1;
        }
        let uuid = [
            raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6], raw[8], raw[9], raw[10], raw[11], raw[12],
            raw[13], raw[14], raw[15],
        ];
        Interface { uuid, major, minor }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.uuid);
        out.extend_from_slice(&self.major.to_le_bytes());
        out.extend_from_slice(&self.minor.to_le_bytes());
    }
}

/// The mail store (port 6001).
pub const EMSMDB: Interface = Interface::new(b"a4f1db00-ca47-1067-b31f-00dd010662da", 0, 81);
/// The address book referral (port 6002).
pub const RFR: Interface = Interface::new(b"1544f5e0-613c-11d1-93df-00c04fd7bd09", 1, 0);
/// The address book (port 6004).
pub const NSPI: Interface = Interface::new(b"f5cc5a18-4264-101a-8c59-08002b2f8426", 56, 0);
/// NDR transfer syntax.
pub const NDR: Interface = Interface::new(b"8a885d04-1ceb-11c9-9fe8-08002b104860", 2, 0);

/// A bind of one interface with the NDR transfer syntax (context 0).
pub fn bind(interface: Interface, call_id: u32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&MAX_FRAG.to_le_bytes());
    body.extend_from_slice(&MAX_FRAG.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes()); // assoc_group: a new one
    body.extend_from_slice(&[1, 0, 0, 0]); // one context, 3 reserved
    body.extend_from_slice(&0u16.to_le_bytes()); // ctx_id
    body.extend_from_slice(&[1, 0]); // one transfer syntax, reserved
    interface.encode(&mut body);
    NDR.encode(&mut body);
    let mut out = header(ptype::BIND, (16 + body.len()) as u16, call_id);
    out.extend_from_slice(&body);
    out
}

/// What a bind got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAnswer {
    /// bind_ack: the secondary address (the endpoint, e.g. "6001") and each context's result.
    Ack {
        secondary_address: String,
        results: Vec<(u16, u16)>,
    },
    /// bind_nak with its reject reason.
    Nak { reason: u16 },
    /// fault with its status (0x6BA: the RPC server cannot be reached).
    Fault { status: u32 },
}

impl BindAnswer {
    /// Reads the answer to a bind.
    pub fn decode(bytes: &[u8]) -> Result<Self, PduError> {
        let head = Header::read(bytes)?;
        let body = head.body(bytes)?;
        let mut r = Reader { bytes: body, at: 0 };
        match head.ptype {
            ptype::BIND_ACK => {
                r.skip(8, "bind_ack max_xmit/max_recv/assoc_group")?;
                let len = r.u16("secondary address length")? as usize;
                let addr = r.take(len, "secondary address")?;
                let secondary_address = String::from_utf8_lossy(addr).trim_end_matches('\0').to_string();
                // Pad to 4 bytes from the start of the PDU (header 16 + 8 + 2 + len).
                let pad = (4 - (16 + 10 + len) % 4) % 4;
                r.skip(pad, "secondary address padding")?;
                let n = r.u8("result count")?;
                r.skip(3, "result count padding")?;
                let mut results = Vec::new();
                for _ in 0..n {
                    let result = r.u16("result")?;
                    let reason = r.u16("reason")?;
                    r.skip(20, "transfer syntax")?;
                    results.push((result, reason));
                }
                Ok(BindAnswer::Ack {
                    secondary_address,
                    results,
                })
            }
            ptype::BIND_NAK => Ok(BindAnswer::Nak {
                reason: r.u16("reject reason")?,
            }),
            ptype::FAULT => {
                r.skip(8, "fault alloc_hint/ctx_id/cancel_count")?;
                Ok(BindAnswer::Fault {
                    status: r.u32("fault status")?,
                })
            }
            other => Err(PduError::Unexpected(format!(
                "PDU type 0x{other:02x} in answer to a bind"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of ../shared/design/rpch-vectors.txt (CONN/A1 and B1 captured from Outlook).
    fn hex(text: &str) -> Vec<u8> {
        text.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).expect("hex"))
            .collect()
    }

    const CONNECTION: Cookie = [
        0x97, 0x15, 0xf8, 0x97, 0xf6, 0x6d, 0x23, 0x4e, 0x78, 0xca, 0x17, 0x6f, 0xdd, 0xe1, 0xbf, 0x2d,
    ];
    const OUT_CHANNEL: Cookie = [
        0x86, 0x39, 0xb6, 0xd2, 0xc9, 0x62, 0xa2, 0x77, 0xe4, 0x7a, 0x10, 0xf3, 0x57, 0x2d, 0xe7, 0xc2,
    ];
    const IN_CHANNEL: Cookie = [
        0x25, 0x0d, 0x9e, 0x0d, 0xce, 0x53, 0xca, 0x78, 0xee, 0x0c, 0xa1, 0x03, 0xb3, 0x54, 0xa1, 0x07,
    ];
    const ASSOCIATION: Cookie = [
        0x1b, 0x38, 0x50, 0x77, 0x23, 0xb8, 0x42, 0x40, 0x91, 0xfe, 0x8d, 0x4b, 0x9e, 0xe8, 0xed, 0x1a,
    ];

    const CONN_A1: &str =
        "05 00 14 03 10 00 00 00 4c 00 00 00 00 00 00 00 00 00 04 00 06 00 00 00 01 00 00 00 03 00 00 00
        97 15 f8 97 f6 6d 23 4e 78 ca 17 6f dd e1 bf 2d 03 00 00 00 86 39 b6 d2 c9 62 a2 77 e4 7a 10 f3
        57 2d e7 c2 00 00 00 00 00 00 01 00";
    const CONN_B1: &str =
        "05 00 14 03 10 00 00 00 68 00 00 00 00 00 00 00 00 00 06 00 06 00 00 00 01 00 00 00 03 00 00 00
        97 15 f8 97 f6 6d 23 4e 78 ca 17 6f dd e1 bf 2d 03 00 00 00 25 0d 9e 0d ce 53 ca 78 ee 0c a1 03
        b3 54 a1 07 04 00 00 00 00 00 00 40 05 00 00 00 e0 93 04 00 0c 00 00 00 1b 38 50 77 23 b8 42 40
        91 fe 8d 4b 9e e8 ed 1a";
    const ECHO: &str = "05 00 14 03 10 00 00 00 14 00 00 00 00 00 00 00 40 00 00 00";
    const BIND_EMSMDB: &str =
        "05 00 0b 03 10 00 00 00 48 00 00 00 01 00 00 00 b8 10 b8 10 00 00 00 00 01 00 00 00 00 00 01 00
        00 db f1 a4 47 ca 67 10 b3 1f 00 dd 01 06 62 da 00 00 51 00 04 5d 88 8a eb 1c c9 11 9f e8 08 00
        2b 10 48 60 02 00 00 00";
    const BIND_NSPI: &str =
        "05 00 0b 03 10 00 00 00 48 00 00 00 01 00 00 00 b8 10 b8 10 00 00 00 00 01 00 00 00 00 00 01 00
        18 5a cc f5 64 42 1a 10 8c 59 08 00 2b 2f 84 26 38 00 00 00 04 5d 88 8a eb 1c c9 11 9f e8 08 00
        2b 10 48 60 02 00 00 00";
    const BIND_RFR: &str =
        "05 00 0b 03 10 00 00 00 48 00 00 00 01 00 00 00 b8 10 b8 10 00 00 00 00 01 00 00 00 00 00 01 00
        e0 f5 44 15 3c 61 d1 11 93 df 00 c0 4f d7 bd 09 01 00 00 00 04 5d 88 8a eb 1c c9 11 9f e8 08 00
        2b 10 48 60 02 00 00 00";

    #[test]
    fn conn_a1_and_b1_encode_as_outlook_sends_them() {
        assert_eq!(
            Rts::conn_a1(CONNECTION, OUT_CHANNEL, 0x0001_0000).encode(),
            hex(CONN_A1)
        );
        assert_eq!(Rts::conn_b1(CONNECTION, IN_CHANNEL, ASSOCIATION).encode(), hex(CONN_B1));
    }

    #[test]
    fn captured_conn_a1_and_b1_decode() {
        assert_eq!(
            Rts::decode(&hex(CONN_A1)),
            Ok(Rts::conn_a1(CONNECTION, OUT_CHANNEL, 0x0001_0000))
        );
        assert_eq!(
            Rts::decode(&hex(CONN_B1)),
            Ok(Rts::conn_b1(CONNECTION, IN_CHANNEL, ASSOCIATION))
        );
    }

    #[test]
    fn echo_and_binds_match_the_vectors() {
        assert_eq!(Rts::echo().encode(), hex(ECHO));
        assert_eq!(Rts::decode(&hex(ECHO)).map(|r| r.flags), Ok(rts_flags::ECHO));
        assert_eq!(bind(EMSMDB, 1), hex(BIND_EMSMDB));
        assert_eq!(bind(NSPI, 1), hex(BIND_NSPI));
        assert_eq!(bind(RFR, 1), hex(BIND_RFR));
    }

    #[test]
    fn bind_answers_decode() {
        // bind_ack: secondary address "6001\0" (5 bytes), padded, one result accepted.
        let mut ack = header(ptype::BIND_ACK, 0, 1);
        ack.extend_from_slice(&[0xb8, 0x10, 0xb8, 0x10, 0x01, 0x00, 0x00, 0x00]);
        ack.extend_from_slice(&[5, 0]);
        ack.extend_from_slice(b"6001\0");
        ack.extend_from_slice(&[0]); // pad to 4: 16 + 10 + 5 + 1 = 32
        ack.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        ack.extend_from_slice(&[0; 20]);
        let len = ack.len() as u16;
        ack[8..10].copy_from_slice(&len.to_le_bytes());
        assert_eq!(
            BindAnswer::decode(&ack),
            Ok(BindAnswer::Ack {
                secondary_address: "6001".into(),
                results: vec![(0, 0)]
            })
        );
        let mut fault = header(ptype::FAULT, 32, 1);
        fault.extend_from_slice(&[0; 8]);
        fault.extend_from_slice(&0x6BAu32.to_le_bytes());
        fault.extend_from_slice(&[0; 4]);
        assert_eq!(BindAnswer::decode(&fault), Ok(BindAnswer::Fault { status: 0x6BA }));
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        let a1 = hex(CONN_A1);
        for cut in 0..a1.len() {
            let _ = Rts::decode(&a1[..cut]);
            let _ = BindAnswer::decode(&a1[..cut]);
        }
        assert_eq!(Rts::decode(&a1[..10]), Err(PduError::Truncated("header")));
        let mut lying = a1.clone();
        lying[8] = 0xff; // frag_len beyond the bytes
        assert!(matches!(Rts::decode(&lying), Err(PduError::Truncated(_))));
        let mut many = hex(ECHO);
        many[18] = 0xff; // 255 commands in a 20-byte PDU
        many[19] = 0xff;
        assert!(matches!(Rts::decode(&many), Err(PduError::Truncated(_))));
        assert!(matches!(
            Rts::decode(b"HTTP/1.1 503 RPC Error: 6ba\r\n"),
            Err(PduError::NotRpc(_))
        ));
    }
}
