// Starts the migcheck page: loads the wasm next to this file and runs it (a file, not an inline
// script, so the relay's Content-Security-Policy can forbid inline script).
import init from "/migcheck_frontend.js";

init({ module_or_path: "/migcheck_frontend_bg.wasm" }).catch((error) => {
  const loading = document.getElementById("loading");
  if (loading) loading.textContent = `The page could not start in this browser: ${error}`;
  throw error;
});
