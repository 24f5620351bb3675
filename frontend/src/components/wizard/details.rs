//! The last step: the server of a remote move or of a certificate check, and the credentials of the
//! modes that log on (the account, the password, the mailbox to check, the credential-redirect box).

use yew::prelude::*;

use super::field::{Field, value_of};
use super::{StepProps, legend, password_action};
use crate::state::{Action, Mode, Step};

#[function_component(Details)]
pub fn details(props: &StepProps) -> Html {
    let state = &props.state;
    let send = |make: fn(String) -> Action| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.dispatch(make(value_of(&e))))
    };
    let on_password = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.dispatch(password_action(&e)))
    };
    let on_allow = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<web_sys::HtmlInputElement>();
            state.dispatch(Action::SetAllowRedirect(input.checked()));
        })
    };
    let autodiscover = state.mode == Mode::Autodiscover;
    let host = state.mode == Mode::Host;
    let title = match state.mode {
        Mode::Host => "Which server?",
        Mode::RemoteMove => "Server and credentials",
        _ => "Credentials",
    };
    html! {
        <fieldset id="step-details" class="step" hidden={state.step != Step::Details}>
            { legend(state, Step::Details, title) }
            <div class="fields remote-move" hidden={state.mode != Mode::RemoteMove}>
                <Field id="remote-server" field="remote_server" label="Remote server (MRS Proxy host)"
                    value={state.remote_server.clone()} placeholder="mail.contoso.com" inputmode="url"
                    error={state.field_error("remote_server")} oninput={send(Action::SetRemoteServer)}>
                    { "The external host name that publishes EWS, e.g. mail.contoso.com, as in " }
                    <code>{ "-RemoteServer" }</code>{ "." }
                </Field>
            </div>
            <div class="fields host" hidden={!host}>
                <Field id="host" label="Outlook Anywhere host name" value={state.host.clone()}
                    placeholder="mail.contoso.com" inputmode="url"
                    error={state.field_error("host")} oninput={send(Action::SetHost)}>
                    { "The external host name of Outlook Anywhere, as in " }
                    <code>{ "Get-OutlookAnywhere | fl ExternalHostname" }</code>
                    { " and in the migration endpoint's RPC proxy server. A pasted address such as https://mail.contoso.com/owa is fine." }
                </Field>
                <Field id="port" label="Port" value={state.port.clone()} class="port"
                    placeholder="443" inputmode="numeric" size="6"
                    error={state.field_error("port")} oninput={send(Action::SetPort)}>
                    { "Optional: empty means 443, the port Exchange Online uses. Another port only to test inside your network." }
                </Field>
            </div>
            <div class="fields credentials" hidden={host}>
                <Field id="user" label="Migration account (user name)" value={state.user.clone()}
                    placeholder="DOMAIN\\user or user@domain"
                    autocomplete="username" error={state.field_error("user")} oninput={send(Action::SetUser)}>
                    { if autodiscover { "Empty: the e-mail address. " } else { "" } }
                    { "The same credentials as " }<code>{ "Test-MigrationServerAvailability -Credentials" }</code>
                    { " and the migration endpoint. The account needs Full Access to the mailbox ("
                    }<code>{ "Add-MailboxPermission -AccessRights FullAccess" }</code>{ ")." }
                </Field>
                <Field id="password" label="Password" kind="password" autocomplete="current-password"
                    node_ref={props.password.clone()} error={state.field_error("password")} oninput={on_password}>
                    { "Used for this diagnosis only: sent to the migcheck relay serving this page, and by it only to " }
                    { match state.mode {
                        Mode::Autodiscover => "Autodiscover and Outlook Anywhere servers in the e-mail address's domain",
                        Mode::RemoteMove => "the remote server above",
                        _ => "the RPC proxy server of step 2",
                    } }
                    { ". Never stored, logged, or put in the reopen link." }
                </Field>
                <Field id="target-mailbox" field="target_mailbox" label="Mailbox to check"
                    value={state.target_mailbox.clone()} kind="email" inputmode="email"
                    placeholder={if autodiscover { "empty = the e-mail address" } else { "optional, e.g. adele@contoso.com" }}
                    error={state.field_error("target_mailbox")} oninput={send(Action::SetTargetMailbox)}>
                    { "A mailbox the migration account must open with Full Access (" }
                    <code>{ "-MailboxPermission FullAccess" }</code>
                    { if autodiscover { "); empty: the e-mail address." } else { "); optional." } }
                </Field>
                <div class="field wide check" hidden={!autodiscover}>
                    <input id="allow-redirect" name="allow-redirect" type="checkbox" checked={state.allow_redirect}
                        onchange={on_allow} aria-describedby="allow-redirect-help" />
                    <label for="allow-redirect">{ "Allow my password to go to servers outside the e-mail address's domain" }</label>
                    <p id="allow-redirect-help" class="help">
                        { "Leave it unticked unless Autodiscover for this domain is answered elsewhere (a hoster, another domain of the organisation). Either way the report names every server that asked for the password." }
                    </p>
                </div>
            </div>
        </fieldset>
    }
}
