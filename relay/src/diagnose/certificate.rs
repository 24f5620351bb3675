//! KB step 2: is the certificate one that Exchange Online will accept? What the handshake showed (the
//! probe's facts) judged as six verdicts, each its own check: TLS version, trusted chain, dates, name,
//! key strength, signature algorithm.

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use time::{Duration, OffsetDateTime};
use webpki::{EndEntityCert, KeyUsage};

use migcheck_shared::kb::{ChainPosition, EXPIRY_WARNING_DAYS, MIN_RSA_BITS, TlsProblem};
use migcheck_shared::{Check, Evidence, Status};

use super::Outcome;
use crate::net::{Inspection, RootSource, TrustStore};
use crate::probe::certificate::{Decoded, decode};

/// The fact of `tls.chain` that says where the root of a trusted chain came from.
const ROOT_FACT: &str = "Root trusted through";
/// Its value for a root of Mozilla's list, the only kind Exchange Online trusts.
const PUBLIC_ROOT: &str = "a public certification authority (Mozilla's list)";

/// Where the root of a trusted `tls.chain` came from when it is not a public CA (`--ca-file`, the
/// system store): the chain is good for this tool, not for Exchange Online.
pub fn private_root(chain: &Check) -> Option<&str> {
    chain
        .evidence
        .facts
        .iter()
        .find(|f| f.label == ROOT_FACT)
        .map(|f| f.value.as_str())
        .filter(|from| *from != PUBLIC_ROOT)
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

/// Judges what the handshake showed for `host`, at time `now`.
pub fn judge(host: &str, inspection: &Inspection, trust: &TrustStore, now: OffsetDateTime) -> CertificateChecks {
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
    let readable: Vec<&Decoded> = decoded.iter().filter_map(|d| d.as_ref().ok()).collect();
    CertificateChecks {
        version,
        chain: chain_check(host, &inspection.chain, &readable, trust, now),
        dates: dates_check(host, &readable, now),
        name: name_check(host, &inspection.chain[0], leaf),
        key: key_check(host, &readable),
        signature: signature_check(host, &readable),
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
fn trust_time(chain: &[&Decoded], now: OffsetDateTime) -> OffsetDateTime {
    match chain.first() {
        Some(leaf) if now > leaf.not_after => leaf.not_after - Duration::seconds(1),
        Some(leaf) if now < leaf.not_before => leaf.not_before + Duration::seconds(1),
        _ => now,
    }
}

fn chain_check(
    host: &str,
    ders: &[CertificateDer<'static>],
    chain: &[&Decoded],
    trust: &TrustStore,
    now: OffsetDateTime,
) -> Outcome {
    let evidence = Evidence {
        facts: Vec::new(),
        certificates: chain.iter().map(|d| d.info.clone()).collect(),
    };
    let Some(leaf_der) = ders.first() else {
        return Outcome::skip("No certificate was presented.");
    };
    let leaf = match EndEntityCert::try_from(leaf_der) {
        Ok(l) => l,
        Err(e) => {
            return Outcome::problem(TlsProblem::Unusable {
                host: host.to_string(),
                why: format!("{e:?}"),
            })
            .with_evidence(evidence);
        }
    };
    let at = trust_time(chain, now);
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.unix_timestamp().max(0) as u64));
    let result = leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &trust.anchors,
        &ders[1..],
        time,
        KeyUsage::server_auth(),
        None,
        None,
    );
    let sent = format!("{} certificate(s)", ders.len());
    let last_issuer = chain.last().map(|d| d.info.issuer.clone()).unwrap_or_default();
    let mut origin = None;
    let outcome = match result {
        Ok(path) => {
            let through = format!(
                "Trusted: the chain leads from the server's certificate through {} intermediate(s) to a trusted root ({last_issuer})",
                path.intermediate_certificates().count()
            );
            let (from, summary) = match trust.root_source(path.anchor()) {
                RootSource::Public => (PUBLIC_ROOT, format!("{through}.")),
                // A consultant's internal CA makes the chain good for this tool, not for the migration
                // service, which connects from the internet and trusts public CAs only.
                RootSource::CaFile => (
                    "--ca-file",
                    format!(
                        "{through}, a root from --ca-file. Exchange Online trusts only public certification authorities: the name it connects to needs a certificate from one."
                    ),
                ),
                RootSource::System => (
                    "this computer's certificate store (--system-roots)",
                    format!(
                        "{through}, a root from this computer's certificate store. Exchange Online trusts only public certification authorities: the name it connects to needs a certificate from one."
                    ),
                ),
            };
            origin = Some(from);
            Outcome::pass(summary)
        }
        // A CA:TRUE self-signed certificate (`openssl req -x509` makes one by default) is refused as a CA
        // used as a server certificate before its issuer is even looked for: the user's problem is the same.
        Err(webpki::Error::UnknownIssuer | webpki::Error::CaUsedAsEndEntity)
            if ders.len() == 1 && chain.first().is_some_and(|l| l.info.self_signed) =>
        {
            Outcome::problem(TlsProblem::SelfSigned { host: host.to_string() })
        }
        Err(webpki::Error::UnknownIssuer) if ders.len() == 1 => Outcome::problem(TlsProblem::IntermediateMissing {
            host: host.to_string(),
            issuer: last_issuer,
        }),
        Err(webpki::Error::UnknownIssuer) => Outcome::problem(TlsProblem::PrivateCa {
            host: host.to_string(),
            issuer: last_issuer,
        }),
        Err(
            e @ (webpki::Error::UnsupportedSignatureAlgorithmContext(_)
            | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)),
        ) => Outcome::new(
            Status::Fail,
            format!(
                "Not trusted: a certificate in the chain is signed with an algorithm clients refuse ({}).",
                if chain.iter().any(|d| d.sha1_signed) {
                    "SHA-1".to_string()
                } else {
                    short(&e)
                }
            ),
        ),
        Err(webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }) => Outcome::new(
            Status::Fail,
            "Not trusted: a certificate in the chain is out of date (see the dates check).",
        ),
        Err(e) => Outcome::problem(TlsProblem::Untrusted {
            host: host.to_string(),
            why: plain(&e),
        }),
    };
    let outcome = outcome.with_evidence(evidence).fact("Presented", sent);
    match origin {
        Some(from) => outcome.fact(ROOT_FACT, from),
        None => outcome,
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

fn dates_check(host: &str, chain: &[&Decoded], now: OffsetDateTime) -> Outcome {
    let mut warning: Option<Outcome> = None;
    for (i, cert) in chain.iter().enumerate() {
        let which = position(i, cert);
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
    warning.unwrap_or_else(|| {
        let leaf = chain[0];
        Outcome::pass(format!(
            "In date: valid until {} ({} days left).",
            date(leaf.not_after),
            days(leaf.not_after - now)
        ))
        .fact("Valid from", leaf.info.not_before.clone())
        .fact("Valid until", leaf.info.not_after.clone())
    })
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

fn key_check(host: &str, chain: &[&Decoded]) -> Outcome {
    let leaf = chain[0];
    let key = |d: &Decoded| {
        if d.info.key_bits > 0 {
            format!("{} {} bits", d.info.key_type, d.info.key_bits)
        } else {
            d.info.key_type.clone()
        }
    };
    for (i, cert) in chain.iter().enumerate() {
        if cert.info.self_signed && i > 0 {
            continue;
        }
        if let Some(bits) = cert.rsa_bits.filter(|b| *b < MIN_RSA_BITS) {
            return Outcome::problem(TlsProblem::WeakKey {
                host: host.to_string(),
                which: position(i, cert),
                bits,
            })
            .fact("Key", key(cert));
        }
    }
    Outcome::pass(format!("Strong enough: {}.", key(leaf))).fact("Key", key(leaf))
}

fn signature_check(host: &str, chain: &[&Decoded]) -> Outcome {
    // A root's own signature is never checked by clients, so a SHA-1 self-signed root is fine.
    let weak = chain
        .iter()
        .enumerate()
        .find(|(i, d)| d.sha1_signed && !(d.info.self_signed && *i > 0));
    match weak {
        Some((i, cert)) => Outcome::problem(TlsProblem::Sha1Signature {
            host: host.to_string(),
            which: position(i, cert),
            algorithm: cert.info.signature_algorithm.clone(),
        })
        .fact("Signature algorithm", cert.info.signature_algorithm.clone()),
        None => Outcome::pass(format!("Signed with {}.", chain[0].info.signature_algorithm))
            .fact("Signature algorithm", chain[0].info.signature_algorithm.clone()),
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    use rustls::pki_types::CertificateDer;
    use time::OffsetDateTime;

    use super::{cn_matches, judge};
    use crate::net::{Inspection, TrustStore};

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
            OffsetDateTime::now_utc(),
        );
        assert!(
            checks.chain.summary.contains("is self-signed"),
            "{}",
            checks.chain.summary
        );
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
