// The page is embedded from ../dist (built by `cargo xtask dist`); rebuild when it changes, including
// when it appears after a first build without it.
fn main() {
    println!("cargo:rerun-if-changed=../dist");
}
