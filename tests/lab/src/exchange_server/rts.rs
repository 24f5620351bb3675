//! RTS PDUs ([MS-RPCH] 2.2.3.5 commands, 2.2.4 PDUs), server side: parsing CONN/A1 and CONN/B1,
//! writing the echo, CONN/A3 and CONN/C2. Everything parsed comes from the network: nothing panics.

use super::pdu::{HEADER_LEN, PTYPE_RTS, Reader, header, parse_header};

/// The RTS flag of the echo PDU ([MS-RPCH] 2.2.3.5.1).
pub(crate) const RTS_FLAG_ECHO: u16 = 0x40;

/// One RTS command ([MS-RPCH] 2.2.3.5); payloads the proxy does not use are kept only as far as
/// parsing needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RtsCommand {
    ReceiveWindowSize(u32),
    FlowControlAck,
    ConnectionTimeout(u32),
    Cookie([u8; 16]),
    ChannelLifetime(u32),
    ClientKeepalive(u32),
    Version(u32),
    Empty,
    Padding,
    NegativeAnce,
    Ance,
    ClientAddress,
    AssociationGroupId([u8; 16]),
    Destination(u32),
    PingTrafficSentNotify(u32),
}

impl RtsCommand {
    fn kind(&self) -> u32 {
        match self {
            RtsCommand::ReceiveWindowSize(_) => 0,
            RtsCommand::FlowControlAck => 1,
            RtsCommand::ConnectionTimeout(_) => 2,
            RtsCommand::Cookie(_) => 3,
            RtsCommand::ChannelLifetime(_) => 4,
            RtsCommand::ClientKeepalive(_) => 5,
            RtsCommand::Version(_) => 6,
            RtsCommand::Empty => 7,
            RtsCommand::Padding => 8,
            RtsCommand::NegativeAnce => 9,
            RtsCommand::Ance => 10,
            RtsCommand::ClientAddress => 11,
            RtsCommand::AssociationGroupId(_) => 12,
            RtsCommand::Destination(_) => 13,
            RtsCommand::PingTrafficSentNotify(_) => 14,
        }
    }
}

/// An RTS PDU: its flags and commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rts {
    pub flags: u16,
    pub commands: Vec<RtsCommand>,
}

/// Parses a whole RTS PDU (header included, exactly `frag_len` bytes).
pub(crate) fn parse_rts(pdu: &[u8]) -> Result<Rts, String> {
    let h = parse_header(pdu)?;
    if h.ptype != PTYPE_RTS {
        return Err(format!("PDU type 0x{:02x} is not RTS (0x14)", h.ptype));
    }
    if usize::from(h.frag_len) != pdu.len() {
        return Err(format!("fragment length {} but {} bytes", h.frag_len, pdu.len()));
    }
    let mut r = Reader::new(pdu, HEADER_LEN);
    let flags = r.u16()?;
    let count = r.u16()?;
    let mut commands = Vec::new();
    for _ in 0..count {
        let c = match r.u32()? {
            0 => RtsCommand::ReceiveWindowSize(r.u32()?),
            1 => {
                r.take(24)?; // bytes received, available window, channel cookie
                RtsCommand::FlowControlAck
            }
            2 => RtsCommand::ConnectionTimeout(r.u32()?),
            3 => RtsCommand::Cookie(r.cookie()?),
            4 => RtsCommand::ChannelLifetime(r.u32()?),
            5 => RtsCommand::ClientKeepalive(r.u32()?),
            6 => RtsCommand::Version(r.u32()?),
            7 => RtsCommand::Empty,
            8 => {
                let n = r.u32()?;
                r.take(usize::try_from(n).map_err(|_| "padding too long")?)?;
                RtsCommand::Padding
            }
            9 => RtsCommand::NegativeAnce,
            10 => RtsCommand::Ance,
            11 => {
                let len = match r.u32()? {
                    0 => 4,
                    1 => 16,
                    f => return Err(format!("ClientAddress family {f}")),
                };
                r.take(len + 12)?;
                RtsCommand::ClientAddress
            }
            12 => RtsCommand::AssociationGroupId(r.cookie()?),
            13 => RtsCommand::Destination(r.u32()?),
            14 => RtsCommand::PingTrafficSentNotify(r.u32()?),
            t => return Err(format!("unknown RTS command type {t}")),
        };
        commands.push(c);
    }
    if r.at != pdu.len() {
        return Err(format!("{} bytes after the last RTS command", pdu.len() - r.at));
    }
    Ok(Rts { flags, commands })
}

/// CONN/A1 (OUT channel, 76 bytes): its cookies and window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnA1 {
    pub vc_cookie: [u8; 16],
    pub receive_window: u32,
}

/// CONN/B1 (IN channel, 104 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnB1 {
    pub vc_cookie: [u8; 16],
    pub assoc_group: [u8; 16],
}

/// Validates CONN/A1 ([MS-RPCH] 2.2.4.2): flags 0; Version 1, Cookie, Cookie, ReceiveWindowSize.
pub(crate) fn conn_a1(pdu: &[u8]) -> Result<ConnA1, String> {
    let rts = parse_rts(pdu)?;
    match (rts.flags, rts.commands.as_slice()) {
        (
            0,
            [
                RtsCommand::Version(1),
                RtsCommand::Cookie(vc),
                RtsCommand::Cookie(_),
                RtsCommand::ReceiveWindowSize(w),
            ],
        ) => Ok(ConnA1 {
            vc_cookie: *vc,
            receive_window: *w,
        }),
        _ => Err(format!("not a CONN/A1: {rts:?}")),
    }
}

/// Validates CONN/B1 ([MS-RPCH] 2.2.4.5): flags 0; Version 1, Cookie, Cookie, ChannelLifetime,
/// ClientKeepalive (0 or >= 60000), AssociationGroupId.
pub(crate) fn conn_b1(pdu: &[u8]) -> Result<ConnB1, String> {
    let rts = parse_rts(pdu)?;
    match (rts.flags, rts.commands.as_slice()) {
        (
            0,
            [
                RtsCommand::Version(1),
                RtsCommand::Cookie(vc),
                RtsCommand::Cookie(_),
                RtsCommand::ChannelLifetime(_),
                RtsCommand::ClientKeepalive(k),
                RtsCommand::AssociationGroupId(g),
            ],
        ) if *k == 0 || *k >= 60_000 => Ok(ConnB1 {
            vc_cookie: *vc,
            assoc_group: *g,
        }),
        _ => Err(format!("not a CONN/B1: {rts:?}")),
    }
}

/// An RTS PDU with these flags and commands.
pub(crate) fn rts(flags: u16, commands: &[RtsCommand]) -> Vec<u8> {
    let mut body = Vec::new();
    for c in commands {
        body.extend_from_slice(&c.kind().to_le_bytes());
        match c {
            RtsCommand::ReceiveWindowSize(v)
            | RtsCommand::ConnectionTimeout(v)
            | RtsCommand::ChannelLifetime(v)
            | RtsCommand::ClientKeepalive(v)
            | RtsCommand::Version(v)
            | RtsCommand::Destination(v)
            | RtsCommand::PingTrafficSentNotify(v) => body.extend_from_slice(&v.to_le_bytes()),
            RtsCommand::Cookie(c) | RtsCommand::AssociationGroupId(c) => body.extend_from_slice(c),
            // Not sent by the proxy.
            RtsCommand::FlowControlAck
            | RtsCommand::Empty
            | RtsCommand::Padding
            | RtsCommand::NegativeAnce
            | RtsCommand::Ance
            | RtsCommand::ClientAddress => {}
        }
    }
    let mut pdu = header(PTYPE_RTS, 20 + body.len(), 0);
    pdu.extend_from_slice(&flags.to_le_bytes());
    pdu.extend_from_slice(&u16::try_from(commands.len()).unwrap_or(0).to_le_bytes());
    pdu.extend_from_slice(&body);
    pdu
}

/// The echo answer ([MS-RPCH] 2.2.4.47): 20 bytes, flags ECHO, no commands.
pub(crate) fn echo() -> Vec<u8> {
    rts(RTS_FLAG_ECHO, &[])
}

/// CONN/A3 ([MS-RPCH] 2.2.4.4): flags 0, ConnectionTimeout.
pub(crate) fn conn_a3(timeout_ms: u32) -> Vec<u8> {
    rts(0, &[RtsCommand::ConnectionTimeout(timeout_ms)])
}

/// CONN/C2 ([MS-RPCH] 2.2.4.9): flags 0, Version 1, ReceiveWindowSize, ConnectionTimeout.
pub(crate) fn conn_c2(window: u32, timeout_ms: u32) -> Vec<u8> {
    rts(
        0,
        &[
            RtsCommand::Version(1),
            RtsCommand::ReceiveWindowSize(window),
            RtsCommand::ConnectionTimeout(timeout_ms),
        ],
    )
}
