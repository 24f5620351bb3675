//! Everything that touches the network: DNS, TCP and TLS, each step bounded in time, every connection
//! vetted by the egress policy on the exact address connected.

mod dns;
mod error;
pub mod http;
mod legacy;
pub mod ntlm;
mod tcp;
mod tls;

use std::sync::Arc;
use std::time::Duration;

pub use dns::{ConnectTo, Dns, ResolveOverride, SrvRecord};
pub use error::NetError;
pub use legacy::LegacyAnswer;
pub use tcp::Connected;
pub use tls::{Inspection, TrustStore};

use crate::policy::EgressPolicy;

/// The relay's network settings, fixed when it starts; a request can never widen them.
#[derive(Clone)]
pub struct Net {
    pub dns: Arc<Dns>,
    pub egress: EgressPolicy,
    pub trust: Arc<TrustStore>,
    /// The limit for each network step (DNS, TCP connect, TLS handshake).
    pub timeout: Duration,
}
