//! Replays every committed corpus file through its target, on stable Rust and without libFuzzer, so
//! the test suite exercises the corpus that the fuzz runs grew: `cargo test --manifest-path fuzz/Cargo.toml`.

use std::fs;
use std::path::Path;

use migcheck_fuzz::TARGETS;

#[test]
fn every_corpus_file_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    for (name, target) in TARGETS {
        let dir = root.join("corpus").join(name);
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut count = 0;
        for entry in entries {
            let path = entry.expect("a corpus entry").path();
            let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // A panic names the file, so it can be replayed: cargo fuzz run <target> <file>.
            eprintln!("{name}: {}", path.display());
            target(&data);
            count += 1;
        }
        assert!(count > 0, "{} is empty", dir.display());
        total += count;
    }
    println!("replayed {total} corpus files through {} targets", TARGETS.len());
}

#[test]
fn every_fuzz_target_is_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz_targets");
    let mut files: Vec<String> = fs::read_dir(&dir)
        .expect("fuzz_targets/")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    files.sort();
    let listed: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(files, listed, "fuzz_targets/*.rs and migcheck_fuzz::TARGETS");
}
