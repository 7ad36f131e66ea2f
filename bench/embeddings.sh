#!/usr/bin/env bash
# Local embeddings throughput: hfb-runtime (candle, release build) on
# sentence-transformers/all-MiniLM-L6-v2 for batches of 1, 8 and 32 over 256 sentences of
# ~14 words, and, when a Python venv with sentence-transformers is given, the same
# sentences through sentence-transformers on PyTorch CPU in the same run, with ratios.
#
#   bash bench/embeddings.sh
#   HFB_BENCH_ST_VENV=~/st-venv bash bench/embeddings.sh     # with the PyTorch peer
#
# Environment:
#   HFB_BENCH_ST_VENV   venv with torch + sentence-transformers (never inside the repo)
#   HFB_BENCH_ROUNDS    timed runs per figure, median reported (default 3)
#   HFB_BENCH_WORKERS   hfb worker threads (default: the CPU cores, as a local deployment has)
#   HFB_BENCH_THREADS   threads per hfb worker (default 1, as the server gives each worker
#                       its share of the cores); CANDLE_NUM_THREADS defaults to 1 as in `hfb`
#   HFB_BENCH_TORCH_THREADS  torch threads (default 2: the machine's cores, as torch uses them)
#   HFB_DATA_DIR        data dir holding models/ (default ./data); the model is installed
#                       there if missing (scripts/lib/models.sh)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/tools.sh"
source "$ROOT/scripts/lib/models.sh"
cd "$ROOT"

data_dir="${HFB_DATA_DIR:-$ROOT/data}"
ensure_minilm_model "$data_dir"
model="$data_dir/models/sentence-transformers/all-MiniLM-L6-v2"
rounds="${HFB_BENCH_ROUNDS:-3}"
workers="${HFB_BENCH_WORKERS:-$(nproc)}"
# As `hfb serve` does (backend/src/main.rs): elementwise kernels run on the worker's thread.
export CANDLE_NUM_THREADS="${CANDLE_NUM_THREADS:-1}"

say "building the benchmark (release)"
cargo build --release --locked -q -p hfb-runtime --example embed_bench
bin="$(target_dir)/release/examples/embed_bench"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

thread_args=(--threads "${HFB_BENCH_THREADS:-$(( $(nproc) / workers > 0 ? $(nproc) / workers : 1 ))}")
say "hfb-runtime (candle)"
"$bin" --model "$model" --rounds "$rounds" --workers "$workers" "${thread_args[@]}" \
  --dump-sentences "$work/sentences.txt" | tee "$work/results.txt"

if [ -n "${HFB_BENCH_ST_VENV:-}" ]; then
  [ -x "$HFB_BENCH_ST_VENV/bin/python" ] || die "HFB_BENCH_ST_VENV=$HFB_BENCH_ST_VENV has no bin/python"
  say "sentence-transformers on PyTorch CPU (same sentences, same run)"
  "$HFB_BENCH_ST_VENV/bin/python" "$ROOT/bench/embeddings_peer.py" --model "$model" \
    --sentences "$work/sentences.txt" --rounds "$rounds" --threads "${HFB_BENCH_TORCH_THREADS:-2}" \
    2> >(grep -v -e '^Loading weights' -e 'it/s]' >&2) | tee -a "$work/results.txt"
else
  say "HFB_BENCH_ST_VENV not set: skipping the sentence-transformers peer"
fi

say "summary (sentences/s; ratio = hfb / sentence-transformers)"
awk '
  $1 == "RESULT" { key = $3 " " $4; v[$2, key] = $5; if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
  END {
    printf "%-12s %6s %12s %12s %8s\n", "mode", "batch", "hfb", "st", "ratio"
    for (i = 1; i <= n; i++) {
      split(order[i], k, " ")
      h = v["hfb", order[i]]; s = v["st", order[i]]
      printf "%-12s %6s %12s %12s %8s\n", k[1], k[2], (h == "" ? "-" : h), (s == "" ? "-" : s), (h != "" && s != "" ? sprintf("%.2f", h / s) : "-")
    }
  }' "$work/results.txt"
