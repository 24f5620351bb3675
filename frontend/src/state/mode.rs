//! What the form asks for: the mode (after Test-MigrationServerAvailability's parameter sets) and the
//! wizard's steps.

/// The ways to name what to check, after the parameter sets of Test-MigrationServerAvailability.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// `-Autodiscover -EmailAddress -Credentials`: find the server from an e-mail address.
    #[default]
    Autodiscover,
    /// A server name: its certificate and TLS.
    Host,
    /// `-ExchangeServer -RPCProxyServer -Authentication -Credentials`: the server names typed in.
    OutlookAnywhere,
    /// `-ExchangeRemoteMove -RemoteServer -Credentials`: EWS and the MRS Proxy of the server named.
    RemoteMove,
}

impl Mode {
    /// The fields of the form in this mode (an error for another field is shown at the top of the page).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Mode::Autodiscover => &["email", "user", "password", "target_mailbox"],
            Mode::Host => &["host", "port"],
            Mode::OutlookAnywhere => &["rpc_proxy", "exchange_server", "user", "password", "target_mailbox"],
            Mode::RemoteMove => &["remote_server", "user", "password", "target_mailbox"],
        }
    }

    /// Every mode, in the order of the form's radio group.
    pub const ALL: [Mode; 4] = [Mode::Autodiscover, Mode::Host, Mode::OutlookAnywhere, Mode::RemoteMove];

    /// The answer to the wizard's first question this mode belongs to.
    pub fn kind(self) -> Kind {
        match self {
            Mode::Autodiscover | Mode::OutlookAnywhere => Kind::Staged,
            Mode::RemoteMove => Kind::RemoteMove,
            Mode::Host => Kind::Host,
        }
    }

    /// The wizard's steps in this mode: "how to find the server" only for a cutover or staged migration.
    pub fn steps(self) -> &'static [Step] {
        match self.kind() {
            Kind::Staged => &[Step::Kind, Step::Find, Step::Details],
            _ => &[Step::Kind, Step::Details],
        }
    }

    /// The fields the wizard shows at `step` in this mode.
    pub fn step_fields(self, step: Step) -> &'static [&'static str] {
        match (step, self) {
            (Step::Kind, _) => &[],
            (Step::Find, Mode::Autodiscover) => &["email"],
            (Step::Find, Mode::OutlookAnywhere) => &["rpc_proxy", "exchange_server"],
            (Step::Find, _) => &[],
            (Step::Details, Mode::Autodiscover | Mode::OutlookAnywhere) => &["user", "password", "target_mailbox"],
            (Step::Details, _) => self.fields(),
        }
    }

    /// The mode as the request and the reopen link write it (`outlook_anywhere`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Autodiscover => "autodiscover",
            Mode::Host => "host",
            Mode::OutlookAnywhere => "outlook_anywhere",
            Mode::RemoteMove => "remote_move",
        }
    }
}

/// The first question of the wizard: what kind of migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A cutover or staged migration: through Outlook Anywhere.
    Staged,
    /// A remote move: through the MRS Proxy.
    RemoteMove,
    /// No migration yet: just the certificate and TLS of a server.
    Host,
}

/// The steps of the wizard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Step {
    /// 1: what kind of migration.
    #[default]
    Kind,
    /// 2 (cutover or staged only): how to find the server, Autodiscover or the server names.
    Find,
    /// 3: the server of a remote move or a certificate check, the credentials, then Run.
    Details,
}
