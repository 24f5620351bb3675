//! What a server that refuses the credentials shows itself to be. Microsoft's "Handling Autodiscover
//! error messages" says a 401 from one candidate URL is no proof the credentials are wrong ("you could
//! get this on one URL only to have the next one accept your credentials"): the root domain often is a
//! web site (IIS, SharePoint) that asks for a logon on every path, for another directory or for
//! people the migration account is not. Its headers tell it apart from Exchange's front end.

use crate::net::http::HttpAnswer;

/// Headers only Exchange's front end writes (the ones `client.rs` shows as its fingerprint): the first
/// one present names the server as Exchange.
const EXCHANGE: &[&str] = &[
    "x-feserver",
    "x-beserver",
    "x-calculatedbetarget",
    "x-diaginfo",
    "x-caserrorcode",
    "x-owa-version",
];

/// Headers SharePoint Server writes on every answer, 401 included ([MS-WSSHP]: SPRequestGuid, 2.2.16;
/// `MicrosoftSharePointTeamServices` is an HTTP response header IIS adds for SharePoint, so it is on
/// IIS's own 401 too). A real SharePoint 2013 401 carries all of these (s-KaiNet/node-sp-auth#131).
/// SharePoint in Microsoft 365 also writes `X-FEServer`, so these are looked at first.
const SHAREPOINT: &[&str] = &[
    "microsoftsharepointteamservices",
    "sprequestguid",
    "x-sharepointhealthscore",
    "spiislatency",
    "sprequestduration",
    "x-ms-invokeapp",
];

/// What the answers of a server show it to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKind {
    /// Exchange's front end, by this header (`X-FEServer: EX01`).
    Exchange { header: String },
    /// Another product, not Autodiscover: its name and the header that shows it.
    Other { product: &'static str, header: String },
    /// Nothing in the answers says (IIS alone, or a proxy): it may be Exchange.
    Unknown,
}

impl ServerKind {
    /// From the answers one candidate got from a host (the anonymous 401 and the one to the logon).
    pub fn of(answers: &[&HttpAnswer]) -> ServerKind {
        let first = |names: &[&str]| {
            names.iter().find_map(|name| {
                answers
                    .iter()
                    .find_map(|a| a.header(name))
                    .map(|value| format!("{}: {}", display_name(name), value.trim()))
            })
        };
        if let Some(header) = first(SHAREPOINT) {
            return ServerKind::Other {
                product: "SharePoint",
                header,
            };
        }
        match first(EXCHANGE) {
            Some(header) => ServerKind::Exchange { header },
            None => ServerKind::Unknown,
        }
    }

    /// Whether the server may be the Autodiscover service (Exchange, or nothing says otherwise).
    pub fn may_be_autodiscover(&self) -> bool {
        !matches!(self, ServerKind::Other { .. })
    }

    /// The words the evidence shows.
    pub fn words(&self) -> String {
        match self {
            ServerKind::Exchange { header } => format!("Exchange ({header})"),
            ServerKind::Other { product, header } => format!("a {product} site ({header}), not Autodiscover"),
            ServerKind::Unknown => "no header says whether it is Exchange".to_string(),
        }
    }
}

/// A header name as servers write it.
fn display_name(lower: &str) -> &'static str {
    match lower {
        "x-feserver" => "X-FEServer",
        "x-beserver" => "X-BEServer",
        "x-calculatedbetarget" => "X-CalculatedBETarget",
        "x-diaginfo" => "X-DiagInfo",
        "x-caserrorcode" => "X-CasErrorCode",
        "x-owa-version" => "X-OWA-Version",
        "microsoftsharepointteamservices" => "MicrosoftSharePointTeamServices",
        "sprequestguid" => "SPRequestGuid",
        "x-sharepointhealthscore" => "X-SharePointHealthScore",
        "spiislatency" => "SPIisLatency",
        "sprequestduration" => "SPRequestDuration",
        "x-ms-invokeapp" => "X-MS-InvokeApp",
        _ => "a header",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &[(&str, &str)]) -> HttpAnswer {
        HttpAnswer {
            status: 401,
            reason: "Unauthorized".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn sharepoint_exchange_and_plain_iis_are_told_apart() {
        // The headers of a real SharePoint 2013 401 (s-KaiNet/node-sp-auth#131), in their order.
        let sharepoint = answer(&[
            ("content-type", "text/plain; charset=utf-8"),
            ("server", "Microsoft-IIS/8.5"),
            ("sprequestguid", "3766eea0-7438-5046-3aa5-c6a419ae8ac2"),
            ("request-id", "3766eea0-7438-5046-3aa5-c6a419ae8ac2"),
            ("x-frame-options", "SAMEORIGIN"),
            ("sprequestduration", "4"),
            ("spiislatency", "0"),
            ("www-authenticate", "NTLM"),
            ("x-powered-by", "ASP.NET"),
            ("microsoftsharepointteamservices", "15.0.0.4701"),
            ("x-content-type-options", "nosniff"),
            ("x-ms-invokeapp", "1; RequireReadOnly"),
        ]);
        let kind = ServerKind::of(&[&sharepoint]);
        assert_eq!(
            kind,
            ServerKind::Other {
                product: "SharePoint",
                header: "MicrosoftSharePointTeamServices: 15.0.0.4701".into()
            }
        );
        assert!(!kind.may_be_autodiscover());
        assert!(kind.words().contains("not Autodiscover"), "{}", kind.words());
        // SharePoint in Microsoft 365 writes X-FEServer too: still SharePoint.
        let online = answer(&[("x-feserver", "SJ2PR07CA0016"), ("sprequestguid", "3d4335a2")]);
        assert!(matches!(ServerKind::of(&[&online]), ServerKind::Other { .. }));
        // Exchange's front end, found in the second answer of the two.
        let exchange = answer(&[("x-feserver", "EX01"), ("request-id", "1b2c")]);
        let iis = answer(&[("server", "Microsoft-IIS/10.0"), ("x-powered-by", "ASP.NET")]);
        assert_eq!(
            ServerKind::of(&[&iis, &exchange]),
            ServerKind::Exchange {
                header: "X-FEServer: EX01".into()
            }
        );
        // IIS alone (request-id is SharePoint's too): it may be Exchange 2007's IIS.
        assert_eq!(ServerKind::of(&[&iis]), ServerKind::Unknown);
        assert!(ServerKind::Unknown.may_be_autodiscover());
    }
}
