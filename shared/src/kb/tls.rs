//! The TLS version and the certificate (KB step 2): what Exchange Online accepts.

use super::{Cause, Severity, fill};

/// Below this many days left, an in-date certificate is a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;
/// The smallest RSA key Exchange Online (and every current client) accepts.
pub const MIN_RSA_BITS: u32 = 2048;

/// Which certificate of the chain a problem is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainPosition {
    /// The server's own certificate.
    Leaf,
    /// An intermediate, by its subject.
    Intermediate { subject: String },
}

/// Where migcheck looks from, which decides what a certificate from a private CA means. Exchange Online
/// connects from the internet and trusts only public certification authorities (Microsoft's hybrid,
/// cutover and staged migration pages: "a certificate issued by a trusted certification authority").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vantage {
    /// The relay reaches only public addresses (`--egress public`): it sees what the internet sees.
    Internet,
    /// The relay reaches addresses inside a network (`--egress any` or a list of networks): a name may
    /// lead to an internal server that Exchange Online never meets.
    Inside,
    /// The relay checks the internal server a Hybrid Agent publishes: Exchange Online meets it only
    /// through the agent, which need not trust a public CA (see `hybrid.rs`).
    BehindAgent,
}

/// How a root that is not a public certification authority came to be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivateTrust {
    /// The user's `--ca-file`.
    CaFile,
    /// The operating system's store (`--system-roots`), where a company's own CA usually is.
    SystemStore,
}

impl PrivateTrust {
    /// Where the root came from, as a user reads it.
    pub fn words(self) -> &'static str {
        match self {
            PrivateTrust::CaFile => "--ca-file",
            PrivateTrust::SystemStore => "this computer's certificate store (--system-roots)",
        }
    }
}

/// What is wrong with a certificate the server sends outside the path clients build (an old root or a
/// cross-certificate after a valid chain). Clients ignore it, so it is never more than a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtraFlaw {
    Expired {
        date: String,
        days: i64,
    },
    NotYetValid {
        date: String,
        days: i64,
    },
    /// Signed with SHA-1 (`algorithm` as the certificate names it).
    Sha1 {
        algorithm: String,
    },
    /// An RSA key smaller than [`MIN_RSA_BITS`].
    WeakKey {
        bits: u32,
    },
}

/// What Exchange Online would refuse in the TLS set-up or the certificate of `host`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsProblem {
    /// The server speaks nothing newer than TLS 1.1.
    OldTlsOnly {
        host: String,
    },
    /// The server negotiated `suite` (IANA name), which is not on Microsoft 365's list
    /// ([`super::EXCHANGE_ONLINE_SUITES`]), and offered only that list it found none in common.
    NoExchangeOnlineSuite {
        host: String,
        suite: String,
    },
    /// The leaf certificate cannot be decoded.
    Unreadable {
        host: String,
        why: String,
    },
    /// The leaf cannot serve as a server certificate at all (webpki's refusal).
    Unusable {
        host: String,
        why: String,
    },
    SelfSigned {
        host: String,
    },
    /// The server sends only its own certificate, and its issuer is not a trusted root.
    IntermediateMissing {
        host: String,
        issuer: String,
    },
    /// The chain ends at a root nobody trusts: a private or internal CA.
    PrivateCa {
        host: String,
        issuer: String,
    },
    /// The chain is trusted, but only through a root that is not a public certification authority
    /// (`root`, its subject): a failure seen from the internet, a warning from inside a network.
    PrivateRoot {
        host: String,
        root: String,
        through: PrivateTrust,
        vantage: Vantage,
    },
    /// The server sends, besides the path clients build, a certificate with a flaw (`subject`, and its
    /// `thumbprint` as Windows shows it). Clients ignore it; it only needs removing.
    ExtraCertificate {
        host: String,
        subject: String,
        thumbprint: String,
        flaw: ExtraFlaw,
    },
    /// The chain fails verification for another reason, in words.
    Untrusted {
        host: String,
        why: String,
    },
    Expired {
        host: String,
        which: ChainPosition,
        date: String,
        days: i64,
    },
    NotYetValid {
        host: String,
        which: ChainPosition,
        date: String,
        days: i64,
    },
    /// In date, with fewer than [`EXPIRY_WARNING_DAYS`] left.
    ExpiresSoon {
        host: String,
        which: ChainPosition,
        date: String,
        days: i64,
    },
    /// The name is only in the Common Name; the certificate has no Subject Alternative Name.
    CommonNameOnly {
        host: String,
    },
    /// The certificate does not cover `host`. `names`: what it lists; `wildcard`: a wildcard that looks
    /// as if it should cover the host and does not (it covers one label).
    NameMismatch {
        host: String,
        names: String,
        wildcard: Option<String>,
    },
    /// An RSA key smaller than [`MIN_RSA_BITS`].
    WeakKey {
        host: String,
        which: ChainPosition,
        bits: u32,
    },
    /// Signed with SHA-1 (`algorithm` as the certificate names it).
    Sha1Signature {
        host: String,
        which: ChainPosition,
        algorithm: String,
    },
}

/// Request, install and bind a new certificate from a public CA.
const RENEW: &str = r#"# In the Exchange Management Shell: request a new certificate for HOST
New-ExchangeCertificate -GenerateRequest -KeySize 2048 -SubjectName "CN=HOST" -DomainName HOST,autodiscover.DOMAIN -RequestFile C:\HOST.req
# Have a public certification authority issue it, then install it and bind it to IIS
Import-ExchangeCertificate -FileData ([System.IO.File]::ReadAllBytes('C:\HOST.cer')) | Enable-ExchangeCertificate -Services IIS"#;

const SELF_SIGNED: &str = "# Exchange Online trusts only certificates from a public certification authority";
const PRIVATE_CA: &str =
    "# The issuing CA is not publicly trusted: get the certificate from a public certification authority";
const PUBLIC_FOR_PUBLISHED: &str = "# Exchange Online trusts only public certification authorities: get a certificate from one for the names published to the internet";
/// From inside a network, the certificate the internet sees decides.
const CHECK_FROM_OUTSIDE: &str = r#"# What decides is the certificate the internet sees for HOST: check it from outside this network
# (migcheck check --host HOST, with the default --egress public). If Exchange Online meets this certificate too, replace it
# with one from a public certification authority for the names published to the internet"#;

/// A certificate sent outside the path clients build: take it out of what the server sends.
const REMOVE_EXTRA: &str = r#"# Remove SUBJECT (thumbprint THUMBPRINT) from the chain HOST sends: clients build their path without it.
# On a load balancer or reverse proxy that terminates TLS, take it out of the certificate bundle it serves.
# On the Exchange servers behind HOST, IIS sends the chain it finds in the machine's stores: delete it there
Get-ChildItem Cert:\LocalMachine\CA, Cert:\LocalMachine\Root | Where-Object Thumbprint -eq 'THUMBPRINT' | Remove-Item
iisreset"#;

const WEAK_KEY: &str = "# Replace the certificate with one whose key has at least 2048 bits";
const SHA1: &str = "# Have the CA issue the certificate with a SHA-256 signature (public CAs do by default)";
const NAME: &str = "# Get a certificate whose Subject Alternative Names include HOST";
const NAME_OR_HOSTNAME: &str = r#"# Or publish Outlook Anywhere under a name the certificate lists
Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname <name on the certificate> -ExternalClientsRequireSsl $true"#;

/// The server sends its certificate without the intermediate.
const INTERMEDIATE: &str = r#"# On every Exchange server behind HOST (and on any load balancer or reverse proxy that terminates TLS):
# install the CA's intermediate certificate(s), then restart IIS
Import-Certificate -FilePath C:\intermediate.cer -CertStoreLocation Cert:\LocalMachine\CA
iisreset"#;

const NOT_YET_VALID: &str = r#"# Check the server's clock and the certificate's start date; until it starts, bind the previous certificate again
Get-ExchangeCertificate | Format-List Thumbprint,Services,NotBefore,NotAfter,Subject
Enable-ExchangeCertificate -Thumbprint <previous thumbprint> -Services IIS"#;

const TLS12: &str = r#"# Enable TLS 1.2 on the Exchange server (and on any load balancer or reverse proxy in front of it), then restart it
$p = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Server'
New-Item $p -Force | Out-Null
New-ItemProperty $p -Name Enabled -Value 1 -PropertyType DWord -Force | Out-Null
New-ItemProperty $p -Name DisabledByDefault -Value 0 -PropertyType DWord -Force | Out-Null
New-ItemProperty 'HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319' -Name SchUseStrongCrypto -Value 1 -PropertyType DWord -Force | Out-Null
Restart-Computer"#;

/// Turn on the ECDHE_RSA suites Exchange Online uses: Microsoft's "Exchange Server TLS configuration best
/// practices" sets this order on Windows Server 2012 (R2); Windows Server 2016 and later have
/// Enable-TlsCipherSuite.
const SUITES: &str = r#"# Let the server (and any load balancer or reverse proxy that terminates TLS in front of it) offer the suites Exchange Online uses.
# Windows Server 2016 and later:
Enable-TlsCipherSuite -Name TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 -Position 0
Enable-TlsCipherSuite -Name TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -Position 1
# Windows Server 2012 R2 and older: the suite order of Microsoft's Exchange TLS guide (ECDHE_RSA with CBC, then RSA with GCM), then restart
$p = 'HKLM:\SYSTEM\CurrentControlSet\Control\Cryptography\Configuration\Local\SSL\00010002'
New-Item $p -Force | Out-Null
New-ItemProperty $p -Name Functions -PropertyType String -Force -Value 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384_P384,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384_P256,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256_P384,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256_P256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA_P384,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA_P256,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA_P384,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA_P256,TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_GCM_SHA256' | Out-Null
Restart-Computer"#;

/// A comment line followed by the renewal steps.
fn renew_because(why: &str, host: &str) -> String {
    fill(&format!("{why}\n{RENEW}"), host)
}

impl ChainPosition {
    /// `The certificate of HOST` or `The intermediate certificate SUBJECT` (the dates' wording).
    fn certificate(&self, host: &str) -> String {
        match self {
            ChainPosition::Leaf => format!("The certificate of {host}"),
            ChainPosition::Intermediate { subject } => format!("The intermediate certificate {subject}"),
        }
    }

    /// `The certificate of HOST` or `The intermediate SUBJECT` (the key's and signature's wording).
    fn short(&self, host: &str) -> String {
        match self {
            ChainPosition::Leaf => format!("The certificate of {host}"),
            ChainPosition::Intermediate { subject } => format!("The intermediate {subject}"),
        }
    }
}

impl ExtraFlaw {
    /// `expired on DATE (N days ago)` ...: what is wrong with it, after "which".
    fn words(&self) -> String {
        match self {
            ExtraFlaw::Expired { date, days } => format!("expired on {date} ({days} days ago)"),
            ExtraFlaw::NotYetValid { date, days } => format!("is not valid before {date} (in {days} days)"),
            ExtraFlaw::Sha1 { algorithm } => format!("is signed with {algorithm} (SHA-1)"),
            ExtraFlaw::WeakKey { bits } => format!("has an RSA key of {bits} bits (fewer than {MIN_RSA_BITS})"),
        }
    }
}

impl TlsProblem {
    pub(super) fn cause(&self) -> Cause {
        match self {
            TlsProblem::OldTlsOnly { .. } | TlsProblem::NoExchangeOnlineSuite { .. } => Cause::Network,
            TlsProblem::Unreadable { .. }
            | TlsProblem::Unusable { .. }
            | TlsProblem::SelfSigned { .. }
            | TlsProblem::IntermediateMissing { .. }
            | TlsProblem::PrivateCa { .. }
            | TlsProblem::PrivateRoot { .. }
            | TlsProblem::ExtraCertificate { .. }
            | TlsProblem::Untrusted { .. }
            | TlsProblem::Expired { .. }
            | TlsProblem::NotYetValid { .. }
            | TlsProblem::ExpiresSoon { .. }
            | TlsProblem::CommonNameOnly { .. }
            | TlsProblem::NameMismatch { .. }
            | TlsProblem::WeakKey { .. }
            | TlsProblem::Sha1Signature { .. } => Cause::Certificate,
        }
    }

    pub(super) fn severity(&self) -> Severity {
        match self {
            // Microsoft's list is service-wide; what the migration service itself offers is not published.
            TlsProblem::ExpiresSoon { .. }
            | TlsProblem::CommonNameOnly { .. }
            | TlsProblem::NoExchangeOnlineSuite { .. }
            | TlsProblem::ExtraCertificate { .. }
            | TlsProblem::PrivateRoot {
                vantage: Vantage::Inside | Vantage::BehindAgent,
                ..
            } => Severity::Warn,
            TlsProblem::OldTlsOnly { .. }
            | TlsProblem::Unreadable { .. }
            | TlsProblem::Unusable { .. }
            | TlsProblem::SelfSigned { .. }
            | TlsProblem::IntermediateMissing { .. }
            | TlsProblem::PrivateCa { .. }
            | TlsProblem::PrivateRoot {
                vantage: Vantage::Internet,
                ..
            }
            | TlsProblem::Untrusted { .. }
            | TlsProblem::Expired { .. }
            | TlsProblem::NotYetValid { .. }
            | TlsProblem::NameMismatch { .. }
            | TlsProblem::WeakKey { .. }
            | TlsProblem::Sha1Signature { .. } => Severity::Fail,
        }
    }

    pub(super) fn summary(&self) -> String {
        match self {
            TlsProblem::OldTlsOnly { host } => format!(
                "{host} offers nothing newer than TLS 1.1; Exchange Online connects only with TLS 1.2 or newer."
            ),
            TlsProblem::NoExchangeOnlineSuite { host, suite } => format!(
                "{host} connects only with {suite}, which is not one of the cipher suites Microsoft 365 lists; offered just those suites it found none in common, so Exchange Online may not be able to connect."
            ),
            TlsProblem::Unreadable { why, .. } => format!("The server's certificate cannot be read: {why}."),
            TlsProblem::Unusable { host, why } => format!("The certificate of {host} cannot be used: {why}."),
            TlsProblem::SelfSigned { host } => format!(
                "The certificate of {host} is self-signed; Exchange Online trusts only certificates from a public certification authority."
            ),
            TlsProblem::IntermediateMissing { host, issuer } => format!(
                "The intermediate certificate is missing: {host} sends only its own certificate, and its issuer ({issuer}) is neither sent nor a trusted root."
            ),
            TlsProblem::PrivateCa { host, issuer } => format!(
                "The certificate of {host} is not trusted: its chain ends at {issuer}, which is not a trusted root (a private or internal CA)."
            ),
            TlsProblem::PrivateRoot {
                host,
                root,
                through,
                vantage: Vantage::Internet,
            } => format!(
                "The certificate of {host} is trusted only through {root}, a root from {}: a private certification authority. Exchange Online trusts only public ones, so it refuses this certificate.",
                through.words()
            ),
            TlsProblem::PrivateRoot {
                host,
                root,
                through,
                vantage: Vantage::Inside | Vantage::BehindAgent,
            } => format!(
                "The certificate of {host} is trusted only through {root}, a root from {}: a private certification authority, which Exchange Online does not trust. migcheck looks from inside a network here, where {host} may lead to an internal server that Exchange Online never meets: the certificate the internet sees for {host} decides.",
                through.words()
            ),
            TlsProblem::ExtraCertificate {
                host, subject, flaw, ..
            } => format!(
                "{host} also sends {subject}, which {}. It is not on the path clients build (Windows and browsers ignore it), so it does not stop the migration; remove it from the chain the server sends.",
                flaw.words()
            ),
            TlsProblem::Untrusted { host, why } => format!("The certificate chain of {host} is not trusted: {why}."),
            TlsProblem::Expired {
                host,
                which,
                date,
                days,
            } => {
                format!("{} expired on {date} ({days} days ago).", which.certificate(host))
            }
            TlsProblem::NotYetValid {
                host,
                which,
                date,
                days,
            } => format!(
                "{} is not valid yet: it starts on {date} (in {days} days).",
                which.certificate(host)
            ),
            TlsProblem::ExpiresSoon {
                host,
                which,
                date,
                days,
            } => format!(
                "{} expires on {date} (in {days} days); the migration stops working then.",
                which.certificate(host)
            ),
            TlsProblem::CommonNameOnly { host } => format!(
                "The certificate names {host} only in its Common Name and has no Subject Alternative Name; current clients ignore the Common Name."
            ),
            TlsProblem::NameMismatch { host, names, wildcard } => format!(
                "The certificate does not cover {host}: it names {names}.{}",
                wildcard
                    .as_ref()
                    .map(|w| format!(" A wildcard covers exactly one label: {w} does not cover {host}."))
                    .unwrap_or_default()
            ),
            TlsProblem::WeakKey { host, which, bits } => format!(
                "{} has an RSA key of {bits} bits; at least {MIN_RSA_BITS} bits are required.",
                which.short(host)
            ),
            TlsProblem::Sha1Signature { host, which, algorithm } => format!(
                "{} is signed with {algorithm} (SHA-1), which clients no longer accept.",
                which.short(host)
            ),
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            TlsProblem::OldTlsOnly { .. } => TLS12.to_string(),
            TlsProblem::NoExchangeOnlineSuite { .. } => SUITES.to_string(),
            TlsProblem::SelfSigned { host } => renew_because(SELF_SIGNED, host),
            TlsProblem::PrivateCa { host, .. } => renew_because(PRIVATE_CA, host),
            TlsProblem::PrivateRoot {
                host,
                vantage: Vantage::Internet,
                ..
            } => renew_because(PUBLIC_FOR_PUBLISHED, host),
            TlsProblem::PrivateRoot {
                host,
                vantage: Vantage::Inside | Vantage::BehindAgent,
                ..
            } => renew_because(CHECK_FROM_OUTSIDE, host),
            TlsProblem::ExtraCertificate {
                host,
                subject,
                thumbprint,
                ..
            } => fill(REMOVE_EXTRA, host)
                // The subject comes from the network: no control character may start a line of its own
                // in what the user pastes.
                .replace("SUBJECT", &subject.replace(char::is_control, " "))
                .replace("THUMBPRINT", thumbprint),
            TlsProblem::WeakKey { host, .. } => renew_because(WEAK_KEY, host),
            TlsProblem::Sha1Signature { host, .. } => renew_because(SHA1, host),
            TlsProblem::IntermediateMissing { host, .. }
            | TlsProblem::Expired {
                host,
                which: ChainPosition::Intermediate { .. },
                ..
            } => fill(INTERMEDIATE, host),
            TlsProblem::NotYetValid { .. } => NOT_YET_VALID.to_string(),
            TlsProblem::NameMismatch { host, .. } => fill(&format!("{NAME}\n{RENEW}\n{NAME_OR_HOSTNAME}"), host),
            TlsProblem::Unreadable { host, .. }
            | TlsProblem::Unusable { host, .. }
            | TlsProblem::Untrusted { host, .. }
            | TlsProblem::Expired {
                host,
                which: ChainPosition::Leaf,
                ..
            }
            | TlsProblem::ExpiresSoon { host, .. }
            | TlsProblem::CommonNameOnly { host } => fill(RENEW, host),
        }
    }
}
