#!/usr/bin/env bash
# Builds (release) and runs the server on the embedded default: a SQLite file under data/.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_wasm_opt
ensure_model
log "building (release)"
cargo leptos build --release
log "serving on http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (Ctrl-C stops)"
exec ./target/release/memory-passport serve "$@"
