//! The same check elsewhere: the `Test-MigrationServerAvailability` line to cross-check in Exchange Online
//! PowerShell, the `migcheck check` line for the binary inside the network, each with a copy button, and a
//! link that reopens the wizard with the same inputs. Never the password.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::state::Form;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub form: Form,
}

#[function_component(Commands)]
pub fn commands(props: &Props) -> Html {
    // Shown once the inputs (the password aside) are right.
    let Some(request) = props.form.draft() else {
        return html! {};
    };
    let href = web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!(
                "{}{}{}",
                l.origin().ok()?,
                l.pathname().ok()?,
                l.search().ok()?
            ))
        })
        .unwrap_or_default();
    let href = format!("{href}#{}", props.form.fragment());
    html! {
        <section id="commands" class="commands" aria-labelledby="commands-title">
            <h2 id="commands-title">{ "The same check elsewhere" }</h2>
            if let Some(line) = request.powershell_line() {
                <CommandLine id="ps-line" copy="copy-ps" {line}
                    label="In Exchange Online PowerShell (Connect-ExchangeOnline first); it asks for the password:" />
            }
            <CommandLine id="cli-line" copy="copy-cli" line={request.migcheck_line()}
                label="With the migcheck binary, from inside the network. The password comes from the environment: the line sets it for a Unix shell; in PowerShell run $env:MIGCHECK_PASSWORD = '...' first, then the line from migcheck on." />
            <p>
                <a id="reopen-link" {href}>{ "Link to this check" }</a>
                { ": reopens this page with the same inputs, without the password." }
            </p>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct LineProps {
    id: AttrValue,
    copy: AttrValue,
    label: AttrValue,
    line: AttrValue,
}

/// One command line with its copy button and what the copy did.
#[function_component(CommandLine)]
fn command_line(props: &LineProps) -> Html {
    let said = use_state(|| None::<&'static str>);
    let onclick = {
        let said = said.clone();
        let line = props.line.clone();
        Callback::from(move |_: MouseEvent| {
            let said = said.clone();
            match copy(&line) {
                Some(promise) => spawn_local(async move {
                    said.set(Some(match JsFuture::from(promise).await {
                        Ok(_) => "Copied.",
                        Err(_) => "Could not copy: select the line and copy it.",
                    }));
                }),
                None => said.set(Some(
                    "This browser does not let the page copy: select the line and copy it.",
                )),
            }
        })
    };
    let label = format!("{}-label", props.id);
    html! {
        <div class="command">
            <p id={label.clone()} class="help">{ &props.label }</p>
            <pre><code id={props.id.clone()} aria-labelledby={label}>{ &props.line }</code></pre>
            <button id={props.copy.clone()} type="button" class="secondary" {onclick}
                aria-describedby={format!("{}-said", props.copy)}>{ "Copy" }</button>
            <span id={format!("{}-said", props.copy)} class="help" role="status">{ said.unwrap_or_default() }</span>
        </div>
    }
}

/// `navigator.clipboard.writeText(text)`, or `None` where there is no clipboard (an insecure context).
fn copy(text: &str) -> Option<js_sys::Promise> {
    let navigator = web_sys::window()?.navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok()?;
    if clipboard.is_undefined() || clipboard.is_null() {
        return None;
    }
    Some(clipboard.unchecked_into::<web_sys::Clipboard>().write_text(text))
}
