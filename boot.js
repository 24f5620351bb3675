// Starts the migcheck page: loads the wasm next to this file and runs it (a file, not an inline
// script, so the relay's Content-Security-Policy can forbid inline script). cargo xtask dist replaces both
// names with the files' content-hashed names; index.html preloads both.
import init from "/migcheck_frontend.js";

init({ module_or_path: "/migcheck_frontend_bg.wasm" }).catch((error) => {
  const loading = document.getElementById("loading");
  if (loading) loading.textContent = `The page could not start in this browser: ${error}`;
  throw error;
});
