//! "Try the demo": a relay serving a demo lab (`migcheck serve --demo FILE`) offers ready-made diagnoses;
//! a button fills the wizard with one, its lab password included (public by design), ready to Run.

use migcheck_shared::Demo;
use yew::prelude::*;

use crate::state::{Action, State};

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The relay's demos: none on a normal relay.
    pub demos: Vec<Demo>,
    pub dispatch: UseReducerDispatcher<State>,
}

#[function_component(Demos)]
pub fn demos(props: &Props) -> Html {
    if props.demos.is_empty() {
        return html! {};
    }
    html! {
        <section id="demos" class="demos" aria-labelledby="demos-title">
            <h2 id="demos-title">{ "Try the demo" }</h2>
            <p class="help">{ "This relay serves a demo lab: pick a case to fill the wizard with it, then Run." }</p>
            <ul>
                { for props.demos.iter().enumerate().map(|(i, demo)| {
                    let dispatch = props.dispatch.clone();
                    let request = demo.request.clone();
                    let onclick = Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Fill(request.clone())));
                    let described = format!("demo-{i}-description");
                    html! {
                        <li>
                            <button id={format!("demo-{i}")} type="button" class="secondary" {onclick}
                                aria-describedby={described.clone()}>{ &demo.title }</button>
                            <span id={described} class="help">{ &demo.description }</span>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
