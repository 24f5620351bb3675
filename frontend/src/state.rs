//! The page state and every change to it (a `Reducible`, as in yew's `function_todomvc`).

use std::rc::Rc;

use migcheck_shared::request::ValidRequest;
use migcheck_shared::{
    AuthMethod, AutodiscoverTarget, Check, DiagnoseRequest, Event, Evidence, HostTarget, InputError,
    OutlookAnywhereTarget, Password, RelayInfo, RemoteMoveTarget, Report, Status,
};
use yew::Reducible;

/// What a tree node shows: `Running` until its `finished` event arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Running,
    /// The stream ended (an error, a cut) before this check finished.
    Stopped,
    Done(Status),
}

impl NodeStatus {
    /// The word on the badge.
    pub fn word(self) -> &'static str {
        match self {
            NodeStatus::Stopped => "stopped",
            other => other.label(),
        }
    }

    /// The value of the `data-status` hook.
    pub fn label(self) -> &'static str {
        match self {
            NodeStatus::Running => "running",
            // Not run to its end: for the hooks, the same as a check that was skipped.
            NodeStatus::Stopped => "skip",
            NodeStatus::Done(s) => s.label(),
        }
    }
}

/// One node of the live check tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: String,
    pub title: String,
    pub status: NodeStatus,
    pub summary: String,
    pub evidence: Evidence,
    pub elapsed_ms: Option<u64>,
    pub kb_step: Option<u8>,
    pub children: Vec<Node>,
}

impl Node {
    fn running(id: String, title: String) -> Self {
        Node {
            id,
            title,
            status: NodeStatus::Running,
            summary: String::new(),
            evidence: Evidence::default(),
            elapsed_ms: None,
            kb_step: None,
            children: Vec::new(),
        }
    }

    /// Takes what a finished check says, keeping the children it does not mention.
    fn merge(&mut self, check: &Check) {
        self.title.clone_from(&check.title);
        self.status = NodeStatus::Done(check.status);
        self.summary.clone_from(&check.summary);
        self.evidence = check.evidence.clone();
        self.elapsed_ms = Some(check.elapsed_ms);
        self.kb_step = check.kb_step;
        for child in &check.children {
            match self.children.iter_mut().find(|n| n.id == child.id) {
                Some(node) => node.merge(child),
                None => self.children.push(Node::from(child)),
            }
        }
    }

    /// Marks every check still running as stopped.
    fn stop(&mut self) {
        if self.status == NodeStatus::Running {
            self.status = NodeStatus::Stopped;
        }
        self.children.iter_mut().for_each(Node::stop);
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut Node> {
        if self.id == id {
            return Some(self);
        }
        self.children.iter_mut().find_map(|c| c.find_mut(id))
    }

    /// (finished, total) over this node and everything below it.
    fn count(&self) -> (usize, usize) {
        let own = usize::from(self.status != NodeStatus::Running);
        self.children
            .iter()
            .map(Node::count)
            .fold((own, 1), |(f, t), (cf, ct)| (f + cf, t + ct))
    }
}

impl From<&Check> for Node {
    fn from(check: &Check) -> Self {
        let mut node = Node::running(check.id.clone(), check.title.clone());
        node.merge(check);
        node
    }
}

/// The keys of the reopen link in `mode`, besides `mode` itself: never the password.
fn fragment_keys(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::Autodiscover => &["email", "user", "target_mailbox", "allow_redirect"],
        Mode::Host => &["host", "port"],
        Mode::OutlookAnywhere => &["rpc_proxy", "exchange_server", "auth", "user", "target_mailbox"],
        Mode::RemoteMove => &["remote_server", "user", "target_mailbox"],
    }
}

/// Percent-encodes all but the unreserved characters (as `encodeURIComponent`, and `'` too).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Undoes [`encode`] (and `+` for a space, as a form would write it); a broken escape stays as it is.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find_mut<'a>(nodes: &'a mut [Node], id: &str) -> Option<&'a mut Node> {
    nodes.iter_mut().find_map(|n| n.find_mut(id))
}

/// An error to show: next to the field it names, or at the top of the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownError {
    pub field: Option<String>,
    pub message: String,
}

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

/// The pseudo field of errors shown next to the Run button (the relay busy or out of reach).
pub const RUN_FIELD: &str = "run";
/// The field of the relay's access token (the relay's 401 names it).
pub const TOKEN_FIELD: &str = "token";

/// The longest value the reopen link may set in a field (longer is cut).
const FRAGMENT_VALUE_MAX: usize = 320;

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
                    "port",
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
            "host" => parse_host("host", &self.host).err(),
            "port" => self.port_value().err(),
            "email" => parse_email("email", &self.email).err(),
            "rpc_proxy" => parse_host("rpc_proxy", &self.rpc_proxy).err(),
            "exchange_server" => parse_rpc_server("exchange_server", &self.exchange_server).err(),
            "remote_server" => parse_host("remote_server", &self.remote_server).err(),
            // Optional: only an address typed is checked (the rule the request's check applies).
            "target_mailbox" if !self.target_mailbox.trim().is_empty() => {
                parse_email("target_mailbox", self.target_mailbox.trim()).err()
            }
            // Only the request's own check says that the modes with server names need the account: shown
            // once the fields before it are right.
            "user" if self.mode != Mode::Autodiscover && self.user.trim().is_empty() => {
                self.request().err().filter(|e| e.field == "user")
            }
            "user" if !self.user.trim().is_empty() => parse_user("user", &self.user).err(),
            "password" if self.password.is_empty() => Some(InputError::new(
                "password",
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
        let fields = self.mode.step_fields(step);
        let mut all = self.clone();
        fields.iter().for_each(|f| all.touch(f));
        fields.iter().any(|f| all.field_error(f).is_some())
    }

    /// The wizard's step number (1-based) and how many steps this mode has.
    pub fn step_number(&self) -> (usize, usize) {
        let steps = self.mode.steps();
        let at = steps.iter().position(|s| *s == self.step).unwrap_or(0);
        (at + 1, steps.len())
    }

    /// The inputs as a URL fragment that reopens the wizard with them (`mode=host&host=...`): the fields of
    /// the mode that are filled in, URL-encoded, and never the password.
    pub fn fragment(&self) -> String {
        let mut pairs = vec![("mode", self.mode.name().to_string())];
        for key in fragment_keys(self.mode) {
            let value = match *key {
                "auth" => self.auth_name().to_string(),
                "allow_redirect" if self.allow_redirect => "1".into(),
                key => self.text(key).map(|v| v.trim().to_string()).unwrap_or_default(),
            };
            if !value.is_empty() {
                pairs.push((key, value));
            }
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn auth_name(&self) -> &'static str {
        match self.auth {
            AuthMethod::Basic => "basic",
            AuthMethod::Ntlm => "ntlm",
        }
    }

    /// The text field named `key` (by its request name); the password is not one.
    fn text(&self, key: &str) -> Option<&String> {
        Some(match key {
            "host" => &self.host,
            "port" => &self.port,
            "email" => &self.email,
            "rpc_proxy" => &self.rpc_proxy,
            "exchange_server" => &self.exchange_server,
            "remote_server" => &self.remote_server,
            "user" => &self.user,
            "target_mailbox" => &self.target_mailbox,
            _ => return None,
        })
    }

    /// Fills the fields from a fragment made by [`State::fragment`]: unknown keys, keys of another mode and
    /// the password are ignored, values are cut at [`FRAGMENT_VALUE_MAX`] characters. Without a known
    /// mode nothing changes. The wizard opens at the first step with a wrong field, else the last.
    fn reopen(&mut self, fragment: &str) {
        let pairs: Vec<(String, String)> = fragment
            .trim_start_matches('#')
            .split('&')
            .take(32)
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v).chars().take(FRAGMENT_VALUE_MAX).collect()))
            .collect();
        let Some(mode) = pairs
            .iter()
            .find(|(k, _)| k == "mode")
            .and_then(|(_, v)| Mode::ALL.into_iter().find(|m| m.name() == v))
        else {
            return;
        };
        self.mode = mode;
        for (key, value) in &pairs {
            let Some(key) = fragment_keys(mode).iter().find(|k| **k == key.as_str()) else {
                continue;
            };
            match *key {
                "auth" => {
                    self.auth = if value == "ntlm" {
                        AuthMethod::Ntlm
                    } else {
                        AuthMethod::Basic
                    }
                }
                "allow_redirect" => self.allow_redirect = value == "1",
                _ => {
                    if let Some(field) = self.text_mut(key) {
                        field.clone_from(value);
                        self.touch(key);
                    }
                }
            }
        }
        self.step = mode.steps()[1..]
            .iter()
            .copied()
            .find(|s| *s != Step::Details && self.step_has_error(*s))
            .unwrap_or(Step::Details);
    }

    fn text_mut(&mut self, key: &str) -> Option<&mut String> {
        Some(match key {
            "host" => &mut self.host,
            "port" => &mut self.port,
            "email" => &mut self.email,
            "rpc_proxy" => &mut self.rpc_proxy,
            "exchange_server" => &mut self.exchange_server,
            "remote_server" => &mut self.remote_server,
            "user" => &mut self.user,
            "target_mailbox" => &mut self.target_mailbox,
            _ => return None,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, status: Status, children: Vec<Check>) -> Check {
        Check {
            id: id.into(),
            title: id.into(),
            status,
            summary: format!("{id} summary"),
            evidence: Evidence::default(),
            elapsed_ms: 7,
            timings: Vec::new(),
            kb_step: Some(2),
            children,
        }
    }

    fn started(id: &str, parent: Option<&str>) -> Event {
        Event::Started {
            id: id.into(),
            title: id.into(),
            parent: parent.map(Into::into),
        }
    }

    fn run(state: Rc<State>, events: Vec<Event>) -> Rc<State> {
        let run = state.run + 1;
        let mut state = state.reduce(Action::Start { run });
        let run = state.run;
        for event in events {
            state = state.reduce(Action::Event { run, event });
        }
        state
    }

    /// Runs `state` once more, the relay refusing it with `message` about `field`.
    fn relay_said(state: Rc<State>, field: &str, message: &str) -> Rc<State> {
        run(
            state,
            vec![Event::Error {
                message: message.into(),
                field: Some(field.into()),
            }],
        )
    }

    /// What the relay says about each field of the mode is shown under that field, not at the top.
    fn assert_relay_errors_under_fields(s: &Rc<State>) {
        for field in s.mode.fields() {
            let s = relay_said(s.clone(), field, &format!("relay: bad {field}"));
            assert_eq!(s.field_error(field), Some(format!("relay: bad {field}")));
            assert_eq!(s.general_error(), None, "{field} is shown under its field");
        }
    }

    /// `s` switched to the Autodiscover mode with an address, and the request it builds there.
    fn as_autodiscover(s: &Rc<State>) -> (Rc<State>, AutodiscoverTarget) {
        let a = s
            .clone()
            .reduce(Action::SetMode(Mode::Autodiscover))
            .reduce(Action::SetEmail("alice@contoso.com".into()));
        match a.request() {
            Ok(DiagnoseRequest::Autodiscover(target)) => (a, target),
            other => panic!("not an Autodiscover request: {other:?}"),
        }
    }

    #[test]
    fn started_events_build_the_tree_under_their_parent() {
        let s = run(
            Rc::default(),
            vec![
                started("tls", None),
                started("tls.chain", Some("tls")),
                started("net", None),
            ],
        );
        assert_eq!(s.tree.len(), 2);
        assert_eq!(s.tree[0].children[0].id, "tls.chain");
        assert_eq!(s.tree[0].children[0].status, NodeStatus::Running);
        assert_eq!(s.progress(), (0, 3));
        assert!(s.running);
    }

    #[test]
    fn finished_parent_merges_its_children_by_id() {
        let s = run(
            Rc::default(),
            vec![
                started("tls", None),
                started("tls.chain", Some("tls")),
                Event::Finished {
                    check: check(
                        "tls",
                        Status::Fail,
                        vec![
                            check("tls.chain", Status::Pass, vec![]),
                            check("tls.dates", Status::Fail, vec![]),
                        ],
                    ),
                },
            ],
        );
        let tls = &s.tree[0];
        assert_eq!(tls.status, NodeStatus::Done(Status::Fail));
        assert_eq!(tls.children.len(), 2);
        assert_eq!(tls.children[0].status, NodeStatus::Done(Status::Pass));
        assert_eq!(tls.children[1].id, "tls.dates");
        assert_eq!(s.progress(), (3, 3));
    }

    #[test]
    fn the_token_field_shows_the_relays_refusal_until_the_token_changes() {
        let s = run(
            Rc::default(),
            vec![Event::Error {
                message: "this relay needs its access token".into(),
                field: Some(TOKEN_FIELD.into()),
            }],
        );
        assert!(s.needs_token);
        assert_eq!(
            s.field_error(TOKEN_FIELD).as_deref(),
            Some("this relay needs its access token")
        );
        assert_eq!(s.general_error(), None, "shown at the field, not at the top");
        let s = s.reduce(Action::SetToken(Password::new("t0ken")));
        assert_eq!(s.field_error(TOKEN_FIELD), None);
        let s = s.reduce(Action::NeedsToken { refused: true });
        assert_eq!(
            s.field_error(TOKEN_FIELD).as_deref(),
            Some("The relay did not accept this access token.")
        );
        let s = s.reduce(Action::ForgetPassword);
        assert!(s.token.is_empty() && s.needs_token);
        assert!(!format!("{s:?}").contains("t0ken"));
    }

    #[test]
    fn events_of_an_older_run_are_dropped() {
        let s = run(Rc::default(), vec![started("net", None)]);
        let s = s.reduce(Action::Start { run: 2 });
        let s = s.reduce(Action::Event {
            run: 1,
            event: started("tls", None),
        });
        assert!(s.tree.is_empty());
        assert_eq!(s.reduce(Action::Start { run: 2 }).run, 2, "a repeated start is ignored");
    }

    #[test]
    fn errors_go_to_their_field_and_clear_when_it_is_edited() {
        let s = run(
            Rc::default(),
            vec![Event::Error {
                message: "no such host".into(),
                field: Some("host".into()),
            }],
        );
        let s = s.reduce(Action::SetHost("mail.contoso.com".into()));
        assert_eq!(s.field_error("host"), None);
        let run_id = s.run;
        let s = s.reduce(Action::Event {
            run: run_id,
            event: Event::Error {
                message: "busy".into(),
                field: None,
            },
        });
        assert_eq!(s.general_error().as_deref(), Some("busy"));
        let s = run(
            Rc::default(),
            vec![
                started("tls", None),
                Event::Error {
                    message: "cut".into(),
                    field: None,
                },
            ],
        );
        assert_eq!(
            s.tree[0].status,
            NodeStatus::Stopped,
            "no check stays running once the run ended"
        );
        assert!(!s.running);
    }

    #[test]
    fn the_form_is_validated_with_the_shared_rules() {
        let s = Rc::<State>::default()
            .reduce(Action::SetMode(Mode::Host))
            .reduce(Action::SetHost("mail contoso.com".into()));
        assert!(s.field_error("host").is_some_and(|m| m.contains("spaces")));
        let s = s
            .reduce(Action::SetHost("https://mail.contoso.com/owa".into()))
            .reduce(Action::SetPort("0".into()));
        assert_eq!(s.request().expect_err("port 0").field, "port");
        assert!(s.field_error("port").is_some());
        let s = s.reduce(Action::SetPort("".into()));
        assert_eq!(
            s.request().ok(),
            Some(DiagnoseRequest::Host(HostTarget {
                host: "https://mail.contoso.com/owa".into(),
                port: None
            }))
        );
        assert!(
            Rc::<State>::default().field_error("host").is_none(),
            "an untouched field shows no error"
        );
    }

    fn autodiscover(email: &str, user: &str, password: &str) -> Rc<State> {
        Rc::<State>::default()
            .reduce(Action::SetEmail(email.into()))
            .reduce(Action::SetUser(user.into()))
            .reduce(Action::SetPassword(Password::new(password)))
    }

    #[test]
    fn autodiscover_is_the_first_mode_and_builds_its_request() {
        assert_eq!(State::default().mode, Mode::Autodiscover);
        let s =
            autodiscover(" alice@contoso.com ", "CONTOSO\\alice", "Pa55 word!").reduce(Action::SetAllowRedirect(true));
        assert_eq!(
            s.request().ok(),
            Some(DiagnoseRequest::Autodiscover(AutodiscoverTarget {
                email: "alice@contoso.com".into(),
                user: "CONTOSO\\alice".into(),
                password: Password::new("Pa55 word!"),
                allow_credential_redirect: true,
                target_mailbox: String::new(),
            }))
        );
        for field in ["email", "user", "password"] {
            assert_eq!(s.field_error(field), None, "{field}");
        }
        // The other mode keeps its own fields.
        let h = s.reduce(Action::SetMode(Mode::Host));
        assert_eq!(h.request().expect_err("no host yet").field, "host");
    }

    #[test]
    fn autodiscover_fields_are_checked_as_typed() {
        let fresh = Rc::<State>::default();
        assert!(
            ["email", "user", "password"]
                .iter()
                .all(|f| fresh.field_error(f).is_none()),
            "untouched fields show no error"
        );
        assert_eq!(fresh.request().expect_err("empty form").field, "email");
        let s = autodiscover("alice", "", "");
        assert!(s.field_error("email").is_some_and(|m| m.contains("'@'")));
        assert!(s.field_error("password").is_some());
        assert_eq!(s.field_error("user"), None, "an empty user means the e-mail address");
        let s = s
            .reduce(Action::SetEmail("alice@contoso.com".into()))
            .reduce(Action::SetUser("\\alice".into()));
        assert!(s.field_error("user").is_some());
        assert_eq!(s.request().expect_err("bad user").field, "user");
        let s = s.reduce(Action::SetUser("".into()));
        assert_eq!(s.request().expect_err("no password").field, "password");
        let s = s.reduce(Action::SetPassword(Password::new("x")));
        assert!(s.request().is_ok());
    }

    #[test]
    fn the_password_never_shows_and_is_forgotten_when_the_page_is_left() {
        let s = autodiscover("alice@contoso.com", "", "Sup3r-secret!");
        assert!(!format!("{s:?}").contains("Sup3r-secret!"));
        let s = s.reduce(Action::ForgetPassword);
        assert!(s.password.is_empty());
        assert_eq!(s.request().expect_err("forgotten").field, "password");
        assert_eq!(s.email, "alice@contoso.com", "only the password is forgotten");
    }

    #[test]
    fn relay_errors_follow_the_fields_of_the_mode() {
        let error = |field: &str| Event::Error {
            message: format!("bad {field}"),
            field: Some(field.into()),
        };
        let s = run(autodiscover("alice@contoso.com", "", "pw"), vec![error("password")]);
        assert_eq!(s.field_error("password").as_deref(), Some("bad password"));
        assert_eq!(s.general_error(), None, "shown under its field");
        let s = s.reduce(Action::SetPassword(Password::new("pw2")));
        assert_eq!(s.field_error("password"), None, "editing the field clears it");
        // A field the form does not show in this mode is said at the top.
        let s = run(s, vec![error("host")]);
        assert_eq!(s.general_error().as_deref(), Some("bad host"));
        let s = run(s, vec![error("email")]).reduce(Action::SetMode(Mode::Host));
        assert_eq!(s.error, None, "a field error of the other mode goes with the switch");
    }

    fn outlook_anywhere(proxy: &str, server: &str, user: &str, password: &str) -> Rc<State> {
        Rc::<State>::default()
            .reduce(Action::SetMode(Mode::OutlookAnywhere))
            .reduce(Action::SetRpcProxy(proxy.into()))
            .reduce(Action::SetExchangeServer(server.into()))
            .reduce(Action::SetUser(user.into()))
            .reduce(Action::SetPassword(Password::new(password)))
    }

    const MAILBOX_GUID: &str = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com";

    #[test]
    fn outlook_anywhere_builds_its_request_like_the_cmdlet() {
        let s = outlook_anywhere(" mail.contoso.com ", MAILBOX_GUID, " CONTOSO\\migadmin ", "Pa55 word!");
        assert_eq!(s.auth, AuthMethod::Basic, "Basic unless NTLM is chosen");
        let s = s.reduce(Action::SetAuth(AuthMethod::Ntlm));
        assert_eq!(
            s.request().ok(),
            Some(DiagnoseRequest::OutlookAnywhere(OutlookAnywhereTarget {
                rpc_proxy: "mail.contoso.com".into(),
                exchange_server: MAILBOX_GUID.into(),
                auth: AuthMethod::Ntlm,
                user: "CONTOSO\\migadmin".into(),
                password: Password::new("Pa55 word!"),
                target_mailbox: String::new(),
            }))
        );
        let json = serde_json::to_value(s.request().expect("valid")).expect("json");
        assert_eq!(json["mode"], "outlook_anywhere");
        assert_eq!(json["auth"], "ntlm");
        for field in Mode::OutlookAnywhere.fields() {
            assert_eq!(s.field_error(field), None, "{field}");
        }
        // The account and password are the same fields as in the Autodiscover mode.
        let (a, target) = as_autodiscover(&s);
        assert_eq!(
            (target.user.as_str(), target.password),
            ("CONTOSO\\migadmin", Password::new("Pa55 word!"))
        );
        assert_eq!(
            a.reduce(Action::SetMode(Mode::OutlookAnywhere)).request(),
            s.request(),
            "switching back keeps the server names"
        );
    }

    #[test]
    fn outlook_anywhere_fields_are_checked_as_typed() {
        let fresh = Rc::<State>::default().reduce(Action::SetMode(Mode::OutlookAnywhere));
        assert_eq!(fresh.request().expect_err("empty form").field, "rpc_proxy");
        let fields = ["rpc_proxy", "exchange_server", "user", "password"];
        assert!(
            fields.iter().all(|f| fresh.field_error(f).is_none()),
            "untouched fields show no error"
        );
        // A field typed and emptied again says what it needs.
        let emptied = fresh
            .reduce(Action::SetRpcProxy("m".into()))
            .reduce(Action::SetRpcProxy(" ".into()));
        assert!(
            emptied
                .field_error("rpc_proxy")
                .is_some_and(|m| m.contains("server name"))
        );
        assert_eq!(emptied.field_error("exchange_server"), None, "still untouched");

        let s = outlook_anywhere("mail.contoso.com", "alice@contoso.com", "", "pw");
        let says = s
            .field_error("exchange_server")
            .expect("an e-mail address is not a mailbox GUID");
        assert!(says.contains("GUID"), "{says}");
        assert_eq!(s.request().expect_err("bad server").field, "exchange_server");
        assert_eq!(
            s.field_error("user"),
            None,
            "the empty account waits until the fields before it are right"
        );
        let s = s.reduce(Action::SetExchangeServer("EX01.contoso.com".into()));
        assert_eq!(s.field_error("exchange_server"), None);
        assert_eq!(
            s.request().expect_err("no user").field,
            "user",
            "the account is required in this mode"
        );
        assert!(
            s.field_error("user").is_some_and(|m| m.contains("migration account")),
            "{:?}",
            s.field_error("user")
        );
        assert_eq!(
            s.clone()
                .reduce(Action::SetMode(Mode::Autodiscover))
                .field_error("user"),
            None,
            "in the Autodiscover mode an empty account means the e-mail address"
        );
        let s = s
            .reduce(Action::SetUser("migadmin@contoso.com".into()))
            .reduce(Action::SetRpcProxy("mail contoso.com".into()));
        assert!(s.field_error("rpc_proxy").is_some_and(|m| m.contains("spaces")));
        let s = s.reduce(Action::SetRpcProxy("https://mail.contoso.com/rpc/rpcproxy.dll".into()));
        assert!(s.request().is_ok(), "{:?}", s.request());
        assert!(!format!("{s:?}").contains("\"pw\""), "the password is redacted");
    }

    #[test]
    fn relay_errors_go_under_the_outlook_anywhere_fields() {
        let s = outlook_anywhere("mail.contoso.com", "ex01.contoso.com", "migadmin@contoso.com", "pw");
        assert_relay_errors_under_fields(&s);
        let s = relay_said(s, "email", "bad email");
        assert_eq!(
            s.general_error().as_deref(),
            Some("bad email"),
            "not a field of this mode"
        );
        let s = relay_said(s, "rpc_proxy", "no such proxy").reduce(Action::SetRpcProxy("mail2.contoso.com".into()));
        assert_eq!(
            s.field_error("rpc_proxy"),
            None,
            "editing the field clears the relay's word"
        );
    }

    fn remote_move(server: &str, user: &str, password: &str, mailbox: &str) -> Rc<State> {
        Rc::<State>::default()
            .reduce(Action::SetMode(Mode::RemoteMove))
            .reduce(Action::SetRemoteServer(server.into()))
            .reduce(Action::SetUser(user.into()))
            .reduce(Action::SetPassword(Password::new(password)))
            .reduce(Action::SetTargetMailbox(mailbox.into()))
    }

    #[test]
    fn remote_move_builds_its_request_like_the_cmdlet() {
        let s = remote_move(" mail.contoso.com ", " CONTOSO\\migadmin ", "Pa55 word!", "");
        assert_eq!(
            s.request().ok(),
            Some(DiagnoseRequest::RemoteMove(RemoteMoveTarget {
                remote_server: "mail.contoso.com".into(),
                user: "CONTOSO\\migadmin".into(),
                password: Password::new("Pa55 word!"),
                target_mailbox: String::new(),
            }))
        );
        let json = serde_json::to_value(s.request().expect("valid")).expect("json");
        assert_eq!(json["mode"], "remote_move");
        assert_eq!(json["remote_server"], "mail.contoso.com");
        assert!(
            json.get("target_mailbox").is_none(),
            "an empty mailbox is not sent: {json}"
        );
        let s = s.reduce(Action::SetTargetMailbox(" adele@contoso.com ".into()));
        let json = serde_json::to_value(s.request().expect("valid")).expect("json");
        assert_eq!(json["target_mailbox"], "adele@contoso.com");
        for field in Mode::RemoteMove.fields() {
            assert_eq!(s.field_error(field), None, "{field}");
        }
        // The account, the password and the mailbox are the same fields in the other modes that log on.
        let (a, target) = as_autodiscover(&s);
        assert_eq!(
            (target.user.as_str(), target.target_mailbox.as_str()),
            ("CONTOSO\\migadmin", "adele@contoso.com")
        );
        let o = a
            .reduce(Action::SetMode(Mode::OutlookAnywhere))
            .reduce(Action::SetRpcProxy("mail.contoso.com".into()))
            .reduce(Action::SetExchangeServer("ex01.contoso.com".into()));
        let Ok(DiagnoseRequest::OutlookAnywhere(target)) = o.request() else {
            panic!("not an Outlook Anywhere request: {:?}", o.request())
        };
        assert_eq!(target.target_mailbox, "adele@contoso.com");
        assert_eq!(
            o.reduce(Action::SetMode(Mode::RemoteMove)).request(),
            s.request(),
            "switching back keeps the remote server"
        );
    }

    #[test]
    fn remote_move_fields_are_checked_as_typed() {
        let fresh = Rc::<State>::default().reduce(Action::SetMode(Mode::RemoteMove));
        assert_eq!(fresh.request().expect_err("empty form").field, "remote_server");
        assert!(
            Mode::RemoteMove.fields().iter().all(|f| fresh.field_error(f).is_none()),
            "untouched fields show no error"
        );
        let emptied = fresh
            .reduce(Action::SetRemoteServer("m".into()))
            .reduce(Action::SetRemoteServer(" ".into()));
        assert!(
            emptied
                .field_error("remote_server")
                .is_some_and(|m| m.contains("server name")),
            "{:?}",
            emptied.field_error("remote_server")
        );

        // The mailbox is checked as soon as it is typed, whatever the other fields say.
        let s = emptied.reduce(Action::SetTargetMailbox("not-an-address".into()));
        assert!(
            s.field_error("target_mailbox").is_some_and(|m| m.contains("'@'")),
            "{:?}",
            s.field_error("target_mailbox")
        );
        let s = s
            .reduce(Action::SetRemoteServer("mail.contoso.com".into()))
            .reduce(Action::SetUser(String::new()));
        assert_eq!(
            s.request().expect_err("no user").field,
            "user",
            "the account is required in this mode"
        );
        assert!(s.field_error("user").is_some_and(|m| m.contains("migration account")));
        let s = s
            .reduce(Action::SetUser("migadmin@contoso.com".into()))
            .reduce(Action::SetPassword(Password::new("pw")));
        assert_eq!(s.request().expect_err("bad mailbox").field, "target_mailbox");
        let s = s.reduce(Action::SetTargetMailbox(" ".into()));
        assert_eq!(s.field_error("target_mailbox"), None, "empty: not checked");
        assert!(s.request().is_ok(), "{:?}", s.request());
        assert_eq!(
            s.reduce(Action::SetMode(Mode::Host)).field_error("target_mailbox"),
            None
        );
    }

    #[test]
    fn the_mailbox_is_checked_in_every_mode_that_logs_on() {
        let s = autodiscover("alice@contoso.com", "", "pw").reduce(Action::SetTargetMailbox("adele".into()));
        assert_eq!(s.request().expect_err("bad mailbox").field, "target_mailbox");
        assert!(s.field_error("target_mailbox").is_some());
        assert!(Mode::Autodiscover.fields().contains(&"target_mailbox"));
        assert!(Mode::OutlookAnywhere.fields().contains(&"target_mailbox"));
        assert!(!Mode::Host.fields().contains(&"target_mailbox"));
        let o = outlook_anywhere("mail.contoso.com", "ex01.contoso.com", "u@contoso.com", "pw")
            .reduce(Action::SetTargetMailbox("adele@".into()));
        assert_eq!(o.request().expect_err("bad mailbox").field, "target_mailbox");
    }

    #[test]
    fn relay_errors_go_under_the_remote_move_fields() {
        let s = remote_move("mail.contoso.com", "migadmin@contoso.com", "pw", "adele@contoso.com");
        assert_relay_errors_under_fields(&s);
        let s = relay_said(s, "target_mailbox", "no such mailbox");
        assert_eq!(s.field_error("target_mailbox").as_deref(), Some("no such mailbox"));
        let s = s.reduce(Action::SetMode(Mode::Host));
        assert_eq!(s.error, None, "a field error of the other mode goes with the switch");
        let s = relay_said(
            s.reduce(Action::SetMode(Mode::RemoteMove)),
            "target_mailbox",
            "no such mailbox",
        )
        .reduce(Action::SetTargetMailbox("adele2@contoso.com".into()));
        assert_eq!(
            s.field_error("target_mailbox"),
            None,
            "editing the field clears the relay's word"
        );
    }

    #[test]
    fn the_wizard_walks_its_steps_and_stops_at_a_wrong_field() {
        let s = Rc::<State>::default();
        assert_eq!((s.step, s.step_number()), (Step::Kind, (1, 3)));
        let s = s.reduce(Action::Next);
        assert_eq!(
            (s.step, s.step_number()),
            (Step::Find, (2, 3)),
            "a staged migration asks how to find the server"
        );
        let s = s.reduce(Action::Next);
        assert_eq!(s.step, Step::Find, "no e-mail address yet: the step stays");
        assert!(s.field_error("email").is_some(), "and says why");
        let s = s
            .reduce(Action::SetEmail("alice@contoso.com".into()))
            .reduce(Action::Next);
        assert_eq!((s.step, s.step_number()), (Step::Details, (3, 3)));
        assert_eq!(
            s.clone().reduce(Action::Next).step,
            Step::Details,
            "the last step has no Next"
        );
        let s = s.reduce(Action::Back).reduce(Action::Back);
        assert_eq!(s.step, Step::Kind);
        assert_eq!(s.clone().reduce(Action::Back).step, Step::Kind);

        // A remote move and a certificate check skip step 2.
        let r = s.clone().reduce(Action::SetKind(Kind::RemoteMove));
        assert_eq!((r.mode, r.step_number()), (Mode::RemoteMove, (1, 2)));
        let r = r.reduce(Action::Next);
        assert_eq!((r.step, r.step_number()), (Step::Details, (2, 2)));
        assert_eq!(r.mode.step_fields(Step::Details), Mode::RemoteMove.fields());
        assert_eq!(r.reduce(Action::Back).step, Step::Kind);
        let h = s.clone().reduce(Action::SetKind(Kind::Host)).reduce(Action::Next);
        assert_eq!((h.mode, h.step), (Mode::Host, Step::Details));

        // Back to a staged migration: the server names chosen before are kept.
        let o = s
            .reduce(Action::Next)
            .reduce(Action::SetMode(Mode::OutlookAnywhere))
            .reduce(Action::Back)
            .reduce(Action::SetKind(Kind::RemoteMove))
            .reduce(Action::SetKind(Kind::Staged));
        assert_eq!(o.mode, Mode::Autodiscover, "from another kind, Autodiscover first");
        let o = o
            .reduce(Action::SetMode(Mode::OutlookAnywhere))
            .reduce(Action::SetKind(Kind::Staged));
        assert_eq!(o.mode, Mode::OutlookAnywhere, "the same kind keeps its mode");
        let o = o
            .reduce(Action::Next)
            .reduce(Action::SetRpcProxy("mail.contoso.com".into()))
            .reduce(Action::Next);
        assert_eq!(o.step, Step::Find, "the Exchange server is missing");
        assert!(o.field_error("exchange_server").is_some());
        assert_eq!(o.field_error("user"), None, "a field of a later step waits");
    }

    #[test]
    fn the_reopen_link_carries_the_inputs_but_never_the_password() {
        let s = outlook_anywhere(
            "mail.contoso.com",
            "ex01.contoso.com",
            "CONTOSO\\mig admin",
            "Sup3r&secret=1",
        )
        .reduce(Action::SetAuth(AuthMethod::Ntlm))
        .reduce(Action::SetTargetMailbox("adele+mig@contoso.com".into()));
        let fragment = s.fragment();
        assert_eq!(
            fragment,
            "mode=outlook_anywhere&rpc_proxy=mail.contoso.com&exchange_server=ex01.contoso.com&auth=ntlm\
             &user=CONTOSO%5Cmig%20admin&target_mailbox=adele%2Bmig%40contoso.com"
        );
        assert!(!fragment.contains("Sup3r") && !fragment.contains("password"));

        let r = Rc::<State>::default().reduce(Action::Reopen(format!("#{fragment}")));
        assert_eq!(
            r.step,
            Step::Details,
            "the server names are right: the credentials are left"
        );
        assert!(r.password.is_empty());
        assert_eq!(r.draft(), s.draft(), "the same inputs");
        assert_eq!(
            r.field_error("password"),
            None,
            "the password untouched: no message yet"
        );
        assert_eq!(r.fragment(), fragment);

        // Other modes, and what a hand-made link may hold.
        for s in [
            autodiscover("alice@contoso.com", "", "pw").reduce(Action::SetAllowRedirect(true)),
            remote_move("mail.contoso.com", "m@contoso.com", "pw", "adele@contoso.com"),
            Rc::<State>::default()
                .reduce(Action::SetKind(Kind::Host))
                .reduce(Action::SetHost("mail.contoso.com".into()))
                .reduce(Action::SetPort("444".into())),
        ] {
            let r = Rc::<State>::default().reduce(Action::Reopen(s.fragment()));
            assert_eq!((r.mode, r.draft()), (s.mode, s.draft()), "{}", s.fragment());
        }
        let r = Rc::<State>::default().reduce(Action::Reopen(
            "mode=remote_move&password=leak&remote_server=mail.contoso.com&email=x%40y.z&nonsense&bad=%zz&user=a+b%ZZ"
                .into(),
        ));
        assert!(r.password.is_empty(), "a password in a link is ignored");
        assert_eq!(
            (r.mode, r.remote_server.as_str(), r.user.as_str()),
            (Mode::RemoteMove, "mail.contoso.com", "a b%ZZ")
        );
        assert_eq!(r.email, "", "a field of another mode is ignored");
        let long = "a".repeat(5000);
        let r = Rc::<State>::default().reduce(Action::Reopen(format!("mode=host&host={long}")));
        assert_eq!(r.host.len(), FRAGMENT_VALUE_MAX);
        assert_eq!(
            Rc::<State>::default()
                .reduce(Action::Reopen("mode=exchange2003&host=x".into()))
                .as_ref(),
            &State::default(),
            "an unknown mode changes nothing"
        );
        let r = Rc::<State>::default().reduce(Action::Reopen(
            "mode=outlook_anywhere&rpc_proxy=mail.contoso.com&exchange_server=alice%40contoso.com".into(),
        ));
        assert_eq!(r.step, Step::Find, "opens at the step with the wrong field");
        assert!(r.field_error("exchange_server").is_some_and(|m| m.contains("GUID")));
    }

    #[test]
    fn a_demo_fills_the_wizard_ready_to_run() {
        let request: DiagnoseRequest = serde_json::from_value(serde_json::json!({
            "mode": "remote_move", "remote_server": "ex01.demo.test", "user": "demo\\mig", "password": "lab-pw",
        }))
        .expect("request");
        let s = Rc::<State>::default().reduce(Action::Fill(request.clone()));
        assert_eq!(s.step, Step::Details);
        assert_eq!(s.request(), Ok(request));
        assert_eq!(s.password_filled, 1, "the password input is told to show it");
        let host: DiagnoseRequest =
            serde_json::from_value(serde_json::json!({"mode": "host", "host": "expired.demo.test", "port": 8443}))
                .expect("host");
        let h = s.reduce(Action::Fill(host.clone()));
        assert_eq!((h.request(), h.port.as_str()), (Ok(host), "8443"));
        assert!(h.password.is_empty(), "no password in this mode");
    }

    #[test]
    fn a_cancelled_run_keeps_what_finished_and_drops_the_rest() {
        let s = run(
            Rc::default(),
            vec![
                started("tls", None),
                started("net", None),
                Event::Finished {
                    check: check("net", Status::Pass, vec![]),
                },
            ],
        );
        let run_id = s.run;
        assert!(
            !s.clone().reduce(Action::Cancel { run: run_id - 1 }).cancelled,
            "an older run"
        );
        let s = s.reduce(Action::Cancel { run: run_id });
        assert!(s.cancelled && !s.running);
        assert_eq!(s.tree[0].status, NodeStatus::Stopped);
        assert_eq!(
            s.tree[1].status,
            NodeStatus::Done(Status::Pass),
            "a finished check stays"
        );
        // The aborted fetch ends with an error: not shown, nor anything after the cancel.
        let s = s
            .reduce(Action::Event {
                run: run_id,
                event: Event::Error {
                    message: "cannot reach".into(),
                    field: Some(RUN_FIELD.into()),
                },
            })
            .reduce(Action::Ended { run: run_id });
        assert_eq!((s.error.clone(), s.report.clone()), (None, None));
        assert!(s.cancelled);
        let s = s.reduce(Action::Start { run: run_id + 1 });
        assert!(!s.cancelled && s.running && s.tree.is_empty());
        assert!(s.reduce(Action::Cancel { run: run_id + 1 }).cancelled);
    }

    #[test]
    fn a_busy_or_unreachable_relay_is_said_next_to_run() {
        let s = relay_said(
            autodiscover("alice@contoso.com", "", "pw"),
            RUN_FIELD,
            "the relay is busy",
        );
        assert_eq!(s.run_error().as_deref(), Some("the relay is busy"));
        assert_eq!(s.general_error(), None);
        assert_eq!(s.field_error("email"), None);
    }
}
