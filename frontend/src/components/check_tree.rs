//! The tree of checks, live while the diagnosis runs and complete at the end, its top-level checks
//! grouped by the step of KB 2389390 they belong to.

use yew::prelude::*;

use super::CheckNode;
use crate::state::{Node, NodeStatus};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub nodes: Vec<Node>,
}

/// The heading of a KB step's group; `None` is the checks of no step.
pub fn group_title(step: Option<u8>) -> String {
    match step {
        Some(1) => "Step 1 · Outlook Anywhere".into(),
        Some(2) => "Step 2 · Certificate".into(),
        Some(3) => "Step 3 · Autodiscover".into(),
        Some(4) => "Step 4 · Permissions".into(),
        Some(5) => "Step 5 · Test-MigrationServerAvailability".into(),
        Some(n) => format!("Step {n}"),
        None => "Other checks".into(),
    }
}

/// The step a top-level check belongs to. A check still running has no `kb_step` yet (the `started`
/// event does not carry it): its group is guessed from its id, so it does not change group when it
/// finishes.
fn step_of(node: &Node) -> Option<u8> {
    if node.status != NodeStatus::Running && node.status != NodeStatus::Stopped {
        return node.kb_step;
    }
    match node.id.split('.').next().unwrap_or_default() {
        "oa" | "mapi" | "mrs" => Some(1),
        "net" | "tls" => Some(2),
        "autodiscover" => Some(3),
        "ews" => Some(4),
        _ => None,
    }
}

/// The top-level nodes by KB step (1 to 5 in order, then the checks of no step), each keeping the order
/// in which its checks started.
pub fn groups(nodes: &[Node]) -> Vec<(Option<u8>, Vec<&Node>)> {
    let mut groups: Vec<(Option<u8>, Vec<&Node>)> = Vec::new();
    for node in nodes {
        let step = step_of(node);
        match groups.iter_mut().find(|(s, _)| *s == step) {
            Some((_, members)) => members.push(node),
            None => groups.push((step, vec![node])),
        }
    }
    // `None` sorts first as an Option; the checks of no step go last.
    groups.sort_by_key(|(step, _)| step.map_or(u8::MAX, |s| s));
    groups
}

#[function_component(CheckTree)]
pub fn check_tree(props: &Props) -> Html {
    html! {
        <section id="checks" class="checks" aria-labelledby="checks-title">
            <h2 id="checks-title">{ "Checks" }</h2>
            { for groups(&props.nodes).into_iter().map(|(step, nodes)| {
                let key = step.map_or_else(|| "other".to_string(), |s| s.to_string());
                let heading = format!("kb-group-{key}");
                html! {
                    <section key={key.clone()} class="kb-group" data-kb-group={key} aria-labelledby={heading.clone()}>
                        <h3 id={heading}>{ group_title(step) }</h3>
                        <ul class="tree">
                            { for nodes.into_iter().map(|node| html! { <CheckNode key={node.id.clone()} node={node.clone()} /> }) }
                        </ul>
                    </section>
                }
            }) }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migcheck_shared::{Evidence, Status};

    fn node(id: &str, status: NodeStatus, kb_step: Option<u8>) -> Node {
        Node {
            id: id.into(),
            title: id.into(),
            status,
            summary: String::new(),
            evidence: Evidence::default(),
            elapsed_ms: None,
            kb_step,
            children: Vec::new(),
        }
    }

    #[test]
    fn checks_are_grouped_by_kb_step_in_the_kb_order_other_last() {
        let done = NodeStatus::Done(Status::Pass);
        let nodes = [
            node("version", done, None),
            node("autodiscover", done, Some(3)),
            node("net", done, Some(2)),
            node("oa", NodeStatus::Running, None),
            node("tls", NodeStatus::Running, None),
            node("ews", done, Some(4)),
        ];
        let seen: Vec<(Option<u8>, Vec<&str>)> = groups(&nodes)
            .into_iter()
            .map(|(s, n)| (s, n.iter().map(|n| n.id.as_str()).collect()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (Some(1), vec!["oa"]),
                (Some(2), vec!["net", "tls"]),
                (Some(3), vec!["autodiscover"]),
                (Some(4), vec!["ews"]),
                (None, vec!["version"]),
            ]
        );
        assert_eq!(group_title(Some(2)), "Step 2 · Certificate");
        assert_eq!(group_title(None), "Other checks");
    }
}
