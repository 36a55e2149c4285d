"""Collecting reflections with their rewards: the data every trainer here reads.

`collect` plays every task with the Retroformer loop (training.retroformer.trials.
play_tasks: the actor's trials, the reflector's reflection after each failed one) and,
as each task finishes, appends one row per reflection to the output JSONL
(data.py's format):

    reward = return of trial k+1 (played with the reflection in the actor's memory)
           - return of trial k (the failed trial the reflection diagnosed)

Rows are written only for reflections that were followed by a trial: none after the
last trial, none when the reflector failed (no text). A next trial that ended with a
model or environment error is skipped too (counted): its return says nothing about the
reflection.

Beside the rows, `<out stem>.episodes.jsonl` gets each finished task's whole episode
(TaskEpisode JSON: trials, steps, reflections, their prompts), which also records
which tasks are done, including those won at the first trial (no reflection, no row).

Resuming: a task whose id is in either file is not played again, so the same command
after a kill or Ctrl-C goes on with the remaining tasks (the tasks in flight are
played again from their first trial). A task's rows are written before its episode
line, each with one write and a flush; a line cut by a kill (no final newline) is
dropped when the file is opened again.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.envs.base import BadData
from training.retroformer.records import ENV_ERROR, MODEL_ERROR
from training.retroformer_train.data import ReflectionRow, parse_row


def episodes_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".episodes.jsonl")


def episode_rows(episode: Any) -> tuple[list[ReflectionRow], Counter[str]]:
    """(rows, skipped by reason) of one finished TaskEpisode (module doc)."""
    rows: list[ReflectionRow] = []
    skipped: Counter[str] = Counter()
    trials = episode.trials
    for k, text in enumerate(episode.reflections):
        if k + 1 >= len(trials):
            continue  # no trial followed it (the task ended)
        before, after = trials[k], trials[k + 1]
        if not text.strip():
            skipped["no reflection (reflector failed)"] += 1
            continue
        if not after.finished or after.reason.startswith((MODEL_ERROR, ENV_ERROR)):
            skipped[f"next trial ended with {after.reason.split(':')[0] or 'no result'}"] += 1
            continue
        prompt = episode.reflection_prompts[k] if k < len(episode.reflection_prompts) else []
        if not prompt:
            skipped["reflection prompt not recorded"] += 1
            continue
        rows.append(
            ReflectionRow(
                env=episode.env,
                task_id=episode.task_id,
                trial=k,
                prompt=tuple({"role": m["role"], "content": m["content"]} for m in prompt),
                reflection=text,
                return_before=float(before.reward),
                return_after=float(after.reward),
                reward=float(after.reward) - float(before.reward),
            )
        )
    return rows, skipped


@dataclass
class CollectResult:
    tasks: int  # asked for
    already: int  # done by an earlier run of the same command
    finished: int = 0  # finished by this run
    rows: int = 0  # written by this run
    skipped: Counter[str] = field(default_factory=Counter)
    stopped: bool = False  # should_stop ended it early


def _drop_cut_line(path: Path) -> None:
    """A line cut by a kill has no newline: take it off before appending."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    keep = data.rfind(b"\n") + 1
    with path.open("r+b") as f:
        f.truncate(keep)


def done_task_ids(out: str | Path, *, env: str) -> set[str]:
    """Tasks already collected into `out` (module doc); BadData for a file of another env."""
    out = Path(out)
    done: set[str] = set()
    for path in (out, episodes_path(out)):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if lines and not text.endswith("\n"):
            lines.pop()  # a line cut by a kill: dropped before appending (Writer)
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except json.JSONDecodeError:
                raise BadData(f"{path}: line {number}: not JSON; move the file away to start over") from None
            if not isinstance(item, dict) or not isinstance(item.get("task_id"), str):
                raise BadData(f"{path}: line {number}: no task_id; is this a retroformer_collect file?")
            if item.get("env") != env:
                raise BadData(f"{path}: line {number}: a row of env {item.get('env')!r}, not {env}; use another --out")
            done.add(item["task_id"])
    return done


class Writer:
    """Appends a finished task's rows, then its episode, each with one write + flush."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.episodes = episodes_path(self.out)
        if self.out.parent != Path():
            self.out.parent.mkdir(parents=True, exist_ok=True)
        for path in (self.out, self.episodes):
            _drop_cut_line(path)

    def write(self, episode: Any, rows: Sequence[ReflectionRow]) -> None:
        if rows:
            # Checked as the trainers will read it, so a bad row fails here, not there.
            text = "".join(json.dumps(parse_row(r.as_json()).as_json(), ensure_ascii=False) + "\n" for r in rows)
            _append(self.out, text)
        _append(self.episodes, json.dumps(episode.as_json(), ensure_ascii=False) + "\n")


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def collect(
    env: Any,
    tasks: Sequence[Any],
    actor: Any,
    reflector: Any,
    *,
    settings: Any,
    out: str | Path,
    on_task: Callable[[CollectResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    run_label: str = "",
) -> CollectResult:
    """Play the tasks not yet in `out` and append their rows (module doc)."""
    from training.retroformer.trials import play_tasks

    done = done_task_ids(out, env=env.name)
    todo = [t for t in tasks if t.id not in done]
    result = CollectResult(tasks=len(tasks), already=len(tasks) - len(todo))
    if not todo:
        return result
    writer = Writer(out)
    written: set[str] = set()

    def progress(changed: list[Any]) -> None:
        for episode in changed:
            if episode.task_id in written or not episode.done(settings.trials):
                continue
            rows, skipped = episode_rows(episode)
            writer.write(episode, rows)
            written.add(episode.task_id)
            result.finished += 1
            result.rows += len(rows)
            result.skipped.update(skipped)
            if on_task is not None:
                on_task(result)

    play_tasks(
        env,
        todo,
        actor,
        reflector,
        settings=settings,
        on_progress=progress,
        should_stop=should_stop,
        run_label=run_label,
    )
    result.stopped = result.finished < len(todo)
    return result
