//! The form: the mode (Autodiscover from an e-mail address, a server name, the Outlook Anywhere server
//! names, or the MRS Proxy host of a remote move), its fields and the Run button. The modes follow the
//! parameter sets of Test-MigrationServerAvailability; the three that log on share the account, password
//! and mailbox fields.
//!
//! The password input is left uncontrolled: its value is never put back into the page from the state
//! (so it sits in no virtual DOM), and it is emptied, with the state's copy, when the page is left.

use migcheck_shared::{AuthMethod, Password};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::state::{Action, Mode};

/// The message under each field (`error-<field>`), `None` when the field is fine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldErrors {
    pub host: Option<String>,
    pub port: Option<String>,
    pub email: Option<String>,
    pub rpc_proxy: Option<String>,
    pub exchange_server: Option<String>,
    pub remote_server: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub target_mailbox: Option<String>,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub mode: Mode,
    pub host: AttrValue,
    pub port: AttrValue,
    pub email: AttrValue,
    pub rpc_proxy: AttrValue,
    pub exchange_server: AttrValue,
    pub auth: AuthMethod,
    pub remote_server: AttrValue,
    pub user: AttrValue,
    pub target_mailbox: AttrValue,
    pub allow_redirect: bool,
    pub errors: FieldErrors,
    /// Every field of the current mode passes the shared input rules.
    pub valid: bool,
    pub running: bool,
    /// A field was edited or the mode changed.
    pub on_change: Callback<Action>,
    pub on_run: Callback<()>,
}

fn value_of(event: &InputEvent) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

/// One labelled input with its help text and, when it is wrong, its message (`error-<field>`).
#[derive(Properties, PartialEq)]
struct FieldProps {
    id: AttrValue,
    /// The request field its message belongs to, when not the id (`rpc_proxy` for `rpc-proxy`).
    #[prop_or_default]
    field: Option<AttrValue>,
    label: AttrValue,
    /// `None` leaves the input uncontrolled (the password).
    #[prop_or_default]
    value: Option<AttrValue>,
    #[prop_or(AttrValue::Static("text"))]
    kind: AttrValue,
    #[prop_or_default]
    placeholder: Option<AttrValue>,
    #[prop_or(AttrValue::Static("off"))]
    autocomplete: AttrValue,
    #[prop_or_default]
    inputmode: Option<AttrValue>,
    #[prop_or_default]
    size: Option<AttrValue>,
    #[prop_or_default]
    class: Classes,
    error: Option<String>,
    oninput: Callback<InputEvent>,
    #[prop_or_default]
    node_ref: NodeRef,
    /// The help text, shown under the input (`<id>-help`).
    children: Html,
}

#[function_component(Field)]
fn field(props: &FieldProps) -> Html {
    let id = &props.id;
    let field = props.field.as_ref().unwrap_or(id);
    let described = match props.error {
        Some(_) => format!("{id}-help error-{field}"),
        None => format!("{id}-help"),
    };
    let invalid = if props.error.is_some() { "true" } else { "false" };
    html! {
        <div class={classes!("field", props.class.clone())}>
            <label for={id.clone()}>{ &props.label }</label>
            <input id={id.clone()} name={id.clone()} type={props.kind.clone()} value={props.value.clone()}
                ref={props.node_ref.clone()}
                placeholder={props.placeholder.clone()} inputmode={props.inputmode.clone()}
                size={props.size.clone()} autocomplete={props.autocomplete.clone()}
                autocapitalize="none" spellcheck="false"
                aria-invalid={invalid} aria-describedby={described}
                oninput={props.oninput.clone()} />
            <p id={format!("{id}-help")} class="help">{ props.children.clone() }</p>
            if let Some(message) = &props.error {
                <p id={format!("error-{field}")} class="error" role="alert">{ message }</p>
            }
        </div>
    }
}

#[function_component(DiagnoseForm)]
pub fn diagnose_form(props: &Props) -> Html {
    let password = use_node_ref();
    // Leaving the page (or going into the back-forward cache) forgets the password.
    {
        let password = password.clone();
        let on_change = props.on_change.clone();
        use_effect_with((), move |()| {
            let forget = Closure::<dyn Fn()>::new(move || {
                if let Some(input) = password.cast::<HtmlInputElement>() {
                    input.set_value("");
                }
                on_change.emit(Action::ForgetPassword);
            });
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ = w.add_event_listener_with_callback("pagehide", forget.as_ref().unchecked_ref());
            }
            move || {
                if let Some(w) = &window {
                    let _ = w.remove_event_listener_with_callback("pagehide", forget.as_ref().unchecked_ref());
                }
                drop(forget);
            }
        });
    }

    let onsubmit = {
        let on_run = props.on_run.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            on_run.emit(());
        })
    };
    let send = |make: fn(String) -> Action| props.on_change.reform(move |e: InputEvent| make(value_of(&e)));
    let on_password = props
        .on_change
        .reform(|e: InputEvent| Action::SetPassword(Password::new(value_of(&e))));
    let on_allow = props
        .on_change
        .reform(|e: Event| Action::SetAllowRedirect(e.target_unchecked_into::<HtmlInputElement>().checked()));
    let on_auth = props.on_change.reform(|e: Event| {
        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
        Action::SetAuth(if value == "ntlm" {
            AuthMethod::Ntlm
        } else {
            AuthMethod::Basic
        })
    });
    // One radio button of the mode group (`mode-<value>`, `_` written `-`).
    let choice = |mode: Mode, value: &'static str, name: &'static str, hint: Html| {
        let id = format!("mode-{}", value.replace('_', "-"));
        html! {
            <label class="choice" for={id.clone()}>
                <input type="radio" name="mode" {id} {value} checked={props.mode == mode}
                    onchange={props.on_change.reform(move |_: Event| Action::SetMode(mode))} />
                <span class="name">{ name }</span>
                <span class="hint">{ hint }</span>
            </label>
        }
    };
    let errors = &props.errors;
    let autodiscover = props.mode == Mode::Autodiscover;
    let host = props.mode == Mode::Host;
    let outlook_anywhere = props.mode == Mode::OutlookAnywhere;
    let remote_move = props.mode == Mode::RemoteMove;
    let auth_option = |method: AuthMethod, value: &'static str| {
        html! { <option {value} selected={props.auth == method}>{ method.label() }</option> }
    };

    html! {
        <form class="diagnose" {onsubmit} novalidate=true>
            <fieldset class="mode">
                <legend>{ "What to check" }</legend>
                { choice(Mode::Autodiscover, "autodiscover", "Find the server with Autodiscover (e-mail address)", html! { <>
                    { "As " }<code>{ "Test-MigrationServerAvailability -Autodiscover" }</code>
                    { ": Autodiscover, the Outlook Anywhere settings it returns, then that server's certificate." }
                </> }) }
                { choice(Mode::Host, "host", "Check a server name (certificate and TLS)", html! { <>
                    { "No password needed: the certificate and TLS of the Outlook Anywhere host (" }
                    <code>{ "-RPCProxyServer" }</code>{ ")." }
                </> }) }
                { choice(Mode::OutlookAnywhere, "outlook_anywhere", "Server names (Outlook Anywhere)", html! { <>
                    { "As " }<code>{ "Test-MigrationServerAvailability -ExchangeServer" }</code>
                    { ": logs on to the RPC proxy and opens the Exchange server's RPC endpoints through it." }
                </> }) }
                { choice(Mode::RemoteMove, "remote_move", "Remote move (MRS Proxy)", html! { <>
                    { "As " }<code>{ "Test-MigrationServerAvailability -ExchangeRemoteMove" }</code>
                    { ": logs on to EWS and the MRS Proxy endpoint of the server named." }
                </> }) }
            </fieldset>

            <div class="fields autodiscover" hidden={!autodiscover}>
                <Field id="email" label="E-mail address" value={props.email.clone()} kind="email"
                    placeholder="adele@contoso.com" autocomplete="email" inputmode="email" class="wide"
                    error={errors.email.clone()} oninput={send(Action::SetEmail)}>
                    { "The address of a mailbox to migrate, as in " }<code>{ "-EmailAddress" }</code>
                    { ". migcheck runs Autodiscover for it the way the migration service does: the domain, autodiscover.<domain>, the HTTP redirect, the SRV record." }
                </Field>
            </div>

            <div class="fields outlook-anywhere" hidden={!outlook_anywhere}>
                <Field id="rpc-proxy" field="rpc_proxy" label="RPC proxy server (Outlook Anywhere host)"
                    value={props.rpc_proxy.clone()} placeholder="mail.contoso.com" inputmode="url"
                    error={errors.rpc_proxy.clone()} oninput={send(Action::SetRpcProxy)}>
                    { "The external host name, e.g. mail.contoso.com, as in " }<code>{ "-RPCProxyServer" }</code>
                    { " and " }<code>{ "Get-OutlookAnywhere | fl ExternalHostname" }</code>{ "." }
                </Field>
                <Field id="exchange-server" field="exchange_server" label="Exchange server"
                    value={props.exchange_server.clone()} placeholder="ex01.contoso.com"
                    error={errors.exchange_server.clone()} oninput={send(Action::SetExchangeServer)}>
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

            <div class="fields remote-move" hidden={!remote_move}>
                <Field id="remote-server" field="remote_server" label="Remote server (MRS Proxy host)"
                    value={props.remote_server.clone()} placeholder="mail.contoso.com" inputmode="url"
                    error={errors.remote_server.clone()} oninput={send(Action::SetRemoteServer)}>
                    { "The external host name that publishes EWS, e.g. mail.contoso.com, as in " }
                    <code>{ "-RemoteServer" }</code>{ "." }
                </Field>
            </div>

            <div class="fields credentials" hidden={host}>
                <Field id="user" label="Migration account (user name)" value={props.user.clone()}
                    placeholder={if autodiscover { "DOMAIN\\user or user@domain; empty = the e-mail address" } else { "DOMAIN\\user or user@domain" }}
                    autocomplete="username" error={errors.user.clone()} oninput={send(Action::SetUser)}>
                    { "The same credentials as " }<code>{ "Test-MigrationServerAvailability -Credentials" }</code>
                    { " and the migration endpoint. The account needs Full Access to the mailbox ("
                    }<code>{ "Add-MailboxPermission -AccessRights FullAccess" }</code>{ ")." }
                </Field>
                <Field id="password" label="Password" kind="password" autocomplete="current-password"
                    node_ref={password.clone()} error={errors.password.clone()} oninput={on_password}>
                    { "Used for this diagnosis only: sent to the migcheck relay serving this page, and by it only to " }
                    { match props.mode {
                        Mode::Autodiscover => "Autodiscover and Outlook Anywhere servers in the e-mail address's domain",
                        Mode::RemoteMove => "the remote server above",
                        _ => "the RPC proxy server above",
                    } }
                    { ". Never stored or logged." }
                </Field>
                <Field id="target-mailbox" field="target_mailbox" label="Mailbox to check"
                    value={props.target_mailbox.clone()} kind="email" inputmode="email"
                    placeholder={if autodiscover { "empty = the e-mail address" } else { "optional, e.g. adele@contoso.com" }}
                    error={errors.target_mailbox.clone()} oninput={send(Action::SetTargetMailbox)}>
                    { "A mailbox the migration account must open with Full Access; Autodiscover mode: the e-mail address if empty." }
                </Field>
                <div class="field wide check" hidden={!autodiscover}>
                    <input id="allow-redirect" name="allow-redirect" type="checkbox" checked={props.allow_redirect}
                        onchange={on_allow} aria-describedby="allow-redirect-help" />
                    <label for="allow-redirect">{ "Allow my password to go to servers outside the e-mail address's domain" }</label>
                    <p id="allow-redirect-help" class="help">
                        { "Leave it unticked unless Autodiscover for this domain is answered elsewhere (a hoster, another domain of the organisation). Either way the report names every server that asked for the password." }
                    </p>
                </div>
            </div>

            <div class="fields host" hidden={!host}>
                <Field id="host" label="Outlook Anywhere host name" value={props.host.clone()}
                    placeholder="mail.contoso.com" inputmode="url"
                    error={errors.host.clone()} oninput={send(Action::SetHost)}>
                    { "The external host name of Outlook Anywhere, as in " }
                    <code>{ "Get-OutlookAnywhere | fl ExternalHostname" }</code>
                    { " and in the migration endpoint's RPC proxy server. A pasted address such as https://mail.contoso.com/owa is fine." }
                </Field>
                <Field id="port" label="Port" value={props.port.clone()} class="port"
                    placeholder="443" inputmode="numeric" size="6"
                    error={errors.port.clone()} oninput={send(Action::SetPort)}>
                    { "Optional: empty means 443, the port Exchange Online uses. Another port only to test inside your network." }
                </Field>
            </div>

            <button id="run" type="submit" disabled={!props.valid || props.running}>
                { if props.running { "Running…" } else { "Run" } }
            </button>
        </form>
    }
}
