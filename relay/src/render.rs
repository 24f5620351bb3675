//! The readable form of a report, for the terminal.

use std::fmt::Write;

use migcheck_shared::{Check, Report, Status};

fn tag(status: Status) -> &'static str {
    match status {
        Status::Pass => "[ ok ]",
        Status::Warn => "[warn]",
        Status::Fail => "[FAIL]",
        Status::Skip => "[skip]",
        Status::Info => "[info]",
    }
}

/// Verdict first, then the findings with their fixes, then the tree of checks.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Verdict: {}: {}",
        report.verdict.label().to_uppercase(),
        report.headline
    );
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\nFindings");
        for (i, f) in report.findings.iter().enumerate() {
            let step = f.kb_step.map(|s| format!(", KB step {s}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}. {} ({}{step}): {}",
                i + 1,
                f.severity.label(),
                f.cause.label(),
                f.summary
            );
            let _ = writeln!(out, "     Fix:");
            for line in f.fix.lines() {
                let _ = writeln!(out, "       {line}");
            }
        }
    }
    let _ = writeln!(out, "\nChecks");
    for check in &report.checks {
        tree(&mut out, check, 1);
    }
    let _ = writeln!(out, "\nDone in {} ms.", report.elapsed_ms);
    out
}

fn tree(out: &mut String, check: &Check, depth: usize) {
    let pad = "  ".repeat(depth);
    let _ = writeln!(
        out,
        "{pad}{} {} ({} ms): {}",
        tag(check.status),
        check.title,
        check.elapsed_ms,
        check.summary
    );
    for fact in &check.evidence.facts {
        let _ = writeln!(out, "{pad}       {}: {}", fact.label, fact.value);
    }
    for (i, c) in check.evidence.certificates.iter().enumerate() {
        let _ = writeln!(out, "{pad}       certificate {}: {}", i + 1, c.subject);
        let _ = writeln!(
            out,
            "{pad}         issuer {}; valid {} to {}",
            c.issuer, c.not_before, c.not_after
        );
        let _ = writeln!(
            out,
            "{pad}         {} {} bits, {}; SAN {}",
            c.key_type,
            c.key_bits,
            c.signature_algorithm,
            if c.san.is_empty() {
                "none".into()
            } else {
                c.san.join(", ")
            }
        );
        let _ = writeln!(out, "{pad}         thumbprint {}", c.thumbprint);
    }
    for child in &check.children {
        tree(out, child, depth + 1);
    }
}
