"""Starts the real hfb server (binary from HFB_BIN) on a free port with a fresh data
dir and the catalog fixture imported, for the official Python clients to talk to."""

import json
import os
import pathlib
import re
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "backend" / "tests" / "api" / "fixtures" / "hub_models.json"


def _bin() -> str:
    return os.environ.get("HFB_BIN", str(ROOT / "target" / "debug" / "hfb"))


def _base_env(data_dir, **extra):
    """The environment of a test server: embedded defaults (no MongoDB, Redis or real
    Hub), a fresh data dir, a free port, JSON logs."""
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "REDIS_URL", "HF_ENDPOINT")}
    env.update(
        HFB_DATA_DIR=data_dir,
        HFB_BIND="127.0.0.1:0",
        HFB_LOG_FORMAT="json",
        HFB_CATALOG_LIVE="false",
        HFB_STATIC_DIR=os.path.join(data_dir, "no-dist"),
    )
    env.update(extra)
    return env


def _drain(stream):
    """Keeps reading a server's output so a full pipe never blocks it."""
    for _ in iter(stream.readline, ""):
        pass


def _start(env):
    """Starts `hfb serve`; returns (process, base URL) once it listens, or fails the test.
    Its output keeps being read so a full pipe never blocks it."""
    proc = subprocess.Popen([_bin(), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.search(r"listening on (http://[0-9.:]+)", line)
        if match:
            threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
            return proc, match.group(1)
    proc.kill()
    pytest.fail("hfb did not start")


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def hfb_server():
    data_dir = tempfile.mkdtemp(prefix="hfb-py-")
    # Small pages, so listing without a limit must follow the Link header.
    env = _base_env(data_dir, HFB_HUB_PAGE_SIZE="2")
    imported = subprocess.run(
        [_bin(), "catalog", "import", str(FIXTURE)], env=env, capture_output=True, text=True, timeout=60
    )
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["inserted"] == 6
    proc, url = _start(env)
    yield url
    _stop(proc)


@pytest.fixture(scope="session")
def hfb_inference_server():
    """hfb with all-MiniLM-L6-v2 in its local model store (from the repo's data/models)."""
    model = pathlib.Path(os.environ.get("HFB_TEST_MODEL_DIR", ROOT / "data" / "models" / "sentence-transformers" / "all-MiniLM-L6-v2"))
    if not (model / "model.safetensors").is_file():
        pytest.fail(f"all-MiniLM-L6-v2 is missing at {model}: run `bash scripts/test.sh` or set HFB_TEST_MODEL_DIR")
    data_dir = tempfile.mkdtemp(prefix="hfb-py-infer-")
    owner = pathlib.Path(data_dir) / "models" / "sentence-transformers"
    owner.mkdir(parents=True)
    (owner / "all-MiniLM-L6-v2").symlink_to(model)
    proc, url = _start(_base_env(data_dir, HFB_RECONCILE_INTERVAL_MS="100"))
    yield url
    _stop(proc)


@pytest.fixture(scope="session")
def hfb_chat_server():
    """hfb whose Inference Endpoints target talks to a fake Hugging Face (fake_hf.py), with
    a signed-up user, an API key with the inference scope and a running hf-endpoint
    deployment of a text-generation model. Yields a dict: url, key, model, fake."""
    import json as _json
    import urllib.request
    import uuid

    from fake_hf import FakeHuggingFace

    fake = FakeHuggingFace()
    fake_url = fake.start()
    data_dir = tempfile.mkdtemp(prefix="hfb-py-chat-")
    env = _base_env(
        data_dir,
        HFB_CATALOG_SYNC_INTERVAL_SECS="0",
        HFB_RECONCILE_INTERVAL_MS="100",
        HFB_RECONCILE_POLL_SECS="1",
        HUGGING_FACE_API_KEY="hf_test_token",
        HFB_HF_NAMESPACE="acme",
        HFB_HF_API_ENDPOINT=f"{fake_url}/v2",
        # Shorter than a whole streamed answer (6 events 0.2 s apart): a stream is bounded
        # per pause, not in total.
        HFB_UPSTREAM_TIMEOUT_MS="800",
    )
    try:
        proc, url = _start(env)
    except BaseException:
        fake.stop()
        raise

    def call(path, method="GET", body=None, token=None):
        req = urllib.request.Request(
            f"{url}{path}", data=None if body is None else _json.dumps(body).encode(), method=method
        )
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=60) as res:
            return _json.loads(res.read() or b"null")

    model = "HuggingFaceTB/SmolLM2-135M-Instruct"
    try:
        token = call("/api/v1/auth/signup", "POST", {
            "email": f"py-chat-{uuid.uuid4().hex}@example.com",
            "password": "correct horse battery staple",
            "display_name": "python chat",
        })["access_token"]
        key = call("/api/v1/me/api-keys", "POST", {"name": "chat", "scopes": ["read", "inference"]}, token)["key"]
        deployment = call("/api/v1/deployments", "POST", {
            "model_id": model, "target": "hf-endpoint", "task": "text-generation",
        }, token)
        status = None
        deadline = time.time() + 60
        while time.time() < deadline and status != "running":
            status = call(f"/api/v1/deployments/{deployment['id']}", token=token)["deployment"]["status"]
            time.sleep(0.1)
        if status != "running":
            pytest.fail(f"the deployment did not reach running (last status {status})")
        yield {"url": url, "key": key, "model": model, "fake": fake}
    finally:
        _stop(proc)
        fake.stop()
