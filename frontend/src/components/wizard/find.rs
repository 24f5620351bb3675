//! Step 2 of a cutover or staged migration: how to find the server, as the two parameter sets of
//! Test-MigrationServerAvailability: Autodiscover from an e-mail address, or the server names typed in.

use migcheck_shared::AuthMethod;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::field::{Field, value_of};
use super::kind::choice;
use super::{StepProps, legend};
use crate::state::{Action, Mode, Step};

#[function_component(Find)]
pub fn find(props: &StepProps) -> Html {
    let state = &props.state;
    let pick = |mode: Mode| {
        let state = state.clone();
        Callback::from(move |_: Event| state.dispatch(Action::SetMode(mode)))
    };
    let send = |make: fn(String) -> Action| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.dispatch(make(value_of(&e))))
    };
    let on_auth = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            state.dispatch(Action::SetAuth(if value == "ntlm" {
                AuthMethod::Ntlm
            } else {
                AuthMethod::Basic
            }));
        })
    };
    let auth_option = |method: AuthMethod, value: &'static str| {
        html! { <option {value} selected={state.auth == method}>{ method.label() }</option> }
    };
    let autodiscover = state.mode == Mode::Autodiscover;
    let outlook_anywhere = state.mode == Mode::OutlookAnywhere;
    html! {
        <fieldset id="step-find" class="step" hidden={state.step != Step::Find}>
            { legend(state, Step::Find, "How to find the server?") }
            <div class="choices">
                { choice("mode", "mode-autodiscover", "autodiscover", autodiscover, pick(Mode::Autodiscover),
                    "Autodiscover, from an e-mail address", html! { <>
                    { "As " }<code>{ "Test-MigrationServerAvailability -Autodiscover" }</code>
                    { ": Autodiscover, the Outlook Anywhere settings it returns, then that server." }
                </> }) }
                { choice("mode", "mode-outlook-anywhere", "outlook_anywhere", outlook_anywhere, pick(Mode::OutlookAnywhere),
                    "The server names, typed in", html! { <>
                    { "As " }<code>{ "Test-MigrationServerAvailability -ExchangeServer -RPCProxyServer" }</code>
                    { ": logs on to the RPC proxy and opens the Exchange server's RPC endpoints through it." }
                </> }) }
            </div>
            <div class="fields autodiscover" hidden={!autodiscover}>
                <Field id="email" label="E-mail address" value={state.email.clone()} kind="email"
                    placeholder="adele@contoso.com" autocomplete="email" inputmode="email" class="wide"
                    error={state.field_error("email")} oninput={send(Action::SetEmail)}>
                    { "The address of a mailbox to migrate, as in " }<code>{ "-EmailAddress" }</code>
                    { ". migcheck runs Autodiscover for it the way the migration service does: the domain, autodiscover.<domain>, the HTTP redirect, the SRV record." }
                </Field>
            </div>
            <div class="fields outlook-anywhere" hidden={!outlook_anywhere}>
                <Field id="rpc-proxy" field="rpc_proxy" label="RPC proxy server (Outlook Anywhere host)"
                    value={state.rpc_proxy.clone()} placeholder="mail.contoso.com" inputmode="url"
                    error={state.field_error("rpc_proxy")} oninput={send(Action::SetRpcProxy)}>
                    { "The external host name, e.g. mail.contoso.com, as in " }<code>{ "-RPCProxyServer" }</code>
                    { " and " }<code>{ "Get-OutlookAnywhere | fl ExternalHostname" }</code>{ "." }
                </Field>
                <Field id="exchange-server" field="exchange_server" label="Exchange server"
                    value={state.exchange_server.clone()} placeholder="ex01.contoso.com"
                    error={state.field_error("exchange_server")} oninput={send(Action::SetExchangeServer)}>
                    { "The mailbox server's FQDN, or for Exchange 2013 and later the mailbox GUID form <guid>@<domain> that Autodiscover gives, as in " }
                    <code>{ "-ExchangeServer" }</code>{ "." }
                </Field>
                <div class="field auth">
                    <label for="auth">{ "Authentication" }</label>
                    <select id="auth" name="auth" aria-describedby="auth-help" onchange={on_auth}>
                        { auth_option(AuthMethod::Basic, "basic") }
                        { auth_option(AuthMethod::Ntlm, "ntlm") }
                    </select>
                    <p id="auth-help" class="help">{ "As " }<code>{ "-Authentication" }</code>
                        { ": what the proxy's Outlook Anywhere offers (" }
                        <code>{ "Get-OutlookAnywhere | fl ExternalClientAuthenticationMethod" }</code>{ ")." }</p>
                </div>
            </div>
        </fieldset>
    }
}
