//! The page state and every change to it (a `Reducible`, as in yew's `function_todomvc`).
//!
//! The state is four slices, each handed only to the components that show it: the [`Form`] (the inputs),
//! the wizard's [`Position`], the [`Run`] (the live tree, the report, what went wrong) and the [`Relay`]
//! (what it said about itself, its access token). One [`Action`] enum changes them all.

mod form;
mod fragment;
mod mode;
#[cfg(test)]
mod tests;
mod tree;

use std::rc::Rc;

use migcheck_shared::{Event, Field, Password, RelayInfo, Report};
use yew::Reducible;

pub use form::{Compare, Form};
pub use mode::{Kind, Mode, Step};
use tree::find_mut;
pub use tree::{Node, NodeStatus};

/// Where the page shows an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Under the field, when the form shows it in this mode; else at the top of the page.
    Field(Field),
    /// A field this page does not know (a newer relay's): at the top of the page.
    OtherField,
    /// Next to the Run button: the relay busy or out of reach.
    Run,
    /// At the top of the page: about no field.
    Top,
}

/// An error to show, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownError {
    pub place: Place,
    pub message: String,
}

impl ShownError {
    /// What the relay said, placed by the field it names on the wire.
    fn said(field: Option<String>, message: String) -> Self {
        let place = match field {
            None => Place::Top,
            Some(name) => Field::from_name(&name).map_or(Place::OtherField, Place::Field),
        };
        ShownError { place, message }
    }

    fn is_about(&self, field: Field) -> bool {
        self.place == Place::Field(field)
    }

    /// The message, when it is shown at `place`.
    pub fn at(&self, place: Place) -> Option<String> {
        (self.place == place).then(|| self.message.clone())
    }
}

/// Where the wizard is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// The wizard's current step.
    pub step: Step,
    /// Step 1's fourth choice: a pasted error message is read instead of a form filled in.
    pub pasting: bool,
}

/// The last run: live while it runs, then its report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    /// Increases with each run, so the events of an older stream are dropped.
    pub number: u64,
    pub running: bool,
    /// The last run was cancelled: its finished checks stay, no verdict.
    pub cancelled: bool,
    pub tree: Vec<Node>,
    pub report: Option<Report>,
    /// What went wrong: the relay's word on a field, on the run or on the access token, or the page's.
    pub error: Option<ShownError>,
}

impl Run {
    /// (finished, started) over the live tree.
    pub fn progress(&self) -> (usize, usize) {
        self.tree
            .iter()
            .map(Node::count)
            .fold((0, 0), |(f, t), (cf, ct)| (f + cf, t + ct))
    }

    fn error_is_about(&self, field: Field) -> bool {
        self.error.as_ref().is_some_and(|e| e.is_about(field))
    }

    fn clear_error_of(&mut self, field: Field) {
        if self.error_is_about(field) {
            self.error = None;
        }
    }

    /// The run stops here, on `error`: no check stays running.
    fn fail(&mut self, error: ShownError) {
        self.error = Some(error);
        self.stop();
    }

    fn stop(&mut self) {
        self.running = false;
        self.tree.iter_mut().for_each(Node::stop);
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Started {
                id,
                title,
                parent,
                kb_step,
            } => {
                if find_mut(&mut self.tree, &id).is_some() {
                    return;
                }
                let node = Node::running(id, title, kb_step);
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
            Event::Error { message, field } => self.fail(ShownError::said(field, message)),
        }
    }
}

/// The relay serving the page: what it says about itself, and its access token.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Relay {
    pub info: Option<RelayInfo>,
    /// The relay's access token (`migcheck serve --token-env`), held like the password: memory only.
    pub token: Password,
    /// The relay asked for its access token: the page shows the token field.
    pub needs_token: bool,
}

/// The whole page. Its `Debug` shows no password ([`Password`] redacts itself).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    pub form: Form,
    pub position: Position,
    pub run: Run,
    pub relay: Relay,
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
    SetAuth(migcheck_shared::AuthMethod),
    SetRemoteServer(String),
    SetUser(String),
    SetPassword(Password),
    SetTargetMailbox(String),
    SetServers(String),
    SetAgentTarget(String),
    SetAllowRedirect(bool),
    /// "Compare with the internet's view" ticked or not (offered when the relay compares with another).
    SetCompare(bool),
    /// "Also send the password to that relay" ticked or not: the user's consent.
    SetSendPassword(bool),
    /// The wizard's first question answered.
    SetKind(Kind),
    /// Step 1's "Paste an error message" chosen.
    Paste,
    /// "Check it now" after a pasted error: the mode and names it called for, at the details step, with
    /// no field marked (the account and the password are the user's to give; a password already typed
    /// stays).
    Prefill(migcheck_shared::DiagnoseRequest),
    /// The wizard's Next: to the next step, or, when a field of this step is wrong, shows why.
    Next,
    /// The wizard's Back.
    Back,
    /// Fills the wizard with a ready-made request (a demo, password included), ready to run.
    Fill(migcheck_shared::DiagnoseRequest),
    /// Fills the wizard from the page URL's fragment (see [`Form::fragment`]); never a password.
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
    /// Run `run` could not start: the relay is busy, or out of reach (said next to the Run button).
    RunFailed {
        run: u64,
        message: String,
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
    /// The message to show under `field`: what the user typed wrong, else what the relay said.
    pub fn field_error(&self, field: Field) -> Option<String> {
        self.form.field_error(field, self.run.error.as_ref())
    }

    /// An error that belongs to no field of the form.
    pub fn general_error(&self) -> Option<String> {
        self.run
            .error
            .as_ref()
            .filter(|e| match e.place {
                Place::Run => false,
                Place::Field(f) => f != Field::Token && !self.form.mode.fields().contains(&f),
                Place::OtherField | Place::Top => true,
            })
            .map(|e| e.message.clone())
    }

    /// Marks `field` edited (its errors show from now on, what the relay said about it goes), and hands
    /// `value` back to be stored.
    fn edited<T>(&mut self, field: Field, value: T) -> T {
        self.form.touch(field);
        self.run.clear_error_of(field);
        value
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        let form = &mut next.form;
        match action {
            Action::SetKind(kind) => {
                next.position.pasting = false;
                let mode = match kind {
                    _ if form.mode.kind() == kind => form.mode,
                    Kind::Staged => Mode::Autodiscover,
                    Kind::RemoteMove => Mode::RemoteMove,
                    Kind::Host => Mode::Host,
                };
                return Rc::new(next).reduce(Action::SetMode(mode));
            }
            Action::Paste => next.position.pasting = true,
            Action::Prefill(request) => {
                let (typed, filled) = (form.password.clone(), form.password_filled);
                form.fill(request);
                form.password = typed;
                form.password_filled = filled;
                form.touched.clear();
                next.run.error = None;
                next.position = Position {
                    step: Step::Details,
                    pasting: false,
                };
            }
            // A pasted error is read by its own button, not by the wizard's Next.
            Action::Next if next.position.pasting && next.position.step == Step::Kind => return self,
            Action::Next => {
                let step = next.position.step;
                let steps = form.mode.steps();
                if form.step_has_error(step, next.run.error.as_ref()) {
                    // Say what is wrong rather than move on.
                    form.mode.step_fields(step).iter().for_each(|f| form.touch(*f));
                } else if let Some(at) = steps.iter().position(|s| *s == step) {
                    next.position.step = steps.get(at + 1).copied().unwrap_or(step);
                }
            }
            Action::Back => {
                let steps = form.mode.steps();
                let at = steps.iter().position(|s| *s == next.position.step).unwrap_or(0);
                next.position.step = steps[at.saturating_sub(1)];
            }
            Action::Fill(request) => {
                form.fill(request);
                next.run.error = None;
                next.position = Position {
                    step: Step::Details,
                    pasting: false,
                };
            }
            Action::Reopen(fragment) => {
                if form.reopen(&fragment) {
                    next.position.step = form.step_to_open(next.run.error.as_ref());
                }
            }
            Action::Cancel { run } => {
                if run != next.run.number || !next.run.running {
                    return self;
                }
                next.run.cancelled = true;
                next.run.stop();
            }
            Action::SetMode(mode) => {
                form.set_mode(mode);
                // The relay's word on a field of the other form, or on the run, no longer applies.
                next.run.error = next.run.error.filter(|e| e.place == Place::Top);
            }
            Action::SetHost(host) => next.form.host = next.edited(Field::Host, host),
            Action::SetPort(port) => next.form.port = next.edited(Field::Port, port),
            Action::SetEmail(email) => next.form.email = next.edited(Field::Email, email),
            Action::SetRpcProxy(proxy) => next.form.rpc_proxy = next.edited(Field::RpcProxy, proxy),
            Action::SetExchangeServer(server) => next.form.exchange_server = next.edited(Field::ExchangeServer, server),
            Action::SetAuth(auth) => form.auth = auth,
            Action::SetRemoteServer(server) => next.form.remote_server = next.edited(Field::RemoteServer, server),
            Action::SetUser(user) => next.form.user = next.edited(Field::User, user),
            Action::SetPassword(password) => next.form.password = next.edited(Field::Password, password),
            Action::SetTargetMailbox(mailbox) => next.form.target_mailbox = next.edited(Field::TargetMailbox, mailbox),
            Action::SetServers(servers) => next.form.servers = next.edited(Field::Servers, servers),
            Action::SetAgentTarget(target) => next.form.agent_target = next.edited(Field::AgentTarget, target),
            Action::SetAllowRedirect(allow) => form.allow_redirect = allow,
            Action::SetCompare(compare) => {
                form.compare = compare;
                // The consent goes with the comparison it was given for: ticked again, it starts unticked.
                form.send_password &= compare;
            }
            Action::SetSendPassword(send) => form.send_password = send,
            Action::ForgetPassword => {
                if form.password.is_empty() && next.relay.token.is_empty() {
                    return self;
                }
                form.password = Password::default();
                next.relay.token = Password::default();
            }
            Action::Start { run } => {
                if run <= next.run.number {
                    return self;
                }
                form.touch_all();
                next.run = Run {
                    number: run,
                    running: true,
                    ..Run::default()
                };
            }
            Action::Event { run, event } => {
                if run != next.run.number || next.run.cancelled {
                    return self;
                }
                next.run.apply(event);
                next.relay.needs_token |= next.run.error_is_about(Field::Token);
            }
            Action::RunFailed { run, message } => {
                if run != next.run.number || next.run.cancelled {
                    return self;
                }
                next.run.fail(ShownError {
                    place: Place::Run,
                    message,
                });
            }
            Action::Ended { run } => {
                if run != next.run.number || next.run.cancelled {
                    return self;
                }
                next.run.stop();
            }
            Action::Info(info) => {
                next.form.inside = info.inside;
                next.form.compare_with.clone_from(&info.compare_with);
                next.relay.info = Some(info);
                next.run.clear_error_of(Field::Token);
            }
            Action::NeedsToken { refused } => {
                next.relay.needs_token = true;
                if refused {
                    next.run.error = Some(ShownError {
                        place: Place::Field(Field::Token),
                        message: "The relay did not accept this access token.".into(),
                    });
                }
            }
            Action::SetToken(token) => {
                next.relay.token = token;
                next.run.clear_error_of(Field::Token);
            }
        }
        Rc::new(next)
    }
}
