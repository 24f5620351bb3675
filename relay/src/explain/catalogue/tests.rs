//! The real catalogue: sound, each entry recognised in its own source's text, and whole reports read as
//! a user would see them.

use migcheck_shared::Cause;
use migcheck_shared::kb::explain::{Explanation, explain};

use super::catalogue;

fn read(text: &str) -> Explanation {
    explain(catalogue().expect("catalogue"), text).expect("read")
}

fn ids(e: &Explanation) -> Vec<&str> {
    e.matches.iter().map(|m| m.id.as_str()).collect()
}

#[test]
fn the_catalogue_parses_and_is_sound() {
    let c = catalogue().expect("catalogue");
    assert_eq!(c.entries.len(), 70);
    assert!(
        super::catalogue_json()
            .expect("json")
            .starts_with(r#"{"entry":[{"id":"#)
    );
    let count = |cause: Cause| c.entries.iter().filter(|e| e.cause == cause).count();
    assert_eq!(
        [
            count(Cause::ExternalAccess),
            count(Cause::Network),
            count(Cause::Autodiscover),
            count(Cause::Certificate),
            count(Cause::Permissions),
            count(Cause::UnsupportedVersion),
            count(Cause::WrongServerName),
            count(Cause::Throttling),
            count(Cause::MailboxData),
        ],
        [23, 14, 10, 3, 3, 3, 1, 8, 5]
    );
}

/// Every entry is recognised in its source's own text, and leads there unless the entry names the one
/// that legitimately leads (its example carries that entry's more decisive message too).
#[test]
fn every_example_is_recognised_as_its_own_entry() {
    let c = catalogue().expect("catalogue");
    let mut wrong = Vec::new();
    for entry in &c.entries {
        let e = read(&entry.example);
        let found = ids(&e);
        let leader = entry.example_led_by.as_deref().unwrap_or(&entry.id);
        if found.first() != Some(&leader) || !found.contains(&entry.id.as_str()) {
            wrong.push(format!("{}: {found:?}", entry.id));
        }
        if let Some(other) = &entry.example_led_by {
            let other = c.entry(other).expect("named entry");
            assert!(
                other.severity_rank <= entry.severity_rank,
                "{}: led by a less decisive entry",
                entry.id
            );
        }
    }
    assert!(
        wrong.is_empty(),
        "examples not led by their entry:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn a_wrapped_test_migration_server_availability_report_leads_with_mrs_proxy_disabled() {
    let e = read(include_str!(
        "../../../tests/explain/a-test-migration-server-availability-403.txt"
    ));
    assert_eq!(
        ids(&e),
        [
            "mrs-403-forbidden-negotiate",
            "connection-to-server-not-completed",
            "migration-server-connection-failed-exception"
        ]
    );
    let lead = &e.matches[0];
    assert_eq!(lead.count, 2);
    assert_eq!((lead.spans[0].first_line, lead.spans[0].last_line), (13, 15));
    assert!(
        lead.spans[0]
            .excerpt
            .contains("The HTTP request was forbidden with client authentication scheme 'Negotiate'")
    );
    assert_eq!(e.extracted.hosts, ["owa.domain.com"]);
    assert_eq!(e.extracted.urls, ["https://owa.domain.com/EWS/mrsproxy.svc"]);
    let suggested = serde_json::to_value(e.suggested.expect("suggestion")).expect("json");
    assert_eq!(suggested["mode"], "remote_move");
    assert_eq!(suggested["remote_server"], "owa.domain.com");
}

#[test]
fn a_move_report_leads_with_the_mailbox_data_not_the_wrapper() {
    let e = read(include_str!("../../../tests/explain/b-move-report-include-report.txt"));
    assert_eq!(
        ids(&e),
        [
            "restart-move-corrupt-sync-state",
            "mrs-internal-error-search-folders",
            "communication-error-transient-will-retry"
        ]
    );
    let c = catalogue().expect("catalogue");
    let causes: Vec<Cause> = ids(&e).iter().map(|id| c.entry(id).expect("entry").cause).collect();
    assert_eq!(causes, [Cause::MailboxData, Cause::MailboxData, Cause::ExternalAccess]);
    assert_eq!(e.matches[0].spans[0].first_line, 2);
    assert_eq!(e.matches[1].spans[0].first_line, 19);
    assert_eq!(e.extracted.exchange_builds, ["14.3.224.1"]);
}

#[test]
fn an_access_denied_report_leads_with_permissions() {
    let e = read(include_str!("../../../tests/explain/c-access-denied-autodiscover.txt"));
    assert_eq!(
        ids(&e),
        [
            "mrs-access-denied",
            "no-mrsproxy-found",
            "exchangeremote-settings-not-autodiscovered",
            "migration-server-connection-failed-exception"
        ]
    );
    assert_eq!(e.matches[1].count, 2, "the Message line and the ErrorDetail line");
    assert!(
        e.extracted.hosts.is_empty(),
        "placeholders are no names: {:?}",
        e.extracted
    );
    assert_eq!(e.suggested, None);
}

/// The 401 answers are told apart by the header the server sent, in whichever order it sent them.
#[test]
fn a_401_is_read_by_the_authentication_header_offered() {
    let lead = |header: &str| {
        let text = format!(
            "The HTTP request is unauthorized with client authentication scheme 'Negotiate'. The authentication \
             header received from the server was '{header}'. --> The remote server returned an error: (401) Unauthorized."
        );
        let e = read(&text);
        assert_eq!(e.extracted.www_authenticate, [header]);
        assert_eq!(e.extracted.http_statuses, [401]);
        e.matches[0].id.clone()
    };
    assert_eq!(lead(r#"Basic realm="mail.contoso.com""#), "mrs-401-basic-only");
    assert_eq!(lead("Negotiate,NTLM"), "mrs-401-negotiate-ntlm");
    assert_eq!(lead("NTLM, Negotiate"), "mrs-401-negotiate-ntlm");
}

/// Generic .NET texts the research matched loosely are read only in the context their source gives.
#[test]
fn generic_dotnet_texts_need_their_context() {
    let e = read("The server was unable to process the request due to an internal error.");
    assert!(!e.recognised(), "{:?}", e.matches);
    let e = read("The request failed with HTTP status 403: Forbidden.");
    assert!(!e.recognised(), "{:?}", e.matches);
}

/// Two patterns of one entry that match side by side (`...couldNotBeAutodiscoveredException: TheExchangeRemote
/// endpoint settings...`) are one place, not two.
#[test]
fn one_entrys_patterns_side_by_side_are_one_place() {
    let e = read(include_str!("../../../tests/explain/c-access-denied-autodiscover.txt"));
    let m = e
        .matches
        .iter()
        .find(|m| m.id == "exchangeremote-settings-not-autodiscovered")
        .expect("matched");
    let lines: Vec<usize> = m.spans.iter().map(|s| s.first_line).collect();
    assert_eq!(lines, [3, 6]);
}

/// A report whose every recognised message is throttling or mailbox data offers no connectivity check,
/// even when it names the server: nothing a check finds would explain it. One connection message beside
/// them brings the check back.
#[test]
fn no_check_is_offered_for_messages_that_are_no_connection_problem() {
    let stalled = "The call to 'https://mail.contoso.com/EWS/mrsproxy.svc' stalled.\n\
                   StalledDueToTarget_MDBFull or TargetDatabaseFullPermanentException\n\
                   MRSProxyConnectionLimitReachedTransientException: The Mailbox Replication Proxy Service can't \
                   process this request because it has reached the maximum number of active MRS connections allowed.";
    let e = read(stalled);
    assert_eq!(ids(&e), ["target-database-full", "mrsproxy-connection-limit-reached"]);
    assert_eq!(e.extracted.hosts, ["mail.contoso.com"]);
    assert!(e.no_connection_problem);
    assert_eq!(e.suggested, None);
    assert!(
        e.no_check_reason()
            .expect("a reason")
            .starts_with("No connectivity check is needed"),
        "{:?}",
        e.no_check_reason()
    );

    let with_503 = format!("{stalled}\n--> The remote server returned an error: (503) Server Unavailable.");
    let e = read(&with_503);
    assert_eq!(ids(&e)[2], "mrs-503-server-unavailable");
    assert!(!e.no_connection_problem);
    let suggested = serde_json::to_value(e.suggested.as_ref().expect("a check")).expect("json");
    assert_eq!(suggested["mode"], "remote_move");
    assert_eq!(suggested["remote_server"], "mail.contoso.com");
    assert_eq!(e.no_check_reason(), None);
}
