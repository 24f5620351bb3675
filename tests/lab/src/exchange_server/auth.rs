//! HTTP authentication of the lab's RPC proxy: which schemes a host offers, the Basic check, and
//! parsing `Authorization`. NTLM tokens go to the real acceptor (see `ntlm.rs`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A scheme a host lists in `WWW-Authenticate`, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    Negotiate,
    Ntlm,
    Basic,
}

/// A user the host accepts: Basic as `upn` or `DOMAIN\name`, NTLM through the acceptor's user file.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub upn: String,
    pub domain: String,
    pub name: String,
    pub password: String,
}

impl User {
    /// The lab's migration account `migadmin` (`<nb_domain>\\migadmin` or the UPN `upn`).
    pub(crate) fn migadmin(upn: String, nb_domain: &str, password: String) -> User {
        User {
            upn,
            domain: nb_domain.to_string(),
            name: "migadmin".to_string(),
            password,
        }
    }
}

/// What the client sent in `Authorization`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Credentials {
    None,
    Basic {
        user: String,
        password: String,
    },
    /// An NTLMSSP token, under `NTLM` or (raw, as Windows sends it without Kerberos) `Negotiate`.
    Ntlm {
        token: Vec<u8>,
        negotiate: bool,
    },
    /// A scheme or token the proxy cannot use (Kerberos, garbage).
    Unusable,
}

/// Parses an `Authorization` value.
pub(crate) fn parse(value: Option<&str>) -> Credentials {
    let Some(value) = value else { return Credentials::None };
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let Ok(raw) = STANDARD.decode(rest.trim()) else {
        return Credentials::Unusable;
    };
    if scheme.eq_ignore_ascii_case("basic") {
        let Ok(text) = String::from_utf8(raw) else {
            return Credentials::Unusable;
        };
        return match text.split_once(':') {
            Some((u, p)) => Credentials::Basic {
                user: u.to_string(),
                password: p.to_string(),
            },
            None => Credentials::Unusable,
        };
    }
    let ntlmssp = raw.starts_with(b"NTLMSSP\0");
    if scheme.eq_ignore_ascii_case("ntlm") && ntlmssp {
        Credentials::Ntlm {
            token: raw,
            negotiate: false,
        }
    } else if scheme.eq_ignore_ascii_case("negotiate") && ntlmssp {
        Credentials::Ntlm {
            token: raw,
            negotiate: true,
        }
    } else {
        Credentials::Unusable
    }
}

/// The user a Basic login names, if the password is right (the name as the user typed it).
pub(crate) fn check_basic<'a>(users: &'a [User], user: &str, password: &str) -> Option<&'a User> {
    users.iter().find(|u| {
        let name_ok = user.eq_ignore_ascii_case(&u.upn)
            || user
                .split_once('\\')
                .is_some_and(|(d, n)| d.eq_ignore_ascii_case(&u.domain) && n.eq_ignore_ascii_case(&u.name));
        name_ok && password == u.password
    })
}

/// One `WWW-Authenticate` header per offered scheme.
pub(crate) fn challenges(schemes: &[Scheme], realm: &str) -> Vec<(&'static str, String)> {
    schemes
        .iter()
        .map(|s| {
            let v = match s {
                Scheme::Negotiate => "Negotiate".to_string(),
                Scheme::Ntlm => "NTLM".to_string(),
                Scheme::Basic => format!("Basic realm=\"{realm}\""),
            };
            ("WWW-Authenticate", v)
        })
        .collect()
}

/// A user name fit for the request log (no spaces or control characters).
pub(crate) fn loggable(user: &str) -> String {
    let s: String = user
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .take(80)
        .collect();
    if s.is_empty() { "-".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<User> {
        vec![User {
            upn: "migadmin@oalab.test".into(),
            domain: "OALAB".into(),
            name: "migadmin".into(),
            password: "pw".into(),
        }]
    }

    #[test]
    fn basic_accepts_upn_and_down_level_forms() {
        let u = users();
        assert!(check_basic(&u, "migadmin@oalab.test", "pw").is_some());
        assert!(check_basic(&u, "oalab\\MIGADMIN", "pw").is_some());
        assert!(check_basic(&u, "OALAB\\migadmin", "PW").is_none());
        assert!(check_basic(&u, "OTHER\\migadmin", "pw").is_none());
    }

    #[test]
    fn authorization_values_parse() {
        let b = format!("Basic {}", STANDARD.encode("a:b:c"));
        assert_eq!(
            parse(Some(&b)),
            Credentials::Basic {
                user: "a".into(),
                password: "b:c".into()
            }
        );
        assert_eq!(parse(Some("Negotiate YIIB")), Credentials::Unusable);
        assert_eq!(parse(Some("Basic !!!")), Credentials::Unusable);
        assert_eq!(parse(None), Credentials::None);
    }
}
