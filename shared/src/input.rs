//! User input checks shared by the page (as the user types) and the relay (before any probe).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::field::Field;

/// A field the user filled in wrongly, with a message that says how to put it right.
///
/// `F` is what names the value: a request [`Field`], except where the relay checks a name a server sent
/// with the same rules (an Autodiscover answer's `EXPR` server, a `redirectAddr`), which no request field
/// holds; there a few words say where it came from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct InputError<F = Field> {
    /// The field at fault (`host`, `port`, ...).
    pub field: F,
    /// What is wrong, in words meant for the user.
    pub message: String,
}

impl<F> InputError<F> {
    pub fn new(field: F, message: impl Into<String>) -> Self {
        InputError {
            field,
            message: message.into(),
        }
    }
}

impl<F: fmt::Display> fmt::Display for InputError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl<F: fmt::Debug + fmt::Display> std::error::Error for InputError<F> {}

/// A host name (or IP literal) and, when the user gave one, a port.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    /// Lower-case, without a trailing dot; an IPv6 literal without brackets.
    pub host: String,
    pub port: Option<u16>,
}

/// What follows the application's GUID in the public name of Microsoft's Hybrid Agent (Modern Hybrid):
/// "The URL has the format: `uniqueGUID.resource.mailboxmigration.his.msappproxy.net`" (Microsoft Learn,
/// "Hybrid Agent"; CSS-Exchange's FreeBusyChecker matches it case-insensitively).
pub const HYBRID_AGENT_SUFFIX: &str = ".resource.mailboxmigration.his.msappproxy.net";

/// The application id (a GUID) of a Hybrid Agent name, when `host` (lower-case, as [`parse_host`]
/// returns it) is one: only Exchange Online reaches the servers behind it, through the agent.
pub fn hybrid_agent_app_id(host: &str) -> Option<&str> {
    let guid = host.strip_suffix(HYBRID_AGENT_SUFFIX)?;
    // 8-4-4-4-12 hexadecimal digits.
    let dash = |i| matches!(i, 8 | 13 | 18 | 23);
    let shape = guid.len() == 36
        && guid
            .bytes()
            .enumerate()
            .all(|(i, b)| if dash(i) { b == b'-' } else { b.is_ascii_hexdigit() });
    shape.then_some(guid)
}

const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

/// Parses what a user typed where a server name belongs. A pasted URL (`https://mail.contoso.com/owa`)
/// is understood: its host (and port) are taken and the rest ignored.
pub fn parse_host<F: Copy>(field: F, raw: &str) -> Result<HostPort, InputError<F>> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(InputError::new(
            field,
            "enter the server name, for example mail.contoso.com",
        ));
    }
    let had_scheme = text.contains("://");
    let rest = match text.split_once("://") {
        Some((scheme, rest)) => {
            if !matches!(scheme.to_ascii_lowercase().as_str(), "https" | "http") {
                return Err(InputError::new(
                    field,
                    format!("'{scheme}://' is not a web address; enter the server name"),
                ));
            }
            rest
        }
        None => text,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(InputError::new(
            field,
            "enter only the server name, without a user name or '@'",
        ));
    }
    if authority.chars().any(char::is_whitespace) {
        return Err(InputError::new(field, "a server name cannot contain spaces"));
    }
    if !had_scheme && rest.len() != authority.len() {
        return Err(InputError::new(field, "enter only the server name, without a path"));
    }
    let (host, port) = split_port(field, authority)?;
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if host.is_empty() {
        return Err(InputError::new(
            field,
            "enter the server name, for example mail.contoso.com",
        ));
    }
    if host.parse::<std::net::Ipv6Addr>().is_err() {
        check_ip_forms(field, &host)?;
        check_name(field, "server name", &host)?;
    }
    Ok(HostPort { host, port })
}

/// An e-mail address: its local part and its domain (lower-case).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// `local@domain`, the domain lower-cased.
    pub address: String,
    pub local: String,
    pub domain: String,
}

/// Parses an e-mail address as Autodiscover needs it: something@a.domain.
pub fn parse_email<F: Copy>(field: F, raw: &str) -> Result<Email, InputError<F>> {
    let text = raw.trim();
    let text = text.strip_prefix("mailto:").unwrap_or(text);
    if text.is_empty() {
        return Err(InputError::new(
            field,
            "enter the e-mail address of a mailbox to migrate, for example adele@contoso.com",
        ));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(InputError::new(field, "an e-mail address cannot contain spaces"));
    }
    let Some((local, domain)) = text.rsplit_once('@') else {
        return Err(InputError::new(
            field,
            "an e-mail address needs an '@' and a domain, for example adele@contoso.com",
        ));
    };
    if local.is_empty() || local.len() > 64 || local.contains(['<', '>', '"', '\\', ',', ';', ':', '@']) {
        return Err(InputError::new(
            field,
            format!("'{local}' is not a valid mailbox name before the '@'"),
        ));
    }
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return Err(InputError::new(
            field,
            "an e-mail address needs a domain after the '@', for example adele@contoso.com",
        ));
    }
    check_name(field, "domain", &domain)?;
    // A top-level label of digits is an IP address (adele@127.0.0.1): Autodiscover needs a domain's DNS.
    if domain
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(InputError::new(
            field,
            format!(
                "'{domain}' is an address, not a domain: Autodiscover starts from the domain of the e-mail address (for example contoso.com)"
            ),
        ));
    }
    if !domain.contains('.') {
        return Err(InputError::new(
            field,
            format!("'{domain}' is not a full domain name (for example contoso.com)"),
        ));
    }
    Ok(Email {
        address: format!("{local}@{domain}"),
        local: local.to_string(),
        domain,
    })
}

/// Checks a migration account name: user@domain, DOMAIN\user, or a bare user name.
pub fn parse_user<F: Copy>(field: F, raw: &str) -> Result<String, InputError<F>> {
    let text = raw.trim();
    if text.chars().any(|c| c.is_control()) || text.len() > 256 {
        return Err(InputError::new(
            field,
            "the user name has characters that cannot be sent",
        ));
    }
    if let Some((domain, user)) = text.split_once('\\')
        && (domain.is_empty() || user.is_empty() || user.contains('\\'))
    {
        return Err(InputError::new(
            field,
            "write the user as DOMAIN\\user, user@domain or the e-mail address",
        ));
    }
    if text.contains(':') {
        return Err(InputError::new(field, "a user name cannot contain ':'"));
    }
    Ok(text.to_string())
}

/// Checks the RPC server name of Outlook Anywhere (`-ExchangeServer`): a server's FQDN or NetBIOS
/// name, or the `<mailbox-guid>@<domain>` form that Exchange 2013 and later use.
pub fn parse_rpc_server<F: Copy>(field: F, raw: &str) -> Result<String, InputError<F>> {
    let text = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if text.is_empty() {
        return Err(InputError::new(
            field,
            "enter the Exchange server: its FQDN (ex01.contoso.com) or the mailbox GUID form from Autodiscover",
        ));
    }
    let (guid, host) = match text.split_once('@') {
        Some((guid, domain)) => (Some(guid), domain),
        None => (None, text.as_str()),
    };
    if let Some(guid) = guid {
        let groups: Vec<&str> = guid.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        if lengths != [8, 4, 4, 4, 12] || !groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit())) {
            return Err(InputError::new(
                field,
                "before the '@' Exchange expects the mailbox GUID (8-4-4-4-12 hexadecimal digits)",
            ));
        }
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c == '/' || c == ':' || c == '?')
    {
        return Err(InputError::new(
            field,
            "enter only the server name, without a port, path or spaces",
        ));
    }
    check_name(field, "server name", host)?;
    Ok(text)
}

fn split_port<F: Copy>(field: F, authority: &str) -> Result<(&str, Option<u16>), InputError<F>> {
    if let Some(inner) = authority.strip_prefix('[') {
        let Some((addr, after)) = inner.split_once(']') else {
            return Err(InputError::new(field, "an IPv6 address needs its closing ']'"));
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(InputError::new(field, format!("'{addr}' is not an IPv6 address")));
        }
        return match after.strip_prefix(':') {
            Some(p) => Ok((addr, Some(parse_port(field, p)?))),
            None if after.is_empty() => Ok((addr, None)),
            None => Err(InputError::new(field, "unexpected text after the IPv6 address")),
        };
    }
    if authority.matches(':').count() > 1 {
        if authority.parse::<std::net::Ipv6Addr>().is_ok() {
            return Ok((authority, None));
        }
        return Err(InputError::new(field, "too many ':' in the server name"));
    }
    match authority.split_once(':') {
        Some((host, p)) => Ok((host, Some(parse_port(field, p)?))),
        None => Ok((authority, None)),
    }
}

fn parse_port<F>(field: F, text: &str) -> Result<u16, InputError<F>> {
    match text.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(InputError::new(field, format!("'{text}' is not a port (1-65535)"))),
    }
}

/// A name made only of numbers is an IPv4 address: only the plain dotted form (four decimal numbers, no
/// leading zeros) is taken. The decimal (2130706433), hex (0x7f000001), octal (0177.0.0.1) and short
/// (127.1) forms mean different addresses to different parsers, which is how requests sneak past filters.
fn check_ip_forms<F>(field: F, host: &str) -> Result<(), InputError<F>> {
    let numeric = |label: &str| {
        let hex = label.strip_prefix("0x").or_else(|| label.strip_prefix("0X"));
        match hex {
            Some(h) => h.chars().all(|c| c.is_ascii_hexdigit()),
            None => !label.is_empty() && label.chars().all(|c| c.is_ascii_digit()),
        }
    };
    if !host.split('.').all(numeric) {
        return Ok(());
    }
    let plain = host.split('.').count() == 4
        && host.parse::<std::net::Ipv4Addr>().is_ok()
        && host.split('.').all(|l| l == "0" || !l.starts_with('0'));
    if plain {
        return Ok(());
    }
    Err(InputError::new(
        field,
        format!(
            "'{host}' is an IP address in a form migcheck does not take (decimal, hex, octal or shortened); write it as four decimal numbers, for example 192.0.2.10"
        ),
    ))
}

/// Checks `host`, a `kind` of name ("server name", "domain"), as DNS and certificates need it.
fn check_name<F: Copy>(field: F, kind: &str, host: &str) -> Result<(), InputError<F>> {
    if host.len() > MAX_NAME {
        return Err(InputError::new(field, format!("a {kind} is at most 253 characters")));
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err(InputError::new(
                field,
                format!("the {kind} has an empty part between dots"),
            ));
        }
        if label.len() > MAX_LABEL {
            return Err(InputError::new(
                field,
                format!("each part of a {kind} is at most 63 characters"),
            ));
        }
        // DNS would carry it, but a host name (RFC 1123) has none, resolvers refuse it and no
        // certification authority issues a certificate for it, so Exchange Online could never connect.
        if label.contains('_') {
            return Err(InputError::new(
                field,
                format!(
                    "'_' is not allowed in a {kind}: host names have only letters, digits and '-', and no certification authority issues a certificate for a name with '_'"
                ),
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(InputError::new(
                field,
                format!("'{label}' cannot start or end with '-'"),
            ));
        }
        if let Some(c) = label.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
            return Err(InputError::new(
                field,
                format!(
                    "'{c}' is not allowed in a {kind} (use letters, digits, '-' and '.'; international names in their xn-- form)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hybrid_agent_name_is_recognised_by_its_guid_and_suffix() {
        let name = "087f1c2e-8711-4176-ab4f-4b1c1777a350.resource.mailboxmigration.his.msappproxy.net";
        let typed = super::parse_host(
            Field::RemoteServer,
            &format!("https://{}/EWS/mrsproxy.svc", name.to_uppercase()),
        )
        .expect("a name");
        assert_eq!(typed.host, name);
        assert_eq!(
            super::hybrid_agent_app_id(&typed.host),
            Some("087f1c2e-8711-4176-ab4f-4b1c1777a350")
        );
        for other in [
            "mail.contoso.com",
            "resource.mailboxmigration.his.msappproxy.net",
            "x.resource.mailboxmigration.his.msappproxy.net",
            "087f1c2e-8711-4176-ab4f-4b1c1777a35z.resource.mailboxmigration.his.msappproxy.net",
            "087f1c2e-8711-4176-ab4f-4b1c1777a350.other.msappproxy.net",
        ] {
            assert_eq!(super::hybrid_agent_app_id(other), None, "{other}");
        }
    }

    use super::*;

    fn ok(raw: &str) -> (String, Option<u16>) {
        let hp = parse_host(Field::Host, raw).expect(raw);
        (hp.host, hp.port)
    }

    fn err(raw: &str) -> String {
        parse_host(Field::Host, raw).expect_err(raw).to_string()
    }

    #[test]
    fn plain_names_are_normalised() {
        assert_eq!(ok("  Mail.Contoso.COM. "), ("mail.contoso.com".into(), None));
        assert_eq!(ok("mail.contoso.com:8443"), ("mail.contoso.com".into(), Some(8443)));
        assert_eq!(ok("192.0.2.7"), ("192.0.2.7".into(), None));
        assert_eq!(ok("[2001:db8::1]:444"), ("2001:db8::1".into(), Some(444)));
        assert_eq!(ok("2001:db8::1"), ("2001:db8::1".into(), None));
        // Refused here, not by the resolver later in words of its own ("Label contains invalid characters").
        assert!(err("mail_1.contoso.com").contains("'_' is not allowed in a server name"));
    }

    #[test]
    fn pasted_urls_give_their_host() {
        assert_eq!(ok("https://mail.contoso.com/owa/"), ("mail.contoso.com".into(), None));
        assert_eq!(
            ok("HTTPS://mail.contoso.com:444/rpc/rpcproxy.dll?x"),
            ("mail.contoso.com".into(), Some(444))
        );
    }

    #[test]
    fn ip_addresses_in_sneaky_forms_are_refused_by_name() {
        for raw in [
            "2130706433",
            "0x7f000001",
            "0x7f.0.0.1",
            "0177.0.0.1",
            "127.000.000.001",
            "127.1",
            "127.0.1",
            "https://2130706433/owa",
            "0X7F000001.",
        ] {
            let e = err(raw);
            assert!(e.contains("in a form migcheck does not take"), "{raw}: {e}");
        }
        assert_eq!(ok("192.0.2.10"), ("192.0.2.10".into(), None));
        assert_eq!(ok("10.0.0.1:443"), ("10.0.0.1".into(), Some(443)));
        // Names that merely contain digits stay names.
        assert_eq!(ok("ex2019.contoso.com"), ("ex2019.contoso.com".into(), None));
        for (raw, says) in [
            ("alice@127.0.0.1", "without a user name or '@'"),
            ("https://user:pass@mail.contoso.com/", "without a user name or '@'"),
            ("mаil.contoso.com", "xn-- form"),
            ("mail．contoso．com", "xn-- form"),
            ("mail.contoso.com..", "empty part"),
        ] {
            let e = err(raw);
            assert!(e.contains(says), "{raw}: {e}");
        }
    }

    #[test]
    fn rpc_server_names_take_both_exchange_forms() {
        assert_eq!(
            parse_rpc_server(Field::ExchangeServer, " EX01.Contoso.com. "),
            Ok("ex01.contoso.com".into())
        );
        assert_eq!(
            parse_rpc_server(
                Field::ExchangeServer,
                "0A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D@contoso.com"
            ),
            Ok("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com".into())
        );
        for (raw, says) in [
            ("", "enter the Exchange server"),
            ("alice@contoso.com", "mailbox GUID"),
            ("ex01.contoso.com:6001", "without a port"),
            ("ex 01", "without a port, path or spaces"),
            ("ex01..contoso.com", "empty part"),
            ("ex_01.contoso.com", "'_' is not allowed in a server name"),
        ] {
            let e = parse_rpc_server(Field::ExchangeServer, raw).expect_err(raw);
            assert_eq!(e.field, Field::ExchangeServer);
            assert!(e.message.contains(says), "{raw}: {}", e.message);
        }
    }

    #[test]
    fn email_addresses_split_into_local_part_and_domain() {
        let e = parse_email(Field::Email, " Adele@Contoso.COM ").expect("email");
        assert_eq!(
            (e.address.as_str(), e.local.as_str(), e.domain.as_str()),
            ("Adele@contoso.com", "Adele", "contoso.com")
        );
        assert!(
            parse_email(Field::Email, "adele")
                .expect_err("no @")
                .to_string()
                .starts_with("email: an e-mail address needs an '@'")
        );
        assert!(parse_email(Field::Email, "adele@contoso").is_err());
        assert!(parse_email(Field::Email, "a b@contoso.com").is_err());
        for (raw, says) in [
            ("adele@", "needs a domain after the '@'"),
            ("adele@127.0.0.1", "is an address, not a domain"),
            ("adele@contoso_x.test", "'_' is not allowed in a domain"),
            ("adele@contoso..com", "the domain has an empty part"),
        ] {
            let e = parse_email(Field::Email, raw).expect_err(raw);
            assert!(e.message.contains(says), "{raw}: {}", e.message);
            assert!(!e.message.contains("server name"), "{raw}: {}", e.message);
        }
        assert!(
            parse_email(Field::Email, "")
                .expect_err("empty")
                .to_string()
                .contains("enter the e-mail address")
        );
    }

    #[test]
    fn user_names_take_the_three_forms() {
        assert_eq!(
            parse_user(Field::User, "CONTOSO\\migadmin").as_deref(),
            Ok("CONTOSO\\migadmin")
        );
        assert_eq!(
            parse_user(Field::User, "migadmin@contoso.com").as_deref(),
            Ok("migadmin@contoso.com")
        );
        assert!(parse_user(Field::User, "\\migadmin").is_err());
        assert!(parse_user(Field::User, "a:b").is_err());
    }

    #[test]
    fn a_name_from_a_server_is_checked_with_the_same_rules_under_its_own_words() {
        let e = parse_host("EXPR Server", "mail contoso.com").expect_err("spaces");
        assert_eq!(e.to_string(), "EXPR Server: a server name cannot contain spaces");
    }

    #[test]
    fn bad_input_names_the_field_and_the_fault() {
        assert_eq!(err(""), "host: enter the server name, for example mail.contoso.com");
        assert_eq!(err("mail contoso.com"), "host: a server name cannot contain spaces");
        assert_eq!(err("mail.contoso.com:0"), "host: '0' is not a port (1-65535)");
        assert_eq!(err("mail.contoso.com:70000"), "host: '70000' is not a port (1-65535)");
        assert!(err("ftp://mail.contoso.com").contains("not a web address"));
        assert!(err("https://user@mail.contoso.com").contains("without a user name"));
        assert!(err("mail..contoso.com").contains("empty part"));
        assert!(err("mail.contoso.com/owa").contains("without a path"));
        assert!(err("mail!.contoso.com").contains("'!' is not allowed"));
    }
}
