//! `migcheck-bench --rtt 0,50,100,200`: the healthy diagnosis and the peers across an emulated network,
//! through the lab's latency injector (`migcheck_lab::latency`), one round-trip time after another. It
//! writes its own section of BENCHMARKS.md (between [`START`] and [`END`]) and leaves the rest as it is.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use migcheck_lab::latency::{Injector, Route};
use migcheck_lab::{AdScenario, Lab, OaScenario};
use migcheck_shared::{Phase, Report};

use crate::critical_path::{Span, critical_path, spans};
use crate::peers::Peers;
use crate::stats::{Samples, ms};
use crate::{latency, say};

pub const START: &str = "<!-- rtt: written by `cargo xtask bench --rtt ...`; kept by the full run -->";
pub const END: &str = "<!-- rtt: end -->";
/// Where the hand-written notes after the section end (the levers tried, before and after): `--rtt`
/// leaves them alone, and the full run keeps them with the section.
pub const NOTES_END: &str = "<!-- rtt: notes end -->";
/// Runs of migcheck and of each peer at every round-trip time.
const RUNS: usize = 5;
const PEER_RUNS: usize = 3;
/// migcheck's per-step timeout across the emulated network (its default, as a user runs it).
const TIMEOUT_SECS: u64 = 10;
/// Echo round trips for the injector's own cost.
const ECHOES: usize = 2000;
/// The round-trip time the targets are set at.
const TARGET_RTT_MS: u64 = 100;

pub fn parse(list: &str) -> Result<Vec<u64>, String> {
    let rtts: Vec<u64> = list
        .split(',')
        .map(|v| v.trim().parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("--rtt {list}: milliseconds separated by commas, like 0,50,100,200"))?;
    if rtts.is_empty() || rtts.iter().any(|&r| r > 1000) {
        return Err(format!("--rtt {list}: between 0 and 1000 ms each"));
    }
    Ok(rtts)
}

/// The figures at one round-trip time.
struct AtRtt {
    rtt_ms: u64,
    migcheck: Samples,
    /// The report of the median run.
    report: Report,
    exchangelib: Samples,
    rpcmap: Samples,
    sslyze: Samples,
    /// Connections through the injector per diagnosis.
    connections: u64,
}

impl AtRtt {
    fn peers(&self) -> Duration {
        self.exchangelib.median() + self.rpcmap.median() + self.sslyze.median()
    }
}

/// Runs everything and returns the section of BENCHMARKS.md.
pub fn run(migcheck: &Path, root: &Path, rtts: &[u64]) -> Result<String, String> {
    let lab = Lab::shared();
    let healthy = AdScenario::Healthy;
    // Every server the diagnosis and the peers reach must be up before the injector looks for them.
    lab.try_autodiscover()
        .map_err(|e| format!("the Autodiscover lab: {e}"))?;
    lab.try_outlook_anywhere()
        .map_err(|e| format!("the Outlook Anywhere lab: {e}"))?;
    let peers = Peers {
        root: root.to_path_buf(),
    };
    if !peers.has_sslyze() {
        return Err("sslyze is not in target/bench-venv: run `cargo xtask bench`, which installs it".into());
    }

    say("the injector's own cost: echo round trips direct and through it at 0 ms");
    let (direct_echo, relayed_echo) = echo_cost()?;
    say(&format!("{RUNS} direct CLI runs (no injector)"));
    let direct = migcheck_runs(migcheck, &latency::lab_flags(TIMEOUT_SECS))?.0;

    let mut rows = Vec::new();
    for &rtt_ms in rtts {
        let rtt = Duration::from_millis(rtt_ms);
        let through = lab
            .through_latency(rtt)
            .map_err(|e| format!("the latency injector at {rtt_ms} ms: {e}"))?;
        say(&format!(
            "{rtt_ms} ms: {RUNS} CLI runs and {PEER_RUNS} of each peer through {} relays",
            through.routes().len()
        ));
        let before = through.counts().connections;
        let (migcheck_samples, report) = migcheck_runs(migcheck, &through.migcheck_flags(TIMEOUT_SECS))?;
        let connections = (through.counts().connections - before) / RUNS as u64;
        let repeat = |f: &dyn Fn() -> Result<Duration, String>| -> Result<Samples, String> {
            (0..PEER_RUNS)
                .map(|_| f())
                .collect::<Result<Vec<_>, _>>()
                .map(Samples::new)
        };
        let mail_host = format!("mail.{}", healthy.domain());
        let mail_ip = lab
            .autodiscover()
            .addr(&mail_host)
            .ok_or_else(|| format!("{mail_host} is not in the lab"))?;
        let proxy = through.relay_addr(lab.outlook_anywhere().addr(OaScenario::Healthy));
        let exchangelib = repeat(&|| peers.exchangelib(healthy, None, through.dns()))?;
        let rpcmap = repeat(&|| peers.rpcmap(proxy))?;
        let sslyze = repeat(&|| peers.sslyze(&mail_host, through.relay_addr(mail_ip)))?;
        rows.push(AtRtt {
            rtt_ms,
            migcheck: migcheck_samples,
            report,
            exchangelib,
            rpcmap,
            sslyze,
            connections,
        });
    }
    Ok(section(rtts, &direct, (direct_echo, relayed_echo), &rows))
}

/// `RUNS` CLI runs of the healthy diagnosis: their times and the median run's report.
fn migcheck_runs(migcheck: &Path, flags: &[String]) -> Result<(Samples, Report), String> {
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let (took, report) = latency::cli_with(migcheck, AdScenario::Healthy, flags)?;
        latency::check_healthy(&report)?;
        runs.push((took, report));
    }
    runs.sort_by_key(|(took, _)| *took);
    let times = Samples::new(runs.iter().map(|(t, _)| *t).collect());
    let (_, report) = runs.swap_remove(RUNS / 2);
    Ok((times, report))
}

/// `ECHOES` request-and-answer round trips of 64 bytes on loopback, direct and through a 0-ms
/// injector: the total time of each.
fn echo_cost() -> Result<(Duration, Duration), String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("echo server: {e}"))?;
    let echo_addr = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let _ = conn.set_nodelay(true);
                let mut buf = [0u8; 64];
                while conn.read_exact(&mut buf).is_ok() && conn.write_all(&buf).is_ok() {}
            });
        }
    });
    let time = |addr: SocketAddr| -> Result<Duration, String> {
        let mut conn = TcpStream::connect(addr).map_err(|e| format!("echo client: {e}"))?;
        conn.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut buf = [7u8; 64];
        let start = Instant::now();
        for _ in 0..ECHOES {
            conn.write_all(&buf).map_err(|e| e.to_string())?;
            conn.read_exact(&mut buf).map_err(|e| e.to_string())?;
        }
        Ok(start.elapsed())
    };
    let direct = time(echo_addr)?;
    let injector = Injector::start(
        Duration::ZERO,
        &[Route {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            backend: echo_addr,
        }],
        None,
    )
    .map_err(|e| format!("the 0-ms injector: {e}"))?;
    let relayed = time(injector.routes()[0].listen)?;
    Ok((direct, relayed))
}

fn section(
    rtts: &[u64],
    direct: &Samples,
    (direct_echo, relayed_echo): (Duration, Duration),
    rows: &[AtRtt],
) -> String {
    let mut t = String::new();
    let list: Vec<String> = rtts.iter().map(u64::to_string).collect();
    let _ = writeln!(t, "{START}\n## Across a network: round-trip times emulated\n");
    let _ = writeln!(
        t,
        "Recorded {} by `cargo xtask bench --rtt {}` ({RUNS} runs of migcheck and {PEER_RUNS} of each peer at each \
         round-trip time; medians). The healthy diagnosis and the peers as above, but every connection goes through \
         the lab's latency injector (`tests/lab/src/latency.rs`): a userspace relay per server that hands each chunk \
         on half a round trip later in each direction and holds a connection's first byte one round trip (the TCP \
         handshake). DNS is emulated too: a UDP relay answers after one round trip (with the relays' addresses). \
         Not emulated: bandwidth, loss, and refused connections (the healthy scenario's root domain has no server; \
         its refusal comes at once, not after a round trip). migcheck is fenced to the relays' addresses \
         (`--egress`), so nothing of its reaches a server directly; its per-step timeout is {TIMEOUT_SECS} s.\n",
        crate::today(),
        list.join(",")
    );
    let per_echo_us = |d: Duration| d.as_secs_f64() * 1e6 / ECHOES as f64;
    let _ = writeln!(
        t,
        "The injector's own cost at 0 ms: {:.0} µs per round trip ({ECHOES} echo round trips of 64 bytes: {:.0} µs \
         direct, {:.0} µs through it; budget 1 ms); the diagnosis took {} direct and {} through the 0-ms injector.\n",
        per_echo_us(relayed_echo) - per_echo_us(direct_echo),
        per_echo_us(direct_echo),
        per_echo_us(relayed_echo),
        ms(direct.median()),
        rows.iter()
            .find(|r| r.rtt_ms == 0)
            .map_or("(not measured)".to_string(), |r| ms(r.migcheck.median())),
    );
    let base = rows.iter().find(|r| r.rtt_ms == 0).map(|r| r.migcheck.median());
    let _ = writeln!(
        t,
        "| RTT | migcheck | exchangelib + rpcmap + sslyze = peers | peers ÷ migcheck | round trips on migcheck's path ((wall − wall at 0) ÷ RTT) | connections per diagnosis |\n|---|---|---|---|---|---|"
    );
    for r in rows {
        let trips = round_trips(base, r);
        let _ = writeln!(
            t,
            "| {} ms | {} | {} + {} + {} = {} | {:.1}× | {} | {} |",
            r.rtt_ms,
            ms(r.migcheck.median()),
            ms(r.exchangelib.median()),
            ms(r.rpcmap.median()),
            ms(r.sslyze.median()),
            ms(r.peers()),
            r.peers().as_secs_f64() / r.migcheck.median().as_secs_f64(),
            trips.map_or("".to_string(), |n| format!("{n:.1}")),
            r.connections,
        );
    }
    if let Some(r) = rows.iter().find(|r| r.rtt_ms == TARGET_RTT_MS) {
        let trips = round_trips(base, r);
        let ratio = r.peers().as_secs_f64() / r.migcheck.median().as_secs_f64();
        let _ = writeln!(
            t,
            "\nTargets at {TARGET_RTT_MS} ms: at most 15 round trips on the critical path: {} ({}); at least 3× faster \
             than the peers' total: {ratio:.1}× ({}).",
            trips.map_or("not measured (no 0 ms run)".to_string(), |n| format!("{n:.1}")),
            met(trips.is_some_and(|n| n <= 15.0)),
            met(ratio >= 3.0),
        );
    }
    if let Some(r) = rows
        .iter()
        .filter(|r| r.rtt_ms > 0)
        .find(|r| r.rtt_ms == TARGET_RTT_MS)
        .or(rows.last())
    {
        let _ = writeln!(t, "\n{}", path_text(r));
    }
    let _ = writeln!(t, "{END}");
    t
}

fn met(yes: bool) -> &'static str {
    if yes { "met" } else { "**missed**" }
}

fn round_trips(base: Option<Duration>, r: &AtRtt) -> Option<f64> {
    let base = base?;
    (r.rtt_ms > 0).then(|| (r.migcheck.median().as_secs_f64() - base.as_secs_f64()) * 1000.0 / r.rtt_ms as f64)
}

/// The critical path of the median run at `r`'s round-trip time, one line per step.
fn path_text(r: &AtRtt) -> String {
    let all = spans(&r.report);
    let rtt = r.rtt_ms.max(1) as f64;
    let path = critical_path(&all, (r.rtt_ms / 10).max(2));
    let count = |phase: Phase| all.iter().filter(|s| s.phase == Some(phase)).count();
    let mut t = format!(
        "The critical path at {} ms (the median run's own timings, {} ms in all: each step from the one that ended \
         last before it began; ≈ round trips = length ÷ RTT). The diagnosis timed {} DNS lookups, {} TCP connects \
         and {} TLS handshakes; the injector saw {} connections.\n\n",
        r.rtt_ms,
        r.report.elapsed_ms,
        count(Phase::Dns),
        count(Phase::Tcp),
        count(Phase::Tls),
        r.connections
    );
    let mut total = 0.0;
    for (i, s) in path.iter().enumerate() {
        let trips = (s.end_ms - s.start_ms) as f64 / rtt;
        total += trips;
        let _ = writeln!(t, "{}. {}", i + 1, step_line(s, trips));
    }
    let _ = writeln!(t, "\nIn all ≈ {total:.1} round trips on the path.");
    t
}

fn step_line(s: &Span, trips: f64) -> String {
    let what = match s.phase {
        Some(p) => format!("`{}` {p:?}", s.check),
        None => "no timed step (waiting on another check, a gate, or the CPU)".to_string(),
    };
    format!("{}–{} ms: {what}, ≈ {trips:.1} round trips", s.start_ms, s.end_ms)
}

/// BENCHMARKS.md with its RTT section replaced by `section` (or added at the end).
pub fn splice(document: &str, section: &str) -> String {
    match (document.find(START), document.find(END)) {
        (Some(a), Some(b)) if b > a => {
            format!(
                "{}{section}\n{}",
                &document[..a],
                &document[b + END.len()..].trim_start_matches('\n')
            )
        }
        _ => format!("{}\n{section}", document.trim_end_matches('\n').to_string() + "\n"),
    }
}

/// The RTT section of `document` with its notes, if it has one.
pub fn existing(document: &str) -> Option<&str> {
    let a = document.find(START)?;
    let (b, marker) = match document[a..].find(NOTES_END) {
        Some(b) => (b, NOTES_END),
        None => (document[a..].find(END)?, END),
    };
    Some(&document[a..a + b + marker.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_replaced_in_place_and_nothing_else_moves() {
        let doc = format!("# B\n\nfigures\n\n{START}\nold\n{END}\n\n## Reading\nnotes\n");
        let new = format!("{START}\nnew\n{END}\n");
        let spliced = splice(&doc, &new);
        assert_eq!(
            spliced,
            format!("# B\n\nfigures\n\n{START}\nnew\n{END}\n\n## Reading\nnotes\n")
        );
        assert_eq!(existing(&spliced), Some(format!("{START}\nnew\n{END}").as_str()));
        let added = splice("# B\n", &new);
        assert_eq!(added, format!("# B\n\n{new}"));
        assert_eq!(existing("# B\n"), None);
        // The notes after the section stay where they are, and go with it.
        let noted = format!("# B\n{START}\nold\n{END}\nlevers\n{NOTES_END}\n## Reading\n");
        let spliced = splice(&noted, &new);
        assert_eq!(
            spliced,
            format!("# B\n{START}\nnew\n{END}\n\nlevers\n{NOTES_END}\n## Reading\n")
        );
        assert_eq!(
            existing(&spliced),
            Some(format!("{START}\nnew\n{END}\n\nlevers\n{NOTES_END}").as_str())
        );
        assert!(parse("0,50, 100").is_ok_and(|r| r == [0, 50, 100]));
        assert!(parse("fast").is_err());
    }
}
