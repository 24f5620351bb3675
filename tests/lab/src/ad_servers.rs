//! The Autodiscover scenarios' servers: a second nginx (HTTPS 443 and HTTP 80 on the scenario
//! addresses), Apache with mod_auth_gssapi + gss-ntlmssp (the NTLM-only scenario), our silent
//! listener and our RPC proxy (the EXPR hosts, see `ad_proxy.rs`). Runs on the Autodiscover
//! supervisor thread, which keeps them alive.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::ad_pox::Form;
use crate::autodiscover::{AD_ZONE, HostPlan, NTLM_DOMAIN, OWA_VERSION, Plan, Serve};
use crate::certs::AdCertFiles;
use crate::servers::{POLL, READY_TIMEOUT, log_file, stop, tail, write};
use crate::silent::SilentServer;
use crate::{AdScenario, LabError, ad_pox, sys};

const HTTPS: u16 = 443;
const HTTP: u16 = 80;
const AUTODISCOVER_REGEX: &str = r"^/autodiscover/autodiscover\.xml$";
/// SOAP Autodiscover's path (`ad_pox::soap_body` answers it).
const SOAP_REGEX: &str = r"^/autodiscover/autodiscover\.svc$";

pub(crate) struct AdServers {
    nginx: Option<Child>,
    apache: Option<Child>,
    silent: Vec<SilentServer>,
    proxy: Option<crate::exchange_server::ExchangeServer>,
    /// The TLS fronts of the Windows scenarios' Outlook Anywhere hosts.
    fronts: Option<crate::tls_front::TlsFronts>,
}

impl Drop for AdServers {
    fn drop(&mut self) {
        if let Some(apache) = self.apache.as_mut() {
            // Under `unshare`, kill Apache's parent process (the PID namespace's init) first:
            // `unshare` then reaps it and exits, and the kernel kills the workers. Killing `unshare`
            // alone would work too, but leaves Apache's parent to whoever adopts orphans.
            if let Ok(children) = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", apache.id())) {
                for pid in children.split_whitespace().filter_map(|p| p.parse::<u32>().ok()) {
                    let _ = sys::kill_pid(pid);
                }
                let deadline = Instant::now() + Duration::from_secs(2);
                while matches!(apache.try_wait(), Ok(None)) && Instant::now() < deadline {
                    thread::sleep(Duration::from_millis(5));
                }
            }
        }
        for child in [self.nginx.as_mut(), self.apache.as_mut()].into_iter().flatten() {
            stop(child);
        }
        self.silent.clear();
        drop(self.fronts.take());
        drop(self.proxy.take());
    }
}

struct Files {
    dir: PathBuf,
    logs: PathBuf,
    www: PathBuf,
}

impl AdServers {
    pub(crate) fn start(dir: &Path, plan: &Plan, certs: &AdCertFiles) -> Result<AdServers, LabError> {
        let t0 = Instant::now();
        let files = Files {
            dir: dir.to_path_buf(),
            logs: dir.join("logs"),
            www: dir.join("www"),
        };
        for d in [&files.logs, &files.www, &dir.join("tmp"), &dir.join("apache")] {
            std::fs::create_dir_all(d).map_err(|e| LabError::io(format!("creating {}", d.display()), e))?;
        }
        write_documents(&files, plan)?;
        write(&dir.join("ffdhe2048.pem"), crate::tls_front::FFDHE2048_PEM)?;
        let htpasswd = write_htpasswd(&files, plan)?;
        let mut servers = AdServers {
            nginx: None,
            apache: None,
            silent: Vec::new(),
            proxy: None,
            fronts: None,
        };
        for h in plan.hosts.iter().filter(|h| h.serve == Serve::Silent) {
            let s = SilentServer::bind(h.ip, HTTPS).map_err(|e| {
                LabError::io(
                    format!(
                        "binding the silent listener for {} on {}:{HTTPS}{}",
                        h.name,
                        h.ip,
                        bind_hint(&e)
                    ),
                    e,
                )
            })?;
            servers.silent.push(s);
        }
        // Both spawned first, then waited for: they start in parallel.
        let nginx_conf = dir.join("nginx.conf");
        write(&nginx_conf, nginx_config(&files, plan, certs, &htpasswd)?)?;
        servers.nginx = Some(spawn_nginx(&files, &nginx_conf)?);
        let ntlm_hosts: Vec<&HostPlan> = plan
            .hosts
            .iter()
            .filter(|h| matches!(h.serve, Serve::NtlmPox { .. }))
            .collect();
        if !ntlm_hosts.is_empty() {
            let conf = dir.join("apache").join("httpd.conf");
            write(&conf, apache_config(&files, &ntlm_hosts, certs)?)?;
            servers.apache = Some(spawn_apache(&files, &conf)?);
        }
        // Our RPC proxy binds before it returns: it starts while nginx and Apache do.
        servers.proxy = crate::ad_proxy::start(dir, plan, certs)?;
        servers.fronts = crate::ad_proxy::fronts(dir, plan, certs)?;
        let nginx_addrs: Vec<SocketAddr> = plan.hosts.iter().filter_map(nginx_listen).collect();
        if let Some(child) = servers.nginx.as_mut() {
            wait_ready(
                "nginx (Autodiscover)",
                child,
                &nginx_addrs,
                &files.logs.join("nginx-error.log"),
            )?;
        }
        let t_nginx = t0.elapsed();
        if let Some(child) = servers.apache.as_mut() {
            let addrs: Vec<SocketAddr> = ntlm_hosts
                .iter()
                .map(|h| SocketAddr::new(IpAddr::V4(h.ip), HTTPS))
                .collect();
            wait_ready("Apache (NTLM)", child, &addrs, &files.logs.join("apache-error.log"))?;
        }
        let _ = std::fs::write(
            files.logs.join("startup.txt"),
            format!("nginx ready after {t_nginx:?}\nall ready after {:?}\n", t0.elapsed()),
        );
        Ok(servers)
    }
}

fn bind_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => " (another program holds this lab slot's addresses)",
        std::io::ErrorKind::PermissionDenied => " (ports 443 and 80 need root or CAP_NET_BIND_SERVICE)",
        _ => "",
    }
}

/// Where nginx listens for a host (None: not nginx).
fn nginx_listen(h: &HostPlan) -> Option<SocketAddr> {
    let port = match h.serve {
        Serve::Pox { .. } | Serve::Website | Serve::SharePoint => HTTPS,
        Serve::Redirect80 { .. } => HTTP,
        Serve::Nothing | Serve::NtlmPox { .. } | Serve::Silent | Serve::OutlookAnywhere => return None,
    };
    Some(SocketAddr::new(IpAddr::V4(h.ip), port))
}

/// `www/<host slug>/autodiscover/autodiscover-<form>.xml` for every POX host: one document for each
/// form of request (`ad_pox::Form`); nginx and Apache pick it by the request's headers.
fn write_documents(files: &Files, plan: &Plan) -> Result<(), LabError> {
    for h in &plan.hosts {
        let answer = match &h.serve {
            Serve::Pox { answer, .. } | Serve::NtlmPox { answer } => answer,
            _ => continue,
        };
        let dir = files.www.join(h.slug()).join("autodiscover");
        std::fs::create_dir_all(&dir).map_err(|e| LabError::io(format!("creating {}", dir.display()), e))?;
        for form in Form::ALL {
            write(&dir.join(form.file_name()), ad_pox::body(h.scenario, answer, form))?;
        }
        if let Some(soap) = ad_pox::soap_body(h.scenario, answer) {
            write(&dir.join(ad_pox::SOAP_FILE), soap)?;
        }
    }
    Ok(())
}

/// [MS-OXDSCLI] 3.2.5.1: `X-MapiHttpCapability` counts when it is an integer above zero (the lab's
/// servers support version 1, the only one); otherwise the server answers as if it were absent.
const MAPI_CAPABILITY_REGEX: &str = r"^0*[1-9][0-9]*$";
/// `X-ClientCanHandle` is a comma-separated list, its values case-insensitive (POX reference).
const EXHTTP_INFO_REGEX: &str = r"(^|,)\s*exhttpinfo\s*(,|$)";

/// One htpasswd file per Basic scenario (its one user), hashed by `openssl passwd -apr1` in one run;
/// and the NTLM user file (`DOMAIN:user:password`) for gss-ntlmssp.
fn write_htpasswd(files: &Files, plan: &Plan) -> Result<Vec<(AdScenario, PathBuf)>, LabError> {
    let basic: Vec<AdScenario> = AdScenario::ALL
        .iter()
        .copied()
        .filter(|s| {
            plan.hosts
                .iter()
                .any(|h| h.scenario == *s && matches!(h.serve, Serve::Pox { .. }))
        })
        .collect();
    let out = Command::new("openssl")
        .args(["passwd", "-apr1"])
        .args(basic.iter().map(|s| s.server_password()))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::io("hashing the lab passwords: running openssl passwd", e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let hashes: Vec<&str> = text.lines().collect();
    if !out.status.success() || hashes.len() != basic.len() {
        return Err(LabError::Setup(format!(
            "openssl passwd -apr1 failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let mut result = Vec::new();
    for (s, hash) in basic.iter().zip(hashes) {
        let path = files.dir.join(format!("htpasswd-{}", s.slug()));
        write(&path, format!("{}:{hash}\n", s.user()))?;
        result.push((*s, path));
    }
    let ntlm = AdScenario::NtlmOnly;
    let user = ntlm.user();
    let name = user.rsplit('\\').next().unwrap_or(&user);
    write(
        &files.dir.join("ntlm-users"),
        format!("{NTLM_DOMAIN}:{name}:{}\n", ntlm.server_password()),
    )?;
    Ok(result)
}

fn nginx_config(
    files: &Files,
    plan: &Plan,
    certs: &AdCertFiles,
    htpasswd: &[(AdScenario, PathBuf)],
) -> Result<String, LabError> {
    let q = |p: &Path| quote(&p.display().to_string());
    let mut c = String::new();
    let _ = writeln!(
        c,
        "# generated by migcheck-lab: the Autodiscover scenarios; one process, in the foreground"
    );
    let _ = writeln!(c, "master_process off;\ndaemon off;");
    let _ = writeln!(c, "pid {};", q(&files.dir.join("nginx.pid")));
    let _ = writeln!(c, "error_log {} info;", q(&files.logs.join("nginx-error.log")));
    let _ = writeln!(c, "events {{ worker_connections 1024; }}");
    let _ = writeln!(c, "http {{");
    let _ = writeln!(
        c,
        "    log_format ad '$server_addr:$server_port $host \"$request\" $status \"$remote_user\" $sent_http_x_feserver conn=$connection mapi=$http_x_mapihttpcapability';"
    );
    let _ = writeln!(c, "    access_log {} ad;", q(&files.logs.join("nginx-access.log")));
    for t in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        let _ = writeln!(c, "    {t}_temp_path {};", q(&files.dir.join("tmp").join(t)));
    }
    let _ = writeln!(c, "    default_type text/plain;");
    let _ = writeln!(c, "    keepalive_timeout 10s;");
    let _ = writeln!(c, "    server_tokens off;");
    // Which document answers: autodiscover-{rpc|mapi}[-exhttp].xml (ad_pox::Form::file_name).
    let _ = writeln!(c, "    map $http_x_mapihttpcapability $ad_mapi {{");
    let _ = writeln!(c, "        {} mapi;", quote(&format!("~{MAPI_CAPABILITY_REGEX}")));
    let _ = writeln!(c, "        default rpc;");
    let _ = writeln!(c, "    }}");
    let _ = writeln!(c, "    map $http_x_clientcanhandle $ad_exhttp {{");
    let _ = writeln!(c, "        {} -exhttp;", quote(&format!("~*{EXHTTP_INFO_REGEX}")));
    let _ = writeln!(c, "        default \"\";");
    let _ = writeln!(c, "    }}");
    // Exchange's request-id is a GUID; nginx's $request_id is 32 hex digits: add the dashes.
    let _ = writeln!(c, "    map $request_id $exchange_request_id {{");
    let _ = writeln!(
        c,
        "        \"~^(?<a>.{{8}})(?<b>.{{4}})(?<c>.{{4}})(?<d>.{{4}})(?<e>.{{12}})$\" \"$a-$b-$c-$d-$e\";"
    );
    let _ = writeln!(c, "    }}");
    for h in &plan.hosts {
        let cert = || {
            certs
                .leaves
                .get(&h.slug())
                .ok_or_else(|| LabError::Setup(format!("internal: no certificate for {}", h.name)))
        };
        match &h.serve {
            Serve::Pox { fe, v2, .. } => {
                let cert = cert()?;
                let htpasswd = htpasswd
                    .iter()
                    .find(|(s, _)| *s == h.scenario)
                    .map(|(_, p)| p)
                    .ok_or_else(|| LabError::Setup(format!("internal: no htpasswd for {}", h.name)))?;
                let _ = writeln!(c, "    server {{ # {} {}", h.scenario, h.name);
                let _ = writeln!(c, "        listen {}:{HTTPS} ssl;", h.ip);
                let _ = writeln!(c, "        server_name {};", h.name);
                match h.scenario.windows_tls() {
                    // IIS on Windows: its Schannel suites, in its order (see tls_front.rs).
                    Some(profile) => {
                        let versions: Vec<&str> = profile.versions.iter().map(|v| v.nginx_name()).collect();
                        let _ = writeln!(c, "        ssl_protocols {};", versions.join(" "));
                        let _ = writeln!(c, "        ssl_ciphers {};", quote(&profile.cipher_string()));
                        let _ = writeln!(c, "        ssl_prefer_server_ciphers on;");
                        let _ = writeln!(c, "        ssl_ecdh_curve prime256v1:secp384r1;");
                        let _ = writeln!(c, "        ssl_dhparam {};", q(&files.dir.join("ffdhe2048.pem")));
                    }
                    None => {
                        let _ = writeln!(c, "        ssl_protocols TLSv1.2 TLSv1.3;");
                    }
                }
                let _ = writeln!(c, "        ssl_certificate {};", q(&cert.chain));
                let _ = writeln!(c, "        ssl_certificate_key {};", q(&cert.key));
                let _ = writeln!(c, "        root {};", q(&files.www.join(h.slug())));
                fingerprint(&mut c, *fe);
                let _ = writeln!(c, "        location ~* {} {{", quote(AUTODISCOVER_REGEX));
                let _ = writeln!(c, "            auth_basic {};", quote(&h.name));
                let _ = writeln!(c, "            auth_basic_user_file {};", q(htpasswd));
                let _ = writeln!(c, "            types {{ }}");
                let _ = writeln!(c, "            default_type \"text/xml; charset=utf-8\";");
                let _ = writeln!(
                    c,
                    "            try_files /autodiscover/autodiscover-$ad_mapi$ad_exhttp.xml =404;"
                );
                // The static module refuses POST with 405: answer the file instead (the redirect
                // turns the request into a GET of the same document).
                let _ = writeln!(c, "            error_page 405 =200 /autodiscover/autodiscover.xml;");
                let _ = writeln!(c, "        }}");
                // SOAP Autodiscover beside POX (Exchange 2010 and later: not on Exchange 2007's IIS).
                if fe.is_some() {
                    let _ = writeln!(c, "        location ~* {} {{", quote(SOAP_REGEX));
                    let _ = writeln!(c, "            auth_basic {};", quote(&h.name));
                    let _ = writeln!(c, "            auth_basic_user_file {};", q(htpasswd));
                    let _ = writeln!(c, "            types {{ }}");
                    let _ = writeln!(c, "            default_type \"text/xml; charset=utf-8\";");
                    let _ = writeln!(c, "            try_files /autodiscover/{} =404;", ad_pox::SOAP_FILE);
                    let _ = writeln!(c, "            error_page 405 =200 /autodiscover/autodiscover.svc;");
                    let _ = writeln!(c, "        }}");
                }
                if *v2 {
                    let d = h.scenario.domain();
                    let _ = writeln!(
                        c,
                        "        location ~* {} {{",
                        quote(r"^/autodiscover/autodiscover\.json(/v1\.0/[^/]*)?$")
                    );
                    let _ = writeln!(c, "            default_type \"application/json; charset=utf-8\";");
                    let _ = writeln!(
                        c,
                        "            if ($arg_protocol ~* \"^ews$\") {{ return 200 {}; }}",
                        squote(&ad_pox::v2_ews(&d))
                    );
                    let _ = writeln!(c, "            return 400 {};", squote(ad_pox::v2_bad_protocol()));
                    let _ = writeln!(c, "        }}");
                }
                let _ = writeln!(c, "        location / {{ return 404; }}");
                let _ = writeln!(c, "    }}");
            }
            Serve::Website => {
                let cert = cert()?;
                let _ = writeln!(c, "    server {{ # {} {}: a web site", h.scenario, h.name);
                let _ = writeln!(c, "        listen {}:{HTTPS} ssl;", h.ip);
                let _ = writeln!(c, "        server_name {} www.otherdomain.test;", h.name);
                let _ = writeln!(c, "        ssl_protocols TLSv1.2 TLSv1.3;");
                let _ = writeln!(c, "        ssl_certificate {};", q(&cert.chain));
                let _ = writeln!(c, "        ssl_certificate_key {};", q(&cert.key));
                let _ = writeln!(
                    c,
                    "        location = / {{ default_type text/html; return 200 '<!doctype html><title>Other Domain</title><h1>Welcome to www.otherdomain.test</h1>\\n'; }}"
                );
                let _ = writeln!(c, "        location / {{ return 404; }}");
                let _ = writeln!(c, "    }}");
            }
            Serve::SharePoint => {
                let cert = cert()?;
                let _ = writeln!(c, "    server {{ # {} {}: SharePoint 2013", h.scenario, h.name);
                let _ = writeln!(c, "        listen {}:{HTTPS} ssl;", h.ip);
                let _ = writeln!(c, "        server_name {};", h.name);
                let _ = writeln!(c, "        ssl_protocols TLSv1.2 TLSv1.3;");
                let _ = writeln!(c, "        ssl_certificate {};", q(&cert.chain));
                let _ = writeln!(c, "        ssl_certificate_key {};", q(&cert.key));
                sharepoint(&mut c, &h.name);
                let _ = writeln!(c, "    }}");
            }
            Serve::Redirect80 { location } => {
                let _ = writeln!(c, "    server {{ # {} {}: HTTP redirect", h.scenario, h.name);
                let _ = writeln!(c, "        listen {}:{HTTP};", h.ip);
                let _ = writeln!(c, "        server_name {};", h.name);
                fingerprint(&mut c, Some(crate::autodiscover::FE_MAIN));
                let _ = writeln!(
                    c,
                    "        location ~* {} {{ return 302 {}; }}",
                    quote(AUTODISCOVER_REGEX),
                    quote(location)
                );
                let _ = writeln!(c, "        location / {{ return 404; }}");
                let _ = writeln!(c, "    }}");
            }
            // Served by our RPC proxy (ad_proxy.rs).
            Serve::Nothing | Serve::NtlmPox { .. } | Serve::Silent | Serve::OutlookAnywhere => {}
        }
    }
    let _ = writeln!(c, "}}");
    Ok(c)
}

/// The headers an Exchange front end adds to every answer, 401 included; `None`: Exchange 2007's IIS 7,
/// which writes none of the front end's (X-FEServer came with 2013's, X-OWA-Version with 2010).
fn fingerprint(c: &mut String, fe: Option<&str>) {
    if let Some(fe) = fe {
        let _ = writeln!(c, "        add_header X-FEServer {fe} always;");
        let _ = writeln!(c, "        add_header request-id $exchange_request_id always;");
        let _ = writeln!(c, "        add_header X-OWA-Version {OWA_VERSION} always;");
    }
    let _ = writeln!(c, "        add_header X-Powered-By ASP.NET always;");
}

/// A SharePoint site that answers 401 to every request, with or without credentials: SharePoint sends
/// 401 to a user it does not know and to one it knows who may not open the site. The answer is a real
/// SharePoint 2013 one (s-KaiNet/node-sp-auth#131, "NTLM type1msg not getting expected response",
/// 2023-11-15): its headers in their order, `text/plain` and the 16 bytes `401 UNAUTHORIZED`; its
/// `Server: Microsoft-IIS/8.5` is nginx's own here, and the connection stays open (the capture's
/// `Connection: close` ended a failed NTLM exchange; a Basic challenge keeps it, as HTTP/1.1 does by
/// default, so the credentials follow on the same connection). Its challenge is Basic
/// instead of the capture's `NTLM`: SharePoint's Windows authentication may use Basic alone on a web
/// application (Microsoft, "Authentication: Stsadm operation": IIS performs it, "Kerberos, NTLM,
/// Basic"; `-usebasic`), and nginx cannot play an NTLM handshake (an `NTLM` with no challenge after a
/// client's NEGOTIATE is not what a working site sends).
fn sharepoint(c: &mut String, name: &str) {
    let _ = writeln!(c, "        location / {{");
    let _ = writeln!(c, "            default_type \"text/plain; charset=utf-8\";");
    for (header, value) in [
        ("SPRequestGuid", "$exchange_request_id".to_string()),
        ("request-id", "$exchange_request_id".to_string()),
        ("X-FRAME-OPTIONS", "SAMEORIGIN".to_string()),
        ("SPRequestDuration", "4".to_string()),
        ("SPIisLatency", "0".to_string()),
        ("WWW-Authenticate", format!("Basic realm=\"{name}\"")),
        ("X-Powered-By", "ASP.NET".to_string()),
        ("MicrosoftSharePointTeamServices", "15.0.0.4701".to_string()),
        ("X-Content-Type-Options", "nosniff".to_string()),
        ("X-MS-InvokeApp", "1; RequireReadOnly".to_string()),
    ] {
        let _ = writeln!(c, "            add_header {header} {} always;", quote(&value));
    }
    let _ = writeln!(c, "            return 401 \"401 UNAUTHORIZED\";");
    let _ = writeln!(c, "        }}");
}

fn spawn_nginx(files: &Files, conf: &Path) -> Result<Child, LabError> {
    let error_log = files.logs.join("nginx-error.log");
    let mut cmd = Command::new("nginx");
    cmd.arg("-p")
        .arg(&files.dir)
        .arg("-c")
        .arg(conf)
        .arg("-e")
        .arg(&error_log)
        .stdin(Stdio::null())
        .stdout(log_file(&files.logs.join("nginx.stdout"))?)
        .stderr(log_file(&files.logs.join("nginx.stderr"))?);
    sys::spawn_tied(&mut cmd).map_err(|e| {
        LabError::io(
            "starting nginx for Autodiscover (is nginx installed? Debian: nginx-light)",
            e,
        )
    })
}

const APACHE_MODULES: &[&str] = &[
    "mpm_event",
    "authn_core",
    "authz_core",
    "authz_user",
    "alias",
    "ssl",
    "headers",
    "mime",
    "auth_gssapi",
    "rewrite",
];

fn apache_config(files: &Files, hosts: &[&HostPlan], certs: &AdCertFiles) -> Result<String, LabError> {
    let q = |p: &Path| quote(&p.display().to_string());
    let root = files.dir.join("apache");
    let mut c = String::new();
    let _ = writeln!(
        c,
        "# generated by migcheck-lab: real NTLM (mod_auth_gssapi + gss-ntlmssp), NTLM only"
    );
    let _ = writeln!(c, "ServerRoot {}", q(&root));
    let _ = writeln!(c, "ServerName ntlm.{AD_ZONE}");
    let _ = writeln!(c, "PidFile {}", q(&root.join("httpd.pid")));
    let _ = writeln!(c, "DefaultRuntimeDir {}", q(&root));
    let _ = writeln!(c, "Mutex file:{} default", root.display());
    let _ = writeln!(c, "ErrorLog {}", q(&files.logs.join("apache-error.log")));
    let _ = writeln!(c, "LogLevel info");
    for m in APACHE_MODULES {
        let _ = writeln!(c, "LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so");
    }
    if sys::is_root() {
        // Workers drop to this user; the whole process tree lives in a PID namespace that dies with
        // the lab (see spawn_apache), because a uid change clears PR_SET_PDEATHSIG.
        let _ = writeln!(c, "User nobody\nGroup nogroup");
    }
    let _ = writeln!(
        c,
        "StartServers 1\nServerLimit 1\nThreadsPerChild 16\nMaxRequestWorkers 16"
    );
    let _ = writeln!(c, "TypesConfig /dev/null");
    let _ = writeln!(c, "ServerTokens Prod");
    let _ = writeln!(
        c,
        "LogFormat \"%A:%p %{{Host}}i \\\"%r\\\" %>s \\\"%u\\\" %{{X-FEServer}}o\" ad"
    );
    let _ = writeln!(c, "CustomLog {} ad", q(&files.logs.join("apache-access.log")));
    for h in hosts {
        let Serve::NtlmPox { .. } = h.serve else { continue };
        let cert = certs
            .leaves
            .get(&h.slug())
            .ok_or_else(|| LabError::Setup(format!("internal: no certificate for {}", h.name)))?;
        let docs = files.www.join(h.slug()).join("autodiscover");
        let _ = writeln!(c, "Listen {}:{HTTPS}", h.ip);
        let _ = writeln!(c, "<VirtualHost {}:{HTTPS}>", h.ip);
        let _ = writeln!(c, "    ServerName {}", h.name);
        let _ = writeln!(c, "    SSLEngine on");
        let _ = writeln!(c, "    SSLProtocol -all +TLSv1.2 +TLSv1.3");
        let _ = writeln!(c, "    SSLCertificateFile {}", q(&cert.chain));
        let _ = writeln!(c, "    SSLCertificateKeyFile {}", q(&cert.key));
        let _ = writeln!(c, "    DocumentRoot {}", q(&files.www.join(h.slug())));
        let _ = writeln!(
            c,
            "    Header always set X-FEServer \"{}\"",
            crate::autodiscover::FE_MAIN
        );
        let _ = writeln!(c, "    Header always set X-OWA-Version \"{OWA_VERSION}\"");
        let _ = writeln!(c, "    Header always set X-Powered-By \"ASP.NET\"");
        // The document for the request's headers, as nginx's maps pick it (ad_pox::Form::file_name).
        let _ = writeln!(c, "    RewriteEngine On");
        let _ = writeln!(c, "    RewriteRule .* - [E=AD_MAPI:rpc,E=AD_EXHTTP:]");
        let _ = writeln!(
            c,
            "    RewriteCond %{{HTTP:X-MapiHttpCapability}} {MAPI_CAPABILITY_REGEX}"
        );
        let _ = writeln!(c, "    RewriteRule .* - [E=AD_MAPI:mapi]");
        let _ = writeln!(
            c,
            "    RewriteCond %{{HTTP:X-ClientCanHandle}} {EXHTTP_INFO_REGEX} [NC]"
        );
        let _ = writeln!(c, "    RewriteRule .* - [E=AD_EXHTTP:-exhttp]");
        let _ = writeln!(
            c,
            "    RewriteRule {AUTODISCOVER_REGEX} {}/autodiscover-%{{ENV:AD_MAPI}}%{{ENV:AD_EXHTTP}}.xml [NC,L]",
            docs.display()
        );
        let _ = writeln!(
            c,
            "    RewriteRule {SOAP_REGEX} {}/{} [NC,L]",
            docs.display(),
            ad_pox::SOAP_FILE
        );
        let _ = writeln!(c, "    <Files \"autodiscover-*.xml\">");
        let _ = writeln!(c, "        ForceType \"text/xml; charset=utf-8\"");
        let _ = writeln!(c, "    </Files>");
        let _ = writeln!(c, "    <Directory {}>", q(&files.www.join(h.slug())));
        let _ = writeln!(c, "        AuthType GSSAPI");
        let _ = writeln!(c, "        AuthName \"{}\"", h.name);
        let _ = writeln!(c, "        GssapiAllowedMech ntlmssp");
        let _ = writeln!(c, "        GssapiBasicAuth Off");
        // NTLM takes two round trips: keep the half-done context on the connection.
        let _ = writeln!(c, "        GssapiConnectionBound On");
        let _ = writeln!(c, "        Require valid-user");
        let _ = writeln!(c, "    </Directory>");
        let _ = writeln!(c, "</VirtualHost>");
    }
    Ok(c)
}

fn spawn_apache(files: &Files, conf: &Path) -> Result<Child, LabError> {
    let mut cmd = if sys::is_root() {
        // As root Apache's workers switch to `nobody`, which clears PR_SET_PDEATHSIG: run the whole
        // tree in a PID namespace whose init (Apache's parent process, still root) dies with
        // `unshare`, and `unshare` dies with us. When a namespace's init dies, the kernel kills the rest.
        let mut cmd = Command::new("unshare");
        cmd.args(["--pid", "--fork", "--kill-child", "--", "apache2"]);
        cmd
    } else {
        Command::new("apache2")
    };
    cmd.arg("-f")
        .arg(conf)
        .arg("-DFOREGROUND")
        .env("NTLM_USER_FILE", files.dir.join("ntlm-users"))
        .stdin(Stdio::null())
        .stdout(log_file(&files.logs.join("apache.stdout"))?)
        .stderr(log_file(&files.logs.join("apache.stderr"))?);
    sys::spawn_tied(&mut cmd).map_err(|e| {
        LabError::io(
            "starting Apache (Debian: apache2, libapache2-mod-auth-gssapi, gss-ntlmssp; util-linux for unshare)",
            e,
        )
    })
}

pub(crate) fn wait_ready(
    what: &str,
    child: &mut Child,
    addrs: &[SocketAddr],
    error_log: &Path,
) -> Result<(), LabError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let stderr = error_log.with_file_name(if what.starts_with("nginx") {
        "nginx.stderr"
    } else {
        "apache.stderr"
    });
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| LabError::io(format!("waiting for {what}"), e))?
        {
            let why = format!("{}{}", tail(error_log, 20), tail(&stderr, 10));
            let hint = if why.contains("Address already in use") {
                "\n(another program holds this lab slot's addresses on port 443 or 80)"
            } else if why.contains("Permission denied") {
                "\n(ports 443 and 80 need root or CAP_NET_BIND_SERVICE)"
            } else {
                ""
            };
            return Err(LabError::Setup(format!(
                "{what} exited ({status}) before it was ready; {}:\n{why}{hint}",
                error_log.display()
            )));
        }
        if addrs
            .iter()
            .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LabError::Setup(format!(
                "{what} did not listen on {addrs:?} within {READY_TIMEOUT:?}; {}:\n{}",
                error_log.display(),
                tail(error_log, 20)
            )));
        }
        thread::sleep(POLL);
    }
}

/// An nginx (or Apache) double-quoted string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An nginx single-quoted string (JSON and HTML bodies).
fn squote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}
