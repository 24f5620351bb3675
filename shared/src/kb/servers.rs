//! A problem found on one server behind the remote server's name, checked directly (`--servers`):
//! Exchange Online's calls are spread over every server behind the name, so each must pass on its own
//! ("the MRS Proxy endpoint ... on all Mailbox servers", Learn's MRS Proxy page; KB 10094: "on all of
//! the external facing Exchange servers").

use super::{Cause, EwsProblem, KbStep, MrsProblem, Problem, Severity};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnServer {
    /// The server as the user listed it (a name or an address).
    pub server: String,
    /// The remote server's name, still sent as SNI and Host.
    pub name: String,
    pub problem: Problem,
}

impl OnServer {
    pub(super) fn cause(&self) -> Cause {
        self.problem.cause()
    }

    pub(super) fn kb_step(&self) -> Option<KbStep> {
        self.problem.kb_step()
    }

    pub(super) fn severity(&self) -> Severity {
        self.problem.severity()
    }

    /// Whether the problem is MRS Proxy switched off on the server.
    fn mrs_off(&self) -> bool {
        matches!(
            self.problem,
            Problem::Mrs(
                MrsProblem::ForbiddenAfterLogon { .. } | MrsProblem::Off { .. } | MrsProblem::OffWithCredentials { .. }
            )
        )
    }

    /// The server as Exchange's cmdlets name it: the first label of a name in capitals (`EX02`).
    fn exchange_name(&self) -> Option<String> {
        match self.server.parse::<std::net::IpAddr>() {
            Ok(_) => None,
            Err(_) => self.server.split('.').next().map(str::to_ascii_uppercase),
        }
    }

    pub(super) fn summary(&self) -> String {
        let (server, name) = (&self.server, &self.name);
        let lead = match self.exchange_name() {
            Some(ex) if self.mrs_off() => format!("MRS Proxy is off on {ex}, one of the servers behind {name}"),
            None if self.mrs_off() => format!("MRS Proxy is off on the server at {server}, behind {name}"),
            _ => format!("On {server}, one of the servers behind {name}"),
        };
        format!("{lead}: {}", self.problem.summary())
    }

    pub(super) fn fix(&self) -> String {
        let (server, name) = (&self.server, &self.name);
        let identity = self
            .exchange_name()
            .unwrap_or_else(|| "<the server's name>".to_string());
        if self.mrs_off() {
            return format!(
                "# MRS Proxy is off on {server} (checked directly, behind {name}). On that server's EWS virtual directory:\n\
                 Set-WebServicesVirtualDirectory -Identity \"{identity}\\EWS (Default Web Site)\" -MRSProxyEnabled $true\n\
                 Get-WebServicesVirtualDirectory -Server {identity} | Format-Table Server,MRSProxyEnabled\n\
                 # Then on {server} (KB 3063913: the setting takes effect after IIS restarts):\n\
                 iisreset /noforce"
            );
        }
        // A problem the name's own checks found too is folded into the name's finding (`Problem::absorb`):
        // what is left here is this server's alone.
        let refused = matches!(
            self.problem,
            Problem::Mrs(MrsProblem::CredentialsRefused { .. }) | Problem::Ews(EwsProblem::CredentialsRefused { .. })
        );
        if refused {
            return format!(
                "# {server} (checked directly, behind {name}) refused the logon; no later server was sent the password.\n{}",
                self.problem.fix()
            );
        }
        format!(
            "# Found on {server} (checked directly, behind {name}): fix it on that server.\n{}",
            self.problem.fix()
        )
    }
}
