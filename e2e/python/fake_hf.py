"""A stand-in for Hugging Face in the Python client tests, on the standard library only.

It serves the Inference Endpoints API (create, get and delete under
`/v2/endpoint/{namespace}[/{name}]`; a created endpoint is `running` at once, at
`http://127.0.0.1:{port}/ep/{name}`) and each endpoint's Text Generation Inference chat
route, `POST /ep/{name}/v1/chat/completions`: a `chat.completion` object, or with
`"stream": true` server-sent `chat.completion.chunk` events, one word each, flushed one by
one with a pause between them, ending with `data: [DONE]`.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Pause between streamed events, so a relay that buffers the whole answer shows.
EVENT_GAP_SECS = 0.2


def reply_words(messages):
    """The fake model's answer to a conversation: it repeats the last user message."""
    text = ""
    for message in messages:
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
            text = content or ""
    words = f"You said: {text}".split(" ")
    return [word if i == 0 else f" {word}" for i, word in enumerate(words)]


class FakeHuggingFace:
    """Start with `start()` (returns the base URL), stop with `stop()`. `chat_calls` keeps
    the `(authorization header, request body)` of each chat call."""

    def __init__(self):
        self.endpoints = {}
        self.chat_calls = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"null")

            def _parts(self):
                return [p for p in self.path.split("?")[0].split("/") if p]

            def do_POST(self):
                parts = self._parts()
                if parts[:2] == ["v2", "endpoint"] and len(parts) == 3:
                    spec = self._body()
                    with fake.lock:
                        fake.endpoints[spec["name"]] = spec
                    return self._json(200, fake.endpoint(spec))
                if len(parts) == 5 and parts[0] == "ep" and parts[2:] == ["v1", "chat", "completions"]:
                    if parts[1] not in fake.endpoints:
                        return self._json(404, {"error": "no such endpoint"})
                    request = self._body()
                    with fake.lock:
                        fake.chat_calls.append((self.headers.get("Authorization"), request))
                    return self._chat(request)
                return self._json(404, {"error": f"nothing at {self.path}"})

            def do_GET(self):
                parts = self._parts()
                if parts[:2] == ["v2", "endpoint"] and len(parts) == 4:
                    spec = fake.endpoints.get(parts[3])
                    if spec is None:
                        return self._json(404, {"error": "endpoint not found"})
                    return self._json(200, fake.endpoint(spec))
                return self._json(404, {"error": f"nothing at {self.path}"})

            def do_DELETE(self):
                parts = self._parts()
                if parts[:2] == ["v2", "endpoint"] and len(parts) == 4:
                    with fake.lock:
                        fake.endpoints.pop(parts[3], None)
                    return self._json(200, {})
                return self._json(404, {"error": f"nothing at {self.path}"})

            def _chat(self, request):
                words = reply_words(request.get("messages") or [])
                created = int(time.time())
                if not request.get("stream"):
                    return self._json(200, {
                        "id": "chatcmpl-fake", "object": "chat.completion", "created": created,
                        "model": "tgi", "system_fingerprint": "fake-tgi",
                        "choices": [{"index": 0, "logprobs": None, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": "".join(words)}}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": len(words),
                                  "total_tokens": 10 + len(words)},
                    })
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for i, word in enumerate(words):
                    last = i + 1 == len(words)
                    chunk = {
                        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                        "model": "tgi", "system_fingerprint": "fake-tgi",
                        "choices": [{"index": 0, "logprobs": None,
                                     "delta": {"role": "assistant", "content": word},
                                     "finish_reason": "stop" if last else None}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(EVENT_GAP_SECS)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint(self, spec):
        """The Endpoints API's description of a created endpoint (always running)."""
        name = spec["name"]
        return {
            "name": name,
            "type": spec.get("type", "protected"),
            "model": spec.get("model", {}),
            "compute": spec.get("compute", {}),
            "provider": spec.get("provider", {"vendor": "aws", "region": "us-east-1"}),
            "status": {
                "state": "running",
                "message": None,
                "url": f"{self.url}/ep/{name}",
                "readyReplica": 1,
                "targetReplica": 1,
                "createdAt": "2026-01-01T00:00:00Z",
                "updatedAt": "2026-01-01T00:00:00Z",
            },
        }

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.url

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
