//! The TLS handshake, made to inspect a server: the presented chain is captured whatever its verdict,
//! and the handshake is completed so the negotiated version and suite can be reported.
//!
//! A connection made this way is for looking only: it trusts anything, so nothing (least of all a
//! password) may ever be sent over it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use rustls::{
    AlertDescription, ClientConfig, DigitallySignedStruct, Error as TlsError, PeerIncompatible, SignatureScheme,
};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use super::{Net, NetError};

/// The roots a chain must lead to: Mozilla's (webpki-roots), then a test lab's `--public-ca-file`, the
/// user's `--ca-file`, and with `--system-roots` the operating system's (see
/// `platform::add_system_roots`), in that order.
pub struct TrustStore {
    pub anchors: Vec<TrustAnchor<'static>>,
    /// How many came from `--public-ca-file`: roots treated as public certification authorities (a test
    /// lab's, standing in for the internet's).
    pub public_file: usize,
    /// How many came from `--ca-file`.
    pub extra: usize,
    /// How many came from the operating system's store (`--system-roots`).
    pub system: usize,
    /// The verifying client built from `anchors` on first use: building it per connection cost more
    /// CPU than the handshake itself.
    strict: OnceLock<Arc<ClientConfig>>,
}

impl TrustStore {
    /// Mozilla's roots plus the certificates of a PEM file, or of a DER file (a `.cer` as Windows'
    /// certificate export wizard writes it by default).
    pub fn load(ca_file: Option<&std::path::Path>) -> Result<Self, String> {
        Self::from_files(ca_file, None)
    }

    /// Mozilla's roots, the roots of `public_ca_file` (treated as public: a test lab's), then those of
    /// `ca_file` (trusted, reported as private). Each file is PEM or one DER certificate.
    pub fn from_files(
        ca_file: Option<&std::path::Path>,
        public_ca_file: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        let mut anchors: Vec<TrustAnchor<'static>> = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        let public = public_ca_file
            .map(|path| read_roots("--public-ca-file", path))
            .transpose()?
            .unwrap_or_default();
        let private = ca_file
            .map(|path| read_roots("--ca-file", path))
            .transpose()?
            .unwrap_or_default();
        let (public_file, extra) = (public.len(), private.len());
        anchors.extend(public);
        anchors.extend(private);
        Ok(TrustStore {
            anchors,
            public_file,
            extra,
            system: 0,
            strict: OnceLock::new(),
        })
    }

    /// Where a root the chain led to came from: Exchange Online trusts only the public ones.
    pub fn root_source(&self, anchor: &TrustAnchor<'_>) -> RootSource {
        let position = self.anchors.iter().position(|a| {
            a.subject.as_ref() == anchor.subject.as_ref()
                && a.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
        });
        let mozilla = self.anchors.len() - self.public_file - self.extra - self.system;
        match position {
            Some(i) if i < mozilla => RootSource::Public,
            Some(i) if i < mozilla + self.public_file => RootSource::PublicCaFile,
            Some(i) if i < mozilla + self.public_file + self.extra => RootSource::CaFile,
            Some(_) => RootSource::System,
            // Not one of ours cannot happen for a verified path; claim the least trust.
            None => RootSource::CaFile,
        }
    }

    /// A TLS client that verifies like Exchange Online would: these roots, the name, the dates. Only
    /// connections made with it may carry credentials. It resumes no session: [`Net`] gives each
    /// diagnosis its own session store.
    pub fn strict_config(&self) -> Result<Arc<ClientConfig>, String> {
        if let Some(config) = self.strict.get() {
            return Ok(config.clone());
        }
        let roots = rustls::RootCertStore {
            roots: self.anchors.clone(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| e.to_string())?;
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_webpki_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.resumption = rustls::client::Resumption::disabled();
        Ok(self.strict.get_or_init(|| Arc::new(config)).clone())
    }
}

/// The roots in a PEM file, or in a DER file of one certificate; errors name `flag` and the path.
fn read_roots(flag: &str, path: &std::path::Path) -> Result<Vec<TrustAnchor<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    let ders: Vec<CertificateDer<'static>> = if bytes.first() == Some(&0x30) {
        // DER: one certificate, an ASN.1 SEQUENCE (PEM starts with text).
        vec![CertificateDer::from(bytes)]
    } else {
        rustls_pemfile::certs(&mut bytes.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{flag} {}: not a PEM certificate file: {e}", path.display()))?
    };
    let anchors = ders
        .iter()
        .enumerate()
        .map(|(n, der)| {
            // webpki's reason (`TrailingData(SignedData)`, ...) means nothing to the user.
            webpki::anchor_from_trusted_cert(der)
                .map(|a| a.to_owned())
                .map_err(|_| {
                    format!(
                        "{flag} {}: certificate {} in it is not a well-formed X.509 certificate",
                        path.display(),
                        n + 1
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if anchors.is_empty() {
        return Err(format!(
            "{flag} {}: no certificate found in it (PEM, or one DER certificate)",
            path.display()
        ));
    }
    Ok(anchors)
}

/// Where a trusted root came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootSource {
    /// Mozilla's list of public certification authorities (the list Exchange Online's resembles).
    Public,
    /// `--public-ca-file`: roots treated as public certification authorities, for a test lab that stands
    /// in for the internet.
    PublicCaFile,
    /// The user's `--ca-file`.
    CaFile,
    /// The operating system's store (`--system-roots`).
    System,
}

/// What one inspection handshake learned.
pub struct Inspection {
    pub peer: SocketAddr,
    /// `TLS 1.3`, `TLS 1.2`, when the handshake completed.
    pub version: Option<&'static str>,
    pub cipher_suite: Option<String>,
    pub alpn: Option<String>,
    /// Leaf first, as sent; present even when the handshake failed after the Certificate message.
    pub chain: Vec<CertificateDer<'static>>,
    /// Why the server's handshake signature would be rejected by a strict client, if it would.
    pub signature_problem: Option<String>,
    pub error: Option<NetError>,
    /// What the server answered to a TLS 1.0/1.1 ClientHello, when the modern handshake failed.
    pub legacy: Option<super::LegacyAnswer>,
    /// What the second client (OpenSSL, `fallback.rs`) made of it when rustls's handshake failed for
    /// want of common parameters. When it completed, the fields above are OpenSSL's.
    pub second_try: Option<super::SecondTry>,
}

impl Inspection {
    /// A handshake failure that an old-TLS-only server would cause, worth asking the old way.
    pub fn may_be_old_tls(&self) -> bool {
        matches!(
            self.error,
            Some(NetError::TlsTooOld { .. } | NetError::TlsIncompatible { .. } | NetError::TlsHandshake { .. })
        )
    }

    /// The server speaks only TLS 1.1 or older: its refusal said so, or it chose an old version when
    /// offered one. The text is the evidence.
    pub fn old_tls_only(&self) -> Option<String> {
        let chose = match &self.legacy {
            Some(super::LegacyAnswer::Chose(v)) if *v != "TLS 1.2" && *v != "a newer TLS" => Some(*v),
            _ => None,
        };
        match (&self.error, chose) {
            (Some(_), Some(v)) => Some(format!("offered TLS 1.0 and 1.1 instead, it chose {v}")),
            (Some(NetError::TlsTooOld { reason, .. }), None) => Some(reason.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    signature_problem: Option<String>,
}

/// Accepts any server, recording what it presented.
#[derive(Debug)]
struct Recorder {
    provider: Arc<CryptoProvider>,
    seen: Arc<Mutex<Seen>>,
}

impl Recorder {
    fn note_signature(
        &self,
        result: Result<HandshakeSignatureValid, TlsError>,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        if let (Err(e), Ok(mut seen)) = (result, self.seen.lock()) {
            seen.signature_problem = Some(e.to_string());
        }
        Ok(HandshakeSignatureValid::assertion())
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.note_signature(verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.note_signature(verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        ))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

impl Net {
    /// Runs an inspection handshake on an open connection. Never fails: what went wrong is in `error`.
    pub async fn inspect_tls(&self, stream: TcpStream, peer: SocketAddr, host: &str) -> Inspection {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let recorder = Arc::new(Recorder {
            provider: provider.clone(),
            seen: seen.clone(),
        });
        let mut inspection = Inspection::new(peer);
        let config = match ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
            Ok(b) => b
                .dangerous()
                .with_custom_certificate_verifier(recorder)
                .with_no_client_auth(),
            Err(e) => {
                inspection.error = Some(NetError::TlsHandshake {
                    addr: peer,
                    reason: e.to_string(),
                });
                return inspection;
            }
        };
        let mut config = config;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = match ServerName::try_from(host.to_string()) {
            Ok(n) => n,
            Err(e) => {
                inspection.error = Some(NetError::TlsHandshake {
                    addr: peer,
                    reason: format!("'{host}' cannot be sent as a TLS server name: {e}"),
                });
                return inspection;
            }
        };
        let result = timeout(self.timeout, TlsConnector::from(Arc::new(config)).connect(name, stream)).await;
        if let Ok(mut s) = seen.lock() {
            inspection.chain = std::mem::take(&mut s.chain);
            inspection.signature_problem = s.signature_problem.take();
        }
        match result {
            Err(_) => {
                inspection.error = Some(NetError::TlsTimeout {
                    addr: peer,
                    secs: self.timeout.as_secs(),
                })
            }
            Ok(Err(e)) => inspection.error = Some(classify(peer, &e)),
            Ok(Ok(tls)) => {
                let (_, conn) = tls.get_ref();
                inspection.version = version_name(conn.protocol_version());
                inspection.cipher_suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
                inspection.alpn = conn.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned());
            }
        }
        inspection
    }
}

/// The negotiated version as a user reads it.
pub(super) fn version_name(version: Option<rustls::ProtocolVersion>) -> Option<&'static str> {
    version.map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2",
        _ => "an older TLS version",
    })
}

/// Puts a handshake failure in the group a user can act on.
pub(super) fn classify(addr: SocketAddr, err: &std::io::Error) -> NetError {
    let reason = err.to_string();
    let tls = err.get_ref().and_then(|inner| inner.downcast_ref::<TlsError>());
    match tls {
        Some(TlsError::AlertReceived(AlertDescription::ProtocolVersion))
        | Some(TlsError::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13))
        | Some(TlsError::PeerIncompatible(PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig)) => {
            NetError::TlsTooOld { addr, reason }
        }
        Some(TlsError::AlertReceived(AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity))
        | Some(TlsError::PeerIncompatible(_)) => NetError::TlsIncompatible { addr, reason },
        Some(TlsError::InvalidCertificate(e)) => NetError::Certificate {
            addr,
            reason: e.to_string(),
        },
        Some(TlsError::InvalidMessage(_)) => NetError::NotTls {
            addr,
            reason: not_tls_reason(&reason),
        },
        _ if err.kind() == std::io::ErrorKind::UnexpectedEof => NetError::TlsHandshake {
            addr,
            reason: "the server closed the connection during the handshake".into(),
        },
        _ => NetError::TlsHandshake { addr, reason },
    }
}

fn not_tls_reason(reason: &str) -> String {
    format!("its first bytes are not a TLS record ({reason}); a plain HTTP site on this port is the usual cause")
}

#[cfg(test)]
mod tests {
    use super::{RootSource, TrustStore};

    #[test]
    fn mozilla_roots_are_public_and_added_ones_are_not() {
        let mut trust = TrustStore::load(None).expect("roots");
        let public = trust.anchors[0].clone();
        assert_eq!(trust.root_source(&public), RootSource::Public);
        // A root added after Mozilla's, as --system-roots adds them.
        let mut added = public.clone();
        added.subject = b"not a Mozilla subject".to_vec().into();
        trust.anchors.push(added.clone());
        trust.system += 1;
        assert_eq!(trust.root_source(&added), RootSource::System);
        trust.system -= 1;
        trust.extra += 1;
        assert_eq!(trust.root_source(&added), RootSource::CaFile);
        trust.extra -= 1;
        trust.public_file += 1;
        assert_eq!(trust.root_source(&added), RootSource::PublicCaFile);
    }

    #[test]
    fn a_public_ca_file_comes_before_a_ca_file_and_errors_name_their_flag() {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let root = params.self_signed(&key).expect("root");
        let dir = std::env::temp_dir().join(format!("migcheck-public-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (pem, empty) = (dir.join("lab-root.pem"), dir.join("empty.pem"));
        std::fs::write(&pem, root.pem()).expect("pem");
        std::fs::write(&empty, "").expect("empty");
        // The same root in both files is public: the first match wins.
        let trust = TrustStore::from_files(Some(&pem), Some(&pem)).expect("roots");
        assert_eq!((trust.public_file, trust.extra), (1, 1));
        let anchor = webpki::anchor_from_trusted_cert(root.der()).expect("anchor");
        assert_eq!(trust.root_source(&anchor), RootSource::PublicCaFile);
        let private = TrustStore::from_files(Some(&pem), None).expect("roots");
        assert_eq!(private.root_source(&anchor), RootSource::CaFile);
        let error = TrustStore::from_files(None, Some(&empty)).err().unwrap_or_default();
        assert!(
            error.starts_with("--public-ca-file ") && error.contains("no certificate found"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
