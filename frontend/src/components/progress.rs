//! How far the diagnosis is: n checks finished of m started, as a bar and in words.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub finished: usize,
    pub started: usize,
    pub running: bool,
}

#[function_component(Progress)]
pub fn progress(props: &Props) -> Html {
    let text = if props.running && props.started == 0 {
        "Starting the checks…".to_string()
    } else if props.running {
        format!("Running: {} of {} checks finished", props.finished, props.started)
    } else {
        format!("{} of {} checks finished", props.finished, props.started)
    };
    html! {
        <div id="progress" class="progress" data-finished={props.finished.to_string()} data-started={props.started.to_string()}
            data-running={props.running.to_string()}>
            <progress max={props.started.max(1).to_string()} value={props.finished.to_string()} aria-labelledby="progress-text" />
            <span id="progress-text" role="status" aria-live="polite">{ text }</span>
        </div>
    }
}
