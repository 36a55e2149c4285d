"""Scripted HotPotQA actor and reflector gateways (no model): the actor answers wrong
until its prompt holds a memory of an earlier attempt, then gives the gold answer."""

from __future__ import annotations

import re
import threading
from typing import Any

from llm.gateway import Gateway
from tests.llm.fakes import ScriptedBackend
from training.envs import get_text_env

MEMORY = "Your memory from earlier attempts"
REFLECTION = "I answered without searching. Next time search the band first, then its singer."


def _text(payload: Any) -> str:
    return payload[-1]["content"] if isinstance(payload, list) else str(payload)


class Counting(ScriptedBackend):
    def __init__(self, answer: Any) -> None:
        super().__init__(default="")
        self.answer = answer
        self.asked = 0
        self._count = threading.Lock()

    def _next(self, payload: Any) -> str:
        with self._count:
            self.asked += 1
        return str(self.answer(payload))


def gold_answers() -> dict[str, str]:
    return {t.data["question"]: t.data["answer"] for t in get_text_env("hotpotqa").load(None)}


def learner_actor(*, always_wrong: frozenset[str] = frozenset(), always_right: frozenset[str] = frozenset()) -> Gateway:
    """Right once it remembers an attempt, except on the questions in `always_wrong`;
    right at once on those in `always_right`."""
    gold = gold_answers()

    def answer(payload: Any) -> str:
        text = _text(payload)
        task = text.split("Your task so far:", 1)[1]
        question = re.search(r"Question: (.+)", task)
        assert question, "no question in the actor's trajectory"
        q = question.group(1).strip()
        if (MEMORY in text and q not in always_wrong) or q in always_right:
            return f"Thought: I remember.\nAction: Finish[{gold[q]}]"
        return "Thought: I guess.\nAction: Finish[Nobody Knows]"

    return Gateway(Counting(answer), cache_policy="off", retry_budget=0)


def reflector(text: str = REFLECTION) -> Gateway:
    return Gateway(Counting(lambda _payload: text), cache_policy="off", retry_budget=0)


def asked(gateway: Gateway) -> int:
    backend = gateway.backend
    assert isinstance(backend, Counting)
    return backend.asked
