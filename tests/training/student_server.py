"""An OpenAI-compatible "student" for RISE tests: wrong at turn 1, right once told so.

It knows each question's right answer (given at start) and answers a chat by the turn
it is at (1 + the assistant messages in the conversation): turn 1 gets the right
answer plus one, later turns the right answer, both ending in `#### N` (GSM8K style)
or `\\boxed{N}` (style="boxed"). With n > 1 samples, odd-numbered samples stay wrong.
Every request is recorded (question, turn), so tests can tell what was asked again
after a resume. `delay` slows every answer so a test can kill a run mid-way.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StudentServer:
    def __init__(self, answers: dict[str, str], *, delay: float = 0.0, style: str = "hashes") -> None:
        self.answers = answers  # question text -> right answer (a number)
        self.delay = delay
        self.style = style
        self.requests: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._server = self._make()
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def where(self, messages: list[dict[str, Any]]) -> tuple[str, int]:
        """The question a conversation is about, and the turn it is at."""
        first = str(messages[0]["content"]) if messages else ""
        turn = 1 + sum(1 for m in messages if m.get("role") == "assistant")
        return next((q for q in self.answers if q in first), ""), turn

    def answer(self, messages: list[dict[str, Any]], sample: int) -> str:
        question, turn = self.where(messages)
        right = self.answers.get(question, "0")
        wrong = str(int(right) + 1) if right.lstrip("-").isdigit() else right + "1"
        value = right if turn > 1 and sample % 2 == 0 else wrong
        final = f"\\boxed{{{value}}}" if self.style == "boxed" else f"#### {value}"
        return f"Working it out step by step, the result is {value}.\n{final}"

    def _make(self) -> ThreadingHTTPServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._send({"object": "list", "data": [{"id": "student", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                if owner.delay:
                    time.sleep(owner.delay)
                messages = body.get("messages") or [{"role": "user", "content": body.get("prompt", "")}]
                n = int(body.get("n") or 1)
                with owner._lock:
                    owner.requests.append(owner.where(messages))
                texts = [owner.answer(messages, i) for i in range(n)]
                usage = {"prompt_tokens": 50 * n, "completion_tokens": 12 * n, "total_tokens": 62 * n}
                if self.path.endswith("/chat/completions"):
                    choices = [
                        {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
                        for i, t in enumerate(texts)
                    ]
                    self._send({"id": "c", "object": "chat.completion", "created": 0, "model": "student",
                                "choices": choices, "usage": usage})  # fmt: skip
                else:
                    choices = [
                        {"index": i, "text": t, "finish_reason": "stop", "logprobs": None} for i, t in enumerate(texts)
                    ]
                    self._send({"id": "c", "object": "text_completion", "created": 0, "model": "student",
                                "choices": choices, "usage": usage})  # fmt: skip

            def _send(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        return server


def gsm8k_answers() -> dict[str, str]:
    """Every GSM8K sample question with its right answer."""
    from training.envs import get_env

    env = get_env("gsm8k")
    return {p.question: env.gold_answer(p.gold) for p in env.load(None)}


@contextmanager
def gsm8k_student(settings: Any, *, delay: float = 0.0) -> Iterator[StudentServer]:
    """A student for the GSM8K sample set, made the project's model (`openai:student`,
    no response cache) through pytest-django's `settings`."""
    from environment.gateway import reset_gateway

    server = StudentServer(gsm8k_answers(), delay=delay)
    settings.LLM_BASE_URL, settings.LLM_API_KEY = server.base_url, "test"
    settings.LLM_MODEL, settings.LLM_CACHE = "openai:student", "off"
    reset_gateway()
    try:
        yield server
    finally:
        server.stop()
