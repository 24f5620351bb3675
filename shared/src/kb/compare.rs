//! The inside and the outside view of one diagnosis, side by side: which checks differ and what each
//! difference means. The relay runs the two views; the reading of them is here, with the rest of the KB.
//!
//! What is compared, beyond each check's status:
//! - `net.dns`: the addresses (split DNS, or a record only the internal DNS has);
//! - `net.tcp`: reached inside, not from the internet (a firewall or NAT rule);
//! - `tls.chain`: the leaf certificate's thumbprint (another certificate on the way in: the external
//!   address, a load balancer or a TLS-inspecting device);
//! - `paths.*`: who answers an anonymous request to each Exchange path (a device that pre-authenticates
//!   from outside only).

use crate::kb::Cause;
use crate::report::{Check, ComparedCheck, Difference, Report, Seen, Status};

use super::mrs::FIX_PREAUTH;

/// The fact `paths.*` checks name who answered with (`Exchange (...)`, `a device in front (...)`, ...).
pub const ANSWERED_BY: &str = "Answered by";
/// The fact `paths.*` checks give the status line with.
pub const ANSWER: &str = "Anonymous answer";
/// How an `Answered by` fact starts when Exchange answered, and when a device in front did.
pub const BY_EXCHANGE: &str = "Exchange";
pub const BY_DEVICE: &str = "a device in front of Exchange";
/// The other kinds: an answer with neither's signs, and none at all.
pub const BY_UNKNOWN: &str = "not shown";
pub const NO_ANSWER: &str = "no answer";
/// The fact `net.tcp` carries when the relay's own egress policy kept it from connecting: that relay did
/// not look, which says nothing of the customer's firewall.
pub const REFUSED_BY_POLICY: &str = "Refused by the egress policy";

/// The Exchange paths the outside view asks anonymously (`paths.<id>`), and whether Exchange Online calls
/// each without pre-authentication ("Pre-Auth Supported? No" in the hybrid prerequisites; KB 10094): a
/// device answering one of those stops Exchange Online's calls; on the others (Basic logons of a cutover or
/// staged migration, Outlook on the web) a device that pre-authenticates may be by design.
pub const OUTSIDE_PATHS: [(&str, &str, bool); 6] = [
    ("paths.autodiscover_xml", "/autodiscover/autodiscover.xml", false),
    ("paths.autodiscover_svc", "/autodiscover/autodiscover.svc", true),
    ("paths.ews", "/EWS/Exchange.asmx", false),
    ("paths.mrsproxy", "/EWS/mrsproxy.svc", true),
    ("paths.rpc", "/rpc/rpcproxy.dll", false),
    ("paths.mapi", "/mapi/emsmdb/", false),
];

/// Checks the comparison leaves out: the servers behind a name and a Hybrid Agent's side are reached
/// only from inside (Exchange Online never connects to them), so the outside view of them means nothing.
fn compared(c: &Check) -> bool {
    !(c.id.starts_with("servers") || c.id.starts_with("hybrid"))
}

/// The checks of both reports, paired by id, and the differences explained, most serious first.
pub fn compare(inside: &Report, outside: &Report) -> (Vec<Difference>, Vec<ComparedCheck>) {
    let (mut ins, mut outs) = (flatten(&inside.checks), flatten(&outside.checks));
    ins.retain(|c| compared(c));
    outs.retain(|c| compared(c));
    let mut ids: Vec<&str> = ins.iter().map(|c| c.id.as_str()).collect();
    ids.extend(
        outs.iter()
            .map(|c| c.id.as_str())
            .filter(|id| !ins.iter().any(|c| c.id == *id)),
    );
    let mut differences = Vec::new();
    let mut rows = Vec::new();
    for id in ids {
        let a = ins.iter().copied().find(|c| c.id == id);
        let b = outs.iter().copied().find(|c| c.id == id);
        let found = match (a, b) {
            (Some(a), Some(b)) => explain(a, b, &ins, &outs),
            _ => None,
        };
        let leaf = a.or(b).is_some_and(|c| c.children.is_empty());
        let differs = found.is_some() || (leaf && a.map(|c| c.status) != b.map(|c| c.status));
        // A status that differs with no reading of its own: said plainly, unless one side did not run it
        // (a skip follows from an earlier difference, which is explained there).
        let plain = match (a, b) {
            (Some(a), Some(b))
                if found.is_none()
                    && leaf
                    // Who answers a path is read by its kind above; its status follows from that.
                    && !is_path(&a.id)
                    && a.status != b.status
                    && a.status != Status::Skip
                    && b.status != Status::Skip =>
            {
                Some(status_difference(a, b))
            }
            _ => None,
        };
        differences.extend(found.or(plain));
        rows.push(ComparedCheck {
            id: id.to_string(),
            title: a.or(b).map(|c| c.title.clone()).unwrap_or_default(),
            inside: a.map(seen),
            outside: b.map(seen),
            differs,
        });
    }
    differences.sort_by_key(|d| rank(d.severity));
    rows.sort_by_key(|r| !r.differs);
    (differences, rows)
}

/// The headline of a compared diagnosis: the outside view first, as Exchange Online sees that one. With
/// `inside`, the headline of the whole diagnosis here when it found more than the compared view (the
/// logons, which the password-less view does not try).
pub fn headline(outside: &Report, differences: &[Difference], inside: Option<&str>) -> String {
    let serious: Vec<&Difference> = differences.iter().filter(|d| d.severity != Status::Info).collect();
    let lead = headline_of_views(outside, &serious);
    match inside {
        Some(inside) => format!("{lead} Inside, the whole diagnosis: {inside}"),
        None => lead,
    }
}

fn headline_of_views(outside: &Report, serious: &[&Difference]) -> String {
    match serious.first() {
        Some(first) => format!(
            "From the internet, which is what Exchange Online sees: {} {} The inside view differs: {}",
            outside.headline,
            match serious.len() {
                1 => "One difference matters.".to_string(),
                n => format!("{n} differences matter."),
            },
            first.summary
        ),
        None => format!(
            "From the internet, which is what Exchange Online sees: {} The inside view shows the same.",
            outside.headline
        ),
    }
}

/// What was compared, in one sentence.
pub fn summary(relay: &str, password_sent: bool, differences: &[Difference]) -> String {
    let what = if password_sent {
        "the whole diagnosis, the password sent there with your consent"
    } else {
        "the checks that need no password (the password stayed here)"
    };
    let serious = differences.iter().filter(|d| d.severity != Status::Info).count();
    let found = match (differences.len(), serious) {
        (0, _) => "no difference".to_string(),
        (1, 1) => "1 difference, which matters".to_string(),
        (1, _) => "1 difference, which does not matter in itself".to_string(),
        (n, s) => format!("{n} differences, {s} of which matter"),
    };
    format!("Compared with the view from the relay at {relay}: {what}; {found}.")
}

fn rank(status: Status) -> u8 {
    match status {
        Status::Fail => 0,
        Status::Warn => 1,
        _ => 2,
    }
}

fn seen(c: &Check) -> Seen {
    Seen {
        status: c.status,
        summary: c.summary.clone(),
    }
}

fn flatten(checks: &[Check]) -> Vec<&Check> {
    let mut out = Vec::new();
    fn walk<'a>(checks: &'a [Check], out: &mut Vec<&'a Check>) {
        for c in checks {
            out.push(c);
            walk(&c.children, out);
        }
    }
    walk(checks, &mut out);
    out
}

fn fact<'a>(c: &'a Check, label: &str) -> Option<&'a str> {
    c.evidence
        .facts
        .iter()
        .find(|f| f.label == label)
        .map(|f| f.value.as_str())
}

/// The id's last part, after any prefix (`servers.ex01.net.dns` reads as `net.dns`).
fn is(id: &str, suffix: &str) -> bool {
    id == suffix || id.ends_with(&format!(".{suffix}"))
}

fn is_path(id: &str) -> bool {
    id.starts_with("paths.") || id.contains(".paths.")
}

/// The name a check is about, from its title (`Resolve mail.contoso.com`, `Connect to mail...:443`).
fn named(c: &Check) -> String {
    c.title.split_whitespace().last().unwrap_or_default().to_string()
}

fn explain(a: &Check, b: &Check, ins: &[&Check], outs: &[&Check]) -> Option<Difference> {
    if is(&a.id, "net.dns") {
        return dns(a, b);
    }
    if is(&a.id, "net.tcp") && a.status == Status::Pass && b.status == Status::Fail {
        let target = named(a);
        if let Some(policy) = fact(b, REFUSED_BY_POLICY) {
            return Some(Difference {
                check_id: a.id.clone(),
                cause: Cause::Network,
                severity: Status::Info,
                summary: format!(
                    "The outside relay does not connect to {target} ({policy}): it did not look there, so this says nothing of your firewall. Exchange Online connects only to public addresses on port 443."
                ),
                fix: format!(
                    "# If {target} is what Exchange Online must reach, publish it on a public address and port 443."
                ),
                inside: a.summary.clone(),
                outside: b.summary.clone(),
            });
        }
        return Some(Difference {
            check_id: a.id.clone(),
            cause: Cause::ExternalAccess,
            severity: Status::Fail,
            summary: format!(
                "From the internet, {target} does not accept connections ({}), though it does inside: a firewall rule or the NAT for this port is missing, or leads elsewhere.",
                trim(&b.summary)
            ),
            fix: format!(
                "# On the firewall in front of Exchange: allow TCP from the internet (at least Exchange Online's addresses) to\n# {target}, and NAT it to the Exchange servers or their load balancer. Test from outside:\n#   Test-NetConnection {} -Port {}",
                target.rsplit_once(':').map_or(target.as_str(), |(h, _)| h),
                target.rsplit_once(':').map_or("443", |(_, p)| p)
            ),
            inside: a.summary.clone(),
            outside: b.summary.clone(),
        });
    }
    if is(&a.id, "tls.chain") {
        return certificate(a, b, ins, outs);
    }
    if is_path(&a.id) {
        // Without a TLS connection outside, no path answered there: that is the certificate's or the
        // handshake's difference, said once, not six times.
        let tls_failed = outs
            .iter()
            .any(|c| (is(&c.id, "tls.handshake") || is(&c.id, "tls.chain")) && c.status == Status::Fail);
        if tls_failed && fact(b, ANSWERED_BY).is_none_or(|w| w == NO_ANSWER) {
            return None;
        }
        return path(a, b);
    }
    None
}

fn trim(summary: &str) -> &str {
    summary.trim_end_matches('.')
}

fn dns(a: &Check, b: &Check) -> Option<Difference> {
    let name = named(a);
    // As sets: a round-robin or dual-stack name lists its addresses in any order.
    let sorted = |list: &str| {
        let mut all: Vec<&str> = list.split(", ").collect();
        all.sort_unstable();
        all.join(", ")
    };
    let (inside, outside) = (fact(a, "Addresses").map(sorted), fact(b, "Addresses").map(sorted));
    let difference = |cause, severity, summary: String, fix: String| Difference {
        check_id: a.id.clone(),
        cause,
        severity,
        summary,
        fix,
        inside: a.summary.clone(),
        outside: b.summary.clone(),
    };
    match (inside, outside) {
        (Some(i), Some(o)) if i != o => Some(difference(
            Cause::Network,
            Status::Info,
            format!(
                "{name} resolves to {i} inside and {o} outside: split DNS. The migration uses the outside answer; the other differences below (if any) show whether that address reaches the same Exchange."
            ),
            format!(
                "# Split DNS is normal. What matters is that {name}'s public record leads to the Exchange servers (through the\n# firewall's NAT or the reverse proxy). Compare with a public resolver:\n#   Resolve-DnsName {name} -Server 1.1.1.1"
            ),
        )),
        (Some(i), None) if b.status == Status::Fail => Some(difference(
            Cause::Network,
            Status::Fail,
            format!(
                "{name} resolves to {i} inside but not from the internet ({}): the record exists only in the internal DNS, and Exchange Online cannot find the server.",
                trim(&b.summary)
            ),
            format!(
                "# Publish {name} in the public DNS zone: an A record for the public address that reaches Exchange (the\n# firewall's NAT or the reverse proxy). Then check it from outside:\n#   Resolve-DnsName {name} -Server 1.1.1.1"
            ),
        )),
        _ => None,
    }
}

/// The leaf's thumbprint and subject, from `tls.chain`'s certificates (leaf first).
fn leaf(c: &Check) -> Option<(&str, &str, &str)> {
    c.evidence
        .certificates
        .first()
        .map(|l| (l.thumbprint.as_str(), l.subject.as_str(), l.issuer.as_str()))
}

fn certificate(a: &Check, b: &Check, ins: &[&Check], outs: &[&Check]) -> Option<Difference> {
    let ((ti, si, ii), (to, so, io)) = (leaf(a)?, leaf(b)?);
    if ti == to {
        return None;
    }
    // How the outside certificate fares in its own checks (name, dates, chain): their worst.
    let tls_worst = |all: &[&Check]| {
        let prefix = a.id.trim_end_matches("chain");
        all.iter()
            .filter(|c| c.id.starts_with(prefix) && c.children.is_empty())
            .map(|c| rank(c.status))
            .min()
            .unwrap_or(2)
    };
    let (inside_rank, outside_rank) = (tls_worst(ins), tls_worst(outs));
    let severity = if outside_rank == 0 { Status::Fail } else { Status::Warn };
    let verdict = match (inside_rank, outside_rank) {
        (i, 0) if i > 0 => " It fails the certificate checks outside, though the inside one passes them.",
        (_, 0) => " It fails the certificate checks.",
        _ => " Both pass the certificate checks, but they are not the same certificate.",
    };
    Some(Difference {
        check_id: a.id.clone(),
        cause: Cause::Certificate,
        severity,
        summary: format!(
            "The certificate outside is a different one: {so}, issued by {io} (thumbprint {to}), where inside it is {si}, issued by {ii} (thumbprint {ti}). The external address, a load balancer's virtual IP or a TLS-inspecting device serves its own certificate, and Exchange Online sees that one.{verdict}"
        ),
        fix: "# Exchange Online checks the certificate it is shown from the internet. Where TLS ends for the internet (the\n# load balancer, reverse proxy or firewall), install a certificate from a public CA that covers the name, or pass\n# TLS through to Exchange; no TLS inspection on the paths Exchange Online calls. On Exchange, the certificate inside:\n#   Get-ExchangeCertificate | Format-List Thumbprint,Subject,CertificateDomains,NotAfter,Services".to_string(),
        inside: format!("{si} (thumbprint {ti})"),
        outside: format!("{so} (thumbprint {to})"),
    })
}

/// Who answered, in words for a sentence ("by Exchange", "by a device in front of Exchange", ...).
fn by(kind: &str) -> String {
    match kind {
        NO_ANSWER => "by nothing (no answer)".to_string(),
        BY_UNKNOWN => "by a server that shows neither Exchange's nor a device's signs".to_string(),
        k => format!("by {k}"),
    }
}

fn path(a: &Check, b: &Check) -> Option<Difference> {
    let (wa, wb) = (fact(a, ANSWERED_BY)?, fact(b, ANSWERED_BY).unwrap_or(NO_ANSWER));
    if wa == wb {
        return None;
    }
    let url = named(a);
    let host = url
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let (sa, sb) = (
        fact(a, ANSWER).unwrap_or(NO_ANSWER),
        fact(b, ANSWER).unwrap_or(trim(&b.summary)),
    );
    let inside = format!("{sa}, {wa}");
    let outside = format!("{sb}, {wb}");
    let own_id = a.id.rsplit_once("paths.").map_or(a.id.as_str(), |(_, p)| p);
    let (unauthenticated, path) = OUTSIDE_PATHS
        .iter()
        .find(|(id, _, _)| id.trim_start_matches("paths.") == own_id)
        .map_or((false, url.as_str()), |(_, path, u)| (*u, *path));
    // A redirect (to a login page) stops every client that is not a browser, whatever the path.
    let redirect = sb.starts_with('3');
    let (severity, summary, fix) = match (wa, wb) {
        (BY_EXCHANGE, BY_DEVICE) if unauthenticated || redirect => (
            Status::Fail,
            format!(
                "Outside, {url} is answered by {wb} ({sb}); inside, Exchange answers it itself: the reverse proxy, WAF or firewall on the way in from the internet pre-authenticates this path, and Exchange Online's calls stop there."
            ),
            FIX_PREAUTH.replace("HOST", &host),
        ),
        (BY_EXCHANGE, BY_DEVICE) => (
            Status::Warn,
            format!(
                "Outside, {url} is answered by {wb} ({sb}); inside, Exchange answers it itself: a device on the way in pre-authenticates this path. Exchange Online logs on to it with the migration account (Basic or NTLM, as the endpoint is set): the move gets through only if the device passes that logon on to Exchange."
            ),
            format!(
                "# On the device in front of {host}: publish {path} so that Exchange's own authentication answers (no\n# pre-authentication), or make sure it passes the migration account's Basic or NTLM logon through to Exchange."
            ),
        ),
        (BY_EXCHANGE, NO_ANSWER) => (
            Status::Fail,
            format!(
                "Outside, {url} does not answer ({}), though Exchange answers it inside: the path is not published to the internet, or the way in leads elsewhere.",
                trim(sb)
            ),
            format!(
                "# Publish {path} on the reverse proxy or firewall in front of {host}, to the same Exchange servers as inside."
            ),
        ),
        _ => (
            Status::Warn,
            format!(
                "{url} is answered {} outside ({sb}) and {} inside ({sa}): something differs on the way in.",
                by(wb),
                by(wa)
            ),
            format!(
                "# Compare the publishing rule for {path} on the device in front of {host} with what answers inside."
            ),
        ),
    };
    Some(Difference {
        check_id: a.id.clone(),
        cause: Cause::ExternalAccess,
        severity,
        summary,
        fix,
        inside,
        outside,
    })
}

fn status_difference(a: &Check, b: &Check) -> Difference {
    let severity = match b.status {
        Status::Fail => Status::Fail,
        Status::Warn => Status::Warn,
        _ => Status::Info,
    };
    Difference {
        check_id: a.id.clone(),
        cause: Cause::Network,
        severity,
        summary: format!(
            "{}: {} inside, {} outside. Outside: {}",
            a.title,
            a.status.label(),
            b.status.label(),
            b.summary
        ),
        fix: "# See the outside view's finding for this check: that is what Exchange Online meets.".to_string(),
        inside: a.summary.clone(),
        outside: b.summary.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CertificateInfo, Evidence, Verdict};
    use crate::request::{DiagnoseRequest, HostTarget};

    fn check(id: &str, title: &str, status: Status, facts: &[(&str, &str)]) -> Check {
        let mut evidence = Evidence::default();
        for (label, value) in facts {
            evidence = evidence.fact(label, *value);
        }
        Check {
            id: id.into(),
            title: title.into(),
            status,
            summary: format!("{title}: {}.", status.label()),
            evidence,
            elapsed_ms: 0,
            timings: Vec::new(),
            kb_step: None,
            children: Vec::new(),
        }
    }

    fn chain(thumbprint: &str, status: Status) -> Check {
        let mut c = check("tls.chain", "Trusted certificate chain", status, &[]);
        c.evidence.certificates.push(CertificateInfo {
            subject: "CN=mail.contoso.com".into(),
            issuer: "CN=Contoso CA".into(),
            san: vec!["mail.contoso.com".into()],
            not_before: String::new(),
            not_after: String::new(),
            key_type: "ECDSA P-256".into(),
            key_bits: 256,
            signature_algorithm: String::new(),
            sha256: String::new(),
            thumbprint: thumbprint.into(),
            serial: String::new(),
            self_signed: false,
        });
        c
    }

    fn report(checks: Vec<Check>) -> Report {
        Report {
            schema_version: 1,
            verdict: Verdict::Pass,
            headline: "The certificate of mail.contoso.com:443 is trusted.".into(),
            inputs: DiagnoseRequest::Outside(HostTarget {
                host: "mail.contoso.com".into(),
                port: None,
            }),
            checks,
            findings: Vec::new(),
            elapsed_ms: 0,
            comparison: None,
        }
    }

    fn dns(addresses: Option<&str>) -> Check {
        match addresses {
            Some(a) => check("net.dns", "Resolve mail.contoso.com", Status::Pass, &[("Addresses", a)]),
            None => check("net.dns", "Resolve mail.contoso.com", Status::Fail, &[]),
        }
    }

    fn path(class: &str, signs: &str) -> Check {
        check(
            "paths.mrsproxy",
            "Who answers https://mail.contoso.com/EWS/mrsproxy.svc",
            Status::Pass,
            &[(ANSWER, "401 Unauthorized"), (ANSWERED_BY, class), ("Signs", signs)],
        )
    }

    #[test]
    fn split_dns_is_information_and_a_record_only_inside_fails() {
        let inside = report(vec![dns(Some("10.0.0.5"))]);
        let (d, rows) = compare(&inside, &report(vec![dns(Some("203.0.113.7"))]));
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].severity, d[0].cause), (Status::Info, Cause::Network));
        assert!(d[0].summary.starts_with(
            "mail.contoso.com resolves to 10.0.0.5 inside and 203.0.113.7 outside: split DNS. The migration uses the outside answer"
        ));
        assert!(rows[0].differs);
        assert!(headline(&inside, &d, None).ends_with("The inside view shows the same."));
        // The same addresses in another order (round robin, dual stack) are no difference.
        let (d, rows) = compare(
            &report(vec![dns(Some("10.0.0.5, 10.0.0.6"))]),
            &report(vec![dns(Some("10.0.0.6, 10.0.0.5"))]),
        );
        assert!(d.is_empty() && !rows[0].differs, "{d:#?}");
        let (d, _) = compare(&inside, &report(vec![dns(None)]));
        assert_eq!((d[0].severity, d[0].cause), (Status::Fail, Cause::Network));
        assert!(
            d[0].summary.contains("the record exists only in the internal DNS"),
            "{}",
            d[0].summary
        );
        assert!(headline(&inside, &d, None).contains("One difference matters."));
        // The whole diagnosis inside found more (a logon refused): its headline follows.
        assert!(
            headline(&inside, &d, Some("MRS Proxy rejects the credentials."))
                .ends_with("Inside, the whole diagnosis: MRS Proxy rejects the credentials.")
        );
    }

    #[test]
    fn a_port_open_inside_only_is_the_firewall() {
        let tcp = |s| check("net.tcp", "Connect to mail.contoso.com:443", s, &[]);
        let (d, _) = compare(&report(vec![tcp(Status::Pass)]), &report(vec![tcp(Status::Fail)]));
        assert_eq!((d[0].severity, d[0].cause), (Status::Fail, Cause::ExternalAccess));
        assert!(
            d[0].fix.contains("Test-NetConnection mail.contoso.com -Port 443"),
            "{}",
            d[0].fix
        );
    }

    #[test]
    fn another_leaf_outside_warns_and_fails_when_it_fails_the_checks_there() {
        let name = |s| check("tls.name", "Certificate covers the name", s, &[]);
        let inside = report(vec![chain("AAAA", Status::Pass), name(Status::Pass)]);
        let (d, _) = compare(&inside, &report(vec![chain("BBBB", Status::Pass), name(Status::Pass)]));
        assert_eq!((d[0].severity, d[0].cause), (Status::Warn, Cause::Certificate));
        assert!(d[0].summary.contains("(thumbprint BBBB)") && d[0].summary.contains("(thumbprint AAAA)"));
        let (d, _) = compare(&inside, &report(vec![chain("BBBB", Status::Pass), name(Status::Fail)]));
        assert_eq!(d[0].severity, Status::Fail, "{d:#?}");
        assert!(
            d[0].summary
                .ends_with("It fails the certificate checks outside, though the inside one passes them.")
        );
        // The same leaf: no difference.
        let (d, _) = compare(&inside, &report(vec![chain("AAAA", Status::Pass), name(Status::Pass)]));
        assert!(d.is_empty(), "{d:#?}");
    }

    #[test]
    fn who_answers_is_compared_by_its_kind_not_its_request_ids() {
        let inside = report(vec![path(BY_EXCHANGE, "request-id: 1; X-FEServer: EX01")]);
        let (d, rows) = compare(
            &inside,
            &report(vec![path(BY_EXCHANGE, "request-id: 2; X-FEServer: EX02")]),
        );
        assert!(d.is_empty() && !rows[0].differs, "{d:#?}");
        let device = check(
            "paths.mrsproxy",
            "Who answers https://mail.contoso.com/EWS/mrsproxy.svc",
            Status::Info,
            &[
                (ANSWER, "302 Found"),
                (ANSWERED_BY, BY_DEVICE),
                ("Signs", "302 Found redirecting to /login/"),
            ],
        );
        let (d, _) = compare(&inside, &report(vec![device]));
        assert_eq!((d[0].severity, d[0].cause), (Status::Fail, Cause::ExternalAccess));
        assert!(
            d[0].summary.starts_with("Outside, https://mail.contoso.com/EWS/mrsproxy.svc is answered by a device in front of Exchange (302 Found)"),
            "{}",
            d[0].summary
        );
        assert!(d[0].fix.contains("/ews/mrsproxy.svc") && d[0].fix.contains("mail.contoso.com"));
        let none = check(
            "paths.mrsproxy",
            "Who answers https://mail.contoso.com/EWS/mrsproxy.svc",
            Status::Info,
            &[(ANSWERED_BY, "no answer"), (ANSWER, "connection refused")],
        );
        let (d, _) = compare(&inside, &report(vec![none]));
        assert!(
            d[0].summary.contains("is not published to the internet"),
            "{}",
            d[0].summary
        );
    }

    #[test]
    fn a_device_on_a_path_called_with_credentials_warns_and_a_login_page_anywhere_fails() {
        let on = |id: &str, url: &str, class: &str, answer: &str| {
            check(
                id,
                &format!("Who answers {url}"),
                Status::Info,
                &[(ANSWER, answer), (ANSWERED_BY, class)],
            )
        };
        let ews = "https://mail.contoso.com/EWS/Exchange.asmx";
        let inside = report(vec![on("paths.ews", ews, BY_EXCHANGE, "401 Unauthorized")]);
        // Basic pre-authentication on /EWS/: Exchange Online logs on there with the account, which may pass.
        let (d, _) = compare(
            &inside,
            &report(vec![on("paths.ews", ews, BY_DEVICE, "401 Unauthorized")]),
        );
        assert_eq!(d[0].severity, Status::Warn, "{d:#?}");
        assert!(
            d[0].summary.contains("passes that logon on to Exchange"),
            "{}",
            d[0].summary
        );
        assert!(d[0].fix.contains("/EWS/Exchange.asmx"), "{}", d[0].fix);
        // A redirect to a login page stops every client that is not a browser.
        let (d, _) = compare(&inside, &report(vec![on("paths.ews", ews, BY_DEVICE, "302 Found")]));
        assert_eq!(d[0].severity, Status::Fail, "{d:#?}");
        // Neither's signs outside: said in words, not as a kind's name.
        let (d, _) = compare(&inside, &report(vec![on("paths.ews", ews, BY_UNKNOWN, "200 OK")]));
        assert!(
            d[0].summary
                .contains("answered by a server that shows neither Exchange's nor a device's signs outside (200 OK)"),
            "{}",
            d[0].summary
        );
    }

    #[test]
    fn no_tls_outside_is_said_once_not_once_per_path() {
        let none = check(
            "paths.mrsproxy",
            "Who answers https://mail.contoso.com/EWS/mrsproxy.svc",
            Status::Info,
            &[(ANSWERED_BY, NO_ANSWER), (ANSWER, "the certificate is not trusted")],
        );
        let outside = report(vec![chain("BBBB", Status::Fail), none]);
        let inside = report(vec![chain("AAAA", Status::Pass), path(BY_EXCHANGE, "X-FEServer: EX01")]);
        let (d, _) = compare(&inside, &outside);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!((d[0].check_id.as_str(), d[0].severity), ("tls.chain", Status::Fail));
    }

    #[test]
    fn the_outside_relays_own_policy_is_not_the_customers_firewall() {
        let tcp = |s, facts: &[(&str, &str)]| check("net.tcp", "Connect to mail.contoso.com:8443", s, facts);
        let refused = tcp(
            Status::Fail,
            &[(REFUSED_BY_POLICY, "port 8443 is not allowed (ports 443,80)")],
        );
        let (d, _) = compare(&report(vec![tcp(Status::Pass, &[])]), &report(vec![refused]));
        assert_eq!((d[0].severity, d[0].cause), (Status::Info, Cause::Network), "{d:#?}");
        assert!(
            d[0].summary
                .contains("it did not look there, so this says nothing of your firewall")
        );
    }

    #[test]
    fn the_servers_behind_a_name_and_the_agents_side_are_not_compared() {
        let behind = |s| {
            check(
                "servers.ex01.contoso.local.net.dns",
                "Resolve ex01.contoso.local",
                s,
                &[],
            )
        };
        let (d, rows) = compare(&report(vec![behind(Status::Pass)]), &report(vec![behind(Status::Fail)]));
        assert!(d.is_empty() && rows.is_empty(), "{d:#?}");
    }

    #[test]
    fn a_check_skipped_on_one_side_is_no_difference_of_its_own() {
        let tls = |s| check("tls.version", "TLS version", s, &[]);
        let (d, rows) = compare(&report(vec![tls(Status::Pass)]), &report(vec![tls(Status::Skip)]));
        assert!(d.is_empty(), "{d:#?}");
        assert!(rows[0].differs, "the row still shows it");
        let (d, _) = compare(&report(vec![tls(Status::Pass)]), &report(vec![tls(Status::Warn)]));
        assert_eq!(d[0].severity, Status::Warn);
        assert!(d[0].summary.starts_with("TLS version: pass inside, warn outside."));
    }
}
