//! Issue 19, point 3: SOAP Autodiscover (`autodiscover.svc`, GetUserSettings), which the hybrid side
//! uses, beside POX and V2 in the Autodiscover mode (the lab's nginx and Apache answer it from the
//! scenario's settings), and after the MRS Proxy logon in the remote-move mode (the lab's own Exchange
//! answers it from the host's configuration), through the CLI and the API.

use crate::common::*;
use crate::exchange::{api, finding_of, remote_move_cli, status, summary};
use migcheck_lab::{AdScenario, EX_ZONE, ExScenario, LabMailbox};
use migcheck_shared::{Cause, Check, Report, Status, Verdict};

const ID: &str = "autodiscover.soap";

fn soap(report: &Report) -> &Check {
    report
        .check(ID)
        .unwrap_or_else(|| panic!("no {ID}: {}", pretty(report)))
}

/// The Autodiscover mode for `s`, through the CLI and the API.
fn autodiscover_both(s: AdScenario) -> [Report; 2] {
    let _ = lab().autodiscover();
    let args: Vec<String> = vec!["check".into(), "--email".into(), s.email(), "--user".into(), s.user()];
    let (_, cli, text) = cli_report(args, &s.password());
    assert!(!text.contains(&s.password()), "the password is in the CLI output");
    let body = serde_json::json!({
        "mode": "autodiscover", "email": s.email(), "user": s.user(), "password": s.password(),
    });
    let (api, stream) = api_report(body.to_string());
    assert!(!stream.contains(&s.password()), "the password is in the stream");
    [cli, api]
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn soap_autodiscover_answers_where_pox_did_and_agrees_with_it() {
    for (s, scheme) in [(AdScenario::Healthy, "Basic"), (AdScenario::NtlmOnly, "NTLM")] {
        let d = s.domain();
        for report in autodiscover_both(s) {
            let ctx = pretty(&report);
            let check = soap(&report);
            assert_eq!(check.status, Status::Pass, "{s}: {ctx}");
            assert_eq!(
                check.summary,
                format!(
                    "SOAP Autodiscover at https://autodiscover.{d}/autodiscover/autodiscover.svc gives the settings of alice@{d}: ExternalEwsUrl https://mail.{d}/EWS/Exchange.asmx (the EWS URL POX Autodiscover names too), CasVersion 15.01.2507.006."
                ),
                "{ctx}"
            );
            let logon = fact(check, "Logon").unwrap_or_default();
            assert_eq!(
                logon,
                format!("POST https://autodiscover.{d}/autodiscover/autodiscover.svc: {scheme}, accepted (200 OK)"),
                "{ctx}"
            );
            assert_eq!(fact(check, "Anonymous answer"), Some("401 Unauthorized"), "{ctx}");
            assert_eq!(fact(check, "ErrorCode"), Some("NoError"), "{ctx}");
            assert_eq!(fact(check, "Setting MapiHttpEnabled"), Some("True"), "{ctx}");
            // (The verdict is Exchange 2016's end of support, a warning of `version`.)
            assert!(
                !report.findings.iter().any(|f| f.check_ids.iter().any(|c| c == ID)),
                "{ctx}"
            );
        }
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn exchange_2007_is_not_asked_and_no_settings_means_no_soap_logon() {
    for report in autodiscover_both(AdScenario::Exchange2007) {
        let check = soap(&report);
        assert_eq!(check.status, Status::Skip, "{}", pretty(&report));
        assert!(
            check.summary.starts_with(
                "Not asked: Exchange Server 2007 (8.0.647) has no SOAP Autodiscover; it came with Exchange 2010"
            ),
            "{}",
            check.summary
        );
    }
    // A refused password: POX gave no settings, so SOAP Autodiscover gets no logon (nor a check).
    for report in autodiscover_both(AdScenario::WrongPassword) {
        assert!(report.check(ID).is_none(), "{}", pretty(&report));
    }
}

/// The remote move for `s` with `mailbox`, through the CLI and the API.
fn remote_both(s: ExScenario, mailbox: LabMailbox) -> [Report; 2] {
    let _ = lab().exchange();
    let (_, cli) = remote_move_cli(s, Some(mailbox));
    [cli, api(s, Some(mailbox))]
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_remote_move_asks_soap_autodiscover_after_the_mrs_logon_in_both_eras() {
    for (s, cas) in [
        (ExScenario::Healthy, "15.02.2562.017"),
        (ExScenario::Exchange2010, "14.03.0513.000"),
    ] {
        let host = s.host();
        for report in remote_both(s, LabMailbox::FullAccess) {
            let ctx = pretty(&report);
            let check = soap(&report);
            assert_eq!(check.status, Status::Pass, "{s}: {ctx}");
            assert_eq!(
                check.summary,
                format!(
                    "SOAP Autodiscover at https://{host}/autodiscover/autodiscover.svc gives the settings of alice@{EX_ZONE}: ExternalEwsUrl https://{host}/EWS/Exchange.asmx, CasVersion {cas}."
                ),
                "{ctx}"
            );
            assert!(
                fact(check, "Logon").is_some_and(|l| l.ends_with("accepted (200 OK)")),
                "{ctx}"
            );
            // Exchange 2010 has no MapiHttpEnabled: the setting comes back as not available.
            let mapi = fact(check, "Setting MapiHttpEnabled (not given)");
            assert_eq!(mapi.is_some(), s == ExScenario::Exchange2010, "{ctx}");
        }
    }
    // An address Exchange does not know: InvalidUser, told, not a finding of its own (EWS finds it).
    for report in remote_both(ExScenario::Healthy, LabMailbox::Missing) {
        let ctx = pretty(&report);
        assert_eq!(status(&report, ID), Some(Status::Info), "{ctx}");
        assert!(
            summary(&report, ID).contains(&format!(
                "does not know nobody@{EX_ZONE} (ErrorCode InvalidUser, \"Invalid user 'nobody@{EX_ZONE}'.\")"
            )),
            "{ctx}"
        );
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn no_external_ews_url_is_a_warning_with_the_fix() {
    let s = ExScenario::NoExternalEws;
    let host = s.host();
    for report in remote_both(s, LabMailbox::FullAccess) {
        let ctx = pretty(&report);
        assert_eq!(status(&report, ID), Some(Status::Warn), "{ctx}");
        assert_eq!(
            summary(&report, ID),
            format!(
                "SOAP Autodiscover at https://{host}/autodiscover/autodiscover.svc gives no ExternalEwsUrl for alice@{EX_ZONE} (SettingIsNotAvailable; InternalEwsUrl https://{host}/EWS/Exchange.asmx): the EWS virtual directory has no external URL, and the hybrid side needs it to reach EWS from the internet."
            ),
            "{ctx}"
        );
        let (cause, severity, fix) = finding_of(&report, ID);
        assert_eq!((cause, severity), (Cause::ExternalAccess, Status::Warn), "{ctx}");
        assert!(fix.contains("Set-WebServicesVirtualDirectory -Identity"), "{fix}");
        assert!(
            fix.contains("-ExternalUrl https://mail.<your domain>/EWS/Exchange.asmx"),
            "{fix}"
        );
        assert_eq!(
            fact(soap(&report), "Setting ExternalEwsUrl (not given)"),
            Some("SettingIsNotAvailable: User setting 'ExternalEwsUrl' is not available."),
            "{ctx}"
        );
        assert_eq!(report.verdict, Verdict::Warn, "{ctx}");
    }
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn no_password_goes_to_soap_autodiscover_unless_the_mrs_logon_proved_it() {
    // A device in front pre-authenticates: MRS Proxy gets no NTLM logon, so SOAP Autodiscover none.
    for report in remote_both(ExScenario::PreAuthBasic, LabMailbox::FullAccess) {
        let ctx = pretty(&report);
        assert_eq!(status(&report, ID), Some(Status::Skip), "{ctx}");
        assert!(
            summary(&report, ID).starts_with("Not asked: the MRS Proxy logon was not accepted"),
            "{ctx}"
        );
    }
    // No mailbox: nothing to ask.
    let report = api(ExScenario::Healthy, None);
    assert!(report.check(ID).is_none(), "{}", pretty(&report));
}
