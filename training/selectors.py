"""What the RISE results pages read: runs, their metrics, and the problems turn by turn.

Keyword-only reads that return plain JSON-ready dicts (the pages render them as text):

    run_list()                            every run: status, progress, headline, acc@t series
    run_detail(run)                       one run: settings, metrics, the per-turn table
    run_state(run)                    what the websocket sends: status and progress
    run_items(run, filter="fixed", turn=2, offset=0, limit=20)
                                          one page of problems, their turns side by side,
                                          and how many problems each filter holds

The filters are about changing an answer between turns (training.rise.metrics counts
the same two per turn for the whole run):

- "fixed" at turn k: wrong (or unreadable) at turn k-1, right at turn k;
- "broke" at turn k: right at turn k-1, wrong (or unreadable) at turn k;
- "never": played, and no turn right so far.

They are answered by the database (a JSON index into each episode's rewards), so a
run of thousands of problems only loads the page it shows.

Retroformer evaluations (kind "retro", training.retroformer_runs) are listed by
`run_list` beside RISE's runs; their own page reads

    retro_detail(run)                     settings, success and mean reward per trial, the paper's figures
    retro_tasks(run, filter="after", offset=0, limit=20)
                                          one page of tasks: each trial's Thought/Action/Observation
                                          steps, the reflection written after it, and whether the
                                          next trial's reward went up, stayed or went down

with the filters "first" (won at trial 1), "after" (won at a later trial, after a
reflection) and "never" (every trial played, none won).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q, QuerySet

from training.envs.base import RIGHT, UNREADABLE
from training.models import RiseItem, RiseRun

FILTERS = ("fixed", "broke", "never")
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class SelectorError(ValueError):
    """A filter the pages cannot apply (one line, for a 400 answer)."""


# --- runs -----------------------------------------------------------------------------


def _max_turns(run: RiseRun) -> int:
    rollout = run.config.get("rollout") if isinstance(run.config, dict) else None
    try:
        return int((rollout or {}).get("max_turns") or 0)
    except (TypeError, ValueError):
        return 0


def _headline(run: RiseRun) -> dict[str, float]:
    head = run.metrics.get("headline") if isinstance(run.metrics, dict) else None
    return {str(k): float(v) for k, v in (head or {}).items() if isinstance(v, int | float)}


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float)] if isinstance(values, list) else []


def run_state(run: RiseRun) -> dict[str, Any]:
    """The run's status and progress (the websocket's `run`); metrics once finished."""
    return {
        "id": run.pk,
        "status": run.status,
        "total": run.total,
        "finished_items": run.finished_items,
        "turns_played": run.turns_played,
        "progress": round(run.progress, 4),
        "error": run.run_error or None,
        "waiting_since": run.waiting_since.isoformat() if run.waiting_since else None,
        "waiting_reason": run.waiting_reason or None,
        "finished": run.finished.isoformat() if run.finished else None,
        "headline": _headline(run),
        "metrics": _metrics(run),
    }


def run_list() -> list[dict[str, Any]]:
    """Every run, newest first, with what the list shows and a series for its small chart."""
    rows = []
    for run in RiseRun.objects.order_by("-created"):
        metrics = run.metrics if isinstance(run.metrics, dict) else {}
        retro = is_retro(run)
        rows.append(
            {
                "id": run.pk,
                "kind": run.kind,
                "name": run.name,
                "env": run.env,
                "status": run.status,
                "total": run.total,
                "finished_items": run.finished_items,
                "progress": round(run.progress, 4),
                "max_turns": 0 if retro else _max_turns(run),
                "trials": _trials(run) if retro else 0,
                "headline": _headline(run),
                "accuracy": [] if retro else _floats(metrics.get("accuracy")),
                "success": _floats(metrics.get("success")) if retro else [],
                "created": run.created.isoformat(),
            }
        )
    return rows


def run_progress() -> list[dict[str, Any]]:
    """What the run list updates while runs play: status and progress of every run."""
    return [
        {"id": pk, "status": RiseRun(run_state=state, run_error=error, finished=finished,
                                     finished_items=done).status, "finished_items": done, "total": total}
        for pk, state, error, finished, done, total in RiseRun.objects.order_by("-created").values_list(
            "pk", "run_state", "run_error", "finished", "finished_items", "total"
        )
    ]  # fmt: skip


def _metrics(run: RiseRun) -> dict[str, Any] | None:
    """The stored metrics (training.rise.metrics.RiseMetrics.as_json, or for a Retroformer
    run training.retroformer_runs.metrics_of), None before the end."""
    if not isinstance(run.metrics, dict) or not (run.metrics.get("turns") or run.metrics.get("trials")):
        return None
    return dict(run.metrics)


def turn_table(metrics: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per turn: acc@t, m1@t, p1@t, fixed, broke and unreadable answers."""
    if not metrics:
        return []
    rows = []
    columns = ("accuracy", "m1", "p1", "fixed", "broke", "unreadable")
    for t in range(int(metrics.get("turns") or 0)):
        row: dict[str, Any] = {"turn": t + 1}
        for name in columns:
            values = metrics.get(name) or []
            row[name] = values[t] if t < len(values) else None
        rows.append(row)
    return rows


def _detail(run: RiseRun, settings: dict[str, Any], table: list[dict[str, Any]], metrics: Any) -> dict[str, Any]:
    """A run's page data, RISE's and Retroformer's alike: who and what, the settings
    (`settings` adds the kind's own to the data, limit and log folder), state and metrics."""
    config = run.config if isinstance(run.config, dict) else {}
    return {
        "id": run.pk,
        "kind": run.kind,
        "kind_label": run.get_kind_display(),
        "name": run.name,
        "env": run.env,
        "owner": run.owner.get_username() if run.owner_id and run.owner else None,
        "created": run.created.isoformat(),
        "settings": {
            "env": run.env,
            "data": run.data_path or "the sample set",
            "limit": config.get("limit"),
            **settings,
            # The directory's name only: the server's paths are not the readers' business.
            "log_dir": run.log_dir.rstrip("/").rsplit("/", 1)[-1],
        },
        "state": run_state(run),
        "metrics": metrics,
        "table": table,
    }


def run_detail(run: RiseRun) -> dict[str, Any]:
    """One run for its page: who and what, the settings that decide the results, the metrics."""
    config = run.config if isinstance(run.config, dict) else {}
    rollout = config.get("rollout") or {}
    metrics = _metrics(run)
    settings = {
        "max_turns": rollout.get("max_turns"),
        "models": rollout.get("models") or [],
        "samples_per_turn": rollout.get("num_of_samples") or [],
        "context_window": rollout.get("context_window"),
        "temperature": rollout.get("temperature"),
        "max_tokens": rollout.get("max_tokens"),
        "seed": rollout.get("seed"),
    }
    return _detail(run, settings, turn_table(metrics), metrics)


# --- problems, turn by turn ------------------------------------------------------------


def _reward(k: int) -> str:
    """The JSON path of turn k's reward (1-based) inside RiseItem.episode."""
    return f"episode__rewards__{k - 1}"


def _right(k: int) -> Q:
    return Q(**{_reward(k): RIGHT})


def _wrong(k: int) -> Q:
    # Played (turns >= k) and not right: wrong (0) and unreadable (-1) alike.
    return Q(turns__gte=k) & Q(**{f"{_reward(k)}__lt": RIGHT})


def filter_q(filter: str | None, turn: int | None, *, max_turns: int) -> Q:
    """The condition of a filter; raises SelectorError for one that does not exist."""
    if not filter:
        return Q()
    if filter == "never":
        return Q(turns__gt=0, first_right__isnull=True)
    if filter not in FILTERS:
        raise SelectorError(f"unknown filter {filter!r}; use one of {', '.join(FILTERS)}")
    if turn is None or not 2 <= turn <= max(2, max_turns):
        raise SelectorError(f"filter {filter!r} needs a turn between 2 and {max(2, max_turns)}")
    if filter == "fixed":
        return _wrong(turn - 1) & _right(turn)
    return _right(turn - 1) & _wrong(turn)


def filter_counts(run: RiseRun) -> dict[str, Any]:
    """How many problems each filter holds, in one query: {"all", "never", "fixed": {k: n}, "broke": {k: n}}."""
    max_turns = _max_turns(run)
    aggregates: dict[str, Any] = {"all": Count("pk"), "never": Count("pk", filter=filter_q("never", None, max_turns=0))}
    for k in range(2, max_turns + 1):
        aggregates[f"fixed_{k}"] = Count("pk", filter=filter_q("fixed", k, max_turns=max_turns))
        aggregates[f"broke_{k}"] = Count("pk", filter=filter_q("broke", k, max_turns=max_turns))
    got = RiseItem.objects.filter(run=run).aggregate(**aggregates)
    return {
        "all": got["all"],
        "never": got["never"],
        "fixed": {str(k): got[f"fixed_{k}"] for k in range(2, max_turns + 1)},
        "broke": {str(k): got[f"broke_{k}"] for k in range(2, max_turns + 1)},
    }


def _equivalence(run: RiseRun) -> tuple[Callable[[str, str], bool], Callable[[str], str]]:
    """The env's answer equivalence and gold reader; plain text comparison when the env
    cannot be loaded (the results stay readable whatever happened to the grader)."""
    try:
        from training.envs import get_env

        env = get_env(run.env)
    except Exception:
        return (lambda a, b: a.strip() == b.strip()), (lambda gold: gold.rsplit("####", 1)[-1].strip())
    return env.equivalent, env.gold_answer


def change_of(before: dict[str, Any] | None, now: dict[str, Any], same: Callable[[str, str], bool]) -> tuple[bool, str]:
    """(changed, kind) of a turn against the turn before it.

    `changed`: the extracted answer differs from the previous turn's (an answer that
    could not be read counts as an answer of its own). `kind`: "fixed" (wrong -> right),
    "broke" (right -> wrong), "still wrong" (wrong -> wrong with a new answer), else "".
    """
    if before is None:
        return False, ""
    a, b = before["answer"], now["answer"]
    changed = (a is None) != (b is None) or (a is not None and b is not None and not same(a, b))
    was_right, is_right = before["reward"] == RIGHT, now["reward"] == RIGHT
    if is_right and not was_right:
        return changed, "fixed"
    if was_right and not is_right:
        return changed, "broke"
    if changed and not is_right:
        return changed, "still wrong"
    return changed, ""


def item_view(item: RiseItem, *, same: Callable[[str, str], bool], gold_answer: Callable[[str], str]) -> dict[str, Any]:
    """One problem with its turns side by side (only the kept answer of each turn; the
    number of samples it was chosen from is given)."""
    ep = item.episode if isinstance(item.episode, dict) else {}
    actions, rewards = ep.get("actions") or [], ep.get("rewards") or []
    answers, models, samples = ep.get("answers") or [], ep.get("models") or [], ep.get("samples") or []
    turns: list[dict[str, Any]] = []
    before: dict[str, Any] | None = None
    for t, text in enumerate(actions):
        reward = int(rewards[t]) if t < len(rewards) else UNREADABLE
        now: dict[str, Any] = {
            "turn": t + 1,
            "text": str(text),
            "answer": answers[t] if t < len(answers) else None,
            "reward": reward,
            "right": reward == RIGHT,
            "model": models[t] if t < len(models) else "",
            "samples": len(samples[t]) if t < len(samples) and isinstance(samples[t], list) else 1,
        }
        now["changed"], now["change"] = change_of(before, now, same)
        turns.append(now)
        before = now
    gold = str(ep.get("gold", ""))
    try:
        gold_shown = gold_answer(gold)
    except Exception:  # a grader that cannot read its own gold: show the field as it is
        gold_shown = gold
    return {
        "id": item.problem_id,
        "position": item.position + 1,
        "question": str(ep.get("question", "")),
        "gold": gold_shown,
        "finished": item.finished,
        "solved": item.solved,
        "first_right": item.first_right,
        "turns": turns,
    }


def _page_of(qs: QuerySet[RiseItem], offset: int, limit: int) -> list[RiseItem]:
    return list(qs.order_by("position")[offset : offset + limit])


def run_items(
    run: RiseRun, *, filter: str | None = None, turn: int | None = None, offset: int = 0, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    """One page of the run's problems under a filter, with the counts of every filter.

    Returns {"filter", "turn", "offset", "limit", "matching", "counts", "max_turns", "items"}.
    """
    max_turns = _max_turns(run)
    condition = filter_q(filter, turn, max_turns=max_turns)
    offset = max(0, offset)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    qs = RiseItem.objects.filter(run=run).filter(condition)
    same, gold_answer = _equivalence(run)
    return {
        "filter": filter or None,
        "turn": turn if filter in ("fixed", "broke") else None,
        "offset": offset,
        "limit": limit,
        "matching": qs.count(),
        "counts": filter_counts(run),
        "max_turns": max_turns,
        "items": [item_view(i, same=same, gold_answer=gold_answer) for i in _page_of(qs, offset, limit)],
    }


# --- Retroformer runs ------------------------------------------------------------------

RETRO_FILTERS = ("first", "after", "never")


def is_retro(run: RiseRun) -> bool:
    return run.kind == "retro"


def _retro_config(run: RiseRun) -> dict[str, Any]:
    config = run.config if isinstance(run.config, dict) else {}
    retro = config.get("retro")
    return retro if isinstance(retro, dict) else {}


def _trials(run: RiseRun) -> int:
    try:
        return int(_retro_config(run).get("trials") or 0)
    except (TypeError, ValueError):
        return 0


def trial_table(metrics: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per trial: success (won by this trial), mean reward, the paper's figures."""
    if not metrics:
        return []
    success, rewards, paper = (metrics.get(k) or [] for k in ("success", "mean_reward", "paper"))
    rows = []
    for k in range(int(metrics.get("trials") or 0)):
        rows.append(
            {
                "trial": k + 1,
                "success": success[k] if k < len(success) else None,
                "mean_reward": rewards[k] if k < len(rewards) else None,
                "paper": paper[k] if k < len(paper) else "",
            }
        )
    return rows


def retro_detail(run: RiseRun) -> dict[str, Any]:
    """A Retroformer run for its page: who and what, the settings, success by trial."""
    config = run.config if isinstance(run.config, dict) else {}
    retro = _retro_config(run)
    metrics = _metrics(run)
    keys = ("trials", "max_reflections", "actor_temperature", "reflector_temperature", "actor_max_tokens",
            "reflector_max_tokens", "step_timeout", "trial_timeout", "seed")  # fmt: skip
    settings = {
        "actor": config.get("actor") or "",
        "reflector": config.get("reflector") or "",
        **{key: retro.get(key) for key in keys},
    }
    return _detail(run, settings, trial_table(metrics), metrics)


def retro_filter_q(filter: str | None) -> Q:
    """The condition of a task filter; SelectorError for one that does not exist."""
    if not filter:
        return Q()
    if filter == "first":
        return Q(first_right=1)
    if filter == "after":
        return Q(first_right__gte=2)
    if filter == "never":
        return Q(finished=True, solved=False)
    raise SelectorError(f"unknown filter {filter!r}; use one of {', '.join(RETRO_FILTERS)}")


def retro_counts(run: RiseRun) -> dict[str, int]:
    aggregates = {"all": Count("pk"), **{f: Count("pk", filter=retro_filter_q(f)) for f in RETRO_FILTERS}}
    return dict(RiseItem.objects.filter(run=run).aggregate(**aggregates))


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def reward_change(before: float, after: float) -> str:
    """How the next trial did against this one: "up", "same" or "down" (by its reward)."""
    if after > before + 1e-9:
        return "up"
    if after < before - 1e-9:
        return "down"
    return "same"


def retro_task_view(item: RiseItem) -> dict[str, Any]:
    """One task: every trial's steps, the reflection after it, and how the next trial did."""
    ep = item.episode if isinstance(item.episode, dict) else {}
    trials = [t for t in ep.get("trials") or [] if isinstance(t, dict)]
    reflections = ep.get("reflections") or []
    errors = ep.get("reflection_errors") or []
    views = []
    for k, trial in enumerate(trials):
        steps = [
            {
                "n": i + 1,
                "thought": _text(step.get("thought")),
                "action": _text(step.get("action")),
                "observation": _text(step.get("observation")),
                "invalid": bool(step.get("invalid")),
            }
            for i, step in enumerate(s for s in trial.get("steps") or [] if isinstance(s, dict))
        ]
        reward = _number(trial.get("reward"))
        later = trials[k + 1] if k + 1 < len(trials) else None
        next_view = None
        if later is not None and _text(later.get("reason")):
            after = _number(later.get("reward"))
            next_view = {"trial": k + 2, "reward": after, "change": reward_change(reward, after)}
        views.append(
            {
                "trial": k + 1,
                "reward": reward,
                "won": bool(trial.get("won")),
                "reason": _text(trial.get("reason")),
                "steps": steps,
                "reflection": _text(reflections[k]) if k < len(reflections) else None,
                "reflection_error": _text(errors[k]) if k < len(errors) else "",
                "next": next_view,
            }
        )
    return {
        "id": item.problem_id,
        "position": item.position + 1,
        "goal": _text(ep.get("goal")),
        "observation": _text(ep.get("observation")),
        "finished": item.finished,
        "won": item.solved,
        "first_win": item.first_right,
        "trials": views,
    }


def retro_tasks(run: RiseRun, *, filter: str | None = None, offset: int = 0, limit: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of a Retroformer run's tasks under a filter, with the counts of every filter.

    Returns {"filter", "offset", "limit", "matching", "counts", "trials", "items"}."""
    condition = retro_filter_q(filter)
    offset = max(0, offset)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    qs = RiseItem.objects.filter(run=run).filter(condition)
    return {
        "filter": filter or None,
        "offset": offset,
        "limit": limit,
        "matching": qs.count(),
        "counts": retro_counts(run),
        "trials": _trials(run),
        "items": [retro_task_view(i) for i in _page_of(qs, offset, limit)],
    }


__all__ = [
    "FILTERS",
    "MAX_PAGE_SIZE",
    "PAGE_SIZE",
    "RETRO_FILTERS",
    "SelectorError",
    "change_of",
    "filter_counts",
    "filter_q",
    "is_retro",
    "item_view",
    "retro_counts",
    "retro_detail",
    "retro_filter_q",
    "retro_task_view",
    "retro_tasks",
    "reward_change",
    "run_detail",
    "run_items",
    "run_list",
    "run_state",
    "trial_table",
    "turn_table",
]
