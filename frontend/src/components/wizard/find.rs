//! Step 2 of a cutover or staged migration: how to find the server, as the two parameter sets of
//! Test-MigrationServerAvailability: Autodiscover from an e-mail address, or the server names typed in.

use migcheck_shared::{AuthMethod, Field};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::field::FieldInput;
use super::kind::choice;
use super::{StepProps, legend};
use crate::state::{Action, Mode, Step};

#[function_component(Find)]
pub fn find(props: &StepProps) -> Html {
    let form = &props.form;
    let pick = |mode: Mode| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: Event| dispatch.dispatch(Action::SetMode(mode)))
    };
    let on_auth = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            dispatch.dispatch(Action::SetAuth(if value == "ntlm" {
                AuthMethod::Ntlm
            } else {
                AuthMethod::Basic
            }));
        })
    };
    let auth_option = |method: AuthMethod, value: &'static str| {
        html! { <option {value} selected={form.auth == method}>{ method.label() }</option> }
    };
    let autodiscover = form.mode == Mode::Autodiscover;
    let outlook_anywhere = form.mode == Mode::OutlookAnywhere;
    html! {
        <fieldset id="step-find" class="step" hidden={props.hidden}>
            { legend(form.mode, Step::Find, "How to find the server?") }
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
                <FieldInput field={Field::Email} label="E-mail address" value={form.email.clone()} kind="email"
                    placeholder="adele@contoso.com" autocomplete="email" inputmode="email" class="wide"
                    error={props.error(Field::Email)} oninput={props.send(Action::SetEmail)}>
                    { "The address of a mailbox to migrate, as in " }<code>{ "-EmailAddress" }</code>
                    { ". migcheck runs Autodiscover for it the way the migration service does: the domain, autodiscover.<domain>, the HTTP redirect, the SRV record." }
                </FieldInput>
            </div>
            <div class="fields outlook-anywhere" hidden={!outlook_anywhere}>
                <FieldInput field={Field::RpcProxy} label="RPC proxy server (Outlook Anywhere host)"
                    value={form.rpc_proxy.clone()} placeholder="mail.contoso.com" inputmode="url"
                    error={props.error(Field::RpcProxy)} oninput={props.send(Action::SetRpcProxy)}>
                    { "The external host name, e.g. mail.contoso.com, as in " }<code>{ "-RPCProxyServer" }</code>
                    { " and " }<code>{ "Get-OutlookAnywhere | fl ExternalHostname" }</code>{ "." }
                </FieldInput>
                <FieldInput field={Field::ExchangeServer} label="Exchange server"
                    value={form.exchange_server.clone()} placeholder="ex01.contoso.com"
                    error={props.error(Field::ExchangeServer)} oninput={props.send(Action::SetExchangeServer)}>
                    { "The mailbox server's FQDN, or for Exchange 2013 and later the mailbox GUID form <guid>@<domain> that Autodiscover gives, as in " }
                    <code>{ "-ExchangeServer" }</code>{ "." }
                </FieldInput>
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
