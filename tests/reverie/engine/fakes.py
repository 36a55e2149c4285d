"""A gateway whose scripted backend answers by matching the prompt (for engine unit tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llm.gateway import Gateway
from llm.tracing import MemoryRecorder
from tests.llm.fakes import FakeEmbedder, ScriptedBackend


def routed_gateway(
    routes: dict[str, str | Callable[[str], str]], default: str = "nonsense", dim: int = 384, delay: float = 0.0
) -> Gateway:
    """Answer with the first route whose key appears in the prompt; `default` otherwise
    (each answer after `delay` seconds, like a server's latency)."""

    def answer(payload: Any) -> str:
        text = payload if isinstance(payload, str) else str(payload)
        for key, reply in routes.items():
            if key in text:
                return reply(text) if callable(reply) else reply
        return default

    return Gateway(
        ScriptedBackend(default=answer, concurrency=8, delay=delay),  # type: ignore[arg-type]
        recorder=MemoryRecorder(),
        embedder=FakeEmbedder(dim),  # the vector store's VECTOR_DIM
    )
