//! The DCE/RPC PDUs the lab's RPC proxy reads and writes, server side, written from C706 chapter 12 (connection-oriented DCE/RPC: bind, bind_ack, bind_nak, fault).
//! Independent of the relay's client code on purpose. Everything parsed here comes from the network:
//! every length is checked, nothing panics.

/// The DCE/RPC common header: 16 bytes.
pub(crate) const HEADER_LEN: usize = 16;
pub(crate) const PTYPE_REQUEST: u8 = 0x00;
pub(crate) const PTYPE_FAULT: u8 = 0x03;
pub(crate) const PTYPE_BIND: u8 = 0x0B;
pub(crate) const PTYPE_BIND_ACK: u8 = 0x0C;
pub(crate) const PTYPE_BIND_NAK: u8 = 0x0D;
pub(crate) const PTYPE_RTS: u8 = 0x14;
/// PFC_FIRST_FRAG | PFC_LAST_FRAG.
const PFC_FIRST_LAST: u8 = 0x03;

/// The fields of the common header the proxy needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub ptype: u8,
    pub frag_len: u16,
    pub call_id: u32,
}

/// Parses the 16-byte common header: version 5.0, little-endian data representation, and a
/// fragment length that at least covers the header.
pub(crate) fn parse_header(b: &[u8]) -> Result<Header, String> {
    let h = b.get(..HEADER_LEN).ok_or("a PDU shorter than its 16-byte header")?;
    if h[0] != 5 || h[1] != 0 {
        return Err(format!("RPC version {}.{} (want 5.0)", h[0], h[1]));
    }
    if h[4] & 0xF0 != 0x10 {
        return Err(format!("data representation {:02x} is not little-endian", h[4]));
    }
    let frag_len = u16::from_le_bytes([h[8], h[9]]);
    if usize::from(frag_len) < HEADER_LEN {
        return Err(format!("fragment length {frag_len} is shorter than the header"));
    }
    Ok(Header {
        ptype: h[2],
        frag_len,
        call_id: u32::from_le_bytes([h[12], h[13], h[14], h[15]]),
    })
}

/// A little-endian reader that fails instead of panicking.
pub(super) struct Reader<'a> {
    b: &'a [u8],
    pub(super) at: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(b: &'a [u8], at: usize) -> Self {
        Reader { b, at }
    }
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or("length overflow")?;
        let s = self
            .b
            .get(self.at..end)
            .ok_or_else(|| format!("truncated: need {n} bytes at offset {}", self.at))?;
        self.at = end;
        Ok(s)
    }
    pub(super) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub(super) fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    pub(super) fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    pub(super) fn cookie(&mut self) -> Result<[u8; 16], String> {
        let mut c = [0u8; 16];
        c.copy_from_slice(self.take(16)?);
        Ok(c)
    }
}

pub(crate) use super::rts::*;

/// A presentation syntax: UUID in wire order (little-endian fields) and version (major, minor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Syntax {
    pub uuid: [u8; 16],
    pub major: u16,
    pub minor: u16,
}

impl Syntax {
    /// From the textual UUID (`a4f1db00-ca47-1067-b31f-00dd010662da`); `None` if malformed.
    pub(crate) fn new(uuid: &str, major: u16, minor: u16) -> Option<Syntax> {
        let hex: String = uuid.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return None;
        }
        let mut b = [0u8; 16];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        // time_low, time_mid, time_hi are little-endian on the wire.
        b[..4].reverse();
        b[4..6].reverse();
        b[6..8].reverse();
        Some(Syntax { uuid: b, major, minor })
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.uuid);
        out.extend_from_slice(&self.major.to_le_bytes());
        out.extend_from_slice(&self.minor.to_le_bytes());
    }
}

/// One presentation context of a bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Context {
    pub id: u16,
    pub abstract_syntax: Syntax,
    pub transfer_syntaxes: Vec<Syntax>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bind {
    pub call_id: u32,
    pub max_xmit: u16,
    pub max_recv: u16,
    pub assoc_group: u32,
    pub contexts: Vec<Context>,
}

/// Parses a bind PDU (C706 12.6.4.3). Authentication trailers are ignored.
pub(crate) fn parse_bind(pdu: &[u8]) -> Result<Bind, String> {
    let h = parse_header(pdu)?;
    if h.ptype != PTYPE_BIND {
        return Err(format!("PDU type 0x{:02x} is not bind", h.ptype));
    }
    let mut r = Reader::new(pdu, HEADER_LEN);
    let max_xmit = r.u16()?;
    let max_recv = r.u16()?;
    let assoc_group = r.u32()?;
    let n = r.u8()?;
    r.take(3)?;
    let mut contexts = Vec::new();
    for _ in 0..n {
        let id = r.u16()?;
        let n_transfer = r.u8()?;
        r.u8()?;
        let syntax = |r: &mut Reader<'_>| -> Result<Syntax, String> {
            let uuid = r.cookie()?;
            Ok(Syntax {
                uuid,
                major: r.u16()?,
                minor: r.u16()?,
            })
        };
        let abstract_syntax = syntax(&mut r)?;
        let mut transfer_syntaxes = Vec::new();
        for _ in 0..n_transfer {
            transfer_syntaxes.push(syntax(&mut r)?);
        }
        contexts.push(Context {
            id,
            abstract_syntax,
            transfer_syntaxes,
        });
    }
    Ok(Bind {
        call_id: h.call_id,
        max_xmit,
        max_recv,
        assoc_group,
        contexts,
    })
}

/// The answer for one presentation context of a bind_ack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CtxResult {
    /// Result 0 with this transfer syntax.
    Accepted(Syntax),
    /// Result 2 (provider rejection) with this reason (1: abstract syntax not supported,
    /// 2: proposed transfer syntaxes not supported).
    ProviderRejection(u16),
    /// Result 3, the answer to a bind-time feature negotiation context, with the feature bitmask.
    NegotiateAck(u16),
}

/// A bind_ack (C706 12.6.4.4): secondary address `sec_addr` (NUL added), padded to 4, results.
pub(crate) fn bind_ack(bind: &Bind, assoc_group: u32, sec_addr: &str, results: &[CtxResult]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&bind.max_xmit.min(5840).to_le_bytes());
    body.extend_from_slice(&bind.max_recv.min(5840).to_le_bytes());
    body.extend_from_slice(&assoc_group.to_le_bytes());
    let addr_len = u16::try_from(sec_addr.len() + 1).unwrap_or(0);
    body.extend_from_slice(&addr_len.to_le_bytes());
    body.extend_from_slice(sec_addr.as_bytes());
    body.push(0);
    while !(HEADER_LEN + body.len()).is_multiple_of(4) {
        body.push(0);
    }
    body.push(u8::try_from(results.len()).unwrap_or(0));
    body.extend_from_slice(&[0, 0, 0]);
    let none = Syntax {
        uuid: [0; 16],
        major: 0,
        minor: 0,
    };
    for r in results {
        let (result, reason, syntax) = match r {
            CtxResult::Accepted(s) => (0u16, 0u16, *s),
            CtxResult::ProviderRejection(reason) => (2, *reason, none),
            CtxResult::NegotiateAck(bits) => (3, *bits, none),
        };
        body.extend_from_slice(&result.to_le_bytes());
        body.extend_from_slice(&reason.to_le_bytes());
        syntax.write(&mut body);
    }
    let mut pdu = header(PTYPE_BIND_ACK, HEADER_LEN + body.len(), bind.call_id);
    pdu.extend_from_slice(&body);
    pdu
}

/// A bind_nak (C706 12.6.4.5): reject reason, then the one protocol version supported (5.0).
pub(crate) fn bind_nak(call_id: u32, reason: u16) -> Vec<u8> {
    let mut pdu = header(PTYPE_BIND_NAK, HEADER_LEN + 5, call_id);
    pdu.extend_from_slice(&reason.to_le_bytes());
    pdu.extend_from_slice(&[1, 5, 0]);
    pdu
}

/// A fault (C706 12.6.4.7): alloc_hint 0, context id, cancel count 0, status, 4 reserved bytes.
pub(crate) fn fault(call_id: u32, ctx_id: u16, status: u32) -> Vec<u8> {
    let mut pdu = header(PTYPE_FAULT, HEADER_LEN + 16, call_id);
    pdu.extend_from_slice(&0u32.to_le_bytes());
    pdu.extend_from_slice(&ctx_id.to_le_bytes());
    pdu.extend_from_slice(&[0, 0]);
    pdu.extend_from_slice(&status.to_le_bytes());
    pdu.extend_from_slice(&[0; 4]);
    pdu
}

/// The presentation context id of a request PDU (C706 12.6.4.9), if it has one.
pub(crate) fn request_context(pdu: &[u8]) -> Option<u16> {
    let b = pdu.get(HEADER_LEN + 4..HEADER_LEN + 6)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// A common header for a whole, single-fragment PDU of `len` bytes.
pub(super) fn header(ptype: u8, len: usize, call_id: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(len);
    h.extend_from_slice(&[5, 0, ptype, PFC_FIRST_LAST, 0x10, 0, 0, 0]);
    h.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes());
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&call_id.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_a3_c2_have_the_spec_layouts() {
        assert_eq!(
            echo(),
            [5, 0, 0x14, 3, 0x10, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0]
        );
        assert_eq!(conn_a3(120_000).len(), 28);
        let c2 = conn_c2(65536, 120_000);
        assert_eq!(c2.len(), 44);
        assert_eq!(&c2[16..20], &[0, 0, 3, 0]);
        assert_eq!(&c2[20..28], &[6, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&c2[28..36], &[0, 0, 0, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        for len in 0..40 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37) as u8).collect();
            let _ = parse_rts(&junk);
            let _ = parse_bind(&junk);
        }
        let mut a1 = rts(0, &[RtsCommand::Version(1)]);
        a1[18] = 9; // claims 9 commands
        assert!(parse_rts(&a1).is_err());
    }

    #[test]
    fn uuid_text_becomes_wire_order() {
        let s = Syntax::new("a4f1db00-ca47-1067-b31f-00dd010662da", 0, 81).expect("uuid");
        assert_eq!(
            s.uuid,
            [
                0x00, 0xdb, 0xf1, 0xa4, 0x47, 0xca, 0x67, 0x10, 0xb3, 0x1f, 0x00, 0xdd, 0x01, 0x06, 0x62, 0xda
            ]
        );
    }
}
