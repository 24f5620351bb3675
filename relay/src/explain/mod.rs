//! `migcheck explain FILE|-`: a pasted migration error read offline (nothing goes over the network) and
//! turned into a diagnosis, with the same catalogue and matcher as the page.

mod catalogue;
mod render;

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use migcheck_shared::kb::explain::{MAX_PASTE_BYTES, explain};

pub use catalogue::{catalogue, catalogue_json};

/// Reads the text, explains it, prints it: 0 when something was recognised, 1 when nothing was, 2 for
/// input that cannot be read (missing, too large, not text) or a broken catalogue.
pub fn run(file: &Path, json: bool) -> ExitCode {
    let text = match read_input(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("migcheck: explain: {e}");
            return ExitCode::from(2);
        }
    };
    let catalogue = match catalogue() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("migcheck: explain: {e}");
            return ExitCode::from(2);
        }
    };
    let explanation = match explain(catalogue, &text) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("migcheck: explain: {e}");
            return ExitCode::from(2);
        }
    };
    let out = if json {
        match serde_json::to_string_pretty(&render::json(catalogue, &explanation)) {
            Ok(t) => t + "\n",
            Err(e) => {
                eprintln!("migcheck: explain: cannot print the result: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        render::text(catalogue, &explanation)
    };
    if let Err(e) = crate::cli::write_stdout(&out)
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("migcheck: explain: cannot print the result: {e}");
        return ExitCode::from(2);
    }
    if explanation.recognised() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The file's text, or stdin's for `-`: at most [`MAX_PASTE_BYTES`], UTF-8 or (what Windows
/// PowerShell's `>` writes) UTF-16 with its byte-order mark. Messages never quote the content.
fn read_input(file: &Path) -> Result<String, String> {
    let (name, mut bytes) = if file == Path::new("-") {
        ("standard input".to_string(), Vec::new())
    } else {
        (file.display().to_string(), Vec::new())
    };
    // One byte more than the limit tells a text at the limit from a longer one; UTF-16 takes twice the bytes.
    let limit = (2 * MAX_PASTE_BYTES + 2) as u64;
    let read = if file == Path::new("-") {
        std::io::stdin().lock().take(limit + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("cannot read {name}: {e}"))?;
    let text = decode(&bytes).ok_or_else(|| {
        format!("{name} is not text (UTF-8, or UTF-16 with a byte-order mark); save the error message as text")
    })?;
    if text.len() > MAX_PASTE_BYTES || bytes.len() as u64 > limit {
        return Err(format!(
            "{name} is larger than {MAX_PASTE_BYTES} bytes of text; give the part of the report with the failure"
        ));
    }
    Ok(text)
}

fn decode(bytes: &[u8]) -> Option<String> {
    let utf16 = |big_endian: bool, body: &[u8]| {
        if !body.len().is_multiple_of(2) {
            return None;
        }
        let units = body.chunks_exact(2).map(|p| {
            if big_endian {
                u16::from_be_bytes([p[0], p[1]])
            } else {
                u16::from_le_bytes([p[0], p[1]])
            }
        });
        char::decode_utf16(units).collect::<Result<String, _>>().ok()
    };
    match bytes {
        [0xFF, 0xFE, body @ ..] => utf16(false, body),
        [0xFE, 0xFF, body @ ..] => utf16(true, body),
        [0xEF, 0xBB, 0xBF, body @ ..] => String::from_utf8(body.to_vec()).ok(),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn utf8_and_windows_utf16_are_read_other_bytes_are_not() {
        assert_eq!(decode(b"RPC Error: 6ba").as_deref(), Some("RPC Error: 6ba"));
        assert_eq!(decode(b"\xEF\xBB\xBFok").as_deref(), Some("ok"));
        assert_eq!(decode(b"\xFF\xFEo\0k\0").as_deref(), Some("ok"));
        assert_eq!(decode(b"\xFE\xFF\0o\0k").as_deref(), Some("ok"));
        assert_eq!(decode(b"\xFF\xFEo"), None);
        assert_eq!(decode(b"caf\xE9"), None);
    }
}
