//! Proves the TLS fronts of the Windows scenarios offer exactly the Schannel lists they play, as an
//! independent client reads them: `openssl s_client` (Debian's OpenSSL 3.0), one handshake per suite
//! it knows, then the server's order by offering what is left, and each TLS version alone. curl (the
//! other lab tests of `ExScenario`) proves the Exchange behind each front answers through it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::{Command, Stdio};

use migcheck_lab::tls_front::TlsVersion;
use migcheck_lab::{ExScenario, Lab};

/// Every TLS 1.2 suite Debian's OpenSSL knows, OpenSSL name to IANA name (`openssl ciphers -stdname`).
fn known_suites() -> BTreeMap<String, String> {
    let out = Command::new("openssl")
        .args(["ciphers", "-stdname", "-tls1_2", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
        .output()
        .expect("run openssl ciphers");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            // "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 - ECDHE-RSA-AES256-SHA384 TLSv1.2 Kx=ECDH ..."
            let (iana, rest) = l.split_once(" - ")?;
            let openssl = rest.split_whitespace().next()?;
            let version = rest.split_whitespace().nth(1)?;
            (version != "TLSv1.3").then(|| (openssl.to_string(), iana.trim().to_string()))
        })
        .collect()
}

/// One `openssl s_client` handshake: the suite the server chose (OpenSSL name), or None.
fn handshake(host: &str, ip: IpAddr, version: TlsVersion, ciphers: &str) -> Option<String> {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("{ip}:443"), "-servername", host])
        .arg(version.s_client_flag());
    if version == TlsVersion::Tls1_3 {
        cmd.args(["-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"]);
    } else {
        cmd.args(["-cipher", &format!("{ciphers}:@SECLEVEL=0")]);
    }
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run openssl s_client");
    let text = String::from_utf8_lossy(&out.stdout);
    // "New, TLSv1.2, Cipher is ECDHE-RSA-AES256-SHA384"
    let chosen = text
        .lines()
        .find_map(|l| l.split_once(", Cipher is ").map(|(_, c)| c.trim().to_string()))?;
    (chosen != "(NONE)").then_some(chosen)
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn each_front_offers_exactly_its_windows_list_in_its_order() {
    let lab = Lab::shared();
    let ex = lab.exchange();
    let known = known_suites();
    assert!(known.len() > 30, "openssl ciphers listed {known:?}");
    let fronted: Vec<ExScenario> = ExScenario::ALL
        .iter()
        .copied()
        .filter(|s| s.tls_front().is_some())
        .collect();
    assert_eq!(fronted.len(), 3, "{fronted:?}");
    for s in fronted {
        let profile = s.tls_front().expect("a front");
        let (host, ip) = (s.host(), ex.addr(s));
        // Which suites it accepts at TLS 1.2, one at a time.
        let accepted: Vec<&String> = known
            .iter()
            .filter(|(name, _)| handshake(&host, ip, TlsVersion::Tls1_2, name).is_some())
            .map(|(_, iana)| iana)
            .collect();
        let mut want: Vec<&str> = profile.rsa_suites.to_vec();
        want.sort_unstable();
        let mut got: Vec<&str> = accepted.iter().map(|s| s.as_str()).collect();
        got.sort_unstable();
        assert_eq!(got, want, "{s}: the suites accepted at TLS 1.2");
        // The server's order: offered everything left, it picks the next of its list.
        let mut left: Vec<String> = known
            .iter()
            .filter(|(_, iana)| profile.rsa_suites.contains(&iana.as_str()))
            .map(|(name, _)| name.clone())
            .collect();
        for expected in profile.rsa_suites {
            let chosen = handshake(&host, ip, TlsVersion::Tls1_2, &left.join(":"))
                .unwrap_or_else(|| panic!("{s}: no handshake offering {left:?}"));
            assert_eq!(known.get(&chosen).map(String::as_str), Some(*expected), "{s}: order");
            left.retain(|n| *n != chosen);
        }
        // The versions: exactly those of the profile (TLS 1.3 never: Windows before Server 2022 has none).
        for v in [
            TlsVersion::Tls1_0,
            TlsVersion::Tls1_1,
            TlsVersion::Tls1_2,
            TlsVersion::Tls1_3,
        ] {
            let all = "ALL:COMPLEMENTOFALL";
            assert_eq!(
                handshake(&host, ip, v, all).is_some(),
                profile.versions.contains(&v),
                "{s}: {v:?}"
            );
        }
    }
    // Every handshake above is in the fronts' log, each with its version and suite or none.
    let sessions = ex.fronts().sessions();
    assert!(
        sessions
            .iter()
            .any(|x| x.cipher.as_deref() == Some("ECDHE-RSA-AES256-SHA384"))
    );
    assert!(sessions.iter().any(|x| x.cipher.is_none() && x.status == 500));
}
