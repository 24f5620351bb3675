//! The TLS cipher suites Exchange Online connects with (KB step 2), to judge the suite a server
//! negotiated: a suite outside this list is one Exchange Online's own client may not get.

/// Microsoft 365's TLS 1.2 cipher suites, "in order of strength, with the strongest cipher suite listed
/// first", by their IANA names: Microsoft, "Technical reference details about encryption"
/// (https://learn.microsoft.com/purview/technical-reference-details-about-encryption), the table after
/// "Microsoft 365 supports the cipher suites listed in the following table". It has no DHE and no ECDSA
/// suite, and 3DES "has been disabled in Microsoft 365" since February 28, 2019. The page's second
/// table (plain RSA with CBC) is about TLS 1.0 and 1.1 "until their deprecation date"; it is left out.
///
/// The page is a service-wide statement: no public document describes the ClientHello of the migration
/// service itself, so a suite outside the list is a warning, never a failure.
pub const EXCHANGE_ONLINE_SUITES: &[&str] = &[
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
];

/// Where [`EXCHANGE_ONLINE_SUITES`] comes from, as the report names it beside a judged suite.
pub const EXCHANGE_ONLINE_SUITES_SOURCE: &str = "Microsoft 365's TLS 1.2 cipher suites (Microsoft Learn, \"Technical reference details about encryption\"): ECDHE_RSA with AES-GCM or AES-CBC, RSA with AES-GCM";

/// What Exchange Online makes of the TLS 1.2 suite a server negotiated with migcheck.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuiteJudgement {
    /// The suite is on Microsoft 365's list.
    Listed,
    /// Not on the list, but offered only the listed suites the server chose this one.
    ChoseListed { suite: String },
    /// Offered only the listed suites, the server found none in common (the text is its answer).
    NoneInCommon { answer: String },
}

/// Whether `suite` (an IANA name, as rustls and OpenSSL report it) is on Microsoft 365's list.
pub fn exchange_online_lists(suite: &str) -> bool {
    EXCHANGE_ONLINE_SUITES.iter().any(|s| s.eq_ignore_ascii_case(suite))
}

impl SuiteJudgement {
    /// The sentence after "Handshake completed: VERSION, SUITE." on a handshake that passes.
    pub fn sentence(&self) -> Option<String> {
        match self {
            SuiteJudgement::Listed => Some("Exchange Online can connect with this suite.".to_string()),
            SuiteJudgement::ChoseListed { suite } => Some(format!(
                "Exchange Online can connect: offered only its own suites, the server chose {suite}."
            )),
            SuiteJudgement::NoneInCommon { .. } => None,
        }
    }
}
