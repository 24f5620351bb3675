//! Exchange builds as each source writes them (Autodiscover's hex ServerVersion, EWS ServerVersionInfo,
//! X-OWA-Version, OWA resource paths), the product and update each belongs to, and its support status.

use std::fmt;

use time::{Date, Month};

/// An Exchange build: major.minor.build (the revision, the fourth number, does not change the product).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExchangeBuild {
    pub major: u32,
    pub minor: u32,
    pub build: u32,
}

/// Where a product stands for a migration to Exchange Online.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Supported by Microsoft.
    Supported,
    /// Past its end of support (the date): migrations still work, but no fixes come.
    Ended(Date),
    /// Not a supported migration source (Exchange 2003 and older): the KB's "unsupported version".
    NotASource,
    Unknown,
}

/// (major, minor, first build, name): cumulative updates and service packs, newest first within a
/// product, so the first entry at or below a build names it.
const RELEASES: &[(u32, u32, u32, &str)] = &[
    (15, 2, 2562, "RTM"),
    (15, 2, 1748, "CU15"),
    (15, 2, 1544, "CU14"),
    (15, 2, 1258, "CU13"),
    (15, 2, 1118, "CU12"),
    (15, 2, 986, "CU11"),
    (15, 2, 922, "CU10"),
    (15, 2, 858, "CU9"),
    (15, 2, 792, "CU8"),
    (15, 2, 721, "CU7"),
    (15, 2, 659, "CU6"),
    (15, 2, 595, "CU5"),
    (15, 2, 529, "CU4"),
    (15, 2, 464, "CU3"),
    (15, 2, 397, "CU2"),
    (15, 2, 330, "CU1"),
    (15, 2, 221, "RTM"),
    (15, 1, 2507, "CU23"),
    (15, 1, 2375, "CU22"),
    (15, 1, 2308, "CU21"),
    (15, 1, 2242, "CU20"),
    (15, 1, 2176, "CU19"),
    (15, 1, 2106, "CU18"),
    (15, 1, 2044, "CU17"),
    (15, 1, 1979, "CU16"),
    (15, 1, 1913, "CU15"),
    (15, 1, 1847, "CU14"),
    (15, 1, 225, "RTM"),
    (15, 0, 1497, "CU23"),
    (15, 0, 847, "SP1"),
    (15, 0, 516, "RTM"),
    (14, 3, 0, "SP3"),
    (14, 2, 0, "SP2"),
    (14, 1, 0, "SP1"),
    (14, 0, 0, "RTM"),
    (8, 3, 0, "SP3"),
    (8, 2, 0, "SP2"),
    (8, 1, 0, "SP1"),
    (8, 0, 0, "RTM"),
    (6, 5, 7638, "SP2"),
    (6, 5, 0, "RTM"),
];

impl ExchangeBuild {
    pub fn new(major: u32, minor: u32, build: u32) -> Self {
        ExchangeBuild { major, minor, build }
    }

    /// Reads `15.1.2507.6` or `15.1.2507` (X-OWA-Version, an OWA path, ServerVersionInfo joined by dots).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().ok());
        let (major, minor, build) = (parts.next()??, parts.next()??, parts.next()??);
        match parts.next() {
            None | Some(Some(_)) if parts.next().is_none() && (major, minor) != (0, 0) => {
                Some(ExchangeBuild { major, minor, build })
            }
            _ => None,
        }
    }

    /// The cumulative update or service pack, when known: "CU23", "SP3".
    pub fn release(&self) -> Option<&'static str> {
        RELEASES
            .iter()
            .find(|(major, minor, first, _)| *major == self.major && *minor == self.minor && self.build >= *first)
            .map(|(_, _, _, name)| *name)
    }

    /// "Exchange Server 2016 CU23 (15.1.2507)".
    pub fn describe(&self) -> String {
        match self.release() {
            Some(r) => format!("{} {r} ({self})", self.product()),
            None => format!("{} ({self})", self.product()),
        }
    }

    /// Microsoft's support status (end-of-support dates from the product lifecycle pages).
    pub fn support(&self) -> Support {
        let ended = |y, m, d| {
            Date::from_calendar_date(y, m, d)
                .map(Support::Ended)
                .unwrap_or(Support::Unknown)
        };
        match (self.major, self.minor, self.build) {
            (6, _, _) | (0..=5, _, _) => Support::NotASource,
            (8, _, _) => ended(2017, Month::April, 11),
            (14, _, _) => ended(2020, Month::October, 13),
            (15, 0, _) => ended(2023, Month::April, 11),
            (15, 1, _) => ended(2025, Month::October, 14),
            (15, 2, b) if b >= 2562 => Support::Supported,
            (15, 2, _) => ended(2025, Month::October, 14),
            (15, 20, _) => Support::Supported,
            _ => Support::Unknown,
        }
    }

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
    fn real_builds_name_their_product_update_and_support() {
        let ended = |y, m, d| Support::Ended(Date::from_calendar_date(y, m, d).expect("date"));
        for (text, described, support) in [
            (
                "15.2.2562.17",
                "Exchange Server Subscription Edition RTM (15.2.2562)",
                Support::Supported,
            ),
            (
                "15.2.1748.10",
                "Exchange Server 2019 CU15 (15.2.1748)",
                ended(2025, Month::October, 14),
            ),
            (
                "15.2.1544.4",
                "Exchange Server 2019 CU14 (15.2.1544)",
                ended(2025, Month::October, 14),
            ),
            (
                "15.1.2507.6",
                "Exchange Server 2016 CU23 (15.1.2507)",
                ended(2025, Month::October, 14),
            ),
            (
                "15.1.2375.7",
                "Exchange Server 2016 CU22 (15.1.2375)",
                ended(2025, Month::October, 14),
            ),
            (
                "15.0.1497.2",
                "Exchange Server 2013 CU23 (15.0.1497)",
                ended(2023, Month::April, 11),
            ),
            (
                "14.3.513.0",
                "Exchange Server 2010 SP3 (14.3.513)",
                ended(2020, Month::October, 13),
            ),
            (
                "8.3.83.6",
                "Exchange Server 2007 SP3 (8.3.83)",
                ended(2017, Month::April, 11),
            ),
            ("6.5.7638.1", "Exchange Server 2003 SP2 (6.5.7638)", Support::NotASource),
            ("15.20.7452.28", "Exchange Online (15.20.7452)", Support::Supported),
        ] {
            let build = ExchangeBuild::parse(text).expect(text);
            assert_eq!(
                (build.describe().as_str(), build.support()),
                (described, support),
                "{text}"
            );
        }
        for bad in ["", "15", "15.1", "15.x.2507", "15.1.2507.6.1", "0.0.1"] {
            assert_eq!(ExchangeBuild::parse(bad), None, "{bad}");
        }
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
