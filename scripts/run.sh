#!/usr/bin/env bash
# Builds (release) and runs the server on the embedded default: a SQLite file under data/.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_wasm_opt
ensure_model
# Hashed names let browsers keep the wasm, JS and CSS for a year (a new build has new names);
# precompressed .br and .gz beside them cost nothing to serve; the wasm is cut by route
# (src/app/mod.rs, lazy_pages), so /consent loads only its own part.
export LEPTOS_HASH_FILES=true
log "building (release)"
build_release_site
log "serving on http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (Ctrl-C stops)"
exec ./target/release/memory-passport serve "$@"
