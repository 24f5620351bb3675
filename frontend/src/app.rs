//! The root component: owns the state, starts runs, and lays the page out.

use yew::prelude::*;

use crate::api;
use crate::components::{AccessToken, Commands, Demos, Footer, ReportView, Wizard};
use crate::state::State;

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);

    {
        let dispatcher = state.dispatcher();
        use_effect_with((), move |()| {
            api::load_info(dispatcher, Default::default(), false);
        });
    }

    let (finished, started) = state.progress();
    let report = state.report.clone();
    html! {
        <>
            <header>
                <h1>{ "migcheck" }</h1>
                <p class="purpose">
                    { "Finds out why a migration to Exchange Online says " }
                    <q>{ "Unable to connect to the server" }</q>
                    { " (Microsoft KB 2389390), and what to change on the Exchange side." }
                </p>
            </header>
            <main>
                if let Some(message) = state.general_error() {
                    <p id="error" class="error banner" role="alert">{ message }</p>
                }
                <AccessToken state={state.clone()} />
                <Demos state={state.clone()} />
                <Wizard state={state.clone()} />
                <ReportView tree={state.tree.clone()} {report} running={state.running} {finished} {started} />
                <Commands state={state.clone()} />
            </main>
            <Footer info={state.info.clone()} />
        </>
    }
}
