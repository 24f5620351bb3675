//! Step 1: what kind of migration (cutover or staged, remote move, or just a certificate).

use yew::prelude::*;

use migcheck_shared::Password;

use super::legend;
use super::paste::PasteBox;
use crate::state::{Action, Kind, Mode, State, Step};

/// One radio button of a wizard question, with its name and a hint in Exchange terms.
pub fn choice(
    group: &'static str,
    id: &'static str,
    value: &'static str,
    checked: bool,
    on: Callback<Event>,
    name: &str,
    hint: Html,
) -> Html {
    html! {
        <label class="choice" for={id}>
            <input type="radio" name={group} {id} {value} {checked} onchange={on} />
            <span class="name">{ name }</span>
            <span class="hint">{ hint }</span>
        </label>
    }
}

/// Step 1 needs only the mode (its kind is the answer) and whether it is the current step.
#[derive(Properties, PartialEq)]
pub struct Props {
    pub mode: Mode,
    pub hidden: bool,
    /// "Paste an error message" is the answer.
    pub pasting: bool,
    /// The relay's access token, for the catalogue the paste box fetches.
    pub token: Password,
    pub dispatch: UseReducerDispatcher<State>,
}

#[function_component(KindStep)]
pub fn kind_step(props: &Props) -> Html {
    let pick = |kind: Kind| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: Event| dispatch.dispatch(Action::SetKind(kind)))
    };
    // Pasting answers the question with none of the kinds.
    let kind = (!props.pasting).then(|| props.mode.kind());
    let paste = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: Event| dispatch.dispatch(Action::Paste))
    };
    html! {
        <fieldset id="step-kind" class="step" hidden={props.hidden}>
            { legend(props.mode, Step::Kind, "What kind of migration?") }
            <div class="choices">
                { choice("kind", "mode-staged", "staged", kind == Some(Kind::Staged), pick(Kind::Staged),
                    "Cutover or staged migration", html! { <>
                    { "All mailboxes at once, or in batches, from an on-premises Exchange server through Outlook Anywhere (RPC over HTTP): the " }
                    <code>{ "-ExchangeOutlookAnywhere" }</code>{ " migration endpoint." }
                </> }) }
                { choice("kind", "mode-remote-move", "remote_move", kind == Some(Kind::RemoteMove), pick(Kind::RemoteMove),
                    "Remote move (hybrid)", html! { <>
                    { "Through EWS and the MRS Proxy of an Exchange 2010 or later server: the " }
                    <code>{ "-ExchangeRemoteMove" }</code>{ " migration endpoint." }
                </> }) }
                { choice("kind", "mode-host", "host", kind == Some(Kind::Host), pick(Kind::Host),
                    "Just check a certificate", html! { <>
                    { "No password needed: the certificate and TLS of the Outlook Anywhere host (" }
                    <code>{ "-RPCProxyServer" }</code>{ ")." }
                </> }) }
                { choice("kind", "mode-paste", "paste", props.pasting, paste,
                    "Paste an error message", html! { <>
                    { "You have the error text only: it is read here, in this browser, and explained." }
                </> }) }
            </div>
            if props.pasting {
                <PasteBox token={props.token.clone()} dispatch={props.dispatch.clone()} />
            }
        </fieldset>
    }
}
