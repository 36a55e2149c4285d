"""Scripted actors and reflectors for the Retroformer engine's tests.

A scripted model is a ScriptedBackend (tests/llm/fakes.py) whose answer is a function
of the prompt, behind a real Gateway (no response cache, so every call reaches it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from llm.gateway import Gateway
from llm.types import GenParams, Message
from tests.llm.fakes import ScriptedBackend
from tests.training.retroformer.toy_env import COLOURS, SOLUTIONS

MEMORY = "Your memory from earlier attempts"


class BatchingBackend(ScriptedBackend):
    """Batches natively and renders chats itself, as the transformers backend does."""

    def render_chat(self, messages: list[Message], params: GenParams) -> tuple[str, GenParams]:
        return "\n".join(f"{m['role']}: {m['content']}" for m in messages), params


def text_of(payload: Any) -> str:
    return payload[-1]["content"] if isinstance(payload, list) else str(payload)


def task_of(payload: Any) -> str:
    found = re.search(r"Task (toy-\d+):", text_of(payload))
    assert found, "no toy task in the prompt"
    return found.group(1)


def trajectory_of(payload: Any) -> str:
    return text_of(payload).split("Your task so far:", 1)[1].split("Write your next step", 1)[0]


def moves_so_far(payload: Any) -> int:
    return trajectory_of(payload).count("\nAction: ")


def lamps_lit(payload: Any) -> int:
    """How many lamps the last observation left lit (0 at the start and after a wrong press)."""
    found = re.findall(r"Observation: (?:Lamp (\d+) lights up|Wrong button)", trajectory_of(payload))
    return int(found[-1]) if found and found[-1] else 0


def right_move(payload: Any) -> str:
    return SOLUTIONS[task_of(payload)][lamps_lit(payload)]


def wrong_move(payload: Any) -> str:
    right = right_move(payload)
    return next(f"press {c}" for c in COLOURS if f"press {c}" != right)


def solver(payload: Any) -> str:
    return f"Thought: the next lamp.\nAction: {right_move(payload)}"


def learner(payload: Any) -> str:
    """Presses wrong buttons until it has a memory; then it plays the solution."""
    if MEMORY in text_of(payload):
        return solver(payload)
    return f"Thought: guess.\nAction: {wrong_move(payload)}"


def scripted(answer: Callable[[Any], str], **kwargs: Any) -> ScriptedBackend:
    backend_cls = BatchingBackend if kwargs.get("native_batch") else ScriptedBackend
    backend = backend_cls(default="", **kwargs)
    backend._next = answer  # type: ignore[method-assign,assignment]
    return backend


def gateway(backend: ScriptedBackend, **kwargs: Any) -> Gateway:
    return Gateway(backend, cache_policy="off", retry_budget=0, **kwargs)


def calls_for(backend: ScriptedBackend, task_id: str) -> list[str]:
    return [text_of(c["payload"]) for c in backend.calls if f"Task {task_id}:" in text_of(c["payload"])]
