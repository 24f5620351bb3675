//! The findings of a report, most important first.

use migcheck_shared::Report;
use yew::prelude::*;

use super::FindingItem;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: Report,
}

#[function_component(FindingList)]
pub fn finding_list(props: &Props) -> Html {
    let report = &props.report;
    if report.findings.is_empty() {
        return html! {};
    }
    html! {
        <section id="findings" class="findings" aria-labelledby="findings-title">
            <h2 id="findings-title">{ "What to change" }</h2>
            <ol>
                { for report.findings.iter().map(|finding| {
                    let checks: Vec<_> = finding
                        .check_ids
                        .iter()
                        .map(|id| (id.clone(), report.check(id).cloned()))
                        .collect();
                    html! { <FindingItem finding={finding.clone()} {checks} /> }
                }) }
            </ol>
        </section>
    }
}
