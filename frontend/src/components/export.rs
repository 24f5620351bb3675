//! Taking the report away: the JSON as the relay sent it, a plain-text summary for a ticket, and print.

use migcheck_shared::{Check, Report};
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

/// A plain-text summary to paste into a ticket: the verdict, what was asked, the findings with their
/// fixes, then the tree, one check a line with its status and summary.
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
    use migcheck_shared::{Cause, DiagnoseRequest, Evidence, Finding, HostTarget, KbStep, Status, Verdict};

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
}
