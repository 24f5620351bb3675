//! The live check tree: one node per check, filled in by the stream's events.

use migcheck_shared::{Check, Evidence, KbStep, Status};

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
    pub kb_step: Option<KbStep>,
    pub children: Vec<Node>,
}

impl Node {
    pub(super) fn running(id: String, title: String, kb_step: Option<KbStep>) -> Self {
        Node {
            id,
            title,
            status: NodeStatus::Running,
            summary: String::new(),
            evidence: Evidence::default(),
            elapsed_ms: None,
            kb_step,
            children: Vec::new(),
        }
    }

    /// Takes what a finished check says, keeping the children it does not mention.
    pub(super) fn merge(&mut self, check: &Check) {
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
    pub(super) fn stop(&mut self) {
        if self.status == NodeStatus::Running {
            self.status = NodeStatus::Stopped;
        }
        self.children.iter_mut().for_each(Node::stop);
    }

    pub(super) fn find_mut(&mut self, id: &str) -> Option<&mut Node> {
        if self.id == id {
            return Some(self);
        }
        self.children.iter_mut().find_map(|c| c.find_mut(id))
    }

    /// (finished, total) over this node and everything below it; a check stopped by a cancel or a cut
    /// stream did not finish.
    pub(super) fn count(&self) -> (usize, usize) {
        let own = usize::from(matches!(self.status, NodeStatus::Done(_)));
        self.children
            .iter()
            .map(Node::count)
            .fold((own, 1), |(f, t), (cf, ct)| (f + cf, t + ct))
    }
}

impl From<&Check> for Node {
    fn from(check: &Check) -> Self {
        let mut node = Node::running(check.id.clone(), check.title.clone(), check.kb_step);
        node.merge(check);
        node
    }
}

pub(super) fn find_mut<'a>(nodes: &'a mut [Node], id: &str) -> Option<&'a mut Node> {
    nodes.iter_mut().find_map(|n| n.find_mut(id))
}
