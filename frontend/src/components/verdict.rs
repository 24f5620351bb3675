//! The verdict, first thing after a run: the headline coloured by pass, warn or fail.

use migcheck_shared::Verdict;
use yew::prelude::*;

use super::class_of;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub verdict: Verdict,
    pub headline: AttrValue,
    pub elapsed_ms: u64,
}

/// The verdict in a word, as the banner shows it.
pub fn word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "Pass",
        Verdict::Warn => "Warning",
        Verdict::Fail => "Fail",
    }
}

#[function_component(VerdictBanner)]
pub fn verdict_banner(props: &Props) -> Html {
    let label = props.verdict.label();
    let word = word(props.verdict);
    html! {
        <section id="verdict" class={class_of("verdict", label)} data-verdict={label} role="status" tabindex="-1">
            <p class="word">{ word }</p>
            <h2>{ &props.headline }</h2>
            <p class="ms">{ format!("Diagnosis took {} ms", props.elapsed_ms) }</p>
        </section>
    }
}
