//! The reopen link: the form's fields (never the password) in the page URL's fragment, and back.

use migcheck_shared::{AuthMethod, Field};

use super::{Form, Mode};

/// The longest value the reopen link may set in a field (longer is cut).
pub(super) const FRAGMENT_VALUE_MAX: usize = 320;

/// The fields of the reopen link in `mode`, besides `mode` itself: never the password.
fn fragment_fields(mode: Mode) -> &'static [Field] {
    match mode {
        Mode::Autodiscover => &[
            Field::Email,
            Field::User,
            Field::TargetMailbox,
            Field::AllowCredentialRedirect,
        ],
        Mode::Host => &[Field::Host, Field::Port],
        Mode::OutlookAnywhere => &[
            Field::RpcProxy,
            Field::ExchangeServer,
            Field::Auth,
            Field::User,
            Field::TargetMailbox,
        ],
        Mode::RemoteMove => &[
            Field::RemoteServer,
            Field::Servers,
            Field::AgentTarget,
            Field::User,
            Field::TargetMailbox,
        ],
    }
}

/// The key of `field` in the reopen link: its wire name, but for the credential-redirect box, whose key
/// links already made keep (`allow_redirect`).
fn key(field: Field) -> &'static str {
    match field {
        Field::AllowCredentialRedirect => "allow_redirect",
        other => other.name(),
    }
}

/// Percent-encodes all but the unreserved characters (as `encodeURIComponent`, and `'` too).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Undoes [`encode`] (and `+` for a space, as a form would write it); a broken escape stays as it is.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Form {
    /// The inputs as a URL fragment that reopens the wizard with them (`mode=host&host=...`): the fields of
    /// the mode that are filled in, URL-encoded, and never the password.
    pub fn fragment(&self) -> String {
        let mut pairs = vec![(key(Field::Mode), self.mode.name().to_string())];
        for field in fragment_fields(self.mode) {
            let value = match field {
                Field::Auth => self.auth_name().to_string(),
                Field::AllowCredentialRedirect if self.allow_redirect => "1".into(),
                field => self.text(*field).map(|v| v.trim().to_string()).unwrap_or_default(),
            };
            if !value.is_empty() {
                pairs.push((key(*field), value));
            }
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn auth_name(&self) -> &'static str {
        match self.auth {
            AuthMethod::Basic => "basic",
            AuthMethod::Ntlm => "ntlm",
        }
    }

    /// The text typed in `field`; the password is not one.
    fn text(&self, field: Field) -> Option<&String> {
        Some(match field {
            Field::Host => &self.host,
            Field::Port => &self.port,
            Field::Email => &self.email,
            Field::RpcProxy => &self.rpc_proxy,
            Field::ExchangeServer => &self.exchange_server,
            Field::RemoteServer => &self.remote_server,
            Field::User => &self.user,
            Field::TargetMailbox => &self.target_mailbox,
            Field::Servers => &self.servers,
            Field::AgentTarget => &self.agent_target,
            _ => return None,
        })
    }

    /// Fills the fields from a fragment made by [`Form::fragment`]: unknown keys, keys of another mode and
    /// the password are ignored, values are cut at [`FRAGMENT_VALUE_MAX`] characters. Without a known
    /// mode nothing changes and it answers false.
    pub(super) fn reopen(&mut self, fragment: &str) -> bool {
        let pairs: Vec<(String, String)> = fragment
            .trim_start_matches('#')
            .split('&')
            .take(32)
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v).chars().take(FRAGMENT_VALUE_MAX).collect()))
            .collect();
        let Some(mode) = pairs
            .iter()
            .find(|(k, _)| k == key(Field::Mode))
            .and_then(|(_, v)| Mode::ALL.into_iter().find(|m| m.name() == v))
        else {
            return false;
        };
        self.set_mode(mode);
        for (name, value) in &pairs {
            let Some(field) = fragment_fields(mode).iter().copied().find(|f| key(*f) == name) else {
                continue;
            };
            match field {
                Field::Auth => {
                    self.auth = if value == "ntlm" {
                        AuthMethod::Ntlm
                    } else {
                        AuthMethod::Basic
                    }
                }
                Field::AllowCredentialRedirect => self.allow_redirect = value == "1",
                _ => {
                    if let Some(text) = self.text_mut(field) {
                        text.clone_from(value);
                        self.touch(field);
                    }
                }
            }
        }
        true
    }

    fn text_mut(&mut self, field: Field) -> Option<&mut String> {
        Some(match field {
            Field::Host => &mut self.host,
            Field::Port => &mut self.port,
            Field::Email => &mut self.email,
            Field::RpcProxy => &mut self.rpc_proxy,
            Field::ExchangeServer => &mut self.exchange_server,
            Field::RemoteServer => &mut self.remote_server,
            Field::User => &mut self.user,
            Field::TargetMailbox => &mut self.target_mailbox,
            Field::Servers => &mut self.servers,
            Field::AgentTarget => &mut self.agent_target,
            _ => return None,
        })
    }
}
