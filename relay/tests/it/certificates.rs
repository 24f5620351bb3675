//! KB step 2 against every certificate fixture of the lab, through the CLI and through the API: the
//! verdict, the failing check and the words a user reads.

use crate::common::*;
use migcheck_lab::Fixture;
use migcheck_shared::{Cause, Report, Status, Verdict};

/// What a user must see for one fixture.
struct Expect {
    verdict: Verdict,
    /// A check and the status it must have.
    check: (&'static str, Status),
    /// The cause of the first finding, when there is one.
    cause: Option<Cause>,
    /// Words the headline must contain.
    headline: &'static str,
}

fn expect(fixture: Fixture) -> Expect {
    use Status::*;
    let e = |verdict, check, cause, headline| Expect {
        verdict,
        check,
        cause,
        headline,
    };
    match fixture {
        Fixture::Valid => e(
            Verdict::Pass,
            ("tls.chain", Pass),
            None,
            // The lab's CA comes from --ca-file: fine for this tool, not a public CA.
            "is trusted, in date and covers the name, but only through a root from --ca-file: Exchange Online trusts only public",
        ),
        Fixture::Expired => e(
            Verdict::Fail,
            ("tls.dates", Fail),
            Some(Cause::Certificate),
            "expired on",
        ),
        Fixture::NotYetValid => e(
            Verdict::Fail,
            ("tls.dates", Fail),
            Some(Cause::Certificate),
            "is not valid yet",
        ),
        Fixture::WrongName => e(
            Verdict::Fail,
            ("tls.name", Fail),
            Some(Cause::Certificate),
            "does not cover wrongname.contoso.test: it names DNS:www.fabrikam.test",
        ),
        Fixture::Wildcard => e(Verdict::Pass, ("tls.name", Pass), None, "is trusted"),
        Fixture::WildcardTooDeep => e(
            Verdict::Fail,
            ("tls.name", Fail),
            Some(Cause::Certificate),
            "A wildcard covers exactly one label",
        ),
        Fixture::CnOnly => e(
            Verdict::Warn,
            ("tls.name", Warn),
            Some(Cause::Certificate),
            "only in its Common Name",
        ),
        Fixture::SelfSigned => e(
            Verdict::Fail,
            ("tls.chain", Fail),
            Some(Cause::Certificate),
            "is self-signed",
        ),
        Fixture::MissingIntermediate => e(
            Verdict::Fail,
            ("tls.chain", Fail),
            Some(Cause::Certificate),
            "The intermediate certificate is missing",
        ),
        Fixture::Rsa1024 => e(
            Verdict::Fail,
            ("tls.key", Fail),
            Some(Cause::Certificate),
            "RSA key of 1024 bits",
        ),
        Fixture::Sha1 => e(
            Verdict::Fail,
            ("tls.signature", Fail),
            Some(Cause::Certificate),
            "(SHA-1), which clients no longer accept",
        ),
        Fixture::LegacyTls => e(
            Verdict::Fail,
            ("tls.version", Fail),
            Some(Cause::Network),
            "offers nothing newer than TLS 1.1",
        ),
        Fixture::ExpiringSoon => e(
            Verdict::Warn,
            ("tls.dates", Warn),
            Some(Cause::Certificate),
            "expires on",
        ),
        Fixture::NotTls => e(
            Verdict::Fail,
            ("tls.handshake", Fail),
            Some(Cause::ExternalAccess),
            "does not speak TLS",
        ),
        Fixture::Silent => e(
            Verdict::Fail,
            ("tls.handshake", Fail),
            Some(Cause::Network),
            "silent.contoso.test at 127.0.2.16:",
        ),
        Fixture::Refused => e(
            Verdict::Fail,
            ("net.tcp", Fail),
            Some(Cause::Network),
            "refused the connection",
        ),
        Fixture::Unknown => e(
            Verdict::Fail,
            ("net.dns", Fail),
            Some(Cause::Network),
            "does not exist in DNS",
        ),
    }
}

fn assert_report(fixture: Fixture, report: &Report, how: &str) {
    let want = expect(fixture);
    let ctx = format!(
        "{fixture:?} via {how}: {}",
        serde_json::to_string_pretty(report).unwrap_or_default()
    );
    assert_eq!(report.verdict, want.verdict, "{ctx}");
    assert!(
        report.headline.contains(want.headline),
        "headline {:?} lacks {:?}; {ctx}",
        report.headline,
        want.headline
    );
    let (id, status) = want.check;
    assert_eq!(report.check(id).map(|c| c.status), Some(status), "{id}; {ctx}");
    assert_eq!(report.findings.first().map(|f| f.cause), want.cause, "{ctx}");
    if let Some(f) = report.findings.first() {
        assert!(!f.fix.is_empty(), "a finding without a fix; {ctx}");
        assert!(
            f.check_ids.iter().all(|c| report.check(c).is_some()),
            "a finding names a missing check; {ctx}"
        );
    }
}

fn run_both(fixture: Fixture) {
    let (code, report) = cli_check(fixture, 2);
    assert_report(fixture, &report, "CLI");
    assert_eq!(
        code,
        if report.verdict == Verdict::Fail { 1 } else { 0 },
        "exit code for {fixture:?}"
    );

    let (report, _) = api_report(host_body(fixture));
    assert_report(fixture, &report, "API");
}

macro_rules! fixture_tests {
    ($($name:ident => $fixture:ident),* $(,)?) => {
        $(#[test] #[ignore = "needs the lab: cargo xtask test"] fn $name() { run_both(Fixture::$fixture); })*
    };
}

fixture_tests! {
    valid_certificate_passes => Valid,
    expired_certificate_fails => Expired,
    not_yet_valid_certificate_fails => NotYetValid,
    wrong_name_fails => WrongName,
    wildcard_covers_one_label => Wildcard,
    wildcard_does_not_cover_two_labels => WildcardTooDeep,
    common_name_only_warns => CnOnly,
    self_signed_fails => SelfSigned,
    missing_intermediate_fails => MissingIntermediate,
    rsa_1024_fails => Rsa1024,
    sha1_signature_fails => Sha1,
    tls_1_1_only_fails => LegacyTls,
    expiring_in_ten_days_warns => ExpiringSoon,
    plain_http_is_not_tls => NotTls,
    silent_server_times_out => Silent,
    refused_connection_fails => Refused,
    unknown_host_fails => Unknown,
}

#[test]
fn every_fixture_has_an_expectation() {
    for f in Fixture::ALL {
        let _ = expect(*f);
    }
    assert_eq!(Fixture::ALL.len(), 17);
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn valid_report_shows_the_chain_as_presented() {
    let (_, report) = cli_check(Fixture::Valid, 5);
    let chain = report.check("tls.chain").expect("tls.chain");
    let certs = &chain.evidence.certificates;
    assert_eq!(certs.len(), 2, "leaf and intermediate");
    assert!(certs[0].san.contains(&"DNS:mail.contoso.test".to_string()));
    assert!(certs[1].subject.contains("migcheck Lab Issuing CA 1"));
    // The lab's root is trusted only through --ca-file: good for migcheck, not for Exchange Online.
    assert_eq!(chain.status, Status::Pass);
    assert!(
        chain.summary.contains("a root from --ca-file") && chain.summary.contains("Exchange Online trusts only public"),
        "{}",
        chain.summary
    );
    assert!(
        chain
            .evidence
            .facts
            .iter()
            .any(|f| f.label == "Root trusted through" && f.value == "--ca-file"),
        "{:?}",
        chain.evidence.facts
    );
    // Nor does the certificate's summary call it fine for Exchange Online.
    let tls = report.check("tls").expect("tls");
    assert!(
        tls.summary.contains("trusted only through a root from --ca-file") && !tls.summary.contains("fine for"),
        "{}",
        tls.summary
    );
    assert_eq!(certs[0].sha256.len(), 32 * 3 - 1);
    assert_eq!(certs[0].thumbprint.len(), 40);
    let handshake = report.check("tls.handshake").expect("handshake");
    assert!(
        handshake
            .evidence
            .facts
            .iter()
            .any(|f| f.label == "Version" && f.value == "TLS 1.3"),
        "{handshake:?}"
    );
    assert!(handshake.timings.iter().any(|t| t.phase == migcheck_shared::Phase::Tls));
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn expired_chain_is_still_judged_trusted_and_shown() {
    let (_, report) = cli_check(Fixture::Expired, 5);
    assert_eq!(report.check("tls.chain").map(|c| c.status), Some(Status::Pass));
    assert_eq!(
        report.check("tls.chain").map(|c| c.evidence.certificates.len()),
        Some(2)
    );
    assert!(report.findings[0].fix.contains("Enable-ExchangeCertificate"));
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn old_tls_server_is_asked_the_old_way_and_named() {
    // rustls cannot speak TLS 1.1: migcheck's own TLS 1.0/1.1 ClientHello gets nginx's real ServerHello.
    let (_, report) = cli_check(Fixture::LegacyTls, 5);
    let version = report.check("tls.version").expect("tls.version");
    let fact = version
        .evidence
        .facts
        .iter()
        .find(|f| f.label == "Answer to TLS 1.0 and 1.1");
    assert_eq!(
        fact.map(|f| f.value.as_str()),
        Some("offered TLS 1.0 and 1.1 instead, it chose TLS 1.1"),
        "{version:?}"
    );
    assert_eq!(
        report.findings.len(),
        1,
        "one finding for one cause: {:?}",
        report.findings
    );
}
