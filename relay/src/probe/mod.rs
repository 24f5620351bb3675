//! The probes: each takes typed inputs and returns typed facts (what a server answered), knowing
//! nothing of routes, the UI or the KB's verdicts; `diagnose` judges them.

pub mod auth;
pub mod autodiscover;
pub mod certificate;
mod error;
pub mod ews;
pub mod front;
pub mod mapi;
pub mod mrs;
pub mod owa;
pub mod rpch;
pub mod version;

pub use auth::Credentials;
pub use error::ProbeError;
