//! What the page (or `migcheck check`) asks the relay to do.

use serde::{Deserialize, Serialize};

use crate::input::{self, HostPort, InputError};
use crate::secret::Password;

/// One diagnosis to run. The `mode` tag picks which of the KB's checks apply.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum DiagnoseRequest {
    /// The checks that need only a server name: the certificate and TLS checks of KB step 2.
    Host(HostTarget),
    /// KB step 3, as `Test-MigrationServerAvailability -Autodiscover -EmailAddress -Credentials`:
    /// Autodiscover for an address, then the certificate of the Outlook Anywhere host it returns.
    Autodiscover(AutodiscoverTarget),
}

/// The fields of the `autodiscover` mode.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AutodiscoverTarget {
    /// The e-mail address of a mailbox to migrate.
    pub email: String,
    /// The migration account: user@domain, DOMAIN\user, or empty for the e-mail address.
    #[serde(default)]
    pub user: String,
    /// Left out of a report's copy of the inputs.
    #[serde(default, skip_serializing_if = "Password::is_empty")]
    pub password: Password,
    /// The user agreed that the password may go to hosts outside the e-mail address's domain.
    #[serde(default)]
    pub allow_credential_redirect: bool,
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
    pub const MODES: &'static [&'static str] = &["host", "autodiscover"];

    /// A copy without the password, for reports and logs.
    pub fn redacted(&self) -> Self {
        match self {
            DiagnoseRequest::Autodiscover(t) => DiagnoseRequest::Autodiscover(AutodiscoverTarget {
                password: Password::default(),
                ..t.clone()
            }),
            other => other.clone(),
        }
    }
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
            DiagnoseRequest::Autodiscover(t) => {
                let email = input::parse_email("email", &t.email)?;
                let user = match t.user.trim() {
                    "" => email.address.clone(),
                    u => input::parse_user("user", u)?,
                };
                if t.password.is_empty() {
                    return Err(InputError::new(
                        "password",
                        "enter the password of the migration account",
                    ));
                }
                Ok(ValidRequest::Autodiscover(ValidAutodiscover {
                    email,
                    user,
                    password: t.password.clone(),
                    allow_credential_redirect: t.allow_credential_redirect,
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
    Autodiscover(ValidAutodiscover),
}

/// Autodiscover mode, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidAutodiscover {
    pub email: input::Email,
    /// As typed (user@domain or DOMAIN\user), or the e-mail address.
    pub user: String,
    pub password: Password,
    pub allow_credential_redirect: bool,
}

/// What the relay says about itself on `GET /api/v1/info`, so the page can show it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RelayInfo {
    /// The relay's version (the crate version).
    pub version: String,
    /// The egress policy in words: which addresses this relay may reach.
    pub egress: String,
}
