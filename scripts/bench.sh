#!/usr/bin/env bash
# Benchmarks of the universal memory API over loopback HTTP (release build). MP_BENCH_RUNS
# sets the runs per figure (default 5); MP_BENCH_ONLY=retrieve|add|nodes runs one part
# (nodes: 1 and 2 nodes on one PostgreSQL, which this script starts).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_postgres
leptos_env=(LEPTOS_OUTPUT_NAME=memory-passport LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=.
  LEPTOS_JS_MINIFY=false LEPTOS_HASH_FILES=false)
log "benchmark: universal API (release build)"
env "${leptos_env[@]}" cargo bench --features ssr --bench universal
