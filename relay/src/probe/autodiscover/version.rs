//! Exchange build numbers as Autodiscover encodes them, and the product each belongs to.

use std::fmt;

/// An Exchange build: major.minor.build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExchangeBuild {
    pub major: u32,
    pub minor: u32,
    pub build: u32,
}

impl ExchangeBuild {
    /// Decodes Autodiscover's `ServerVersion`: 8 hex digits, major in bits 22-27, minor in bits
    /// 16-21, build in bits 0-14.
    pub fn from_autodiscover(hex: &str) -> Option<Self> {
        let hex = hex.trim();
        if hex.len() != 8 {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        Some(ExchangeBuild {
            major: (v >> 22) & 0x3F,
            minor: (v >> 16) & 0x3F,
            build: v & 0x7FFF,
        })
    }

    /// The product name (Exchange 2019 and Subscription Edition share 15.2; SE is build 2562 and later).
    pub fn product(&self) -> &'static str {
        match (self.major, self.minor, self.build) {
            (6, 5, _) => "Exchange Server 2003",
            (6, _, _) => "Exchange 2000 Server",
            (8, _, _) => "Exchange Server 2007",
            (14, _, _) => "Exchange Server 2010",
            (15, 0, _) => "Exchange Server 2013",
            (15, 1, _) => "Exchange Server 2016",
            (15, 2, b) if b >= 2562 => "Exchange Server Subscription Edition",
            (15, 2, _) => "Exchange Server 2019",
            (15, 20, _) => "Exchange Online",
            _ => "an unknown Exchange version",
        }
    }
}

impl fmt::Display for ExchangeBuild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.build)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_versions_decode_as_the_spec_examples() {
        let build = |hex| ExchangeBuild::from_autodiscover(hex).map(|b| (b.to_string(), b.product()));
        assert_eq!(build("738180DA"), Some(("14.1.218".into(), "Exchange Server 2010")));
        assert_eq!(build("72008287"), Some(("8.0.647".into(), "Exchange Server 2007")));
        assert_eq!(build("73C189CB"), Some(("15.1.2507".into(), "Exchange Server 2016")));
        assert_eq!(build("nothex!!"), None);
        assert_eq!(build("7381"), None);
    }

    #[test]
    fn fifteen_two_is_split_at_build_2562() {
        let b = |build| {
            ExchangeBuild {
                major: 15,
                minor: 2,
                build,
            }
            .product()
        };
        assert_eq!(b(1544), "Exchange Server 2019");
        assert_eq!(b(2562), "Exchange Server Subscription Edition");
    }
}
