//! The catalogue of known messages, built into the binary from `shared/catalogue/errors.toml` (the one
//! file reviewed like code) and parsed once: the CLI's `explain` reads it, the API serves it as JSON to
//! the page (`GET /api/v1/catalogue`).

use std::sync::LazyLock;

use migcheck_shared::kb::explain::Catalogue;

const TOML: &str = include_str!("../../../shared/catalogue/errors.toml");

static PARSED: LazyLock<Result<Catalogue, String>> = LazyLock::new(|| {
    let catalogue: Catalogue =
        toml::from_str(TOML).map_err(|e| format!("the built-in catalogue does not parse: {e}"))?;
    match catalogue.problems().as_slice() {
        [] => Ok(catalogue),
        problems => Err(format!("the built-in catalogue is not sound: {}", problems.join("; "))),
    }
});

static JSON: LazyLock<Result<String, String>> = LazyLock::new(|| {
    let catalogue = catalogue()?;
    serde_json::to_string(catalogue).map_err(|e| format!("the built-in catalogue cannot be written as JSON: {e}"))
});

/// The catalogue (an error only if the file in the repository is broken, which the tests catch).
pub fn catalogue() -> Result<&'static Catalogue, String> {
    PARSED.as_ref().map_err(Clone::clone)
}

/// The catalogue as the API serves it.
pub fn catalogue_json() -> Result<&'static str, String> {
    JSON.as_deref().map_err(Clone::clone)
}

#[cfg(test)]
mod tests;
