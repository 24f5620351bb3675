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

/// How IIS's Basic module turns the `user:password` octets into text (RFC 7617 2.1 leaves the encoding
/// open; "most implementations chose either a locale-specific encoding such as ISO-8859-1, or UTF-8").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BasicDecoding {
    /// In the server's code page only, Windows-1252 (a Western European Windows): a UTF-8 client's
    /// non-ASCII characters arrive as two characters each.
    Windows1252,
    /// IIS after KB 981280: "the basic authentication module compares the provided credentials in UTF-8
    /// format and the format of the local code page" and logs on a second time only when the two differ,
    /// so a wrong password with non-ASCII characters costs two failed logons.
    Utf8ThenWindows1252,
}

impl BasicDecoding {
    /// The texts the octets are tried as, in order (one or two logons).
    fn candidates(self, octets: &[u8]) -> Vec<String> {
        let utf8 = std::str::from_utf8(octets).ok().map(str::to_string);
        let cp1252 = windows_1252(octets);
        match self {
            BasicDecoding::Windows1252 => vec![cp1252],
            BasicDecoding::Utf8ThenWindows1252 => {
                let mut all: Vec<String> = utf8.into_iter().collect();
                if !all.contains(&cp1252) {
                    all.push(cp1252);
                }
                all
            }
        }
    }
}

/// Windows-1252 to text: 0x80-0x9F from Microsoft's table (the Unicode Consortium's
/// MAPPINGS/VENDORS/MICSFT/WINDOWS/CP1252.TXT; its five undefined bytes become U+FFFD), the rest as
/// ISO-8859-1.
fn windows_1252(octets: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž', '\u{FFFD}',
        '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{FFFD}', 'ž', 'Ÿ',
    ];
    octets
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// What the client sent in `Authorization`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Credentials {
    None,
    /// The decoded `user:password` octets, whose encoding the host decides.
    Basic {
        octets: Vec<u8>,
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
        return if raw.contains(&b':') {
            Credentials::Basic { octets: raw }
        } else {
            Credentials::Unusable
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

/// The user name a Basic logon names (as the user typed it), if one of the texts `decoding` makes of
/// the octets has a user's right password.
pub(crate) fn check_basic(users: &[User], octets: &[u8], decoding: BasicDecoding) -> Option<String> {
    decoding.candidates(octets).into_iter().find_map(|text| {
        let (user, password) = text.split_once(':')?;
        users
            .iter()
            .any(|u| {
                let name_ok = user.eq_ignore_ascii_case(&u.upn)
                    || user
                        .split_once('\\')
                        .is_some_and(|(d, n)| d.eq_ignore_ascii_case(&u.domain) && n.eq_ignore_ascii_case(&u.name));
                name_ok && password == u.password
            })
            .then(|| user.to_string())
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

    fn basic(users: &[User], text: &str) -> Option<String> {
        check_basic(users, text.as_bytes(), BasicDecoding::Utf8ThenWindows1252)
    }

    #[test]
    fn basic_accepts_upn_and_down_level_forms() {
        let u = users();
        assert!(basic(&u, "migadmin@oalab.test:pw").is_some());
        assert_eq!(basic(&u, "oalab\\MIGADMIN:pw").as_deref(), Some("oalab\\MIGADMIN"));
        assert!(basic(&u, "OALAB\\migadmin:PW").is_none());
        assert!(basic(&u, "OTHER\\migadmin:pw").is_none());
    }

    /// RFC 7617's own example: user `test`, password `123£`, is `dGVzdDoxMjPCow==` in UTF-8.
    #[test]
    fn basic_is_decoded_as_the_host_says() {
        let u = vec![User {
            password: "123£".into(),
            ..users()[0].clone()
        }];
        let utf8 = STANDARD.decode("bWlnYWRtaW5Ab2FsYWIudGVzdDoxMjPCow==").expect("base64");
        assert_eq!(utf8, "migadmin@oalab.test:123£".as_bytes());
        let cp1252 = b"migadmin@oalab.test:123\xa3".to_vec();
        // A code-page-only server reads the UTF-8 octets C2 A3 as "Â£".
        assert!(check_basic(&u, &utf8, BasicDecoding::Windows1252).is_none());
        assert!(check_basic(&u, &cp1252, BasicDecoding::Windows1252).is_some());
        // KB 981280: UTF-8 first, then the code page: both get in.
        for octets in [&utf8, &cp1252] {
            assert!(check_basic(&u, octets, BasicDecoding::Utf8ThenWindows1252).is_some());
        }
        assert_eq!(windows_1252(b"\x80\x9f\xe4"), "€Ÿä");
        assert_eq!(
            BasicDecoding::Utf8ThenWindows1252.candidates(b"a:b").len(),
            1,
            "ASCII: one logon"
        );
        assert_eq!(
            BasicDecoding::Utf8ThenWindows1252.candidates("a:ä".as_bytes()).len(),
            2,
            "a wrong non-ASCII password: two failed logons"
        );
    }

    #[test]
    fn authorization_values_parse() {
        let b = format!("Basic {}", STANDARD.encode("a:b:c"));
        assert_eq!(
            parse(Some(&b)),
            Credentials::Basic {
                octets: b"a:b:c".to_vec()
            }
        );
        assert_eq!(parse(Some("Negotiate YIIB")), Credentials::Unusable);
        assert_eq!(parse(Some("Basic !!!")), Credentials::Unusable);
        assert_eq!(parse(None), Credentials::None);
    }
}
