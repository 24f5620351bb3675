//! The pasted text as the matcher reads it, and the patterns: literal parts and `*`, no regex.
//!
//! Both the paste and a pattern are folded the same way: every run of whitespace (line breaks included:
//! PowerShell's Format-List wraps long messages) becomes one space, and ASCII letters are lower-cased,
//! one character for one character, so positions in the folded text map back to lines and to the
//! original letters.

use std::ops::Range;

/// What a `*` may stand for at most, in folded characters: enough for a URL with a server's name and
/// build after it, not enough to join two unrelated messages of a long report.
pub const MAX_GAP: usize = 300;

/// The paste, folded.
pub struct Folded {
    /// Lower-cased, whitespace runs as one space.
    pub lower: Vec<char>,
    /// The same characters in their original case (whitespace runs still as one space).
    pub plain: Vec<char>,
    /// The 0-based line of each character.
    pub line: Vec<u32>,
}

impl Folded {
    pub fn new(text: &str) -> Folded {
        let mut folded = Folded {
            lower: Vec::with_capacity(text.len()),
            plain: Vec::with_capacity(text.len()),
            line: Vec::with_capacity(text.len()),
        };
        let mut line = 0u32;
        let mut in_space = false;
        for c in text.chars() {
            if c.is_whitespace() {
                if !in_space {
                    folded.push(' ', line);
                    in_space = true;
                }
            } else {
                folded.push(c, line);
                in_space = false;
            }
            if c == '\n' {
                line = line.saturating_add(1);
            }
        }
        folded
    }

    fn push(&mut self, c: char, line: u32) {
        // ASCII case only: the catalogue's patterns are ASCII (its own check refuses others), and
        // Unicode's case tables would cost the page kilobytes for nothing.
        self.lower.push(c.to_ascii_lowercase());
        self.plain.push(c);
        self.line.push(line);
    }

    /// The original-case text of `range` (whitespace folded).
    pub fn plain_text(&self, range: Range<usize>) -> String {
        self.plain.get(range).map(|s| s.iter().collect()).unwrap_or_default()
    }
}

/// A pattern: its literal parts in order, each folded like the paste.
#[derive(Clone, Debug)]
pub struct Pattern {
    parts: Vec<Vec<char>>,
}

impl Pattern {
    pub fn new(pattern: &str) -> Pattern {
        let folded = Folded::new(pattern);
        let parts = folded
            .lower
            .split(|&c| c == '*')
            .filter(|p| !p.is_empty())
            .map(<[char]>::to_vec)
            .collect();
        Pattern { parts }
    }

    /// How many literal characters a match needs: the more, the more specific the pattern.
    pub fn literal_len(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }

    /// No `*` between two literal parts.
    pub fn is_literal(&self) -> bool {
        self.parts.len() == 1
    }

    /// One of this pattern's parts holds all of `other`'s (single) part: wherever this pattern
    /// matches, `other` does too.
    pub fn contains_literal(&self, other: &Pattern) -> bool {
        other.parts.first().is_some_and(|needle| {
            self.parts
                .iter()
                .any(|part| part.windows(needle.len()).any(|w| w == needle.as_slice()))
        })
    }

    /// Every match in `text`, left to right, none overlapping: for each place where the first part
    /// occurs, the earliest occurrence of each next part after it, within [`MAX_GAP`] of the part
    /// before. Linear in the text: each part's occurrences are found once (Knuth-Morris-Pratt) and
    /// walked with one cursor each.
    pub fn find_all(&self, text: &[char]) -> Vec<Range<usize>> {
        let mut found = Vec::new();
        let Some(first) = self.parts.first() else {
            return found;
        };
        let starts = occurrences(first, text);
        if starts.is_empty() {
            return found;
        }
        let mut rest: Vec<Vec<usize>> = Vec::with_capacity(self.parts.len() - 1);
        for part in &self.parts[1..] {
            let at = occurrences(part, text);
            if at.is_empty() {
                return found;
            }
            rest.push(at);
        }
        let mut cursors = vec![0usize; rest.len()];
        let mut not_before = 0;
        'starts: for &start in &starts {
            if start < not_before {
                continue;
            }
            let mut end = start + first.len();
            for (j, at) in rest.iter().enumerate() {
                while at.get(cursors[j]).is_some_and(|&p| p < end) {
                    cursors[j] += 1;
                }
                match at.get(cursors[j]) {
                    Some(&p) if p - end <= MAX_GAP => end = p + self.parts[j + 1].len(),
                    Some(_) => continue 'starts,
                    // No occurrence left after this start: none after a later one either.
                    None => break 'starts,
                }
            }
            found.push(start..end);
            not_before = end;
        }
        found
    }
}

/// Where `needle` starts in `text`, overlapping occurrences included (Knuth-Morris-Pratt).
fn occurrences(needle: &[char], text: &[char]) -> Vec<usize> {
    let mut out = Vec::new();
    if needle.is_empty() || needle.len() > text.len() {
        return out;
    }
    // fail[i]: the length of the longest proper prefix of needle[..=i] that is also its suffix.
    let mut fail = vec![0usize; needle.len()];
    let mut k = 0;
    for i in 1..needle.len() {
        while k > 0 && needle[i] != needle[k] {
            k = fail[k - 1];
        }
        if needle[i] == needle[k] {
            k += 1;
        }
        fail[i] = k;
    }
    let mut k = 0;
    for (i, &c) in text.iter().enumerate() {
        while k > 0 && c != needle[k] {
            k = fail[k - 1];
        }
        if c == needle[k] {
            k += 1;
        }
        if k == needle.len() {
            out.push(i + 1 - k);
            k = fail[k - 1];
        }
    }
    out
}
