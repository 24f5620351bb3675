//! `migcheck-bench`: the benchmarks behind BENCHMARKS.md, run by `cargo xtask bench` (which builds
//! everything in release first). It starts the lab on loopback, measures migcheck and the peers on it in
//! the same run, prints a table and writes BENCHMARKS.md. Figures are printed, never asserted; an answer
//! that is not the expected one is an error, so every figure is of work actually done.
//!
//! Usage: migcheck-bench --root DIR --migcheck PATH [--runs N] [--out FILE] [--only capacity|page] [--rtt LIST]
//!
//! `--rtt 0,50,100,200` measures the healthy diagnosis and the peers across an emulated network at each
//! round-trip time (`rtt.rs`) and rewrites only that section of BENCHMARKS.md; the full run keeps it.
//!
//! `--only capacity` (or `--capacity-only`) measures the relay's capacity alone and prints it, leaving
//! BENCHMARKS.md as it is (for profiling the relay under load: `perf record -p` on the relay it starts);
//! `--only page` does the same for the page (bytes received, first paint, usable form; no lab needed).

mod capacity;
mod critical_path;
mod latency;
mod page;
mod peers;
mod profile;
mod rtt;
mod stats;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use migcheck_lab::relay_process::RelayProcess;
use migcheck_lab::{AdScenario, Lab};
use stats::{Samples, ms};

/// The per-attempt timeout of the dead-candidate comparison, for migcheck and exchangelib alike.
const DEAD_TIMEOUT_SECS: u64 = 3;
/// Runs of each peer (they take seconds each).
const PEER_RUNS: usize = 5;

struct Args {
    root: PathBuf,
    migcheck: PathBuf,
    runs: usize,
    out: PathBuf,
    capacity_only: bool,
    /// `--only page`: the page's figures alone, printed; BENCHMARKS.md is left as it is.
    page_only: bool,
    /// `--rtt`: the round-trip times to emulate, in milliseconds.
    rtt: Option<Vec<u64>>,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut root, mut migcheck, mut runs, mut out) = (None, None, 30, None);
    let (mut capacity_only, mut page_only) = (false, false);
    let mut rtt = None;
    while let Some(flag) = it.next() {
        if flag == "--capacity-only" {
            capacity_only = true;
            continue;
        }
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--only" => match value()?.as_str() {
                "page" => page_only = true,
                "capacity" => capacity_only = true,
                other => return Err(format!("--only {other}: page or capacity")),
            },
            "--root" => root = Some(PathBuf::from(value()?)),
            "--migcheck" => migcheck = Some(PathBuf::from(value()?)),
            "--runs" => runs = value()?.parse().map_err(|_| "--runs: a number of runs, like 30")?,
            "--out" => out = Some(PathBuf::from(value()?)),
            "--rtt" => rtt = Some(rtt::parse(&value()?)?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let root = root.ok_or("--root DIR (the workspace) is required")?;
    Ok(Args {
        migcheck: migcheck.unwrap_or_else(|| root.join("target/release/migcheck")),
        out: out.unwrap_or_else(|| root.join("BENCHMARKS.md")),
        runs: runs.max(3),
        root,
        capacity_only,
        page_only,
        rtt,
    })
}

/// One line of the summary table.
struct Row {
    what: String,
    figure: String,
    target: &'static str,
    met: Option<bool>,
}

fn row(what: impl Into<String>, figure: impl Into<String>, target: &'static str, met: Option<bool>) -> Row {
    Row {
        what: what.into(),
        figure: figure.into(),
        target,
        met,
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("migcheck-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn say(what: &str) {
    eprintln!("bench: {what}");
}

fn run() -> Result<(), String> {
    let args = args()?;
    let started = Instant::now();
    if args.page_only {
        // The page needs no lab: a relay with no lab flags serves it.
        let mut detail = String::new();
        let rows = page_rows(&args, &[], &mut detail)?;
        println!("\n{}\n{detail}", table(&rows));
        return Ok(());
    }
    say("starting the lab");
    let lab = Lab::shared();
    lab.try_autodiscover()
        .map_err(|e| format!("the Autodiscover lab: {e}"))?;
    lab.try_outlook_anywhere()
        .map_err(|e| format!("the Outlook Anywhere lab: {e}"))?;
    let healthy = AdScenario::Healthy;
    let mut rows = Vec::new();
    let mut detail = String::new();
    if let Some(rtts) = &args.rtt {
        let section = rtt::run(&args.migcheck, &args.root, rtts)?;
        println!("\n{section}");
        let document = std::fs::read_to_string(&args.out).unwrap_or_default();
        std::fs::write(&args.out, rtt::splice(&document, &section))
            .map_err(|e| format!("{}: {e}", args.out.display()))?;
        say(&format!("wrote the RTT section of {}", args.out.display()));
        return Ok(());
    }
    if args.capacity_only {
        let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
        let rows = capacity_rows(&args, &rt, &mut detail)?;
        println!("\n{}\n{detail}", table(&rows));
        return Ok(());
    }

    // Warm-up, and the report the profile reads.
    let (_, report) = latency::cli(&args.migcheck, healthy, 2)?;
    latency::check_healthy(&report)?;

    say(&format!("{} CLI runs of the healthy Autodiscover diagnosis", args.runs));
    let mut cli_runs = Vec::new();
    for _ in 0..args.runs {
        let (took, report) = latency::cli(&args.migcheck, healthy, 2)?;
        latency::check_healthy(&report)?;
        cli_runs.push(took);
    }
    let cli = Samples::new(cli_runs);
    let target = Duration::from_millis(300);
    rows.push(row(
        format!("Full diagnosis, CLI (median / p95 of {})", cli.len()),
        format!("{} / {}", ms(cli.median()), ms(cli.percentile(95))),
        "≤ 300 ms",
        Some(cli.percentile(95) <= target),
    ));

    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    say(&format!("{} API runs", args.runs));
    let api = {
        let relay = RelayProcess::start(&args.migcheck, &generous(&[])).map_err(|e| e.to_string())?;
        let body = latency::body(healthy);
        rt.block_on(async {
            let client = reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|e| e.to_string())?;
            let mut runs = Vec::new();
            latency::api(&client, relay.addr, &body).await?;
            for _ in 0..args.runs {
                let (took, report) = latency::api(&client, relay.addr, &body).await?;
                latency::check_healthy(&report)?;
                runs.push(took);
            }
            Ok::<_, String>(Samples::new(runs))
        })?
    };
    rows.push(row(
        format!("Full diagnosis, relay API (median / p95 of {})", api.len()),
        format!("{} / {}", ms(api.median()), ms(api.percentile(95))),
        "≤ 300 ms",
        Some(api.percentile(95) <= target),
    ));

    say("the peers on the same lab");
    let peers = peers::Peers {
        root: args.root.clone(),
    };
    let mail_host = format!("mail.{}", healthy.domain());
    let mail_ip = lab
        .autodiscover()
        .addr(&mail_host)
        .ok_or_else(|| format!("{mail_host} is not in the lab"))?;
    let repeat = |f: &dyn Fn() -> Result<Duration, String>| -> Result<Samples, String> {
        (0..PEER_RUNS)
            .map(|_| f())
            .collect::<Result<Vec<_>, _>>()
            .map(Samples::new)
    };
    let exchangelib = repeat(&|| peers.exchangelib(healthy, None, lab.dns()))?;
    let oa_proxy = lab.outlook_anywhere().addr(migcheck_lab::OaScenario::Healthy);
    let rpcmap = repeat(&|| peers.rpcmap(oa_proxy))?;
    if !peers.has_sslyze() {
        return Err("sslyze is not in target/bench-venv: run `cargo xtask bench`, which installs it".into());
    }
    let sslyze = repeat(&|| peers.sslyze(&mail_host, mail_ip))?;
    let peer_total = exchangelib.median() + rpcmap.median() + sslyze.median();
    let ratio = peer_total.as_secs_f64() / cli.median().as_secs_f64();
    rows.push(row(
        "Peers on the same work: exchangelib + rpcmap + sslyze (medians)",
        format!(
            "{} + {} + {} = {}",
            ms(exchangelib.median()),
            ms(rpcmap.median()),
            ms(sslyze.median()),
            ms(peer_total)
        ),
        "",
        None,
    ));
    rows.push(row(
        "migcheck (CLI median) faster than the peers' total by",
        format!("{ratio:.1}×"),
        "≥ 5×",
        Some(ratio >= 5.0),
    ));

    say("two dead candidates (the Hanging scenario)");
    let hanging = AdScenario::Hanging;
    let (dead_took, dead_report) = latency::cli(&args.migcheck, hanging, DEAD_TIMEOUT_SECS)?;
    // The settings must come from the SRV candidate: the dead ones did not stop the diagnosis.
    match dead_report.check("autodiscover.srv") {
        Some(c) if c.status == migcheck_shared::Status::Pass => {}
        other => {
            return Err(format!(
                "the Hanging scenario's SRV candidate did not answer: {other:?}"
            ));
        }
    }
    let timeout = Duration::from_secs(DEAD_TIMEOUT_SECS);
    let dead_ratio = dead_took.as_secs_f64() / timeout.as_secs_f64();
    let exchangelib_dead = peers.exchangelib(hanging, Some(DEAD_TIMEOUT_SECS), lab.dns())?;
    rows.push(row(
        format!("Root domain and autodiscover.D never answer, timeout {DEAD_TIMEOUT_SECS} s: migcheck"),
        format!("{} ({dead_ratio:.2}× the timeout)", ms(dead_took)),
        "≤ 1.2× timeout",
        Some(dead_ratio <= 1.2),
    ));
    rows.push(row(
        format!("The same for exchangelib (timeout {DEAD_TIMEOUT_SECS} s)"),
        format!(
            "{} ({:.2}× the timeout)",
            ms(exchangelib_dead),
            exchangelib_dead.as_secs_f64() / timeout.as_secs_f64()
        ),
        "",
        None,
    ));

    rows.extend(capacity_rows(&args, &rt, &mut detail)?);

    say("the page");
    rows.extend(page_rows(&args, &generous(&[]), &mut detail)?);

    let profile = profile_text(&report);
    let table = table(&rows);
    println!("\n{table}\n{profile}");
    let text = document(&args, &table, &detail, &profile, started.elapsed());
    std::fs::write(&args.out, text).map_err(|e| format!("{}: {e}", args.out.display()))?;
    say(&format!("wrote {}", args.out.display()));
    Ok(())
}

/// The page's rows, served by a relay of its own started with `flags`.
fn page_rows(args: &Args, flags: &[String], detail: &mut String) -> Result<Vec<Row>, String> {
    let relay = RelayProcess::start(&args.migcheck, flags).map_err(|e| e.to_string())?;
    page::rows(&args.root, relay.addr, detail)
}

/// The relay's flags on the lab, with a rate limit no benchmark reaches.
fn generous(extra: &[&str]) -> Vec<String> {
    let mut flags = latency::lab_flags(2);
    flags.extend(["--rate-per-minute", "1000000", "--burst", "1000000"].map(String::from));
    flags.extend(extra.iter().map(ToString::to_string));
    flags
}

/// Capacity at 50 and 200 at once: a row each, the relay's CPU per diagnosis in `detail`.
fn capacity_rows(args: &Args, rt: &tokio::runtime::Runtime, detail: &mut String) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    say("relay capacity at 50 and 200 at once");
    let body = latency::body(AdScenario::Healthy);
    for (concurrency, requests) in [(50, 500), (200, 1000)] {
        let relay =
            RelayProcess::start(&args.migcheck, &generous(&["--max-concurrent", "512"])).map_err(|e| e.to_string())?;
        let cpu_before = relay.cpu_time();
        let mut c = rt.block_on(capacity::run(
            relay.addr,
            &body,
            concurrency,
            requests,
            Duration::from_secs(120),
        ));
        c.peak_rss_mib = relay.peak_rss_mib();
        c.relay_cpu_per_diagnosis = (relay.cpu_time() - cpu_before) / u32::try_from(c.requests.max(1)).unwrap_or(1);
        let _ = writeln!(
            detail,
            "- at concurrency {concurrency}: the relay's own CPU time was {:.1} ms per diagnosis; the rest of the two cores went to the lab's servers and the load generator",
            c.relay_cpu_per_diagnosis.as_secs_f64() * 1000.0
        );
        if let Some(e) = &c.first_error {
            let _ = writeln!(detail, "- at concurrency {concurrency}, the first error: {e}");
        }
        rows.push(row(
            format!("Capacity at {concurrency} at once ({} full diagnoses)", c.requests),
            format!(
                "{:.0}/s, {} errors, p99 {}, peak RSS {:.0} MiB",
                c.per_second,
                c.errors,
                ms(c.p99),
                c.peak_rss_mib
            ),
            "≥ 50/s, 0 errors, ≤ 100 MB",
            Some(c.per_second >= 50.0 && c.errors == 0 && c.peak_rss_mib <= 100.0),
        ));
    }

    Ok(rows)
}

fn table(rows: &[Row]) -> String {
    let mut t = String::from("| Measure | Figure | Target | Met |\n|---|---|---|---|\n");
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(t, "| {} | {} | {} | {met} |", r.what, r.figure, r.target);
    }
    t
}

fn profile_text(report: &migcheck_shared::Report) -> String {
    let mut t = format!(
        "Where one healthy diagnosis spends its {} ms (wall time with at least one probe in each phase; probes overlap):\n\n| Phase | Busy | Steps |\n|---|---|---|\n",
        report.elapsed_ms
    );
    for p in profile::phases(report) {
        let _ = writeln!(t, "| {:?} | {} ms | {} |", p.phase, p.busy_ms, p.steps);
    }
    t.push_str("\nThe slowest checks: ");
    let slow: Vec<String> = profile::slowest(report, 5)
        .into_iter()
        .map(|(id, ms)| format!("`{id}` {ms} ms"))
        .collect();
    t.push_str(&slow.join(", "));
    t.push('\n');
    t
}

fn document(args: &Args, table: &str, detail: &str, profile: &str, took: Duration) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = today();
    // The RTT section (`--rtt`) is measured on its own: kept as it was.
    let kept = std::fs::read_to_string(&args.out).unwrap_or_default();
    let rtt_section = rtt::existing(&kept).map(|s| format!("\n{s}\n")).unwrap_or_default();
    format!(
        "# Benchmarks\n\n\
         Recorded {date} on {cores} cores ({cpu}), Debian, everything on loopback, by\n\n\
         ```sh\ncargo xtask bench\n```\n\n\
         ({} runs per migcheck figure, {PEER_RUNS} per peer; the run took {:.0} s.) The lab is the tests' lab, started by\n\
         the benchmark in release mode; migcheck is `target/release/migcheck`. The peers are Debian's python3-exchangelib\n\
         4.9 (POX Autodiscover), impacket 0.13.1's rpcmap.py (RPC over HTTP bind of EMSMDB through the healthy\n\
         Outlook Anywhere proxy) and sslyze 6.3.1 `--certinfo`, each timed as a whole process as a user runs it.\n\
         migcheck's CLI figure is a whole process too: Autodiscover (four candidates and V2), the certificate,\n\
         Outlook Anywhere (echo, logon, three binds), MAPI over HTTP, EWS and the version.\n\n\
         {table}\n{detail}\n{profile}{rtt_section}",
        args.runs,
        took.as_secs_f64()
    )
}

/// The date and time now, UTC, for the record.
fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
