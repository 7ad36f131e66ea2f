#!/usr/bin/env bash
# The inference proxy hop (issue 6): throughput, latency and memory of
# POST /api/v1/deployments/{id}/infer to a trivial upstream on loopback, next to that
# upstream called directly and through a bare Rust proxy hop (actix-web + one pooled
# reqwest client); and the same for the OpenAI route POST /v1/embeddings (one input, a
# 384-dimensional answer) next to the bare hop relaying the upstream's own OpenAI
# embeddings answer. All measured in the same run and interleaved round by round (these
# machines are noisy: read the ratios, not the absolute figures).
#
#   bash bench/proxy.sh            (needs wrk, curl and python3; wrk is installed with apt-get)
#
# What runs, all on 127.0.0.1, each server with HFB_BENCH_WORKERS worker threads:
#   - backend/examples/bench_upstream.rs: answers POST /ep/{task}/{name} with a fixed
#     result of that task (text-classification labels, or one 384-dimensional vector for
#     feature-extraction), POST /v1/embeddings in the OpenAI shape, and plays the Inference
#     Endpoints API (endpoints are running at once);
#   - hfb serve on a fresh data dir (SQLite, in-process cache; no Redis or MongoDB), with
#     the hf-endpoint target pointed at that API; a bench account signs up, makes an API key
#     with the `inference` scope and deploys bench/model (text-classification) there;
#     and deploys bench/embed (feature-extraction) for the embeddings targets;
#   - backend/examples/bare_hop.rs, twice: one forwards every body to the deployment's
#     endpoint URL ("bare hop"), the other to the upstream's /v1/embeddings ("bare
#     embeddings": the same answer, byte for byte the size, that "hfb embeddings" gives).
# wrk (-t1 -c64, a 3 s warm-up then 10 s with --latency) posts {"inputs":"..."} with the
# same headers (JSON, Bearer API key) to: the upstream directly, the bare hop, and hfb;
# and {"model","input"} to the bare embeddings hop and hfb's /v1/embeddings.
# The RSS column is the peak resident memory of the process under test (the upstream for
# "direct"), sampled every 0.25 s during the measured run.
#
# Environment:
#   HFB_BENCH_DURATION     measured wrk run per target and round (default 10s)
#   HFB_BENCH_WARMUP       wrk warm-up before each measured run (default 3s)
#   HFB_BENCH_CONNECTIONS  concurrent connections (default 64; 1 shows the unqueued hop latency)
#   HFB_BENCH_THREADS      wrk threads (default 1)
#   HFB_BENCH_ROUNDS       rounds over the three targets; medians are reported (default 3)
#   HFB_BENCH_WORKERS      worker threads of the upstream, the bare hop and hfb (default 1)
#   HFB_BENCH_NO_BUILD=1   skip `cargo build --release` and use the binaries already built
#   HFB_BENCH_BASELINE_BIN another `hfb` binary (say, a copy of the last release build before
#                          a change) measured as more targets, "hfb before" and "embeddings
#                          before", in the same rounds, set up the same way: the only fair
#                          A/B on a noisy machine
#   HFB_BENCH_LITELLM      the `litellm` executable of a LiteLLM proxy install (a venv outside
#                          the repo: `pip install 'litellm[proxy]'`). Adds the target "litellm"
#                          making the same OpenAI embeddings call as "hfb embeddings" (LiteLLM
#                          proxy, 1 worker, a master key, the upstream's /v1/embeddings as an
#                          `openai/` model), and the goal hfb embeddings >= 100 x LiteLLM
#   HFB_BENCH_HOLD=SECONDS after setup, print each target's URL, pid and wrk script, then
#                          wait that long before measuring (to load and profile one target
#                          by hand: wrk -s SCRIPT URL, perf record -p PID, strace -c -p PID)
# Goals are printed as PASS/FAIL lines; they are informational (the exit status is 0 when
# the benchmark itself ran).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/tools.sh"
cd "$ROOT"

duration="${HFB_BENCH_DURATION:-10s}"
warmup="${HFB_BENCH_WARMUP:-3s}"
conns="${HFB_BENCH_CONNECTIONS:-64}"
threads="${HFB_BENCH_THREADS:-1}"
rounds="${HFB_BENCH_ROUNDS:-3}"
workers="${HFB_BENCH_WORKERS:-1}"

command -v wrk >/dev/null || apt_install wrk
command -v curl >/dev/null || apt_install curl
command -v python3 >/dev/null || die "python3 is required (JSON answers and the summary)"

if [ -z "${HFB_BENCH_NO_BUILD:-}" ]; then
  say "building hfb, bench_upstream and bare_hop (release)"
  cargo build --release --locked -q -p hfb-backend --bin hfb --example bench_upstream --example bare_hop
fi
rel="$(target_dir)/release"
hfb_bin="$rel/hfb"
upstream_bin="$rel/examples/bench_upstream"
hop_bin="$rel/examples/bare_hop"
for b in "$hfb_bin" "$upstream_bin" "$hop_bin"; do
  [ -x "$b" ] || die "$b is missing (run without HFB_BENCH_NO_BUILD)"
done

work="$(mktemp -d)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: runs COMMAND in the temp dir (so no .env from the checkout is
# read), with an environment holding only PATH and HOME plus what COMMAND sets through
# `env`, and waits for its "listening on http://..." line. Sets started_pid, started_url.
started_pid=""
started_url=""
start() {
  local name="$1"
  shift
  (cd "$work" && exec env -i PATH="$PATH" HOME="$HOME" "$@") >"$work/$name.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  started_url=""
  for _ in $(seq 600); do
    started_url=$(grep -o 'listening on http://[0-9.:]*' "$work/$name.log" | head -1 | cut -d' ' -f3 || true)
    [ -n "$started_url" ] && return 0
    kill -0 "$started_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/$name.log" >&2
  die "$name did not start"
}

# api METHOD PATH TOKEN [JSON]: calls hfb, prints the answer; dies unless it is a 2xx.
api() {
  local method="$1" path="$2" token="$3" data="${4:-}"
  local args=(-sS --noproxy '*' -X "$method" -o "$work/answer.json" -w '%{http_code}'
    -H 'content-type: application/json')
  if [ -n "$token" ]; then args+=(-H "authorization: Bearer $token"); fi
  if [ -n "$data" ]; then args+=(--data "$data"); fi
  local code
  code=$(curl "${args[@]}" "$hfb_url$path") || die "$method $path: curl failed"
  if [[ "$code" != 2?? ]]; then
    cat "$work/answer.json" >&2
    echo >&2
    die "$method $path answered $code"
  fi
  cat "$work/answer.json"
}

# field DOTTED.PATH: one field of the JSON on stdin.
field() {
  python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k] if isinstance(v, dict) else None
print("" if v is None else v)' "$1"
}

litellm_bin="${HFB_BENCH_LITELLM:-}"
if [ -n "$litellm_bin" ]; then
  [ -x "$litellm_bin" ] || die "HFB_BENCH_LITELLM=$litellm_bin is not an executable"
fi

say "starting the upstream, hfb and the bare hop ($workers worker thread(s) each)"
start upstream "$upstream_bin" --port 0 --workers "$workers"
upstream_pid="$started_pid"
upstream_url="$started_url"

# start_hfb NAME BIN: starts an hfb on a fresh data dir, signs up, makes an API key with
# the `inference` scope and deploys bench/model to the upstream's Endpoints API. Sets
# hfb_pid, hfb_url, key, id and endpoint_url.
start_hfb() {
  local name="$1" bin="$2"
  start "$name" \
    HFB_DATA_DIR="$work/data-$name" HFB_BIND=127.0.0.1:0 HFB_WORKERS="$workers" \
    HFB_LOG=warn,hfb=info HFB_LOG_FORMAT=json \
    HUGGING_FACE_API_KEY=bench HFB_HF_NAMESPACE=bench HFB_HF_API_ENDPOINT="$upstream_url/v2" \
    HF_ENDPOINT="$upstream_url" HFB_CATALOG_LIVE=false HFB_CATALOG_SYNC_INTERVAL_SECS=0 \
    HFB_RECONCILE_POLL_SECS=0 HFB_RATE_LIMIT_PER_MIN=10000000 HFB_RATE_LIMIT_AUTH_PER_MIN=1000 \
    HFB_SHUTDOWN_TIMEOUT_SECS=2 "$bin" serve
  hfb_pid="$started_pid"
  hfb_url="$started_url"

  local access status
  access=$(api POST /api/v1/auth/signup "" \
    '{"email":"bench@example.com","password":"correct horse battery staple","display_name":"Bench"}' |
    field access_token)
  [ -n "$access" ] || die "sign-up gave no access token"
  key=$(api POST /api/v1/me/api-keys "$access" '{"name":"proxy bench","scopes":["inference"]}' | field key)
  [ -n "$key" ] || die "no API key in the answer"
  id=$(api POST /api/v1/deployments "$access" \
    '{"model_id":"bench/model","target":"hf-endpoint","task":"text-classification"}' | field id)
  [ -n "$id" ] || die "no deployment id in the answer"
  status=""
  for _ in $(seq 300); do
    api GET "/api/v1/deployments/$id" "$access" >"$work/deployment.json"
    status=$(field deployment.status <"$work/deployment.json")
    [ "$status" = running ] && break
    if [ "$status" = failed ]; then
      cat "$work/deployment.json" >&2
      die "the deployment failed"
    fi
    sleep 0.2
  done
  [ "$status" = running ] || { cat "$work/deployment.json" >&2; die "the deployment is not running after 60 s"; }
  endpoint_url=$(field deployment.endpoint_url <"$work/deployment.json")
  [ -n "$endpoint_url" ] || die "the running deployment has no endpoint_url"
  # The OpenAI route finds a running deployment by model id; a call makes sure it is up.
  api POST /api/v1/deployments "$access" \
    '{"model_id":"bench/embed","target":"hf-endpoint","task":"feature-extraction"}' >/dev/null
  for _ in $(seq 300); do
    curl -sf --noproxy '*' -o /dev/null -H 'content-type: application/json' \
      -H "authorization: Bearer $key" --data '{"model":"bench/embed","input":"ready?"}' \
      "$hfb_url/v1/embeddings" && return 0
    sleep 0.2
  done
  die "the embeddings deployment did not start answering within 60 s"
}

# start_litellm: a LiteLLM proxy (1 worker, a master key) serving the upstream's
# /v1/embeddings as the model bench-embed. Sets litellm_pid and litellm_url.
start_litellm() {
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$work/litellm.yaml" <<YAML
model_list:
  - model_name: bench-embed
    litellm_params:
      model: openai/bench-embed
      api_base: $upstream_url/v1
      api_key: sk-upstream
general_settings:
  master_key: sk-bench-master
YAML
  # The model price list is read from the package, not fetched (offline machines).
  (cd "$work" && exec env -i PATH="$PATH" HOME="$HOME" LITELLM_LOCAL_MODEL_COST_MAP=True \
    "$litellm_bin" --config "$work/litellm.yaml" --host 127.0.0.1 --port "$port" --num_workers 1) \
    >"$work/litellm.log" 2>&1 &
  litellm_pid=$!
  pids+=("$litellm_pid")
  litellm_url="http://127.0.0.1:$port"
  for _ in $(seq 1200); do
    curl -sf --noproxy '*' -o /dev/null "$litellm_url/health/liveliness" && return 0
    kill -0 "$litellm_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/litellm.log" >&2
  die "LiteLLM did not start"
}

baseline_bin="${HFB_BENCH_BASELINE_BIN:-}"
if [ -n "$baseline_bin" ]; then
  [ -x "$baseline_bin" ] || die "HFB_BENCH_BASELINE_BIN=$baseline_bin is not an executable"
  start_hfb hfb_before "$baseline_bin"
  before_pid="$hfb_pid"
  before_target="$hfb_url/api/v1/deployments/$id/infer"
  before_embeddings="$hfb_url/v1/embeddings"
  before_key="$key"
fi
start_hfb hfb "$hfb_bin"

start bare_hop "$hop_bin" --port 0 --workers "$workers" --upstream "$endpoint_url"
hop_pid="$started_pid"
hop_url="$started_url"
start bare_embeddings "$hop_bin" --port 0 --workers "$workers" --upstream "$upstream_url/v1/embeddings"
embeddings_hop_pid="$started_pid"
embeddings_hop_url="$started_url"

text="I love this movie, it is wonderful."
body="{\"inputs\":\"$text\"}"
embed_body="{\"model\":\"bench/embed\",\"input\":\"$text\"}"
# post_script FILE KEY BODY: the wrk script posting BODY with that bearer token.
post_script() {
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '$3'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
LUA
}

targets=()
declare -A url pid auth payload expect
# target NAME URL PID KEY BODY EXPECT: a target wrk loads with BODY and KEY as its bearer
# token; PID is the process measured, EXPECT what a good answer contains.
target() {
  targets+=("$1")
  url[$1]="$2"
  pid[$1]="$3"
  auth[$1]="$4"
  payload[$1]="$5"
  expect[$1]="$6"
}
target direct "$endpoint_url" "$upstream_pid" "$key" "$body" POSITIVE
target "bare hop" "$hop_url/infer" "$hop_pid" "$key" "$body" POSITIVE
target hfb "$hfb_url/api/v1/deployments/$id/infer" "$hfb_pid" "$key" "$body" POSITIVE
if [ -n "$baseline_bin" ]; then
  target "hfb before" "$before_target" "$before_pid" "$before_key" "$body" POSITIVE
fi
# The embeddings targets: the same OpenAI call and a 384-float answer of the same size.
target "bare embeddings" "$embeddings_hop_url/v1/embeddings" "$embeddings_hop_pid" "$key" \
  "$embed_body" embedding
target "hfb embeddings" "$hfb_url/v1/embeddings" "$hfb_pid" "$key" "$embed_body" embedding
if [ -n "$baseline_bin" ]; then
  target "embeddings before" "$before_embeddings" "$before_pid" "$before_key" "$embed_body" \
    embedding
fi
if [ -n "$litellm_bin" ]; then
  say "starting LiteLLM ($("$litellm_bin" --version 2>/dev/null | tail -1 || true))"
  start_litellm
  target litellm "$litellm_url/v1/embeddings" "$litellm_pid" sk-bench-master \
    "{\"model\":\"bench-embed\",\"input\":\"$text\"}" embedding
fi

# One call to each before any load: a 200 carrying the upstream's answer.
for t in "${targets[@]}"; do
  post_script "$work/post.${t// /_}.lua" "${auth[$t]}" "${payload[$t]}"
  code=$(curl -sS --noproxy '*' -o "$work/check.json" -w '%{http_code}' -X POST "${url[$t]}" \
    -H 'content-type: application/json' -H "authorization: Bearer ${auth[$t]}" \
    --data "${payload[$t]}") || die "$t: curl failed"
  if [ "$code" != 200 ] || ! grep -q "${expect[$t]}" "$work/check.json"; then
    cat "$work/check.json" >&2
    echo >&2
    die "$t answered $code instead of the upstream's answer"
  fi
done
say "hfb idle RSS: $(($(ps -o rss= -p "$hfb_pid") / 1024)) MB; deployment $id -> $endpoint_url"
if [ -n "${HFB_BENCH_HOLD:-}" ]; then
  for t in "${targets[@]}"; do
    say "$t: pid ${pid[$t]}  url ${url[$t]}  wrk script $work/post.${t// /_}.lua"
  done
  say "holding for ${HFB_BENCH_HOLD} s (HFB_BENCH_HOLD) before measuring"
  sleep "$HFB_BENCH_HOLD"
fi

# cpu_ticks PID: user + system CPU time the process has used, in clock ticks.
cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
clk_tck=$(getconf CLK_TCK)

# measure TARGET ROUND: warm-up, then the measured run with RSS sampling; appends one
# line to results.tsv: target, round, req/s, p50 ms, p99 ms, peak RSS KiB, errors, CPU
# microseconds per call of the process under test.
measure() {
  local t="$1" round="$2"
  local out="$work/wrk.$round.${t// /_}.txt"
  local script="$work/post.${t// /_}.lua"
  wrk -t"$threads" -c"$conns" -d"$warmup" --timeout 30s -s "$script" "${url[$t]}" >/dev/null
  (while kill -0 "${pid[$t]}" 2>/dev/null; do
    ps -o rss= -p "${pid[$t]}" || true
    sleep 0.25
  done) >"$work/rss.txt" 2>/dev/null &
  local sampler=$!
  local cpu_before cpu_after
  cpu_before=$(cpu_ticks "${pid[$t]}")
  wrk -t"$threads" -c"$conns" -d"$duration" --timeout 30s --latency -s "$script" "${url[$t]}" >"$out"
  cpu_after=$(cpu_ticks "${pid[$t]}")
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  awk -v t="$t" -v round="$round" -v ticks="$((cpu_after - cpu_before))" -v tck="$clk_tck" '
    function ms(v) {
      n = v + 0
      if (v ~ /us$/) return n / 1000
      if (v ~ /ms$/) return n
      if (v ~ /m$/) return n * 60000
      if (v ~ /s$/) return n * 1000
      return n
    }
    FILENAME == ARGV[1] && /^Requests\/sec/ { rps = $2 }
    FILENAME == ARGV[1] && / requests in / { calls = $1 + 0 }
    FILENAME == ARGV[1] && $1 == "50%" { p50 = ms($2) }
    FILENAME == ARGV[1] && $1 == "99%" { p99 = ms($2) }
    FILENAME == ARGV[1] && /Non-2xx or 3xx responses/ { errors += $NF }
    FILENAME == ARGV[1] && /Socket errors/ {
      for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) errors += $i + 0
    }
    FILENAME == ARGV[2] && $1 + 0 > rss { rss = $1 + 0 }
    END {
      cpu_us = calls > 0 ? ticks / tck * 1e6 / calls : 0
      printf "%s\t%s\t%s\t%.3f\t%.3f\t%d\t%d\t%.1f\n", t, round, rps, p50, p99, rss, errors + 0, cpu_us
    }' "$out" "$work/rss.txt" >>"$work/results.tsv"
  tail -1 "$work/results.tsv" | awk -F'\t' '{
    printf "round %s  %-14s %9.0f req/s   p50 %8.3f ms   p99 %8.3f ms   peak RSS %5.1f MB   CPU %7.1f us/call%s\n",
      $2, $1, $3, $4, $5, $6 / 1024, $8, ($7 > 0 ? "   ERRORS " $7 : "") }' >&2
}

say "measuring: wrk -t$threads -c$conns -d$duration --latency after a $warmup warm-up, $rounds round(s), targets interleaved"
: >"$work/results.tsv"
for round in $(seq "$rounds"); do
  for t in "${targets[@]}"; do measure "$t" "$round"; done
done

say "summary (median over rounds; RSS: peak of the process under test; direct = the upstream)"
python3 - "$work/results.tsv" "$conns" <<'PY'
import statistics, sys

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
conns = sys.argv[2]
order = [t for t in ["direct", "bare hop", "hfb", "hfb before", "bare embeddings",
                    "hfb embeddings", "embeddings before", "litellm"]
         if any(r[0] == t for r in rows)]
med = {}
for t in order:
    rs = [r for r in rows if r[0] == t]
    med[t] = {
        "rps": statistics.median(float(r[2]) for r in rs),
        "p50": statistics.median(float(r[3]) for r in rs),
        "p99": statistics.median(float(r[4]) for r in rs),
        "rss": max(int(r[5]) for r in rs) / 1024,
        "errors": sum(int(r[6]) for r in rs),
        "cpu": statistics.median(float(r[7]) for r in rs),
    }
d, b, h = med["direct"], med["bare hop"], med["hfb"]

# The embeddings targets are compared with the bare hop relaying the same embeddings
# answer; "direct" (a small text-classification answer) is no reference for them.
embedding_targets = {"bare embeddings", "hfb embeddings", "embeddings before", "litellm"}

def refs(t):
    """The bare hop and the direct target a target is compared with (None: not measured)."""
    return (med["bare embeddings"], None) if t in embedding_targets else (b, d)

def ratio(m, ref, fmt):
    return format(m["rps"] / ref["rps"], fmt) if ref else "-"

def added(m, ref, fmt):
    return format(m["p50"] - ref["p50"], fmt) if ref else "-"

print("x bare / +p50 vs bare: against the bare hop relaying the same kind of answer")
print(f"{'target':<17} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>7} "
      f"{'x bare':>7} {'x direct':>8} {'+p50 vs direct':>15} {'+p50 vs bare':>13} {'CPU us/call':>12}")
for t in order:
    m = med[t]
    bare, direct = refs(t)
    print(f"{t:<17} {m['rps']:>9.0f} {m['p50']:>8.3f} {m['p99']:>8.3f} {m['rss']:>7.1f} "
          f"{ratio(m, bare, '>7.2f')} {ratio(m, direct, '>8.2f'):>8} "
          f"{added(m, direct, '>+15.3f'):>15} {added(m, bare, '>+13.3f')} {m['cpu']:>12.1f}")
print()
print("| target | req/s | p50 | p99 | peak RSS | CPU per call | x bare hop | x direct | added p50 vs direct | added p50 vs bare hop |")
print("|---|---|---|---|---|---|---|---|---|---|")
for t in order:
    m = med[t]
    bare, direct = refs(t)
    print(f"| {t} | {m['rps']:,.0f} | {m['p50']:.2f} ms | {m['p99']:.2f} ms | {m['rss']:.0f} MB | "
          f"{m['cpu']:.1f} µs | {ratio(m, bare, '.2f')} | {ratio(m, direct, '.2f')} | "
          f"{added(m, direct, '+.2f')}{' ms' if direct else ''} | {added(m, bare, '+.2f')} ms |")
print()

def goal(ok, what, value):
    print(f"{'PASS' if ok else 'FAIL'}  {what}: {value}")

goal(h["rps"] >= 0.8 * b["rps"], "hfb throughput >= 0.80 x bare hop (BENCHMARKS, the 2-core goal)",
     f"{h['rps'] / b['rps']:.2f}")
goal(h["rss"] < 50, "hfb peak RSS under load < 50 MB", f"{h['rss']:.1f} MB")
goal(h["p50"] - b["p50"] < 0.3, "hfb p50 - bare hop p50 < 0.3 ms (hfb's own added latency)",
     f"{h['p50'] - b['p50']:+.3f} ms")
goal(h["rps"] >= 0.8 * d["rps"], "hfb throughput >= 0.80 x direct (issue 6 as written)",
     f"{h['rps'] / d['rps']:.2f}")
goal(h["p50"] - d["p50"] < 0.3, "hfb p50 - direct p50 < 0.3 ms (issue 6 as written)",
     f"{h['p50'] - d['p50']:+.3f} ms")
be, e = med["bare embeddings"], med["hfb embeddings"]
goal(e["rps"] >= 0.8 * be["rps"],
     "hfb /v1/embeddings throughput >= 0.80 x the bare hop relaying the same answer (BENCHMARKS)",
     f"{e['rps'] / be['rps']:.2f}")
goal(e["rss"] < 50, "hfb peak RSS under the embeddings load < 50 MB", f"{e['rss']:.1f} MB")
errors = {t: med[t]["errors"] for t in order if med[t]["errors"]}
goal(not errors, "no non-2xx answers or socket errors during measured runs",
     ", ".join(f"{t}: {n}" for t, n in errors.items()) or "none")
if "litellm" in med:
    l = med["litellm"]
    goal(e["rps"] >= 100 * l["rps"], "hfb /v1/embeddings throughput >= 100 x LiteLLM's (BENCHMARKS)",
         f"{e['rps'] / l['rps']:.0f}x")
if "hfb before" in med:
    hb = med["hfb before"]
    print(f"hfb / hfb before (the change, same rounds): {h['rps'] / hb['rps']:.2f}x throughput, "
          f"{h['cpu'] / hb['cpu']:.2f}x CPU per call")
    eb = med["embeddings before"]
    print(f"hfb embeddings / embeddings before: {e['rps'] / eb['rps']:.2f}x throughput, "
          f"{e['cpu'] / eb['cpu']:.2f}x CPU per call")
print(f"CPU per call (steadier than req/s on a shared machine): hfb {h['cpu']:.1f} us, "
      f"bare hop {b['cpu']:.1f} us: hfb's own work {h['cpu'] - b['cpu']:.1f} us per call, "
      f"{h['cpu'] / b['cpu']:.2f}x the bare hop's; embeddings: hfb {e['cpu']:.1f} us, "
      f"bare hop {be['cpu']:.1f} us, {e['cpu'] / be['cpu']:.2f}x")
print(f"(on 2 cores wrk, the upstream and the proxy share the CPUs: read the issue's 'direct' goals next to"
      f" the bare hop's own 'x direct'; at {conns} connections p50 is mostly queueing: about {conns} / req/s)")
PY
