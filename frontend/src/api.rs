//! The only module that talks HTTP. Everything it hands back is a shared type: a refused request, a
//! broken stream or a line that does not parse becomes an [`Event::Error`], so the page never sees
//! anything but [`Event`]s and [`RelayInfo`], and a message when the relay is busy or out of reach.

// The error side of these results is an `Event` (or a `Stop` holding one) by design: made at most once
// per run.
#![allow(clippy::result_large_err)]

use gloo_net::http::{Request, RequestBuilder, Response};
use js_sys::Uint8Array;
use migcheck_shared::kb::explain::Catalogue;
use migcheck_shared::{CATALOGUE_PATH, DIAGNOSE_PATH, DiagnoseRequest, Event, INFO_PATH, Password, RelayInfo};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader, ReadableStreamReadResult};

use crate::flat_json::Members;
use crate::json::from_json;
use crate::state::Compare;

/// Stops a running diagnosis: aborts its fetch, so the relay sees the stream closed and stops its probes.
#[derive(Clone)]
pub struct Abort(AbortController);

impl Abort {
    pub fn new() -> Option<Self> {
        AbortController::new().ok().map(Abort)
    }

    pub fn abort(&self) {
        self.0.abort();
    }
}

/// The query of a diagnosis: with `compare`, the relay also asks the relay it compares with for the view
/// from the internet (issue 23), and sends it the password only with `send_password`. Two flags and
/// nothing typed: the password and the names stay in the body.
pub fn diagnose_query(compare: Option<Compare>) -> &'static [(&'static str, &'static str)] {
    match compare {
        None => &[],
        Some(Compare { send_password: false }) => &[("compare", "outside")],
        Some(Compare { send_password: true }) => &[("compare", "outside"), ("send_password", "true")],
    }
}

/// Runs one diagnosis and calls `emit` with each event as it arrives. Ends after a `done` or an
/// `error`; a stream cut before either yields an error too. `token`: the relay's access token, if any;
/// `compare`: the view from outside asked for beside it ([`diagnose_query`]).
/// `Err`: the relay is busy or cannot be reached, said next to the Run button.
pub async fn diagnose(
    request: &DiagnoseRequest,
    compare: Option<Compare>,
    token: &Password,
    abort: Option<&Abort>,
    emit: impl Fn(Event),
) -> Result<(), String> {
    let finished = std::cell::Cell::new(false);
    let forward = |event: Event| {
        finished.set(finished.get() || matches!(event, Event::Done { .. } | Event::Error { .. }));
        emit(event);
    };
    match stream(request, compare, token, abort, &forward).await {
        Err(Stop::Run(message)) => return Err(message),
        Err(Stop::Said(event)) => forward(*event),
        Ok(()) if !finished.get() => forward(error(
            "The relay ended the answer before the diagnosis finished. Try again.",
        )),
        Ok(()) => {}
    }
    Ok(())
}

/// Why a stream stopped before its end.
enum Stop {
    /// Said where its field places it (or at the top): the relay's refusal, a broken stream. Boxed: an
    /// event (with its report) is far larger than a message.
    Said(Box<Event>),
    /// Said next to the Run button: the relay busy, or out of reach.
    Run(String),
}

impl From<Event> for Stop {
    fn from(event: Event) -> Self {
        Stop::Said(Box::new(event))
    }
}

/// What the relay says about itself.
pub enum InfoAnswer {
    Info(RelayInfo),
    /// The relay has an access token and `token` is not it (or empty).
    NeedsToken,
    /// No answer to be had (the footer then stays quiet).
    Unavailable,
}

pub async fn info(token: &Password) -> InfoAnswer {
    let Ok(response) = bearer(Request::get(INFO_PATH), token).send().await else {
        return InfoAnswer::Unavailable;
    };
    match response.status() {
        401 => InfoAnswer::NeedsToken,
        200 => match response.text().await.map(|t| from_json(&t)) {
            Ok(Ok(info)) => InfoAnswer::Info(info),
            _ => InfoAnswer::Unavailable,
        },
        _ => InfoAnswer::Unavailable,
    }
}

/// The catalogue of known error messages, fetched when the paste box opens (data, not code: one wasm
/// module cannot load more code later). Only this GET goes to the relay; the pasted text never does.
pub async fn catalogue(token: &Password) -> Result<Catalogue, String> {
    const UNAVAILABLE: &str = "The list of known messages could not be loaded from the relay. Try again.";
    let response = bearer(Request::get(CATALOGUE_PATH), token)
        .send()
        .await
        .map_err(|_| UNAVAILABLE.to_string())?;
    if response.status() != 200 {
        return Err(UNAVAILABLE.into());
    }
    let text = response.text().await.map_err(|_| UNAVAILABLE.to_string())?;
    from_json(&text).map_err(|_| UNAVAILABLE.to_string())
}

/// Asks the relay about itself with `token` and tells the page what it learnt: the relay's info, or
/// that it wants its token (`refused`: the page offered one). Nothing when the relay cannot be reached.
pub fn load_info(dispatcher: yew::UseReducerDispatcher<crate::state::State>, token: Password, refused: bool) {
    yew::platform::spawn_local(async move {
        match info(&token).await {
            InfoAnswer::Info(info) => dispatcher.dispatch(crate::state::Action::Info(info)),
            InfoAnswer::NeedsToken => dispatcher.dispatch(crate::state::Action::NeedsToken { refused }),
            InfoAnswer::Unavailable => {}
        }
    });
}

/// Adds the access token, when there is one, as the relay expects it.
fn bearer(builder: RequestBuilder, token: &Password) -> RequestBuilder {
    if token.is_empty() {
        builder
    } else {
        builder.header("authorization", &format!("Bearer {}", token.expose().trim()))
    }
}

fn error(message: impl Into<String>) -> Event {
    Event::Error {
        message: message.into(),
        field: None,
    }
}

async fn stream(
    request: &DiagnoseRequest,
    compare: Option<Compare>,
    token: &Password,
    abort: Option<&Abort>,
    emit: &impl Fn(Event),
) -> Result<(), Stop> {
    // The body carries the password: wiped from wasm memory once handed to the browser. serde_json fails
    // only on a map key that is no string or a type's own error, and a request has neither: no `{e}` here,
    // whose serde_json `Display` brought its parser's messages and std's `io::ErrorKind` names into the page.
    let body =
        zeroize::Zeroizing::new(serde_json::to_string(request).map_err(|_| error("Could not build the request."))?);
    // Through the builder's query, which writes `?` only when there is one (a query in the path would
    // get a stray `&`).
    let response = bearer(
        Request::post(DIAGNOSE_PATH).query(diagnose_query(compare).iter().copied()),
        token,
    )
    .header("content-type", "application/json")
    .header("accept", "application/x-ndjson")
    .abort_signal(abort.map(|a| a.0.signal()).as_ref())
    .body(body.as_str())
    .map_err(|e| error(format!("Could not build the request: {}", refused(e))))?
    .send()
    .await
    .map_err(|_| {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        Stop::Run(format!(
            "Cannot reach the migcheck relay at {origin}: is migcheck still running?"
        ))
    })?;
    if !response.ok() {
        return Err(refusal(&response).await);
    }
    let raw = response
        .body()
        .ok_or_else(|| error("The relay sent an empty answer."))?;
    // Read with the browser's own reader: wasm-streams did the same, but its JS-facing classes (turning
    // Rust streams into JS ones, which the page never does) are wasm exports, kept however unused.
    let reader: ReadableStreamDefaultReader = raw.get_reader().unchecked_into();
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let read: ReadableStreamReadResult = JsFuture::from(reader.read())
            .await
            .map_err(|_| error("The connection to the relay broke during the diagnosis."))?
            .unchecked_into();
        if read.get_done().unwrap_or_default() {
            break;
        }
        let bytes = read
            .get_value()
            .dyn_into::<Uint8Array>()
            .map_err(|_| error("The relay's answer could not be read."))?
            .to_vec();
        pending.extend_from_slice(&bytes);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            emit_line(&line, emit)?;
        }
    }
    Ok(emit_line(&pending, emit)?)
}

/// What the browser said when it would not build the request (`body` returns no other error), as
/// gloo's `Display` says it, but without that `Display`'s serde_json arm (see `stream`).
fn refused(e: gloo_net::Error) -> String {
    match e {
        gloo_net::Error::JsError(e) => e.to_string(),
        gloo_net::Error::GlooError(message) => message,
        gloo_net::Error::SerdeError(_) => "not JSON".to_string(),
    }
}

fn emit_line(line: &[u8], emit: &impl Fn(Event)) -> Result<(), Event> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_string());
    let event = text.and_then(from_json::<Event>).map_err(|e| {
        error(format!(
            "The relay sent a line this page does not understand ({e}). Is the page older than the relay? Reload it."
        ))
    })?;
    emit(event);
    Ok(())
}

/// A non-2xx answer, in words: 400 names the field at fault, 429 says when to retry.
async fn refusal(response: &Response) -> Stop {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    // The relay's error body: `{"error": "...", "field": "..." or null}`.
    let parsed = Members::parse(&text);
    let said = |key: &str| parsed.as_ref().and_then(|m| m.str(key)).map(str::to_string);
    match status {
        429 => {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|s| s.trim().parse::<u32>().ok())
                .map_or_else(|| "a minute".to_string(), |s| format!("{s} s"));
            Stop::Run(format!(
                "The relay is busy (too many diagnoses from this address just now): try again in {wait}."
            ))
        }
        _ => Event::Error {
            message: said("error").unwrap_or_else(|| format!("The relay refused the request (HTTP {status}).")),
            field: said("field"),
        }
        .into(),
    }
}
