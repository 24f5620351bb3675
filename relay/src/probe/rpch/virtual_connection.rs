//! A virtual connection ([MS-RPCH] 3.2.2.4.1): the IN and OUT channels on two TLS connections, logged
//! on, CONN/A1 and CONN/B1 sent, CONN/A3 and CONN/C2 awaited on the OUT channel, then one bind of an
//! endpoint behind the proxy; and where it stopped.

use std::net::SocketAddr;

use super::channel::{self, Method, ResponseHead};
use super::client::{Channel, Logon, RpchError, Target, authorization};
use super::pdu::{self, BindAnswer, Header, Interface, Rts, RtsCommand, ptype};
use crate::net::Net;
use crate::net::ntlm::ChallengeInfo;
use crate::probe::auth::ChannelBinding;

/// RTS PDUs (pings, flow control) tolerated on the OUT channel while waiting for one answer: a proxy
/// that streams pings forever ends the wait instead of holding it.
const MAX_PDUS_PER_WAIT: usize = 16;
/// What the OUT channel tells the proxy it may send before an acknowledgement.
const RECEIVE_WINDOW: u32 = 0x0001_0000;

/// One endpoint's virtual connection: what the NTLM challenge revealed, and where it stopped.
#[derive(Debug)]
pub struct VirtualConnection {
    /// The endpoint asked for (6001, 6002, 6004).
    pub endpoint: u16,
    pub challenge: Option<ChallengeInfo>,
    /// How the NTLM logon of the first channel that logged on was bound to its connection.
    pub binding: Option<ChannelBinding>,
    pub stage: Stage,
}

/// Where a virtual connection stopped, each state named after what it awaited (as rustls names its
/// handshake states), with what it had received by then. [MS-RPCH] 3.2.2.4.1: both channels log on,
/// the OUT channel answers 200, then CONN/A3 and CONN/C2 come on it, then the bind's answer.
#[derive(Debug)]
pub enum Stage {
    /// The channels did not open (DNS, TCP, TLS), or their logon broke off without an answer.
    AwaitingLogon(RpchError),
    /// A channel answered instead of going on: a logon refused (401, or the NTLM NEGOTIATE answered
    /// with 405, 503...), or the IN channel's error answer while the OUT channel was read (503 RPC
    /// Error: 6ba).
    Refused { method: Method, head: ResponseHead },
    /// The requests went out; the OUT channel's response head did not come.
    AwaitingOutHead(RpchError),
    /// The OUT channel answered with another status than 200.
    OutRefused(ResponseHead),
    /// Logged on (OUT answered 200); CONN/A3 did not come.
    AwaitingConnA3 { out: ResponseHead, error: RpchError },
    /// CONN/A3 came; CONN/C2 did not.
    AwaitingConnC2 { out: ResponseHead, error: RpchError },
    /// The virtual connection opened (CONN/C2 came); the bind got no readable answer.
    AwaitingBindAnswer {
        out: ResponseHead,
        c2: Rts,
        error: RpchError,
    },
    /// The bind was answered (accepted or not).
    Bound {
        out: ResponseHead,
        c2: Rts,
        answer: BindAnswer,
    },
}

impl VirtualConnection {
    /// Both channels got past authentication.
    pub fn logged_on(&self) -> bool {
        matches!(
            self.stage,
            Stage::AwaitingConnA3 { .. }
                | Stage::AwaitingConnC2 { .. }
                | Stage::AwaitingBindAnswer { .. }
                | Stage::Bound { .. }
        )
    }

    /// CONN/A3 and CONN/C2 arrived: the proxy reached the RPC server.
    pub fn opened(&self) -> bool {
        self.conn_c2().is_some()
    }

    pub fn conn_c2(&self) -> Option<&Rts> {
        match &self.stage {
            Stage::AwaitingBindAnswer { c2, .. } | Stage::Bound { c2, .. } => Some(c2),
            _ => None,
        }
    }

    /// The OUT channel's response head, whatever its status.
    pub fn out_head(&self) -> Option<&ResponseHead> {
        match &self.stage {
            Stage::OutRefused(out)
            | Stage::AwaitingConnA3 { out, .. }
            | Stage::AwaitingConnC2 { out, .. }
            | Stage::AwaitingBindAnswer { out, .. }
            | Stage::Bound { out, .. } => Some(out),
            Stage::AwaitingLogon(_) | Stage::Refused { .. } | Stage::AwaitingOutHead(_) => None,
        }
    }

    /// The channel that answered instead of going on, and its answer.
    pub fn refused(&self) -> Option<(Method, &ResponseHead)> {
        match &self.stage {
            Stage::Refused { method, head } => Some((*method, head)),
            _ => None,
        }
    }

    /// Why it stopped short of an answer, when a read or write failed.
    pub fn error(&self) -> Option<&RpchError> {
        match &self.stage {
            Stage::AwaitingLogon(error)
            | Stage::AwaitingOutHead(error)
            | Stage::AwaitingConnA3 { error, .. }
            | Stage::AwaitingConnC2 { error, .. }
            | Stage::AwaitingBindAnswer { error, .. } => Some(error),
            Stage::Refused { .. } | Stage::OutRefused(_) | Stage::Bound { .. } => None,
        }
    }

    pub fn bind(&self) -> Option<&BindAnswer> {
        match &self.stage {
            Stage::Bound { answer, .. } => Some(answer),
            _ => None,
        }
    }
}

/// The IN and OUT channels' TLS connections, opened (in parallel) before any credentials are sent.
pub type Opened = (Result<Channel, RpchError>, Result<Channel, RpchError>);

/// Opens the two channels of a virtual connection to `target`'s proxy: no request yet, no credentials.
pub async fn open(net: &Net, target: Target<'_>) -> Opened {
    tokio::join!(
        Channel::open(net, target.proxy, target.proxy_port),
        Channel::open(net, target.proxy, target.proxy_port)
    )
}

/// Opens a virtual connection to `target.server:endpoint` on channels opened beforehand ([`open`]) and
/// binds `interface` over it; the logon starts only now.
pub async fn bind_on(opened: Opened, target: Target<'_>, interface: Interface, logon: Logon<'_>) -> VirtualConnection {
    let mut seen = Seen::default();
    let stage = run_bind(opened, target, interface, logon, &mut seen).await;
    VirtualConnection {
        endpoint: target.endpoint,
        challenge: seen.challenge,
        binding: seen.binding,
        stage,
    }
}

/// A random cookie ([MS-RPCH] 2.2.3.1: virtual connection, channel and association group cookies).
fn cookie(peer: SocketAddr) -> Result<pdu::Cookie, RpchError> {
    use ring::rand::SecureRandom as _;
    let mut c = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut c)
        .map_err(|_| RpchError::Io {
            addr: peer,
            what: "making a cookie",
            reason: "the system random generator failed".into(),
        })?;
    Ok(c)
}

/// What the channels' NTLM logons showed (the first one's).
#[derive(Default)]
struct Seen {
    challenge: Option<ChallengeInfo>,
    binding: Option<ChannelBinding>,
}

async fn run_bind(
    opened: Opened,
    target: Target<'_>,
    interface: Interface,
    logon: Logon<'_>,
    seen: &mut Seen,
) -> Stage {
    let (in_ch, out_ch) = opened;
    let (mut in_ch, mut out_ch) = match (in_ch, out_ch) {
        (Ok(i), Ok(o)) => (i, o),
        (Err(e), _) | (_, Err(e)) => return Stage::AwaitingLogon(e),
    };
    let (in_auth, out_auth) = tokio::join!(
        authorization(&mut in_ch, Method::In, target, logon),
        authorization(&mut out_ch, Method::Out, target, logon)
    );
    let mut values = Vec::new();
    for (method, auth) in [(Method::In, in_auth), (Method::Out, out_auth)] {
        match auth {
            Ok(logged) => {
                seen.challenge = seen.challenge.take().or(logged.challenge);
                seen.binding = seen.binding.take().or(logged.binding);
                values.push(logged.value);
            }
            Err(Ok((head, _))) => return Stage::Refused { method, head },
            Err(Err(e)) => return Stage::AwaitingLogon(e),
        }
    }
    let sent = async {
        let peer = in_ch.peer;
        let connection = cookie(peer)?;
        let mut in_request = target.head(Method::In, channel::IN_CONTENT_LENGTH, Some(&values[0]));
        in_request.extend_from_slice(&Rts::conn_b1(connection, cookie(peer)?, cookie(peer)?).encode());
        let mut out_request = target.head(Method::Out, channel::OUT_CONTENT_LENGTH, Some(&values[1]));
        out_request.extend_from_slice(&Rts::conn_a1(connection, cookie(peer)?, RECEIVE_WINDOW).encode());
        in_ch.write(&in_request, "sending RPC_IN_DATA and CONN/B1").await?;
        out_ch.write(&out_request, "sending RPC_OUT_DATA and CONN/A1").await
    };
    if let Err(e) = sent.await {
        return Stage::AwaitingOutHead(e);
    }

    // The IN channel answers only with an error (401, 503 RPC Error): watch it while reading OUT.
    let out = match watched(&mut in_ch, out_ch.read_head()).await {
        Ok(Read::Got(head)) if head.status == 200 => head,
        Ok(Read::Got(head)) => return Stage::OutRefused(head),
        Ok(Read::InAnswered(head)) => {
            return Stage::Refused {
                method: Method::In,
                head,
            };
        }
        Err(error) => return Stage::AwaitingOutHead(error),
    };
    // Through TMG the body is chunked: the PDUs are read from its data.
    if let Err(error) = out_ch.body_of(&out) {
        return Stage::AwaitingConnA3 { out, error };
    }
    match watched(&mut in_ch, next_rts(&mut out_ch, "CONN/A3")).await {
        Ok(Read::Got(_a3)) => {}
        Ok(Read::InAnswered(head)) => {
            return Stage::Refused {
                method: Method::In,
                head,
            };
        }
        Err(error) => return Stage::AwaitingConnA3 { out, error },
    }
    let c2 = match watched(&mut in_ch, next_rts(&mut out_ch, "CONN/C2")).await {
        Ok(Read::Got(c2)) => c2,
        Ok(Read::InAnswered(head)) => {
            return Stage::Refused {
                method: Method::In,
                head,
            };
        }
        Err(error) => return Stage::AwaitingConnC2 { out, error },
    };
    if let Err(error) = in_ch.write(&pdu::bind(interface, 1), "sending the bind").await {
        return Stage::AwaitingBindAnswer { out, c2, error };
    }
    let bytes = match watched(&mut in_ch, next_answer(&mut out_ch)).await {
        Ok(Read::Got(bytes)) => bytes,
        Ok(Read::InAnswered(head)) => {
            return Stage::Refused {
                method: Method::In,
                head,
            };
        }
        Err(error) => return Stage::AwaitingBindAnswer { out, c2, error },
    };
    match BindAnswer::decode(&bytes) {
        Ok(answer) => Stage::Bound { out, c2, answer },
        Err(error) => Stage::AwaitingBindAnswer {
            out,
            c2,
            error: RpchError::Pdu {
                addr: out_ch.peer,
                error,
            },
        },
    }
}

/// What a watched read of the OUT channel gave.
enum Read<T> {
    Got(T),
    /// The IN channel answered first (with an error answer: it has nothing else to say).
    InAnswered(ResponseHead),
}

/// Runs a read on the OUT channel while watching the IN channel for an error answer.
async fn watched<T>(
    in_ch: &mut Channel,
    out_read: impl std::future::Future<Output = Result<T, RpchError>>,
) -> Result<Read<T>, RpchError> {
    tokio::select! {
        r = out_read => r.map(Read::Got),
        head = in_ch.next_head() => head.map(Read::InAnswered),
    }
}

/// The next RTS PDU that is not a ping or flow control.
async fn next_rts(out_ch: &mut Channel, what: &'static str) -> Result<Rts, RpchError> {
    for _ in 0..MAX_PDUS_PER_WAIT {
        let bytes = out_ch.read_pdu(what).await?;
        let rts = Rts::decode(&bytes).map_err(|error| RpchError::Pdu {
            addr: out_ch.peer,
            error,
        })?;
        if !is_housekeeping(&rts) {
            return Ok(rts);
        }
    }
    Err(too_chatty(out_ch, what))
}

/// The next PDU that is not RTS: the answer to the bind.
async fn next_answer(out_ch: &mut Channel) -> Result<Vec<u8>, RpchError> {
    for _ in 0..MAX_PDUS_PER_WAIT {
        let bytes = out_ch.read_pdu("the answer to the bind").await?;
        match Header::read(&bytes) {
            Ok(h) if h.ptype == ptype::RTS => continue,
            _ => return Ok(bytes),
        }
    }
    Err(too_chatty(out_ch, "the answer to the bind"))
}

fn too_chatty(out_ch: &Channel, what: &'static str) -> RpchError {
    RpchError::TooChatty {
        addr: out_ch.peer,
        count: MAX_PDUS_PER_WAIT,
        what,
    }
}

fn is_housekeeping(rts: &Rts) -> bool {
    rts.flags & pdu::rts_flags::PING != 0
        || rts.commands.iter().all(|c| {
            matches!(
                c,
                RtsCommand::FlowControlAck { .. } | RtsCommand::Empty | RtsCommand::Padding(_)
            )
        }) && !rts.commands.is_empty()
}
