//! The form: what the user typed, checked with the relay's own rules as it is typed.

use migcheck_shared::request::ValidRequest;
use migcheck_shared::{
    AuthMethod, AutodiscoverTarget, DiagnoseRequest, Field, HostTarget, InputError, OutlookAnywhereTarget, Password,
    RemoteMoveTarget,
};

use super::{Mode, Place, ShownError, Step};

/// The inputs of the wizard. Its `Debug` shows no password ([`Password`] redacts itself).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Form {
    pub mode: Mode,
    pub host: String,
    pub port: String,
    pub email: String,
    /// The RPC proxy server (`-RPCProxyServer`) of the Outlook Anywhere mode.
    pub rpc_proxy: String,
    /// The RPC server behind the proxy (`-ExchangeServer`): an FQDN or `<mailbox-guid>@<domain>`.
    pub exchange_server: String,
    /// `-Authentication` of the Outlook Anywhere mode.
    pub auth: AuthMethod,
    /// The MRS Proxy host (`-RemoteServer`) of the remote-move mode.
    pub remote_server: String,
    /// The migration account; in the Autodiscover mode empty means the e-mail address.
    pub user: String,
    /// Only here and in the request body: never in the URL, the DOM's text, storage or a log.
    pub password: Password,
    /// A mailbox the account must open with Full Access; empty: the e-mail address (Autodiscover mode), or
    /// not checked (the other modes that log on).
    pub target_mailbox: String,
    /// The servers behind the remote server's name, each checked directly (`ex01,ex02`); offered only by
    /// a relay inside a network.
    pub servers: String,
    /// The internal server a Hybrid Agent publishes (its `-targetUri`), with an agent's name as the remote
    /// server; offered only by a relay inside a network.
    pub agent_target: String,
    /// The relay serving the page reaches inside a network (`RelayInfo::inside`): only then are the
    /// servers behind the name and an agent's published server offered, and sent.
    pub inside: bool,
    /// The user agreed that the password may go to servers outside the e-mail address's domain.
    pub allow_redirect: bool,
    /// The relay the one serving the page compares with (`RelayInfo::compare_with`, issue 23): only then is
    /// "Compare with the internet's view" offered, naming it.
    pub compare_with: Option<String>,
    /// "Compare with the internet's view" ticked: the run asks for that relay's view beside this one's.
    pub compare: bool,
    /// "Also send the password to that relay" ticked: consent, so unticked by default and again whenever
    /// the comparison or the mode changes (see [`Form::compare`]).
    pub send_password: bool,
    /// The fields edited at least once (no error is shown for a field never touched).
    pub touched: Vec<Field>,
    /// Increases each time the password is set from outside its input (a demo), so the input follows.
    pub password_filled: u64,
}

/// What a run asks of the relay besides its own diagnosis (issue 23): the view of the relay it compares
/// with, from the internet. `api` turns it into the query string; nothing typed goes there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compare {
    /// The password goes to that relay too (the user's second box), so it runs every check from outside.
    pub send_password: bool,
}

impl Form {
    /// What the run asks besides the diagnosis: the comparison only when the relay offers one and its box
    /// is ticked; the password along only with its own box, and only in a mode that has a password (in
    /// the host mode there is none to send, so the box is neither shown nor read).
    pub fn compare(&self) -> Option<Compare> {
        (self.compare && self.compare_with.is_some()).then(|| Compare {
            send_password: self.send_password && self.mode.logs_on(),
        })
    }

    /// Changes the mode; consent to send the password to the outside relay was given for the mode it was
    /// given in, so another mode asks for it again.
    pub(super) fn set_mode(&mut self, mode: Mode) {
        if self.mode != mode {
            self.send_password = false;
        }
        self.mode = mode;
    }

    /// The port field: empty means "the default" (443, or the port of a pasted URL).
    fn port_value(&self) -> Result<Option<u16>, InputError> {
        match self.port.trim() {
            "" => Ok(None),
            text => match text.parse::<u16>() {
                Ok(p) if p > 0 => Ok(Some(p)),
                _ => Err(InputError::new(
                    Field::Port,
                    "enter a port number from 1 to 65535, or leave it empty for 443",
                )),
            },
        }
    }

    /// The request the form describes, or the first field at fault (checked with the relay's own rules).
    pub fn request(&self) -> Result<DiagnoseRequest, InputError> {
        let request = self.build(self.password.clone())?;
        request.validate().map(|_: ValidRequest| request)
    }

    /// The request the form describes whether or not the password is typed yet, with no password: for
    /// the command lines and the reopen link. `None` while another field is wrong.
    pub fn draft(&self) -> Option<DiagnoseRequest> {
        self.build(Password::new("-")).ok()?.validate().ok()?;
        self.build(Password::default()).ok()
    }

    fn build(&self, password: Password) -> Result<DiagnoseRequest, InputError> {
        Ok(match self.mode {
            Mode::Host => DiagnoseRequest::Host(HostTarget {
                host: self.host.trim().to_string(),
                port: self.port_value()?,
            }),
            Mode::Autodiscover => DiagnoseRequest::Autodiscover(AutodiscoverTarget {
                email: self.email.trim().to_string(),
                user: self.user.trim().to_string(),
                password,
                allow_credential_redirect: self.allow_redirect,
                target_mailbox: self.target_mailbox.trim().to_string(),
            }),
            Mode::OutlookAnywhere => DiagnoseRequest::OutlookAnywhere(OutlookAnywhereTarget {
                rpc_proxy: self.rpc_proxy.trim().to_string(),
                exchange_server: self.exchange_server.trim().to_string(),
                auth: self.auth,
                user: self.user.trim().to_string(),
                password,
                target_mailbox: self.target_mailbox.trim().to_string(),
            }),
            Mode::RemoteMove => DiagnoseRequest::RemoteMove(RemoteMoveTarget {
                remote_server: self.remote_server.trim().to_string(),
                user: self.user.trim().to_string(),
                password,
                target_mailbox: self.target_mailbox.trim().to_string(),
                // A field not shown is not sent: it could neither be seen nor be put right.
                servers: if self.shows(Field::Servers) {
                    self.servers.trim().to_string()
                } else {
                    String::new()
                },
                agent_target: if self.shows(Field::AgentTarget) {
                    self.agent_target.trim().to_string()
                } else {
                    String::new()
                },
            }),
        })
    }

    /// Whether the remote move's field for servers inside a network is shown: the servers behind the name
    /// for an ordinary name, the published server for a Hybrid Agent's name; neither from a relay that
    /// does not reach inside a network.
    pub fn shows(&self, field: Field) -> bool {
        let agent = migcheck_shared::input::hybrid_agent_app_id(self.remote_server.trim()).is_some();
        match field {
            Field::Servers => self.inside && !agent,
            Field::AgentTarget => self.inside && agent,
            _ => true,
        }
    }

    /// The message to show under `field`: what the user typed wrong, else what the relay `said` about it.
    pub fn field_error(&self, field: Field, said: Option<&ShownError>) -> Option<String> {
        use migcheck_shared::input::{parse_email, parse_host, parse_rpc_server, parse_user};
        use migcheck_shared::request::parse_servers;
        let typed = match field {
            _ if !self.touched.contains(&field) => None,
            Field::Host => parse_host(field, &self.host).err(),
            Field::Port => self.port_value().err(),
            Field::Email => parse_email(field, &self.email).err(),
            Field::RpcProxy => parse_host(field, &self.rpc_proxy).err(),
            Field::ExchangeServer => parse_rpc_server(field, &self.exchange_server).err(),
            Field::RemoteServer => parse_host(field, &self.remote_server).err(),
            // Optional: only an address typed is checked (the rule the request's check applies).
            Field::TargetMailbox if !self.target_mailbox.trim().is_empty() => {
                parse_email(field, self.target_mailbox.trim()).err()
            }
            Field::Servers if self.shows(field) && !self.servers.trim().is_empty() => {
                parse_servers(&self.servers).err()
            }
            Field::AgentTarget if self.shows(field) && !self.agent_target.trim().is_empty() => {
                self.request().err().filter(|e| e.field == Field::AgentTarget)
            }
            // Only the request's own check says that the modes with server names need the account: shown
            // once the fields before it are right.
            Field::User if self.mode != Mode::Autodiscover && self.user.trim().is_empty() => {
                self.request().err().filter(|e| e.field == Field::User)
            }
            Field::User if !self.user.trim().is_empty() => parse_user(field, &self.user).err(),
            Field::Password if self.password.is_empty() => {
                Some(InputError::new(field, "enter the password of the migration account"))
            }
            _ => None,
        };
        typed
            .map(|e| e.message)
            .or_else(|| said.and_then(|e| e.at(Place::Field(field))))
    }

    /// Whether a field of `step` is wrong (its message shown or not yet).
    pub fn step_has_error(&self, step: Step, said: Option<&ShownError>) -> bool {
        self.first_wrong_field(step, said).is_some()
    }

    /// The first field of `step` that is wrong (its message shown or not yet).
    pub fn first_wrong_field(&self, step: Step, said: Option<&ShownError>) -> Option<Field> {
        let fields = self.mode.step_fields(step);
        let mut all = self.clone();
        fields.iter().for_each(|f| all.touch(*f));
        fields.iter().copied().find(|f| all.field_error(*f, said).is_some())
    }

    /// Where the wizard opens on these inputs: the first step with a wrong field, else the last.
    pub(super) fn step_to_open(&self, said: Option<&ShownError>) -> Step {
        self.mode.steps()[1..]
            .iter()
            .copied()
            .find(|s| *s != Step::Details && self.step_has_error(*s, said))
            .unwrap_or(Step::Details)
    }

    /// Sets every field from `request` (a demo's, password included).
    pub(super) fn fill(&mut self, request: DiagnoseRequest) {
        let (mode, password) = match request {
            // The page runs no outside view by itself: one read as the host it is about.
            DiagnoseRequest::Host(t) | DiagnoseRequest::Outside(t) => {
                self.host = t.host;
                self.port = t.port.map(|p| p.to_string()).unwrap_or_default();
                (Mode::Host, Password::default())
            }
            DiagnoseRequest::Autodiscover(t) => {
                self.email = t.email;
                self.user = t.user;
                self.allow_redirect = t.allow_credential_redirect;
                self.target_mailbox = t.target_mailbox;
                (Mode::Autodiscover, t.password)
            }
            DiagnoseRequest::OutlookAnywhere(t) => {
                self.rpc_proxy = t.rpc_proxy;
                self.exchange_server = t.exchange_server;
                self.auth = t.auth;
                self.user = t.user;
                self.target_mailbox = t.target_mailbox;
                (Mode::OutlookAnywhere, t.password)
            }
            DiagnoseRequest::RemoteMove(t) => {
                self.remote_server = t.remote_server;
                self.servers = t.servers;
                self.agent_target = t.agent_target;
                self.user = t.user;
                self.target_mailbox = t.target_mailbox;
                (Mode::RemoteMove, t.password)
            }
        };
        self.set_mode(mode);
        self.password = password;
        self.password_filled += 1;
        self.touch_all();
    }

    /// No error is shown for a field until it is touched.
    pub(super) fn touch(&mut self, field: Field) {
        if !self.touched.contains(&field) {
            self.touched.push(field);
        }
    }

    /// From now on every field says what is wrong with it.
    pub(super) fn touch_all(&mut self) {
        for mode in Mode::ALL {
            mode.fields().iter().for_each(|field| self.touch(*field));
        }
    }
}
