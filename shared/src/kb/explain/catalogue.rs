//! The catalogue's shape: `shared/catalogue/errors.toml` as the relay parses it and serves it to the page
//! (JSON). The text itself is data, reviewed like code; here only its types and its own consistency.

use serde::{Deserialize, Serialize};

use super::fold::Pattern;
use crate::kb::{Cause, KbStep};
use crate::report::{Finding, Status};

/// Every known message, in the file's order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Catalogue {
    /// `[[entry]]` in the TOML.
    #[serde(rename = "entry")]
    pub entries: Vec<Entry>,
}

/// How closely `example` is a message a user saw.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Copied from a captured message.
    Verbatim,
    /// A template or a table the source prints; no public capture was found.
    ParaphrasedInSource,
}

/// One known failure message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Stable, kebab-case; `explain.<id>` in a finding's `check_ids`.
    pub id: String,
    pub title: String,
    /// Literal text with `*` wildcards (see the file's header for how they match).
    pub patterns: Vec<String>,
    /// The message as its source shows it; each pattern-bearing entry is tested against it.
    pub example: String,
    pub cause: Cause,
    /// 1 = decides the cause on its own ... 5 = says only that something failed.
    pub severity_rank: u8,
    pub explanation: String,
    /// PowerShell, its prose in `#` comments, like every fix of the KB.
    pub fix: String,
    pub next_checks: String,
    /// The public page (or file) the entry comes from.
    pub source: String,
    /// What was read: `repo@commit:path` or the stored copy.
    pub source_file: String,
    /// The source's own words.
    pub source_quote: String,
    pub confidence: Confidence,
    /// Set when the example's most decisive match is another entry (the example also carries that
    /// entry's message); the file says why beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_led_by: Option<String>,
}

/// The shortest literal text a pattern must hold (all of its `*`-separated parts together): shorter
/// patterns would match ordinary prose.
pub const MIN_LITERAL: usize = 7;

impl Entry {
    /// The finding this entry stands for, in the report's shape.
    pub fn finding(&self) -> Finding {
        Finding {
            cause: self.cause,
            severity: Status::Fail,
            kb_step: step_of(self.cause),
            summary: self.explanation.clone(),
            fix: self.fix.clone(),
            check_ids: vec![format!("explain.{}", self.id)],
        }
    }
}

/// The KB step where a cause is looked at (none for the causes outside the KB's checks).
fn step_of(cause: Cause) -> Option<KbStep> {
    match cause {
        Cause::ExternalAccess => Some(KbStep::OutlookAnywhere),
        Cause::Certificate | Cause::Network => Some(KbStep::Certificate),
        Cause::Autodiscover => Some(KbStep::Autodiscover),
        Cause::Permissions => Some(KbStep::Permissions),
        Cause::WrongServerName => Some(KbStep::TestMigrationServerAvailability),
        Cause::UnsupportedVersion | Cause::Throttling | Cause::MailboxData => None,
    }
}

impl Catalogue {
    /// What is wrong with the catalogue itself, one line each (empty when it is sound): ids unique and
    /// kebab-case, ranks 1-5, patterns with enough literal text and none redundant within an entry,
    /// sources named, `example_led_by` naming an entry.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let id = &e.id;
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                out.push(format!("entry {i}: id '{id}' is not kebab-case"));
            }
            if self.entries[..i].iter().any(|o| &o.id == id) {
                out.push(format!("{id}: id given twice"));
            }
            if !(1..=5).contains(&e.severity_rank) {
                out.push(format!("{id}: severity_rank {} is not 1-5", e.severity_rank));
            }
            if e.patterns.is_empty() {
                out.push(format!("{id}: no pattern"));
            }
            let compiled: Vec<Pattern> = e.patterns.iter().map(|p| Pattern::new(p)).collect();
            for (p, c) in e.patterns.iter().zip(&compiled) {
                if !p.is_ascii() {
                    out.push(format!(
                        "{id}: pattern '{p}' is not ASCII (the matcher folds ASCII case only)"
                    ));
                }
                if c.literal_len() < MIN_LITERAL {
                    out.push(format!("{id}: pattern '{p}' has too little literal text"));
                }
            }
            for (a, pa) in compiled.iter().enumerate() {
                for (b, pb) in compiled.iter().enumerate() {
                    if a != b && pb.is_literal() && pa.contains_literal(pb) {
                        out.push(format!(
                            "{id}: pattern {} is redundant: pattern {} matches wherever it does",
                            a + 1,
                            b + 1
                        ));
                    }
                }
            }
            for (field, value) in [
                ("title", &e.title),
                ("example", &e.example),
                ("explanation", &e.explanation),
                ("fix", &e.fix),
                ("source", &e.source),
                ("source_quote", &e.source_quote),
            ] {
                if value.trim().is_empty() {
                    out.push(format!("{id}: {field} is empty"));
                }
            }
            if !e.source.starts_with("https://") || e.source.contains(char::is_whitespace) {
                out.push(format!("{id}: source is not one https:// address"));
            }
            if let Some(other) = &e.example_led_by
                && !self.entries.iter().any(|o| &o.id == other)
            {
                out.push(format!("{id}: example_led_by names no entry ('{other}')"));
            }
        }
        out
    }

    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }
}
