//! The parser on real answers (`fixtures/README.md` names each one's source), error answers and garbage.

use super::*;

const MS_DOCS_2010: &str = include_str!("fixtures/ms-docs-2018-exchange2010.xml");
const EXCHANGE_ONLINE: &str = include_str!("fixtures/ews-javascript-api-exchange-online.xml");
const INVALID_SETTING: &str = include_str!("fixtures/exchangelib-invalid-setting.xml");
const REDIRECT_ADDRESS: &str = include_str!("fixtures/exchangelib-redirect-address.xml");

fn user_of(xml: &str) -> UserResponse {
    parse(xml.as_bytes())
        .expect("a GetUserSettings answer")
        .user
        .expect("a user")
}

#[test]
fn microsofts_exchange_2010_example_gives_the_settings() {
    let answer = parse(MS_DOCS_2010.as_bytes()).expect("parse");
    assert_eq!(answer.error_code.as_deref(), Some("NoError"));
    assert_eq!(answer.error_message, None);
    let user = answer.user.expect("a user");
    assert_eq!(user.error_code.as_deref(), Some("NoError"));
    assert_eq!(user.error_message.as_deref(), Some("No error."));
    assert_eq!(user.redirect_target, None);
    assert_eq!(user.setting("CasVersion"), Some("14.00.0478.000"));
    assert_eq!(user.setting("EwsSupportedSchemas"), Some("Exchange2007,  Exchange2010"));
    assert_eq!(user.settings.len(), 8);
    assert_eq!(user.setting("ExternalEwsUrl"), None);
    assert!(user.setting_errors.is_empty());
}

#[test]
fn exchange_onlines_answer_gives_setting_errors_and_unescaped_values() {
    let user = user_of(EXCHANGE_ONLINE);
    assert_eq!(
        user.setting("ExternalEwsUrl"),
        Some("https://outlook.office365.com/EWS/Exchange.asmx")
    );
    assert_eq!(user.setting("CasVersion"), Some("15.01.0049.012"));
    assert_eq!(
        user.setting("EcpTextMessagingUrlFragment"),
        Some("?rfr=olk&p=sms/textmessaging.slab&exsvurl=1&realm=singhspro.onmicrosoft.com")
    );
    assert_eq!(user.setting_errors.len(), 2);
    let e = user.setting_error("ActiveDirectoryServer").expect("a setting error");
    assert_eq!(e.code, "SettingIsNotAvailable");
    assert_eq!(e.message, "User setting 'ActiveDirectoryServer' is not available.");
    // The header's ServerVersionInfo has ErrorCode-free children in the same namespace: not the answer's.
    assert_eq!(
        parse(EXCHANGE_ONLINE.as_bytes()).map(|a| a.error_code),
        Ok(Some("NoError".into()))
    );
}

#[test]
fn errors_of_the_response_and_of_the_user_are_told_apart() {
    let answer = parse(INVALID_SETTING.as_bytes()).expect("parse");
    assert_eq!(answer.error_code.as_deref(), Some("InvalidSetting"));
    assert_eq!(answer.error_message.as_deref(), Some("An error message"));
    assert_eq!(answer.user, None);
    let user = user_of(REDIRECT_ADDRESS);
    assert_eq!(user.error_code.as_deref(), Some("RedirectAddress"));
    assert_eq!(user.redirect_target.as_deref(), Some("john@example.com"));
    assert!(user.settings.is_empty());
}

#[test]
fn what_is_not_a_get_user_settings_answer_is_an_error_not_a_panic() {
    let wcf_fault = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/ws/2005/05/addressing/none">a:ActionNotSupported</faultcode><faultstring xml:lang="en-US">The message cannot be processed.</faultstring></s:Fault></s:Body></s:Envelope>"#;
    assert_eq!(
        parse(wcf_fault.as_bytes()),
        Err(SoapError::Fault("The message cannot be processed.".into()))
    );
    // The https:// namespace of the 2020 documentation edit is not the Autodiscover namespace.
    let https = MS_DOCS_2010.replace(
        "http://schemas.microsoft.com/exchange/2010/Autodiscover\"",
        "https://schemas.microsoft.com/exchange/2010/Autodiscover\"",
    );
    assert_eq!(parse(https.as_bytes()), Err(SoapError::NotGetUserSettings));
    for garbage in [
        &b""[..],
        b"<html><body>404 - File or directory not found.</body></html>",
        b"\xff\xfe<A",
        b"<a><b></a>",
        b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"xx\">]><a>&x;</a>",
    ] {
        assert!(parse(garbage).is_err(), "{:?}", String::from_utf8_lossy(garbage));
    }
}

#[test]
fn what_is_kept_is_bounded() {
    let one = "<UserSetting i:type=\"StringSetting\"><Name>N</Name><Value>V</Value></UserSetting>";
    let many = MS_DOCS_2010.replace("<UserSettings>", &format!("<UserSettings>{}", one.repeat(500)));
    assert_eq!(user_of(&many).settings.len(), MAX_SETTINGS);
    let long = MS_DOCS_2010.replace("14.00.0478.000", &"9".repeat(100_000));
    let cas = user_of(&long).setting("CasVersion").map(str::len);
    assert_eq!(cas, Some(MAX_VALUE_CHARS));
    // Deep nesting is read without recursion.
    let deep = format!("{}{}", "<a>".repeat(200_000), "</a>".repeat(200_000));
    assert!(parse(deep.as_bytes()).is_err());
}

#[test]
fn the_request_is_microsofts_with_the_mailbox_escaped() {
    let r = request_body("mail.contoso.com", "o'brien&co@contoso.com");
    assert!(
        r.contains("<a:RequestedServerVersion>Exchange2010</a:RequestedServerVersion>"),
        "{r}"
    );
    assert!(r.contains(&format!("<wsa:Action>{ACTION}</wsa:Action>")));
    assert!(r.contains("<wsa:To>https://mail.contoso.com/autodiscover/autodiscover.svc</wsa:To>"));
    assert!(
        r.contains("<a:Mailbox>o&apos;brien&amp;co@contoso.com</a:Mailbox>"),
        "{r}"
    );
    assert!(r.contains("<a:Setting>ExternalEwsUrl</a:Setting>"));
    assert!(!r.contains("https://schemas"));
}
