//! The readable form of a report for the terminal, and the live tree while a diagnosis runs. Colours
//! only when asked (the output is a terminal and NO_COLOR is not set).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;

use migcheck_shared::{Check, Comparison, Event, Report, Seen, Status, Verdict};

const RESET: &str = "\x1b[0m";

/// `text` as it may reach a terminal. Summaries, facts and certificate fields quote what servers
/// sent: an escape sequence in a certificate's subject would otherwise move the cursor, recolour or
/// retitle the user's terminal, and a bidi override would make a line read differently than it is.
fn safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\n' | '\t' => ' ',
                c if unsafe_char(c) => '\u{fffd}',
                c => c,
            })
            .collect(),
    )
}

fn colour(status: Status) -> &'static str {
    match status {
        Status::Pass => "\x1b[32m",
        Status::Warn => "\x1b[33m",
        Status::Fail => "\x1b[1;31m",
        Status::Skip => "\x1b[2m",
        Status::Info => "\x1b[36m",
    }
}

fn tag(status: Status, color: bool) -> String {
    let t = match status {
        Status::Pass => "[ ok ]",
        Status::Warn => "[warn]",
        Status::Fail => "[FAIL]",
        Status::Skip => "[skip]",
        Status::Info => "[info]",
    };
    if color {
        format!("{}{t}{RESET}", colour(status))
    } else {
        t.to_string()
    }
}

fn verdict_status(v: Verdict) -> Status {
    match v {
        Verdict::Pass => Status::Pass,
        Verdict::Warn => Status::Warn,
        Verdict::Fail => Status::Fail,
    }
}

/// Verdict first, then the findings with their fixes, then the tree of checks.
pub fn text(report: &Report, color: bool) -> String {
    let mut out = String::new();
    let verdict = report.verdict.label().to_uppercase();
    let verdict = if color {
        format!("{}{verdict}{RESET}", colour(verdict_status(report.verdict)))
    } else {
        verdict
    };
    let _ = writeln!(out, "Verdict: {verdict}: {}", safe(&report.headline));
    if let Some(c) = &report.comparison {
        comparison(&mut out, c, color);
    }
    if !report.findings.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            if report.comparison.is_some() {
                "Findings inside"
            } else {
                "Findings"
            }
        );
        for (i, f) in report.findings.iter().enumerate() {
            let step = f
                .kb_step
                .map(|s| format!(", KB step {}", s.number()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}. {} ({}{step}): {}",
                i + 1,
                f.severity.label(),
                f.cause.label(),
                safe(&f.summary)
            );
            let _ = writeln!(out, "     Fix:");
            for line in f.fix.lines() {
                let _ = writeln!(out, "       {}", safe(line));
            }
        }
    }
    let _ = writeln!(out, "\nChecks");
    for check in &report.checks {
        tree(&mut out, check, 1, color);
    }
    let _ = writeln!(out, "\nDone in {} ms.", report.elapsed_ms);
    out
}

/// The view from outside first (what Exchange Online sees), then what differs, then every check on both
/// sides; the inside report follows as usual.
fn comparison(out: &mut String, c: &Comparison, color: bool) {
    let _ = writeln!(out, "\nInside and outside");
    let _ = writeln!(out, "  {}", safe(&c.message));
    let password = if c.password_sent {
        format!("the password went to {} (you agreed)", safe(&c.relay))
    } else {
        "the password stayed here".to_string()
    };
    let sent = serde_json::to_string(&c.sent).unwrap_or_default();
    let _ = writeln!(out, "  Sent outside: {} ({password})", safe(&sent));
    let Some(outside) = &c.outside else {
        return;
    };
    let _ = writeln!(
        out,
        "  From the internet: {}: {}",
        outside.verdict.label().to_uppercase(),
        safe(&outside.headline)
    );
    if !c.differences.is_empty() {
        let _ = writeln!(out, "\nDifferences");
    }
    for (i, d) in c.differences.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {} ({}, {}): {}",
            i + 1,
            d.severity.label(),
            d.cause.label(),
            safe(&d.check_id),
            safe(&d.summary)
        );
        let _ = writeln!(out, "     inside:  {}", safe(&d.inside));
        let _ = writeln!(out, "     outside: {}", safe(&d.outside));
        let _ = writeln!(out, "     Fix:");
        for line in d.fix.lines() {
            let _ = writeln!(out, "       {}", safe(line));
        }
    }
    let _ = writeln!(out, "\nSide by side (inside | outside)");
    let side = |s: &Option<Seen>| {
        s.as_ref()
            .map_or_else(|| "[ -- ]".to_string(), |s| tag(s.status, color))
    };
    for row in &c.rows {
        let mark = if row.differs { "≠" } else { " " };
        let _ = writeln!(
            out,
            "  {mark} {} | {}  {} ({})",
            side(&row.inside),
            side(&row.outside),
            safe(&row.title),
            safe(&row.id)
        );
    }
}

fn tree(out: &mut String, check: &Check, depth: usize, color: bool) {
    let pad = "  ".repeat(depth);
    let _ = writeln!(
        out,
        "{pad}{} {} ({} ms): {}",
        tag(check.status, color),
        safe(&check.title),
        check.elapsed_ms,
        safe(&check.summary)
    );
    for fact in &check.evidence.facts {
        let _ = writeln!(out, "{pad}       {}: {}", safe(&fact.label), safe(&fact.value));
    }
    for (i, c) in check.evidence.certificates.iter().enumerate() {
        let _ = writeln!(out, "{pad}       certificate {}: {}", i + 1, safe(&c.subject));
        let _ = writeln!(
            out,
            "{pad}         issuer {}; valid {} to {}",
            safe(&c.issuer),
            safe(&c.not_before),
            safe(&c.not_after)
        );
        let _ = writeln!(
            out,
            "{pad}         {} {} bits, {}; SAN {}",
            safe(&c.key_type),
            c.key_bits,
            safe(&c.signature_algorithm),
            if c.san.is_empty() {
                "none".into()
            } else {
                safe(&c.san.join(", ")).into_owned()
            }
        );
        let _ = writeln!(out, "{pad}         thumbprint {}", safe(&c.thumbprint));
    }
    for child in &check.children {
        tree(out, child, depth + 1, color);
    }
}

/// The tree as it fills in: one line per finished check, indented under its parent, and on a
/// terminal a status line of what still runs.
#[derive(Default)]
pub struct Live {
    color: bool,
    depth: HashMap<String, usize>,
    running: Vec<String>,
    titles: HashMap<String, String>,
}

impl Live {
    pub fn new(color: bool) -> Self {
        Live {
            color,
            ..Live::default()
        }
    }

    /// What to write for one event (empty for none). On a terminal the status line is rewritten in place.
    pub fn event(&mut self, event: &Event) -> String {
        let clear = if self.color { "\r\x1b[K" } else { "" };
        let mut out = String::new();
        match event {
            Event::Started { id, title, parent, .. } => {
                let depth = parent.as_ref().and_then(|p| self.depth.get(p)).map_or(0, |d| d + 1);
                self.depth.insert(id.clone(), depth);
                self.titles.insert(id.clone(), title.clone());
                self.running.push(id.clone());
            }
            Event::Finished { check } => {
                self.running.retain(|r| r != &check.id);
                let pad = "  ".repeat(self.depth.get(&check.id).copied().unwrap_or(0) + 1);
                let _ = writeln!(
                    out,
                    "{clear}{pad}{} {} ({} ms): {}",
                    tag(check.status, self.color),
                    safe(&check.title),
                    check.elapsed_ms,
                    safe(&check.summary)
                );
            }
            Event::Done { .. } | Event::Error { .. } => {
                out.push_str(clear);
                return out;
            }
        }
        if self.color
            && let Some(last) = self.running.last()
        {
            let title = self.titles.get(last).map(String::as_str).unwrap_or(last);
            let _ = write!(
                out,
                "{clear}\x1b[2m… {} running: {}{RESET}",
                self.running.len(),
                safe(title)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migcheck_shared::Evidence;

    fn check(id: &str, status: Status) -> Check {
        Check {
            id: id.into(),
            title: format!("Title of {id}"),
            status,
            summary: format!("Summary of {id}."),
            evidence: Evidence::default(),
            elapsed_ms: 12,
            timings: vec![],
            kb_step: None,
            children: vec![],
        }
    }

    fn started(id: &str, parent: Option<&str>) -> Event {
        Event::Started {
            id: id.into(),
            title: format!("Title of {id}"),
            parent: parent.map(str::to_string),
            kb_step: None,
        }
    }

    #[test]
    fn what_a_server_sent_cannot_drive_the_terminal() {
        // A hostile server's certificate subject: retitle the terminal, clear the screen, flip the text.
        let hostile = "O=Contoso\x1b]0;pwned\x07\x1b[2J\u{202e}\u{9b}31m";
        let mut c = check("tls.chain", Status::Fail);
        c.summary = format!("Issued by {hostile}.");
        c.evidence = Evidence::default().fact("Issuer", hostile);
        c.evidence.certificates.push(migcheck_shared::CertificateInfo {
            subject: hostile.into(),
            issuer: hostile.into(),
            san: vec![hostile.into()],
            not_before: String::new(),
            not_after: String::new(),
            key_type: "RSA".into(),
            key_bits: 2048,
            signature_algorithm: String::new(),
            sha256: String::new(),
            thumbprint: String::new(),
            serial: String::new(),
            self_signed: false,
        });
        let mut out = String::new();
        tree(&mut out, &c, 1, false);
        out.push_str(&Live::new(false).event(&Event::Finished { check: c }));
        assert!(out.contains("O=Contoso"), "{out:?}");
        for bad in ['\x1b', '\x07', '\u{202e}', '\u{9b}'] {
            assert!(!out.contains(bad), "{bad:?} reached the terminal: {out:?}");
        }
    }

    #[test]
    fn the_live_tree_indents_children_and_colours_only_when_asked() {
        let mut plain = Live::new(false);
        let mut lines = String::new();
        for e in [
            started("tls", None),
            started("tls.chain", Some("tls")),
            Event::Finished {
                check: check("tls.chain", Status::Fail),
            },
            Event::Finished {
                check: check("tls", Status::Fail),
            },
        ] {
            lines.push_str(&plain.event(&e));
        }
        assert_eq!(
            lines,
            "    [FAIL] Title of tls.chain (12 ms): Summary of tls.chain.\n  [FAIL] Title of tls (12 ms): Summary of tls.\n"
        );
        assert!(!lines.contains('\x1b'));

        let mut tty = Live::new(true);
        let _ = tty.event(&started("net", None));
        let line = tty.event(&started("net.dns", Some("net")));
        assert!(line.contains("2 running: Title of net.dns"), "{line:?}");
        let done = tty.event(&Event::Finished {
            check: check("net.dns", Status::Pass),
        });
        assert!(
            done.starts_with("\r\x1b[K    \x1b[32m[ ok ]\x1b[0m Title of net.dns"),
            "{done:?}"
        );
    }
}
