//! For a paste nothing matched: the entries it comes nearest to, by the distinctive words it shares
//! with their patterns. Deterministic: the most words shared first, then the catalogue's order.

use super::catalogue::Catalogue;
use crate::sort::sort_by;

/// At most this many nearest entries.
pub const MAX_NEAREST: usize = 3;
/// An entry is near when the paste holds at least this many of its distinctive words.
const MIN_SHARED: usize = 2;

/// Words too common in error text to say anything.
const COMMON: &[&str] = &[
    "error",
    "server",
    "remote",
    "could",
    "failed",
    "exchange",
    "there",
    "which",
    "their",
    "about",
    "after",
    "other",
    "while",
    "connection",
    "request",
    "details",
    "message",
    "microsoft",
];

/// The lower-case words of at least five letters in `text`, sorted, each once (a sorted `Vec`, not a
/// `BTreeSet`: the page has no other `BTreeSet` of strings, and its code cost the page 1.5 KB, brotli).
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 5)
        .map(str::to_ascii_lowercase)
        .filter(|w| !COMMON.contains(&w.as_str()))
        .collect();
    sort_by(&mut words, Ord::cmp);
    words.dedup();
    words
}

/// The indices of the entries nearest to `text`.
pub fn nearest(catalogue: &Catalogue, text: &str) -> Vec<usize> {
    let pasted = words(text);
    let mut scored: Vec<(usize, usize)> = catalogue
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let shared = words(&e.patterns.join(" "))
                .iter()
                .filter(|w| pasted.binary_search(w).is_ok())
                .count();
            (shared >= MIN_SHARED).then_some((shared, i))
        })
        .collect();
    sort_by(&mut scored, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(MAX_NEAREST).map(|(_, i)| i).collect()
}
