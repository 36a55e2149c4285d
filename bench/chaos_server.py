"""An OpenAI-compatible server that misbehaves on purpose: seeded, with a configurable mix.

It answers like bench/fake_openai_server.py (the smallest valid instance of a
request's JSON schema, a short sentence for plain requests, deterministic unit
vectors for embeddings), except that a share of POST requests (`--fault-rate`) get
a fault drawn from a weighted mix (`--mix`):

    garbage        200 with text that is no JSON (a structured answer then fails validation)
    broken_json    200 whose JSON body is cut off
    empty_choices  200 with "choices": []
    null_content   200 with "content": null (chat) / "text": null (completions)
    429            429 too many requests, with Retry-After
    500 502 503    an HTML error page, as a proxy sends
    slow           the answer after --slow-seconds (past the client's timeout)
    drop           headers and half the body, then the connection is closed

and `--outage-after N --outage-seconds S` stops listening after the N-th POST for S
seconds (every connection refused), then comes back; `PUT /chaos/outage` (header
`x-outage-seconds`) or `arm_outage()` starts one after the next POST. GET /v1/models always answers
(outside an outage): run loops probe it while they wait. Every response closes its
connection, so an outage refuses the next request instead of riding a kept-alive one.

What was injected is counted by fault and by the gateway's fault kind (llm.errors),
served at GET /chaos/stats and printed at exit. Garbage answers carry a marker, so
a repair prompt quoting earlier garbage is recognised: `fallbacks_caused` counts
structured requests answered with garbage at repair depth `--max-repairs`, i.e. the
calls that must have ended in their fallback.

    python bench/chaos_server.py --port 8012 --fault-rate 0.4 --seed 1 \\
        --outage-after 200 --outage-seconds 10
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import re
import socket
import sqlite3
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_openai_server import _schema_of, _vector, instance_of

FAULTS = ("garbage", "broken_json", "empty_choices", "null_content", "429", "500", "502", "503", "slow", "drop")
# What the gateway calls each injected fault (llm.errors.FAULT_KINDS); garbage is no
# transport fault: it is bad output, for validation and repair.
GATEWAY_KIND = {
    "broken_json": "bad_response",
    "empty_choices": "bad_response",
    "null_content": "bad_response",
    "429": "rate_limited",
    "500": "server_error",
    "502": "server_error",
    "503": "server_error",
    "slow": "timeout",
    "drop": "dropped",
}
WORDS = ["purple", "elephant", "quietly", "negotiates", "lunar", "cabbage", "with", "seven", "spoons", "thunder"]
ANSWER_WORDS = ["reading", "at", "the", "cafe", "painting", "garden", "talking", "with", "friends", "coffee",
                "writing", "notes", "walking", "park", "cooking", "lunch", "planning", "party"]  # fmt: skip
STRUCTURED_MARK = re.compile(r"\(chaos-s\d+\)")
HTML_PAGE = "<html><head><title>{code} {reason}</title></head><body><h1>{code} {reason}</h1><hr>nginx</body></html>"


def random_instance(schema: dict[str, Any], rng: random.Random, defs: dict[str, Any] | None = None) -> Any:
    """A random value valid for `schema` (the subset pydantic emits): varied answers make
    agents do varied things, so a run makes the calls a real model would cause."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return random_instance(defs[schema["$ref"].split("/")[-1]], rng, defs)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return random_instance(rng.choice(options), rng, defs)
    if "allOf" in schema:
        return random_instance(schema["allOf"][0], rng, defs)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: random_instance(props[name], rng, defs) for name in schema.get("required", list(props))}
    if kind == "array":
        low = int(schema.get("minItems", 1))
        high = int(schema.get("maxItems", low + 3))
        count = rng.randint(low, min(high, low + 3))
        return [random_instance(schema.get("items", {}), rng, defs) for _ in range(count)]
    if kind in ("integer", "number"):
        low = int(schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1))
        high = int(schema.get("maximum", schema.get("exclusiveMaximum", low + 11) - 1))
        return rng.randint(low, max(low, high))
    if kind == "boolean":
        return rng.random() < 0.5
    if "pattern" in schema:
        return patterned(schema["pattern"], rng)
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 40))
    text = " ".join(rng.choice(ANSWER_WORDS) for _ in range(8))[:high].strip()
    while len(text) < low:
        text = (text + " tea").strip()
    return text[:high]


def patterned(pattern: str, rng: random.Random) -> str:
    """A string matching `pattern`; the schemas use one pattern, a 24-hour clock time."""
    for _ in range(100):
        text = f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}"
        if re.fullmatch(pattern, text):
            return text
    raise ValueError(f"chaos server: no generator for the string pattern {pattern!r}")


def parse_mix(text: str) -> dict[str, float]:
    """'garbage=2,500=1' -> weights; unnamed faults get weight 0. Empty: every fault weight 1."""
    if not text.strip():
        return dict.fromkeys(FAULTS, 1.0)
    weights = dict.fromkeys(FAULTS, 0.0)
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        if name not in weights:
            raise SystemExit(f"--mix: unknown fault {name!r}; use {', '.join(FAULTS)}")
        weights[name] = float(value or 1)
    return weights


@dataclass
class ChaosConfig:
    fault_rate: float = 0.4
    mix: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FAULTS, 1.0))
    seed: int = 0
    slow_seconds: float = 3.0
    retry_after: float = 0.2
    outage_after: int = 0  # POSTs before the outage (0: none)
    outage_seconds: float = 0.0
    max_repairs: int = 2
    delay: float = 0.0
    dim: int = 384
    varied: bool = True  # random valid answers (False: the smallest valid instance, as fake_openai_server)


class ChaosServer:
    def __init__(self, port: int, config: ChaosConfig) -> None:
        self.port = port
        self.config = config
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.gateway_kinds: Counter[str] = Counter()
        self.requests = 0
        self.ok = 0
        self.garbage_structured = 0
        self.garbage_plain = 0
        self.fallbacks_caused = 0
        self.outages: list[dict[str, float]] = []
        self._serial = 0
        self._seen: Counter[str] = Counter()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    # ------------------------------------------------------------ lifecycle
    def start(self) -> ChaosServer:
        self._httpd = self._make()
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True, name="chaos-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "ok": self.ok,
                "injected": dict(self.injected),
                "gateway_kinds": dict(self.gateway_kinds),
                "garbage_structured": self.garbage_structured,
                "garbage_plain": self.garbage_plain,
                "fallbacks_caused": self.fallbacks_caused,
                "outages": list(self.outages),
            }

    def arm_outage(self, seconds: float) -> None:
        """Begin an outage of `seconds` right after the next POST is answered (so it falls
        where the client is busy, whenever that is)."""
        with self.lock:
            self.config.outage_seconds = seconds
            self.config.outage_after = self.requests + 1

    def arm_outage_at_step(self, db: Path, step: int, seconds: float) -> threading.Event:
        """Watch a Smallville run's SQLite database and arm an outage once a run there has
        committed `step` steps. Set the returned event to stop watching."""
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                try:
                    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                        row = conn.execute("SELECT MAX(step) FROM reverie_simulation WHERE is_base = 0").fetchone()
                except sqlite3.Error:
                    row = None
                if row is not None and row[0] is not None and row[0] >= step:
                    self.arm_outage(seconds)
                    return
                time.sleep(0.05)

        threading.Thread(target=watch, daemon=True, name="chaos-outage-watch").start()
        return done

    def _outage(self) -> None:
        """Stop listening for outage_seconds: the port refuses connections, then serves again."""
        httpd = self._httpd
        assert httpd is not None
        began = time.time()
        httpd.shutdown()
        # Connections the kernel accepted but nobody served yet would be reset when the
        # socket closes: take them and close them, counted as dropped, so every fault
        # the client sees is one this server reports.
        httpd.socket.setblocking(False)
        while True:
            try:
                conn, _ = httpd.socket.accept()
            except (BlockingIOError, OSError):
                break
            conn.close()
            with self.lock:
                self.injected["drop"] += 1
                self.gateway_kinds["dropped"] += 1
        httpd.server_close()
        time.sleep(self.config.outage_seconds)
        if self._stopped:
            return
        self._httpd = self._make()
        with self.lock:
            self.outages.append({"began": began, "ended": time.time()})
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True, name="chaos-server")
        self._thread.start()

    # ------------------------------------------------------------ decisions
    def _rng_for(self, raw: bytes) -> tuple[random.Random, random.Random]:
        """Two generators for a request: faults seeded by the seed, the body and how often
        that body came before (a retry may fare differently); the answer by the seed and
        the body alone (the same question gets the same answer, as from a model at
        temperature 0). So a run gets the same faults and answers whatever order its
        concurrent requests arrive in, and a retried request is answered as it would
        have been without the fault."""
        with self.lock:
            digest = hashlib.sha256(raw).hexdigest()
            self._seen[digest] += 1
            seen = self._seen[digest]
        return random.Random(f"{self.config.seed}:{digest}:{seen}"), random.Random(f"{self.config.seed}:{digest}")

    def _decide(self, rng: random.Random) -> str:
        with self.lock:
            self.requests += 1
            if self.config.outage_after and self.requests == self.config.outage_after:
                threading.Thread(target=self._outage, daemon=True, name="chaos-outage").start()
        if rng.random() >= self.config.fault_rate:
            return "ok"
        names = [f for f in FAULTS if self.config.mix.get(f, 0) > 0]
        if not names:
            return "ok"
        return rng.choices(names, weights=[self.config.mix[f] for f in names])[0]

    def _count(self, fault: str, *, structured: bool, depth: int) -> None:
        with self.lock:
            if fault == "ok":
                self.ok += 1
                return
            self.injected[fault] += 1
            if fault in GATEWAY_KIND:
                self.gateway_kinds[GATEWAY_KIND[fault]] += 1
            elif structured:
                self.garbage_structured += 1
                if depth >= self.config.max_repairs:
                    self.fallbacks_caused += 1
            else:
                self.garbage_plain += 1

    def _garbage(self, structured: bool, rng: random.Random) -> str:
        with self.lock:
            self._serial += 1
            serial = self._serial
        words = " ".join(rng.choice(WORDS) for _ in range(6))
        return f"{words.capitalize()} (chaos-{'s' if structured else 'p'}{serial})."

    # ------------------------------------------------------------ HTTP
    def _make(self) -> ThreadingHTTPServer:
        chaos = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_PUT(self) -> None:
                if self.path.rstrip("/").endswith("/chaos/outage"):
                    seconds = float(self.headers.get("x-outage-seconds", chaos.config.outage_seconds or 10))
                    chaos.arm_outage(seconds)
                    self._send(200, json.dumps({"armed": seconds}).encode())
                else:
                    self._send(404, b'{"error": {"message": "no such endpoint"}}')

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/chaos/stats"):
                    self._send(200, json.dumps(chaos.stats()).encode())
                elif self.path.rstrip("/").endswith("/models"):
                    self._send(
                        200, json.dumps({"object": "list", "data": [{"id": "chaos", "object": "model"}]}).encode()
                    )
                else:
                    self._send(404, b'{"error": {"message": "no such endpoint"}}')

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.loads(raw or b"{}")
                rng, answer_rng = chaos._rng_for(raw)
                if chaos.config.delay:
                    time.sleep(chaos.config.delay)
                embeddings = self.path.endswith("/embeddings")
                chat = self.path.endswith("/chat/completions")
                schema = None if embeddings else _schema_of(body)
                depth = len(set(STRUCTURED_MARK.findall(json.dumps(body.get("messages") or body.get("prompt") or ""))))
                fault = chaos._decide(rng)
                if embeddings and fault in ("garbage", "null_content"):
                    fault = "ok"  # no such thing for an embeddings answer
                chaos._count(fault, structured=schema is not None, depth=depth)
                if fault in ("429", "500", "502", "503"):
                    self._status_fault(int(fault))
                    return
                if fault == "slow":
                    time.sleep(chaos.config.slow_seconds)
                if embeddings:
                    payload = self._embeddings(body, fault)
                else:
                    payload = self._completion(chat, schema, fault, answer_rng)
                data = json.dumps(payload).encode()
                if fault == "broken_json":
                    data = data[: max(1, len(data) // 2)]
                if fault == "drop":
                    self._drop(data)
                    return
                self._send(200, data)

            def _embeddings(self, body: dict[str, Any], fault: str) -> dict[str, Any]:
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [
                    {"object": "embedding", "index": i, "embedding": _vector(t, chaos.config.dim)}
                    for i, t in enumerate(texts)
                ]
                if fault == "empty_choices":
                    data = []
                return {"object": "list", "data": data, "model": "chaos", "usage": {"prompt_tokens": 1}}

            def _completion(
                self, chat: bool, schema: dict[str, Any] | None, fault: str, rng: random.Random
            ) -> dict[str, Any]:
                if fault == "garbage":
                    text: str | None = chaos._garbage(schema is not None, rng)
                elif fault == "null_content":
                    text = None
                elif schema is not None:
                    text = json.dumps(random_instance(schema, rng) if chaos.config.varied else instance_of(schema))
                else:
                    text = "A short plain answer about " + " ".join(rng.choice(ANSWER_WORDS) for _ in range(4)) + "."
                usage = {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112}
                if chat:
                    choice: dict[str, Any] = {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                    kind = "chat.completion"
                else:
                    choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
                    kind = "text_completion"
                choices = [] if fault == "empty_choices" else [choice]
                return {"id": "c", "object": kind, "created": 0, "model": "chaos", "choices": choices, "usage": usage}

            def _status_fault(self, code: int) -> None:
                reasons = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                           503: "Service Unavailable"}  # fmt: skip
                if code == 429:
                    data = b'{"error": {"message": "rate limit reached", "type": "rate_limit"}}'
                    self._send(429, data, {"Retry-After": f"{chaos.config.retry_after:g}"})
                    return
                page = HTML_PAGE.format(code=code, reason=reasons[code]).encode()
                self._send(code, page, content_type="text/html")

            def _drop(self, data: bytes) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            def _send(
                self,
                status: int,
                data: bytes,
                headers: dict[str, str] | None = None,
                content_type: str = "application/json",
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(data)))
                    self.send_header("connection", "close")
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a slow answer past its timeout)
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        httpd = _QuietServer(("127.0.0.1", self.port), Handler)
        httpd.daemon_threads = True
        return httpd


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a dropped or timed-out connection is the point here, not news


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8012)
    parser.add_argument("--fault-rate", type=float, default=0.4, help="share of POST requests that get a fault")
    parser.add_argument("--mix", default="", help="fault weights, e.g. 'garbage=2,500=1,drop=1' (default: all 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="delay of a slow answer (> LLM_TIMEOUT)")
    parser.add_argument("--retry-after", type=float, default=0.2, help="Retry-After of a 429, seconds")
    parser.add_argument("--outage-after", type=int, default=0, help="refuse connections after this many POSTs")
    parser.add_argument("--outage-seconds", type=float, default=10.0)
    parser.add_argument("--max-repairs", type=int, default=2, help="the gateway's repair budget (for fallbacks)")
    parser.add_argument("--delay", type=float, default=0.0, help="latency of every answer, seconds")
    args = parser.parse_args()
    config = ChaosConfig(
        fault_rate=args.fault_rate, mix=parse_mix(args.mix), seed=args.seed, slow_seconds=args.slow_seconds,
        retry_after=args.retry_after, outage_after=args.outage_after, outage_seconds=args.outage_seconds,
        max_repairs=args.max_repairs, delay=args.delay,
    )  # fmt: skip
    server = ChaosServer(args.port, config).start()
    print(f"chaos server on {server.base_url} ({args.fault_rate:.0%} faults, seed {args.seed})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print(json.dumps(server.stats(), indent=2))


if __name__ == "__main__":
    main()
