//! KB step 2: is the certificate one that Exchange Online will accept? What the handshake showed (the
//! probe's facts) judged as six verdicts, each its own check: TLS version, trusted chain, dates, name,
//! key strength, signature algorithm.
//!
//! A client judges the path it builds, not every certificate the server sends: Windows' CryptoAPI
//! "tries to select the best quality chain leading up to a certificate that the user trusts" (Microsoft's
//! PKI blog, "Certificate Path Validation in Bridge CA and Cross-Certification Environments"), and browsers
//! kept working when the AddTrust root and its cross-certificate expired on 30 May 2020 while servers still
//! sent them. So the dates, the key and the signature are judged on the path webpki verified; a
//! certificate sent outside it is at most a warning to remove it. When no path verifies, every certificate
//! sent is judged, as there is no path to go by.

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use time::{Duration, OffsetDateTime};
use webpki::{EndEntityCert, KeyUsage};

use migcheck_shared::kb::{
    ChainPosition, EXPIRY_WARNING_DAYS, ExtraFlaw, MIN_RSA_BITS, PrivateTrust, TlsProblem, Vantage,
};
use migcheck_shared::{Check, Evidence, Status};

use super::Outcome;
use crate::net::{Inspection, RootSource, TrustStore};
use crate::probe::certificate::{Decoded, decode};

/// The fact of `tls.chain` that says where the root of a trusted chain came from.
const ROOT_FACT: &str = "Root trusted through";
/// Its value for a root of Mozilla's list, the kind Exchange Online trusts.
const PUBLIC_ROOT: &str = "a public certification authority (Mozilla's list)";
/// Its value for a root of `--public-ca-file`: a test lab's CA, standing in for a public one.
const PUBLIC_FILE_ROOT: &str = "--public-ca-file (treated as a public certification authority: a test lab)";

/// Where the root of a trusted `tls.chain` came from when it is not a public CA (`--ca-file`, the
/// system store): the chain is good for this tool, not for Exchange Online.
pub fn private_root(chain: &Check) -> Option<&str> {
    chain
        .evidence
        .facts
        .iter()
        .find(|f| f.label == ROOT_FACT)
        .map(|f| f.value.as_str())
        .filter(|from| *from != PUBLIC_ROOT && *from != PUBLIC_FILE_ROOT)
}

/// The verdicts drawn from one inspection, in the order they are shown.
pub struct CertificateChecks {
    pub version: Outcome,
    pub chain: Outcome,
    pub dates: Outcome,
    pub name: Outcome,
    pub key: Outcome,
    pub signature: Outcome,
}

/// A certificate as the server sent it: its place in what was sent (0 is the server's own) and what it says.
type Sent<'a> = (usize, &'a Decoded);

/// Judges what the handshake showed for `host`, at time `now`, as seen from `vantage`.
pub fn judge(
    host: &str,
    inspection: &Inspection,
    trust: &TrustStore,
    vantage: Vantage,
    now: OffsetDateTime,
) -> CertificateChecks {
    let version = version_check(host, inspection);
    if inspection.chain.is_empty() {
        let why = "Not checked: the server presented no certificate (the TLS handshake did not get that far).";
        return CertificateChecks {
            version,
            chain: Outcome::skip(why),
            dates: Outcome::skip(why),
            name: Outcome::skip(why),
            key: Outcome::skip(why),
            signature: Outcome::skip(why),
        };
    }
    let decoded: Vec<_> = inspection.chain.iter().map(decode).collect();
    let Some(Ok(leaf)) = decoded.first() else {
        let why = decoded
            .first()
            .and_then(|d| d.as_ref().err())
            .map(ToString::to_string)
            .unwrap_or_default();
        let bad = Outcome::problem(TlsProblem::Unreadable {
            host: host.to_string(),
            why,
        });
        let skip = || Outcome::skip("Not checked: the certificate cannot be read.");
        return CertificateChecks {
            version,
            chain: bad,
            dates: skip(),
            name: skip(),
            key: skip(),
            signature: skip(),
        };
    };
    let readable: Vec<Sent<'_>> = decoded
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.as_ref().ok().map(|d| (i, d)))
        .collect();
    let verified = verify(&inspection.chain, trust, trust_time(leaf, now));
    // With a verified path, that path is judged and the rest is extra; without one, everything sent.
    let (path, extras): (Vec<Sent<'_>>, Vec<Sent<'_>>) = match &verified {
        Ok(v) => readable.iter().partition(|(i, _)| v.on_path.get(*i) == Some(&true)),
        Err(_) => (readable.clone(), Vec::new()),
    };
    CertificateChecks {
        version,
        chain: chain_check(host, &inspection.chain, &readable, &verified, vantage),
        dates: dates_check(host, &path, &extras, now),
        name: name_check(host, &inspection.chain[0], leaf),
        key: key_check(host, &path, &extras),
        signature: signature_check(host, &path, &extras),
    }
}

fn version_check(host: &str, inspection: &Inspection) -> Outcome {
    if let Some(v) = inspection.version.filter(|v| *v == "TLS 1.3" || *v == "TLS 1.2") {
        return Outcome::pass(format!("{v} negotiated; Exchange Online needs TLS 1.2 or newer."))
            .fact("Negotiated version", v);
    }
    let Some(evidence) = inspection.old_tls_only() else {
        return Outcome::skip("Not known: the TLS handshake did not complete (see the handshake check).");
    };
    let mut outcome = Outcome::problem(TlsProblem::OldTlsOnly { host: host.to_string() });
    if let Some(e) = &inspection.error {
        outcome = outcome.fact("Answer to TLS 1.2 and 1.3", e.to_string());
    }
    outcome.fact("Answer to TLS 1.0 and 1.1", evidence)
}

/// Trust is judged at a time when the leaf is in date, so an expired certificate still tells whether
/// its chain is sound; the dates have their own check.
fn trust_time(leaf: &Decoded, now: OffsetDateTime) -> OffsetDateTime {
    if now > leaf.not_after {
        leaf.not_after - Duration::seconds(1)
    } else if now < leaf.not_before {
        leaf.not_before + Duration::seconds(1)
    } else {
        now
    }
}

/// The path webpki built from what the server sent to a trusted root.
struct Verified {
    /// For each certificate as sent: whether it is on the path (the server's own always is).
    on_path: Vec<bool>,
    /// For each certificate as sent: whether it is a copy of the path's root (its subject and key, and
    /// self-issued), which clients have already.
    root_copy: Vec<bool>,
    /// How many intermediates the path has.
    intermediates: usize,
    source: RootSource,
}

/// Why no path was verified.
enum Refusal {
    /// The server's own certificate cannot serve as one (webpki cannot even read it as an end entity).
    Unusable(webpki::Error),
    /// No path leads from it to a trusted root.
    Untrusted(webpki::Error),
}

fn verify(ders: &[CertificateDer<'static>], trust: &TrustStore, at: OffsetDateTime) -> Result<Verified, Refusal> {
    let Some(leaf_der) = ders.first() else {
        return Err(Refusal::Untrusted(webpki::Error::UnknownIssuer));
    };
    let leaf = EndEntityCert::try_from(leaf_der).map_err(Refusal::Unusable)?;
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.unix_timestamp().max(0) as u64));
    let path = leaf
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &trust.anchors,
            &ders[1..],
            time,
            KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(Refusal::Untrusted)?;
    let mut on_path = vec![false; ders.len()];
    on_path[0] = true;
    let mut intermediates = 0;
    for cert in path.intermediate_certificates() {
        intermediates += 1;
        // The path is made of the certificates sent: find each by its bytes.
        if let Some(i) = ders.iter().position(|d| d.as_ref() == cert.der().as_ref()) {
            on_path[i] = true;
        }
    }
    let anchor = path.anchor();
    let root_copy = ders
        .iter()
        .enumerate()
        .map(|(i, der)| {
            // A cross-certificate has the root's subject and key too, but another issuer.
            let self_issued = decode(der).is_ok_and(|d| d.info.self_signed);
            i > 0
                && self_issued
                && webpki::anchor_from_trusted_cert(der).is_ok_and(|a| {
                    a.subject.as_ref() == anchor.subject.as_ref()
                        && a.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
                })
        })
        .collect();
    Ok(Verified {
        on_path,
        root_copy,
        intermediates,
        source: trust.root_source(anchor),
    })
}

fn chain_check(
    host: &str,
    ders: &[CertificateDer<'static>],
    chain: &[Sent<'_>],
    verified: &Result<Verified, Refusal>,
    vantage: Vantage,
) -> Outcome {
    let evidence = Evidence {
        facts: Vec::new(),
        certificates: chain.iter().map(|(_, d)| d.info.clone()).collect(),
    };
    let sent = format!("{} certificate(s)", ders.len());
    let last_issuer = chain.last().map(|(_, d)| d.info.issuer.clone()).unwrap_or_default();
    let verified = match verified {
        Ok(v) => v,
        Err(Refusal::Unusable(e)) => {
            return Outcome::problem(TlsProblem::Unusable {
                host: host.to_string(),
                why: format!("{e:?}"),
            })
            .with_evidence(evidence);
        }
        Err(Refusal::Untrusted(e)) => {
            return refused(host, ders, chain, e, last_issuer)
                .with_evidence(evidence)
                .fact("Presented", sent);
        }
    };
    let on_path: Vec<&Decoded> = chain
        .iter()
        .filter(|(i, _)| verified.on_path.get(*i) == Some(&true))
        .map(|(_, d)| *d)
        .collect();
    let extras: Vec<(bool, &Decoded)> = chain
        .iter()
        .filter(|(i, _)| verified.on_path.get(*i) != Some(&true))
        .map(|(i, d)| (verified.root_copy.get(*i) == Some(&true), *d))
        .collect();
    // The root is what the last certificate of the path names as its issuer.
    let root = on_path.last().map(|d| d.info.issuer.clone()).unwrap_or_default();
    let through = format!(
        "Trusted: the chain leads from the server's certificate through {} intermediate(s) to a trusted root ({root})",
        verified.intermediates
    );
    let ignored = match extras.iter().filter(|(copy, _)| !copy).count() {
        0 => String::new(),
        n => format!(" The server also sends {n} certificate(s) that are not on this path; clients ignore them."),
    };
    let (from, outcome) = match verified.source {
        RootSource::Public => (PUBLIC_ROOT, Outcome::pass(format!("{through}.{ignored}"))),
        // A test lab's CA stands in for a public one, so its scenarios mean what they would on the internet.
        RootSource::PublicCaFile => (
            PUBLIC_FILE_ROOT,
            Outcome::pass(format!(
                "{through}, a root from --public-ca-file, treated as a public certification authority (a test lab).{ignored}"
            )),
        ),
        // A consultant's internal CA makes the chain good for this tool, not for the migration service,
        // which connects from the internet and trusts public CAs only: how much that weighs depends on
        // whether the relay sees what the internet sees.
        // Behind a Hybrid Agent the internal CA is enough: the agent, not Exchange Online, meets it.
        RootSource::CaFile | RootSource::System if vantage == Vantage::BehindAgent => (
            match verified.source {
                RootSource::CaFile => PrivateTrust::CaFile,
                _ => PrivateTrust::SystemStore,
            }
            .words(),
            Outcome::pass(migcheck_shared::kb::private_root_behind_agent(host, &root)),
        ),
        RootSource::CaFile | RootSource::System => {
            let through = if verified.source == RootSource::CaFile {
                PrivateTrust::CaFile
            } else {
                PrivateTrust::SystemStore
            };
            (
                through.words(),
                Outcome::problem(TlsProblem::PrivateRoot {
                    host: host.to_string(),
                    root,
                    through,
                    vantage,
                }),
            )
        }
    };
    let path_words = on_path
        .iter()
        .map(|d| d.info.subject.as_str())
        .chain(std::iter::once("a trusted root"))
        .collect::<Vec<_>>()
        .join(" → ");
    let mut outcome = outcome
        .with_evidence(evidence)
        .fact("Presented", sent)
        .fact(ROOT_FACT, from)
        .fact("Path clients build", path_words);
    for (copy, extra) in extras {
        let label = if copy {
            "Sent, a copy of the trusted root (clients use their own)"
        } else {
            "Sent, not on the path"
        };
        outcome = outcome.fact(label, extra.info.subject.clone());
    }
    outcome
}

/// Why no path leads to a trusted root, as the user's problem.
fn refused(
    host: &str,
    ders: &[CertificateDer<'static>],
    chain: &[Sent<'_>],
    e: &webpki::Error,
    last_issuer: String,
) -> Outcome {
    match e {
        // A CA:TRUE self-signed certificate (`openssl req -x509` makes one by default) is refused as a CA
        // used as a server certificate before its issuer is even looked for: the user's problem is the same.
        webpki::Error::UnknownIssuer | webpki::Error::CaUsedAsEndEntity
            if ders.len() == 1 && chain.first().is_some_and(|(_, l)| l.info.self_signed) =>
        {
            Outcome::problem(TlsProblem::SelfSigned { host: host.to_string() })
        }
        webpki::Error::UnknownIssuer if ders.len() == 1 => Outcome::problem(TlsProblem::IntermediateMissing {
            host: host.to_string(),
            issuer: last_issuer,
        }),
        webpki::Error::UnknownIssuer => Outcome::problem(TlsProblem::PrivateCa {
            host: host.to_string(),
            issuer: last_issuer,
        }),
        webpki::Error::UnsupportedSignatureAlgorithmContext(_)
        | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => Outcome::new(
            Status::Fail,
            format!(
                "Not trusted: a certificate in the chain is signed with an algorithm clients refuse ({}).",
                if chain.iter().any(|(_, d)| d.sha1_signed) {
                    "SHA-1".to_string()
                } else {
                    short(e)
                }
            ),
        ),
        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => Outcome::new(
            Status::Fail,
            "Not trusted: a certificate in the chain is out of date (see the dates check).",
        ),
        e => Outcome::problem(TlsProblem::Untrusted {
            host: host.to_string(),
            why: plain(e),
        }),
    }
}

/// Why webpki refused a chain, in words for an Exchange administrator (its `Debug` names otherwise).
fn plain(e: &webpki::Error) -> String {
    use webpki::Error as E;
    match e {
        E::CaUsedAsEndEntity => {
            "the server's certificate is a CA certificate (Basic Constraints CA:TRUE), not a server certificate".into()
        }
        E::EndEntityUsedAsCa => {
            "a server certificate in the chain is used as an issuer (it is not a CA certificate)".into()
        }
        E::RequiredEkuNotFoundContext(_) => {
            "the certificate is not made for server authentication (its Extended Key Usage lacks Server Authentication)"
                .into()
        }
        E::InvalidSignatureForPublicKey => "a signature in the chain does not verify with its issuer's key".into(),
        E::PathLenConstraintViolated => "the chain is longer than an issuer's path length constraint allows".into(),
        E::NameConstraintViolation => {
            "the server's name is outside what an issuer may certify (name constraints)".into()
        }
        E::BadDer | E::BadDerTime | E::TrailingData(_) => "a certificate in the chain is malformed".into(),
        E::UnknownIssuer => "the chain does not lead to a trusted root".into(),
        other => format!("the chain cannot be verified ({})", short(other)),
    }
}

fn short(e: &webpki::Error) -> String {
    let text = format!("{e:?}");
    text.split(['(', '{']).next().unwrap_or(&text).trim().to_string()
}

/// Whole days, rounded: a certificate made to last 10 days is shown as 10 days, not 9 and some hours.
fn days(span: Duration) -> i64 {
    (span.whole_seconds() + 43_200).div_euclid(86_400)
}

fn date(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// The dates of the path (a failure or a warning, as the KB weighs them), then of the certificates
/// sent outside it (a warning to remove them).
fn dates_check(host: &str, path: &[Sent<'_>], extras: &[Sent<'_>], now: OffsetDateTime) -> Outcome {
    let mut warning: Option<Outcome> = None;
    for (i, cert) in path {
        let which = position(*i, cert);
        let host = host.to_string();
        let facts = |o: Outcome| {
            o.fact("Valid from", cert.info.not_before.clone())
                .fact("Valid until", cert.info.not_after.clone())
        };
        if now > cert.not_after {
            return facts(Outcome::problem(TlsProblem::Expired {
                host,
                which,
                date: date(cert.not_after),
                days: days(now - cert.not_after),
            }));
        }
        if now < cert.not_before {
            return facts(Outcome::problem(TlsProblem::NotYetValid {
                host,
                which,
                date: date(cert.not_before),
                days: days(cert.not_before - now),
            }));
        }
        let left = days(cert.not_after - now);
        if left < EXPIRY_WARNING_DAYS && warning.is_none() {
            warning = Some(facts(Outcome::problem(TlsProblem::ExpiresSoon {
                host,
                which,
                date: date(cert.not_after),
                days: left,
            })));
        }
    }
    if let Some(warning) = warning {
        return warning;
    }
    let out_of_date = extras.iter().find_map(|(_, cert)| {
        let flaw = if now > cert.not_after {
            ExtraFlaw::Expired {
                date: date(cert.not_after),
                days: days(now - cert.not_after),
            }
        } else if now < cert.not_before {
            ExtraFlaw::NotYetValid {
                date: date(cert.not_before),
                days: days(cert.not_before - now),
            }
        } else {
            return None;
        };
        Some(
            extra(host, cert, flaw)
                .fact("Valid from", cert.info.not_before.clone())
                .fact("Valid until", cert.info.not_after.clone()),
        )
    });
    out_of_date.unwrap_or_else(|| {
        let leaf = path.first().map(|(_, d)| *d);
        match leaf {
            Some(leaf) => Outcome::pass(format!(
                "In date: valid until {} ({} days left).",
                date(leaf.not_after),
                days(leaf.not_after - now)
            ))
            .fact("Valid from", leaf.info.not_before.clone())
            .fact("Valid until", leaf.info.not_after.clone()),
            None => Outcome::skip("Not checked: the certificate cannot be read."),
        }
    })
}

/// A flaw of a certificate sent outside the path: a warning to remove it, naming it.
fn extra(host: &str, cert: &Decoded, flaw: ExtraFlaw) -> Outcome {
    Outcome::problem(TlsProblem::ExtraCertificate {
        host: host.to_string(),
        subject: cert.info.subject.clone(),
        thumbprint: cert.info.thumbprint.clone(),
        flaw,
    })
    .fact("Not on the path clients build", cert.info.subject.clone())
    .fact("Thumbprint", cert.info.thumbprint.clone())
}

/// Where `cert`, the `i`-th of the chain as sent, stands.
fn position(i: usize, cert: &Decoded) -> ChainPosition {
    if i == 0 {
        ChainPosition::Leaf
    } else {
        ChainPosition::Intermediate {
            subject: cert.info.subject.clone(),
        }
    }
}

/// RFC 6125 matching for the Common Name fallback: a wildcard stands for exactly one whole left label.
fn cn_matches(cn: &str, host: &str) -> bool {
    let cn = cn.to_ascii_lowercase();
    match cn.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => cn == host,
    }
}

fn name_check(host: &str, leaf_der: &CertificateDer<'static>, leaf: &Decoded) -> Outcome {
    let names = if leaf.info.san.is_empty() {
        "none".to_string()
    } else {
        leaf.info.san.join(", ")
    };
    let covered = match (EndEntityCert::try_from(leaf_der), ServerName::try_from(host)) {
        (Ok(cert), Ok(name)) => cert.verify_is_valid_for_subject_name(&name).is_ok(),
        _ => false,
    };
    let with_facts = |o: Outcome| {
        o.fact("Host name", host)
            .fact("Subject Alternative Names", names.clone())
            .fact("Common Name", leaf.common_name.clone().unwrap_or_else(|| "none".into()))
    };
    if covered {
        return with_facts(Outcome::pass(format!(
            "{host} is listed in the certificate's Subject Alternative Names."
        )));
    }
    if !leaf.has_san && leaf.common_name.as_deref().is_some_and(|cn| cn_matches(cn, host)) {
        return with_facts(Outcome::problem(TlsProblem::CommonNameOnly { host: host.to_string() }));
    }
    let wildcard = leaf
        .dns_names
        .iter()
        .find(|n| {
            n.strip_prefix("*.")
                .is_some_and(|rest| host.ends_with(&format!(".{rest}")))
        })
        .cloned();
    with_facts(Outcome::problem(TlsProblem::NameMismatch {
        host: host.to_string(),
        names: names.clone(),
        wildcard,
    }))
}

fn key_check(host: &str, path: &[Sent<'_>], extras: &[Sent<'_>]) -> Outcome {
    let key = |d: &Decoded| {
        if d.info.key_bits > 0 {
            format!("{} {} bits", d.info.key_type, d.info.key_bits)
        } else {
            d.info.key_type.clone()
        }
    };
    // A root's key is the client's to trust or not; the server's sending it changes nothing.
    let weak =
        |(i, cert): &&Sent<'_>| !(cert.info.self_signed && *i > 0) && cert.rsa_bits.is_some_and(|b| b < MIN_RSA_BITS);
    if let Some((i, cert)) = path.iter().find(weak) {
        return Outcome::problem(TlsProblem::WeakKey {
            host: host.to_string(),
            which: position(*i, cert),
            bits: cert.rsa_bits.unwrap_or_default(),
        })
        .fact("Key", key(cert));
    }
    if let Some((_, cert)) = extras.iter().find(weak) {
        let bits = cert.rsa_bits.unwrap_or_default();
        return extra(host, cert, ExtraFlaw::WeakKey { bits }).fact("Key", key(cert));
    }
    match path.first() {
        Some((_, leaf)) => Outcome::pass(format!("Strong enough: {}.", key(leaf))).fact("Key", key(leaf)),
        None => Outcome::skip("Not checked: the certificate cannot be read."),
    }
}

fn signature_check(host: &str, path: &[Sent<'_>], extras: &[Sent<'_>]) -> Outcome {
    // A root's own signature is never checked by clients, so a SHA-1 self-signed root is fine.
    let weak = |(i, d): &&Sent<'_>| d.sha1_signed && !(d.info.self_signed && *i > 0);
    if let Some((i, cert)) = path.iter().find(weak) {
        return Outcome::problem(TlsProblem::Sha1Signature {
            host: host.to_string(),
            which: position(*i, cert),
            algorithm: cert.info.signature_algorithm.clone(),
        })
        .fact("Signature algorithm", cert.info.signature_algorithm.clone());
    }
    if let Some((_, cert)) = extras.iter().find(weak) {
        let algorithm = cert.info.signature_algorithm.clone();
        return extra(
            host,
            cert,
            ExtraFlaw::Sha1 {
                algorithm: algorithm.clone(),
            },
        )
        .fact("Signature algorithm", algorithm);
    }
    match path.first() {
        Some((_, leaf)) => Outcome::pass(format!("Signed with {}.", leaf.info.signature_algorithm))
            .fact("Signature algorithm", leaf.info.signature_algorithm.clone()),
        None => Outcome::skip("Not checked: the certificate cannot be read."),
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair, PublicKeyData,
        SignatureAlgorithm,
    };
    use rustls::pki_types::CertificateDer;
    use time::{Duration, OffsetDateTime};

    use super::{CertificateChecks, cn_matches, judge};
    use crate::net::{Inspection, TrustStore};
    use migcheck_shared::Status;
    use migcheck_shared::kb::Vantage;

    const HOST: &str = "mail.contoso.test";
    type Issuer = CertifiedIssuer<'static, KeyPair>;

    fn inspection(chain: Vec<CertificateDer<'static>>) -> Inspection {
        Inspection {
            peer: "127.0.0.1:443".parse().expect("address"),
            version: Some("TLS 1.3"),
            cipher_suite: None,
            alpn: None,
            chain,
            signature_problem: None,
            error: None,
            legacy: None,
            second_try: None,
        }
    }

    #[test]
    fn a_self_signed_ca_certificate_is_called_self_signed() {
        // What `openssl req -x509` makes by default: self-signed with Basic Constraints CA:TRUE.
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(vec!["mail.contoso.test".to_string()]).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("certificate");
        let trust = TrustStore::load(None).expect("roots");
        let checks = judge(
            "mail.contoso.test",
            &inspection(vec![cert.der().clone()]),
            &trust,
            Vantage::Internet,
            OffsetDateTime::now_utc(),
        );
        assert!(
            checks.chain.summary.contains("is self-signed"),
            "{}",
            checks.chain.summary
        );
    }

    fn ca(cn: &str, from: OffsetDateTime, until: OffsetDateTime) -> CertificateParams {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.not_before = from;
        params.not_after = until;
        params
    }

    /// The AddTrust shape (research 6.1): leaf <- issuing CA <- "New Root", and after them "New Root"
    /// cross-signed by "Old Root" and "Old Root" itself, both expired `expired_days` ago. Returns the
    /// chain as sent, the new root's certificate and the issuing CA.
    fn cross_signed(expired_days: i64) -> (Vec<CertificateDer<'static>>, CertificateDer<'static>, Issuer) {
        let now = OffsetDateTime::now_utc();
        let gone = now - Duration::days(expired_days);
        let old_root = Issuer::self_signed(
            ca("Old Root", now - Duration::days(7000), gone),
            KeyPair::generate().expect("key"),
        )
        .expect("old root");
        let new_params = ca("New Root", now - Duration::days(3000), now + Duration::days(3000));
        let new_root = Issuer::self_signed(new_params.clone(), KeyPair::generate().expect("key")).expect("new root");
        // The same subject and key as the new root, issued by the old one: the cross-certificate.
        let mut cross_params = new_params;
        cross_params.not_after = gone;
        let cross = cross_params.signed_by(new_root.key(), &old_root).expect("cross");
        let issuing = Issuer::signed_by(
            ca("Issuing CA", now - Duration::days(300), now + Duration::days(1000)),
            KeyPair::generate().expect("key"),
            &new_root,
        )
        .expect("issuing CA");
        let leaf = leaf_of(&issuing);
        let sent = vec![leaf, issuing.der().clone(), cross.der().clone(), old_root.der().clone()];
        (sent, new_root.der().clone(), issuing)
    }

    fn leaf_of(issuer: &Issuer) -> CertificateDer<'static> {
        let mut params = CertificateParams::new(vec![HOST.to_string()]).expect("params");
        params.is_ca = IsCa::ExplicitNoCa;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(10);
        params.not_after = now + Duration::days(300);
        params
            .signed_by(&KeyPair::generate().expect("key"), issuer)
            .expect("leaf")
            .der()
            .clone()
    }

    /// Mozilla's roots plus `root`: counted as a `--public-ca-file` root, or as a `--ca-file` one.
    fn trusting(root: &CertificateDer<'_>, public: bool) -> TrustStore {
        let mut trust = TrustStore::load(None).expect("roots");
        trust
            .anchors
            .push(webpki::anchor_from_trusted_cert(root).expect("anchor").to_owned());
        if public {
            trust.public_file += 1;
        } else {
            trust.extra += 1;
        }
        trust
    }

    fn judged(chain: Vec<CertificateDer<'static>>, trust: &TrustStore, vantage: Vantage) -> CertificateChecks {
        judge(HOST, &inspection(chain), trust, vantage, OffsetDateTime::now_utc())
    }

    #[test]
    fn an_expired_cross_certificate_after_a_valid_chain_is_a_warning_naming_it() {
        let (sent, new_root, _) = cross_signed(10);
        let checks = judged(sent, &trusting(&new_root, true), Vantage::Internet);
        assert_eq!(checks.chain.status, Status::Pass, "{}", checks.chain.summary);
        assert!(
            checks.chain.summary.contains("through 1 intermediate(s)")
                && checks
                    .chain
                    .summary
                    .contains("also sends 2 certificate(s) that are not on this path"),
            "{}",
            checks.chain.summary
        );
        assert_eq!(checks.dates.status, Status::Warn, "{}", checks.dates.summary);
        assert!(
            checks
                .dates
                .summary
                .starts_with("mail.contoso.test also sends CN=New Root, which expired on")
                && checks
                    .dates
                    .summary
                    .contains("remove it from the chain the server sends"),
            "{}",
            checks.dates.summary
        );
        let problem = checks.dates.problem.expect("a finding");
        assert!(
            problem.fix().contains("Where-Object Thumbprint -eq '"),
            "{}",
            problem.fix()
        );
        // The old root's own signature and key are nobody's concern.
        assert_eq!(checks.key.status, Status::Pass);
        assert_eq!(checks.signature.status, Status::Pass);
    }

    #[test]
    fn a_copy_of_the_root_sent_after_the_chain_is_named_as_such() {
        let (mut sent, new_root, _) = cross_signed(10);
        sent.truncate(2);
        sent.push(new_root.clone());
        let checks = judged(sent, &trusting(&new_root, true), Vantage::Internet);
        assert_eq!(checks.chain.status, Status::Pass, "{}", checks.chain.summary);
        assert!(
            !checks.chain.summary.contains("not on this path"),
            "{}",
            checks.chain.summary
        );
        let copy = checks
            .chain
            .evidence
            .facts
            .iter()
            .find(|f| f.label == "Sent, a copy of the trusted root (clients use their own)");
        assert_eq!(copy.map(|f| f.value.as_str()), Some("CN=New Root"));
        assert_eq!(checks.dates.status, Status::Pass, "{}", checks.dates.summary);
    }

    #[test]
    fn without_a_trusted_path_every_certificate_sent_is_judged_as_before() {
        // The new root not trusted: nothing verifies, so the expired cross-certificate fails the dates.
        let (sent, _, _) = cross_signed(10);
        let checks = judged(sent, &TrustStore::load(None).expect("roots"), Vantage::Internet);
        assert_eq!(checks.chain.status, Status::Fail, "{}", checks.chain.summary);
        assert_eq!(checks.dates.status, Status::Fail, "{}", checks.dates.summary);
        assert!(
            checks
                .dates
                .summary
                .contains("The intermediate certificate CN=New Root expired on"),
            "{}",
            checks.dates.summary
        );
    }

    /// An RSA public key for a certificate nobody verifies against: ring cannot make or load RSA keys
    /// under 2048 bits.
    struct WeakRsa(Vec<u8>);

    impl PublicKeyData for WeakRsa {
        fn der_bytes(&self) -> &[u8] {
            &self.0
        }
        fn algorithm(&self) -> &'static SignatureAlgorithm {
            &rcgen::PKCS_RSA_SHA256
        }
    }

    fn weak_rsa_1024() -> WeakRsa {
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER (129 bytes: 0x00 then 128), exponent INTEGER 65537 }
        let mut der = vec![0x30, 0x81, 0x89, 0x02, 0x81, 0x81, 0x00, 0xC1];
        der.extend(std::iter::repeat_n(0x5A, 127));
        der.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        WeakRsa(der)
    }

    #[test]
    fn a_weak_key_outside_the_path_is_a_warning() {
        let (mut sent, new_root, issuing) = cross_signed(10);
        // An old issuing CA with an RSA-1024 key, still sent, though the path goes through the new one.
        let now = OffsetDateTime::now_utc();
        let old_issuing = ca("Old Issuing CA", now - Duration::days(300), now + Duration::days(300))
            .signed_by(&weak_rsa_1024(), &issuing)
            .expect("old issuing CA");
        sent.truncate(2);
        sent.push(old_issuing.der().clone());
        let checks = judged(sent, &trusting(&new_root, true), Vantage::Internet);
        assert_eq!(checks.dates.status, Status::Pass, "{}", checks.dates.summary);
        assert_eq!(checks.key.status, Status::Warn, "{}", checks.key.summary);
        assert!(
            checks
                .key
                .summary
                .contains("CN=Old Issuing CA, which has an RSA key of 1024 bits"),
            "{}",
            checks.key.summary
        );
    }

    #[test]
    fn a_root_from_ca_file_fails_from_the_internet_and_warns_from_inside() {
        let (mut sent, new_root, _) = cross_signed(10);
        sent.truncate(2);
        let trust = trusting(&new_root, false);
        let outside = judged(sent.clone(), &trust, Vantage::Internet);
        assert_eq!(outside.chain.status, Status::Fail, "{}", outside.chain.summary);
        assert!(
            outside
                .chain
                .summary
                .contains("trusted only through CN=New Root, a root from --ca-file"),
            "{}",
            outside.chain.summary
        );
        assert_eq!(outside.dates.status, Status::Pass);
        let inside = judged(sent.clone(), &trust, Vantage::Inside);
        assert_eq!(inside.chain.status, Status::Warn, "{}", inside.chain.summary);
        // The same root as --public-ca-file is a lab's public CA: a pass, from anywhere.
        let lab = judged(sent, &trusting(&new_root, true), Vantage::Internet);
        assert_eq!(lab.chain.status, Status::Pass, "{}", lab.chain.summary);
        assert!(lab.chain.summary.contains("--public-ca-file"), "{}", lab.chain.summary);
    }

    #[test]
    fn refusals_are_told_in_words_not_type_names() {
        for e in [
            webpki::Error::CaUsedAsEndEntity,
            webpki::Error::EndEntityUsedAsCa,
            webpki::Error::BadDer,
        ] {
            let text = super::plain(&e);
            assert!(!text.contains(&format!("{e:?}")), "{text}");
            assert!(text.contains(' '), "{text}");
        }
    }

    #[test]
    fn common_name_wildcards_cover_one_label() {
        assert!(cn_matches("mail.contoso.com", "mail.contoso.com"));
        assert!(cn_matches("*.contoso.com", "mail.contoso.com"));
        assert!(!cn_matches("*.contoso.com", "a.mail.contoso.com"));
        assert!(!cn_matches("*.contoso.com", "contoso.com"));
    }
}
