//! The last step: the server of a remote move or of a certificate check, and the credentials of the
//! modes that log on (the account, the password, the mailbox to check, the credential-redirect box).

use migcheck_shared::Field;
use yew::prelude::*;

use super::compare::compare_choice;
use super::field::{FieldInput, check_box, on_tick};
use super::{StepProps, legend, password_action};
use crate::state::{Action, Mode, Step};

#[function_component(Details)]
pub fn details(props: &StepProps) -> Html {
    let form = &props.form;
    let send = |make| props.send(make);
    let on_password = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: InputEvent| dispatch.dispatch(password_action(&e)))
    };
    let on_allow = on_tick(&props.dispatch, Action::SetAllowRedirect);
    let autodiscover = form.mode == Mode::Autodiscover;
    let host = form.mode == Mode::Host;
    let title = match form.mode {
        Mode::Host => "Which server?",
        Mode::RemoteMove => "Server and credentials",
        _ => "Credentials",
    };
    html! {
        <fieldset id="step-details" class="step" hidden={props.hidden}>
            { legend(form.mode, Step::Details, title) }
            <div class="fields remote-move" hidden={form.mode != Mode::RemoteMove}>
                <FieldInput field={Field::RemoteServer} label="Remote server (MRS Proxy host)"
                    value={form.remote_server.clone()} placeholder="mail.contoso.com" inputmode="url"
                    error={props.error(Field::RemoteServer)} oninput={send(Action::SetRemoteServer)}>
                    { "The external host name that publishes EWS, e.g. mail.contoso.com, as in " }
                    <code>{ "-RemoteServer" }</code>{ "." }
                </FieldInput>
                // Only a relay inside the network reaches the servers behind a name, or the server an agent publishes.
                if form.shows(Field::Servers) {
                    <FieldInput field={Field::Servers} label="Servers behind that name (optional)"
                        value={form.servers.clone()} placeholder="ex01.contoso.local, ex02.contoso.local"
                        error={props.error(Field::Servers)} oninput={send(Action::SetServers)}>
                        { "Each Exchange server the load balancer sends the name to, by name or address: each is checked directly (the name still sent as SNI and Host), so one with MRS Proxy off stands out. At most 16; each is up to three more logons, one after another, none after a refusal." }
                    </FieldInput>
                }
                if form.shows(Field::AgentTarget) {
                    <FieldInput field={Field::AgentTarget} label="Server the Hybrid Agent publishes (optional)"
                        value={form.agent_target.clone()} placeholder="ex01.contoso.local"
                        error={props.error(Field::AgentTarget)} oninput={send(Action::SetAgentTarget)}>
                        { "That name is a Hybrid Agent's, which only Exchange Online reaches. The internal server it publishes (" }
                        <code>{ "Get-HybridApplication" }</code>{ "'s TargetUri) is checked from here instead." }
                    </FieldInput>
                }
            </div>
            <div class="fields host" hidden={!host}>
                <FieldInput field={Field::Host} label="Outlook Anywhere host name" value={form.host.clone()}
                    placeholder="mail.contoso.com" inputmode="url"
                    error={props.error(Field::Host)} oninput={send(Action::SetHost)}>
                    { "The external host name of Outlook Anywhere, as in " }
                    <code>{ "Get-OutlookAnywhere | fl ExternalHostname" }</code>
                    { " and in the migration endpoint's RPC proxy server. A pasted address such as https://mail.contoso.com/owa is fine." }
                </FieldInput>
                <FieldInput field={Field::Port} label="Port" value={form.port.clone()} class="field port"
                    placeholder="443" inputmode="numeric" size="6"
                    error={props.error(Field::Port)} oninput={send(Action::SetPort)}>
                    { "Optional: empty means 443, the port Exchange Online uses. Another port only to test inside your network." }
                </FieldInput>
            </div>
            <div class="fields credentials" hidden={host}>
                <FieldInput field={Field::User} label="Migration account (user name)" value={form.user.clone()}
                    placeholder="DOMAIN\\user or user@domain"
                    autocomplete="username" error={props.error(Field::User)} oninput={send(Action::SetUser)}>
                    { if autodiscover { "Empty: the e-mail address. " } else { "" } }
                    { "The same credentials as " }<code>{ "Test-MigrationServerAvailability -Credentials" }</code>
                    { if form.mode == Mode::RemoteMove {
                        " and the migration endpoint. A remote move needs it in Organization Management or Recipient Management."
                    } else {
                        " and the migration endpoint. The account needs Full Access to the mailbox (Add-MailboxPermission -AccessRights FullAccess)."
                    } }
                </FieldInput>
                <FieldInput field={Field::Password} label="Password" kind="password" autocomplete="current-password"
                    node_ref={props.password.clone()} error={props.error(Field::Password)} oninput={on_password}>
                    { "Used for this diagnosis only: sent to the migcheck relay serving this page, and by it only to " }
                    { match form.mode {
                        Mode::Autodiscover => "Autodiscover and Outlook Anywhere servers in the e-mail address's domain",
                        Mode::RemoteMove => "the remote server above",
                        _ => "the RPC proxy server of step 2",
                    } }
                    { ". Never stored, logged, or put in the reopen link." }
                </FieldInput>
                <FieldInput field={Field::TargetMailbox} label="Mailbox to check"
                    value={form.target_mailbox.clone()} kind="email" inputmode="email"
                    placeholder={if autodiscover { "empty = the e-mail address" } else { "optional, e.g. adele@contoso.com" }}
                    error={props.error(Field::TargetMailbox)} oninput={send(Action::SetTargetMailbox)}>
                    { match form.mode {
                        Mode::RemoteMove => "Optional: a mailbox EWS must find on the remote server (a remote move needs no Full Access).",
                        Mode::Autodiscover => "A mailbox the migration account must open with Full Access (-MailboxPermission FullAccess); empty: the e-mail address.",
                        _ => "A mailbox the migration account must open with Full Access (-MailboxPermission FullAccess); optional.",
                    } }
                </FieldInput>
                if autodiscover {
                    { check_box("allow-redirect", "field wide check", form.allow_redirect, on_allow,
                        "Allow my password to go to servers outside the e-mail address's domain".into(),
                        "Leave it unticked unless Autodiscover for this domain is answered elsewhere (a hoster, another domain of the organisation). Either way the report names every server that asked for the password.") }
                }
            </div>
            { compare_choice(form, &props.dispatch) }
        </fieldset>
    }
}
