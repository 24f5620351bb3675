//! The matcher, the extraction and the suggestion on small catalogues built here; the real catalogue's
//! own examples are tested where it is parsed (the relay's `explain::catalogue`).

use super::*;
use crate::kb::Cause;

fn entry(id: &str, rank: u8, cause: Cause, patterns: &[&str]) -> Entry {
    Entry {
        id: id.into(),
        title: format!("{id} title"),
        patterns: patterns.iter().map(|p| p.to_string()).collect(),
        example: "example".into(),
        cause,
        severity_rank: rank,
        explanation: format!("{id} explained."),
        fix: "# fix".into(),
        next_checks: "checks".into(),
        source: "https://learn.microsoft.com/".into(),
        source_file: "file".into(),
        source_quote: "quote".into(),
        confidence: Confidence::Verbatim,
        example_led_by: None,
    }
}

fn catalogue() -> Catalogue {
    Catalogue {
        entries: vec![
            entry(
                "wrapper",
                4,
                Cause::ExternalAccess,
                &["The connection to the server '*' could not be completed*"],
            ),
            entry(
                "forbidden",
                1,
                Cause::ExternalAccess,
                &["The HTTP request was forbidden with client authentication scheme 'Negotiate'*"],
            ),
            entry("rpc", 2, Cause::ExternalAccess, &["RPC Error: 6ba*"]),
        ],
    }
}

fn ids(e: &Explanation) -> Vec<&str> {
    e.matches.iter().map(|m| m.id.as_str()).collect()
}

#[test]
fn whitespace_and_line_breaks_fold_and_case_does_not_matter() {
    let text = "ErrorDetail : The CONNECTION to the server\r\n\r\n      'owa.domain.com' could not\tbe completed.";
    let e = explain(&catalogue(), text).expect("read");
    assert_eq!(ids(&e), ["wrapper"]);
    let span = &e.matches[0].spans[0];
    assert_eq!((span.first_line, span.last_line), (1, 3));
    assert!(
        span.excerpt
            .contains("The CONNECTION to the server 'owa.domain.com' could not be completed"),
        "{span:?}"
    );
}

#[test]
fn the_most_decisive_entry_leads_and_each_keeps_its_lines() {
    let text = "Message : The connection to the server 'owa.domain.com' could not be completed.\n\
                other line\n\
                Error details: The HTTP request was forbidden with client authentication scheme 'Negotiate'.\n\
                The connection to the server 'owa.domain.com' could not be completed.";
    let e = explain(&catalogue(), text).expect("read");
    assert_eq!(ids(&e), ["forbidden", "wrapper"]);
    assert_eq!(e.matches[0].spans[0].first_line, 3);
    assert_eq!(e.matches[1].count, 2);
    let lines: Vec<usize> = e.matches[1].spans.iter().map(|s| s.first_line).collect();
    assert_eq!(lines, [1, 4]);
}

#[test]
fn a_wildcard_does_not_join_messages_far_apart() {
    let text = format!(
        "The connection to the server '{}' could not be completed",
        "x".repeat(MAX_GAP + 1)
    );
    assert!(!explain(&catalogue(), &text).expect("read").recognised());
    let text = format!(
        "The connection to the server '{}' could not be completed",
        "x".repeat(MAX_GAP - 1)
    );
    assert!(explain(&catalogue(), &text).expect("read").recognised());
}

#[test]
fn unknown_text_is_not_recognised_and_gets_its_nearest_entries() {
    let e = explain(&catalogue(), "Something else went wrong entirely.").expect("read");
    assert!(!e.recognised() && e.nearest.is_empty());
    let e = explain(&catalogue(), "The HTTP request was refused with client authentication").expect("read");
    assert!(!e.recognised());
    assert_eq!(e.nearest, ["forbidden"]);
}

#[test]
fn a_paste_over_the_limit_is_refused() {
    let text = "a".repeat(MAX_PASTE_BYTES + 1);
    assert_eq!(
        explain(&catalogue(), &text),
        Err(PasteError::TooLarge {
            bytes: MAX_PASTE_BYTES + 1
        })
    );
    assert!(explain(&catalogue(), &"RPC Error: 6ba\n".repeat(MAX_PASTE_BYTES / 15)).is_ok());
}

#[test]
fn password_lines_are_not_read_nor_shown() {
    let text = "PS> $cred = New-Object PSCredential('admin', (ConvertTo-SecureString 'Hunter2.mail.evil.com' -AsPlainText -Force))\n\
                PS> Test-MigrationServerAvailability -ExchangeRemoteMove -RemoteServer mail.contoso.com -Password Hunter2\n\
                password = Hunter2 RPC Error: 6ba\n\
                RPC_OUT_DATA: bad response from server: [HTTP/1.0 503 RPC Error: 6ba]";
    let e = explain(&catalogue(), text).expect("read");
    assert_eq!(e.password_lines, [1, 2, 3]);
    assert_eq!(ids(&e), ["rpc"]);
    assert_eq!(e.matches[0].count, 1);
    let all = format!("{e:?}");
    assert!(!all.contains("Hunter2") && !all.contains("evil"), "{all}");
    assert!(!looks_like_password("The user name or password is incorrect."));
    assert!(looks_like_password("Pwd : x") && looks_like_password("PASSWORD: x"));
}

#[test]
fn names_codes_and_headers_are_extracted() {
    let text = "The call to 'https://mail.contoso.com/EWS/mrsproxy.svc' failed. Error details: The HTTP request is \
                unauthorized with client authentication scheme 'Negotiate'. The authentication header received from \
                the server was 'Basic realm=\"mail.contoso.com\"'. --> The remote server returned an error: (401) \
                Unauthorized.. Microsoft.Exchange.Net.CommunicationErrorTransientException PSComputerName : \
                outlook.office365.com mrsproxy.svc adele@contoso.com <ServerName>.<DomainName>.com \
                [HTTP/1.0 503 RPC Error: 6ba] Error 0x6BA Exchange version 'Version 14.3 (Build 123.4)' \
                (15.20.8026.17 ServerCaps) 15.2.1544.4 e.g. 10.0.0.1";
    let e = explain(&catalogue(), text).expect("read");
    let x = &e.extracted;
    assert_eq!(x.urls, ["https://mail.contoso.com/EWS/mrsproxy.svc"]);
    assert_eq!(x.hosts, ["mail.contoso.com"]);
    assert_eq!(x.emails, ["adele@contoso.com"]);
    assert_eq!(x.http_statuses, [401, 503]);
    assert_eq!(x.www_authenticate, [r#"Basic realm="mail.contoso.com""#]);
    assert_eq!(x.rpc_errors, ["6ba"]);
    assert_eq!(x.exchange_builds, ["15.2.1544.4", "14.3.123.4"]);
}

#[test]
fn the_suggestion_follows_what_the_paste_names() {
    let mode = |text: &str| {
        explain(&catalogue(), text)
            .expect("read")
            .suggested
            .map(|r| serde_json::to_value(&r).expect("json"))
    };
    let rm = mode("The call to 'https://mail.contoso.com/EWS/mrsproxy.svc' failed. adele@contoso.com").expect("some");
    assert_eq!(
        (rm["mode"].as_str(), rm["remote_server"].as_str()),
        (Some("remote_move"), Some("mail.contoso.com"))
    );
    let ps =
        mode("Test-MigrationServerAvailability -ExchangeRemoteMove -RemoteServer hybrid.contoso.com").expect("some");
    assert_eq!(ps["remote_server"], "hybrid.contoso.com");
    let oa = mode("RPC_OUT_DATA: bad response from webmail.contoso.com: [HTTP/1.0 503 RPC Error: 6ba]").expect("some");
    assert_eq!(
        (oa["mode"].as_str(), oa["rpc_proxy"].as_str()),
        (Some("outlook_anywhere"), Some("webmail.contoso.com"))
    );
    let ad = mode("Autodiscover failed for adele@contoso.com").expect("some");
    assert_eq!(
        (ad["mode"].as_str(), ad["email"].as_str()),
        (Some("autodiscover"), Some("adele@contoso.com"))
    );
    let host = mode("The remote name could not be resolved: 'mail.contoso.com'").expect("some");
    assert_eq!(
        (host["mode"].as_str(), host["host"].as_str()),
        (Some("host"), Some("mail.contoso.com"))
    );
    assert_eq!(mode("nothing named here"), None);
    let line = command_line(&serde_json::from_value(rm).expect("request"));
    assert_eq!(
        line,
        r"MIGCHECK_PASSWORD='...' migcheck check --remote-server mail.contoso.com --user 'DOMAIN\user' --password-env MIGCHECK_PASSWORD"
    );
}

#[test]
fn odd_input_gives_an_answer() {
    for text in [
        "",
        " ",
        "*",
        "'",
        "\u{130}\u{130}RPC ERROR: 6BA",
        "\u{130}RPC Error: 6ba",
        "http://",
        "https://:@/",
        "a@",
        "(99",
        "version 15.",
    ] {
        let _ = explain(&catalogue(), text).expect("read");
    }
    assert!(Pattern::new("**").find_all(&['a']).is_empty());
}

#[test]
fn the_catalogue_checks_itself() {
    let mut c = catalogue();
    assert_eq!(c.problems(), Vec::<String>::new());
    c.entries.push(entry(
        "rpc",
        9,
        Cause::Network,
        &["a*b", "RPC Error: 6ba*", "RPC Error*"],
    ));
    let problems = c.problems().join("\n");
    for words in [
        "rpc: id given twice",
        "severity_rank 9",
        "'a*b' has too little literal text",
        "pattern 2 is redundant: pattern 3",
    ] {
        assert!(problems.contains(words), "{words} in {problems}");
    }
}
