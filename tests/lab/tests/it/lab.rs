//! Proves the lab is real, with clients that are not ours: the openssl CLI for TLS, hickory-resolver
//! for DNS, plain std sockets for the TCP fixtures. One shared lab for the whole test binary.

use crate::common::resolver;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use migcheck_lab::{Fixture, Lab};

/// Output of one `openssl` run.
struct Run {
    success: bool,
    out: String,
}

/// Runs a command with stdin closed, killing it after `limit`.
fn run(cmd: &mut Command, stdin: Option<&[u8]>, limit: Duration) -> Run {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("openssl must be installed");
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(data).expect("write to openssl");
    }
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().expect("collect output");
    Run {
        success: output.status.success(),
        out: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// `openssl s_client` against a fixture, verifying against the lab root and the fixture's name.
fn s_client(f: Fixture, extra: &[&str]) -> Run {
    let lab = Lab::shared();
    let host = lab.fixture(f);
    let mut cmd = Command::new("openssl");
    cmd.arg("s_client")
        .arg("-connect")
        .arg(format!("{}:{}", host.addr, lab.port()))
        .arg("-servername")
        .arg(&host.name)
        .arg("-verify_hostname")
        .arg(&host.name)
        .arg("-CAfile")
        .arg(lab.ca_file())
        .arg("-showcerts")
        .args(extra);
    run(&mut cmd, None, Duration::from_secs(10))
}

fn assert_verify(r: &Run, expected: &str) {
    let line = format!("Verify return code: {expected}");
    assert!(r.out.contains(&line), "expected `{line}` in:\n{}", r.out);
}

/// The certificates the server sent, in order (PEM blocks from `-showcerts`).
fn sent_certs(r: &Run) -> Vec<String> {
    let mut certs = Vec::new();
    let mut rest = r.out.as_str();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end_marker = "-----END CERTIFICATE-----";
        let Some(end) = rest[start..].find(end_marker) else {
            break;
        };
        certs.push(rest[start..start + end + end_marker.len()].to_string() + "\n");
        rest = &rest[start + end + end_marker.len()..];
    }
    certs
}

/// `openssl x509` on a PEM certificate.
fn x509(pem: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new("openssl");
    cmd.arg("x509").arg("-noout").args(args);
    run(&mut cmd, Some(pem.as_bytes()), Duration::from_secs(10))
}

fn leaf_text(f: Fixture) -> String {
    let r = s_client(f, &[]);
    let certs = sent_certs(&r);
    let leaf = certs
        .first()
        .unwrap_or_else(|| panic!("no certificate from {f:?}:\n{}", r.out));
    let t = x509(leaf, &["-text"]);
    assert!(t.success, "{}", t.out);
    t.out
}

fn handshake_ok(r: &Run) -> bool {
    r.success && !r.out.contains("Cipher is (NONE)") && r.out.contains("BEGIN CERTIFICATE")
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn valid_chain_verifies_and_sends_the_intermediate() {
    let r = s_client(Fixture::Valid, &[]);
    assert!(handshake_ok(&r), "{}", r.out);
    assert_verify(&r, "0 (ok)");
    assert_eq!(sent_certs(&r).len(), 2, "leaf + intermediate expected:\n{}", r.out);
    assert!(r.out.contains("CN = migcheck Lab Issuing CA 1"), "{}", r.out);
    // TLS 1.2 works too (the floor Exchange Online needs).
    let r12 = s_client(Fixture::Valid, &["-tls1_2"]);
    assert!(handshake_ok(&r12), "{}", r12.out);
    assert!(r12.out.contains("Protocol  : TLSv1.2"), "{}", r12.out);
    assert_verify(&r12, "0 (ok)");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn autodiscover_name_is_covered_by_the_valid_certificate() {
    let lab = Lab::shared();
    let host = lab.fixture(Fixture::Valid);
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"])
        .arg(format!("{}:{}", host.addr, lab.port()))
        .args(["-servername", "autodiscover.contoso.test"])
        .args(["-verify_hostname", "autodiscover.contoso.test"])
        .arg("-CAfile")
        .arg(lab.ca_file());
    let r = run(&mut cmd, None, Duration::from_secs(10));
    assert_verify(&r, "0 (ok)");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn root_ca_file_holds_only_the_root() {
    let lab = Lab::shared();
    let pem = std::fs::read_to_string(lab.ca_file()).expect("read CA file");
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 1);
    let t = x509(&pem, &["-subject", "-issuer"]);
    assert!(
        t.out.contains("subject=O = migcheck Lab, CN = migcheck Lab Root CA"),
        "{}",
        t.out
    );
    assert!(
        t.out.contains("issuer=O = migcheck Lab, CN = migcheck Lab Root CA"),
        "{}",
        t.out
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn expired_and_not_yet_valid() {
    let r = s_client(Fixture::Expired, &[]);
    assert!(handshake_ok(&r), "{}", r.out);
    assert_verify(&r, "10 (certificate has expired)");
    let r = s_client(Fixture::NotYetValid, &[]);
    assert_verify(&r, "9 (certificate is not yet valid)");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn an_expired_cross_root_after_a_valid_chain_is_ignored_by_a_client_that_trusts_the_new_root() {
    // The AddTrust shape (research 6.1): OpenSSL 3 builds leaf -> issuing CA -> lab root and ignores the
    // expired cross-certificate and legacy root sent after them...
    let r = s_client(Fixture::ExpiredCrossRoot, &[]);
    assert!(handshake_ok(&r), "{}", r.out);
    assert_verify(&r, "0 (ok)");
    let sent = sent_certs(&r);
    assert_eq!(
        sent.len(),
        4,
        "leaf, intermediate, cross-certificate, legacy root:\n{}",
        r.out
    );
    let cross = x509(&sent[2], &["-subject", "-issuer", "-checkend", "0"]);
    assert!(
        !cross.success,
        "the cross-certificate must have expired:\n{}",
        cross.out
    );
    assert!(
        cross
            .out
            .contains("subject=O = migcheck Lab, CN = migcheck Lab Root CA")
            && cross
                .out
                .contains("issuer=O = migcheck Lab, CN = migcheck Lab Legacy Root CA"),
        "{}",
        cross.out
    );
    // ... while a legacy client, which trusts only the old root, fails as such clients did in 2020.
    let lab = Lab::shared();
    let legacy = lab.legacy_root_file();
    let r = s_client(Fixture::ExpiredCrossRoot, &["-CAfile", path_str(&legacy)]);
    assert_verify(&r, "10 (certificate has expired)");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn expiring_soon_is_valid_for_about_ten_days() {
    let r = s_client(Fixture::ExpiringSoon, &[]);
    assert_verify(&r, "0 (ok)");
    let leaf = sent_certs(&r).into_iter().next().expect("leaf");
    // -checkend N fails when the certificate expires within N seconds.
    assert!(!x509(&leaf, &["-checkend", &(11 * 86_400).to_string()]).success);
    assert!(x509(&leaf, &["-checkend", &(9 * 86_400).to_string()]).success);
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn names_that_do_not_match() {
    assert_verify(&s_client(Fixture::WrongName, &[]), "62 (hostname mismatch)");
    assert_verify(&s_client(Fixture::Wildcard, &[]), "0 (ok)");
    assert_verify(&s_client(Fixture::WildcardTooDeep, &[]), "62 (hostname mismatch)");
    assert!(leaf_text(Fixture::WildcardTooDeep).contains("DNS:*.wild.contoso.test"));
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn cn_only_has_no_subject_alt_name() {
    let text = leaf_text(Fixture::CnOnly);
    assert!(text.contains("CN = cnonly.contoso.test"), "{text}");
    assert!(!text.contains("Subject Alternative Name"), "{text}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn self_signed_and_missing_intermediate() {
    let r = s_client(Fixture::SelfSigned, &[]);
    assert_verify(&r, "18 (self-signed certificate)");
    assert_eq!(sent_certs(&r).len(), 1);

    let r = s_client(Fixture::MissingIntermediate, &[]);
    assert_eq!(sent_certs(&r).len(), 1, "{}", r.out);
    assert!(
        r.out
            .contains("verify error:num=20:unable to get local issuer certificate"),
        "{}",
        r.out
    );
    // ... and it does verify once the client has the intermediate itself.
    let lab = Lab::shared();
    let certs = lab.dir().join("certs");
    let both = format!(
        "{}{}",
        std::fs::read_to_string(lab.ca_file()).expect("root"),
        std::fs::read_to_string(certs.join("intermediate.pem")).expect("intermediate")
    );
    let bundle = certs.join("test-root-and-intermediate.pem");
    std::fs::write(&bundle, both).expect("write bundle");
    // The last -CAfile wins.
    let r = s_client(Fixture::MissingIntermediate, &["-CAfile", path_str(&bundle)]);
    assert_verify(&r, "0 (ok)");
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn weak_key_and_sha1_signature() {
    let r = s_client(Fixture::Rsa1024, &[]);
    assert!(handshake_ok(&r), "{}", r.out);
    assert_verify(&r, "66 (EE certificate key too weak)");
    assert!(leaf_text(Fixture::Rsa1024).contains("Public-Key: (1024 bit)"));

    let r = s_client(Fixture::Sha1, &[]);
    assert!(handshake_ok(&r), "{}", r.out);
    assert_verify(&r, "68 (CA signature digest algorithm too weak)");
    assert!(leaf_text(Fixture::Sha1).contains("Signature Algorithm: sha1WithRSAEncryption"));
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn legacy_tls_offers_only_tls_1_0_and_1_1() {
    for modern in ["-tls1_2", "-tls1_3"] {
        let r = s_client(Fixture::LegacyTls, &[modern, "-cipher", "DEFAULT:@SECLEVEL=0"]);
        assert!(!r.success, "{modern} must fail:\n{}", r.out);
        assert!(r.out.contains("Cipher is (NONE)"), "{}", r.out);
    }
    // An OpenSSL 3 client needs security level 0 for TLS 1.0/1.1 (SHA-1/MD5 in the handshake).
    for (flag, proto) in [("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1")] {
        let r = s_client(Fixture::LegacyTls, &[flag, "-cipher", "DEFAULT:@SECLEVEL=0"]);
        assert!(handshake_ok(&r), "{flag}:\n{}", r.out);
        assert!(r.out.contains(&format!("Protocol  : {proto}\n")), "{}", r.out);
        assert_verify(&r, "0 (ok)");
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn not_tls_speaks_plain_http() {
    let lab = Lab::shared();
    let mut s = TcpStream::connect_timeout(&lab.socket_addr(Fixture::NotTls), Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    s.write_all(b"GET / HTTP/1.1\r\nHost: plainhttp.contoso.test\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("migcheck-lab fixture not-tls"), "{reply}");

    let r = s_client(Fixture::NotTls, &[]);
    assert!(!handshake_ok(&r), "a TLS handshake must fail:\n{}", r.out);
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn silent_accepts_and_never_answers() {
    let lab = Lab::shared();
    let mut s = TcpStream::connect_timeout(&lab.socket_addr(Fixture::Silent), Duration::from_secs(5))
        .expect("the silent fixture accepts connections");
    s.write_all(b"\x16\x03\x01\x00\x05hello").expect("write");
    s.set_read_timeout(Some(Duration::from_millis(500))).expect("timeout");
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Err(e) => assert!(
            matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
            "{e}"
        ),
        Ok(n) => panic!("the silent fixture sent {n} bytes (0 = it closed the connection)"),
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn refused_refuses() {
    let lab = Lab::shared();
    let err = TcpStream::connect_timeout(&lab.socket_addr(Fixture::Refused), Duration::from_secs(5))
        .expect_err("nothing listens there");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn fixture_addresses_are_distinct_loopback_and_inside_egress() {
    let lab = Lab::shared();
    // The fixtures' block, then this lab's Autodiscover block 127.(10+k).0.0/16.
    let egress = lab.egress_cidr();
    let blocks: Vec<&str> = egress.split(',').collect();
    assert_eq!(blocks[0], "127.0.2.0/24", "{egress}");
    let slot = lab.slot().expect("an Autodiscover slot");
    assert_eq!(blocks[1..], [format!("127.{}.0.0/16", 10 + slot)], "{egress}");
    assert_eq!(lab.dns().ip(), IpAddr::V4(Ipv4Addr::new(127, 0, 2, 1)));
    let mut seen = std::collections::HashSet::new();
    seen.insert(lab.dns().ip());
    for &f in Fixture::ALL {
        let host = lab.fixture(f);
        assert_eq!(host.name, f.host_name());
        if f == Fixture::Unknown {
            assert!(host.addr.is_unspecified());
            continue;
        }
        let IpAddr::V4(v4) = host.addr else {
            panic!("{f:?} is not IPv4")
        };
        assert_eq!(v4.octets()[..3], [127, 0, 2], "{f:?}");
        assert!(v4.octets()[3] >= 2, "{f:?}");
        assert!(seen.insert(host.addr), "{f:?} shares an address");
    }
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn dns_answers_every_fixture_over_udp_and_tcp() {
    let lab = Lab::shared();
    for tcp in [false, true] {
        let r = resolver(lab, tcp);
        for &f in Fixture::ALL {
            let host = lab.fixture(f);
            let names = std::iter::once(host.name.as_str()).chain(f.alias_names().iter().copied());
            for name in names {
                // Fully qualified, so no search domain is tried.
                let fqdn = format!("{name}.");
                let answer = r.lookup_ip(fqdn.as_str()).await;
                if f == Fixture::Unknown {
                    let err = answer.expect_err("no record for the Unknown fixture");
                    assert!(err.is_nx_domain(), "{name} (tcp={tcp}): {err}");
                } else {
                    let ips: Vec<IpAddr> = answer
                        .unwrap_or_else(|e| panic!("{name} (tcp={tcp}): {e}"))
                        .iter()
                        .collect();
                    assert_eq!(ips, vec![host.addr], "{name} (tcp={tcp})");
                }
            }
        }
    }
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn dns_other_names_in_the_lab_zones_are_nxdomain() {
    let lab = Lab::shared();
    let r = resolver(lab, false);
    for name in [
        "www.contoso.test.",
        "owa.contoso.test.",
        "zzz.wild.contoso.test.",
        "fabrikam.test.",
    ] {
        let err = r.lookup_ip(name).await.expect_err(name);
        assert!(err.is_nx_domain(), "{name}: {err}");
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn an_owned_lab_is_independent_and_cleans_up() {
    let shared = Lab::shared();
    let lab = Lab::start().expect("second lab");
    assert_ne!(lab.port(), shared.port());
    assert_ne!(lab.dns(), shared.dns());
    assert_ne!(lab.dir(), shared.dir());
    let valid = lab.socket_addr(Fixture::Valid);
    let dns = lab.dns();
    let dir = lab.dir().to_path_buf();
    TcpStream::connect_timeout(&valid, Duration::from_secs(5)).expect("owned lab answers");
    TcpStream::connect_timeout(&dns, Duration::from_secs(5)).expect("owned lab DNS answers");
    drop(lab);
    assert!(!dir.exists(), "{} must be removed", dir.display());
    let err = TcpStream::connect_timeout(&valid, Duration::from_secs(5)).expect_err("nginx must be gone after drop");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(TcpStream::connect_timeout(&dns, Duration::from_secs(5)).is_err());
    // The shared lab is untouched.
    TcpStream::connect_timeout(&shared.socket_addr(Fixture::Valid), Duration::from_secs(5))
        .expect("shared lab still answers");
}
