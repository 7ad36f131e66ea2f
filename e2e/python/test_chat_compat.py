"""The official openai client, unchanged, calling chat completions on hfb: a text-generation
deployment on an Inference Endpoint (played by fake_hf.py), authenticated with an hfb API key."""

import time

import pytest
from fake_hf import EVENT_GAP_SECS
from openai import NotFoundError, OpenAI, UnprocessableEntityError


def _client(server):
    return OpenAI(base_url=f"{server['url']}/v1", api_key=server["key"], max_retries=0)


def test_chat_completion_returns_the_answer(hfb_chat_server):
    client = _client(hfb_chat_server)
    completion = client.chat.completions.create(
        model=hfb_chat_server["model"],
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "hello there"},
        ],
        max_tokens=20,
        temperature=0.3,
    )
    assert completion.choices[0].message.content == "You said: hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == hfb_chat_server["model"]
    assert completion.usage.total_tokens > 0
    authorization, sent = hfb_chat_server["fake"].chat_calls[-1]
    assert authorization == "Bearer hf_test_token"
    assert sent["model"] == hfb_chat_server["model"]
    assert sent["max_tokens"] == 20


def test_streamed_chunks_arrive_in_order_as_they_are_made(hfb_chat_server):
    client = _client(hfb_chat_server)
    stream = client.chat.completions.create(
        model=hfb_chat_server["model"],
        messages=[{"role": "user", "content": [{"type": "text", "text": "one two three four"}]}],
        stream=True,
    )
    pieces, arrivals = [], []
    for chunk in stream:
        assert chunk.model == hfb_chat_server["model"]
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
            arrivals.append(time.monotonic())
    assert pieces == ["You", " said:", " one", " two", " three", " four"]
    assert "".join(pieces) == "You said: one two three four"
    # The fake pauses between events; relayed as they come, they arrive spread out too.
    assert arrivals[-1] - arrivals[0] > (len(pieces) - 1) * EVENT_GAP_SECS * 0.5


def test_a_bad_request_is_refused_with_the_field(hfb_chat_server):
    client = _client(hfb_chat_server)
    calls = len(hfb_chat_server["fake"].chat_calls)
    with pytest.raises(UnprocessableEntityError) as caught:
        client.chat.completions.create(
            model=hfb_chat_server["model"],
            messages=[{"role": "user", "content": "hi"}],
            temperature=5,
        )
    assert caught.value.status_code == 422
    assert "temperature" in caught.value.message
    assert caught.value.param == "temperature"
    assert caught.value.type == "invalid_request_error"
    assert len(hfb_chat_server["fake"].chat_calls) == calls, "nothing reached the endpoint"


def test_an_unknown_model_is_not_found(hfb_chat_server):
    client = _client(hfb_chat_server)
    with pytest.raises(NotFoundError) as caught:
        client.chat.completions.create(model="nobody/nothing", messages=[{"role": "user", "content": "hi"}])
    assert "nobody/nothing" in caught.value.message


def test_the_deployment_is_listed_as_a_model(hfb_chat_server):
    ids = [m.id for m in _client(hfb_chat_server).models.list()]
    assert hfb_chat_server["model"] in ids
