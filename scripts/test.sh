#!/usr/bin/env bash
# Runs every test: unit and HTTP integration tests on SQLite and PostgreSQL, the guide's curl
# against the real binary, and the end-to-end tests in headless Chromium.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$(date +%s)

ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_chromium
ensure_node_modules
ensure_python_venv
ensure_sdk_venv
ensure_mcp_venv
ensure_fuzz_venv
ensure_example_node_modules
ensure_postgres
export MP_REQUIRE_POSTGRES=1
ensure_model
export MP_REQUIRE_MODEL=1
# The same flag cargo-leptos uses for debug builds, so tests reuse its compiled crates.
export RUSTFLAGS="--cfg erase_components"

log "the modules' imports form a tree"
python3 scripts/module-graph.py --check

# --split: the wasm is cut by route (src/app/mod.rs, lazy_pages); every wasm build must be.
log "building the site (debug)"
cargo leptos build --split

log "unit and integration tests (SQLite and PostgreSQL)"
env "${leptos_env[@]}" cargo test --features ssr --no-fail-fast

log "building the Rust callback example"
env "${leptos_env[@]}" cargo build --features ssr --example callback_axum

log "the guide's curl against the real binary"
bash tests/smoke/guide_curl.sh

log "end-to-end tests in headless Chromium"
(cd end2end && npx playwright test)

log "all tests passed in $(( $(date +%s) - started )) s"
