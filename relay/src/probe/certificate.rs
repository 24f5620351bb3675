//! Decoding a presented certificate into what a user needs to see (x509-parser does the parsing).

use migcheck_shared::CertificateInfo;
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

/// A decoded certificate plus the raw facts the checks need.
pub struct Decoded {
    pub info: CertificateInfo,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub dns_names: Vec<String>,
    pub has_san: bool,
    pub common_name: Option<String>,
    /// RSA modulus size in bits, when the key is RSA.
    pub rsa_bits: Option<u32>,
    pub sha1_signed: bool,
    pub is_ca: bool,
}

/// Why a certificate cannot be read; the words go into the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the certificate cannot be decoded: {0}")]
    Der(String),
    /// A validity date outside what a calendar holds.
    #[error("its validity dates are out of range: {0}")]
    Dates(String),
    #[error("its subjectAltName cannot be decoded: {0}")]
    SubjectAltName(String),
}

/// Decodes one DER certificate; `Err` says why it could not be read.
pub fn decode(der: &CertificateDer<'_>) -> Result<Decoded, CertificateError> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).map_err(|e| CertificateError::Der(e.to_string()))?;
    let validity = cert.validity();
    let date = |t: i64| OffsetDateTime::from_unix_timestamp(t).map_err(|e| CertificateError::Dates(e.to_string()));
    let not_before = date(validity.not_before.timestamp())?;
    let not_after = date(validity.not_after.timestamp())?;
    let san_ext = cert
        .subject_alternative_name()
        .map_err(|e| CertificateError::SubjectAltName(e.to_string()))?;
    let mut san = Vec::new();
    let mut dns_names = Vec::new();
    if let Some(ext) = &san_ext {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(n) => {
                    san.push(format!("DNS:{n}"));
                    dns_names.push(n.to_ascii_lowercase());
                }
                GeneralName::IPAddress(bytes) => san.push(format!("IP:{}", ip_text(bytes))),
                GeneralName::RFC822Name(n) => san.push(format!("email:{n}")),
                GeneralName::URI(u) => san.push(format!("URI:{u}")),
                _ => {}
            }
        }
    }
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    let spki = cert.public_key();
    let (key_type, key_bits, rsa_bits) = match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".to_string(), rsa.key_size() as u32, Some(rsa.key_size() as u32)),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            let name = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "ECDSA P-256",
                Some("1.3.132.0.34") => "ECDSA P-384",
                Some("1.3.132.0.35") => "ECDSA P-521",
                _ => "ECDSA",
            };
            (name.to_string(), point.key_size() as u32, None)
        }
        Ok(other) => (
            key_name(&spki.algorithm.algorithm, &format!("{other:?}")),
            other.key_size() as u32,
            None,
        ),
        Err(_) => (key_name(&spki.algorithm.algorithm, "unknown"), 0, None),
    };
    let sig_oid = &cert.signature_algorithm.algorithm;
    let signature_algorithm = oid2sn(sig_oid, oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| sig_oid.to_id_string());
    let sha1_signed = matches!(
        sig_oid.to_id_string().as_str(),
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.3.14.3.2.29" | "1.2.840.113549.1.1.4"
    );
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let info = CertificateInfo {
        self_signed: subject == issuer,
        subject,
        issuer,
        san,
        not_before: not_before.format(&Rfc3339).unwrap_or_default(),
        not_after: not_after.format(&Rfc3339).unwrap_or_default(),
        key_type,
        key_bits,
        signature_algorithm,
        sha256: hex(ring::digest::digest(&ring::digest::SHA256, der.as_ref()).as_ref(), ":"),
        thumbprint: hex(
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der.as_ref()).as_ref(),
            "",
        ),
        serial: cert.raw_serial_as_string().to_ascii_uppercase(),
    };
    Ok(Decoded {
        info,
        not_before,
        not_after,
        dns_names,
        has_san: san_ext.is_some(),
        common_name,
        rsa_bits,
        sha1_signed,
        is_ca: cert.is_ca(),
    })
}

fn key_name(oid: &x509_parser::der_parser::oid::Oid<'_>, fallback: &str) -> String {
    match oid.to_id_string().as_str() {
        "1.3.101.112" => "Ed25519".to_string(),
        "1.3.101.113" => "Ed448".to_string(),
        _ => oid2sn(oid, oid_registry())
            .map(str::to_string)
            .unwrap_or_else(|_| fallback.to_string()),
    }
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(octets).to_string()
        }
        _ => format!("{} bytes", bytes.len()),
    }
}

fn hex(bytes: &[u8], sep: &str) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(sep)
}
