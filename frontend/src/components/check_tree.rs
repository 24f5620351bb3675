//! The tree of checks, live while the diagnosis runs and complete at the end.

use yew::prelude::*;

use super::CheckNode;
use crate::state::Node;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub nodes: Vec<Node>,
}

#[function_component(CheckTree)]
pub fn check_tree(props: &Props) -> Html {
    html! {
        <section class="checks" aria-labelledby="checks-title">
            <h2 id="checks-title">{ "Checks" }</h2>
            <ul class="tree">
                { for props.nodes.iter().map(|node| html! { <CheckNode key={node.id.clone()} node={node.clone()} /> }) }
            </ul>
        </section>
    }
}
