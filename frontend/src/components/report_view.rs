//! Everything a run shows, in reading order: the progress, then at the end the verdict, the export
//! buttons, the inside and outside views when the run compared them, and the findings, then the tree of checks (live while it runs) and the timing chart.

use migcheck_shared::Report;
use yew::prelude::*;

use super::comparison::comparison;
use super::{CheckTree, ExportBar, FindingList, Progress, VerdictBanner, Waterfall};
use crate::state::Node;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub tree: Vec<Node>,
    pub report: Option<Report>,
    pub running: bool,
    pub finished: usize,
    pub started: usize,
}

#[function_component(ReportView)]
pub fn report_view(props: &Props) -> Html {
    if !props.running && props.tree.is_empty() && props.report.is_none() {
        return html! {};
    }
    html! {
        <div id="report" class="report">
            <Progress finished={props.finished} started={props.started} running={props.running} />
            if let Some(report) = props.report.clone() {
                <VerdictBanner verdict={report.verdict} headline={report.headline.clone()} elapsed_ms={report.elapsed_ms} />
                <ExportBar report={report.clone()} />
                // The view from the internet first: what Exchange Online sees decides.
                if let Some(c) = &report.comparison {
                    { comparison(c) }
                }
                <FindingList {report} />
            }
            if !props.tree.is_empty() {
                <CheckTree nodes={props.tree.clone()} />
            }
            if let Some(report) = &props.report {
                <Waterfall checks={report.checks.clone()} />
            }
        </div>
    }
}
