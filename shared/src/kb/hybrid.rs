//! Modern Hybrid: a remote server named `<guid>.resource.mailboxmigration.his.msappproxy.net` is the public
//! name of Microsoft's Hybrid Agent, which only Exchange Online reaches; the servers behind it are checked
//! from inside, where the agent runs.
//!
//! Sources:
//! - Microsoft Learn, "Hybrid Agent" (MicrosoftDocs/OfficeDocs-Exchange@b7cfbe8a:Exchange/ExchangeHybrid/hybrid-deployment/hybrid-agent.md):
//!   "the agent, which is built on the same technology as the Azure Application Proxy, removes some
//!   requirements for external DNS entries, certificate updates and inbound network connections through
//!   your firewall"; "Outbound ports HTTPS (TCP) 443 and 80 must be open between the computer that has
//!   the Hybrid Agent installed and the Internet"; "The Hybrid Agent registers the internal fully
//!   qualified domain name (FQDN) of the CAS server selected when running Hybrid Configuration wizard";
//!   `Update-HybridApplication -targetUri`; the test from Exchange Online is
//!   `Test-MigrationServerAvailability -ExchangeRemoteMove:$true -RemoteServer '<guid>.resource...'`.
//! - The hosts the agent (a Microsoft Entra private network connector) needs: entra-docs
//!   (MicrosoftDocs/entra-docs@0136418e:docs/global-secure-access/how-to-configure-connectors.md, "Allow
//!   access to URLs"), with "Avoid all forms of inline inspection and termination on outbound TLS
//!   communications". Wildcard entries cannot be tried one by one; `login.microsoftonline.com` stands for
//!   `*.microsoftonline.com` as Microsoft's own `Test-HybridConnectivity` tries it (HybridManagement.psm1).
//! - Extended Protection: "Extended Protection must not be enabled on the Front-End EWS virtual directory
//!   on Exchange Servers that are published via a Hybrid Agent", and CSS-Exchange's
//!   ExchangeExtendedProtectionManagement.ps1 `-ExcludeVirtualDirectories "EWSFrontEnd"`
//!   (microsoft/CSS-Exchange@f88378b1:Security/src/ExchangeExtendedProtectionManagement/).
//! - The certificate: the App Proxy checks the published server's certificate only when "Validate Backend
//!   TLS/SSL Certificate" is selected (entra-docs), so a certificate from an internal CA can serve there.

use super::Cause;

/// One host and port the Hybrid Agent's machine must reach, and what for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentEndpoint {
    pub host: &'static str,
    pub port: u16,
    pub purpose: &'static str,
}

const REGISTRATION: &str = "registration and sign-in";
const CERTIFICATES: &str = "certificate revocation checks";

/// The hosts with a fixed name Microsoft lists for the agent's machine, in the order of its table.
pub const AGENT_ENDPOINTS: [AgentEndpoint; 15] = [
    AgentEndpoint {
        host: "login.windows.net",
        port: 443,
        purpose: REGISTRATION,
    },
    AgentEndpoint {
        host: "login.microsoftonline.com",
        port: 443,
        purpose: REGISTRATION,
    },
    AgentEndpoint {
        host: "secure.aadcdn.microsoftonline-p.com",
        port: 443,
        purpose: REGISTRATION,
    },
    AgentEndpoint {
        host: "enterpriseregistration.windows.net",
        port: 443,
        purpose: REGISTRATION,
    },
    AgentEndpoint {
        host: "management.azure.com",
        port: 443,
        purpose: REGISTRATION,
    },
    AgentEndpoint {
        host: "ctldl.windowsupdate.com",
        port: 443,
        purpose: REGISTRATION,
    },
    AgentEndpoint {
        host: "www.microsoft.com",
        port: 443,
        purpose: REGISTRATION,
    },
    AgentEndpoint {
        host: "crl3.digicert.com",
        port: 80,
        purpose: CERTIFICATES,
    },
    AgentEndpoint {
        host: "crl4.digicert.com",
        port: 80,
        purpose: CERTIFICATES,
    },
    AgentEndpoint {
        host: "ocsp.digicert.com",
        port: 80,
        purpose: CERTIFICATES,
    },
    AgentEndpoint {
        host: "crl.microsoft.com",
        port: 80,
        purpose: CERTIFICATES,
    },
    AgentEndpoint {
        host: "oneocsp.microsoft.com",
        port: 80,
        purpose: CERTIFICATES,
    },
    AgentEndpoint {
        host: "ocsp.msocsp.com",
        port: 80,
        purpose: CERTIFICATES,
    },
    AgentEndpoint {
        host: "ctldl.windowsupdate.com",
        port: 80,
        purpose: CERTIFICATES,
    },
    AgentEndpoint {
        host: "www.microsoft.com",
        port: 80,
        purpose: CERTIFICATES,
    },
];

/// The wildcard entries of the same table, which no single connection proves open.
pub const AGENT_WILDCARDS: &str = "*.msappproxy.net and *.servicebus.windows.net (443, the agent's link to the App Proxy service), *.microsoftonline.com, *.microsoftonline-p.com, *.msauth.net, *.msauthimages.net, *.msecnd.net, *.msftauth.net, *.msftauthimages.net and *.phonefactor.net (443)";

/// What a Hybrid Agent name means, for the check that recognises `host`.
pub fn agent_name(host: &str) -> String {
    format!(
        "{host} is the public name of Microsoft's Hybrid Agent (Modern Hybrid, Microsoft's Application Proxy): only Exchange Online reaches your Exchange through it, from the agent's outbound connection, so migcheck does not probe it. What can be checked is inside: the agent machine's outbound connections, and the internal server the agent publishes (--agent-target)."
    )
}

/// What to run by hand beside migcheck's checks: Exchange Online's own test through the agent, and
/// Extended Protection on the published servers.
pub fn agent_by_hand(host: &str) -> [(&'static str, String); 2] {
    [
        (
            "Exchange Online's own test (Exchange Online PowerShell)",
            format!(
                "Test-MigrationServerAvailability -ExchangeRemoteMove:$true -RemoteServer '{host}' -Credentials (Get-Credential)"
            ),
        ),
        (
            "Extended Protection must be off on Front End EWS of the servers the agent publishes (CSS-Exchange)",
            r#".\ExchangeExtendedProtectionManagement.ps1 -ShowExtendedProtection; .\ExchangeExtendedProtectionManagement.ps1 -ExcludeVirtualDirectories "EWSFrontEnd""#.to_string(),
        ),
    ]
}

/// Why no server was checked behind the agent: none was named.
pub const NO_AGENT_TARGET: &str = "Not checked: name the internal server the Hybrid Agent publishes (the CAS chosen in the Hybrid Configuration wizard, or the -targetUri of Update-HybridApplication) with migcheck check --agent-target (on the page of a migcheck running inside the network, the field Server the Hybrid Agent publishes) to check EWS, MRS Proxy and its certificate there.";

/// Why the outbound connections are not tried: the relay is not where the agent runs.
pub const OUTBOUND_FROM_INTERNET: &str = "Not tried: this relay reaches the internet, not from the Hybrid Agent's machine. Run migcheck on that machine (migcheck check --remote-server NAME --egress any) to try its outbound connections.";

/// A certificate from an internal CA on the server the agent publishes, for the chain check.
pub fn private_root_behind_agent(host: &str, root: &str) -> String {
    format!(
        "The certificate of {host} is trusted through {root}, a private root: fine behind the Hybrid Agent, which checks the published server's certificate only when \"Validate Backend TLS/SSL Certificate\" is selected for it."
    )
}

/// Something wrong on the Hybrid Agent's side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HybridProblem {
    /// The agent's machine cannot open `host`:`port` (`purpose`): `error` as migcheck saw it.
    OutboundBlocked {
        host: String,
        port: u16,
        purpose: String,
        error: String,
    },
}

const FIX_OUTBOUND: &str = r#"# Let the Hybrid Agent's machine reach HOST on port PORT, and every host of Microsoft's list
# ("Configure connectors", Allow access to URLs), without TLS inspection; the agent may use an outbound proxy:
Test-NetConnection HOST -Port PORT
# then in Exchange Online PowerShell, the agent's own test:
Test-MigrationServerAvailability -ExchangeRemoteMove:$true -RemoteServer '<guid>.resource.mailboxmigration.his.msappproxy.net' -Credentials (Get-Credential)"#;

impl HybridProblem {
    pub(super) fn cause(&self) -> Cause {
        Cause::Network
    }

    pub(super) fn summary(&self) -> String {
        match self {
            HybridProblem::OutboundBlocked {
                host,
                port,
                purpose,
                error,
            } => format!(
                "The Hybrid Agent's machine cannot reach {host} on port {port} ({purpose}): {error}. Microsoft lists it among the hosts the agent needs; without it the agent cannot serve Exchange Online."
            ),
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            HybridProblem::OutboundBlocked { host, port, .. } => {
                FIX_OUTBOUND.replace("HOST", host).replace("PORT", &port.to_string())
            }
        }
    }
}
