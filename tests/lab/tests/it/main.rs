//! The lab's own tests: each of its servers proven real with clients that are not ours, and its
//! lifetime. One module a part of the lab.
//!
//! One test binary, not one per file: the tests run as threads of this one process and share one lab
//! ([`migcheck_lab::Lab::shared`], started on first use); a test that needs its own starts it
//! ([`migcheck_lab::Lab::start`], or the `migcheck-lab` binary).
//!
//! Every test that needs the lab (nginx, dnsmasq, Apache, the Python peers, root) is `#[ignore]`d, so
//! that a plain `cargo test` passes without it; `cargo xtask test` runs them all.

mod common;

mod autodiscover;
mod exchange;
mod extended_protection;
mod lab;
mod latency;
mod lifetime;
mod outlook_anywhere;
mod soap_autodiscover;
mod tls_front;
