//! The page state and every change to it (a `Reducible`, as in yew's `function_todomvc`).

use std::rc::Rc;

use migcheck_shared::request::ValidRequest;
use migcheck_shared::{Check, DiagnoseRequest, Event, Evidence, HostTarget, InputError, RelayInfo, Report, Status};
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

fn find_mut<'a>(nodes: &'a mut [Node], id: &str) -> Option<&'a mut Node> {
    nodes.iter_mut().find_map(|n| n.find_mut(id))
}

/// An error to show: next to the field it names, or at the top of the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownError {
    pub field: Option<String>,
    pub message: String,
}

/// The whole page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    pub host: String,
    pub port: String,
    /// The host field was edited at least once (no error is shown for a field never touched).
    pub host_touched: bool,
    pub running: bool,
    /// Increases with each run, so the events of an older stream are dropped.
    pub run: u64,
    pub tree: Vec<Node>,
    pub report: Option<Report>,
    pub error: Option<ShownError>,
    pub info: Option<RelayInfo>,
}

/// Every change the page can make to its state.
#[derive(Debug)]
pub enum Action {
    SetHost(String),
    SetPort(String),
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
        let request = DiagnoseRequest::Host(HostTarget {
            host: self.host.trim().to_string(),
            port: self.port_value()?,
        });
        request.validate().map(|_: ValidRequest| request)
    }

    /// The message to show under `field`: what the user typed wrong, else what the relay said.
    pub fn field_error(&self, field: &str) -> Option<String> {
        let typed = match field {
            "host" if self.host_touched => migcheck_shared::input::parse_host("host", &self.host).err(),
            "port" => self.port_value().err(),
            _ => None,
        };
        typed.map(|e| e.message).or_else(|| {
            self.error
                .as_ref()
                .filter(|e| e.field.as_deref() == Some(field))
                .map(|e| e.message.clone())
        })
    }

    /// An error that belongs to no field of the form.
    pub fn general_error(&self) -> Option<String> {
        self.error
            .as_ref()
            .filter(|e| !matches!(e.field.as_deref(), Some("host" | "port")))
            .map(|e| e.message.clone())
    }

    /// (finished, started) over the live tree.
    pub fn progress(&self) -> (usize, usize) {
        self.tree
            .iter()
            .map(Node::count)
            .fold((0, 0), |(f, t), (cf, ct)| (f + cf, t + ct))
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
            Action::SetHost(host) => {
                next.host = host;
                next.host_touched = true;
                next.error = next.error.filter(|e| e.field.as_deref() != Some("host"));
            }
            Action::SetPort(port) => {
                next.port = port;
                next.error = next.error.filter(|e| e.field.as_deref() != Some("port"));
            }
            Action::Start { run } => {
                if run <= next.run {
                    return self;
                }
                next.run = run;
                next.running = true;
                next.host_touched = true;
                next.tree.clear();
                next.report = None;
                next.error = None;
            }
            Action::Event { run, event } => {
                if run != next.run {
                    return self;
                }
                next.apply(event);
            }
            Action::Ended { run } => {
                if run != next.run {
                    return self;
                }
                next.running = false;
                next.tree.iter_mut().for_each(Node::stop);
            }
            Action::Info(info) => next.info = Some(info),
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
        let s = Rc::<State>::default().reduce(Action::SetHost("mail contoso.com".into()));
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
}
