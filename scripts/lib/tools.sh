# shellcheck shell=bash
# Installs what building and testing hfb needs, each step only when it is missing, so
# a second run costs seconds. Sourced by scripts/run.sh and scripts/test.sh.
# Versions are pinned where the toolchain notes found traps (trunk, wasm-bindgen, wasm-opt).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TRUNK_VERSION="0.21.14"
export PATH="$HOME/.cargo/bin:$ROOT/e2e/node_modules/.bin:$PATH"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

apt_install() {
  say "installing Debian packages: $*"
  if [ -z "${HFB_APT_UPDATED:-}" ]; then as_root apt-get update -qq; HFB_APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The wasm-bindgen version the lockfile pins; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_rust_tools() {
  command -v cargo >/dev/null || die "Rust is required: install it with rustup (https://rustup.rs) and re-run"
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown >/dev/null
  fi
  if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION"; then
    say "installing trunk $TRUNK_VERSION (about 10 minutes, once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked --quiet
  fi
  local wbg; wbg="$(wasm_bindgen_version)"
  [ -n "$wbg" ] || die "wasm-bindgen not found in Cargo.lock"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
    say "installing wasm-bindgen-cli $wbg (about 5 minutes, once)"
    # No --locked: its lockfile pins a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$wbg" --quiet
  fi
}

# playwright-core (browser tests) and binaryen's wasm-opt >= 116 (Debian's 108 corrupts WASM).
ensure_node_tools() {
  command -v npm >/dev/null || apt_install nodejs npm
  local stamp="$ROOT/e2e/node_modules/.hfb-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/e2e/package-lock.json" "$stamp"; then
    say "installing e2e/ npm packages (playwright-core, binaryen)"
    (cd "$ROOT/e2e" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$ROOT/e2e/package-lock.json" "$stamp"
  fi
}

ensure_chromium() {
  command -v chromium >/dev/null || apt_install chromium
}

ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting Redis on 127.0.0.1:6379"
    local dir="${TMPDIR:-/tmp}/hfb-redis"; mkdir -p "$dir"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir "$dir" --logfile "$dir/redis.log"
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    die "Redis did not start (see $dir/redis.log)"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# SecantusDB speaks the MongoDB wire protocol; no registry here ships a real mongod.
MONGO_TEST_PORT="${HFB_MONGO_TEST_PORT:-27018}"
ensure_mongo_wire_server() {
  if ! command -v secantusd-py >/dev/null; then
    say "installing SecantusDB (MongoDB wire-protocol test server) from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check secantusdb
    hash -r
  fi
  if ! port_open "$MONGO_TEST_PORT"; then
    say "starting SecantusDB on 127.0.0.1:$MONGO_TEST_PORT"
    local log="${TMPDIR:-/tmp}/hfb-secantusdb.log"
    nohup secantusd-py --port "$MONGO_TEST_PORT" --storage-path :memory: >"$log" 2>&1 &
    for _ in $(seq 100); do port_open "$MONGO_TEST_PORT" && return 0; sleep 0.2; done
    die "SecantusDB did not start (see $log)"
  fi
}

# The official Python clients (huggingface_hub, later openai) in a venv under e2e/python.
ensure_python_tests() {
  local venv="$ROOT/e2e/python/.venv" req="$ROOT/e2e/python/requirements.txt"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating the Python venv for client tests"
    python3 -m venv "$venv" || { apt_install python3-venv && python3 -m venv "$venv"; }
  fi
  if ! cmp -s "$req" "$venv/.hfb-requirements"; then
    say "installing Python test packages (huggingface_hub, pytest)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$venv/.hfb-requirements"
  fi
}

target_dir() { echo "${CARGO_TARGET_DIR:-$ROOT/target}"; }
