"""The believability interview (the paper's section 6) and its ablations.

Each agent is asked 25 questions, five in each of the paper's categories
(self-knowledge, memory, plans, reactions, reflections; the wording is this project's,
in questions.yaml), once under each of the paper's conditions:

    full                        the whole architecture
    no_reflection               reflections are not recalled
    no_reflection_no_planning   ... nor plans
    no_memory                   no observations, reflections or plans: identity only

The conditions are `AgentConfig.with_ablation(name)`, passed to the interview; its
retrieval leaves out what the ablation switches off (reverie.engine.interview.
recall_filter), so an ablated agent really answers without those memories. Answers are saved for people to rank; with
`--judge`, a judge model compares the conditions' answers pairwise per question and
TrueSkill (evaluation.trueskill) ranks the conditions, as the paper ranked them from
people's rankings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from reverie.engine.config import ABLATIONS
from reverie.evaluation import trueskill

CATEGORIES = ("self_knowledge", "memory", "plans", "reactions", "reflections")
QUESTIONS_FILE = Path(__file__).resolve().parent / "questions.yaml"
# The paper's TrueSkill means (Figure 8) for comparison: full architecture first.
PAPER_MU = {"full": 29.89, "no_reflection": 26.88, "no_reflection_no_planning": 25.64, "no_memory": 21.21}


@dataclass(frozen=True)
class Question:
    category: str
    number: int  # 1-5 within its category
    text: str

    @property
    def key(self) -> str:
        return f"{self.category}.{self.number}"


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = [c for c in CATEGORIES if c not in data]
    if missing:
        raise ValueError(f"{path}: missing categories {', '.join(missing)}")
    return [Question(c, i, str(text)) for c in CATEGORIES for i, text in enumerate(data[c], start=1)]


def fill(question: Question, fields: Mapping[str, str]) -> str:
    return question.text.format_map(dict(fields))


def pairs(conditions: Sequence[str] = ABLATIONS) -> list[tuple[str, str]]:
    """Every unordered pair of conditions (6 for the paper's 4)."""
    return list(combinations(conditions, 2))


def standings(ratings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Conditions best first, with mu, sigma and the paper's mu beside them."""
    rows = [
        {"condition": c, "mu": round(r.mu, 2), "sigma": round(r.sigma, 2), "paper_mu": PAPER_MU.get(c)}
        for c, r in ratings.items()
    ]
    return sorted(rows, key=lambda row: -row["mu"])


def trueskill_rank(matches: Sequence[tuple[str, str, str]]) -> dict[str, trueskill.Rating]:
    """TrueSkill ratings of the paper's conditions from (a, b, "A" | "B" | "tie") verdicts."""
    return trueskill.rank(list(ABLATIONS), list(matches))
