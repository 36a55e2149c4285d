"""A scripted gateway for the writer engine: answers routed by what the prompt asks."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from llm.gateway import Gateway
from llm.tracing import MemoryRecorder
from tests.llm.fakes import FakeEmbedder, ScriptedBackend

# A phrase only that purpose's prompt files contain (instruction and continuation forms).
KEYS = {
    "writer.init": "plans a new novel",
    "writer.init_paragraph": ("Write paragraph", "\n\nChapter One\n\n", "\n\n第一章\n\n"),
    "writer.paragraph": "one paragraph at a time",
    "writer.memory": "short memory of the key facts",
    "writer.plans": "decides what could happen",
    "writer.choose": "picks the plan",
    "writer.refine": "rough plan",
    "writer.expand": "rewrites a paragraph",
}

Reply = str | Callable[[str], str]


class StoryScript:
    """Default answers that make a coherent little story; override any route.

    Paragraph n is "Paragraph n: ..." so tests can tell them apart; plans and memory
    facts are numbered too, so every text (and every embedding) is distinct."""

    def __init__(self, routes: dict[str, Reply] | None = None) -> None:
        self.counter = itertools.count(1)
        self.routes: dict[str, Reply] = {
            "writer.init": json.dumps({"title": "The Glass Harbour",
                                       "outline": "Mara, a diver, finds a sunken city that is still lit."}),
            "writer.init_paragraph": lambda p: f"Opening {next(self.counter)}: Mara dives into the cold bay.",
            "writer.paragraph": lambda p: f"Paragraph {next(self.counter)}: Mara swims toward the lights below.",
            "writer.memory": lambda p: json.dumps(
                {"summary": f"Mara swims on, event {next(self.counter)}.", "drop": [],
                 "add": [f"Fact number {next(self.counter)} about the city."]}),
            "writer.plans": lambda p: json.dumps(
                {"plans": [f"Plan {next(self.counter)}: Mara opens a gate." for _ in range(3)]}),
            "writer.choose": json.dumps({"choice": 2, "reason": "It raises the stakes."}),
            "writer.refine": json.dumps({"plan": "Mara opens the bronze gate at midnight."}),
            "writer.expand": lambda p: "Mara swims toward the lights below, slowly, her breath loud in her mask, "
            "the cold pressing on her ribs as the glowing towers rise out of the silt.",
        }  # fmt: skip
        self.routes.update(routes or {})

    def answer(self, payload: Any) -> str:
        text = payload if isinstance(payload, str) else str(payload)
        for purpose, keys in KEYS.items():
            if any(key in text for key in ((keys,) if isinstance(keys, str) else keys)):
                reply = self.routes.get(purpose, "garbage")
                return reply(text) if callable(reply) else reply
        return "garbage"


def scripted_gateway(script: StoryScript | Callable[[Any], str] | None = None, dim: int = 16) -> Gateway:
    answer = script.answer if isinstance(script, StoryScript) else script or StoryScript().answer
    return Gateway(
        ScriptedBackend(default=answer, concurrency=4),  # type: ignore[arg-type]
        recorder=MemoryRecorder(),
        embedder=FakeEmbedder(dim),
    )


def prompts_of(gw: Gateway, purpose: str) -> list[str]:
    return [t.prompt for t in gw.recorder.traces if t.purpose == purpose]  # type: ignore[attr-defined]


def encoded(gw: Gateway) -> list[str]:
    return gw.embedder.encoded  # type: ignore[attr-defined,no-any-return]
