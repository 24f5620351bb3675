//! The readable form of a report for the terminal, and the live tree while a diagnosis runs. Colours
//! only when asked (the output is a terminal and NO_COLOR is not set).

use std::collections::HashMap;
use std::fmt::Write;

use migcheck_shared::{Check, Event, Report, Status, Verdict};

const RESET: &str = "\x1b[0m";

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
    let _ = writeln!(out, "Verdict: {verdict}: {}", report.headline);
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
        tree(&mut out, check, 1, color);
    }
    let _ = writeln!(out, "\nDone in {} ms.", report.elapsed_ms);
    out
}

fn tree(out: &mut String, check: &Check, depth: usize, color: bool) {
    let pad = "  ".repeat(depth);
    let _ = writeln!(
        out,
        "{pad}{} {} ({} ms): {}",
        tag(check.status, color),
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
            Event::Started { id, title, parent } => {
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
                    check.title,
                    check.elapsed_ms,
                    check.summary
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
            let _ = write!(out, "{clear}\x1b[2m… {} running: {title}{RESET}", self.running.len());
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
