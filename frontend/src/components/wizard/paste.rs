//! Step 1's fourth choice: an error message the user already has, read in this browser against the
//! catalogue the relay serves (fetched when the box opens). The text itself never leaves the page: it is
//! read from the text box when Explain is pressed, not kept in the state, not sent, not stored.

use std::rc::Rc;

use migcheck_shared::Password;
use migcheck_shared::kb::explain::{Catalogue, Explanation, explain, lines_label};
use web_sys::HtmlTextAreaElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::state::{Action, State};

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The relay's access token, for the catalogue's GET.
    pub token: Password,
    pub dispatch: UseReducerDispatcher<State>,
}

/// What Explain gave: the explanation, or why the text could not be read.
type Answer = Rc<Result<Explanation, String>>;

#[function_component(PasteBox)]
pub fn paste_box(props: &Props) -> Html {
    let catalogue = use_state(|| None::<Result<Rc<Catalogue>, String>>);
    let answer = use_state(|| None::<Answer>);
    let text = use_node_ref();
    {
        let catalogue = catalogue.clone();
        let token = props.token.clone();
        use_effect_with((), move |()| {
            spawn_local(async move { catalogue.set(Some(api::catalogue(&token).await.map(Rc::new))) });
        });
    }
    let ready = match &*catalogue {
        Some(Ok(c)) => Some(c.clone()),
        _ => None,
    };
    let on_explain = {
        let (answer, text, ready) = (answer.clone(), text.clone(), ready.clone());
        Callback::from(move |_: MouseEvent| {
            if let (Some(c), Some(area)) = (&ready, text.cast::<HtmlTextAreaElement>()) {
                answer.set(Some(Rc::new(explain(c, &area.value()).map_err(|e| e.to_string()))));
            }
        })
    };
    html! {
        <div id="paste" class="paste">
            <label for="paste-text">{ "The error message, as it is: the wizard's, Test-MigrationServerAvailability's, a move report, a Hybrid Configuration wizard log" }</label>
            <p id="paste-note" class="hint">
                { "Read in this browser only: the text is never sent to the relay and never stored. A line that looks like it holds a password is left unread." }
            </p>
            <textarea id="paste-text" ref={text} rows="8" spellcheck="false" aria-describedby="paste-note" />
            <button id="explain" type="button" onclick={on_explain} disabled={ready.is_none()}>{ "Explain" }</button>
            if let Some(Err(message)) = &*catalogue {
                <p id="paste-error" class="error" role="alert">{ message }</p>
            }
            if let (Some(c), Some(a)) = (ready, (*answer).clone()) {
                { answered(&c, &a, &props.dispatch) }
            }
        </div>
    }
}

fn answered(
    catalogue: &Catalogue,
    answer: &Result<Explanation, String>,
    dispatch: &UseReducerDispatcher<State>,
) -> Html {
    let e = match answer {
        Ok(e) => e,
        Err(message) => return html! { <p id="paste-error" class="error" role="alert">{ message }</p> },
    };
    let check_now = e.suggested.clone().map(|request| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(Action::Prefill(request.clone())))
    });
    html! {
        <section id="explained" aria-live="polite">
            if let Some(warning) = e.password_warning() {
                <p id="paste-password" class="notice" role="alert">{ warning }</p>
            }
            <h3 id="paste-headline">{ e.headline(catalogue) }</h3>
            <ol class="explained">
                { for e.matches.iter().filter_map(|m| {
                    let entry = catalogue.entry(&m.id)?;
                    let more = m.count - m.spans.len();
                    Some(html! {
                        <li class="explained-entry" data-entry={entry.id.clone()}>
                            <p class="cause"><strong>{ &entry.title }</strong>{ format!(" ({})", entry.cause.label()) }</p>
                            <ul class="matched">
                                { for m.spans.iter().map(|s| html! {
                                    <li>{ format!("{}: ", lines_label(s)) }<code>{ &s.excerpt }</code></li>
                                }) }
                                if more > 0 { <li>{ format!("and {more} more places") }</li> }
                            </ul>
                            <p>{ &entry.explanation }</p>
                            <div class="fix"><pre>{ &entry.fix }</pre></div>
                            <p>{ format!("Check next: {}", entry.next_checks) }</p>
                            <p class="source">{ "Source: " }<a href={entry.source.clone()} rel="noreferrer">{ &entry.source }</a></p>
                        </li>
                    })
                }) }
            </ol>
            if !e.nearest.is_empty() {
                <p id="paste-nearest">{ "Nearest known messages: " }{ e.nearest.iter().filter_map(|id| catalogue.entry(id)).map(|n| n.title.as_str()).collect::<Vec<_>>().join("; ") }</p>
            }
            <ul id="paste-names">{ for e.extracted.described().into_iter().map(|line| html! { <li>{ line }</li> }) }</ul>
            if let Some(onclick) = check_now {
                <button id="check-now" type="button" {onclick}>{ "Check it now" }</button>
            } else if let Some(reason) = e.no_check_reason() {
                <p id="no-check">{ reason }</p>
            }
        </section>
    }
}
