"""RISE runs: open (or resume) a run, play its episodes, write its results.

    run = open_run(RunRequest(kind="eval", env="gsm8k", data_path=None, log_dir=..., rollout=cfg))
    play(run, gateway_for=...)        # resumable: finished items are skipped
    write_outputs(run)                # <N>_turns.json; for eval also metrics.json and the plots

Every episode is saved after each of its turns (one bulk UPDATE per batch), so a killed
run loses at most the turn in flight; `open_run` with the same settings continues it.
The same log dir with other settings is refused unless `overwrite`: results in one
directory always come from one set of settings (the log dir holds `rise_run.json`,
which also protects a directory used from another database).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from llm.gateway import Gateway
from training.envs import get_env
from training.envs.base import RIGHT, BadData, Env, UnknownEnv
from training.models import RiseItem, RiseRun
from training.rise import metrics as rise_metrics
from training.rise.rollout import RiseEpisode, RolloutConfig, RolloutSettingsError, rollout

log = logging.getLogger(__name__)

MARKER = "rise_run.json"
DEFAULT_BATCH = 64


class RiseError(ValueError):
    """A request that cannot run; the message is one line that says what to do."""


@dataclass(frozen=True)
class RunRequest:
    kind: str  # "gen" | "eval"
    env: str
    data_path: str | None
    log_dir: Path
    rollout: RolloutConfig
    limit: int | None = None
    name: str = ""

    def settings(self) -> dict[str, Any]:
        """What decides the results: compared when a log dir is reused."""
        return {
            "kind": self.kind,
            "env": self.env.lower(),
            "data_path": self.data_path or "",
            "limit": self.limit,
            "rollout": self.rollout.as_json(),
        }


def environment(name: str) -> Env:
    try:
        return get_env(name)
    except UnknownEnv as exc:
        raise RiseError(str(exc)) from None


def rollout_config(data: dict[str, Any]) -> RolloutConfig:
    data = dict(data)
    data["models"] = tuple(data["models"])
    data["num_of_samples"] = tuple(data["num_of_samples"])
    return RolloutConfig(**data)


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    flat_old, flat_new = _flatten(old), _flatten(new)
    keys = sorted(set(flat_old) | set(flat_new))
    changed = [f"{k}: {flat_old.get(k)!r} -> {flat_new.get(k)!r}" for k in keys if flat_old.get(k) != flat_new.get(k)]
    return "; ".join(changed[:4]) + ("; ..." if len(changed) > 4 else "")


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def open_run(request: RunRequest, *, overwrite: bool = False, owner: Any = None) -> RiseRun:
    """The run writing to `request.log_dir`: created, or the same run to resume.

    Validates everything before anything is written: the env, the data file (every
    line), and that the directory holds no run with other settings.
    """
    env = environment(request.env)
    try:
        problems = env.load(request.data_path, limit=request.limit)
    except BadData as exc:
        raise RiseError(str(exc)) from None
    if not problems:
        raise RiseError("no problems to run (the data file is empty, or --limit is 0)")
    wanted = request.settings()
    log_dir, run = held_run(request.log_dir, wanted, overwrite=overwrite)
    with transaction.atomic():
        if run is not None and overwrite:
            run.delete()
            run = None
        if run is None:
            run = RiseRun.objects.create(
                kind=request.kind,
                name=request.name or log_dir.name,
                env=env.name,
                data_path=request.data_path or "",
                log_dir=str(log_dir),
                config=wanted,
                owner=owner,
                total=len(problems),
            )
        known = set(run.items.values_list("problem_id", flat=True))
        RiseItem.objects.bulk_create(
            [
                RiseItem(run=run, position=i, problem_id=p.id, episode=RiseEpisode.start(env, p).as_json())
                for i, p in enumerate(problems)
                if p.id not in known
            ],
            batch_size=500,
        )
    mark_log_dir(log_dir, wanted)
    return run


def held_run(log_dir: Path, wanted: dict[str, Any], *, overwrite: bool) -> tuple[Path, RiseRun | None]:
    """(the absolute log dir, the run already writing there or None), checked before
    anything is written: the directory is not a file, and unless `overwrite` neither the
    database's run nor the directory's marker holds other settings than `wanted`.
    Shared by RISE's runs and Retroformer's (training.retroformer_runs)."""
    log_dir = log_dir.expanduser().resolve()
    if log_dir.exists() and not log_dir.is_dir():
        raise RiseError(f"--log_dir {log_dir} is a file; give a directory")
    run = RiseRun.objects.filter(log_dir=str(log_dir)).first()
    if not overwrite:
        on_disk = _read_marker(log_dir / MARKER)
        for held in (on_disk, run.config if run is not None else None):
            if held is not None and held != wanted:
                raise RiseError(
                    f"{log_dir} holds a run with other settings ({_differences(held, wanted)}); "
                    "use another --log_dir, or --overwrite to replace it"
                )
    return log_dir, run


def mark_log_dir(log_dir: Path, wanted: dict[str, Any]) -> None:
    """Write the directory's marker (the settings its results come from)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(log_dir / MARKER, json.dumps(wanted, indent=2))


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RiseError(f"{path} cannot be read ({exc}); remove it or use --overwrite") from None
    return data if isinstance(data, dict) else None


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file: a kill never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Gateways:
    """One gateway per model spec, built on first use (`load` builds several at once, so
    a spec that cannot load fails before any work) and all closed by `close`.

    `build(spec)` defaults to environment.gateway.gateway_from_settings(model=spec)."""

    def __init__(self, build: Callable[[str], Gateway] | None = None) -> None:
        self._build = build or _gateway_from_settings
        self._made: dict[str, Gateway] = {}

    def load(self, specs: Iterable[str]) -> Gateways:
        for spec in dict.fromkeys(specs):
            self(spec)
        return self

    def __call__(self, spec: str) -> Gateway:
        if spec not in self._made:
            self._made[spec] = self._build(spec)
        return self._made[spec]

    def close(self) -> None:
        for spec, gw in self._made.items():
            try:
                gw.close()
            except Exception:  # the results are saved; a gateway that will not close is only logged
                log.warning("closing the gateway of %s failed", spec, exc_info=True)
        self._made.clear()


def _gateway_from_settings(spec: str) -> Gateway:
    from environment.gateway import gateway_from_settings

    return gateway_from_settings(model=spec)


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def play(
    run: RiseRun,
    *,
    gateway_for: Callable[[str], Gateway],
    batch_size: int = DEFAULT_BATCH,
    on_progress: Callable[[RiseRun, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_batches: int | None = None,
) -> RiseRun:
    """Play every unfinished item (or the first `max_batches` batches of them),
    `batch_size` problems at a time (each turn of a batch is one call to the backend);
    returns the run as stored.

    `on_progress(run, turn, episodes)` is called after every turn with the run's fresh
    counters; `should_stop()` is asked between turns.
    """
    env = environment(run.env)
    config = rollout_config(run.config["rollout"])
    pending = list(run.items.filter(finished=False).order_by("position").values_list("pk", flat=True))
    label = f"rise:{run.pk}"
    for done, chunk in enumerate(_chunks(pending, max(1, batch_size))):
        if (max_batches is not None and done >= max_batches) or (should_stop is not None and should_stop()):
            break
        items = list(RiseItem.objects.filter(pk__in=chunk).order_by("position"))
        episodes = [RiseEpisode.from_json(item.episode) for item in items]
        by_id = {item.problem_id: item for item in items}

        def save(turn: int, played: list[RiseEpisode], by_id: dict[str, RiseItem] = by_id) -> None:
            changed = []
            for ep in played:
                item = by_id[ep.id]
                item.episode = ep.as_json()
                item.turns = ep.turns
                item.finished = ep.finished
                item.solved = ep.solved
                right = [t for t, r in enumerate(ep.rewards) if r == RIGHT]
                item.first_right = right[0] + 1 if right else None
                changed.append(item)
            newly_finished = sum(1 for ep in played if ep.finished)
            with transaction.atomic():
                RiseItem.objects.bulk_update(changed, ["episode", "turns", "finished", "solved", "first_right"])
                RiseRun.objects.filter(pk=run.pk).update(
                    finished_items=F("finished_items") + newly_finished,
                    turns_played=F("turns_played") + len(played),
                    updated=timezone.now(),
                )
            if on_progress is not None:
                run.refresh_from_db(fields=["finished_items", "turns_played"])
                on_progress(run, turn, len(played))

        rollout(
            episodes,
            env=env,
            gateway_for=gateway_for,
            config=config,
            run_label=label,
            on_turn=save,
            should_stop=should_stop,
        )
    run.refresh_from_db()
    return run


def finished_episodes(run: RiseRun) -> list[RiseEpisode]:
    return [RiseEpisode.from_json(e) for e in run.items.order_by("position").values_list("episode", flat=True)]


def finish(run: RiseRun) -> RiseRun:
    """Once every item is finished: compute the metrics, write the outputs, mark the run."""
    if run.items.filter(finished=False).exists():
        return run
    episodes = finished_episodes(run)
    metrics = rise_metrics.compute(environment(run.env), episodes)
    run.metrics = metrics.as_json()
    run.finished = run.finished or timezone.now()
    run.save(update_fields=["metrics", "finished", "updated"])
    write_outputs(run, episodes, metrics)
    return run


def turns_file(run: RiseRun) -> Path:
    return Path(run.log_dir) / f"{run.config['rollout']['max_turns']}_turns.json"


def write_outputs(run: RiseRun, episodes: list[RiseEpisode], metrics: rise_metrics.RiseMetrics) -> list[Path]:
    """`<N>_turns.json` (the original's shape) for every run; an eval run also gets
    `metrics.json` and the accuracy-by-turn plot (`accuracy_by_turn.png` and `.svg`)."""
    written = [turns_file(run)]
    write_atomic(written[0], json.dumps([ep.original_json() for ep in episodes], ensure_ascii=False, indent=1))
    if run.kind == "eval":
        out = Path(run.log_dir) / "metrics.json"
        payload = {"run": run.name, "env": run.env, "settings": run.config, "metrics": metrics.as_json()}
        write_atomic(out, json.dumps(payload, indent=2))
        written.append(out)
        from training.rise.plots import accuracy_by_turn

        written.extend(accuracy_by_turn(metrics, Path(run.log_dir) / "accuracy_by_turn", title=run.name))
    return written


__all__ = [
    "DEFAULT_BATCH",
    "Gateways",
    "RiseError",
    "RolloutSettingsError",
    "RunRequest",
    "environment",
    "finish",
    "finished_episodes",
    "held_run",
    "mark_log_dir",
    "open_run",
    "play",
    "rollout_config",
    "turns_file",
    "write_atomic",
    "write_outputs",
]
