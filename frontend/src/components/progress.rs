//! How far the diagnosis is: n checks finished of m started.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub finished: usize,
    pub started: usize,
    pub running: bool,
}

#[function_component(Progress)]
pub fn progress(props: &Props) -> Html {
    let text = if props.running {
        format!("Running: {} of {} checks finished", props.finished, props.started)
    } else {
        format!("{} of {} checks finished", props.finished, props.started)
    };
    html! {
        <div class="progress" role="status" aria-live="polite">
            <progress max={props.started.max(1).to_string()} value={props.finished.to_string()} aria-hidden="true" />
            <span id="progress-text">{ text }</span>
        </div>
    }
}
