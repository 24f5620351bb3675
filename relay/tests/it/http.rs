//! The relay's HTTP client against the lab's nginx: verified TLS for anything that may carry
//! credentials, answers read whole and bounded, certificate failures named.

use crate::common::*;
use migcheck_lab::Fixture;
use migcheck_relay::net::NetError;

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn verified_https_reads_the_answer() {
    let net = lab_net(5);
    let valid = lab().fixture(Fixture::Valid);
    let mut conn = net.open_http(&valid.name, lab().port(), true).await.expect("connect");
    assert_eq!(conn.tls_version, Some("TLS 1.3"));
    let answer = conn
        .send(&net, "GET", "/", &[("user-agent", "migcheck-test")], Vec::new())
        .await
        .expect("answer");
    assert_eq!(answer.status_line(), "200 OK");
    assert!(
        answer.header("server").is_some_and(|s| s.starts_with("nginx")),
        "{:?}",
        answer.headers
    );
    assert_eq!(
        String::from_utf8_lossy(&answer.body).trim(),
        "migcheck-lab fixture valid (mail.contoso.test)"
    );
    // The same connection carries a second request (NTLM needs that).
    let again = conn
        .send(&net, "GET", "/", &[], Vec::new())
        .await
        .expect("second answer");
    assert_eq!(again.status, 200);
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn a_diagnosis_resumes_its_own_tls_sessions_and_no_other() {
    use rustls::HandshakeKind;
    let net = lab_net(5).for_one_diagnosis();
    let valid = lab().fixture(Fixture::Valid);
    let kind = |net: migcheck_relay::net::Net| {
        let name = valid.name.clone();
        async move {
            let tls = net.open_tls(&name, lab().port()).await.expect("connect");
            // The leaf is there on a resumed connection too (the Outlook Anywhere checks compare its names).
            assert!(tls.leaf.is_some());
            match tls.stream {
                migcheck_relay::net::TlsStream::Rustls(s) => s.get_ref().1.handshake_kind(),
                migcheck_relay::net::TlsStream::OpenSsl(_) => None,
            }
        }
    };
    assert_eq!(kind(net.clone()).await, Some(HandshakeKind::Full));
    // TLS 1.3 sends its tickets after the handshake: a request and answer make sure one arrived.
    let mut conn = net.open_http(&valid.name, lab().port(), true).await.expect("connect");
    conn.send(&net, "GET", "/", &[], Vec::new()).await.expect("answer");
    assert_eq!(kind(net.clone()).await, Some(HandshakeKind::Resumed));
    // Another diagnosis starts with none of them.
    assert_eq!(kind(net.for_one_diagnosis()).await, Some(HandshakeKind::Full));
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn plain_http_works_without_tls() {
    let net = lab_net(5);
    let plain = lab().fixture(Fixture::NotTls);
    let mut conn = net.open_http(&plain.name, lab().port(), false).await.expect("connect");
    assert_eq!(conn.tls_version, None);
    let answer = conn.send(&net, "GET", "/", &[], Vec::new()).await.expect("answer");
    assert_eq!(answer.status, 200);
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn certificates_that_fail_verification_are_refused_and_named() {
    let net = lab_net(5);
    for (fixture, words) in [
        (Fixture::Expired, "certificate expired"),
        (Fixture::WrongName, "not valid for name"),
        (Fixture::SelfSigned, "unknownissuer"),
        (Fixture::MissingIntermediate, "unknownissuer"),
    ] {
        let host = lab().fixture(fixture);
        match net.open_http(&host.name, lab().port(), true).await {
            Err(NetError::Certificate { reason, .. }) => {
                assert!(reason.to_lowercase().contains(words), "{fixture:?}: {reason}")
            }
            Err(other) => panic!("{fixture:?}: expected a certificate error, got {other}"),
            Ok(_) => panic!("{fixture:?}: a connection that may carry credentials was opened to a bad certificate"),
        }
    }
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn a_silent_server_is_a_timeout_not_a_hang() {
    let net = lab_net(1);
    let silent = lab().fixture(Fixture::Silent);
    match net.open_http(&silent.name, lab().port(), false).await {
        Ok(mut conn) => match conn.send(&net, "GET", "/", &[], Vec::new()).await {
            Err(NetError::HttpTimeout { secs: 1, .. }) => {}
            other => panic!("expected an HTTP timeout, got {other:?}"),
        },
        Err(e) => panic!("connect: {e}"),
    }
}
