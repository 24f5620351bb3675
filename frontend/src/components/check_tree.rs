//! The tree of checks, live while the diagnosis runs and complete at the end, its top-level checks
//! grouped by the step of KB 2389390 they belong to.

use yew::prelude::*;

use super::CheckNode;
use migcheck_shared::KbStep;
use migcheck_shared::sort::sort_by;

use crate::state::Node;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub nodes: Vec<Node>,
}

/// The heading of a KB step's group; `None` is the checks of no step.
pub fn group_title(step: Option<KbStep>) -> String {
    match step {
        Some(step) => format!("Step {} · {}", step.number(), step.title()),
        None => "Other checks".into(),
    }
}

/// The top-level nodes by KB step (1 to 5 in order, then the checks of no step), each keeping the order
/// in which its checks started.
pub fn groups(nodes: &[Node]) -> Vec<(Option<KbStep>, Vec<&Node>)> {
    let mut groups: Vec<(Option<KbStep>, Vec<&Node>)> = Vec::new();
    for node in nodes {
        // Carried from the `started` event on, so a check keeps its group while it runs.
        let step = node.kb_step;
        match groups.iter_mut().find(|(s, _)| *s == step) {
            Some((_, members)) => members.push(node),
            None => groups.push((step, vec![node])),
        }
    }
    // `None` sorts first as an Option; the checks of no step go last.
    let rank = |step: Option<KbStep>| step.map_or(u8::MAX, KbStep::number);
    sort_by(&mut groups, |a, b| rank(a.0).cmp(&rank(b.0)));
    groups
}

#[function_component(CheckTree)]
pub fn check_tree(props: &Props) -> Html {
    html! {
        <section id="checks" class="checks" aria-labelledby="checks-title">
            <h2 id="checks-title">{ "Checks" }</h2>
            { for groups(&props.nodes).into_iter().map(|(step, nodes)| {
                let key = step.map_or_else(|| "other".to_string(), |s| s.number().to_string());
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
    use crate::state::NodeStatus;
    use migcheck_shared::{Evidence, Status};

    fn node(id: &str, status: NodeStatus, kb_step: Option<KbStep>) -> Node {
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
            node("autodiscover", done, Some(KbStep::Autodiscover)),
            node("net", done, Some(KbStep::Certificate)),
            node("oa", NodeStatus::Running, Some(KbStep::OutlookAnywhere)),
            node("tls", NodeStatus::Stopped, Some(KbStep::Certificate)),
            node("ews", done, Some(KbStep::Permissions)),
        ];
        let seen: Vec<(Option<KbStep>, Vec<&str>)> = groups(&nodes)
            .into_iter()
            .map(|(s, n)| (s, n.iter().map(|n| n.id.as_str()).collect()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (Some(KbStep::OutlookAnywhere), vec!["oa"]),
                (Some(KbStep::Certificate), vec!["net", "tls"]),
                (Some(KbStep::Autodiscover), vec!["autodiscover"]),
                (Some(KbStep::Permissions), vec!["ews"]),
                (None, vec!["version"]),
            ]
        );
        assert_eq!(group_title(Some(KbStep::Certificate)), "Step 2 · Certificate");
        assert_eq!(
            group_title(Some(KbStep::TestMigrationServerAvailability)),
            "Step 5 · Test-MigrationServerAvailability"
        );
        assert_eq!(group_title(None), "Other checks");
    }
}
