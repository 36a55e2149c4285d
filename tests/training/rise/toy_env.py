"""A tiny environment for the engine's unit tests: the answer is the number after ####."""

from __future__ import annotations

import re
from pathlib import Path

from training.envs.base import Grade, Problem

FEEDBACK = "Your answer is incorrect. Please try again."


class ToyEnv:
    name = "toy"

    def sample_path(self) -> Path:
        return Path("/nonexistent")

    def load(self, path: str | Path | None, *, limit: int | None = None) -> list[Problem]:
        problems = [Problem(id=f"toy-{i}", question=f"What is {i} + {i}?", gold=f"#### {2 * i}") for i in range(1, 6)]
        return problems[:limit] if limit else problems

    def question_prompt(self, problem: Problem) -> str:
        return f"{problem.question}\nEnd with #### N."

    def feedback(self) -> str:
        return FEEDBACK

    def gold_answer(self, gold: str) -> str:
        return gold.split("####")[-1].strip()

    def grade(self, completion: str, gold: str) -> Grade:
        found = re.findall(r"####\s*(-?\d+)", completion)
        if not found:
            return Grade(-1, None, "no #### answer")
        return Grade(1 if found[-1] == self.gold_answer(gold) else 0, found[-1])

    def equivalent(self, a: str, b: str) -> bool:
        return a.strip() == b.strip()
