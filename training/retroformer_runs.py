"""Retroformer evaluations as runs in the database: open (or resume), play, write the results.

    request = RetroRequest(env="hotpotqa", data_path=None, log_dir=Path("runs/retro"),
                           settings=RetroSettings(trials=4), actor="openai:a", reflector="openai:r")
    prepared = prepare(request)              # every check; nothing written
    run = open_run(prepared)                 # the run to play: created, or the same one resumed
    play(run, actor=actor_gw, reflector=reflector_gw)
    finish(run)                              # retroformer_eval.json and success_by_trial.png/.svg

A run is a `RiseRun` of kind "retro" (the models RISE uses, so the results pages list
both): its config holds everything that decides the results (env, data, limit,
RetroSettings.as_json, the actor's and the reflector's specs), and each task is a
`RiseItem` whose `episode` is the task's TaskEpisode JSON (training/retroformer/records.py),
with `turns` = trials finished, `solved` = won in some trial, `first_right` = the 1-based
trial of the first win.

Durability: the loop (training.retroformer.trials.play_tasks) plays every open task's
next step in one round; the episodes a round changed are saved in one transaction
before the next round starts, so a killed process loses at most the round in flight.
The same request again resumes: finished tasks are skipped and part-played trials are
continued from their saved steps (`resume_from`). The same log dir with other settings
is refused unless `overwrite` (training.services.held_run, shared with RISE).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from llm.gateway import Gateway
from training.envs import get_text_env
from training.envs.base import BadData, UnknownEnv
from training.envs.interactive import Task, TextEnv
from training.models import RiseItem, RiseRun
from training.retroformer.paper import SOURCE, paper_figures
from training.retroformer.records import RecordError, TaskEpisode
from training.retroformer.settings import RetroSettings, RetroSettingsError
from training.retroformer.trials import ByTrial, play_tasks, success_by_trial
from training.services import RiseError, held_run, mark_log_dir, write_atomic

KIND = "retro"
EVAL_JSON = "retroformer_eval.json"
PLOT_STEM = "success_by_trial"
MAX_TASK_ID = 255  # RiseItem.problem_id


def default_log_dir(env: str) -> Path:
    return Path(django_settings.STORAGE_DIR) / "retroformer" / f"eval_{env.strip().lower()}"


@dataclass(frozen=True)
class RetroRequest:
    env: str
    data_path: str | None
    log_dir: Path
    settings: RetroSettings
    actor: str
    reflector: str
    limit: int | None = None
    name: str = ""

    def config(self) -> dict[str, Any]:
        """What decides the results: compared when a log dir is reused, shown on the page."""
        return {
            "kind": KIND,
            "env": self.env.strip().lower(),
            "data_path": self.data_path or "",
            "limit": self.limit,
            "retro": self.settings.as_json(),
            "actor": self.actor,
            "reflector": self.reflector,
        }


@dataclass(frozen=True)
class Prepared:
    """A checked request: its environment, tasks, absolute log dir and the run already there."""

    request: RetroRequest
    env: TextEnv
    tasks: list[Task]
    log_dir: Path
    run: RiseRun | None


def text_env(name: str) -> TextEnv:
    try:
        return get_text_env(name)
    except UnknownEnv as exc:
        raise RiseError(str(exc)) from None


def load_tasks(env: TextEnv, data_path: str | None, limit: int | None) -> list[Task]:
    try:
        return env.load(data_path or None, limit=limit)
    except BadData as exc:
        raise RiseError(" ".join(str(exc).split())) from None


def run_settings(run: RiseRun) -> RetroSettings:
    try:
        return RetroSettings.from_json(dict(run.config["retro"]))
    except (KeyError, TypeError, RetroSettingsError) as exc:
        raise RiseError(f"run {run.pk} has unreadable Retroformer settings ({exc}); rerun with --overwrite") from None


def prepare(request: RetroRequest, *, overwrite: bool = False) -> Prepared:
    """Every check before anything is written: the env, the data file (every line), the
    task ids, and that the log dir holds no run with other settings (unless `overwrite`)."""
    if request.limit is not None and request.limit < 1:
        raise RiseError("--limit must be at least 1")
    env = text_env(request.env)
    tasks = load_tasks(env, request.data_path, request.limit)
    if not tasks:
        raise RiseError(f"no {env.name} tasks to play (the data file is empty)")
    seen: set[str] = set()
    for task in tasks:
        if task.id in seen:
            raise RiseError(f"task {task.id!r} appears twice in the data; give every task its own id")
        if len(task.id) > MAX_TASK_ID:
            raise RiseError(f"task id {task.id[:60]!r}... is longer than {MAX_TASK_ID} characters")
        seen.add(task.id)
    from training.actions import page_runs_dir

    # The pages resume RISE runs they find there; a Retroformer run must not look like one.
    page_dir = page_runs_dir().expanduser().resolve()
    if request.log_dir.expanduser().resolve().parent == page_dir:
        raise RiseError(f"{page_dir} holds the runs started from the pages; give another --log_dir")
    log_dir, run = held_run(request.log_dir, request.config(), overwrite=overwrite)
    if run is not None and not overwrite:
        gone = set(run.items.values_list("problem_id", flat=True)) - seen
        if gone:
            raise RiseError(
                f"{log_dir} holds {len(gone)} task(s) the data no longer has (e.g. {sorted(gone)[0]!r}); "
                "use --overwrite to start again"
            )
    return Prepared(request, env, tasks, log_dir, run)


def open_run(prepared: Prepared, *, overwrite: bool = False, owner: Any = None) -> RiseRun:
    """The run writing to the prepared log dir: created, or the same run to resume."""
    request = prepared.request
    config = request.config()
    with transaction.atomic():
        run = RiseRun.objects.filter(log_dir=str(prepared.log_dir)).first()
        if run is not None and overwrite:
            run.delete()
            run = None
        if run is None:
            run = RiseRun.objects.create(
                kind=KIND,
                name=request.name or prepared.log_dir.name,
                env=prepared.env.name,
                data_path=request.data_path or "",
                log_dir=str(prepared.log_dir),
                config=config,
                owner=owner,
                total=len(prepared.tasks),
            )
        known = set(run.items.values_list("problem_id", flat=True))
        RiseItem.objects.bulk_create(
            [
                RiseItem(
                    run=run,
                    position=i,
                    problem_id=task.id,
                    episode=TaskEpisode(task_id=task.id, env=task.env, goal=task.goal).as_json(),
                )
                for i, task in enumerate(prepared.tasks)
                if task.id not in known
            ],
            batch_size=500,
        )
    mark_log_dir(prepared.log_dir, config)
    return run


def _first_win(episode: TaskEpisode) -> int | None:
    return next((t.trial + 1 for t in episode.trials if t.won), None)


def _trials_finished(episode: TaskEpisode) -> int:
    return sum(1 for t in episode.trials if t.finished)


def play(
    run: RiseRun,
    *,
    actor: Gateway,
    reflector: Gateway,
    on_progress: Callable[[RiseRun], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RiseRun:
    """Play every unfinished task of the run to its end (module docstring); returns the
    run as stored. `on_progress(run)` follows every saved round with fresh counters."""
    env = text_env(run.env)
    retro = run_settings(run)
    tasks = {t.id: t for t in load_tasks(env, run.data_path or None, run.config.get("limit"))}
    items = list(run.items.filter(finished=False).order_by("position"))
    try:
        episodes = {item.problem_id: TaskEpisode.from_json(item.episode) for item in items}
    except RecordError as exc:
        raise RiseError(f"a saved episode of run {run.pk} cannot be read ({exc}); rerun with --overwrite") from None
    missing = [item.problem_id for item in items if item.problem_id not in tasks]
    if missing:
        raise RiseError(f"task {missing[0]!r} of the run is no longer in the data; rerun with --overwrite")
    by_id = {item.problem_id: item for item in items}

    def save(changed: Sequence[TaskEpisode]) -> None:
        rows = []
        newly_finished = 0
        trials = 0
        for episode in changed:
            item = by_id.get(episode.task_id)
            if item is None:
                continue
            played = _trials_finished(episode)
            trials += played - item.turns
            done = episode.done(retro.trials)
            newly_finished += int(done and not item.finished)
            item.episode = episode.as_json()
            item.turns = played
            item.finished = done
            item.solved = episode.won
            item.first_right = _first_win(episode)
            rows.append(item)
        if not rows:
            return
        with transaction.atomic():
            RiseItem.objects.bulk_update(rows, ["episode", "turns", "finished", "solved", "first_right"])
            RiseRun.objects.filter(pk=run.pk).update(
                finished_items=F("finished_items") + newly_finished,
                turns_played=F("turns_played") + trials,
                updated=timezone.now(),
            )
        if on_progress is not None:
            run.refresh_from_db(fields=["finished_items", "turns_played"])
            on_progress(run)

    # A task saved as done but not marked (a kill between the two cannot happen, but a
    # hand-edited row can): mark it, since the loop never reports a task it does not play.
    save([ep for ep in episodes.values() if ep.done(retro.trials)])
    todo = [item.problem_id for item in items if not item.finished]
    play_tasks(
        env,
        [tasks[pid] for pid in todo],
        actor,
        reflector,
        settings=retro,
        on_progress=save,
        resume_from=[episodes[pid] for pid in todo],
        should_stop=should_stop,
        run_label=f"retro:{run.pk}",
    )
    run.refresh_from_db()
    return run


def episodes_of(run: RiseRun) -> list[TaskEpisode]:
    return [TaskEpisode.from_json(e) for e in run.items.order_by("position").values_list("episode", flat=True)]


# ------------------------------------------------------------------ results
def metrics_of(by: ByTrial, env: str) -> dict[str, Any]:
    """What the run stores (RiseRun.metrics) and the pages read."""
    trials = len(by.success)
    return {
        "tasks": by.tasks,
        "trials": trials,
        "success": [round(v, 6) for v in by.success],
        "mean_reward": [round(v, 6) for v in by.mean_reward],
        "headline": {"success@1": by.success[0], f"success@{trials}": by.success[-1]} if trials else {},
        "paper": paper_rows(env, trials),
    }


def paper_rows(env: str, trials: int) -> list[str]:
    """The paper's figures beside each trial's row: the no-reflection baseline (ReAct)
    beside trial 1, the methods with reflections beside the last trial (the paper reports
    their success after the retries); WebShop's one range for all methods beside both."""
    rows = [""] * trials
    figures = paper_figures(env)

    def line(chosen: Sequence[Any]) -> str:
        return ", ".join(f"{f.method} {f.label}" for f in chosen)

    if trials == 1:
        rows[0] = line(figures)
    elif trials > 1:
        rows[0] = line([f for f in figures if f.method in ("ReAct", "all methods")])
        rows[-1] = line([f for f in figures if f.method != "ReAct"])
    return rows


def finish(run: RiseRun) -> RiseRun:
    """Once every task is done: compute success by trial, write the outputs, mark the run."""
    if run.items.filter(finished=False).exists():
        return run
    retro = run_settings(run)
    episodes = episodes_of(run)
    by = success_by_trial(episodes, retro.trials)
    run.metrics = metrics_of(by, run.env)
    run.finished = run.finished or timezone.now()
    run.save(update_fields=["metrics", "finished", "updated"])
    write_outputs(run, episodes, by)
    return run


def eval_json(run: RiseRun) -> Path:
    return Path(run.log_dir) / EVAL_JSON


def write_outputs(run: RiseRun, episodes: Sequence[TaskEpisode], by: ByTrial) -> list[Path]:
    """`retroformer_eval.json` (settings, success and mean reward per trial, the paper's
    figures, every episode) and the success-by-trial plot (`success_by_trial.png`, `.svg`)."""
    figures = [
        {"method": f.method, "low": f.low, "high": f.high, "after_retries": f.after_retries}
        for f in paper_figures(run.env)
    ]
    payload = {
        "run": run.name,
        "env": run.env,
        "settings": run.config,
        "tasks": by.tasks,
        "trials": len(by.success),
        "success": by.success,
        "mean_reward": by.mean_reward,
        "paper": {"figures": figures, "source": SOURCE},
        "episodes": [ep.as_json() for ep in episodes],
    }
    out = eval_json(run)
    write_atomic(out, json.dumps(payload, ensure_ascii=False, indent=1))
    return [out, *success_plot(by, run.env, Path(run.log_dir) / PLOT_STEM, title=run.name)]


def success_plot(by: ByTrial, env: str, stem: Path, *, title: str = "") -> list[Path]:
    """Success (cumulative) and mean reward by trial, the paper's figures as dashed lines."""
    import matplotlib

    matplotlib.use("Agg")  # no display; safe in workers and threads
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=120)
    ax = fig.add_subplot()
    trials = list(range(1, len(by.success) + 1))
    # Success drawn last and wider: with 0/1 rewards (HotPotQA, ALFWorld) the two lines coincide.
    ax.plot(trials, [100 * v for v in by.mean_reward], "s--", color="#e76f51", linewidth=1.2, markersize=4,
            label="mean reward (x100)")  # fmt: skip
    ax.plot(trials, [100 * v for v in by.success], "o-", color="#2a9d8f", linewidth=2.2, zorder=3,
            label="success (won by this trial)")  # fmt: skip
    colours = ("#6c757d", "#264653", "#8d5a97")
    for figure, colour in zip(paper_figures(env), colours, strict=False):
        middle = 100 * (figure.low + figure.high) / 2
        ax.axhline(middle, linestyle=":", linewidth=1, color=colour, label=f"paper: {figure.method} {figure.label}")
    ax.set_xlabel("trial")
    ax.set_xticks(trials)
    ax.set_ylabel("success (%)")
    ax.set_ylim(-3, 103)  # room for markers at 0% and 100%
    ax.grid(alpha=0.3)
    ax.set_title(title or f"Retroformer evaluation, {env}", fontsize=10)
    ax.legend(loc="best", fontsize=7)
    fig.text(0.99, 0.01, f"{by.tasks} tasks", ha="right", va="bottom", fontsize=7, color="#666")
    fig.tight_layout()
    out = []
    for suffix in (".png", ".svg"):
        path = stem.with_suffix(suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
        out.append(path)
    return out


def success_table(metrics: dict[str, Any]) -> str:
    """The per-trial table the command prints, the paper's figures beside the rows."""
    success = metrics.get("success") or []
    rewards = metrics.get("mean_reward") or []
    paper = metrics.get("paper") or [""] * len(success)
    lines = [f"{'trial':>5}  {'success':>8}  {'mean reward':>11}  paper (approximate)"]
    for k, value in enumerate(success):
        reward = rewards[k] if k < len(rewards) else 0.0
        beside = paper[k] if k < len(paper) else ""
        lines.append(f"{k + 1:>5}  {100 * value:>7.1f}%  {reward:>11.3f}  {beside}".rstrip())
    return "\n".join(lines)


__all__ = [
    "EVAL_JSON",
    "KIND",
    "PLOT_STEM",
    "Prepared",
    "RetroRequest",
    "default_log_dir",
    "episodes_of",
    "eval_json",
    "finish",
    "metrics_of",
    "open_run",
    "paper_rows",
    "play",
    "prepare",
    "success_plot",
    "success_table",
    "write_outputs",
]
