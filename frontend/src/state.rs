//! The page state and every change to it (a `Reducible`, as in yew's `function_todomvc`).

mod fragment;
mod mode;
#[cfg(test)]
mod tests;
mod tree;

use std::rc::Rc;

use migcheck_shared::request::ValidRequest;
use migcheck_shared::{
    AuthMethod, AutodiscoverTarget, DiagnoseRequest, Event, Field, HostTarget, InputError, OutlookAnywhereTarget,
    Password, RelayInfo, RemoteMoveTarget, Report,
};
use yew::Reducible;

pub use mode::{Kind, Mode, Step};
use tree::find_mut;
pub use tree::{Node, NodeStatus};

/// An error to show: next to the field it names, or at the top of the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownError {
    pub field: Option<String>,
    pub message: String,
}

/// The pseudo field of errors shown next to the Run button (the relay busy or out of reach).
pub const RUN_FIELD: &str = "run";
/// The field of the relay's access token (the relay's 401 names it).
pub const TOKEN_FIELD: &str = "token";

/// The whole page. Its `Debug` shows no password ([`Password`] redacts itself).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
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
    /// The fields edited at least once (no error is shown for a field never touched), by request name.
    pub touched: Vec<&'static str>,
    /// The user agreed that the password may go to servers outside the e-mail address's domain.
    pub allow_redirect: bool,
    pub running: bool,
    /// Increases with each run, so the events of an older stream are dropped.
    pub run: u64,
    pub tree: Vec<Node>,
    pub report: Option<Report>,
    pub error: Option<ShownError>,
    pub info: Option<RelayInfo>,
    /// The wizard's current step.
    pub step: Step,
    /// The last run was cancelled: its finished checks stay, no verdict.
    pub cancelled: bool,
    /// Increases each time the password is set from outside its input (a demo), so the input follows.
    pub password_filled: u64,
    /// The relay's access token (`migcheck serve --token-env`), held like the password: memory only.
    pub token: Password,
    /// The relay asked for its access token: the page shows the token field.
    pub needs_token: bool,
}

/// Every change the page can make to its state.
#[derive(Debug)]
pub enum Action {
    SetMode(Mode),
    SetHost(String),
    SetPort(String),
    SetEmail(String),
    SetRpcProxy(String),
    SetExchangeServer(String),
    SetAuth(AuthMethod),
    SetRemoteServer(String),
    SetUser(String),
    SetPassword(Password),
    SetTargetMailbox(String),
    SetAllowRedirect(bool),
    /// The wizard's first question answered.
    SetKind(Kind),
    /// The wizard's Next: to the next step, or, when a field of this step is wrong, shows why.
    Next,
    /// The wizard's Back.
    Back,
    /// Fills the wizard with a ready-made request (a demo, password included), ready to run.
    Fill(DiagnoseRequest),
    /// Fills the wizard from the page URL's fragment (see [`State::fragment`]); never a password.
    Reopen(String),
    /// The user cancelled run `run`: what finished stays, the rest is stopped, later events are dropped.
    Cancel {
        run: u64,
    },
    /// The page is left (or put in the back-forward cache): the password is dropped (and wiped).
    ForgetPassword,
    /// Run number `run` begins (the request goes out): clears the previous result.
    Start {
        run: u64,
    },
    /// One event of the stream of run `run`.
    Event {
        run: u64,
        event: Event,
    },
    /// The stream of run `run` ended (after `done`, `error` or a cut).
    Ended {
        run: u64,
    },
    Info(RelayInfo),
    /// The relay answered 401: it has an access token and this page has not given it (or a wrong one).
    NeedsToken {
        refused: bool,
    },
    SetToken(Password),
}

impl State {
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
            }),
        })
    }

    /// The message to show under `field`: what the user typed wrong, else what the relay said.
    pub fn field_error(&self, field: &str) -> Option<String> {
        use migcheck_shared::input::{parse_email, parse_host, parse_rpc_server, parse_user};
        let typed = match field {
            _ if !self.touched.contains(&field) => None,
            "host" => parse_host(Field::Host, &self.host).err(),
            "port" => self.port_value().err(),
            "email" => parse_email(Field::Email, &self.email).err(),
            "rpc_proxy" => parse_host(Field::RpcProxy, &self.rpc_proxy).err(),
            "exchange_server" => parse_rpc_server(Field::ExchangeServer, &self.exchange_server).err(),
            "remote_server" => parse_host(Field::RemoteServer, &self.remote_server).err(),
            // Optional: only an address typed is checked (the rule the request's check applies).
            "target_mailbox" if !self.target_mailbox.trim().is_empty() => {
                parse_email(Field::TargetMailbox, self.target_mailbox.trim()).err()
            }
            // Only the request's own check says that the modes with server names need the account: shown
            // once the fields before it are right.
            "user" if self.mode != Mode::Autodiscover && self.user.trim().is_empty() => {
                self.request().err().filter(|e| e.field == Field::User)
            }
            "user" if !self.user.trim().is_empty() => parse_user(Field::User, &self.user).err(),
            "password" if self.password.is_empty() => Some(InputError::new(
                Field::Password,
                "enter the password of the migration account",
            )),
            _ => None,
        };
        typed.map(|e| e.message).or_else(|| {
            self.error
                .as_ref()
                .filter(|e| e.field.as_deref() == Some(field))
                .map(|e| e.message.clone())
        })
    }

    fn error_is_about(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.field.as_deref() == Some(field))
    }

    fn clear_error_of(&mut self, field: &str) {
        if self.error_is_about(field) {
            self.error = None;
        }
    }

    /// An error that belongs to no field of the form.
    pub fn general_error(&self) -> Option<String> {
        self.error
            .as_ref()
            .filter(|e| {
                !e.field
                    .as_deref()
                    .is_some_and(|f| f == RUN_FIELD || f == TOKEN_FIELD || self.mode.fields().contains(&f))
            })
            .map(|e| e.message.clone())
    }

    /// An error shown next to the Run button: the relay is busy, or out of reach.
    pub fn run_error(&self) -> Option<String> {
        self.error
            .as_ref()
            .filter(|e| e.field.as_deref() == Some(RUN_FIELD))
            .map(|e| e.message.clone())
    }

    /// Whether a field of `step` is wrong (its message shown or not yet).
    pub fn step_has_error(&self, step: Step) -> bool {
        self.first_wrong_field(step).is_some()
    }

    /// The first field of `step` that is wrong (its message shown or not yet), by request name.
    pub fn first_wrong_field(&self, step: Step) -> Option<&'static str> {
        let fields = self.mode.step_fields(step);
        let mut all = self.clone();
        fields.iter().for_each(|f| all.touch(f));
        fields.iter().copied().find(|f| all.field_error(f).is_some())
    }

    /// The wizard's step number (1-based) and how many steps this mode has.
    pub fn step_number(&self) -> (usize, usize) {
        let steps = self.mode.steps();
        let at = steps.iter().position(|s| *s == self.step).unwrap_or(0);
        (at + 1, steps.len())
    }

    /// Sets every field from `request` (a demo's, password included) and goes to the last step.
    fn fill(&mut self, request: DiagnoseRequest) {
        let (mode, password) = match request {
            DiagnoseRequest::Host(t) => {
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
                self.user = t.user;
                self.target_mailbox = t.target_mailbox;
                (Mode::RemoteMove, t.password)
            }
        };
        self.mode = mode;
        self.password = password;
        self.password_filled += 1;
        self.error = None;
        self.touch_all();
        self.step = Step::Details;
    }

    /// (finished, started) over the live tree.
    pub fn progress(&self) -> (usize, usize) {
        self.tree
            .iter()
            .map(Node::count)
            .fold((0, 0), |(f, t), (cf, ct)| (f + cf, t + ct))
    }

    /// No error is shown for a field until it is touched.
    fn touch(&mut self, field: &'static str) {
        if !self.touched.contains(&field) {
            self.touched.push(field);
        }
    }

    /// Marks `field` edited, drops what the relay said about it, and hands `value` back to be stored.
    fn edited<T>(&mut self, field: &'static str, value: T) -> T {
        self.touch(field);
        self.error = self.error.take().filter(|e| e.field.as_deref() != Some(field));
        value
    }

    /// From now on every field says what is wrong with it.
    fn touch_all(&mut self) {
        for mode in Mode::ALL {
            mode.fields().iter().for_each(|field| self.touch(field));
        }
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Started { id, title, parent } => {
                if find_mut(&mut self.tree, &id).is_some() {
                    return;
                }
                let node = Node::running(id, title);
                match parent.and_then(|p| find_mut(&mut self.tree, &p)) {
                    Some(parent) => parent.children.push(node),
                    None => self.tree.push(node),
                }
            }
            Event::Finished { check } => match find_mut(&mut self.tree, &check.id) {
                Some(node) => node.merge(&check),
                None => self.tree.push(Node::from(&check)),
            },
            Event::Done { report } => {
                self.tree = report.checks.iter().map(Node::from).collect();
                self.report = Some(report);
                self.running = false;
            }
            Event::Error { message, field } => {
                self.error = Some(ShownError { field, message });
                self.running = false;
                self.tree.iter_mut().for_each(Node::stop);
            }
        }
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::SetKind(kind) => {
                let mode = match kind {
                    _ if next.mode.kind() == kind => next.mode,
                    Kind::Staged => Mode::Autodiscover,
                    Kind::RemoteMove => Mode::RemoteMove,
                    Kind::Host => Mode::Host,
                };
                return self.reduce(Action::SetMode(mode));
            }
            Action::Next => {
                let step = next.step;
                if next.step_has_error(step) {
                    // Say what is wrong rather than move on.
                    next.mode.step_fields(step).iter().for_each(|f| next.touch(f));
                } else if let Some(at) = next.mode.steps().iter().position(|s| *s == step) {
                    next.step = next.mode.steps().get(at + 1).copied().unwrap_or(step);
                }
            }
            Action::Back => {
                let steps = next.mode.steps();
                let at = steps.iter().position(|s| *s == next.step).unwrap_or(0);
                next.step = steps[at.saturating_sub(1)];
            }
            Action::Fill(request) => next.fill(request),
            Action::Reopen(fragment) => next.reopen(&fragment),
            Action::Cancel { run } => {
                if run != next.run || !next.running {
                    return self;
                }
                next.running = false;
                next.cancelled = true;
                next.tree.iter_mut().for_each(Node::stop);
            }
            Action::SetMode(mode) => {
                next.mode = mode;
                // The relay's word on a field of the other form no longer applies.
                next.error = next.error.filter(|e| e.field.is_none());
            }
            Action::SetHost(host) => next.host = next.edited("host", host),
            Action::SetPort(port) => next.port = next.edited("port", port),
            Action::SetEmail(email) => next.email = next.edited("email", email),
            Action::SetRpcProxy(proxy) => next.rpc_proxy = next.edited("rpc_proxy", proxy),
            Action::SetExchangeServer(server) => next.exchange_server = next.edited("exchange_server", server),
            Action::SetAuth(auth) => next.auth = auth,
            Action::SetRemoteServer(server) => next.remote_server = next.edited("remote_server", server),
            Action::SetUser(user) => next.user = next.edited("user", user),
            Action::SetPassword(password) => next.password = next.edited("password", password),
            Action::SetTargetMailbox(mailbox) => next.target_mailbox = next.edited("target_mailbox", mailbox),
            Action::SetAllowRedirect(allow) => next.allow_redirect = allow,
            Action::ForgetPassword => {
                if next.password.is_empty() && next.token.is_empty() {
                    return self;
                }
                next.password = Password::default();
                next.token = Password::default();
            }
            Action::Start { run } => {
                if run <= next.run {
                    return self;
                }
                next.run = run;
                next.running = true;
                next.cancelled = false;
                next.touch_all();
                next.tree.clear();
                next.report = None;
                next.error = None;
            }
            Action::Event { run, event } => {
                if run != next.run || next.cancelled {
                    return self;
                }
                next.apply(event);
                next.needs_token |= next.error_is_about(TOKEN_FIELD);
            }
            Action::Ended { run } => {
                if run != next.run || next.cancelled {
                    return self;
                }
                next.running = false;
                next.tree.iter_mut().for_each(Node::stop);
            }
            Action::Info(info) => {
                next.info = Some(info);
                next.clear_error_of(TOKEN_FIELD);
            }
            Action::NeedsToken { refused } => {
                next.needs_token = true;
                if refused {
                    next.error = Some(ShownError {
                        field: Some(TOKEN_FIELD.into()),
                        message: "The relay did not accept this access token.".into(),
                    });
                }
            }
            Action::SetToken(token) => {
                next.token = token;
                next.clear_error_of(TOKEN_FIELD);
            }
        }
        Rc::new(next)
    }
}
