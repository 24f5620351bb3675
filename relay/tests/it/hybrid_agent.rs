//! Issue 19, point 4: a remote move to a Hybrid Agent's name (Modern Hybrid). The public name is never
//! probed; migcheck, run where the agent runs, tries the agent machine's outbound connections (Microsoft's
//! list of hosts, each sent to the lab with --connect-to: the lab's DNS and egress fence keep every
//! connection on loopback) and the remote-move checks on the internal server the agent publishes, whose
//! certificate comes from an internal CA (the lab's CA given as --ca-file).
//!
//! The lab needs no new server: the outbound checks only open TCP connections (to the lab's healthy
//! Exchange), and the published server is the lab's healthy Exchange, whose answers cite their sources.

use crate::common::*;
use migcheck_lab::{EX_ZONE, ExScenario, LabMailbox};
use migcheck_shared::kb::AGENT_ENDPOINTS;
use migcheck_shared::{Cause, Report, Status, Verdict};

fn body(target: &str) -> String {
    let s = ExScenario::Healthy;
    serde_json::json!({
        "mode": "remote_move", "remote_server": AGENT, "user": s.user(), "password": s.password(),
        "target_mailbox": LabMailbox::FullAccess.address(EX_ZONE), "agent_target": target,
    })
    .to_string()
}

/// `migcheck check --remote-server AGENT ...` inside the lab, with the lab's CA as an internal one.
fn cli(target: Option<String>, blocked: Option<&str>) -> (i32, Report) {
    let s = ExScenario::Healthy;
    let mut args: Vec<String> = vec!["check".into(), "--remote-server".into(), AGENT.into()];
    if let Some(t) = target {
        args.extend(["--agent-target".into(), t]);
    }
    args.extend([
        "--user".into(),
        s.user(),
        "--password-env".into(),
        "MIGCHECK_TEST_PASSWORD".into(),
    ]);
    args.extend([
        "--target-mailbox".into(),
        LabMailbox::FullAccess.address(EX_ZONE),
        "--json".into(),
    ]);
    for r in agent_routes(blocked) {
        args.extend([
            "--connect-to".into(),
            format!("{}:{}:{}:{}", r.host, r.port, r.to_host, r.to_port),
        ]);
    }
    args.extend(lab().migcheck_flags_internal_ca(2));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_migcheck"))
        .args(&args)
        .env("MIGCHECK_TEST_PASSWORD", s.password())
        .output()
        .expect("run migcheck");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(&s.password()), "the password is in the output");
    let report: Report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not a report ({e}): {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

fn status(report: &Report, id: &str) -> Option<Status> {
    report.check(id).map(|c| c.status)
}

/// The agent explained, every host reached, the published server checked (its internal CA fine there).
fn assert_healthy_agent(report: &Report, how: &str) {
    let ctx = format!("{how}: {}", pretty(report));
    assert_eq!(report.verdict, Verdict::Pass, "{ctx}");
    let hybrid = report.check("hybrid").expect("hybrid");
    assert_eq!(hybrid.status, Status::Info, "{ctx}");
    assert!(
        hybrid
            .summary
            .contains("is the public name of Microsoft's Hybrid Agent"),
        "{ctx}"
    );
    assert!(hybrid.summary.contains("so migcheck does not probe it"), "{ctx}");
    assert!(
        hybrid
            .evidence
            .facts
            .iter()
            .any(|f| f.value.contains("-ExcludeVirtualDirectories \"EWSFrontEnd\"")),
        "{ctx}"
    );
    assert_eq!(status(report, "hybrid.outbound"), Some(Status::Pass), "{ctx}");
    assert_eq!(
        report.check("hybrid.outbound").map(|c| c.children.len()),
        Some(AGENT_ENDPOINTS.len()),
        "{ctx}"
    );
    assert_eq!(
        status(report, "hybrid.outbound.login.microsoftonline.com:443"),
        Some(Status::Pass),
        "{ctx}"
    );
    let chain = report.check("tls.chain").expect("tls.chain");
    assert_eq!(chain.status, Status::Pass, "{ctx}");
    assert!(chain.summary.contains("fine behind the Hybrid Agent"), "{ctx}");
    for id in ["mrs.credentials", "ews.logon", "ews.permission"] {
        assert_eq!(status(report, id), Some(Status::Pass), "{id}: {ctx}");
    }
    let host = ExScenario::Healthy.host();
    assert!(
        report.headline.starts_with(&format!("{AGENT} is a Hybrid Agent's name; its machine reaches the hosts Microsoft lists for it. MRS Proxy and EWS on {host}")),
        "{ctx}"
    );
    // The public name itself is never reached.
    assert!(
        report.check("net.dns").is_none_or(|c| !c.title.contains(AGENT)),
        "{ctx}"
    );
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_hybrid_agent_name_is_checked_from_inside_through_cli_and_api() {
    let _ = lab().exchange();
    let target = ExScenario::Healthy.host();
    let (code, report) = cli(Some(target.clone()), None);
    assert_eq!(code, 0, "{}", pretty(&report));
    assert_healthy_agent(&report, "CLI");
    let (report, stream) = api_report_with(agent_net(None), body(&target));
    assert!(
        !stream.contains(&ExScenario::Healthy.password()),
        "the password is in the stream"
    );
    assert_healthy_agent(&report, "API");
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn a_blocked_host_of_the_agent_is_a_network_finding_and_no_target_is_said() {
    let _ = lab().exchange();
    let blocked = "login.microsoftonline.com";
    let (code, cli_report) = cli(None, Some(blocked));
    let (api_report, _) = api_report_with(agent_net(Some(blocked)), body(""));
    assert_eq!(code, 1, "{}", pretty(&cli_report));
    for (report, how) in [(cli_report, "CLI"), (api_report, "API")] {
        let ctx = format!("{how}: {}", pretty(&report));
        assert_eq!(report.verdict, Verdict::Fail, "{ctx}");
        let id = format!("hybrid.outbound.{blocked}:443");
        assert_eq!(status(&report, &id), Some(Status::Fail), "{ctx}");
        let finding = report
            .findings
            .iter()
            .find(|f| f.check_ids.contains(&id))
            .expect("the finding");
        assert_eq!(finding.cause, Cause::Network, "{ctx}");
        assert!(
            finding.summary.starts_with(&format!(
                "The Hybrid Agent's machine cannot reach {blocked} on port 443 (registration and sign-in): "
            )),
            "{ctx}"
        );
        assert!(
            finding.fix.contains(&format!("Test-NetConnection {blocked} -Port 443")),
            "{ctx}"
        );
        assert_eq!(
            status(&report, "hybrid.outbound.crl.microsoft.com:80"),
            Some(Status::Pass),
            "{ctx}"
        );
        let target = report.check("hybrid.target").expect("hybrid.target");
        assert_eq!(target.status, Status::Skip, "{ctx}");
        assert!(target.summary.contains("--agent-target"), "{ctx}");
        // No server was checked: no EWS, no MRS Proxy.
        assert!(report.check("mrs").is_none() && report.check("ews").is_none(), "{ctx}");
    }
}

#[test]
fn a_server_the_agent_publishes_goes_with_an_agent_name_only() {
    let out = migcheck(&[
        "check".into(),
        "--remote-server".into(),
        "mail.contoso.com".into(),
        "--agent-target".into(),
        "ex01.contoso.local".into(),
        "--user".into(),
        "u@contoso.com".into(),
        "--password-env".into(),
        "HOME".into(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--agent-target:") && stderr.contains("Hybrid Agent name"),
        "{stderr}"
    );
}

/// From the hosted relay (--egress public) nothing is tried: the agent's name is explained, the outbound
/// connections and the published server are left to a run on the agent's machine, and the verdict names
/// no allow list (nothing was reached). No lab: this relay connects nowhere.
#[test]
fn a_hybrid_agent_name_seen_from_the_internet_is_explained_and_nothing_is_tried() {
    let (report, _) = api_report_with(offline_net(), body("ex01.contoso.local"));
    let ctx = pretty(&report);
    assert_eq!(report.verdict, Verdict::Pass, "{ctx}");
    assert_eq!(status(&report, "hybrid"), Some(Status::Info), "{ctx}");
    let outbound = report.check("hybrid.outbound").expect("hybrid.outbound");
    assert_eq!(outbound.status, Status::Skip, "{ctx}");
    assert!(outbound.summary.contains("Run migcheck on that machine"), "{ctx}");
    assert_eq!(
        report.headline,
        format!(
            "{AGENT} is a Hybrid Agent's name, which only Exchange Online reaches: run migcheck on the agent's machine to check it."
        ),
        "{ctx}"
    );
    assert!(report.check("net").is_none() && report.check("mrs").is_none(), "{ctx}");
}
