//! What `migcheck explain` prints: the readable text, or one JSON document whose `findings` have the
//! report's Finding shape.

use std::fmt::Write as _;

use serde_json::{Value, json};

use migcheck_shared::SCHEMA_VERSION;
use migcheck_shared::kb::explain::{Catalogue, Explanation, Extracted, command_line};

/// The one-sentence verdict.
pub fn headline(catalogue: &Catalogue, e: &Explanation) -> String {
    match e.matches.first().and_then(|m| catalogue.entry(&m.id)) {
        Some(lead) => format!(
            "Recognised: {} ({}){}",
            lead.title,
            lead.cause.label(),
            match e.matches.len() {
                1 => String::new(),
                n => format!(", and {} more known message{}", n - 1, if n == 2 { "" } else { "s" }),
            }
        ),
        None => format!(
            "Not recognised: none of the {} known messages is in this text.",
            catalogue.entries.len()
        ),
    }
}

/// The warning for lines that look like they hold a password (their numbers only).
pub fn password_warning(e: &Explanation) -> Option<String> {
    let lines: Vec<String> = e.password_lines.iter().map(usize::to_string).collect();
    match lines.as_slice() {
        [] => None,
        [one] => Some(format!(
            "Line {one} seems to hold a password: it was not read and is not shown. migcheck never takes a password from pasted text; if this text was shared, change that password."
        )),
        many => Some(format!(
            "Lines {} seem to hold a password: they were not read and are not shown. migcheck never takes a password from pasted text; if this text was shared, change that password.",
            many.join(", ")
        )),
    }
}

fn lines_label(first: usize, last: usize) -> String {
    if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}-{last}")
    }
}

/// The names found, one kind per line.
fn names(x: &Extracted) -> Vec<String> {
    let join = |v: &[String]| v.join(", ");
    let mut out = Vec::new();
    let mut kind = |label: &str, value: String| {
        if !value.is_empty() {
            out.push(format!("{label}: {value}"));
        }
    };
    kind("hosts", join(&x.hosts));
    kind("URLs", join(&x.urls));
    kind("e-mail addresses", join(&x.emails));
    kind(
        "HTTP status",
        x.http_statuses
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    kind(
        "authentication offered (WWW-Authenticate)",
        x.www_authenticate
            .iter()
            .map(|h| format!("'{h}'"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    kind("RPC error", join(&x.rpc_errors));
    kind("Exchange build", join(&x.exchange_builds));
    for (label, value) in [
        ("-RemoteServer", &x.remote_server),
        ("-RPCProxyServer", &x.rpc_proxy_server),
        ("-ExchangeServer", &x.exchange_server),
    ] {
        if let Some(v) = value {
            kind(label, v.clone());
        }
    }
    out
}

fn indented(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

pub fn text(catalogue: &Catalogue, e: &Explanation) -> String {
    let mut out = String::new();
    if let Some(w) = password_warning(e) {
        let _ = writeln!(out, "Warning: {w}\n");
    }
    let _ = writeln!(out, "{}", headline(catalogue, e));
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
            let _ = writeln!(
                out,
                "   {}: {}",
                lines_label(span.first_line, span.last_line),
                span.excerpt
            );
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
    let names = names(&e.extracted);
    if !names.is_empty() {
        let _ = writeln!(out, "\nNamed in the text:");
        for line in names {
            let _ = writeln!(out, "  {line}");
        }
    }
    match &e.suggested {
        Some(request) => {
            let _ = writeln!(
                out,
                "\nCheck it now (give the account; the password goes in the variable):"
            );
            let _ = writeln!(out, "  {}", command_line(request));
        }
        None => {
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
        "headline": headline(catalogue, e),
        "findings": findings,
        "matches": matched,
        "nearest": nearest,
        "extracted": e.extracted,
        "suggested_request": e.suggested,
        "suggested_command": e.suggested.as_ref().map(command_line),
        "password_lines": e.password_lines,
        "password_warning": password_warning(e),
    })
}
