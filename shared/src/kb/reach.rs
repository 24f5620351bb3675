//! Reaching the server (KB step 2): its name, a TCP connection, a TLS handshake that completes.

use super::Cause;

/// Why a server cannot be reached. `error` fields hold the failure as migcheck saw it, led by the name
/// the user typed where the address alone would puzzle them (`mail.contoso.com at 203.0.113.7:443 ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReachProblem {
    /// The name does not resolve.
    NoAddress { host: String, error: String },
    /// The name resolves to an address migcheck will not connect to (its egress policy).
    Refused {
        host: String,
        addr: String,
        refusal: String,
    },
    /// A reset: nothing listens on the port.
    ConnectionRefused { host: String, port: u16, error: String },
    /// No answer to the connection at all.
    ConnectTimeout { host: String, port: u16, error: String },
    /// Any other connect failure (unreachable host or network).
    ConnectFailed { host: String, port: u16, error: String },
    /// Something answered, but not with TLS (usually plain HTTP).
    NotTls { host: String, port: u16 },
    /// The connection opened but the TLS handshake never finished.
    TlsTimeout { host: String, port: u16, error: String },
    /// The TLS handshake failed in another way.
    TlsFailed { host: String, port: u16, error: String },
}

impl ReachProblem {
    pub(super) fn cause(&self) -> Cause {
        match self {
            ReachProblem::NotTls { .. } => Cause::ExternalAccess,
            ReachProblem::NoAddress { .. }
            | ReachProblem::Refused { .. }
            | ReachProblem::ConnectionRefused { .. }
            | ReachProblem::ConnectTimeout { .. }
            | ReachProblem::ConnectFailed { .. }
            | ReachProblem::TlsTimeout { .. }
            | ReachProblem::TlsFailed { .. } => Cause::Network,
        }
    }

    pub(super) fn summary(&self) -> String {
        match self {
            ReachProblem::NoAddress { error, .. } => format!("{error}: Exchange Online cannot find the server."),
            ReachProblem::Refused { host, addr, refusal } => {
                format!("{host} is at {addr}, where migcheck does not connect: {refusal}.")
            }
            ReachProblem::ConnectTimeout { error, .. } => {
                format!("{error}: a firewall is probably dropping the connection.")
            }
            ReachProblem::ConnectionRefused { error, .. }
            | ReachProblem::ConnectFailed { error, .. }
            | ReachProblem::TlsTimeout { error, .. }
            | ReachProblem::TlsFailed { error, .. } => format!("{error}."),
            ReachProblem::NotTls { host, port } => {
                format!("{host}:{port} does not speak TLS: SSL is not set up where Exchange Online connects.")
            }
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            ReachProblem::NoAddress { host, .. } => format!(
                "# Publish an A record for {host} in public DNS, pointing at the Exchange server or the reverse proxy in front of it; then check it\nResolve-DnsName {host} -Type A"
            ),
            ReachProblem::Refused { host, .. } => format!(
                "# Exchange Online reaches only public addresses: publish {host} on a public address.\n# To test an internal server, run the migcheck binary inside the network:\n# migcheck check --host {host} --egress any"
            ),
            ReachProblem::ConnectionRefused { port, .. } => format!(
                "# Make the Exchange server (or its reverse proxy) accept HTTPS on port {port}: check the https binding of the Default Web Site and the firewall / NAT rule that forwards {port} to it\nGet-WebBinding -Name 'Default Web Site' -Protocol https"
            ),
            ReachProblem::ConnectTimeout { host, port, .. } => format!(
                "# Allow inbound TCP {port} from the internet to the Exchange server or its reverse proxy and check the NAT rule; then test from outside\nTest-NetConnection {host} -Port {port}"
            ),
            ReachProblem::ConnectFailed { host, port, .. } => format!(
                "# Check the route and firewall between the internet and {host}:{port}\nTest-NetConnection {host} -Port {port}"
            ),
            ReachProblem::NotTls { port, .. } => format!(
                "# Outlook Anywhere needs SSL: bind a certificate to the https binding of the Default Web Site, and make the firewall forward {port} to that binding, not to plain HTTP\nGet-ExchangeCertificate | Format-List Thumbprint,Services,Subject,NotAfter\nEnable-ExchangeCertificate -Thumbprint <thumbprint> -Services IIS"
            ),
            ReachProblem::TlsTimeout { host, port, .. } => format!(
                "# Something accepts connections on {host}:{port} but never answers TLS: check the firewall, load balancer or reverse proxy in front of Exchange, and that the https binding has a certificate\nGet-WebBinding -Name 'Default Web Site' -Protocol https"
            ),
            ReachProblem::TlsFailed { host, port, .. } => format!(
                "# Exchange Online needs TLS 1.2 or newer with an ECDHE AES-GCM cipher suite: check the TLS settings of {host}:{port} and of any load balancer in front of it"
            ),
        }
    }
}
