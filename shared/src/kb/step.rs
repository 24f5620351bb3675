//! The five steps of KB 2389390, as the article numbers them.

use serde::{Deserialize, Serialize};

/// A step of the KB. On the wire it is its number (1-5), as the report has always carried it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(into = "u8", try_from = "u8")]
pub enum KbStep {
    /// Step 1: Outlook Anywhere (RPC over HTTP) on the on-premises server; MAPI over HTTP and MRS Proxy
    /// are checked beside it.
    OutlookAnywhere = 1,
    /// Step 2: the public certificate is valid for Outlook Anywhere.
    Certificate = 2,
    /// Step 3: the connectivity test, Autodiscover first.
    Autodiscover = 3,
    /// Step 4: the permissions the migration account needs.
    Permissions = 4,
    /// Step 5: Test-MigrationServerAvailability.
    TestMigrationServerAvailability = 5,
}

impl KbStep {
    /// In the KB's order.
    pub const ALL: [KbStep; 5] = [
        KbStep::OutlookAnywhere,
        KbStep::Certificate,
        KbStep::Autodiscover,
        KbStep::Permissions,
        KbStep::TestMigrationServerAvailability,
    ];

    pub fn number(self) -> u8 {
        self as u8
    }

    /// The step's name, short enough for a heading.
    pub fn title(self) -> &'static str {
        match self {
            KbStep::OutlookAnywhere => "Outlook Anywhere",
            KbStep::Certificate => "Certificate",
            KbStep::Autodiscover => "Autodiscover",
            KbStep::Permissions => "Permissions",
            KbStep::TestMigrationServerAvailability => "Test-MigrationServerAvailability",
        }
    }
}

impl From<KbStep> for u8 {
    fn from(step: KbStep) -> u8 {
        step.number()
    }
}

impl TryFrom<u8> for KbStep {
    type Error = String;

    fn try_from(n: u8) -> Result<Self, Self::Error> {
        KbStep::ALL
            .into_iter()
            .find(|s| s.number() == n)
            .ok_or_else(|| format!("a KB step is a number from 1 to 5, not {n}"))
    }
}

#[cfg(test)]
mod tests {
    use super::KbStep;

    #[test]
    fn steps_travel_as_their_numbers() {
        for step in KbStep::ALL {
            let json = serde_json::to_string(&step).expect("serialise");
            assert_eq!(json, step.number().to_string());
            assert_eq!(serde_json::from_str::<KbStep>(&json).expect("parse"), step);
        }
        assert_eq!(KbStep::Certificate.number(), 2);
        let refused = serde_json::from_str::<KbStep>("6").expect_err("6 is no step");
        assert!(refused.to_string().contains("from 1 to 5"), "{refused}");
    }
}
