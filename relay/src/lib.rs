//! migcheck's relay: the probes a browser cannot make, the HTTP API that streams them to the page,
//! and the command line.

pub mod api;
mod assets;
pub mod cli;
pub mod compare;
pub mod diagnose;
pub mod explain;
mod health;
pub mod limits;
pub mod net;
pub mod platform;
pub mod policy;
pub mod probe;
pub mod rate_store;
pub mod render;
pub mod serve_tls;
pub mod serving;
pub mod telemetry;
mod upstream;
