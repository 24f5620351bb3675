//! A channel's body re-framed with `Transfer-Encoding: chunked` (RFC 9112 7.1) by a proxy in front of
//! IIS. IIS itself announces a `Content-Length` of up to 2 GB on the OUT channel and streams
//! ([MS-RPCH] 2.1.2.1.4); Microsoft TMG 2010 sends the RPC_OUT_DATA answer chunked instead, which
//! impacket's RPC over HTTP client de-chunks ("For Microsoft TMG 2010 it can cause more than one read",
//! fortra/impacket `impacket/dcerpc/v5/rpch.py`, `rpc_out_recv1`).
//!
//! Decoding is incremental: bytes arrive in TLS records, and a chunk-size line, a chunk or its CRLF may
//! be cut anywhere. Chunk boundaries are not PDU boundaries: the decoded bytes are read as PDUs as an
//! unchunked body is. Everything is bounded (the size line, each chunk's size, the number of chunks and
//! trailer lines); a malformed size line is an error that quotes it, never a panic.

use httparse::{InvalidChunkSize, Status, parse_chunk_size};

/// A chunk-size line (hex digits, extensions, CRLF) or a trailer line may not be longer than this.
pub const MAX_LINE: usize = 1024;
/// No chunk may announce more than the OUT channel's whole body may be ([MS-RPCH] 2.1.2.1.4: "an
/// implementation-specific value in the inclusive range of 128 kilobytes to 2 gigabytes").
pub const MAX_CHUNK: u64 = 2 * 1024 * 1024 * 1024;
/// Chunks (and trailer lines) accepted on one body: migcheck reads a few dozen PDUs per channel; a proxy
/// that sends them a byte a chunk is refused rather than followed forever.
pub const MAX_CHUNKS: usize = 4096;

/// Why a chunked body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The chunk-size line is not hexadecimal digits (with optional `;extensions`) and CRLF.
    #[error("the chunk size line \"{line}\" is not a hexadecimal size")]
    BadSizeLine { line: String },
    #[error("a chunk size line (or trailer line) is longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("a chunk size line announces {size} bytes, more than the {MAX_CHUNK} a channel's body may have")]
    ChunkTooLarge { size: u64 },
    #[error("more than {MAX_CHUNKS} chunks")]
    TooManyChunks,
    /// A chunk's data must end with CRLF.
    #[error("the data of a chunk is followed by \"{got}\" instead of CRLF")]
    NoCrlfAfterData { got: String },
}

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// At a chunk-size line.
    #[default]
    SizeLine,
    /// Inside a chunk's data, with this many bytes to go.
    Data(u64),
    /// After a chunk's data: its CRLF.
    DataEnd,
    /// After the last chunk (size 0): trailer lines until an empty one.
    Trailer,
    /// The body ended.
    Done,
}

/// An incremental decoder of one chunked body.
#[derive(Debug, Default)]
pub struct Dechunker {
    state: State,
    /// Chunks and trailer lines seen.
    lines: usize,
}

impl Dechunker {
    /// The last chunk and the trailer section have been read: no more of this body will come.
    pub fn finished(&self) -> bool {
        self.state == State::Done
    }

    /// Moves the body's data from `raw` (bytes as received, framing included) to the end of `out`. What
    /// stays in `raw` is an incomplete size line or CRLF, or, once [`finished`](Self::finished), what
    /// followed the body.
    pub fn decode(&mut self, raw: &mut Vec<u8>, out: &mut Vec<u8>) -> Result<(), ChunkError> {
        let mut at = 0;
        let result = loop {
            let rest = &raw[at..];
            match self.step(rest, out) {
                Ok(0) => break Ok(()),
                Ok(used) => at += used,
                Err(e) => break Err(e),
            }
        };
        raw.drain(..at);
        result
    }

    /// One step over the start of `rest`: how many bytes it used (0: it needs more, or the body ended).
    fn step(&mut self, rest: &[u8], out: &mut Vec<u8>) -> Result<usize, ChunkError> {
        match self.state {
            State::Done => Ok(0),
            _ if rest.is_empty() => Ok(0),
            State::SizeLine => self.size_line(rest),
            State::Data(left) => {
                let n = usize::try_from(left).map_or(rest.len(), |left| left.min(rest.len()));
                out.extend_from_slice(&rest[..n]);
                // n <= left: no underflow.
                let left = left - n as u64;
                self.state = if left == 0 { State::DataEnd } else { State::Data(left) };
                Ok(n)
            }
            State::DataEnd => match rest {
                [b'\r', b'\n', ..] => {
                    self.state = State::SizeLine;
                    Ok(2)
                }
                [b'\r'] => Ok(0),
                _ => Err(ChunkError::NoCrlfAfterData {
                    got: shown(&rest[..rest.len().min(2)]),
                }),
            },
            State::Trailer => {
                let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                    // Without its CRLF, a line is too long once its text alone (a last byte may be the
                    // CR) reaches the limit: the same verdict however the bytes were cut.
                    return if rest.len() > MAX_LINE {
                        Err(ChunkError::LineTooLong)
                    } else {
                        Ok(0)
                    };
                };
                if end >= MAX_LINE {
                    return Err(ChunkError::LineTooLong);
                }
                if end == 0 {
                    self.state = State::Done;
                } else {
                    self.count()?;
                }
                Ok(end + 2)
            }
        }
    }

    fn size_line(&mut self, rest: &[u8]) -> Result<usize, ChunkError> {
        let bad = || ChunkError::BadSizeLine { line: line_of(rest) };
        // httparse reads an empty line as size 0 (the last chunk): a size needs at least one digit.
        if !rest[0].is_ascii_hexdigit() {
            return Err(bad());
        }
        match parse_chunk_size(rest) {
            Ok(Status::Complete((used, size))) => {
                if used > MAX_LINE {
                    return Err(ChunkError::LineTooLong);
                }
                if size > MAX_CHUNK {
                    return Err(ChunkError::ChunkTooLarge { size });
                }
                self.count()?;
                self.state = if size == 0 { State::Trailer } else { State::Data(size) };
                Ok(used)
            }
            Ok(Status::Partial) if rest.len() >= MAX_LINE => Err(ChunkError::LineTooLong),
            Ok(Status::Partial) => Ok(0),
            Err(InvalidChunkSize) => Err(bad()),
        }
    }

    fn count(&mut self) -> Result<(), ChunkError> {
        self.lines += 1;
        if self.lines > MAX_CHUNKS {
            return Err(ChunkError::TooManyChunks);
        }
        Ok(())
    }
}

/// The start of a size line as it can be shown: up to its CRLF, at most 40 bytes, escaped.
fn line_of(bytes: &[u8]) -> String {
    let end = bytes
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(bytes.len())
        .min(40);
    shown(&bytes[..end])
}

fn shown(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CONN/A3 and CONN/C2 as impacket's RPC over HTTP tests hold them (fortra/impacket
    /// `tests/SMB_RPC/test_rpch.py`, `RPCHLocalTest.test_3` and `test_5`: ConnectionTimeout 120000,
    /// ReceiveWindowSize 65536), the two RTS PDUs a proxy sends first on the OUT channel ([MS-RPCH]
    /// 2.2.4.4, 2.2.4.9).
    const CONN_A3: &[u8] = b"\x05\x00\x14\x03\x10\x00\x00\x00\x1c\x00\x00\x00\x00\x00\
        \x00\x00\x00\x00\x01\x00\x02\x00\x00\x00\xc0\xd4\x01\x00";
    const CONN_C2: &[u8] = b"\x05\x00\x14\x03\x10\x00\x00\x00\x2c\x00\x00\x00\x00\x00\
        \x00\x00\x00\x00\x03\x00\x06\x00\x00\x00\x01\x00\x00\x00\
        \x00\x00\x00\x00\x00\x00\x01\x00\x02\x00\x00\x00\xc0\xd4\
        \x01\x00";

    /// The body of a TMG-style OUT answer: each PDU in a chunk of its own (RFC 9112 7.1 framing, lower-case
    /// hex as impacket parses it with `int(..., 16)`).
    fn one_chunk_per_pdu() -> Vec<u8> {
        let mut body = b"1c\r\n".to_vec();
        body.extend_from_slice(CONN_A3);
        body.extend_from_slice(b"\r\n2c\r\n");
        body.extend_from_slice(CONN_C2);
        body.extend_from_slice(b"\r\n");
        body
    }

    /// The RPC_OUT_DATA answer as TMG sends it: `200 Success` and `application/rpc` as IIS writes them
    /// ([MS-RPCH] 2.1.2.1.4), `Transfer-Encoding: chunked` in place of the `Content-Length` (impacket's
    /// client looks for "transfer-encoding: chunked" in this head, fortra/impacket rpch.py
    /// `create_tunnel`; RFC 9112 6.1: no Content-Length beside it), and the `Via` TMG adds (impacket's
    /// comment on TMG's `100 Continue`: "Via: 1.1 FIREWALL1"; RFC 9110 7.6.3: a proxy adds Via to what
    /// it forwards). No verbatim TMG head is public: the header set is built from these sources.
    const TMG_OUT_HEAD: &[u8] =
        b"HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nTransfer-Encoding: chunked\r\nVia: 1.1 FIREWALL1\r\n\r\n";

    fn pdus() -> Vec<u8> {
        [CONN_A3, CONN_C2].concat()
    }

    /// Feeds `raw` in pieces of `size` bytes, as TLS records may cut it.
    fn decode_in_pieces(raw: &[u8], size: usize) -> (Result<(), ChunkError>, Vec<u8>, Dechunker) {
        let mut d = Dechunker::default();
        let (mut pending, mut out) = (Vec::new(), Vec::new());
        for piece in raw.chunks(size) {
            pending.extend_from_slice(piece);
            if let Err(e) = d.decode(&mut pending, &mut out) {
                return (Err(e), out, d);
            }
        }
        (Ok(()), out, d)
    }

    #[test]
    fn a_tmg_out_answer_reads_as_conn_a3_and_conn_c2() {
        use super::super::channel::parse_head;
        use super::super::pdu::{Rts, RtsCommand};
        let mut answer = TMG_OUT_HEAD.to_vec();
        answer.extend_from_slice(&one_chunk_per_pdu());
        let head = parse_head(&answer).expect("parse").expect("complete");
        assert_eq!((head.status, head.reason.as_str()), (200, "Success"));
        assert!(head.chunked() && head.header_values("content-length").is_empty());
        assert_eq!(head.header_values("via"), ["1.1 FIREWALL1"]);
        let mut d = Dechunker::default();
        let (mut raw, mut out) = (answer[head.len..].to_vec(), Vec::new());
        assert_eq!(d.decode(&mut raw, &mut out), Ok(()));
        assert!(raw.is_empty());
        let a3 = Rts::decode(&out[..CONN_A3.len()]).expect("CONN/A3");
        assert_eq!(a3.commands, [RtsCommand::ConnectionTimeout(120_000)]);
        let c2 = Rts::decode(&out[CONN_A3.len()..]).expect("CONN/C2");
        assert_eq!(
            c2.commands,
            [
                RtsCommand::Version(1),
                RtsCommand::ReceiveWindowSize(65_536),
                RtsCommand::ConnectionTimeout(120_000)
            ]
        );
    }

    #[test]
    fn conn_a3_and_c2_come_out_whole_however_the_bytes_are_cut() {
        let body = one_chunk_per_pdu();
        for size in 1..=body.len() {
            let (result, out, d) = decode_in_pieces(&body, size);
            assert_eq!(result, Ok(()), "pieces of {size}");
            assert_eq!(out, pdus(), "pieces of {size}");
            assert!(!d.finished(), "the OUT channel's body goes on");
        }
    }

    #[test]
    fn a_chunk_boundary_inside_a_pdu_or_between_two_is_not_a_pdu_boundary() {
        // One chunk with both PDUs, then C2 cut after its 16-byte header; upper-case hex and an extension.
        let mut both = format!("{:x}\r\n", CONN_A3.len() + CONN_C2.len()).into_bytes();
        both.extend_from_slice(&pdus());
        both.extend_from_slice(b"\r\n");
        let mut split = b"2C ; origin=tmg\r\n".to_vec();
        split.extend_from_slice(CONN_A3);
        split.extend_from_slice(&CONN_C2[..16]);
        split.extend_from_slice(b"\r\n1C\r\n");
        split.extend_from_slice(&CONN_C2[16..]);
        split.extend_from_slice(b"\r\n");
        for body in [both, split] {
            let (result, out, _) = decode_in_pieces(&body, 7);
            assert_eq!((result, out), (Ok(()), pdus()));
        }
    }

    #[test]
    fn the_last_chunk_and_trailers_end_the_body_and_what_follows_stays() {
        let mut raw = b"5\r\nhello\r\n0\r\nVia: 1.1 FIREWALL1\r\n\r\nHTTP/1.1 200 OK\r\n".to_vec();
        let mut d = Dechunker::default();
        let mut out = Vec::new();
        assert_eq!(d.decode(&mut raw, &mut out), Ok(()));
        assert!(d.finished());
        assert_eq!(out, b"hello");
        assert_eq!(
            raw, b"HTTP/1.1 200 OK\r\n",
            "the next answer is left for the head parser"
        );
        // Nothing more is taken once it ended.
        assert_eq!(d.decode(&mut raw, &mut out), Ok(()));
        assert_eq!(raw, b"HTTP/1.1 200 OK\r\n");
    }

    #[test]
    fn hostile_framing_is_an_error_that_quotes_the_size_line() {
        let refused = |raw: &[u8]| {
            let mut d = Dechunker::default();
            let (mut raw, mut out) = (raw.to_vec(), Vec::new());
            d.decode(&mut raw, &mut out).expect_err("refused")
        };
        // What migcheck read before it de-chunked: a mid-stream proxy error where a size line belongs.
        assert_eq!(
            refused(b"HTTP/1.0 503 RPC Error: 6ba\r\n\r\n"),
            ChunkError::BadSizeLine {
                line: "HTTP/1.0 503 RPC Error: 6ba".into()
            }
        );
        assert_eq!(refused(b"1x\r\n"), ChunkError::BadSizeLine { line: "1x".into() });
        assert_eq!(refused(b"\r\n"), ChunkError::BadSizeLine { line: String::new() });
        assert_eq!(refused(b"-1\r\n"), ChunkError::BadSizeLine { line: "-1".into() });
        assert_eq!(
            refused(b"\x05\x00\x14\x03"),
            ChunkError::BadSizeLine {
                line: "\\x05\\x00\\x14\\x03".into()
            }
        );
        // 17 hex digits overflow: httparse refuses more than 16.
        assert!(matches!(
            refused(b"10000000000000000\r\n"),
            ChunkError::BadSizeLine { .. }
        ));
        assert_eq!(
            refused(b"80000001\r\n"),
            ChunkError::ChunkTooLarge { size: 0x8000_0001 }
        );
        assert_eq!(refused(b"2\r\nabXY"), ChunkError::NoCrlfAfterData { got: "XY".into() });
        let mut long = b"1;".to_vec();
        long.resize(MAX_LINE + 1, b'a');
        assert_eq!(refused(&long), ChunkError::LineTooLong);
        let mut trailers = b"0\r\n".to_vec();
        trailers.resize(MAX_LINE + 10, b'a');
        assert_eq!(refused(&trailers), ChunkError::LineTooLong);
        // A byte a chunk, forever: refused after MAX_CHUNKS.
        let many = b"1\r\nx\r\n".repeat(MAX_CHUNKS + 1);
        assert_eq!(refused(&many), ChunkError::TooManyChunks);
    }

    #[test]
    fn the_longest_lines_pass_however_they_are_cut() {
        // A size line of MAX_LINE bytes with its CRLF, and a trailer line of MAX_LINE - 1 bytes of text.
        let mut body = b"1;".to_vec();
        body.resize(MAX_LINE - 2, b'x');
        body.extend_from_slice(b"\r\nA\r\n0\r\n");
        body.extend(std::iter::repeat_n(b'v', MAX_LINE - 1));
        body.extend_from_slice(b"\r\n\r\n");
        for size in [1, 2, 7, body.len()] {
            let (result, out, d) = decode_in_pieces(&body, size);
            assert_eq!(
                (result, out.as_slice(), d.finished()),
                (Ok(()), &b"A"[..], true),
                "pieces of {size}"
            );
        }
    }

    #[test]
    fn a_partial_size_line_waits_for_more() {
        let mut d = Dechunker::default();
        let (mut raw, mut out) = (b"1".to_vec(), Vec::new());
        assert_eq!(d.decode(&mut raw, &mut out), Ok(()));
        assert_eq!(raw, b"1", "kept until its CRLF comes");
        raw.extend_from_slice(b"c\r");
        assert_eq!(d.decode(&mut raw, &mut out), Ok(()));
        raw.extend_from_slice(b"\n");
        raw.extend_from_slice(CONN_A3);
        raw.extend_from_slice(b"\r");
        assert_eq!(d.decode(&mut raw, &mut out), Ok(()));
        assert_eq!((out.as_slice(), raw.as_slice()), (CONN_A3, &b"\r"[..]));
    }
}
