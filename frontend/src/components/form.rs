//! The form: the Outlook Anywhere host name, the port and the Run button.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub host: AttrValue,
    pub port: AttrValue,
    /// Shown under the field with id `error-host`.
    pub host_error: Option<String>,
    /// Shown under the field with id `error-port`.
    pub port_error: Option<String>,
    /// Every field passes the shared input rules.
    pub valid: bool,
    pub running: bool,
    pub on_host: Callback<String>,
    pub on_port: Callback<String>,
    pub on_run: Callback<()>,
}

fn value_of(event: InputEvent) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

#[function_component(DiagnoseForm)]
pub fn diagnose_form(props: &Props) -> Html {
    let onsubmit = {
        let on_run = props.on_run.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            on_run.emit(());
        })
    };
    let on_host = props.on_host.clone();
    let on_port = props.on_port.clone();
    let described = |field: &str, error: &Option<String>| match error {
        Some(_) => format!("{field}-help error-{field}"),
        None => format!("{field}-help"),
    };
    let invalid = |error: &Option<String>| if error.is_some() { "true" } else { "false" };

    html! {
        <form class="diagnose" {onsubmit} novalidate=true>
            <div class="field">
                <label for="host">{ "Outlook Anywhere host name" }</label>
                <input id="host" name="host" type="text" value={props.host.clone()}
                    placeholder="mail.contoso.com" inputmode="url" autocomplete="off"
                    autocapitalize="none" spellcheck="false"
                    aria-invalid={invalid(&props.host_error)}
                    aria-describedby={described("host", &props.host_error)}
                    oninput={move |e| on_host.emit(value_of(e))} />
                <p id="host-help" class="help">
                    { "The external host name of Outlook Anywhere, as in " }
                    <code>{ "Get-OutlookAnywhere | fl ExternalHostname" }</code>
                    { " and in the migration endpoint's RPC proxy server. A pasted address such as https://mail.contoso.com/owa is fine." }
                </p>
                if let Some(message) = &props.host_error {
                    <p id="error-host" class="error" role="alert">{ message }</p>
                }
            </div>
            <div class="field port">
                <label for="port">{ "Port" }</label>
                <input id="port" name="port" type="text" value={props.port.clone()}
                    placeholder="443" inputmode="numeric" autocomplete="off" size="6"
                    aria-invalid={invalid(&props.port_error)}
                    aria-describedby={described("port", &props.port_error)}
                    oninput={move |e| on_port.emit(value_of(e))} />
                <p id="port-help" class="help">
                    { "Optional: empty means 443, the port Exchange Online uses. Another port only to test inside your network." }
                </p>
                if let Some(message) = &props.port_error {
                    <p id="error-port" class="error" role="alert">{ message }</p>
                }
            </div>
            <button id="run" type="submit" disabled={!props.valid || props.running}>
                { if props.running { "Running…" } else { "Run" } }
            </button>
        </form>
    }
}
