//! The wizard that replaces the bare mode radio group: (1) what kind of migration, (2) for a cutover or
//! staged migration, how to find the server (Autodiscover, or the server names: the two parameter sets of
//! Test-MigrationServerAvailability), (3) the server of a remote move or a certificate check, the
//! credentials, then Run (and Cancel while it runs).
//!
//! Every step is in the page at once, the others hidden, so the password input (left uncontrolled: its
//! value is never put into the virtual DOM) keeps what was typed when going Back and Next.

mod compare;
mod details;
pub(crate) mod field;
mod find;
mod kind;
mod paste;

use migcheck_shared::{Field, Password};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{HtmlElement, HtmlInputElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::state::{Action, Form, Mode, Place, ShownError, State, Step};

use details::Details;
use find::Find;
use kind::KindStep;

/// What the steps with fields get: the form, and what the relay said about a field of it.
#[derive(Properties, PartialEq)]
pub struct StepProps {
    pub form: Form,
    /// The error the last run ended on: shown under the field it names.
    pub said: Option<ShownError>,
    /// Another step is the wizard's current one.
    pub hidden: bool,
    pub dispatch: UseReducerDispatcher<State>,
    /// The password input (the details step), filled from a demo and emptied when the page is left.
    #[prop_or_default]
    pub password: NodeRef,
}

impl StepProps {
    /// The message under `field`, if any.
    pub fn error(&self, field: Field) -> Option<String> {
        self.form.field_error(field, self.said.as_ref())
    }

    /// A callback that sends what is typed as the action `make` builds.
    pub fn send(&self, make: fn(String) -> Action) -> Callback<InputEvent> {
        let dispatch = self.dispatch.clone();
        Callback::from(move |e: InputEvent| dispatch.dispatch(make(field::value_of(&e))))
    }
}

/// The legend of `step` in `mode`: "Step 2 of 3: ...".
pub fn legend(mode: Mode, step: Step, title: &str) -> Html {
    let (at, of) = mode.step_number(step);
    html! { <legend>{ format!("Step {at} of {of}: {title}") }</legend> }
}

/// The wizard's slices of the page: the form, where it is, the last run's state and the relay's token.
#[derive(Properties, PartialEq)]
pub struct Props {
    pub form: Form,
    pub step: Step,
    /// Step 1 is answered with a pasted error message: no Next.
    pub pasting: bool,
    /// The number of the last run (the next one is one more).
    pub run: u64,
    pub running: bool,
    pub cancelled: bool,
    /// The last run has its report (the verdict takes the focus).
    pub reported: bool,
    /// The error the last run ended on: under its field, or next to Run.
    pub error: Option<ShownError>,
    /// The relay's access token, sent with the request.
    pub token: Password,
    pub dispatch: UseReducerDispatcher<State>,
}

#[function_component(Wizard)]
pub fn wizard(props: &Props) -> Html {
    let Props {
        form: inputs,
        step,
        pasting,
        run,
        running,
        cancelled,
        reported,
        error,
        token,
        dispatch,
    } = props;
    let (step, running) = (*step, *running);
    let password = use_node_ref();
    let form = use_node_ref();
    let abort = use_mut_ref(|| None::<api::Abort>);
    use_forget_password_on_pagehide(dispatch, &password);

    // The reopen link: the inputs in the fragment (never a password) fill the wizard.
    {
        let dispatcher = dispatch.clone();
        use_effect_with((), move |()| {
            let hash = web_sys::window().and_then(|w| w.location().hash().ok());
            if let Some(hash) = hash.filter(|h| h.len() > 1) {
                dispatcher.dispatch(Action::Reopen(hash));
            }
        });
    }
    // A demo sets the password: the input shows it (as a property, never an attribute).
    {
        let input = password.clone();
        let filled_with = inputs.password.clone();
        use_effect_with(inputs.password_filled, move |filled| {
            if *filled > 0
                && let Some(input) = input.cast::<HtmlInputElement>()
            {
                input.set_value(filled_with.expose());
            }
        });
    }
    // A new step takes the focus to its first choice or the first field to fill in; a demo's fill gives
    // it to Run (all is filled in); the end of a run to the verdict (Run was disabled, Cancel is gone).
    // One effect for all three: each hook adds to the wasm.
    {
        let form = form.clone();
        let last = use_mut_ref(|| None);
        use_effect_with((step, *reported, inputs.password_filled), move |now| {
            let before = last.borrow_mut().replace(*now);
            match (before, *now) {
                (None, _) => {}
                (Some((_, _, filled)), (_, _, now_filled)) if filled != now_filled => focus_by_id("run"),
                (Some((step, ..)), (new_step, ..)) if step != new_step => focus_step(&form, new_step),
                (Some((_, false, _)), (_, true, _)) => focus_by_id("verdict"),
                _ => {}
            }
        });
    }

    let request = inputs.request();
    let compare = inputs.compare();
    let on_run = {
        let request = request.clone();
        let dispatcher = dispatch.clone();
        let abort = abort.clone();
        let token = token.clone();
        let run = *run + 1;
        Callback::from(move |()| {
            if running {
                return;
            }
            let Ok(request) = request.clone() else { return };
            let dispatcher = dispatcher.clone();
            let stop = api::Abort::new();
            abort.borrow_mut().clone_from(&stop);
            let token = token.clone();
            dispatcher.dispatch(Action::Start { run });
            spawn_local(async move {
                let events = dispatcher.clone();
                let sent = api::diagnose(&request, compare, &token, stop.as_ref(), move |event| {
                    events.dispatch(Action::Event { run, event });
                })
                .await;
                if let Err(message) = sent {
                    dispatcher.dispatch(Action::RunFailed { run, message });
                }
                dispatcher.dispatch(Action::Ended { run });
            });
        })
    };
    let on_cancel = {
        let dispatcher = dispatch.clone();
        let run = *run;
        Callback::from(move |_: MouseEvent| {
            if let Some(stop) = abort.borrow_mut().take() {
                stop.abort();
            }
            dispatcher.dispatch(Action::Cancel { run });
        })
    };
    let last = inputs.mode.steps().last() == Some(&step);
    let onsubmit = {
        let dispatcher = dispatch.clone();
        let wrong = inputs.first_wrong_field(step, error.as_ref());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            match wrong {
                // Next, Run or Enter in a field: every message of the step shows and the first wrong
                // field takes the focus.
                Some(field) => {
                    dispatcher.dispatch(Action::Next);
                    focus_by_id(field::input_id(field));
                }
                None if last => on_run.emit(()),
                None => dispatcher.dispatch(Action::Next),
            }
        })
    };
    let on_back = {
        let dispatcher = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(Action::Back))
    };
    let run_error = error.as_ref().and_then(|e| e.at(Place::Run));
    let valid = request.is_ok();
    let said = error.clone();

    html! {
        <form id="wizard" class="diagnose wizard" ref={form} {onsubmit} novalidate=true>
            <KindStep mode={inputs.mode} hidden={step != Step::Kind} pasting={*pasting} token={token.clone()} dispatch={dispatch.clone()} />
            <Find form={inputs.clone()} said={said.clone()} hidden={step != Step::Find} dispatch={dispatch.clone()} />
            <Details form={inputs.clone()} {said} hidden={step != Step::Details} dispatch={dispatch.clone()} {password} />
            <div class="nav">
                if step != Step::Kind {
                    <button id="back" type="button" class="secondary" onclick={on_back}>{ "Back" }</button>
                }
                if last {
                    // Not `disabled` for a wrong field: a disabled default button makes Enter do nothing,
                    // and it cannot take the focus. Pressed, it says what is wrong (see onsubmit).
                    <button id="run" type="submit" disabled={running}
                        aria-disabled={(!valid).then_some("true")}
                        aria-describedby={run_error.as_ref().map(|_| "error-run")}>
                        { if running { "Running…" } else { "Run" } }
                    </button>
                } else if !(*pasting && step == Step::Kind) {
                    <button id="next" type="submit">{ "Next" }</button>
                }
                if running {
                    <button id="cancel" type="button" class="secondary" onclick={on_cancel}>{ "Cancel" }</button>
                }
                if let Some(message) = run_error {
                    <p id="error-run" class="error" role="alert">{ message }</p>
                }
                if *cancelled {
                    <p id="cancelled" class="notice" role="status">
                        { "Cancelled: the relay stopped its checks. Those that finished are shown below; run again for a verdict." }
                    </p>
                }
            </div>
        </form>
    }
}

/// Leaving the page (or going into the back-forward cache) forgets the password.
#[hook]
fn use_forget_password_on_pagehide(dispatch: &UseReducerDispatcher<State>, password: &NodeRef) {
    let password = password.clone();
    let dispatcher = dispatch.clone();
    use_effect_with((), move |()| {
        let forget = Closure::<dyn Fn()>::new(move || {
            if let Some(input) = password.cast::<HtmlInputElement>() {
                input.set_value("");
            }
            dispatcher.dispatch(Action::ForgetPassword);
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

fn focus_by_id(id: &str) {
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// Focuses the chosen radio button of `step`, else its first empty field, else its first field.
fn focus_step(form: &NodeRef, step: Step) {
    let id = match step {
        Step::Kind => "step-kind",
        Step::Find => "step-find",
        Step::Details => "step-details",
    };
    let Some(fieldset) = form
        .cast::<web_sys::Element>()
        .and_then(|f| f.query_selector(&format!("#{id}")).ok().flatten())
    else {
        return;
    };
    let Ok(inputs) = fieldset.query_selector_all("input, select") else {
        return;
    };
    let shown: Vec<HtmlElement> = (0..inputs.length())
        .filter_map(|i| inputs.get(i)?.dyn_into::<HtmlElement>().ok())
        .filter(|e| e.offset_parent().is_some())
        .collect();
    let wanted = |e: &&HtmlElement| match e.dyn_ref::<HtmlInputElement>() {
        Some(input) if input.type_() == "radio" => input.checked(),
        Some(input) if input.type_() == "checkbox" => false,
        Some(input) => input.value().is_empty(),
        None => false,
    };
    if let Some(target) = shown.iter().find(wanted).or(shown.first()) {
        let _ = target.focus();
    }
}

/// The password typed, as the state keeps it.
pub fn password_action(event: &InputEvent) -> Action {
    Action::SetPassword(Password::new(field::value_of(event)))
}
