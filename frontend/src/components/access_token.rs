//! The relay's access token: asked for only when the relay answers 401 (a consultant's relay started
//! with `migcheck serve --token-env`). Held in memory like the password; "Use" asks the relay again.

use migcheck_shared::Password;
use yew::prelude::*;

use super::wizard::field::{Field, value_of};
use crate::api;
use crate::state::{Action, State, TOKEN_FIELD};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: UseReducerHandle<State>,
}

#[function_component(AccessToken)]
pub fn access_token(props: &Props) -> Html {
    let state = &props.state;
    if !state.needs_token {
        return html! {};
    }
    let on_input = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.dispatch(Action::SetToken(Password::new(value_of(&e)))))
    };
    let on_use = {
        let state = state.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            api::load_info(state.dispatcher(), state.token.clone(), true);
        })
    };
    let accepted = state.info.is_some() && state.field_error(TOKEN_FIELD).is_none();
    html! {
        <form id="access-token" class="access-token" onsubmit={on_use} aria-labelledby="access-token-title">
            <h2 id="access-token-title">{ "This relay needs its access token" }</h2>
            <Field id="token" label="Access token" kind="password" autocomplete="off"
                error={state.field_error(TOKEN_FIELD)} oninput={on_input}>
                { "The relay was started with an access token (" }<code>{ "migcheck serve --token-env" }</code>
                { "): ask whoever runs it. Kept in this page's memory only, sent only to this relay." }
            </Field>
            <button id="token-use" type="submit" class="secondary">{ "Use token" }</button>
            if accepted {
                <p id="token-accepted" class="help" role="status">{ "Token accepted." }</p>
            }
        </form>
    }
}
