//! One finding: the KB cause, what is wrong, the evidence of the checks that show it, and the fix with a
//! Copy button.

use migcheck_shared::{Check, Finding};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::browser::copy_text;
use super::{EvidenceView, Fix, class_of};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub finding: Finding,
    /// The evidence: each of `finding.check_ids` with its check (`None` when the tree lacks it).
    pub checks: Vec<(String, Option<Check>)>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Copied {
    Not,
    Yes,
    Failed,
}

impl Copied {
    /// The button's word, and its `data-copied` value.
    pub fn says(self, idle: &'static str) -> (&'static str, &'static str) {
        match self {
            Copied::Not => (idle, "no"),
            Copied::Yes => ("Copied ✓", "yes"),
            Copied::Failed => ("Select and copy by hand", "failed"),
        }
    }
}

/// A click handler that copies what `text` gives and records how it went in `copied`.
pub fn copy_on_click(copied: &UseStateHandle<Copied>, text: impl Fn() -> String + 'static) -> Callback<MouseEvent> {
    let copied = copied.clone();
    Callback::from(move |_: MouseEvent| {
        let copied = copied.clone();
        let text = text();
        spawn_local(async move {
            copied.set(if copy_text(text).await {
                Copied::Yes
            } else {
                Copied::Failed
            });
        });
    })
}

/// What one check named by the finding saw: its status, summary and evidence, with a link to the tree.
fn evidence_of(id: &str, check: &Check) -> Html {
    let status = check.status.label();
    html! {
        <details class="evidence-of" data-evidence-of={id.to_string()} open=true>
            <summary>
                <span class={class_of("badge", status)}>{ status }</span>
                { " " }{ &check.title }
            </summary>
            if !check.summary.is_empty() {
                <p class="summary">{ &check.summary }</p>
            }
            if !check.evidence.is_empty() {
                <EvidenceView evidence={check.evidence.clone()} />
            }
            <p class="to-tree"><a href={format!("#check-{id}")}>{ format!("Show {id} in the checks") }</a></p>
        </details>
    }
}

#[function_component(FindingItem)]
pub fn finding_item(props: &Props) -> Html {
    let finding = &props.finding;
    // The cause's id as the report spells it (`external_access`): its JSON string without the quotes.
    let cause = serde_json::to_string(&finding.cause)
        .map(|id| id.trim_matches('"').to_string())
        .unwrap_or_default();
    html! {
        <li class={class_of("finding", finding.severity.label())} data-cause={cause}>
            <p class="cause">
                <span class={class_of("badge", finding.severity.label())}>{ finding.severity.label() }</span>
                <strong>{ finding.cause.label() }</strong>
                if let Some(step) = finding.kb_step {
                    <span class="kb">{ format!("KB step {}", step.number()) }</span>
                }
            </p>
            <p class="summary">{ &finding.summary }</p>
            if !finding.fix.is_empty() {
                <Fix fix={finding.fix.clone()} />
            }
            if !props.checks.is_empty() {
                <div class="seen">
                    <p class="seen-title">{ "Evidence" }</p>
                    { for props.checks.iter().map(|(id, check)| match check {
                        Some(check) => evidence_of(id, check),
                        None => html! { <p class="missing"><code>{ id }</code></p> },
                    }) }
                </div>
            }
        </li>
    }
}
