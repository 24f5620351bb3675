//! What the page (or `migcheck check`) asks the relay to do.

use serde::{Deserialize, Serialize};

use crate::input::{self, HostPort, InputError};

/// One diagnosis to run. The `mode` tag picks which of the KB's checks apply.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum DiagnoseRequest {
    /// The checks that need only a server name: the certificate and TLS checks of KB step 2.
    Host(HostTarget),
}

/// The fields of the `host` mode.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HostTarget {
    /// The Outlook Anywhere host name as typed (a pasted URL is understood).
    pub host: String,
    /// TCP port; when absent, the port of a pasted `https://` URL, else 443.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl DiagnoseRequest {
    /// The modes, as the `mode` field spells them.
    pub const MODES: &'static [&'static str] = &["host"];
}

impl DiagnoseRequest {
    /// Checks every field the way the relay will, so the page can show the same message as the user types.
    pub fn validate(&self) -> Result<ValidRequest, InputError> {
        match self {
            DiagnoseRequest::Host(HostTarget { host, port }) => {
                let target = input::parse_host("host", host)?;
                let port = match port {
                    Some(0) => return Err(InputError::new("port", "must be between 1 and 65535")),
                    Some(p) => *p,
                    None => target.port.unwrap_or(443),
                };
                Ok(ValidRequest::Host(HostPort {
                    host: target.host,
                    port: Some(port),
                }))
            }
        }
    }
}

/// A request whose fields passed [`DiagnoseRequest::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidRequest {
    /// Host mode with the host normalised and the port decided.
    Host(HostPort),
}

/// What the relay says about itself on `GET /api/v1/info`, so the page can show it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RelayInfo {
    /// The relay's version (the crate version).
    pub version: String,
    /// The egress policy in words: which addresses this relay may reach.
    pub egress: String,
}
