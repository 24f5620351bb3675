//! Step 1: what kind of migration (cutover or staged, remote move, or just a certificate).

use yew::prelude::*;

use super::{StepProps, legend};
use crate::state::{Action, Kind, Step};

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

#[function_component(KindStep)]
pub fn kind_step(props: &StepProps) -> Html {
    let state = &props.state;
    let pick = |kind: Kind| {
        let state = state.clone();
        Callback::from(move |_: Event| state.dispatch(Action::SetKind(kind)))
    };
    let kind = state.mode.kind();
    html! {
        <fieldset id="step-kind" class="step" hidden={state.step != Step::Kind}>
            { legend(state, Step::Kind, "What kind of migration?") }
            <div class="choices">
                { choice("kind", "mode-staged", "staged", kind == Kind::Staged, pick(Kind::Staged),
                    "Cutover or staged migration", html! { <>
                    { "All mailboxes at once, or in batches, from an on-premises Exchange server through Outlook Anywhere (RPC over HTTP): the " }
                    <code>{ "-ExchangeOutlookAnywhere" }</code>{ " migration endpoint." }
                </> }) }
                { choice("kind", "mode-remote-move", "remote_move", kind == Kind::RemoteMove, pick(Kind::RemoteMove),
                    "Remote move (hybrid)", html! { <>
                    { "Through EWS and the MRS Proxy of an Exchange 2010 or later server: the " }
                    <code>{ "-ExchangeRemoteMove" }</code>{ " migration endpoint." }
                </> }) }
                { choice("kind", "mode-host", "host", kind == Kind::Host, pick(Kind::Host),
                    "Just check a certificate", html! { <>
                    { "No password needed: the certificate and TLS of the Outlook Anywhere host (" }
                    <code>{ "-RPCProxyServer" }</code>{ ")." }
                </> }) }
            </div>
        </fieldset>
    }
}
