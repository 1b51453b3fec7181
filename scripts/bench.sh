#!/usr/bin/env bash
# Benchmarks of the universal memory API over loopback HTTP (release build). MP_BENCH_RUNS
# sets the runs per figure (default 5); MP_BENCH_ONLY=retrieve|add|nodes runs one part
# (nodes: 1 and 2 nodes on one PostgreSQL, which this script starts). The embedding model is
# fetched as for `make test`, so retrieval is measured with semantic search on.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_postgres
ensure_model
log "benchmark: universal API (release build)"
env "${leptos_env[@]}" cargo bench --features ssr --bench universal
