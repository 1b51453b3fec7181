#!/usr/bin/env bash
# The memory evaluation (not part of make test): the real server on the development sets,
# with recall@1/5/10 per question type, extraction coverage, memories per turn and the two
# raw-turn baselines. EMBEDDING_MODE=static|mixed|full picks how the server embeds (default
# mixed); EVAL_DATA_DIR names where the BEAM-derived set is kept (default ../shared/eval);
# EVAL_VERBOSE=1 prints every miss.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_model
export RUSTFLAGS="--cfg erase_components"
# The server's default; the tests' servers take static unless told.
export EMBEDDING_MODE="${EMBEDDING_MODE:-mixed}"
log "memory evaluation (results also in target/eval/)"
env "${leptos_env[@]}" cargo test --features ssr --test api memory_eval::eval_full -- --ignored --nocapture 2>&1 |
  grep -v '^running\|^test result\|^$'
