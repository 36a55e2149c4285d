"""Tiny reflection-rewards data for the training tests: two tasks of four trials each
(three reflections per task, in the format retroformer_collect writes) and one task
whose reflections never changed anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SYSTEM = "You diagnose why a trial failed and write a short plan for the next one."


def prompt(question: str, trajectory: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Question: {question}\n{trajectory}\nReflection:"},
    ]


def row(task: str, trial: int, before: float, after: float, reflection: str, **extra: Any) -> dict[str, Any]:
    return {
        "env": "hotpotqa",
        "task_id": task,
        "trial": trial,
        "prompt": prompt(f"question of {task}", f"Action: Search[{task} {trial}]\nObservation: nothing."),
        "reflection": reflection,
        "return_before": before,
        "return_after": after,
        "reward": after - before,
        **extra,
    }


ROWS = [
    row("hotpotqa-1", 0, 0.0, 0.0, "I searched too broadly. Next time search the exact name."),
    row("hotpotqa-1", 1, 0.0, 1.0, "I gave up early. Next time look up the year first."),
    row("hotpotqa-2", 0, 0.0, 1.0, "I answered with the wrong person. Check both names."),
    row("hotpotqa-2", 1, 1.0, 0.0, "Bad plan."),
    row("hotpotqa-3", 0, 0.0, 0.0, "Nothing helped."),
    row("hotpotqa-3", 1, 0.0, 0.0, "Still nothing."),
]


def write_rows(path: Path, rows: list[dict[str, Any]] | None = None) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in (ROWS if rows is None else rows)), encoding="utf-8")
    return path
