//! The only module that talks HTTP. Everything it hands back is a shared type: a transport failure, a
//! refused request or a line that does not parse becomes an [`Event::Error`], so the page never sees
//! anything but [`Event`]s and [`RelayInfo`].

// The error side of these results is an `Event` by design: made at most once per run.
#![allow(clippy::result_large_err)]

use gloo_net::http::{Request, Response};
use js_sys::Uint8Array;
use migcheck_shared::{DIAGNOSE_PATH, DiagnoseRequest, Event, INFO_PATH, RelayInfo};
use wasm_bindgen::JsCast;

/// Runs one diagnosis and calls `emit` with each event as it arrives. Ends after a `done` or an
/// `error`; a stream cut before either yields an error too.
pub async fn diagnose(request: &DiagnoseRequest, emit: impl Fn(Event)) {
    let finished = std::cell::Cell::new(false);
    let forward = |event: Event| {
        finished.set(finished.get() || matches!(event, Event::Done { .. } | Event::Error { .. }));
        emit(event);
    };
    match stream(request, &forward).await {
        Err(event) => forward(event),
        Ok(()) if !finished.get() => forward(error(
            "The relay ended the answer before the diagnosis finished. Try again.",
        )),
        Ok(()) => {}
    }
}

/// What the relay says about itself; `None` when it cannot be had (the footer then stays quiet).
pub async fn info() -> Option<RelayInfo> {
    let response = Request::get(INFO_PATH).send().await.ok()?;
    if !response.ok() {
        return None;
    }
    serde_json::from_str(&response.text().await.ok()?).ok()
}

fn error(message: impl Into<String>) -> Event {
    Event::Error {
        message: message.into(),
        field: None,
    }
}

async fn stream(request: &DiagnoseRequest, emit: &impl Fn(Event)) -> Result<(), Event> {
    // The body carries the password: wiped from wasm memory once handed to the browser.
    let body = zeroize::Zeroizing::new(
        serde_json::to_string(request).map_err(|e| error(format!("Could not build the request: {e}")))?,
    );
    let response = Request::post(DIAGNOSE_PATH)
        .header("content-type", "application/json")
        .header("accept", "application/x-ndjson")
        .body(body.as_str())
        .map_err(|e| error(format!("Could not build the request: {e}")))?
        .send()
        .await
        .map_err(|_| error("The relay could not be reached. Is migcheck still running?"))?;
    if !response.ok() {
        return Err(refusal(&response).await);
    }
    let raw = response
        .body()
        .ok_or_else(|| error("The relay sent an empty answer."))?;
    let mut body = wasm_streams::ReadableStream::from_raw(raw);
    let mut reader = body.get_reader();
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let chunk = reader
            .read()
            .await
            .map_err(|_| error("The connection to the relay broke during the diagnosis."))?;
        let Some(chunk) = chunk else { break };
        let bytes = chunk
            .dyn_into::<Uint8Array>()
            .map_err(|_| error("The relay's answer could not be read."))?
            .to_vec();
        pending.extend_from_slice(&bytes);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            emit_line(&line, emit)?;
        }
    }
    emit_line(&pending, emit)
}

fn emit_line(line: &[u8], emit: &impl Fn(Event)) -> Result<(), Event> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let event = serde_json::from_slice::<Event>(line).map_err(|e| {
        error(format!(
            "The relay sent a line this page does not understand ({e}). Is the page older than the relay? Reload it."
        ))
    })?;
    emit(event);
    Ok(())
}

/// A non-2xx answer, in words: 400 names the field at fault, 429 says when to retry.
async fn refusal(response: &Response) -> Event {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let parsed: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let said = |key: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match status {
        429 => {
            let wait = response
                .headers()
                .get("retry-after")
                .map(|s| format!(" Try again in {} seconds.", s.trim()))
                .unwrap_or_else(|| " Try again in a minute.".to_string());
            error(format!("Too many diagnoses from this address just now.{wait}"))
        }
        _ => Event::Error {
            message: said("error").unwrap_or_else(|| format!("The relay refused the request (HTTP {status}).")),
            field: said("field"),
        },
    }
}
