//! What `migcheck explain` prints: the readable text, or one JSON document whose `findings` have the
//! report's Finding shape.

use std::fmt::Write as _;

use serde_json::{Value, json};

use migcheck_shared::SCHEMA_VERSION;
use migcheck_shared::kb::explain::{Catalogue, Explanation, command_line, lines_label};

fn indented(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

pub fn text(catalogue: &Catalogue, e: &Explanation) -> String {
    let mut out = String::new();
    if let Some(w) = e.password_warning() {
        let _ = writeln!(out, "Warning: {w}\n");
    }
    let _ = writeln!(out, "{}", e.headline(catalogue));
    for (n, m) in e.matches.iter().enumerate() {
        let Some(entry) = catalogue.entry(&m.id) else {
            continue;
        };
        let _ = writeln!(
            out,
            "\n{}. {} [{}; {}]",
            n + 1,
            entry.title,
            entry.cause.label(),
            entry.id
        );
        for span in &m.spans {
            let _ = writeln!(out, "   {}: {}", lines_label(span), span.excerpt);
        }
        if m.count > m.spans.len() {
            let _ = writeln!(out, "   ... and {} more places", m.count - m.spans.len());
        }
        let _ = writeln!(out, "   What it means: {}", entry.explanation);
        let _ = writeln!(out, "   Fix:");
        out.push_str(&indented(&entry.fix, "     "));
        let _ = writeln!(out, "   Check next: {}", entry.next_checks);
        let _ = writeln!(out, "   Source: {}", entry.source);
    }
    if !e.nearest.is_empty() {
        let _ = writeln!(out, "\nNearest known messages:");
        for id in &e.nearest {
            if let Some(entry) = catalogue.entry(id) {
                let _ = writeln!(out, "  - {} [{}]", entry.title, entry.id);
            }
        }
    }
    let names = e.extracted.described();
    if !names.is_empty() {
        let _ = writeln!(out, "\nNamed in the text:");
        for line in names {
            let _ = writeln!(out, "  {line}");
        }
    }
    match (&e.suggested, e.no_check_reason()) {
        (Some(request), _) => {
            let _ = writeln!(
                out,
                "\nCheck it now (give the account; the password goes in the variable):"
            );
            let _ = writeln!(out, "  {}", command_line(request));
        }
        (None, Some(reason)) if e.no_connection_problem => {
            let _ = writeln!(out, "\nCheck it now: {reason}");
        }
        (None, _) => {
            let _ = writeln!(
                out,
                "\nCheck it now: the text names no server; run migcheck check with yours (migcheck check --help)."
            );
        }
    }
    out
}

pub fn json(catalogue: &Catalogue, e: &Explanation) -> Value {
    let matched: Vec<Value> = e
        .matches
        .iter()
        .filter_map(|m| {
            let entry = catalogue.entry(&m.id)?;
            Some(json!({
                "id": entry.id,
                "title": entry.title,
                "cause": entry.cause,
                "severity_rank": entry.severity_rank,
                "count": m.count,
                "spans": m.spans,
                "next_checks": entry.next_checks,
                "source": entry.source,
                "confidence": entry.confidence,
            }))
        })
        .collect();
    let findings: Vec<_> = e
        .matches
        .iter()
        .filter_map(|m| catalogue.entry(&m.id).map(|entry| entry.finding()))
        .collect();
    let nearest: Vec<Value> = e
        .nearest
        .iter()
        .filter_map(|id| catalogue.entry(id))
        .map(|entry| json!({ "id": entry.id, "title": entry.title }))
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "recognised": e.recognised(),
        "headline": e.headline(catalogue),
        "findings": findings,
        "matches": matched,
        "nearest": nearest,
        "extracted": e.extracted,
        "suggested_request": e.suggested,
        "suggested_command": e.suggested.as_ref().map(command_line),
        "connection_check_needed": !e.no_connection_problem,
        "password_lines": e.password_lines,
        "password_warning": e.password_warning(),
    })
}
