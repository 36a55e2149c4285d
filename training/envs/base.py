"""What every RISE environment offers: problems, a prompt, feedback and a grader.

An environment is data plus a grader, with no model and no database:

    env = get_env("gsm8k")
    problems = env.load(None, limit=10)        # the sample set shipped with the project
    g = env.grade(completion, problems[0].gold)
    g.reward, g.answer, g.reason               # 1 / 0 / -1, the extracted answer, why none

Rewards follow RISE: 1 right, 0 wrong, -1 when no answer can be read from the
completion. `gold` is the dataset's answer field exactly as it comes (GSM8K's whole
solution ending in `#### N`, MATH's solution with `\\boxed{}`), so saved logs can be
re-graded after a grader change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

RIGHT, WRONG, UNREADABLE = 1, 0, -1


class BadData(ValueError):
    """A data file that cannot be read; the message names the file and the line."""


class UnknownEnv(ValueError):
    """An --env that is not one of ENV_NAMES."""


@dataclass(frozen=True)
class Problem:
    id: str  # stable across runs: "<env>-<line number>" for files, the dataset's index otherwise
    question: str
    gold: str  # the dataset's answer field, as it comes
    meta: dict[str, Any] = field(default_factory=dict)  # MATH: level, type


@dataclass(frozen=True)
class Grade:
    reward: int  # RIGHT, WRONG or UNREADABLE
    answer: str | None  # the final answer read from the completion, normalised for display and voting
    reason: str = ""  # why no answer could be read (reward -1), else ""


class Env(Protocol):
    name: str

    def sample_path(self) -> Path:
        """The sample set shipped with the project (the default --data_path)."""

    def load(self, path: str | Path | None, *, limit: int | None = None) -> list[Problem]:
        """Problems from a JSONL file, a Hugging Face dataset id (online), or the sample set."""

    def question_prompt(self, problem: Problem) -> str:
        """The first user message of an episode: the problem and how to state the answer."""

    def feedback(self) -> str:
        """The user message after a wrong answer: says only that it was wrong, and asks again."""

    def grade(self, completion: str, gold: str) -> Grade:
        """Read the final answer from a completion and compare it with the gold field."""

    def gold_answer(self, gold: str) -> str:
        """The final answer inside the dataset's answer field."""

    def equivalent(self, a: str, b: str) -> bool:
        """Whether two extracted answers are the same answer (majority voting groups by this)."""
