//! The relay's access token: asked for only when the relay answers 401 (a consultant's relay started
//! with `migcheck serve --token-env`). Held in memory like the password; "Use" asks the relay again.

use migcheck_shared::{Field, Password};
use yew::prelude::*;

use super::wizard::field::{FieldInput, value_of};
use crate::api;
use crate::state::{Action, Relay, State};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub relay: Relay,
    /// What the relay said about the token.
    pub error: Option<String>,
    pub dispatch: UseReducerDispatcher<State>,
}

#[function_component(AccessToken)]
pub fn access_token(props: &Props) -> Html {
    let relay = &props.relay;
    if !relay.needs_token {
        return html! {};
    }
    let on_input = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: InputEvent| dispatch.dispatch(Action::SetToken(Password::new(value_of(&e)))))
    };
    let on_use = {
        let dispatch = props.dispatch.clone();
        let token = relay.token.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            api::load_info(dispatch.clone(), token.clone(), true);
        })
    };
    let accepted = relay.info.is_some() && props.error.is_none();
    html! {
        <form id="access-token" class="access-token" onsubmit={on_use} aria-labelledby="access-token-title">
            <h2 id="access-token-title">{ "This relay needs its access token" }</h2>
            <FieldInput field={Field::Token} label="Access token" kind="password" autocomplete="off"
                error={props.error.clone()} oninput={on_input}>
                { "The relay was started with an access token (" }<code>{ "migcheck serve --token-env" }</code>
                { "): ask whoever runs it. Kept in this page's memory only, sent only to this relay." }
            </FieldInput>
            <button id="token-use" type="submit" class="secondary">{ "Use token" }</button>
            if accepted {
                <p id="token-accepted" class="help" role="status">{ "Token accepted." }</p>
            }
        </form>
    }
}
