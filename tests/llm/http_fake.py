"""A scripted OpenAI-compatible HTTP server for unit tests of the openai backend.

It speaks real HTTP on loopback, so the openai client, its error classes and our
mapping of them are exercised; answers come from a script of (status, body).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def completion_body(text: str) -> dict[str, Any]:
    return {
        "id": "cmpl-1", "object": "text_completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }  # fmt: skip


def chat_body(text: str) -> dict[str, Any]:
    return {
        "id": "chat-1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
    }  # fmt: skip


def embeddings_body(rows: list[list[float]]) -> dict[str, Any]:
    data = [{"object": "embedding", "index": i, "embedding": row} for i, row in enumerate(rows)]
    return {"object": "list", "data": data, "model": "e", "usage": {"prompt_tokens": 2, "total_tokens": 2}}


class FakeOpenAIServer:
    """Answers POSTs from `script` in order. A step is (status, body, headers); body is
    a dict (sent as JSON) or bytes (sent as they are), and headers may carry the
    pseudo-headers `x-fake-delay` (seconds to wait first) and `x-fake-drop` (send half
    the body, then close the connection)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, Any] | bytes, dict[str, str]]] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        # Per POST: its headers, and the client's port (one port per connection).
        self.headers: list[dict[str, str]] = []
        self.ports: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as model servers do

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append((self.path, body))
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                outer.ports.append(self.client_address[1])
                status, payload, headers = outer.script.pop(0) if outer.script else (500, {"error": "empty"}, {})
                headers = dict(headers)
                delay = float(headers.pop("x-fake-delay", 0))
                drop = headers.pop("x-fake-drop", "")
                if delay:
                    time.sleep(delay)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    headers.setdefault("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if drop:
                        self.wfile.write(data[: len(data) // 2])
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True  # the client gave up (a timeout)

            def do_GET(self) -> None:
                outer.requests.append((self.path, {}))
                data = json.dumps({"object": "list", "data": [{"id": "m", "object": "model"}]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # dropped connections are what some tests are about

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def add(self, status: int, body: dict[str, Any] | bytes, **headers: str) -> None:
        self.script.append((status, body, {k.replace("_", "-"): v for k, v in headers.items()}))

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
