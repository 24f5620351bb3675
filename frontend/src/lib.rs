//! The migcheck page: a yew app (compiled to wasm) that asks the relay for a diagnosis and shows the
//! live check tree, the verdict and the findings.
//!
//! Layout, after yew's `function_todomvc`: the whole page state is one [`state::State`] changed only
//! through [`state::Action`]s; it is made of slices (the form, the wizard's position, the run, the
//! relay) and each component, in its own file under `components/`, takes in its `Props` only the slices
//! it shows and the dispatcher; [`api`] is the only module that talks HTTP, and it hands the rest of the
//! page nothing but the shared types of `migcheck-shared`.

pub mod api;
pub mod app;
pub mod components;
pub mod flat_json;
pub mod json;
pub mod state;

/// Mounts the page on `<body>`; called by the wasm-bindgen start hook.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    if let Some(loading) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("loading"))
    {
        loading.remove();
    }
    yew::Renderer::<app::App>::new().render();
}
