//! The command line: `migcheck [serve]` and `migcheck check`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use migcheck_shared::{
    AuthMethod, AutodiscoverTarget, DiagnoseRequest, Field, HostTarget, OutlookAnywhereTarget, Password,
    RemoteMoveTarget, Verdict,
};

use axum::http::HeaderValue;

use tokio_util::sync::CancellationToken;

use crate::api::{AppState, Lifecycle, app};
use crate::compare::CompareWith;
use crate::limits::{Hosting, Limits};
use crate::net::{ConnectTo, Dns, Net, ResolveOverride, TrustStore};
use crate::policy::EgressPolicy;
use crate::{diagnose, render};

/// Finds why a migration to Exchange Online says "Unable to connect to the server" (KB 2389390).
#[derive(Parser, Debug)]
#[command(name = "migcheck", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Network options for `serve` when no subcommand is given.
    #[command(flatten)]
    net: NetArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the page and the API (the default when no subcommand is given).
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "MIGCHECK_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR:PORT", value_parser = listen_address)]
        listen: SocketAddr,
        /// Offer the ready-made diagnoses of a demo lab in the page (a JSON list written by
        /// `cargo xtask run --demo`).
        #[arg(long, env = "MIGCHECK_DEMO", value_name = "FILE")]
        demo: Option<PathBuf>,
        #[command(flatten)]
        hosting: HostingArgs,
        #[command(flatten)]
        serving: ServingArgs,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Run a diagnosis from the terminal and print the result.
    Check(CheckArgs),
    /// Read a migration error message (a file, or - for standard input) and explain it, offline.
    Explain {
        /// The text: the wizard's error, Test-MigrationServerAvailability's output, a move report; - reads
        /// standard input.
        #[arg(value_name = "FILE|-")]
        file: PathBuf,
        /// Print one JSON document instead of the readable text.
        #[arg(long)]
        json: bool,
    },
    /// GET a URL and exit 0 on a 2xx answer, 1 otherwise (a container's health check, where there is no
    /// curl): e.g. `migcheck health http://127.0.0.1:8080/healthz`. Bounded by --timeout; an https URL
    /// is verified against Mozilla's roots and --ca-file.
    Health {
        /// The http:// or https:// URL to ask.
        #[arg(value_name = "URL")]
        url: String,
    },
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The Outlook Anywhere host name to check (its certificate and TLS), e.g. mail.contoso.com.
    #[arg(long = long(Field::Host), value_name = "HOST")]
    host: Option<String>,
    /// TCP port (default 443, or the port of a pasted https:// URL).
    #[arg(long = long(Field::Port), value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// Autodiscover mode: the e-mail address of a mailbox to migrate.
    #[arg(long = long(Field::Email), value_name = "ADDR", conflicts_with_all = ["host", "port"])]
    email: Option<String>,
    /// Outlook Anywhere mode (-RPCProxyServer): the RPC proxy host, e.g. mail.contoso.com.
    #[arg(long = long(Field::RpcProxy), value_name = "HOST", conflicts_with_all = ["host", "port", "email"], requires = "exchange_server")]
    rpc_proxy: Option<String>,
    /// Outlook Anywhere mode (-ExchangeServer): the mailbox server's FQDN or <mailbox-guid>@<domain>.
    #[arg(long = long(Field::ExchangeServer), value_name = "NAME", requires = "rpc_proxy", conflicts_with_all = ["host", "email", "remote_server"])]
    exchange_server: Option<String>,
    /// Remote-move mode (-ExchangeRemoteMove -RemoteServer): the MRS Proxy host, e.g. mail.contoso.com.
    #[arg(long = long(Field::RemoteServer), value_name = "HOST", conflicts_with_all = ["host", "port", "email", "rpc_proxy"])]
    remote_server: Option<String>,
    /// Remote-move mode to a Hybrid Agent's name (GUID.resource.mailboxmigration.his.msappproxy.net,
    /// Modern Hybrid): the internal server the agent publishes (the CAS chosen in the Hybrid
    /// Configuration wizard, or Update-HybridApplication's -targetUri), checked from inside.
    #[arg(long = long(Field::AgentTarget), value_name = "HOST", requires = "remote_server")]
    agent_target: Option<String>,
    /// A mailbox the migration account must open through EWS (Full Access); in Autodiscover mode the
    /// e-mail address unless given.
    #[arg(long = long(Field::TargetMailbox), value_name = "ADDR", conflicts_with = "host")]
    target_mailbox: Option<String>,
    /// Remote-move mode: the servers behind the remote server's name (names or addresses, comma-separated,
    /// at most 16), each checked directly with SNI and Host still the remote server's name.
    #[arg(long = long(Field::Servers), value_name = "EX01,EX02", requires = "remote_server")]
    servers: Option<String>,
    /// Outlook Anywhere mode (-Authentication): how to log on to the RPC proxy (default basic).
    #[arg(long = long(Field::Auth), value_enum, value_name = "basic|ntlm", conflicts_with_all = ["host", "email", "remote_server"])]
    auth: Option<AuthArg>,
    /// The migration account: user@domain or DOMAIN\user (default: the e-mail address).
    #[arg(long = long(Field::User), value_name = "NAME", conflicts_with = "host")]
    user: Option<String>,
    /// The environment variable that holds the password (a password is never an argument).
    #[arg(long = long(Field::Password), value_name = "VAR", conflicts_with = "host")]
    password_env: Option<String>,
    /// Let the password go to hosts outside the e-mail address's domain when Autodiscover leads there.
    #[arg(long = long(Field::AllowCredentialRedirect), conflicts_with_all = ["host", "rpc_proxy", "remote_server"])]
    allow_credential_redirect: bool,
    /// Print the report as one JSON document instead of the readable tree.
    #[arg(long)]
    json: bool,
    /// With --host: only the checks that need no password, as a relay outside the network runs them
    /// for --compare-with (DNS, TCP, TLS, the certificate, who answers each Exchange path).
    #[arg(long = "outside-view", requires = "host")]
    outside_view: bool,
    /// Also run the diagnosis's view from outside on this migcheck relay on the internet (its URL), and
    /// show the two side by side, differences first. Only the public name goes there, unless
    /// --compare-send-password.
    #[arg(long = "compare-with", value_name = "URL")]
    compare_with: Option<String>,
    /// The environment variable that holds the --compare-with relay's access token.
    #[arg(long = "compare-token-env", value_name = "VAR", requires = "compare_with")]
    compare_token_env: Option<String>,
    /// Send the whole request, password included, to the --compare-with relay, so it runs every check
    /// from outside too (the report says where the password went). Without it, the password stays here.
    #[arg(long = "compare-send-password", requires = "compare_with")]
    compare_send_password: bool,
    #[command(flatten)]
    net: NetArgs,
}

/// How `serve` exposes the relay: limits, access token, allowed origins, HTTPS.
#[derive(Args, Debug, Clone)]
struct HostingArgs {
    /// Diagnoses each client address may start per minute.
    #[arg(long = "rate-per-minute", env = "MIGCHECK_RATE_PER_MINUTE", default_value_t = Limits::default().rate_per_minute, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    rate_per_minute: u32,
    /// Diagnoses a client address may start at once before the rate applies.
    #[arg(long, env = "MIGCHECK_BURST", default_value_t = Limits::default().burst, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    burst: u32,
    /// Diagnoses running at once, all clients together.
    #[arg(long = "max-concurrent", env = "MIGCHECK_MAX_CONCURRENT", default_value_t = Limits::default().max_concurrent as u64, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_concurrent: u64,
    /// The longest one diagnosis may run, in seconds.
    #[arg(long, env = "MIGCHECK_DEADLINE", default_value_t = Limits::default().deadline.as_secs(), value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    deadline: u64,
    /// The environment variable that holds an access token: the API then needs
    /// `Authorization: Bearer TOKEN` (the page asks for it).
    #[arg(long = long(Field::Token), env = "MIGCHECK_TOKEN_ENV", value_name = "VAR")]
    token_env: Option<String>,
    /// An origin whose pages may call the API from a browser (CORS), e.g. https://example.test
    /// (repeatable; none by default).
    #[arg(
        long = "cors-origin",
        env = "MIGCHECK_CORS_ORIGIN",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    cors_origin: Vec<String>,
    /// A reverse proxy in front of the relay (an address or CIDR network, repeatable): its
    /// X-Forwarded-For names the client the limits count. None by default (the header is ignored).
    #[arg(
        long = "trusted-proxy",
        env = "MIGCHECK_TRUSTED_PROXY",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    trusted_proxy: Vec<String>,
    /// Share the per-client rate limit with the other instances through Redis or Valkey at this URL
    /// (redis://HOST:PORT; a password as redis://:PASSWORD@HOST:PORT, best from the environment). While
    /// the store does not answer, each instance applies its own limit. Default: this process's own.
    #[arg(
        long = "rate-limit-store",
        value_name = "redis://HOST:PORT",
        env = "MIGCHECK_RATE_LIMIT_STORE",
        hide_env_values = true
    )]
    rate_limit_store: Option<String>,
    /// Serve over HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(
        long = "tls-cert",
        env = "MIGCHECK_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(
        long = "tls-key",
        env = "MIGCHECK_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
}

impl HostingArgs {
    fn build(&self) -> Result<Hosting, String> {
        let limits = Limits {
            rate_per_minute: self.rate_per_minute,
            burst: self.burst,
            max_concurrent: usize::try_from(self.max_concurrent).map_err(|e| format!("--max-concurrent: {e}"))?,
            deadline: Duration::from_secs(self.deadline),
        };
        let origins = self
            .cors_origin
            .iter()
            .map(|o| {
                let trimmed = o.trim_end_matches('/');
                match url::Url::parse(trimmed) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.path() == "/" => {
                        HeaderValue::from_str(trimmed).map_err(|e| format!("--cors-origin {o}: {e}"))
                    }
                    _ => Err(format!(
                        "--cors-origin {o}: an origin is a scheme and a host, like https://example.test"
                    )),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let proxies = self
            .trusted_proxy
            .iter()
            .map(|p| {
                crate::policy::parse_network(p)
                    .ok_or_else(|| format!("--trusted-proxy {p}: an address or a CIDR network, like 10.0.0.0/8"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut hosting = Hosting::new(limits)
            .with_cors_origins(origins)
            .with_trusted_proxies(proxies);
        if let Some(var) = &self.token_env {
            let token = secret_from_env(Field::Token, "the access token", var)?;
            hosting = hosting.with_token(token.trim());
        }
        if let Some(url) = &self.rate_limit_store {
            let store = crate::rate_store::RateStore::connect(url).map_err(|e| e.to_string())?;
            hosting = hosting.with_rate_limit_store(store);
        }
        Ok(hosting)
    }
}

/// How `serve` keeps its connections in check, stops, logs and is measured.
#[derive(Args, Debug, Clone)]
struct ServingArgs {
    /// Seconds a connection may take to send a request's head, counted from when the relay waits for
    /// one (also how long an idle keep-alive connection stays open); and an API request's body.
    #[arg(long = "header-timeout", env = "MIGCHECK_HEADER_TIMEOUT", default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Client connections open at once; past it new ones wait in the kernel's queue.
    #[arg(long = "max-connections", env = "MIGCHECK_MAX_CONNECTIONS", default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Connections one client address (an IPv6 /64) may hold open; past it a new one is closed at once.
    /// --trusted-proxy addresses are not counted.
    #[arg(long = "max-connections-per-client", env = "MIGCHECK_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 32, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections_per_client: u64,
    /// On SIGTERM or Ctrl-C: seconds the running diagnoses may take to finish before they are stopped
    /// (their streams then end with an error saying so).
    #[arg(long = "shutdown-grace", env = "MIGCHECK_SHUTDOWN_GRACE", default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=3600))]
    shutdown_grace: u64,
    /// Serve the Prometheus metrics on this address and port only (by default they are /metrics on
    /// --listen).
    #[arg(long = "metrics-listen", env = "MIGCHECK_METRICS_LISTEN", value_name = "ADDR:PORT", value_parser = listen_address)]
    metrics_listen: Option<SocketAddr>,
    /// The log's format: text for a person, json (one object a line) for a log shipper.
    #[arg(
        long = "log-format",
        env = "MIGCHECK_LOG_FORMAT",
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    log_format: LogFormat,
    /// Offer the page's "Compare with the internet's view": a migcheck relay on the internet (its URL)
    /// that runs the same diagnosis from outside. Default: none.
    #[arg(long = "compare-with", env = "MIGCHECK_COMPARE_WITH", value_name = "URL")]
    compare_with: Option<String>,
    /// The environment variable that holds the access token of the --compare-with relay.
    #[arg(
        long = "compare-token-env",
        env = "MIGCHECK_COMPARE_TOKEN_ENV",
        value_name = "VAR",
        requires = "compare_with"
    )]
    compare_token_env: Option<String>,
}

/// The relay to compare with, from `--compare-with` and `--compare-token-env`.
fn compare_with(url: Option<&str>, token_env: Option<&str>, net: &NetArgs) -> Result<Option<CompareWith>, String> {
    let Some(url) = url else {
        return Ok(None);
    };
    let token = match token_env {
        Some(var) => {
            let token = secret_from_env_of("--compare-token-env", "the outside relay's access token", var)?;
            Some(migcheck_shared::Password::new(token.trim()))
        }
        None => None,
    };
    CompareWith::new(url, token, net.ca_file.clone()).map(Some)
}

impl ServingArgs {
    /// The defaults (and the environment's `MIGCHECK_` variables), for `migcheck` with no subcommand.
    fn from_environment() -> Result<Self, clap::Error> {
        let command = <ServingArgs as Args>::augment_args(clap::Command::new("migcheck"));
        let matches = command.try_get_matches_from(["migcheck"])?;
        <ServingArgs as clap::FromArgMatches>::from_arg_matches(&matches)
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum AuthArg {
    Basic,
    Ntlm,
}

/// Set when the relay starts, never by a request: a hosted user cannot widen them.
#[derive(Args, Debug, Clone)]
struct NetArgs {
    /// Answer HOST:PORT with ADDR without asking DNS, like curl (repeatable).
    #[arg(
        long,
        env = "MIGCHECK_RESOLVE",
        value_delimiter = ',',
        value_name = "HOST:PORT:ADDR",
        global = true
    )]
    resolve: Vec<ResolveOverride>,
    /// Reach HOST:PORT through HOST2:PORT2, like curl (repeatable).
    #[arg(
        long = "connect-to",
        env = "MIGCHECK_CONNECT_TO",
        value_delimiter = ',',
        value_name = "HOST:PORT:HOST2:PORT2",
        global = true
    )]
    connect_to: Vec<ConnectTo>,
    /// Ask this DNS server instead of the system's.
    #[arg(long, env = "MIGCHECK_DNS", value_name = "ADDR[:PORT]", value_parser = parse_dns, global = true)]
    dns: Option<SocketAddr>,
    /// Extra trusted root certificates (PEM, or one DER .cer), besides Mozilla's list: your internal CA.
    /// Exchange Online does not trust them, so a chain that needs one is reported as private.
    #[arg(long = "ca-file", env = "MIGCHECK_CA_FILE", value_name = "PEM", global = true)]
    ca_file: Option<PathBuf>,
    /// For test labs: root certificates (PEM, or one DER .cer) treated as public certification
    /// authorities, as if the lab's CA were on Mozilla's list. --ca-file roots are trusted but reported
    /// as private.
    #[arg(
        long = "public-ca-file",
        env = "MIGCHECK_PUBLIC_CA_FILE",
        value_name = "PEM",
        global = true
    )]
    public_ca_file: Option<PathBuf>,
    /// Also trust the operating system's root certificates: on Windows the certificate store (where a
    /// corporate CA usually is), elsewhere the system bundle.
    #[arg(long = "system-roots", env = "MIGCHECK_SYSTEM_ROOTS", global = true)]
    system_roots: bool,
    /// Which addresses may be reached: public, any, or a CIDR list (10.0.0.0/8,192.168.1.5).
    #[arg(
        long,
        env = "MIGCHECK_EGRESS",
        default_value = "public",
        value_name = "POLICY",
        global = true
    )]
    egress: EgressPolicy,
    /// Ports allowed in the public mode.
    #[arg(
        long,
        env = "MIGCHECK_PORTS",
        value_delimiter = ',',
        default_value = "443,80",
        value_name = "LIST",
        value_parser = clap::value_parser!(u16).range(1..),
        global = true
    )]
    ports: Vec<u16>,
    /// Time limit for each network step, in seconds.
    #[arg(long, env = "MIGCHECK_TIMEOUT", default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=300), global = true)]
    timeout: u64,
}

fn parse_dns(s: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    s.parse::<SocketAddr>()
        .map_err(|_| format!("'{s}' is not an IP address with an optional port (192.0.2.53 or 192.0.2.53:5353)"))
}

impl NetArgs {
    fn build(&self) -> Result<Net, String> {
        let timeout = Duration::from_secs(self.timeout);
        let mut trust = TrustStore::from_files(self.ca_file.as_deref(), self.public_ca_file.as_deref())?;
        if self.system_roots {
            crate::platform::add_system_roots(&mut trust)?;
        }
        Ok(Net::new(
            Arc::new(Dns::new(
                self.dns,
                timeout,
                self.resolve.clone(),
                self.connect_to.clone(),
            )),
            self.egress.clone().with_ports(self.ports.clone()),
            Arc::new(trust),
            timeout,
        ))
    }
}

pub fn main() -> ExitCode {
    // The help's name and examples for this system (migcheck.exe and cmd.exe/PowerShell on Windows).
    let matches = crate::platform::adapt(<Cli as clap::CommandFactory>::command()).get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Offline: no runtime, no network.
    if let Some(Command::Explain { file, json }) = &cli.command {
        return crate::explain::run(file, *json);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("migcheck: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        None => {
            // A double-click on Windows: the page opens in the default browser, and an error stays on
            // screen until Enter.
            let double_click = crate::platform::double_clicked();
            let default = SocketAddr::from(([127, 0, 0, 1], 8080));
            let serving = match ServingArgs::from_environment() {
                Ok(s) => s,
                Err(e) => e.exit(),
            };
            let code = runtime.block_on(serve(default, None, None, &serving, &cli.net, double_click));
            if double_click && code != ExitCode::SUCCESS {
                crate::platform::wait_before_closing();
            }
            code
        }
        Some(Command::Serve {
            listen,
            demo,
            hosting,
            serving,
            net,
        }) => runtime.block_on(serve(listen, demo, Some(&hosting), &serving, &net, false)),
        Some(Command::Health { url }) => runtime.block_on(crate::health::run(
            &url,
            Duration::from_secs(cli.net.timeout),
            cli.net.ca_file.as_deref(),
        )),
        Some(Command::Check(args)) => runtime.block_on(check(args)),
        Some(Command::Explain { file, json }) => crate::explain::run(&file, json),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        // The log often goes to a file or a service manager's journal: colour codes there are noise.
        LogFormat::Text => log.with_ansi(use_colour(&std::io::stderr())).try_init(),
        // One JSON object a line, for a log shipper: the same events and fields, so the same rule
        // holds (no secret is ever a field or in a message).
        LogFormat::Json => log.json().with_ansi(false).try_init(),
    };
}

/// A line about the relay itself (where it listens, what it trusts): plain on stderr for a person, an
/// event of the log when the log is JSON (so every line of stderr parses).
fn announce(format: LogFormat, line: &str) {
    match format {
        LogFormat::Text => eprintln!("{line}"),
        LogFormat::Json => tracing::info!("{line}"),
    }
}

/// `open_page`: started by a double-click: any free port if the default one is taken, and the page
/// opened in the default browser.
async fn serve(
    listen: SocketAddr,
    demo: Option<PathBuf>,
    hosting: Option<&HostingArgs>,
    serving: &ServingArgs,
    net: &NetArgs,
    open_page: bool,
) -> ExitCode {
    let demos = match demo.as_deref().map(read_demos).transpose() {
        Ok(d) => d.unwrap_or_default(),
        Err(e) => {
            eprintln!("migcheck: --demo: {e}");
            return ExitCode::from(2);
        }
    };
    let built = hosting.map(HostingArgs::build).transpose().and_then(|h| {
        let tls = match hosting.and_then(|a| a.tls_cert.as_deref().zip(a.tls_key.as_deref())) {
            Some((cert, key)) => {
                Some(crate::serve_tls::server_config(cert, key).map_err(|e| format!("--tls-cert: {e}"))?)
            }
            None => None,
        };
        Ok((h.unwrap_or_default(), tls))
    });
    let (hosting, tls) = match built {
        Ok(b) => b,
        Err(e) => {
            eprintln!("migcheck: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(serving.log_format);
    // Asked once at start, after logging is set up, so the log and `/readyz` say at once whether the
    // shared store answers (its own watch keeps it up to date afterwards).
    hosting.check_store().await;
    match run_server(listen, demos, hosting, tls, serving, net, open_page).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("migcheck: {e}");
            ExitCode::from(2)
        }
    }
}

/// The relay from its first connection to its shutdown: stop accepting on SIGTERM or Ctrl-C, let the
/// running diagnoses finish within the grace, then stop those left (their streams say so).
async fn run_server(
    listen: SocketAddr,
    demos: Vec<migcheck_shared::Demo>,
    hosting: Hosting,
    tls: Option<rustls::ServerConfig>,
    serving: &ServingArgs,
    net: &NetArgs,
    open_page: bool,
) -> Result<(), String> {
    let compare = compare_with(
        serving.compare_with.as_deref(),
        serving.compare_token_env.as_deref(),
        net,
    )?;
    let net = net.build()?;
    let bound = match tokio::net::TcpListener::bind(listen).await {
        Err(e) if open_page && e.kind() == std::io::ErrorKind::AddrInUse => {
            tokio::net::TcpListener::bind(SocketAddr::new(listen.ip(), 0)).await
        }
        other => other,
    };
    let listener = bound.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let metrics_listener = match serving.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr} (--metrics-listen): {e}"))?,
        ),
        None => None,
    };
    let metrics = crate::telemetry::install()?;
    let hygiene = crate::serving::Hygiene {
        header_timeout: Duration::from_secs(serving.header_timeout),
        max_connections: usize::try_from(serving.max_connections).unwrap_or(usize::MAX),
        max_per_client: usize::try_from(serving.max_connections_per_client).unwrap_or(usize::MAX),
        proxies: hosting.trusted_proxies().to_vec(),
    };
    let shown = listener.local_addr().unwrap_or(listen);
    let url = format!("{}://{shown}/", if tls.is_some() { "https" } else { "http" });
    let format = serving.log_format;
    announce(
        format,
        &format!(
            "migcheck {} serving the page at {url} (egress {})",
            env!("CARGO_PKG_VERSION"),
            net.egress
        ),
    );
    announce(format, &trust_and_dns(&net));
    if open_page {
        match crate::platform::open_browser(&url) {
            Ok(()) => eprintln!("opened {url} in the default browser; close this window or press Ctrl+C to stop"),
            Err(e) => eprintln!("migcheck: {e}; open {url} yourself"),
        }
    }
    let stop = CancellationToken::new();
    let lifecycle = Lifecycle {
        request_timeout: hygiene.header_timeout,
        stopping: stop.clone(),
        cut: CancellationToken::new(),
        metrics: metrics_listener.is_none().then(|| metrics.clone()),
    };
    let cut = lifecycle.cut.clone();
    let router = app(Arc::new(AppState {
        lifecycle,
        compare,
        ..AppState::new(net, demos, hosting)
    }));
    let metrics_server = metrics_listener.map(|l| {
        if let Ok(addr) = l.local_addr() {
            announce(format, &format!("metrics at http://{addr}/metrics"));
        }
        tokio::spawn(crate::serving::serve(
            l,
            None,
            crate::api::metrics_app(metrics),
            hygiene.clone(),
            stop.clone(),
        ))
    });
    tokio::spawn(stop_on_signal(stop.clone()));
    let acceptor = tls.map(|config| tokio_rustls::TlsAcceptor::from(Arc::new(config)));
    let open = crate::serving::serve(listener, acceptor, router, hygiene, stop).await;
    let grace = Duration::from_secs(serving.shutdown_grace);
    announce(
        format,
        &format!(
            "stopping: no new connections; the running diagnoses have {} s to finish",
            grace.as_secs()
        ),
    );
    let drained = open.shutdown();
    tokio::pin!(drained);
    if tokio::time::timeout(grace, &mut drained).await.is_err() {
        cut.cancel();
        // The cut diagnoses send their last event at once; a client that does not read it is not
        // waited for long.
        if tokio::time::timeout(Duration::from_secs(5), &mut drained)
            .await
            .is_err()
        {
            announce(format, "stopping: connections still open after the grace; closing them");
        }
    }
    if let Some(metrics_server) = metrics_server
        && let Ok(open) = metrics_server.await
    {
        let _ = tokio::time::timeout(Duration::from_secs(1), open.shutdown()).await;
    }
    announce(format, "stopped");
    Ok(())
}

/// Cancels `stop` on Ctrl-C, or on SIGTERM (what a container platform sends) on Unix.
async fn stop_on_signal(stop: CancellationToken) {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch for SIGTERM; Ctrl-C still stops the relay");
                let _ = tokio::signal::ctrl_c().await;
                stop.cancel();
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    stop.cancel();
}

/// Colours on a terminal, unless NO_COLOR is set (https://no-color.org) or the console cannot show them.
fn use_colour(stream: &impl std::io::IsTerminal) -> bool {
    colour_wanted(stream.is_terminal(), std::env::var_os("NO_COLOR").as_deref()) && crate::platform::ansi_colours()
}

/// The decision itself: a terminal, and NO_COLOR unset or empty (https://no-color.org).
fn colour_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Where names are resolved and which roots are trusted, for the line `serve` prints when it starts.
fn trust_and_dns(net: &Net) -> String {
    let mozilla = net
        .trust
        .anchors
        .len()
        .saturating_sub(net.trust.public_file + net.trust.extra + net.trust.system);
    let mut roots = format!("Mozilla's {mozilla}");
    if net.trust.public_file > 0 {
        roots.push_str(&format!(
            " + {} from --public-ca-file (treated as public)",
            net.trust.public_file
        ));
    }
    if net.trust.extra > 0 {
        roots.push_str(&format!(" + {} from --ca-file", net.trust.extra));
    }
    if net.trust.system > 0 {
        roots.push_str(&format!(
            " + {} from {}",
            net.trust.system,
            crate::platform::SYSTEM_ROOTS
        ));
    }
    format!("DNS: {}; trusted roots: {roots}", net.dns.source)
}

fn read_demos(path: &std::path::Path) -> Result<Vec<migcheck_shared::Demo>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not a list of demos: {e}", path.display()))
}

/// `--listen`: an address, because the relay binds exactly there (a name could mean several).
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        "an IP address and a port, like 127.0.0.1:8080 or [::1]:8080 (0.0.0.0:8080 for every interface); a name such as localhost is not taken".to_string()
    })
}

/// `print!` panics (exit 101) when stdout is a pipe whose reader has gone.
pub(crate) fn write_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The name clap takes for the flag of `field` (`rpc-proxy` for `--rpc-proxy`).
fn long(field: Field) -> Option<&'static str> {
    field.flag().and_then(|flag| flag.strip_prefix("--"))
}

/// What the messages call `field`: its flag, else its name.
fn flag(field: Field) -> &'static str {
    field.flag().unwrap_or(field.name())
}

/// The value of the environment variable `var` that the flag of `field` names, which holds `what`.
///
/// The messages never repeat `var`: a user who typed the secret itself after the flag would see it
/// printed back (and in a terminal's scrollback or a CI log).
fn secret_from_env(field: Field, what: &str, var: &str) -> Result<String, String> {
    secret_from_env_of(flag(field), what, var)
}

/// [`secret_from_env`] for a flag no request field has (`--compare-token-env`).
fn secret_from_env_of(flag: &str, what: &str, var: &str) -> Result<String, String> {
    let hint = format!(
        "{flag} takes the name of an environment variable that holds {what} (e.g. {flag} MIGCHECK_SECRET after \
         setting MIGCHECK_SECRET), never {what} itself"
    );
    match std::env::var(var) {
        Ok(value) if value.trim().is_empty() => Err(format!("{flag}: the variable it names is empty; {hint}")),
        Ok(value) => Ok(value),
        Err(_) => Err(format!("{flag}: no environment variable of that name is set; {hint}")),
    }
}

/// The request the flags describe, or the message for a mix that makes no sense.
fn request_of(args: &CheckArgs) -> Result<DiagnoseRequest, String> {
    // `mode`: the flag that chose the mode (`--email`).
    let password = |mode: Field| -> Result<Password, String> {
        let var = args.password_env.as_deref().ok_or_else(|| {
            format!(
                "{} needs {} VAR (the variable that holds the migration account's password)",
                flag(mode),
                flag(Field::Password)
            )
        })?;
        secret_from_env(Field::Password, "the password", var).map(Password::new)
    };
    let target_mailbox = args.target_mailbox.clone().unwrap_or_default();
    let user = |mode: Field| {
        args.user.clone().ok_or_else(|| {
            format!(
                "{} needs {} (the migration account, user@domain or DOMAIN\\user)",
                flag(mode),
                flag(Field::User)
            )
        })
    };
    match (&args.host, &args.email, &args.rpc_proxy, &args.remote_server) {
        (Some(host), None, None, None) if args.outside_view => Ok(DiagnoseRequest::Outside(HostTarget {
            host: host.clone(),
            port: args.port,
        })),
        (Some(host), None, None, None) => Ok(DiagnoseRequest::Host(HostTarget {
            host: host.clone(),
            port: args.port,
        })),
        (None, Some(email), None, None) => Ok(DiagnoseRequest::Autodiscover(AutodiscoverTarget {
            email: email.clone(),
            user: args.user.clone().unwrap_or_default(),
            password: password(Field::Email)?,
            allow_credential_redirect: args.allow_credential_redirect,
            target_mailbox,
        })),
        (None, None, None, Some(server)) => Ok(DiagnoseRequest::RemoteMove(RemoteMoveTarget {
            remote_server: server.clone(),
            user: user(Field::RemoteServer)?,
            password: password(Field::RemoteServer)?,
            target_mailbox,
            servers: args.servers.clone().unwrap_or_default(),
            agent_target: args.agent_target.clone().unwrap_or_default(),
        })),
        (None, None, Some(proxy), None) => Ok(DiagnoseRequest::OutlookAnywhere(OutlookAnywhereTarget {
            rpc_proxy: proxy.clone(),
            exchange_server: args.exchange_server.clone().unwrap_or_default(),
            auth: match args.auth {
                None | Some(AuthArg::Basic) => AuthMethod::Basic,
                Some(AuthArg::Ntlm) => AuthMethod::Ntlm,
            },
            user: user(Field::RpcProxy)?,
            password: password(Field::RpcProxy)?,
            target_mailbox,
        })),
        _ => Err(format!(
            "check needs {} HOST (the Outlook Anywhere host name, e.g. mail.contoso.com), {} ADDR (Autodiscover), {} HOST {} NAME (Outlook Anywhere) or {} HOST (remote move, MRS Proxy)",
            flag(Field::Host),
            flag(Field::Email),
            flag(Field::RpcProxy),
            flag(Field::ExchangeServer),
            flag(Field::RemoteServer)
        )),
    }
}

async fn check(args: CheckArgs) -> ExitCode {
    let request = match request_of(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("migcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let valid = match request.validate() {
        Ok(v) => v,
        Err(e) => {
            // Name the flag the user typed (the password's is --password-env).
            eprintln!("migcheck: {}: {}", flag(e.field), e.message);
            return ExitCode::from(2);
        }
    };
    let compare = match compare_with(
        args.compare_with.as_deref(),
        args.compare_token_env.as_deref(),
        &args.net,
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("migcheck: {e}");
            return ExitCode::from(2);
        }
    };
    if args.compare_send_password && compare.as_ref().is_some_and(|c| !c.keeps_secrets()) {
        eprintln!(
            "migcheck: --compare-send-password: {}",
            crate::compare::PASSWORD_NEEDS_HTTPS
        );
        return ExitCode::from(2);
    }
    let net = match args.net.build() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("migcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The tree fills in on stderr while the checks run (stdout keeps the report, or the JSON alone).
    let live = (!args.json).then(|| {
        let color = use_colour(&std::io::stderr());
        tokio::spawn(async move {
            use std::io::Write as _;
            let mut live = render::Live::new(color);
            while let Some(event) = rx.recv().await {
                let text = live.event(&event);
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(text.as_bytes());
                let _ = err.flush();
            }
        })
    });
    let report = match &compare {
        None => diagnose::run(&net, request, valid, tx).await,
        Some(with) => {
            // The outside relay's own deadline is its own; this bounds the wait for its answer.
            let wait = Duration::from_secs(args.net.timeout.saturating_mul(20).clamp(60, 600));
            crate::compare::run(&net, with, request, valid, args.compare_send_password, wait, tx).await
        }
    };
    if let Some(task) = live {
        let _ = task.await;
    }
    let text = if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => text + "\n",
            Err(e) => {
                eprintln!("migcheck: cannot print the report: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        render::text(&report, use_colour(&std::io::stdout()))
    };
    if let Err(e) = write_stdout(&text) {
        // A reader that stopped early (`| head`) wanted no more: the verdict's exit code still holds.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("migcheck: cannot print the report: {e}");
            return ExitCode::from(2);
        }
    }
    match report.verdict {
        Verdict::Pass | Verdict::Warn => ExitCode::SUCCESS,
        Verdict::Fail => ExitCode::from(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags clap takes are those the messages name: both come from [`Field::flag`].
    #[test]
    fn every_field_has_its_flag_on_the_command_line() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let longs = |subcommand: &str| -> Vec<String> {
            cli.find_subcommand(subcommand)
                .map(|c| {
                    c.get_arguments()
                        .filter_map(|a| a.get_long())
                        .map(|l| format!("--{l}"))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (check, serve) = (longs("check"), longs("serve"));
        for field in Field::ALL {
            match (field, field.flag()) {
                (Field::Mode, flag) => assert_eq!(flag, None, "the server flag given picks the mode"),
                (Field::Token, Some(flag)) => assert!(serve.iter().any(|l| l == flag), "{flag}"),
                (_, Some(flag)) => assert!(check.iter().any(|l| l == flag), "{flag} in {check:?}"),
                (_, None) => panic!("{field} has no flag"),
            }
        }
        assert_eq!(flag(Field::Password), "--password-env");
    }

    /// Container platforms configure through the environment: every `serve` flag has its variable,
    /// `MIGCHECK_` and the flag in upper snake case (`--rate-per-minute`: `MIGCHECK_RATE_PER_MINUTE`).
    #[test]
    fn every_serve_flag_has_its_environment_variable() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let serve = cli.find_subcommand("serve").expect("serve");
        let mut named = 0;
        for arg in serve.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let expected = format!("MIGCHECK_{}", long.to_uppercase().replace('-', "_"));
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(expected.as_str()),
                "--{long}"
            );
            named += 1;
        }
        assert!(named >= 20, "{named}");
    }

    /// The `serve` log and `check`'s output: colours only on a terminal, and never with NO_COLOR set.
    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colour_wanted(true, None));
        assert!(
            colour_wanted(true, Some(OsStr::new(""))),
            "an empty NO_COLOR counts as unset"
        );
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None), "redirected to a file or a pipe");
        assert!(!colour_wanted(false, Some(OsStr::new("1"))));
    }
}
