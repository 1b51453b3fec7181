#!/usr/bin/env bash
# Benchmarks of the universal memory API over loopback HTTP (release build). MP_BENCH_RUNS
# sets the runs per figure (default 5); MP_BENCH_ONLY=retrieve|mcp|add|nodes runs one part
# (nodes: 1 and 2 nodes on one PostgreSQL, which this script starts; front: only the front
# end's weight below). The embedding model is fetched as for `make test`, so retrieval is
# measured with semantic search on.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# The flag cargo-leptos gives every build here (always-erase-components in Cargo.toml): the
# release server that `cargo bench` and `cargo leptos build --release` make is then one build.
export RUSTFLAGS="--cfg erase_components"
ensure_postgres
ensure_model
if [ "${MP_BENCH_ONLY:-}" != front ]; then
  log "benchmark: universal API (release build)"
  env "${leptos_env[@]}" cargo bench --features ssr --bench universal
fi

if [ -z "${MP_BENCH_ONLY:-}" ] || [ "${MP_BENCH_ONLY}" = front ]; then
  ensure_wasm_target
  ensure_cargo_leptos
  ensure_wasm_bindgen
  ensure_wasm_opt
  ensure_chromium
  ensure_node_modules
  # The build `make run` serves: hashed, precompressed, split by route.
  log "benchmark: front-end weight (release build in headless Chromium)"
  build_release_site
  (cd end2end && MP_E2E_BIN="$ROOT/target/release/memory-passport" LEPTOS_HASH_FILES=true \
    npx playwright test -c playwright.weight.config.ts)
fi
