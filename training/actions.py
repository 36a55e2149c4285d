"""Runs started from the results page: validate the form, open the run, ask for it to play.

    run = start_eval(user, {"env": "gsm8k", "model": "openai:student", "max_turns": "5",
                            "samples": "1", "context_window": "", "limit": "10", "name": ""})
    training.runner.ensure_runner(run)     # the view starts it; the runner plays and finishes it

Everything is checked before anything is written (one line in `RiseError`, as the
commands print it): the env, the numbers, the model spec's shape (not whether the model
loads: that is the runner's first step, and a failure is shown on the run's page), then
`services.open_run` checks the data. A page-started run writes its results under
`<STORAGE_DIR>/rise/page/<env>-<time>-<random>/`, a directory of its own, so two
evaluations started at the same moment never share one.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from llm.errors import LLMConfigError
from llm.spec import parse_model_spec
from training.models import RiseRun
from training.rise.rollout import RolloutConfig, RolloutSettingsError
from training.services import RiseError, RunRequest, open_run

# Bounds of a run started from a page: it holds a thread of the web server (or a worker)
# for its whole length, so a typo must not start a thousand-turn run.
MAX_TURNS = 10
MAX_SAMPLES = 16
MAX_NAME = 200
FORM_DEFAULTS = {"env": "gsm8k", "max_turns": "5", "samples": "1", "context_window": "", "limit": "10", "name": ""}


def page_runs_dir() -> Path:
    """Where the results of page-started runs go (one directory per run)."""
    return Path(settings.STORAGE_DIR) / "rise" / "page"


def started_from_page(run: RiseRun) -> bool:
    """Whether the run was started by `start_eval` (only those are resumed by the pages:
    a command's run belongs to its command)."""
    return Path(run.log_dir).parent == page_runs_dir().expanduser().resolve()


def form_defaults() -> dict[str, str]:
    return {**FORM_DEFAULTS, "model": settings.LLM_MODEL}


def _whole(
    data: Mapping[str, Any], key: str, label: str, *, low: int, high: int | None, blank: int | None
) -> int | None:
    raw = str(data.get(key, "") or "").strip()
    if not raw:
        return blank
    try:
        value = int(raw)
    except ValueError:
        raise RiseError(f"{label} must be a whole number (got {raw[:40]!r})") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise RiseError(f"{label} must be {bound} (got {value})")
    return value


def _model(data: Mapping[str, Any]) -> str:
    spec = str(data.get("model", "") or "").strip() or settings.LLM_MODEL
    try:
        parse_model_spec(spec)
    except LLMConfigError as exc:
        # The parser names the LLM_MODEL setting; on the page it is the "model" field.
        raise RiseError("model: " + str(exc).splitlines()[0].replace("LLM_MODEL=", "")) from None
    return spec


def eval_request(data: Mapping[str, Any]) -> RunRequest:
    """The request the form describes; raises RiseError (one line) when it cannot run."""
    from training.envs import ENV_NAMES

    env = str(data.get("env", "") or FORM_DEFAULTS["env"]).strip().lower()
    if env not in ENV_NAMES:
        raise RiseError(f"unknown env {env!r}; use one of {', '.join(ENV_NAMES)}")
    spec = _model(data)
    turns = _whole(data, "max_turns", "max turns", low=1, high=MAX_TURNS, blank=5)
    samples = _whole(data, "samples", "samples per turn", low=1, high=MAX_SAMPLES, blank=1)
    assert turns is not None and samples is not None  # blank gives the default
    window = _whole(data, "context_window", "context window", low=1, high=turns, blank=None)
    limit = _whole(data, "limit", "limit", low=1, high=None, blank=10)
    name = str(data.get("name", "") or "").strip()
    if len(name) > MAX_NAME:
        raise RiseError(f"the name can be at most {MAX_NAME} characters (it has {len(name)})")
    try:
        config = RolloutConfig(
            mode="eval",
            max_turns=turns,
            models=(spec,),
            num_of_samples=(samples,) * turns,
            context_window=window,
        )
    except RolloutSettingsError as exc:
        raise RiseError(str(exc)) from None
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    log_dir = page_runs_dir() / f"{env}-{stamp}-{secrets.token_hex(3)}"
    return RunRequest(
        kind="eval",
        env=env,
        data_path=None,
        log_dir=log_dir,
        rollout=config,
        limit=limit,
        name=name or f"{env} · {spec} · {turns} turns",
    )


def start_eval(owner: Any, data: Mapping[str, Any]) -> RiseRun:
    """Create an evaluation run from the page's form and mark it playing; the caller
    starts its runner (training.runner.ensure_runner)."""
    request = eval_request(data)
    run = open_run(request, owner=owner if getattr(owner, "is_authenticated", False) else None)
    RiseRun.objects.filter(pk=run.pk).update(run_state="playing", run_until=None, run_error="")
    run.refresh_from_db()
    return run


__all__ = [
    "MAX_SAMPLES",
    "MAX_TURNS",
    "eval_request",
    "form_defaults",
    "page_runs_dir",
    "start_eval",
    "started_from_page",
]
