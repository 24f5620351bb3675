//! One finding: the KB cause, what is wrong, which checks show it, and the fix with a Copy button.

use migcheck_shared::Finding;
use wasm_bindgen::{JsCast, JsValue};
use yew::platform::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub finding: Finding,
    /// The evidence: (check id, check title) for each of `finding.check_ids`.
    pub checks: Vec<(String, String)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Copied {
    Not,
    Yes,
    Failed,
}

/// Puts `text` on the clipboard; `false` where the browser has no clipboard API (plain http) or refuses.
async fn copy(text: String) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let navigator = window.navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard")).ok();
    let Some(clipboard) = clipboard.and_then(|c| c.dyn_into::<web_sys::Clipboard>().ok()) else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text))
        .await
        .is_ok()
}

/// The fix, line by line: PowerShell `#` comments are set apart from the commands. The text (and what
/// Copy puts on the clipboard) stays exactly the fix.
fn fix_lines(fix: &str) -> Html {
    html! {
        { for fix.split_inclusive('\n').map(|line| if line.trim_start().starts_with('#') {
            html! { <span class="comment">{ line }</span> }
        } else {
            html! { { line } }
        }) }
    }
}

#[function_component(FindingItem)]
pub fn finding_item(props: &Props) -> Html {
    let copied = use_state(|| Copied::Not);
    let finding = &props.finding;
    let cause = serde_json::to_value(finding.cause)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let onclick = {
        let copied = copied.clone();
        let fix = finding.fix.clone();
        Callback::from(move |_: MouseEvent| {
            let copied = copied.clone();
            let fix = fix.clone();
            spawn_local(async move {
                copied.set(if copy(fix).await { Copied::Yes } else { Copied::Failed });
            });
        })
    };
    let button = match *copied {
        Copied::Not => "Copy",
        Copied::Yes => "Copied",
        Copied::Failed => "Select and copy by hand",
    };
    html! {
        <li class={classes!("finding", finding.severity.label())} data-cause={cause}>
            <p class="cause">
                <span class={classes!("badge", finding.severity.label())}>{ finding.severity.label() }</span>
                <strong>{ finding.cause.label() }</strong>
                if let Some(step) = finding.kb_step {
                    <span class="kb">{ format!("KB step {step}") }</span>
                }
            </p>
            <p class="summary">{ &finding.summary }</p>
            if !props.checks.is_empty() {
                <p class="seen">
                    { "Seen in: " }
                    { for props.checks.iter().enumerate().map(|(i, (id, title))| html! {
                        <>
                            if i > 0 { { ", " } }
                            <a href={format!("#check-{id}")}>{ title }</a>
                        </>
                    }) }
                </p>
            }
            if !finding.fix.is_empty() {
                <div class="fix">
                    <pre><code>{ fix_lines(&finding.fix) }</code></pre>
                    <button type="button" class="copy" {onclick} aria-live="polite">{ button }</button>
                </div>
            }
        </li>
    }
}
