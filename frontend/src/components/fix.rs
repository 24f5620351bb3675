//! A fix (the PowerShell line to run or the change to make) in a code block with a Copy button: a
//! finding's, and a difference's between the inside and the outside view.

use yew::prelude::*;

use super::class_list;
use super::finding::{Copied, copy_on_click};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub fix: AttrValue,
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

#[function_component(Fix)]
pub fn fix(props: &Props) -> Html {
    let copied = use_state(|| Copied::Not);
    let onclick = {
        let fix = props.fix.to_string();
        copy_on_click(&copied, move || fix.clone())
    };
    let (word, state) = copied.says("Copy");
    html! {
        <div class="fix">
            <pre><code>{ fix_lines(&props.fix) }</code></pre>
            <button type="button" class={class_list(&[Some("copy copy-fix"), (*copied == Copied::Yes).then_some("copied")])}
                data-copied={state} {onclick} aria-live="polite">{ word }</button>
        </div>
    }
}
