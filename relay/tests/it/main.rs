//! The relay's integration tests, as a user or a client meets it: one module an area.
//!
//! One test binary, not one per file: each binary links the whole relay, and the links were most of
//! the time of building the tests. The tests run as threads of this one process: those that need the
//! lab share one ([`migcheck_lab::Lab::shared`], started on first use), and none may set an environment
//! variable of this process (a child's own environment is fine). Two files keep a binary of their own
//! because they load the whole machine: `load.rs` (200 diagnoses at once) and `browser.rs` (Chromium);
//! cargo runs them after this one, alone, as before.
//!
//! The tests that need the lab (nginx, dnsmasq, Apache, Chromium, the Python peers, root) are
//! `#[ignore]`d, so that a plain `cargo test` passes without it; `cargo xtask test` runs them all.

mod common;

mod api;
mod autodiscover;
mod certificates;
mod cli;
mod compare;
mod deadlines;
mod demo;
mod deploy;
mod exchange;
mod explain;
mod extended_protection;
mod hostile;
mod hosting;
mod http;
mod hybrid;
mod hybrid_agent;
mod instances;
mod outlook_anywhere;
mod page;
mod secrets;
mod serving;
mod soap_autodiscover;
mod windows_tls;
