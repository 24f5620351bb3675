//! The footer: what the relay says about itself, discreetly.

use migcheck_shared::RelayInfo;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub info: Option<RelayInfo>,
}

#[function_component(Footer)]
pub fn footer(props: &Props) -> Html {
    html! {
        <footer>
            if let Some(info) = &props.info {
                <span id="relay-version">{ format!("migcheck {}", info.version) }</span>
                { " · " }
                <span id="relay-egress">{ format!("reaches: {}", info.egress) }</span>
            } else {
                <span>{ "migcheck" }</span>
            }
        </footer>
    }
}
