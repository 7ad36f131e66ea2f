#!/usr/bin/env bash
# Runs every check and test of hfb, installing and starting what they need first:
# formatting, clippy (host and wasm32), unit + integration tests, the store conformance
# suite on SQLite and on a MongoDB wire-protocol server, the cache suite on real Redis,
# the blob store and Lambda client on moto_server, the local runtime on the real
# all-MiniLM-L6-v2,
# the official huggingface_hub client against the Hub-compatible routes, and the browser
# tests in headless Chromium against the real server and release build.
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
source "$(dirname "$0")/lib/models.sh"
source "$(dirname "$0")/lib/moto.sh"
cd "$ROOT"
started=$SECONDS

ensure_rust_tools
ensure_node_tools
ensure_chromium
ensure_redis
ensure_mongo_wire_server
ensure_moto_server
ensure_python_tests
# The real model the runtime, deployment and inference tests run (offline after this).
ensure_minilm_model "$ROOT/data"

export HFB_TEST_REDIS_URL="${HFB_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
export HFB_TEST_MONGODB_URI="${HFB_TEST_MONGODB_URI:-mongodb://127.0.0.1:$MONGO_TEST_PORT}"
# moto accepts any credentials; the AWS SDK only needs some to sign with.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"

say "cargo fmt --check"
cargo fmt --all -- --check
say "clippy (host crates)"
cargo clippy --locked --all-targets -- -D warnings
say "clippy (web app, wasm32)"
cargo clippy --locked -p hfb-frontend --target wasm32-unknown-unknown -- -D warnings

say "unit, integration and conformance tests (SQLite, MongoDB wire server, Redis)"
cargo test --locked
say "web app unit tests (host build of its pure helpers)"
cargo test --locked -p hfb-frontend
say "API integration tests again on the MongoDB adapter"
HFB_TEST_API_MONGODB_URI="$HFB_TEST_MONGODB_URI" cargo test --locked -p hfb-backend --test api

say "building the web app (release) and the server for the browser tests"
trunk build --release
cargo build --locked -p hfb-backend
say "official Python clients against the real server (huggingface_hub)"
HFB_BIN="$(target_dir)/debug/hfb" "$ROOT/e2e/python/.venv/bin/python" -m pytest -q "$ROOT/e2e/python"
say "browser tests (headless Chromium)"
(cd e2e && HFB_BIN="$(target_dir)/debug/hfb" HFB_DIST_DIR="$ROOT/dist" npm test --silent)

say "all checks passed in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
