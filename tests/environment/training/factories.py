"""Runs and items written straight into the database, with chosen rewards per turn, for
the results pages' tests (no model, no grader: the selectors read what is stored)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.utils import timezone

from training.models import RiseItem, RiseRun

RIGHT_ANSWER = "18"


def episode(pid: str, rewards: Sequence[int], answers: Sequence[str | None], *, question: str = "") -> dict[str, Any]:
    turns = len(rewards)
    return {
        "id": pid,
        "question": question or f"Question of {pid}: what is 9 + 9?",
        "gold": f"Nine and nine.\n#### {RIGHT_ANSWER}",
        "observations": ["prompt"] + ["Your answer is incorrect."] * max(0, turns - 1),
        "actions": [f"I think it is {a}.\n#### {a}" if a is not None else "no idea" for a in answers],
        "rewards": list(rewards),
        "answers": list(answers),
        "models": ["openai:student"] * turns,
        "samples": [
            [{"text": "x", "answer": a, "reward": r, "reason": ""}] for r, a in zip(rewards, answers, strict=True)
        ],
        "finished": turns > 0,
    }


def make_run(
    tmp: Path,
    plays: Sequence[tuple[Sequence[int], Sequence[str | None]]],
    *,
    max_turns: int = 3,
    name: str = "test run",
    finished: bool = False,
    metrics: dict[str, Any] | None = None,
) -> RiseRun:
    """A run whose item i played `plays[i]` = (rewards, answers); an empty play is unplayed."""
    run = RiseRun.objects.create(
        kind="eval",
        name=name,
        env="gsm8k",
        log_dir=str(tmp / f"run-{RiseRun.objects.count()}-{name[:10]}"),
        config={
            "kind": "eval",
            "env": "gsm8k",
            "data_path": "",
            "limit": len(plays),
            "rollout": {
                "mode": "eval",
                "max_turns": max_turns,
                "models": ["openai:student"],
                "num_of_samples": [1] * max_turns,
                "context_window": None,
                "temperature": None,
                "top_p": 1.0,
                "max_tokens": 512,
                "seed": 0,
            },
        },
        total=len(plays),
        finished_items=sum(1 for rewards, _ in plays if rewards),
        turns_played=sum(len(rewards) for rewards, _ in plays),
        metrics=metrics or {},
        finished=timezone.now() if finished else None,
    )
    items = []
    for i, (rewards, answers) in enumerate(plays):
        right = [t for t, r in enumerate(rewards) if r == 1]
        items.append(
            RiseItem(
                run=run,
                position=i,
                problem_id=f"gsm8k-{i}",
                episode=episode(f"gsm8k-{i}", rewards, answers),
                turns=len(rewards),
                finished=bool(rewards),
                solved=bool(rewards) and rewards[-1] == 1,
                first_right=right[0] + 1 if right else None,
            )
        )
    RiseItem.objects.bulk_create(items)
    return run


# Six problems over three turns, one of each kind the filters tell apart.
PLAYS: list[tuple[list[int], list[str | None]]] = [
    ([0, 1, 1], ["17", "18", "18"]),  # fixed at 2
    ([1, 0, 0], ["18", "19", "19"]),  # broke at 2
    ([0, 0, 0], ["5", "6", "6"]),  # never; still wrong at 2, same answer at 3
    ([1, 1, 1], ["18", "18", "18"]),  # right throughout
    ([0, -1, 1], ["17", None, "18"]),  # fixed at 3 (an unreadable turn 2 counts as wrong)
    ([], []),  # not played yet
]

METRICS = {
    "problems": 5, "turns": 3, "samples_at_t1": 1,
    "accuracy": [0.4, 0.4, 0.6], "m1": [0.4, 0.4, 0.4], "p1": [0.4, 0.6, 0.8],
    "mn_t1": None, "pn_t1": None, "unreadable": [0, 1, 0], "fixed": [0, 1, 1], "broke": [0, 1, 0],
    "headline": {"m1@t1": 0.4, "m1@t3": 0.4, "p1@t3": 0.8},
}  # fmt: skip
