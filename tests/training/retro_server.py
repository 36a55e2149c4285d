"""An OpenAI-compatible HotPotQA player for Retroformer tests: the actor and the reflector.

It serves both roles (tell them apart by the prompt: the reflector's starts "You are
reviewing an attempt"). The actor plays the offline sample set:

- "learner" (default): each step it first searches the question's first supporting
  paragraph, then answers. Question i (0-based, in the sample file's order) needs
  `i % 3` reflections in its memory before the answer is right; with fewer it answers
  "Nobody Knows". So trial 1 wins a third of the questions, trial 2 two thirds, trial 3
  all of them, and the success table rises by trial.
- "silent": never writes an Action line (every step is invalid).
- "huge": a 100 KB answer inside Finish[...].

Every request is recorded as (role, question, memories, actions so far) for the actor
and ("reflect", question, the trial reflected on (1-based), 0) for the reflector, so
tests can tell what was asked again after a resume. `delay` slows every answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.training.student_server import StudentServer

REFLECTION = "Diagnosis: I answered before I had the evidence.\nPlan: read the second paragraph too, then answer."
WRONG = "Nobody Knows"
REVIEWING = "You are reviewing an attempt"


def sample_tasks() -> list[Any]:
    from training.envs import get_text_env

    return get_text_env("hotpotqa").load(None)


class HotpotServer(StudentServer):
    def __init__(self, *, mode: str = "learner", delay: float = 0.0) -> None:
        tasks = sample_tasks()
        self.mode = mode
        self.needs = {t.data["question"]: i % 3 for i, t in enumerate(tasks)}
        self.titles = {t.data["question"]: t.data["supporting_facts"][0][0] for t in tasks}
        super().__init__({t.data["question"]: t.data["answer"] for t in tasks}, delay=delay)

    def where(self, messages: list[dict[str, Any]]) -> Any:  # type: ignore[override]
        """(role, question, memories in the prompt, actions so far) of one request."""
        text = str(messages[-1]["content"]) if messages else ""
        if text.startswith(REVIEWING):
            goal = re.search(r"The task: (.+)", text)
            trial = re.search(r"The attempt \(trial (\d+)\)", text)
            return ("reflect", goal.group(1).strip() if goal else "", int(trial.group(1)) if trial else 0, 0)
        mine = text.split("Your task so far:", 1)[-1].split("Write your next step", 1)[0]
        question = re.search(r"Question: (.+)", mine)
        memories = text.split("Now it is your turn", 1)[0].count("\n- Attempt ")
        return ("act", question.group(1).strip() if question else "", memories, mine.count("\nAction: "))

    def answer(self, messages: list[dict[str, Any]], sample: int) -> str:
        role, question, memories, steps = self.where(messages)
        if role == "reflect":
            return REFLECTION
        if self.mode == "silent":
            return "I am not sure what to do here."
        if self.mode == "huge":
            return "Thought: here is everything.\nAction: Finish[" + "very long answer " * 6_000 + "]"
        if steps == 0:
            return f"Thought: I should read about it first.\nAction: Search[{self.titles.get(question, question)}]"
        if memories >= self.needs.get(question, 0):
            return f"Thought: I know it now.\nAction: Finish[{self.answers.get(question, WRONG)}]"
        return f"Thought: I will guess.\nAction: Finish[{WRONG}]"

    def asked(self, role: str = "act") -> list[str]:
        return [r[1] for r in self.requests if r[0] == role]  # type: ignore[index, misc]


@contextmanager
def hotpot_server(settings: Any, *, mode: str = "learner", delay: float = 0.0) -> Iterator[HotpotServer]:
    """The server as the project's model server (`openai:actor`, `openai:reflector`, no
    response cache) through pytest-django's `settings`."""
    from environment.gateway import reset_gateway

    server = HotpotServer(mode=mode, delay=delay)
    settings.LLM_BASE_URL, settings.LLM_API_KEY = server.base_url, "test"
    settings.LLM_MODEL, settings.LLM_CACHE = "openai:actor", "off"
    reset_gateway()
    try:
        yield server
    finally:
        server.stop()
