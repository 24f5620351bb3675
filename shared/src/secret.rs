//! The password: sent by the page in the diagnose request and nowhere else. Its Debug never shows
//! it, it is wiped from memory when dropped, and a report's copy of the inputs leaves it out.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(value: impl Into<String>) -> Self {
        Password(Zeroizing::new(value.into()))
    }

    /// The secret itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Password(<empty>)"
        } else {
            "Password(<redacted>)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let p = Password::new("Sup3r-secret!");
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
        assert_eq!(format!("{:?}", Some(&p)), "Some(Password(<redacted>))");
        assert_eq!(p.expose(), "Sup3r-secret!");
    }
}
