//! Lines of a paste that look like they hold a password. migcheck never takes a password from pasted
//! text: such a line is left out before anything is read, so nothing of it can be echoed (not in a
//! match, an extracted name, the JSON or an error); the user is told its number only.

/// What gives a password away in a PowerShell transcript or a config line: a `-Password` parameter,
/// `password=` / `password:` (`pwd`, `passwd` too), or a secure string made from plain text.
const TELLS: &[&str] = &[
    "-password",
    "-asplaintext",
    "password=",
    "password:",
    "passwd=",
    "passwd:",
    "pwd=",
    "pwd:",
];

/// Whether `line` looks like it holds a password (whitespace before `=` or `:` ignored, any case).
pub fn looks_like_password(line: &str) -> bool {
    let squeezed: String = line
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    TELLS.iter().any(|tell| squeezed.contains(tell))
}

/// The paste with every password-looking line emptied (its line break kept, so line numbers hold), and
/// the 1-based numbers of those lines.
pub fn without_password_lines(text: &str) -> (String, Vec<usize>) {
    let mut kept = String::with_capacity(text.len());
    let mut hidden = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            kept.push('\n');
        }
        if looks_like_password(line) {
            hidden.push(i + 1);
        } else {
            kept.push_str(line);
        }
    }
    (kept, hidden)
}
