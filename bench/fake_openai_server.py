"""An OpenAI-compatible server that answers instantly valid JSON after a fixed delay.

For orchestration benchmarks: it isolates what the simulation itself costs and how well
it overlaps model latency. Structured requests get the smallest instance of the JSON
schema they carry (`response_format` json_schema / `guided_json` / `json_schema`);
plain requests get a short sentence; embeddings are deterministic unit vectors.

    python bench/fake_openai_server.py --port 8011 --delay 0.2
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import subprocess
import sys
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


def instance_of(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """The smallest value that validates against `schema` (the subset pydantic emits)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return instance_of(defs[schema["$ref"].split("/")[-1]], defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return instance_of(schema[key][0], defs)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: instance_of(props[name], defs) for name in schema.get("required", list(props))}
    if kind == "array":
        return [instance_of(schema.get("items", {}), defs) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return True
    if "pattern" in schema:  # the schemas' one pattern: a 24-hour clock time
        return "12:00"
    text = "walking to the cafe"
    return (text * 4)[: max(schema.get("minLength", 0), min(len(text), schema.get("maxLength", len(text))))]


def _schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return fmt["json_schema"]["schema"]
    if fmt.get("schema"):
        return fmt["schema"]
    return body.get("guided_json") or body.get("json_schema")


def _vector(text: str, dim: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return (v / np.linalg.norm(v)).tolist()


def make_server(port: int, delay: float, dim: int = 384) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes; with Nagle's algorithm on, the
        # body waited for the client's delayed ACK of the headers: +40 ms on every call
        # (model servers set TCP_NODELAY too).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._send({"object": "list", "data": [{"id": "fake", "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            received = time.monotonic()
            # The answer is made during the delay, which counts from the request. Made
            # after it, a burst of 25 answers queued on this process's interpreter lock:
            # in the 25-agent step a "200 ms" call took 0.222-0.228 s at the 90th
            # percentile (0.214-0.217 s now) and up to 0.25 s (0.235 s).
            data = json.dumps(self._answer(body)).encode()
            time.sleep(max(0.0, delay - (time.monotonic() - received)))
            self._send_bytes(data)

        def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
            if self.path.endswith("/embeddings"):
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [{"object": "embedding", "index": i, "embedding": _vector(t, dim)} for i, t in enumerate(texts)]
                return {"object": "list", "data": data, "model": "fake", "usage": {"prompt_tokens": 1}}
            schema = _schema_of(body)
            text = json.dumps(instance_of(schema)) if schema else "A short plain answer."
            usage = {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112}
            if self.path.endswith("/chat/completions"):
                choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                return {"id": "c", "object": "chat.completion", "created": 0, "model": "fake",
                        "choices": [choice], "usage": usage}  # fmt: skip
            choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
            return {"id": "c", "object": "text_completion", "created": 0, "model": "fake",
                    "choices": [choice], "usage": usage}  # fmt: skip

        def _send(self, payload: dict[str, Any]) -> None:
            self._send_bytes(json.dumps(payload).encode())

        def _send_bytes(self, data: bytes) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def serve_in_process(port: int, delay: float, timeout: float = 30.0) -> subprocess.Popen[bytes]:
    """The server in a process of its own, as a model server would be: in the caller's
    process its threads share the caller's interpreter lock, and under load the
    caller's work delays the answers (a 200 ms call took 0.3 s with 64 in flight).
    Returns once it answers; stop it with .terminate()."""
    process = subprocess.Popen([sys.executable, __file__, "--port", str(port), "--delay", str(delay)],
                               stdout=subprocess.DEVNULL)  # fmt: skip
    atexit.register(process.terminate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the fake server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1):
                return process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError(f"the fake server did not answer on port {port} within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()
    print(f"fake OpenAI-compatible server on http://127.0.0.1:{args.port}/v1 (delay {args.delay}s)", flush=True)
    make_server(args.port, args.delay).serve_forever()


if __name__ == "__main__":
    main()
