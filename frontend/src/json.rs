//! Reading JSON on the page. In the browser the text goes through the browser's own `JSON.parse`, then
//! serde-wasm-bindgen: the page carries no JSON reader of its own, which made it 9.6 KB (brotli) smaller
//! than with serde_json's reader (monomorphised for every type it reads). The page still writes JSON
//! with serde_json. Natively (the unit tests) serde_json reads it: the same serde derives decide what is
//! accepted either way, and the browser tests read every event through the browser's path.

use serde::de::DeserializeOwned;

/// `text` read as a `T`; the error says why not (serde's words, or "not JSON").
#[cfg(target_arch = "wasm32")]
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    // Not JSON.parse's own message: reading it from the SyntaxError costs the page 700 bytes (brotli).
    let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_string())?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

/// `text` read as a `T` (natively: the unit tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}
