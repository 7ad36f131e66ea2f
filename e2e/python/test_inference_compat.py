"""The official huggingface_hub InferenceClient and openai clients, unchanged, against a
deployment of all-MiniLM-L6-v2 on hfb's built-in runtime, authenticated with an hfb API key."""

import json
import time
import urllib.request
import uuid

import numpy as np
import pytest
from huggingface_hub import InferenceClient
from openai import NotFoundError, OpenAI

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def _call(url, method="GET", body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as res:
        return json.loads(res.read() or b"null")


@pytest.fixture(scope="session")
def api_key(hfb_inference_server):
    """Signs up, deploys the model with one call, waits for running, returns an API key."""
    base = hfb_inference_server
    session = _call(f"{base}/api/v1/auth/signup", "POST", {
        "email": f"py-{uuid.uuid4().hex}@example.com",
        "password": "correct horse battery staple",
        "display_name": "python",
    })
    token = session["access_token"]
    key = _call(f"{base}/api/v1/me/api-keys", "POST", {"name": "python", "scopes": ["read", "inference"]}, token)["key"]
    deployment = _call(f"{base}/api/v1/deployments", "POST", {"model_id": MODEL}, token)
    deadline = time.time() + 60
    while time.time() < deadline:
        status = _call(f"{base}/api/v1/deployments/{deployment['id']}", token=token)["deployment"]["status"]
        if status == "running":
            return key
        time.sleep(0.2)
    pytest.fail(f"the deployment did not reach running (last status {status})")


def test_inference_client_feature_extraction(hfb_inference_server, api_key):
    client = InferenceClient(model=f"{hfb_inference_server}/models/{MODEL}", token=api_key)
    vector = np.asarray(client.feature_extraction("The cat sits on the mat."))
    assert vector.shape[-1] == 384
    assert abs(float(np.linalg.norm(vector.reshape(-1, 384)[0])) - 1.0) < 1e-3


def test_inference_client_sentence_similarity(hfb_inference_server, api_key):
    client = InferenceClient(model=f"{hfb_inference_server}/models/{MODEL}", token=api_key)
    scores = client.sentence_similarity(
        "A man is eating food.",
        other_sentences=["A man is eating a piece of bread.", "A monkey is playing drums."],
    )
    assert len(scores) == 2
    assert scores[0] > scores[1]


def test_openai_embeddings_and_models(hfb_inference_server, api_key):
    client = OpenAI(base_url=f"{hfb_inference_server}/v1", api_key=api_key)
    result = client.embeddings.create(model=MODEL, input=["hello world", "good morning"], encoding_format="float")
    assert len(result.data) == 2
    assert len(result.data[0].embedding) == 384
    assert result.usage.prompt_tokens > 0
    ids = [m.id for m in client.models.list()]
    assert MODEL in ids
    with pytest.raises(NotFoundError):
        client.embeddings.create(model="nobody/nothing", input="x", encoding_format="float")
