//! The probes: each takes typed inputs and returns typed facts (what a server answered), knowing
//! nothing of routes, the UI or the KB's verdicts; `diagnose` judges them.

pub mod autodiscover;
pub mod certificate;
pub mod ews;
pub mod logon;
pub mod mapi;
pub mod mrs;
pub mod owa;
pub mod rpch;
pub mod version;
