//! One check: its status, title, summary and time, its evidence behind a `<details>`, and its children.

use yew::prelude::*;

use super::{EvidenceView, class_of};
use crate::state::{Node, NodeStatus};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub node: Node,
}

/// How long a running check has run, in tenths of a second since it appeared (its `started` event),
/// counted up every half second until it finishes.
#[hook]
fn use_running_tenths(running: bool) -> u64 {
    let since = use_state(js_sys::Date::now);
    let tenths = use_state(|| 0_u64);
    {
        let tenths = tenths.clone();
        let since = *since;
        use_effect_with(running, move |running| {
            let live = std::rc::Rc::new(std::cell::Cell::new(*running));
            let alive = live.clone();
            if *running {
                yew::platform::spawn_local(async move {
                    while alive.get() {
                        yew::platform::time::sleep(std::time::Duration::from_millis(500)).await;
                        if alive.get() {
                            tenths.set(((js_sys::Date::now() - since) / 100.0) as u64);
                        }
                    }
                });
            }
            move || live.set(false)
        });
    }
    *tenths
}

#[function_component(CheckNode)]
pub fn check_node(props: &Props) -> Html {
    let node = &props.node;
    let status = node.status.label();
    let tenths = use_running_tenths(node.status == NodeStatus::Running);
    let time = match (node.status, node.elapsed_ms) {
        (NodeStatus::Running, _) if tenths > 0 => format!("running… {}.{} s", tenths / 10, tenths % 10),
        (NodeStatus::Running, _) => "running…".to_string(),
        (NodeStatus::Stopped, _) => "stopped".to_string(),
        (_, Some(ms)) => format!("{ms} ms"),
        (_, None) => String::new(),
    };
    html! {
        <li class={class_of("check", status)} id={format!("check-{}", node.id)}
            data-check-id={node.id.clone()} data-status={status}>
            <div class="row">
                <span class={class_of("badge", status)}>{ node.status.word() }</span>
                <span class="title">{ &node.title }</span>
                if let Some(step) = node.kb_step {
                    <span class="kb" title="Step of KB 2389390">{ format!("KB step {}", step.number()) }</span>
                }
                <span class="ms">{ time }</span>
            </div>
            if !node.summary.is_empty() {
                <p class="summary">{ &node.summary }</p>
            }
            if !node.evidence.is_empty() {
                <details>
                    <summary>{ "Evidence" }<span class="id">{ &node.id }</span></summary>
                    <EvidenceView evidence={node.evidence.clone()} />
                </details>
            }
            if !node.children.is_empty() {
                <ul class="tree">
                    { for node.children.iter().map(|child| html! { <CheckNode key={child.id.clone()} node={child.clone()} /> }) }
                </ul>
            }
        </li>
    }
}
