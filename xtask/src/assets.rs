//! The page's files as the relay serves them (run by `dist` on the folder wasm-bindgen wrote into):
//!
//! - content-hashed names for everything but `index.html` (`style.<hash>.css`, `boot.<hash>.js`,
//!   `migcheck_frontend.<hash>.js`, `migcheck_frontend_bg.<hash>.wasm`), so the relay can tell browsers
//!   to keep them for a year: a new build is a new name;
//! - `boot.js` and `index.html` rewritten to name them (every name they must carry is checked, so a
//!   renamed file fails the build instead of a page that 404s);
//! - each file precompressed beside itself, `NAME.br` (brotli q11) and `NAME.gz` (gzip -9), made here once
//!   so the relay never compresses at run time; a variant no smaller than the file is not written.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use sha2::Digest as _;

use crate::Result;

/// Hex digits of the SHA-256 kept in a name: 64 bits, plenty to tell builds apart.
pub const HASH_HEX: usize = 16;

/// A file of the page under its plain name and the content-hashed name it is served under.
pub struct Renamed {
    pub plain: String,
    pub hashed: String,
}

/// Hashes, rewrites and precompresses the page in `dir` (flat; holds `index.html`, `boot.js`,
/// `style.css`, `{stem}.js`, `{stem}_bg.wasm`). Returns the wasm's and the JS module's names.
pub fn finish(dir: &Path, stem: &str) -> Result<[Renamed; 2]> {
    let wasm = rename_hashed(dir, &format!("{stem}_bg.wasm"))?;
    let glue = rename_hashed(dir, &format!("{stem}.js"))?;
    let style = rename_hashed(dir, "style.css")?;
    // boot.js names the module and the wasm, so it is rewritten before its own hash is taken.
    rewrite(dir, "boot.js", &[&glue, &wasm])?;
    let boot = rename_hashed(dir, "boot.js")?;
    // index.html: the stylesheet, the boot script and the preload hints for the module and the wasm.
    rewrite(dir, "index.html", &[&style, &boot, &glue, &wasm])?;
    for entry in fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .flatten()
    {
        precompress(&entry.path())?;
    }
    Ok([wasm, glue])
}

/// `name.<first 16 hex digits of its SHA-256>.ext`.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let hash = &hex[..HASH_HEX];
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

fn rename_hashed(dir: &Path, plain: &str) -> Result<Renamed> {
    let from = dir.join(plain);
    let bytes = fs::read(&from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    let hashed = hashed_name(plain, &bytes);
    fs::rename(&from, dir.join(&hashed)).map_err(|e| format!("cannot rename {}: {e}", from.display()))?;
    Ok(Renamed {
        plain: plain.to_string(),
        hashed,
    })
}

/// Replaces each `"/plain"` in `dir/file` with `"/hashed"`; every name must be there.
fn rewrite(dir: &Path, file: &str, names: &[&Renamed]) -> Result {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = replace_names(&text, names).map_err(|missing| format!("{file} does not name \"/{missing}\""))?;
    fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `text` with each quoted `"/plain"` turned into `"/hashed"`, or the first plain name it lacks.
fn replace_names(text: &str, names: &[&Renamed]) -> std::result::Result<String, String> {
    let mut text = text.to_string();
    for name in names {
        let plain = format!("\"/{}\"", name.plain);
        if !text.contains(&plain) {
            return Err(name.plain.clone());
        }
        text = text.replace(&plain, &format!("\"/{}\"", name.hashed));
    }
    Ok(text)
}

/// Writes `path.br` and `path.gz` beside `path`, each only if smaller than the file.
fn precompress(path: &Path) -> Result {
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    for (ext, packed) in [("br", brotli(&bytes)?), ("gz", gzip(&bytes)?)] {
        if packed.len() < bytes.len() {
            let mut name = path.as_os_str().to_owned();
            name.push(format!(".{ext}"));
            fs::write(&name, packed).map_err(|e| format!("cannot write {}: {e}", Path::new(&name).display()))?;
        }
    }
    Ok(())
}

/// gzip -9 (no file name, modification time 0: the same input gives the same bytes).
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).map_err(|e| e.to_string())?;
    encoder.finish().map_err(|e| e.to_string())
}

/// Brotli quality 11, a 4 MiB window (what every browser decodes).
fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{Renamed, hashed_name, replace_names};

    #[test]
    fn names_carry_the_content_hash_before_the_extension() {
        let a = hashed_name("migcheck_frontend_bg.wasm", b"one");
        let b = hashed_name("migcheck_frontend_bg.wasm", b"two");
        assert_ne!(a, b, "different bytes, same name");
        assert_eq!(a, hashed_name("migcheck_frontend_bg.wasm", b"one"));
        let parts: Vec<&str> = a.split('.').collect();
        assert_eq!(parts.len(), 3, "{a}");
        assert_eq!((parts[0], parts[2]), ("migcheck_frontend_bg", "wasm"));
        assert!(
            parts[1].len() == 16 && parts[1].chars().all(|c| c.is_ascii_hexdigit()),
            "{a}"
        );
    }

    #[test]
    fn every_reference_is_rewritten_and_a_missing_one_is_an_error() {
        let glue = Renamed {
            plain: "m.js".into(),
            hashed: "m.0123456789abcdef.js".into(),
        };
        let html = r#"<link rel="modulepreload" href="/m.js"><script src="/m.js"></script>"#;
        let out = replace_names(html, &[&glue]).expect("named");
        assert!(
            !out.contains("\"/m.js\"") && out.matches("/m.0123456789abcdef.js").count() == 2,
            "{out}"
        );
        assert_eq!(replace_names("<p>", &[&glue]), Err("m.js".into()));
    }
}
