//! `migcheck-lab`: starts the lab, prints where everything is, and waits for Ctrl-C / SIGTERM.
//! `migcheck-lab --demo-out DIR` also writes the demo's requests and relay flags into DIR (for
//! `cargo xtask run --demo`).

use std::process::ExitCode;

use migcheck_lab::{AdScenario, ExScenario, Fixture, Lab, LabMailbox, OaScenario};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

fn main() -> ExitCode {
    // Registered before the lab starts, so a signal during startup still ends in a clean stop.
    let mut signals = match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("migcheck-lab: cannot install signal handlers: {e}");
            return ExitCode::from(2);
        }
    };
    let lab = match Lab::start() {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("migcheck-lab: the lab could not start: {e}");
            return ExitCode::from(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, dir] = args.as_slice()
        && flag == "--demo-out"
    {
        match migcheck_lab::demo::write(&lab, std::path::Path::new(dir)) {
            Ok((demos, _)) => println!("demo written to {}", demos.display()),
            Err(e) => {
                eprintln!("migcheck-lab: the demo could not start: {e}");
                return ExitCode::from(2);
            }
        }
    } else if !args.is_empty() {
        eprintln!("usage: migcheck-lab [--demo-out DIR]");
        return ExitCode::from(2);
    }
    let port = lab.port();
    println!("migcheck lab started in {:.2?}\n", lab.startup_time());
    println!("{:<20} {:<28} ADDRESS", "FIXTURE", "NAME");
    for &f in Fixture::ALL {
        let host = lab.fixture(f);
        let addr = if f == Fixture::Unknown {
            "(NXDOMAIN)".to_string()
        } else {
            format!("{}:{port}", host.addr)
        };
        println!("{:<20} {:<28} {addr}", format!("{f:?}"), host.name);
        for alias in f.alias_names() {
            println!("{:<20} {:<28} {addr}", "", alias);
        }
    }
    println!();
    match lab.try_autodiscover() {
        Ok(ad) => {
            println!(
                "Autodiscover scenarios on {} (ports 443/80), started in {:.2?}:",
                ad.cidr(),
                ad.startup_time()
            );
            for &s in AdScenario::ALL {
                println!(
                    "\n{s}: {} (user {}, password {})",
                    s.description(),
                    s.user(),
                    s.password()
                );
                for h in ad.hosts(s) {
                    println!("  {:<36} {:<14} {}", h.name, h.addr.to_string(), h.role);
                }
                for r in s.srv_records() {
                    println!(
                        "  SRV _autodiscover._tcp.{} priority {} weight {} port {} -> {}",
                        s.domain(),
                        r.priority,
                        r.weight,
                        r.port,
                        r.target
                    );
                }
            }
        }
        Err(e) => println!("Autodiscover scenarios: not started: {e}"),
    }
    println!();
    match lab.try_outlook_anywhere() {
        Ok(oa) => {
            println!(
                "Outlook Anywhere scenarios (the lab's RPC proxy, port 443; request log {}):",
                oa.request_log().display()
            );
            for &s in OaScenario::ALL {
                println!(
                    "  {:<32} {:<16} {s}: {}",
                    s.proxy_host(),
                    oa.addr(s).to_string(),
                    s.description()
                );
            }
            let s = OaScenario::Healthy;
            println!(
                "  Exchange server {}, user {} or {}, password {}",
                s.exchange_server(),
                s.user(),
                s.ntlm_user(),
                s.password()
            );
        }
        Err(e) => println!("Outlook Anywhere scenarios: not started: {e}"),
    }
    println!();
    match lab.try_exchange() {
        Ok(ex) => {
            println!(
                "EWS / MRS Proxy / OWA scenarios (the lab's Exchange front end, port 443; request log {}):",
                ex.request_log().display()
            );
            for &s in ExScenario::ALL {
                println!(
                    "  {:<28} {:<16} {s}: {}",
                    s.host(),
                    ex.addr(s).to_string(),
                    s.description()
                );
            }
            let s = ExScenario::Healthy;
            println!("  user {} or {}, password {}", s.user(), s.ntlm_user(), s.password());
            let mailboxes: Vec<String> = LabMailbox::ALL
                .iter()
                .map(|m| format!("{} {}", m.address(migcheck_lab::EX_ZONE), m.response_code()))
                .collect();
            println!("  mailboxes (in every EWS host's own domain): {}", mailboxes.join(", "));
        }
        Err(e) => println!("EWS scenarios: not started: {e}"),
    }
    println!();
    println!("DNS (UDP+TCP)  {}", lab.dns());
    println!("CA file        {}", lab.ca_file().display());
    println!("egress         {}", lab.egress_cidr());
    println!("lab directory  {}", lab.dir().display());
    println!();
    println!("Try:");
    println!(
        "  migcheck check --host {} --port {port} --dns {} --public-ca-file {} --egress {}",
        Fixture::Expired.host_name(),
        lab.dns(),
        lab.ca_file().display(),
        lab.egress_cidr()
    );
    println!(
        "  openssl s_client -connect {}:{port} -servername {} -CAfile {} </dev/null",
        lab.fixture(Fixture::Valid).addr,
        Fixture::Valid.host_name(),
        lab.ca_file().display()
    );
    println!();
    println!("Running; Ctrl-C or SIGTERM stops the servers and removes the lab directory.");
    let signal = signals.forever().next();
    drop(lab);
    if let Some(sig) = signal {
        eprintln!("migcheck-lab: stopped (signal {sig})");
    }
    ExitCode::SUCCESS
}
