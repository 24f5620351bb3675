//! The few browser calls the report needs: the clipboard, a file download and printing.

use wasm_bindgen::{JsCast, JsValue};

/// Puts `text` on the clipboard; `false` where the browser has no clipboard API (plain http on a name
/// other than localhost) or refuses.
pub async fn copy_text(text: String) -> bool {
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

/// Offers `text` as a file named `name` (a Blob behind an object URL and an `<a download>` clicked).
pub fn download(name: &str, mime: &str, text: &str) -> bool {
    let saved = (|| -> Result<(), JsValue> {
        let window = web_sys::window().ok_or(JsValue::NULL)?;
        let document = window.document().ok_or(JsValue::NULL)?;
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        let link: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
        link.set_href(&url);
        link.set_download(name);
        link.set_hidden(true);
        let body = document.body().ok_or(JsValue::NULL)?;
        body.append_child(&link)?;
        link.click();
        link.remove();
        // The download has its own copy once started; the URL is let go a moment later.
        yew::platform::spawn_local(async move {
            yew::platform::time::sleep(std::time::Duration::from_secs(10)).await;
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        Ok(())
    })();
    saved.is_ok()
}

/// Opens every `<details>` (the printout shows all the evidence) and opens the print dialog.
pub fn print() {
    let Some(window) = web_sys::window() else { return };
    if let Some(document) = window.document()
        && let Ok(all) = document.query_selector_all("#report details")
    {
        for i in 0..all.length() {
            if let Some(details) = all.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                let _ = details.set_attribute("open", "");
            }
        }
    }
    let _ = window.print();
}
