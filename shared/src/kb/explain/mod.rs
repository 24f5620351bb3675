//! "I only have the error message": pasted migration errors read offline and turned into a diagnosis.
//!
//! The catalogue of known messages is data (`shared/catalogue/errors.toml`: the relay embeds it and
//! serves it to the page, which fetches it when its paste box opens); the matching runs here, in the page
//! and in `migcheck explain` alike. A paste is bounded ([`MAX_PASTE_BYTES`]), read line by line with
//! whitespace folded (see [`fold`]), and answers with the entries it matches grouped and most decisive
//! first, the lines each matched, the names it mentions and the diagnosis they call for. Lines that look
//! like they hold a password are left out before anything is read ([`password`]).

mod catalogue;
mod extract;
mod fold;
mod nearest;
mod password;
mod suggest;

use std::fmt;
use std::ops::Range;

use serde::Serialize;

pub use catalogue::{Catalogue, Confidence, Entry, MIN_LITERAL};
pub use extract::{Extracted, MAX_EACH};
pub use fold::{MAX_GAP, Pattern};
pub use nearest::MAX_NEAREST;
pub use password::looks_like_password;
pub use suggest::{ACCOUNT_PLACEHOLDER, EXCHANGE_SERVER_PLACEHOLDER, command_line, suggest};

use crate::request::DiagnoseRequest;
use crate::sort::sort_by;
use fold::Folded;

/// The largest paste read: a long move report is some tens of KiB.
pub const MAX_PASTE_BYTES: usize = 256 * 1024;
/// The places shown for one entry (a report repeats a failure many times); the rest are counted.
pub const MAX_SPANS_SHOWN: usize = 5;
/// Characters of context shown around a match, on its own lines.
const CONTEXT: usize = 60;
/// The longest excerpt shown for one match.
const MAX_EXCERPT: usize = 400;

/// What a paste says.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The entries recognised, most decisive first: by severity rank, then where they first matched.
    pub matches: Vec<EntryMatch>,
    /// Nothing recognised: the ids of the entries the text comes nearest to (maybe none).
    pub nearest: Vec<String>,
    pub extracted: Extracted,
    /// "Check it now": the mode and names for a diagnosis, never a password. None when the text names
    /// no server, or when every message recognised is no connection problem ([`Self::no_connection_problem`]).
    pub suggested: Option<DiagnoseRequest>,
    /// Every message recognised is throttling or mailbox data: no connectivity check would find
    /// anything, so none is offered.
    pub no_connection_problem: bool,
    /// The 1-based lines left unread because they look like they hold a password.
    pub password_lines: Vec<usize>,
}

/// One catalogue entry and where it matched.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct EntryMatch {
    pub id: String,
    pub severity_rank: u8,
    /// The first [`MAX_SPANS_SHOWN`] places, in order.
    pub spans: Vec<MatchedSpan>,
    /// How many places in all.
    pub count: usize,
}

/// One place a pattern matched.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct MatchedSpan {
    /// 1-based, as an editor numbers lines.
    pub first_line: usize,
    pub last_line: usize,
    /// The text matched with some context from its lines, whitespace folded.
    pub excerpt: String,
}

/// A paste that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasteError {
    TooLarge { bytes: usize },
}

impl fmt::Display for PasteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasteError::TooLarge { bytes } => write!(
                f,
                "the text is {bytes} bytes; at most {MAX_PASTE_BYTES} are read (paste the failing part of the report)"
            ),
        }
    }
}

impl Explanation {
    pub fn recognised(&self) -> bool {
        !self.matches.is_empty()
    }

    /// The verdict in one sentence: the most decisive entry, or "Not recognised".
    pub fn headline(&self, catalogue: &Catalogue) -> String {
        match self.matches.first().and_then(|m| catalogue.entry(&m.id)) {
            Some(lead) => format!(
                "Recognised: {} ({}){}",
                lead.title,
                lead.cause.label(),
                match self.matches.len() {
                    1 => String::new(),
                    2 => ", and 1 more known message".into(),
                    n => format!(", and {} more known messages", n - 1),
                }
            ),
            None => format!(
                "Not recognised: none of the {} known messages is in this text.",
                catalogue.entries.len()
            ),
        }
    }

    /// What "Check it now" says when it offers no diagnosis: why not.
    pub fn no_check_reason(&self) -> Option<&'static str> {
        match (&self.suggested, self.no_connection_problem) {
            (Some(_), _) => None,
            (None, true) => Some(
                "No connectivity check is needed: these messages are no connection problem (throttling or \
                 mailbox data). Follow the fixes above.",
            ),
            (None, false) => Some("The text names no server: choose the kind of migration and give its names."),
        }
    }

    /// The warning for lines that look like they hold a password (their numbers only).
    pub fn password_warning(&self) -> Option<String> {
        let lines: Vec<String> = self.password_lines.iter().map(usize::to_string).collect();
        let (which, verb, they) = match lines.as_slice() {
            [] => return None,
            [one] => (format!("Line {one}"), "seems", "it was"),
            many => (format!("Lines {}", many.join(", ")), "seem", "they were"),
        };
        Some(format!(
            "{which} {verb} to hold a password: {they} not read and {} not shown. migcheck never takes a password \
             from pasted text; if this text was shared, change that password.",
            if they == "it was" { "is" } else { "are" }
        ))
    }
}

/// `line 3` or `lines 3-5`.
pub fn lines_label(span: &MatchedSpan) -> String {
    if span.first_line == span.last_line {
        format!("line {}", span.first_line)
    } else {
        format!("lines {}-{}", span.first_line, span.last_line)
    }
}

/// Reads `text` against `catalogue`.
pub fn explain(catalogue: &Catalogue, text: &str) -> Result<Explanation, PasteError> {
    if text.len() > MAX_PASTE_BYTES {
        return Err(PasteError::TooLarge { bytes: text.len() });
    }
    let (readable, password_lines) = password::without_password_lines(text);
    let folded = Folded::new(&readable);
    let mut ranked: Vec<(u8, usize, std::cmp::Reverse<usize>, usize, EntryMatch)> = Vec::new();
    for (index, entry) in catalogue.entries.iter().enumerate() {
        let mut spans: Vec<Range<usize>> = Vec::new();
        let mut specificity = 0;
        for pattern in entry.patterns.iter().map(|p| Pattern::new(p)) {
            let found = pattern.find_all(&folded.lower);
            if !found.is_empty() {
                specificity = specificity.max(pattern.literal_len());
                spans.extend(found);
            }
        }
        let spans = merged(spans);
        let Some(first) = spans.first() else {
            continue;
        };
        ranked.push((
            entry.severity_rank,
            first.start,
            std::cmp::Reverse(specificity),
            index,
            EntryMatch {
                id: entry.id.clone(),
                severity_rank: entry.severity_rank,
                count: spans.len(),
                spans: spans
                    .iter()
                    .take(MAX_SPANS_SHOWN)
                    .map(|s| shown(&folded, s.clone()))
                    .collect(),
            },
        ));
    }
    sort_by(&mut ranked, |a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)));
    let matches: Vec<EntryMatch> = ranked.into_iter().map(|r| r.4).collect();
    let nearest = if matches.is_empty() {
        nearest::nearest(catalogue, &readable)
            .into_iter()
            .map(|i| catalogue.entries[i].id.clone())
            .collect()
    } else {
        Vec::new()
    };
    let extracted = extract::extract(&folded);
    let no_connection_problem = !matches.is_empty()
        && matches.iter().all(|m| {
            catalogue
                .entry(&m.id)
                .is_some_and(|entry| !entry.cause.is_connection_problem())
        });
    Ok(Explanation {
        suggested: if no_connection_problem {
            None
        } else {
            suggest(&extracted)
        },
        no_connection_problem,
        matches,
        nearest,
        extracted,
        password_lines,
    })
}

/// What may separate two matches of one entry that are still one place (`Exception: The...`): a few
/// characters of punctuation or a short word.
const JOINED: usize = 8;

/// Matches of an entry's several patterns that overlap or touch as one place, in order.
fn merged(mut spans: Vec<Range<usize>>) -> Vec<Range<usize>> {
    sort_by(&mut spans, |a, b| (a.start, a.end).cmp(&(b.start, b.end)));
    let mut out: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end + JOINED => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// A match as shown: its lines and an excerpt with context from those lines.
fn shown(folded: &Folded, span: Range<usize>) -> MatchedSpan {
    let first_line = folded.line.get(span.start).copied().unwrap_or(0);
    let last_line = folded
        .line
        .get(span.end.saturating_sub(1))
        .copied()
        .unwrap_or(first_line);
    let mut start = span.start;
    while start > 0 && span.start - start < CONTEXT && folded.line[start - 1] >= first_line {
        start -= 1;
    }
    let mut end = span.end;
    while end < folded.line.len() && end - span.end < CONTEXT && folded.line[end] <= last_line {
        end += 1;
    }
    let cut_left = start > 0 && folded.line[start - 1] >= first_line;
    let cut_right = end < folded.line.len() && folded.line[end] <= last_line;
    let mut excerpt = folded.plain_text(start..end).trim().to_string();
    if excerpt.chars().count() > MAX_EXCERPT {
        excerpt = excerpt.chars().take(MAX_EXCERPT).collect::<String>() + "…";
    } else if cut_right {
        excerpt.push('…');
    }
    if cut_left {
        excerpt.insert(0, '…');
    }
    MatchedSpan {
        first_line: first_line as usize + 1,
        last_line: last_line as usize + 1,
        excerpt,
    }
}

#[cfg(test)]
mod tests;
