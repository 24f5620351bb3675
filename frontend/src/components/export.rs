//! Taking the report away: the JSON as the relay sent it, a plain-text summary for a ticket, and print.

use migcheck_shared::report::Seen;
use migcheck_shared::{Check, Comparison, Report};
use yew::prelude::*;

use super::browser::{download, print};
use super::finding::{Copied, copy_on_click};
use crate::flat_json::Members;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: Report,
}

/// The report as pretty-printed JSON: the contract's `Report` (it never holds the password).
pub fn report_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|line| format!("{by}{line}\n")).collect()
}

fn tree_lines(checks: &[Check], depth: usize, out: &mut String) {
    for check in checks {
        let pad = "  ".repeat(depth);
        out.push_str(&format!(
            "{pad}[{}] {} ({}, {} ms)\n",
            check.status.label(),
            check.title,
            check.id,
            check.elapsed_ms
        ));
        if !check.summary.is_empty() {
            out.push_str(&indent(&check.summary, &format!("{pad}    ")));
        }
        tree_lines(&check.children, depth + 1, out);
    }
}

/// "Inside and outside" as the page shows it and in its order: what was compared (the relay's sentence),
/// the verdict from the internet, each difference with what each side saw and its fix, then every check
/// of both views side by side.
fn comparison_lines(c: &Comparison, out: &mut String) {
    out.push_str(&format!("\nInside and outside:\n{}", indent(&c.message, "  ")));
    let Some(outside) = &c.outside else {
        return;
    };
    out.push_str(&format!(
        "  From the internet: {}: {}\n",
        outside.verdict.label().to_ascii_uppercase(),
        outside.headline
    ));
    for (i, d) in c.differences.iter().enumerate() {
        out.push_str(&format!(
            "{}. [{}] {} at {}: {}\n   Inside: {}\n   Outside: {}\n",
            i + 1,
            d.severity.label(),
            d.cause.label(),
            d.check_id,
            d.summary,
            d.inside,
            d.outside
        ));
        if !d.fix.is_empty() {
            out.push_str(&format!("   Fix:\n{}", indent(&d.fix, "     ")));
        }
    }
    let side = |s: &Option<Seen>| s.as_ref().map_or("not run", |s| s.status.label());
    out.push_str("  Side by side (inside | outside):\n");
    for row in &c.rows {
        let mark = if row.differs { "≠" } else { " " };
        out.push_str(&format!(
            "  {mark} {} | {}  {} ({})\n",
            side(&row.inside),
            side(&row.outside),
            row.title,
            row.id
        ));
    }
}

/// A plain-text summary to paste into a ticket: the verdict, what was asked, the comparison with the
/// internet's view when there is one, the findings with their fixes, then the tree, one check a line
/// with its status and summary.
pub fn summary_text(report: &Report) -> String {
    let mut out = format!(
        "migcheck: {}\n{}\n(diagnosis took {} ms)\n",
        report.verdict.label().to_ascii_uppercase(),
        report.headline,
        report.elapsed_ms
    );
    // The inputs as the report has them: the password is never among them. (Through a string: the page
    // already has that code for the request and the relay's errors, a `to_value` would add its own.)
    let inputs = serde_json::to_string(&report.inputs).unwrap_or_default();
    if let Some(Members(inputs)) = Members::parse(&inputs) {
        out.push_str("\nAsked:\n");
        for (key, value) in inputs {
            out.push_str(&format!("  {key}: {}\n", value.text()));
        }
    }
    if let Some(c) = &report.comparison {
        comparison_lines(c, &mut out);
    }
    if !report.findings.is_empty() {
        out.push_str("\nFindings (most important first):\n");
        for (i, finding) in report.findings.iter().enumerate() {
            let step = finding
                .kb_step
                .map(|s| format!(", KB step {}", s.number()))
                .unwrap_or_default();
            out.push_str(&format!(
                "{}. [{}] {}{step}: {}\n",
                i + 1,
                finding.severity.label(),
                finding.cause.label(),
                finding.summary
            ));
            if !finding.check_ids.is_empty() {
                out.push_str(&format!("   Seen in: {}\n", finding.check_ids.join(", ")));
            }
            if !finding.fix.is_empty() {
                out.push_str("   Fix:\n");
                out.push_str(&indent(&finding.fix, "     "));
            }
        }
    }
    out.push_str("\nChecks:\n");
    tree_lines(&report.checks, 1, &mut out);
    out
}

#[function_component(ExportBar)]
pub fn export_bar(props: &Props) -> Html {
    let copied = use_state(|| Copied::Not);
    let json = {
        let report = props.report.clone();
        Callback::from(move |_: MouseEvent| {
            download("migcheck-report.json", "application/json", &report_json(&report));
        })
    };
    let text_file = {
        let report = props.report.clone();
        Callback::from(move |_: MouseEvent| {
            download(
                "migcheck-report.txt",
                "text/plain;charset=utf-8",
                &summary_text(&report),
            );
        })
    };
    let copy_text = {
        let report = props.report.clone();
        copy_on_click(&copied, move || summary_text(&report))
    };
    let (word, state) = copied.says("Copy summary");
    html! {
        <div id="export" class="export" role="group" aria-label="Export the report">
            <button type="button" id="export-text" class={(*copied == Copied::Yes).then_some("copied")}
                data-copied={state} onclick={copy_text} aria-live="polite">{ word }</button>
            <button type="button" id="export-text-file" onclick={text_file}>{ "Download summary (.txt)" }</button>
            <button type="button" id="export-json" onclick={json}>{ "Download report (JSON)" }</button>
            <button type="button" id="export-print" onclick={Callback::from(|_: MouseEvent| print())}>{ "Print" }</button>
        </div>
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use migcheck_shared::report::{ComparedCheck, Difference};
    use migcheck_shared::{
        Cause, CompareOutcome, DiagnoseRequest, Evidence, Finding, HostTarget, KbStep, Status, Verdict,
    };

    /// A check for the tests of the report's components.
    pub(in crate::components) fn check(id: &str, status: Status, children: Vec<Check>) -> Check {
        Check {
            id: id.into(),
            title: format!("Title of {id}"),
            status,
            summary: format!("{id} says"),
            evidence: Evidence::default(),
            elapsed_ms: 4,
            timings: Vec::new(),
            kb_step: Some(KbStep::Certificate),
            children,
        }
    }

    #[test]
    fn the_summary_has_the_verdict_the_fix_and_the_indented_tree() {
        let report = Report {
            schema_version: 1,
            verdict: Verdict::Fail,
            headline: "The certificate expired.".into(),
            inputs: DiagnoseRequest::Host(HostTarget {
                host: "mail.contoso.com".into(),
                port: Some(443),
            }),
            checks: vec![check(
                "tls",
                Status::Fail,
                vec![check("tls.dates", Status::Fail, vec![])],
            )],
            findings: vec![Finding {
                cause: Cause::Certificate,
                severity: Status::Fail,
                kb_step: Some(KbStep::Certificate),
                summary: "Expired.".into(),
                fix: "# Renew it\nNew-ExchangeCertificate".into(),
                check_ids: vec!["tls.dates".into()],
            }],
            elapsed_ms: 12,
            comparison: None,
        };
        let text = summary_text(&report);
        assert!(text.starts_with("migcheck: FAIL\nThe certificate expired.\n"), "{text}");
        assert!(text.contains("  host: mail.contoso.com\n  mode: host\n"), "{text}");
        assert!(text.contains("1. [fail] certificate, KB step 2: Expired.\n"), "{text}");
        assert!(
            text.contains("   Fix:\n     # Renew it\n     New-ExchangeCertificate\n"),
            "{text}"
        );
        assert!(
            text.ends_with("  [fail] Title of tls (tls, 4 ms)\n      tls says\n    [fail] Title of tls.dates (tls.dates, 4 ms)\n        tls.dates says\n"),
            "{text}"
        );
        let back: Report = serde_json::from_str(&report_json(&report)).expect("the JSON parses");
        assert_eq!(back, report);
    }

    #[test]
    fn the_summary_carries_the_comparison_outside_first() {
        let host = || {
            DiagnoseRequest::Host(HostTarget {
                host: "mail.contoso.com".into(),
                port: None,
            })
        };
        let report = |verdict, headline: &str, comparison| Report {
            schema_version: 1,
            verdict,
            headline: headline.into(),
            inputs: host(),
            checks: vec![check("net.dns", Status::Pass, vec![])],
            findings: Vec::new(),
            elapsed_ms: 7,
            comparison,
        };
        let seen = |status| {
            Some(Seen {
                status,
                summary: String::new(),
            })
        };
        let comparison = Comparison {
            relay: "https://migcheck.example.net".into(),
            sent: host(),
            password_sent: false,
            outcome: CompareOutcome::Compared,
            message: "Compared with https://migcheck.example.net; the password stayed here.".into(),
            outside: Some(Box::new(report(Verdict::Fail, "Nothing listens.", None))),
            inside: None,
            differences: vec![Difference {
                check_id: "net.tcp".into(),
                cause: Cause::Network,
                severity: Status::Fail,
                summary: "Closed from outside.".into(),
                fix: "Test-NetConnection mail.contoso.com -Port 443".into(),
                inside: "Open.".into(),
                outside: "Refused.".into(),
            }],
            rows: vec![
                ComparedCheck {
                    id: "net.tcp".into(),
                    title: "TCP".into(),
                    inside: seen(Status::Pass),
                    outside: seen(Status::Fail),
                    differs: true,
                },
                ComparedCheck {
                    id: "tls.chain".into(),
                    title: "Chain".into(),
                    inside: seen(Status::Pass),
                    outside: None,
                    differs: false,
                },
            ],
        };
        // A comparison that did not happen is its sentence alone.
        let unreachable = Comparison {
            outcome: CompareOutcome::Unreachable,
            message: "The outside relay could not be reached.".into(),
            outside: None,
            differences: Vec::new(),
            rows: Vec::new(),
            ..comparison.clone()
        };
        let text = summary_text(&report(
            Verdict::Fail,
            "From the internet: closed.",
            Some(Box::new(comparison)),
        ));
        let expected = "\nInside and outside:\n  Compared with https://migcheck.example.net; the password stayed here.\n  From the internet: FAIL: Nothing listens.\n1. [fail] network at net.tcp: Closed from outside.\n   Inside: Open.\n   Outside: Refused.\n   Fix:\n     Test-NetConnection mail.contoso.com -Port 443\n  Side by side (inside | outside):\n  ≠ pass | fail  TCP (net.tcp)\n    pass | not run  Chain (tls.chain)\n\nChecks:\n";
        assert!(text.contains(expected), "{text}");
        let text = summary_text(&report(Verdict::Pass, "Fine.", Some(Box::new(unreachable))));
        assert!(
            text.contains("\nInside and outside:\n  The outside relay could not be reached.\n\nChecks:\n"),
            "{text}"
        );
    }
}
