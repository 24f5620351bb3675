//! The reopen link: the form's fields (never the password) in the page URL's fragment, and back.

use migcheck_shared::AuthMethod;

use super::{Mode, State, Step};

/// The longest value the reopen link may set in a field (longer is cut).
pub(super) const FRAGMENT_VALUE_MAX: usize = 320;

/// The keys of the reopen link in `mode`, besides `mode` itself: never the password.
fn fragment_keys(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::Autodiscover => &["email", "user", "target_mailbox", "allow_redirect"],
        Mode::Host => &["host", "port"],
        Mode::OutlookAnywhere => &["rpc_proxy", "exchange_server", "auth", "user", "target_mailbox"],
        Mode::RemoteMove => &["remote_server", "user", "target_mailbox"],
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

impl State {
    /// The inputs as a URL fragment that reopens the wizard with them (`mode=host&host=...`): the fields of
    /// the mode that are filled in, URL-encoded, and never the password.
    pub fn fragment(&self) -> String {
        let mut pairs = vec![("mode", self.mode.name().to_string())];
        for key in fragment_keys(self.mode) {
            let value = match *key {
                "auth" => self.auth_name().to_string(),
                "allow_redirect" if self.allow_redirect => "1".into(),
                key => self.text(key).map(|v| v.trim().to_string()).unwrap_or_default(),
            };
            if !value.is_empty() {
                pairs.push((key, value));
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

    /// The text field named `key` (by its request name); the password is not one.
    fn text(&self, key: &str) -> Option<&String> {
        Some(match key {
            "host" => &self.host,
            "port" => &self.port,
            "email" => &self.email,
            "rpc_proxy" => &self.rpc_proxy,
            "exchange_server" => &self.exchange_server,
            "remote_server" => &self.remote_server,
            "user" => &self.user,
            "target_mailbox" => &self.target_mailbox,
            _ => return None,
        })
    }

    /// Fills the fields from a fragment made by [`State::fragment`]: unknown keys, keys of another mode and
    /// the password are ignored, values are cut at [`FRAGMENT_VALUE_MAX`] characters. Without a known
    /// mode nothing changes. The wizard opens at the first step with a wrong field, else the last.
    pub(super) fn reopen(&mut self, fragment: &str) {
        let pairs: Vec<(String, String)> = fragment
            .trim_start_matches('#')
            .split('&')
            .take(32)
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v).chars().take(FRAGMENT_VALUE_MAX).collect()))
            .collect();
        let Some(mode) = pairs
            .iter()
            .find(|(k, _)| k == "mode")
            .and_then(|(_, v)| Mode::ALL.into_iter().find(|m| m.name() == v))
        else {
            return;
        };
        self.mode = mode;
        for (key, value) in &pairs {
            let Some(key) = fragment_keys(mode).iter().find(|k| **k == key.as_str()) else {
                continue;
            };
            match *key {
                "auth" => {
                    self.auth = if value == "ntlm" {
                        AuthMethod::Ntlm
                    } else {
                        AuthMethod::Basic
                    }
                }
                "allow_redirect" => self.allow_redirect = value == "1",
                _ => {
                    if let Some(field) = self.text_mut(key) {
                        field.clone_from(value);
                        self.touch(key);
                    }
                }
            }
        }
        self.step = mode.steps()[1..]
            .iter()
            .copied()
            .find(|s| *s != Step::Details && self.step_has_error(*s))
            .unwrap_or(Step::Details);
    }

    fn text_mut(&mut self, key: &str) -> Option<&mut String> {
        Some(match key {
            "host" => &mut self.host,
            "port" => &mut self.port,
            "email" => &mut self.email,
            "rpc_proxy" => &mut self.rpc_proxy,
            "exchange_server" => &mut self.exchange_server,
            "remote_server" => &mut self.remote_server,
            "user" => &mut self.user,
            "target_mailbox" => &mut self.target_mailbox,
            _ => return None,
        })
    }
}
