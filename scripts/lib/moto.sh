# shellcheck shell=bash
# moto_server (PyPI `moto[server]`) serves the S3, IAM and Lambda APIs on loopback for the
# blob store (hfb-blob) and AWS Lambda target (hfb-cloud) tests. Sourced after tools.sh
# (uses say, die, port_open). Installs moto only when `moto_server` is missing: into a venv
# outside the repo (PEP 668 systems refuse a global pip install), once.

MOTO_PORT="${HFB_MOTO_PORT:-5055}"
MOTO_VENV="${HFB_MOTO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/hfb/moto-venv}"

# True when an HTTP server answers on 127.0.0.1:$1 (any status line counts).
http_answers() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS= read -r -t 5 line <&3 || exit 1
    [[ "$line" == HTTP/1.* ]]
  ) 2>/dev/null
}

moto_server_bin() {
  if command -v moto_server >/dev/null; then command -v moto_server
  elif [ -x "$MOTO_VENV/bin/moto_server" ]; then echo "$MOTO_VENV/bin/moto_server"
  fi
}

ensure_moto_server() {
  local bin; bin="$(moto_server_bin)"
  if [ -z "$bin" ]; then
    say "installing moto[server] (S3/IAM/Lambda test server) from PyPI into $MOTO_VENV"
    mkdir -p "$(dirname "$MOTO_VENV")"
    python3 -m venv "$MOTO_VENV" || { apt_install python3-venv && python3 -m venv "$MOTO_VENV"; }
    "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]"
    bin="$MOTO_VENV/bin/moto_server"
  fi
  if ! port_open "$MOTO_PORT"; then
    say "starting moto_server on 127.0.0.1:$MOTO_PORT"
    local log="${TMPDIR:-/tmp}/hfb-moto.log"
    nohup "$bin" -H 127.0.0.1 -p "$MOTO_PORT" >"$log" 2>&1 &
    for _ in $(seq 150); do http_answers "$MOTO_PORT" && break; sleep 0.2; done
    http_answers "$MOTO_PORT" || die "moto_server did not start (see $log)"
  elif ! http_answers "$MOTO_PORT"; then
    die "port $MOTO_PORT is taken by something that is not an HTTP server; set HFB_MOTO_PORT"
  fi
  # One moto_server serves every AWS API; the tests create their own buckets, roles and
  # functions with unique names, so runs never collide.
  export HFB_TEST_S3_ENDPOINT="${HFB_TEST_S3_ENDPOINT:-http://127.0.0.1:$MOTO_PORT}"
  export HFB_TEST_LAMBDA_ENDPOINT="${HFB_TEST_LAMBDA_ENDPOINT:-http://127.0.0.1:$MOTO_PORT}"
}
