//! What differs on Windows, where consultants mostly run the one binary (`migcheck.exe` on a jump host
//! or an admin workstation): the help speaks cmd.exe and PowerShell, the operating system's trusted roots
//! can be added (`--system-roots`: the Windows certificate store, where the corporate CA that signs an
//! internal Exchange certificate usually is), and a double-click (no arguments) serves the page and opens
//! it in the default browser. The system's DNS servers are read by hickory (`system-config`: resolv.conf,
//! or the adapters' DNS servers on Windows).

use clap::Command;
use rustls::pki_types::CertificateDer;

use crate::net::TrustStore;

/// The program's name as the user types it.
pub const BIN: &str = if cfg!(windows) { "migcheck.exe" } else { "migcheck" };

/// Where the operating system keeps its trusted roots, in the words of its users.
pub const SYSTEM_ROOTS: &str = if cfg!(windows) {
    "the Windows certificate store"
} else {
    "the system's certificate bundle"
};

/// The help's examples, for the shell this system has.
fn examples() -> String {
    if cfg!(windows) {
        format!(
            "Examples (cmd.exe; in PowerShell set the password with $env:MIGCHECK_PASSWORD = '...'):\n  \
             {BIN}\n      serves the page at http://127.0.0.1:8080/ and opens it in the default browser\n  \
             {BIN} check --host mail.contoso.com\n  \
             set MIGCHECK_PASSWORD=...\n  \
             {BIN} check --email adele@contoso.com --user CONTOSO\\migadmin --password-env MIGCHECK_PASSWORD\n  \
             {BIN} check --rpc-proxy mail.contoso.com --exchange-server ex01.contoso.com --auth ntlm --user CONTOSO\\migadmin --password-env MIGCHECK_PASSWORD\n  \
             {BIN} check --remote-server mail.contoso.com --user CONTOSO\\migadmin --password-env MIGCHECK_PASSWORD\n  \
             {BIN} serve --egress 10.0.0.0/8 --system-roots --ca-file C:\\certs\\contoso-root.cer\n\n\
             --system-roots trusts the roots of the Windows certificate store (where a corporate CA usually is);\n\
             --ca-file takes a PEM file or a DER .cer file as the certificate export wizard writes it."
        )
    } else {
        format!(
            "Examples:\n  \
             {BIN} serve\n      serves the page at http://127.0.0.1:8080/\n  \
             {BIN} check --host mail.contoso.com\n  \
             MIGCHECK_PASSWORD='...' {BIN} check --email adele@contoso.com --user 'CONTOSO\\migadmin' --password-env MIGCHECK_PASSWORD\n  \
             MIGCHECK_PASSWORD='...' {BIN} check --rpc-proxy mail.contoso.com --exchange-server ex01.contoso.com --auth ntlm --user 'CONTOSO\\migadmin' --password-env MIGCHECK_PASSWORD\n  \
             MIGCHECK_PASSWORD='...' {BIN} check --remote-server mail.contoso.com --user 'CONTOSO\\migadmin' --password-env MIGCHECK_PASSWORD\n  \
             {BIN} serve --egress 10.0.0.0/8 --system-roots --ca-file /etc/ssl/contoso-root.pem"
        )
    }
}

/// The password variable in the words of this system's shells.
const PASSWORD_ENV_HELP: &str = if cfg!(windows) {
    "The environment variable that holds the password (a password is never an argument): \
     set MIGCHECK_PASSWORD=... in cmd.exe, $env:MIGCHECK_PASSWORD = '...' in PowerShell"
} else {
    "The environment variable that holds the password (a password is never an argument)"
};

/// The command line as this system's users expect it: the program's name, examples in their shell.
pub fn adapt(command: Command) -> Command {
    command
        .bin_name(BIN)
        .after_help(examples())
        .mut_subcommand("check", |check| {
            check
                .mut_arg("password_env", |arg| arg.help(PASSWORD_ENV_HELP))
                .after_help(examples())
        })
}

/// `--system-roots`: adds the operating system's trusted roots (Windows: the current user's Root store,
/// which shows the machine's too; elsewhere the system bundle) to `trust`. `SSL_CERT_FILE`, when set,
/// replaces them on every system (rustls-native-certs). Returns how many were added. Certificates the
/// store holds that cannot be a root for a TLS server are skipped.
pub fn add_system_roots(trust: &mut TrustStore) -> Result<usize, String> {
    let found = rustls_native_certs::load_native_certs();
    let added = add_roots(trust, &found.certs);
    if added == 0 {
        let why = found.errors.first().map(|e| format!(": {e}")).unwrap_or_default();
        return Err(format!(
            "--system-roots: no usable root certificate in {SYSTEM_ROOTS}{why}"
        ));
    }
    Ok(added)
}

fn add_roots(trust: &mut TrustStore, certs: &[CertificateDer<'_>]) -> usize {
    let mut added = 0;
    for der in certs {
        if let Ok(anchor) = webpki::anchor_from_trusted_cert(der) {
            trust.anchors.push(anchor.to_owned());
            added += 1;
        }
    }
    trust.system += added;
    added
}

/// Started with no arguments on Windows: by a double-click in Explorer (or from the Start menu).
pub fn double_clicked() -> bool {
    cfg!(windows) && std::env::args_os().len() <= 1
}

/// Opens `url` in the default browser (Windows: `cmd /C start`, which asks the shell for the http
/// handler). Elsewhere nothing is opened.
pub fn open_browser(url: &str) -> Result<(), String> {
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        /// No console window flashes up for cmd.exe.
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        std::process::Command::new("cmd")
            .args(["/C", "start", "", url])
            .creation_flags(CREATE_NO_WINDOW)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("cannot open {url} in the browser: {e}"))
    }
    #[cfg(not(windows))]
    {
        let _ = url;
        Ok(())
    }
}

/// After a double-click the console window closes when the program ends: keep an error readable
/// until the user presses Enter.
pub fn wait_before_closing() {
    if double_clicked() {
        eprintln!("Press Enter to close this window.");
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }
}

/// Whether colour codes can be written to the console: Windows consoles show them only once virtual
/// terminal processing is switched on (Windows 10 and later); elsewhere always.
pub fn ansi_colours() -> bool {
    #[cfg(windows)]
    {
        anstyle_query::windows::enable_ansi_colors().unwrap_or(false)
    }
    #[cfg(not(windows))]
    {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_speaks_this_systems_shell() {
        let help = adapt(<crate::cli::Cli as clap::CommandFactory>::command())
            .render_long_help()
            .to_string();
        assert!(help.contains(&format!("{BIN} check --host mail.contoso.com")), "{help}");
        if cfg!(windows) {
            assert!(help.contains("$env:MIGCHECK_PASSWORD"), "{help}");
        } else {
            assert!(help.contains("MIGCHECK_PASSWORD='...' migcheck check"), "{help}");
        }
    }

    #[test]
    fn a_stores_roots_are_added_and_what_cannot_be_a_root_is_skipped() {
        let mut trust = TrustStore::load(None).expect("Mozilla's roots");
        let before = trust.anchors.len();
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let root = params.self_signed(&key).expect("root").der().clone();
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        assert_eq!(add_roots(&mut trust, &[garbage, root]), 1);
        assert_eq!(trust.anchors.len(), before + 1);
        assert_eq!(trust.system, 1);
    }

    #[test]
    fn a_der_cer_file_is_a_ca_file_too() {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let root = params.self_signed(&key).expect("root");
        let dir = std::env::temp_dir().join(format!("migcheck-cer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (der, pem) = (dir.join("root.cer"), dir.join("root.pem"));
        std::fs::write(&der, root.der()).expect("der");
        std::fs::write(&pem, root.pem()).expect("pem");
        let mozilla = TrustStore::load(None).expect("Mozilla's roots").anchors.len();
        for file in [&der, &pem] {
            let trust = TrustStore::load(Some(file)).expect("a root");
            assert_eq!(
                (trust.extra, trust.anchors.len()),
                (1, mozilla + 1),
                "{}",
                file.display()
            );
        }
        std::fs::write(&der, b"").expect("empty");
        let error = TrustStore::load(Some(&der)).err().unwrap_or_default();
        assert!(error.contains("no certificate found in it"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
