//! The root component: owns the state, starts runs, and lays the page out.

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::components::{CheckTree, DiagnoseForm, FieldErrors, FindingList, Footer, Progress, VerdictBanner};
use crate::state::{Action, State};

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);

    {
        let dispatcher = state.dispatcher();
        use_effect_with((), move |()| {
            spawn_local(async move {
                if let Some(info) = api::info().await {
                    dispatcher.dispatch(Action::Info(info));
                }
            });
        });
    }

    let on_change = {
        let dispatcher = state.dispatcher();
        Callback::from(move |action: Action| dispatcher.dispatch(action))
    };
    let on_run = {
        let state = state.clone();
        Callback::from(move |()| {
            if state.running {
                return;
            }
            let Ok(request) = state.request() else { return };
            let run = state.run + 1;
            let dispatcher = state.dispatcher();
            dispatcher.dispatch(Action::Start { run });
            spawn_local(async move {
                let events = dispatcher.clone();
                api::diagnose(&request, move |event| events.dispatch(Action::Event { run, event })).await;
                dispatcher.dispatch(Action::Ended { run });
            });
        })
    };

    let errors = FieldErrors {
        host: state.field_error("host"),
        port: state.field_error("port"),
        email: state.field_error("email"),
        rpc_proxy: state.field_error("rpc_proxy"),
        exchange_server: state.field_error("exchange_server"),
        remote_server: state.field_error("remote_server"),
        user: state.field_error("user"),
        password: state.field_error("password"),
        target_mailbox: state.field_error("target_mailbox"),
    };
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
                <DiagnoseForm
                    mode={state.mode}
                    host={state.host.clone()}
                    port={state.port.clone()}
                    email={state.email.clone()}
                    rpc_proxy={state.rpc_proxy.clone()}
                    exchange_server={state.exchange_server.clone()}
                    auth={state.auth}
                    remote_server={state.remote_server.clone()}
                    user={state.user.clone()}
                    target_mailbox={state.target_mailbox.clone()}
                    allow_redirect={state.allow_redirect}
                    {errors}
                    valid={state.request().is_ok()}
                    running={state.running}
                    {on_change}
                    {on_run}
                />
                if state.running || !state.tree.is_empty() {
                    <Progress {finished} {started} running={state.running} />
                }
                if let Some(report) = report.clone() {
                    <VerdictBanner verdict={report.verdict} headline={report.headline.clone()} elapsed_ms={report.elapsed_ms} />
                    <FindingList {report} />
                }
                if !state.tree.is_empty() {
                    <CheckTree nodes={state.tree.clone()} />
                }
            </main>
            <Footer info={state.info.clone()} />
        </>
    }
}
