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
        <section class="findings" aria-labelledby="findings-title">
            <h2 id="findings-title">{ "What to change" }</h2>
            <ol>
                { for report.findings.iter().map(|finding| {
                    let checks: Vec<(String, String)> = finding
                        .check_ids
                        .iter()
                        .map(|id| (id.clone(), report.check(id).map(|c| c.title.clone()).unwrap_or_else(|| id.clone())))
                        .collect();
                    html! { <FindingItem finding={finding.clone()} {checks} /> }
                }) }
            </ol>
        </section>
    }
}
