#!/usr/bin/env bash
# Builds everything (installing missing tools first) and runs hfb on embedded defaults:
# SQLite under ./data, in-process cache, no MongoDB, Redis, S3 or Hugging Face token.
# Environment variables (or a .env file) switch to the production services; see README.
set -euo pipefail
source "$(dirname "$0")/lib/tools.sh"
source "$(dirname "$0")/lib/models.sh"
cd "$ROOT"

ensure_rust_tools
ensure_node_tools

say "building the web app (trunk build --release)"
trunk build --release
say "building the API server (cargo build --release)"
cargo build --release --locked -p hfb-backend

export HFB_STATIC_DIR="${HFB_STATIC_DIR:-$ROOT/dist}"
# The built-in runtime's model, so a fresh machine can deploy and call it offline.
ensure_minilm_model "${HFB_DATA_DIR:-$ROOT/data}"
say "starting hfb: open ${PUBLIC_APP_URL:-http://localhost:3000} (Ctrl-C stops it)"
exec "$(target_dir)/release/hfb" serve
