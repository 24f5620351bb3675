//! The wire contract between the migcheck page and the relay.
//!
//! Everything here is plain data with serde: it builds for wasm32 and native and does no I/O, so the
//! page and the relay can never disagree on a field name.

pub mod commands;
pub mod event;
pub mod field;
pub mod input;
pub mod kb;
pub mod report;
pub mod request;
pub mod secret;
pub mod sort;
mod wire;

pub use event::Event;
pub use field::Field;
pub use input::{Email, HostPort, InputError};
pub use kb::{Cause, KbStep, Problem};
pub use report::{
    CertificateInfo, Check, CompareOutcome, ComparedCheck, Comparison, Difference, Evidence, Fact, Finding, Phase,
    PhaseTiming, Report, Seen, Status, Verdict,
};
pub use request::{
    AuthMethod, AutodiscoverTarget, Demo, DiagnoseRequest, HostTarget, OutlookAnywhereTarget, RelayInfo,
    RemoteMoveTarget,
};
pub use secret::Password;

/// Bumped when a field of the report changes meaning or disappears (adding a field does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

/// The diagnose endpoint: `POST` a [`DiagnoseRequest`], read NDJSON [`Event`]s.
pub const DIAGNOSE_PATH: &str = "/api/v1/diagnose";
/// The catalogue of known error messages for `explain`: `GET` a [`kb::explain::Catalogue`] (the page
/// fetches it when its paste box opens: one wasm module cannot load more code later, it can load data).
pub const CATALOGUE_PATH: &str = "/api/v1/catalogue";
/// The relay's self-description: `GET` a [`RelayInfo`].
pub const INFO_PATH: &str = "/api/v1/info";
