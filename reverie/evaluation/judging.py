"""Judging interview answers: does an answer show a fact, and is that knowledge real?

Algorithm (the paper's, section 7.1): an agent is interviewed with a probe question
("Do you know of a Valentine's Day party?"); a judge model reads the answer and the
fact and returns a structured verdict {"aware": yes/no, "evidence": a quote from the
answer}. A "yes" counts only when the agent could know: some memory of the agent (or
its identity, for the agent the fact was seeded in) mentions the fact, by the
scenario's keywords as whole words. A "yes" with no such memory is a hallucination,
counted apart and not as awareness, as the paper reported its 1.3%.

The judge runs at temperature 0 with a small token budget whatever the agents' preset
(`JUDGE` below): the judge is the measuring instrument, not part of the architecture,
so it must not change between presets. A judge reply that cannot be understood after
the gateway's repairs falls back to "not aware" (counted under purpose `eval.judge`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from reverie.engine.ports import ModelGateway
from reverie.engine.prompting import prompt
from reverie.evaluation.schemas import Judgement, Preference

JUDGE_PURPOSE = "eval.judge"
COMPARE_PURPOSE = "eval.compare"
JUDGE = {"max_tokens": 120, "temperature": 0.0}
COMPARE = {"max_tokens": 200, "temperature": 0.0}


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """Whole words in any case ("party" matches "Party!", not "partying")."""
    words = [k.strip() for k in keywords if k and k.strip()]
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


def mentions(texts: Iterable[str], keywords: Iterable[str]) -> bool:
    """True when any text mentions any keyword (whole words, any case)."""
    pattern = keyword_pattern(keywords)
    return pattern is not None and any(pattern.search(t) for t in texts)


@dataclass(frozen=True)
class Verdict:
    """One judged answer. `aware` is the judge's claim; `backed` whether a memory
    supports it; a claim without support is a hallucination and does not count."""

    aware: bool
    evidence: str
    backed: bool
    judged: bool = True  # False: the judge's reply could not be understood (fallback)

    @property
    def counts(self) -> bool:
        return self.aware and self.backed

    @property
    def hallucinated(self) -> bool:
        return self.aware and not self.backed

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "counts": self.counts, "hallucinated": self.hallucinated}


def classify(aware: bool, evidence: str, *, backed: bool, judged: bool = True) -> Verdict:
    """The hallucination rule: a yes without a backing memory is a hallucination."""
    return Verdict(aware=aware, evidence=evidence.strip() if aware else "", backed=backed, judged=judged)


async def judge(gw: ModelGateway, *, fact: str, speaker: str, question: str, answer: str, backed: bool) -> Verdict:
    """Ask the judge whether `answer` shows `fact`; apply the hallucination rule."""
    result = await gw.astructured(
        Judgement,
        prompt=prompt(
            "eval_judge", fact=fact, speaker=speaker, question=question.replace('"', "'"),
            answer=answer.replace('"', "'"), example_quote=_example_quote(answer),
        ),
        fallback=Judgement(aware=False, evidence=""),
        purpose=JUDGE_PURPOSE,
        **JUDGE,
    )  # fmt: skip
    value = result.value
    return classify(bool(value.aware), str(value.evidence), backed=backed, judged=bool(result.ok))


def _example_quote(answer: str) -> str:
    """A few words of the answer itself, so the example shows a real quote's shape."""
    words = answer.replace('"', "'").split()
    return " ".join(words[:6]) or "..."


async def compare(
    gw: ModelGateway, *, identity: str, question: str, answer_a: str, answer_b: str
) -> tuple[str, str, bool]:
    """Which of two answers is more believable: ("A" | "B" | "tie", reason, judged)."""
    result = await gw.astructured(
        Preference,
        prompt=prompt(
            "eval_compare", identity=identity, question=question.replace('"', "'"),
            answer_a=answer_a.replace('"', "'"), answer_b=answer_b.replace('"', "'"),
            example_reason="it names a specific plan and sounds like them", example_better="B",
        ),
        fallback=Preference(reason="", better="tie"),
        purpose=COMPARE_PURPOSE,
        **COMPARE,
    )  # fmt: skip
    return result.value.better, result.value.reason, bool(result.ok)


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0
