//! The root component: owns the state, starts runs, and lays the page out.

use migcheck_shared::Field;
use yew::prelude::*;

use crate::api;
use crate::components::{AccessToken, Commands, Demos, Footer, ReportView, Wizard};
use crate::state::State;

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);
    let dispatch = state.dispatcher();

    {
        let dispatcher = dispatch.clone();
        use_effect_with((), move |()| {
            api::load_info(dispatcher, Default::default(), false);
        });
    }

    let State {
        form,
        position,
        run,
        relay,
    } = &*state;
    let (finished, started) = run.progress();
    let demos = relay.info.as_ref().map(|i| i.demos.clone()).unwrap_or_default();
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
                <AccessToken relay={relay.clone()} error={state.field_error(Field::Token)} dispatch={dispatch.clone()} />
                <Demos {demos} dispatch={dispatch.clone()} />
                <Wizard form={form.clone()} step={position.step} pasting={position.pasting} run={run.number} running={run.running}
                    cancelled={run.cancelled} reported={run.report.is_some()} error={run.error.clone()}
                    token={relay.token.clone()} {dispatch} />
                <ReportView tree={run.tree.clone()} report={run.report.clone()} running={run.running} {finished} {started} />
                <Commands form={form.clone()} />
            </main>
            <Footer info={relay.info.clone()} />
        </>
    }
}
