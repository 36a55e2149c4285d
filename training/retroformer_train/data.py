"""The reflection-rewards file and the training sets made from it.

`retroformer_collect` writes one JSON object per line, one per reflection (the loop's
record, docs/retroformer.md):

    {"env": "hotpotqa", "task_id": "hotpotqa-3", "trial": 0,
     "prompt": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."}],
     "reflection": "I searched for the wrong ...", "return_before": 0.0,
     "return_after": 1.0, "reward": 1.0}

`prompt` is the reflector's whole prompt for trial `trial` as chat messages (what the
reflector model was sent), `reflection` what it wrote, `return_before` the return of
trial k, `return_after` the return of trial k+1 (played with this reflection in the
actor's prompt), and `reward` their difference. `read_reflections` checks every line
and raises BadData naming the file and the line for the first bad one.

What each trainer takes from it:
- SFT: the rows whose reward is above `min_reward` (the reflections that helped).
- Reward model: rated pairs (`form_pairs`): two reflections of the same task with
  different rewards, the higher one "chosen". Pairs come from the same trial index
  when the task has such reflections (two collect runs, or several samples per trial),
  which share the trial being diagnosed; a task without any falls back to pairs across
  its trials (one collect run writes one reflection per failed trial, so this is the
  usual case). Reflections of different tasks are never paired: their rewards depend on
  how hard the task is, not only on the reflection.
- Policy: every distinct prompt, with what is needed to play the next trial (the
  earlier reflections of the same task, from the rows of lower trial index).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from llm.types import Message
from training.envs.base import BadData

ROLES = ("system", "user", "assistant")
FIELDS = ("env", "task_id", "trial", "prompt", "reflection", "return_before", "return_after", "reward")
REWARD_TOLERANCE = 1e-6  # reward must be return_after - return_before up to float rounding


@dataclass(frozen=True)
class ReflectionRow:
    """One line of the file, checked."""

    env: str
    task_id: str
    trial: int  # 0-based index of the failed trial the reflection was written after
    prompt: tuple[Message, ...]
    reflection: str
    return_before: float
    return_after: float
    reward: float
    line: int = 0  # 1-based line in the file, for messages

    @property
    def task_key(self) -> tuple[str, str]:
        return (self.env, self.task_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "task_id": self.task_id,
            "trial": self.trial,
            "prompt": [dict(m) for m in self.prompt],
            "reflection": self.reflection,
            "return_before": self.return_before,
            "return_after": self.return_after,
            "reward": self.reward,
        }


@dataclass(frozen=True)
class Pair:
    """Two rated reflections of the same task: `chosen` earned the higher reward."""

    chosen: ReflectionRow
    rejected: ReflectionRow
    same_trial: bool

    @property
    def margin(self) -> float:
        return self.chosen.reward - self.rejected.reward


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name!r} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name!r} must be finite, got {value}")
    return float(value)


def _messages(value: Any) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("'prompt' must be a non-empty list of chat messages")
    messages: list[Message] = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            raise ValueError(f"'prompt' message {i + 1} must be an object with string 'role' and 'content'")
        if m["role"] not in ROLES:
            raise ValueError(f"'prompt' message {i + 1} has role {m['role']!r}; use one of {', '.join(ROLES)}")
        messages.append({"role": m["role"], "content": m["content"]})
    if messages[-1]["role"] == "assistant":
        raise ValueError("'prompt' must end with a system or user message (the reflection answers it)")
    return tuple(messages)


def parse_row(item: Any, *, line: int = 0) -> ReflectionRow:
    """A checked row from one decoded JSON line; ValueError says what is wrong."""
    if not isinstance(item, dict):
        raise ValueError(f"expected a JSON object, got {type(item).__name__}")
    missing = [name for name in FIELDS if name not in item]
    if missing:
        raise ValueError(f"missing {', '.join(repr(m) for m in missing)}")
    for name in ("env", "task_id", "reflection"):
        if not isinstance(item[name], str):
            raise ValueError(f"{name!r} must be a string, got {type(item[name]).__name__}")
    if not item["env"] or not item["task_id"]:
        raise ValueError("'env' and 'task_id' must not be empty")
    trial = item["trial"]
    if isinstance(trial, bool) or not isinstance(trial, int) or trial < 0:
        raise ValueError(f"'trial' must be a whole number >= 0, got {trial!r}")
    before = _number(item["return_before"], "return_before")
    after = _number(item["return_after"], "return_after")
    reward = _number(item["reward"], "reward")
    if abs(reward - (after - before)) > REWARD_TOLERANCE:
        raise ValueError(
            f"'reward' {reward} is not return_after - return_before ({after} - {before} = {after - before})"
        )
    return ReflectionRow(
        env=item["env"],
        task_id=item["task_id"],
        trial=trial,
        prompt=_messages(item["prompt"]),
        reflection=item["reflection"],
        return_before=before,
        return_after=after,
        reward=reward,
        line=line,
    )


def read_reflections(path: str | Path) -> list[ReflectionRow]:
    """Every row of a reflection-rewards JSONL file (blank lines skipped). BadData, one
    line naming the file and the line, for a missing file, bad JSON or a bad row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadData(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadData(f"{path}: is a folder, not a JSONL file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadData(f"{path}: cannot be read: {exc}") from None
    rows: list[ReflectionRow] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BadData(f"{path}: line {number}: not JSON ({exc.msg} at column {exc.colno})") from None
        try:
            rows.append(parse_row(item, line=number))
        except ValueError as exc:
            raise BadData(f"{path}: line {number}: {exc}") from None
    if not rows:
        raise BadData(f"{path}: no reflections (the file is empty)")
    return rows


def write_reflections(rows: Iterable[ReflectionRow], path: str | Path) -> int:
    """Write rows as JSONL (tests, tools); returns the count."""
    lines = [json.dumps(r.as_json(), ensure_ascii=False) for r in rows]
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


# ---- Training sets ------------------------------------------------------------------


def helpful(rows: Sequence[ReflectionRow], min_reward: float = 0.0) -> list[ReflectionRow]:
    """The rows SFT trains on: reward above `min_reward`, with a non-blank reflection."""
    return [r for r in rows if r.reward > min_reward and r.reflection.strip()]


def form_pairs(rows: Sequence[ReflectionRow]) -> list[Pair]:
    """Rated pairs for the reward model (module doc): within each task, every two
    reflections with different rewards, from the same trial when the task has such
    pairs, else across its trials. Identical (chosen, rejected) texts are kept once.
    Order: tasks in file order, then the rows' file order."""
    by_task: dict[tuple[str, str], list[ReflectionRow]] = defaultdict(list)
    for row in rows:
        if row.reflection.strip():
            by_task[row.task_key].append(row)
    pairs: list[Pair] = []
    seen: set[tuple[str, str, str, str]] = set()
    for group in by_task.values():
        rated = [(a, b) for a, b in combinations(group, 2) if abs(a.reward - b.reward) > REWARD_TOLERANCE]
        same = [(a, b) for a, b in rated if a.trial == b.trial]
        for a, b in same or rated:
            chosen, rejected = (a, b) if a.reward > b.reward else (b, a)
            key = (_prompt_key(chosen), chosen.reflection, _prompt_key(rejected), rejected.reflection)
            if key in seen:
                continue
            seen.add(key)
            pairs.append(Pair(chosen=chosen, rejected=rejected, same_trial=bool(same)))
    return pairs


def _prompt_key(row: ReflectionRow) -> str:
    return json.dumps([dict(m) for m in row.prompt], sort_keys=True)


@dataclass(frozen=True)
class PolicyPrompt:
    """One prompt the policy writes reflections for, and what playing the next trial needs."""

    row: ReflectionRow  # the first row with this prompt
    earlier: tuple[str, ...]  # reflections written after the task's earlier trials, oldest first


def policy_prompts(rows: Sequence[ReflectionRow]) -> list[PolicyPrompt]:
    """Distinct (task, trial, prompt) in file order. `earlier` holds, for each lower
    trial index of the same task, the first reflection the file has for it: the actor's
    memory when trial k+1 is replayed is these plus the policy's new reflection."""
    first_by_trial: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)
    for row in rows:
        first_by_trial[row.task_key].setdefault(row.trial, row.reflection)
    out: list[PolicyPrompt] = []
    seen: set[tuple[str, str, int, str]] = set()
    for row in rows:
        key = (row.env, row.task_id, row.trial, _prompt_key(row))
        if key in seen:
            continue
        seen.add(key)
        earlier = first_by_trial[row.task_key]
        out.append(PolicyPrompt(row=row, earlier=tuple(earlier[t] for t in sorted(earlier) if t < row.trial)))
    return out
