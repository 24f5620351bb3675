//! What the form asks for: the mode (after Test-MigrationServerAvailability's parameter sets) and the
//! wizard's steps.

use migcheck_shared::Field;

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
    pub fn fields(self) -> &'static [Field] {
        match self {
            Mode::Autodiscover => &[Field::Email, Field::User, Field::Password, Field::TargetMailbox],
            Mode::Host => &[Field::Host, Field::Port],
            Mode::OutlookAnywhere => &[
                Field::RpcProxy,
                Field::ExchangeServer,
                Field::User,
                Field::Password,
                Field::TargetMailbox,
            ],
            Mode::RemoteMove => &[
                Field::RemoteServer,
                Field::Servers,
                Field::AgentTarget,
                Field::User,
                Field::Password,
                Field::TargetMailbox,
            ],
        }
    }

    /// Whether the mode logs on with the migration account (and so has a password to keep or send).
    pub fn logs_on(self) -> bool {
        self != Mode::Host
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
    pub fn step_fields(self, step: Step) -> &'static [Field] {
        match (step, self) {
            (Step::Kind, _) => &[],
            (Step::Find, Mode::Autodiscover) => &[Field::Email],
            (Step::Find, Mode::OutlookAnywhere) => &[Field::RpcProxy, Field::ExchangeServer],
            (Step::Find, _) => &[],
            (Step::Details, Mode::Autodiscover | Mode::OutlookAnywhere) => {
                &[Field::User, Field::Password, Field::TargetMailbox]
            }
            (Step::Details, _) => self.fields(),
        }
    }

    /// The number of `step` in this mode (1-based) and how many steps it has.
    pub fn step_number(self, step: Step) -> (usize, usize) {
        let steps = self.steps();
        let at = steps.iter().position(|s| *s == step).unwrap_or(0);
        (at + 1, steps.len())
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
