"""GSM8K: grade-school word problems whose answer is one number.

Data: JSONL with `question` and `answer`; the answer field is a worked solution that
ends in `#### N` (the dataset's format), and the gold number is what follows the last
`####` (a bare number is accepted as gold too).

Reading the model's final answer, first rule that finds a number wins:

1. the last `####` whose rest of line holds a number;
2. else the last `\\boxed{}` / `\\fbox{}` holding a number (nested braces counted);
3. else the last "the answer is ..." / "final answer: ..." / "answer = ..." statement
   holding a number (up to the end of its sentence or line).

Each rule reads the first number of its segment, or the one after the last `=` when
the segment is an equation (`answer.read_number`). There is deliberately no fourth rule
"the last number anywhere": RISE gives -1 to a completion with no readable answer, and
guessing one from the working would reward answers that never stated a result. Number
words ("twelve") are not read.

Rewards: 1 when the number equals the gold exactly (fractions.Fraction, so 2.50 == 2.5
and 3/4 == 0.75: the original cast to int, so every decimal answer failed), 0 when it
differs, -1 with a reason when no number could be read.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from training.envs.answers import SEGMENT_CHARS, boxed_groups, format_number, read_number
from training.envs.base import RIGHT, UNREADABLE, WRONG, BadData, Grade, Problem
from training.envs.data import SAMPLES, load_problems, prompt_text

_HASHES = re.compile(r"####")
_STATEMENT = re.compile(
    r"\b(?:final\s+answer|answer)\b[\s*_]*(?:is\b(?:\s+equal\s+to\b)?|:|=)[\s*_:]*",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"\s*[-−]?\s*[$€£¥₹]?\s*-?[\d.,/ ]+%?\s*")
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\n")


class Gsm8kEnv:
    name = "gsm8k"

    def sample_path(self) -> Path:
        return SAMPLES / "gsm8k_sample.jsonl"

    def load(self, path: str | Path | None, *, limit: int | None = None) -> list[Problem]:
        return load_problems(
            self.name,
            path,
            sample=self.sample_path(),
            required=("question", "answer"),
            to_problem=self._problem,
            hf_config=lambda name: "main" if name.split("/")[-1] == "gsm8k" else None,
            limit=limit,
        )

    def _problem(self, row: dict[str, Any], problem_id: str) -> Problem:
        self.gold_answer(row["answer"])  # fails here, with the line, if there is no `#### N`
        return Problem(id=problem_id, question=row["question"], gold=row["answer"])

    def question_prompt(self, problem: Problem) -> str:
        return prompt_text("gsm8k_question").replace("{question}", problem.question.strip())

    def feedback(self) -> str:
        return prompt_text("retry_feedback")

    def gold_answer(self, gold: str) -> str:
        return format_number(self._gold_number(gold))

    def _gold_number(self, gold: str) -> Fraction:
        if "####" in gold:
            value = read_number(_line_after(gold, gold.rindex("####") + 4))
        else:
            # A bare number as gold (`"18"`, `"$2.50"`), as a hand-written regrade file may have.
            value = read_number(gold) if _BARE_NUMBER.fullmatch(gold) else None
        if value is None:
            raise BadData(f"the gold answer has no '#### N' number: {_clip(gold)!r}")
        return value

    def grade(self, completion: str, gold: str) -> Grade:
        expected = self._gold_number(gold)
        value, reason = read_final_number(completion)
        if value is None:
            return Grade(UNREADABLE, None, reason)
        return Grade(RIGHT if value == expected else WRONG, format_number(value))

    def equivalent(self, a: str, b: str) -> bool:
        x, y = read_number(a), read_number(b)
        if x is not None and y is not None:
            return x == y
        return a.strip() == b.strip()


def read_final_number(completion: str) -> tuple[Fraction | None, str]:
    """The model's final number and "", or None and why none could be read."""
    seen: list[str] = []  # segments that had a marker but no number, for the reason

    hashes = list(_HASHES.finditer(completion))
    for m in reversed(hashes[-20:]):
        segment = _line_after(completion, m.end())
        value = read_number(segment)
        if value is not None:
            return value, ""
        seen.append(f"#### {_clip(segment)}")

    for group in reversed(boxed_groups(completion)):
        if group.content is None:
            seen.append("an unclosed \\boxed{")
            continue
        value = read_number(group.content)
        if value is not None:
            return value, ""
        seen.append(f"\\boxed{{{_clip(group.content)}}}")

    statements = list(_STATEMENT.finditer(completion))
    for m in reversed(statements[-20:]):
        rest = completion[m.end() : m.end() + SEGMENT_CHARS]
        end = _SENTENCE_END.search(rest)
        segment = rest[: end.start()] if end else rest
        value = read_number(segment)
        if value is not None:
            return value, ""
        seen.append(f"answer {_clip(segment)!r}")

    if seen:
        return None, f"no number in the final answer ({seen[0]})"
    return None, "no final answer: no '#### N', \\boxed{} or 'the answer is' statement"


def _line_after(text: str, start: int) -> str:
    """The rest of the line after `start` (or the next line when that rest is blank)."""
    rest = text[start : start + SEGMENT_CHARS]
    stripped = rest.lstrip(" \t")
    if stripped.startswith("\n"):
        stripped = stripped.lstrip()
    return stripped.split("\n", 1)[0]


def _clip(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
