#!/usr/bin/env bash
# Catalog search at scale: imports a SYNTHETIC 100k-model catalog into a fresh SQLite
# store, then measures GET /api/v1/models with wrk (1 thread, 16 connections, 10 s per
# case) uncached (HFB_CATALOG_CACHE_TTL_SECS=0) and cached, next to /healthz measured
# in the same run as the baseline (these machines are noisy: read the ratios).
# Usage: bash bench/catalog_search.sh [N]   (needs wrk: apt-get install wrk)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/tools.sh"
cd "$ROOT"
N="${1:-100000}"
command -v wrk >/dev/null || apt_install wrk
cargo build --release --locked -p hfb-backend -q
BIN="$(target_dir)/release/hfb"
work="$(mktemp -d)"; trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

say "generating $N synthetic models"
python3 bench/gen_catalog.py "$N" > "$work/catalog.json"
say "importing ($(du -h "$work/catalog.json" | cut -f1))"
start=$(date +%s.%N)
HFB_DATA_DIR="$work/data" "$BIN" catalog import "$work/catalog.json" > "$work/import.json"
echo "import: $(python3 -c "import json;r=json.load(open('$work/import.json'));print(r['inserted'],'models')") in $(python3 -c "print(round($(date +%s.%N)-$start,1))") s"

# One wrk Lua script cycles through a mix of realistic queries.
cat > "$work/mix.lua" <<'LUA'
local queries = {
  "/api/v1/models",
  "/api/v1/models?q=synthetic-model-42",
  "/api/v1/models?q=model&task=text-classification",
  "/api/v1/models?tag=pytorch&tag=lora",
  "/api/v1/models?task=feature-extraction&library=sentence-transformers&sort=likes",
  "/api/v1/models?sort=trending&page=250",
  "/api/v1/models?q=org-7&sort=updated&direction=asc",
  "/api/v1/models?language=de&license=mit",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", queries[(i % #queries) + 1])
end
LUA

run_case() { # name, env..., then wrk target
  local name="$1" ttl="$2" target="$3"
  HFB_DATA_DIR="$work/data" HFB_BIND=127.0.0.1:0 HFB_LOG=warn,hfb=info HFB_WORKERS=1 HFB_CATALOG_LIVE=false \
    HFB_CATALOG_CACHE_TTL_SECS="$ttl" HFB_RATE_LIMIT_PER_MIN=10000000 HFB_LOG_FORMAT=json \
    "$BIN" serve > "$work/server.log" 2>&1 &
  local pid=$!
  local url=""
  for _ in $(seq 600); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$work/server.log" | head -1 | cut -d' ' -f3 || true)
    [ -n "$url" ] && break; sleep 0.1
  done
  [ -n "$url" ] || { cat "$work/server.log" >&2; die "server did not start"; }
  if [ "$target" = mix ]; then
    wrk -t1 -c16 -d3s -s "$work/mix.lua" "$url" >/dev/null   # warm-up
    wrk -t1 -c16 -d10s --latency -s "$work/mix.lua" "$url" > "$work/$name.txt"
  else
    wrk -t1 -c16 -d3s "$url$target" >/dev/null
    wrk -t1 -c16 -d10s --latency "$url$target" > "$work/$name.txt"
  fi
  local rss; rss=$(ps -o rss= -p "$pid" | tr -d ' ')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/$name.txt")
  printf '%-26s %10s req/s   p50 %8s   p99 %8s   RSS %6s MB\n' "$name" "$rps" "$p50" "$p99" "$((rss / 1024))"
  echo "$rps" > "$work/$name.rps"
}

say "measuring (wrk -t1 -c16 -d10s, after a 3 s warm-up)"
run_case "baseline healthz" 300 /healthz
run_case "search mix, uncached" 0 mix
run_case "search mix, cached" 300 mix
base=$(cat "$work/baseline healthz.rps")
for c in "search mix, uncached" "search mix, cached"; do
  python3 -c "print(f'{\"$c\":26} {float(open(\"$work/$c.rps\").read())/$base:.3f} of the healthz baseline')"
done
