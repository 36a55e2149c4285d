"""Test doubles for the gateway's unit tests: a backend that plays a script."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from llm.backends.base import Backend
from llm.types import Generation, GenParams, Message

Step = str | Exception | Callable[[Any], str]


class ScriptedBackend(Backend):
    """Answers each call with the next scripted step (text, exception, or a function
    of the prompt). Records every call and the peak number running at once."""

    kind = "scripted"
    model_id = "script"

    def __init__(
        self,
        script: list[Step] | None = None,
        *,
        default: str = "ok",
        delay: float = 0.0,
        concurrency: int = 4,
        native_batch: bool = False,
    ) -> None:
        self.script = list(script or [])
        self.default = default
        self.delay = delay
        self.default_concurrency = concurrency
        self.native_batch = native_batch
        self.calls: list[dict[str, Any]] = []
        self.batches: list[list[str]] = []
        self._lock = threading.Lock()
        self._running = 0
        self.peak = 0

    def _next(self, payload: Any) -> str:
        with self._lock:
            step = self.script.pop(0) if self.script else self.default
        if isinstance(step, Exception):
            raise step
        if callable(step):
            return step(payload)
        return step

    def _answer(self, payload: Any, params: GenParams, n: int, schema: Any, timeout: float) -> list[Generation]:
        with self._lock:
            self._running += 1
            self.peak = max(self.peak, self._running)
            self.calls.append({"payload": payload, "params": params, "n": n, "schema": schema, "timeout": timeout})
        try:
            if self.delay:
                time.sleep(self.delay)
            return [Generation(text=self._next(payload), prompt_tokens=10, completion_tokens=5) for _ in range(n)]
        finally:
            with self._lock:
                self._running -= 1

    def complete(self, prompt: str, *, params: GenParams, n: int, schema: Any, timeout: float) -> list[Generation]:
        return self._answer(prompt, params, n, schema, timeout)

    def chat(
        self, messages: list[Message], *, params: GenParams, n: int, schema: Any, timeout: float
    ) -> list[Generation]:
        return self._answer(messages, params, n, schema, timeout)

    def complete_batch(
        self, prompts: list[str], *, params: GenParams, n: int, schema: Any, timeout: float
    ) -> list[list[Generation]]:
        self.batches.append(list(prompts))
        return [self._answer(p, params, n, schema, timeout) for p in prompts]

    # Streaming: the scripted answer word by word, `piece_delay` seconds apart; a
    # MidStream step fails after some pieces. `closed` counts streams stopped early.
    piece_delay = 0.0
    closed = 0

    def stream(self, kind: str, payload: Any, *, params: GenParams, timeout: float) -> Any:
        with self._lock:
            self.calls.append({"payload": payload, "params": params, "n": 1, "schema": None, "timeout": timeout})
            step = self.script.pop(0) if self.script else self.default
        if isinstance(step, Exception):
            raise step
        fail: MidStream | None = step if isinstance(step, MidStream) else None
        text = fail.text if fail else step(payload) if callable(step) else step
        pieces = [w + " " for w in text.split(" ")]
        pieces[-1] = pieces[-1][:-1]
        done = 0
        try:
            for piece in pieces:
                if fail is not None and done == fail.after:
                    raise fail.error
                if self.piece_delay:
                    time.sleep(self.piece_delay)
                yield piece
                done += 1
        except GeneratorExit:
            self.closed += 1
            raise
        return Generation(text=text, prompt_tokens=10, completion_tokens=len(pieces))


class MidStream:
    """A streamed answer that fails with `error` after `after` pieces."""

    def __init__(self, text: str, after: int, error: Exception) -> None:
        self.text, self.after, self.error = text, after, error


class FakeEmbedder:
    """Deterministic vectors (8 dims by default) from character counts; records what it encoded."""

    model_id = "fake-embed"
    remote = False

    def __init__(self, dim: int = 8) -> None:
        self.dim = dim
        self.encoded: list[str] = []

    def encode(self, texts: list[str], *, timeout: float) -> Any:
        import numpy as np

        self.encoded.extend(texts)
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for ch in text:
                rows[i, ord(ch) % self.dim] += 1.0
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.maximum(norms, 1e-12)
