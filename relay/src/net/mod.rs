//! Everything that touches the network: DNS, TCP and TLS, each step bounded in time, every connection
//! vetted by the egress policy on the exact address connected.

mod dns;
mod error;
mod fallback;
pub mod http;
mod legacy;
pub mod ntlm;
mod stream;
mod tcp;
mod tls;

use std::sync::Arc;
use std::time::Duration;

pub use dns::{ConnectTo, Dns, ResolveOverride, SrvRecord};
pub use error::NetError;
pub use fallback::{Negotiated, SecondTry, TlsRoutes};
pub use legacy::LegacyAnswer;
pub use stream::{TlsClient, TlsStream};
pub use tcp::Connected;
pub use tls::{Inspection, RootSource, TrustStore};

use migcheck_shared::kb::Vantage;
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore};

use crate::policy::EgressPolicy;

/// The relay's network settings, fixed when it starts; a request can never widen them.
#[derive(Clone)]
pub struct Net {
    pub dns: Arc<Dns>,
    pub egress: EgressPolicy,
    /// Where the relay looks from, as the egress policy says ([`EgressPolicy::vantage`]); a test whose
    /// lab stands for the internet sets [`Vantage::Internet`] with [`Net::seen_from`].
    pub vantage: Vantage,
    pub trust: Arc<TrustStore>,
    /// The limit for each network step (DNS, TCP connect, TLS handshake).
    pub timeout: Duration,
    /// TLS sessions to resume, kept for one diagnosis only (see [`Net::for_one_diagnosis`]): a shared
    /// store would let one user learn from timing which hosts another user's diagnosis reached.
    pub sessions: Arc<dyn ClientSessionStore>,
    /// The hosts that needed the second TLS client (OpenSSL) in this diagnosis: later connections to
    /// them go to it straight away.
    pub tls_routes: Arc<TlsRoutes>,
}

/// Sessions one diagnosis may hold: a few hosts, each reached on a handful of connections.
const SESSIONS_PER_DIAGNOSIS: usize = 32;

impl Net {
    pub fn new(dns: Arc<Dns>, egress: EgressPolicy, trust: Arc<TrustStore>, timeout: Duration) -> Self {
        Net {
            dns,
            vantage: egress.vantage(),
            egress,
            trust,
            timeout,
            sessions: Arc::new(ClientSessionMemoryCache::new(SESSIONS_PER_DIAGNOSIS)),
            tls_routes: Arc::new(TlsRoutes::default()),
        }
    }

    /// The same settings with an empty TLS session store and no remembered TLS routes, for one diagnosis.
    pub fn for_one_diagnosis(&self) -> Self {
        Net::new(self.dns.clone(), self.egress.clone(), self.trust.clone(), self.timeout).seen_from(self.vantage)
    }

    /// The same settings for one server behind `host:port` ([`Dns::through`]), with its own TLS
    /// sessions: nothing learnt from one server is reused on another.
    pub fn through(&self, host: &str, port: u16, server: &str) -> Self {
        Net::new(
            Arc::new(self.dns.through(host, port, server)),
            self.egress.clone(),
            self.trust.clone(),
            self.timeout,
        )
        .seen_from(self.vantage)
    }

    /// The same settings, judged as seen from `vantage`.
    pub fn seen_from(mut self, vantage: Vantage) -> Self {
        self.vantage = vantage;
        self
    }
}
