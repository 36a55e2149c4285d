"""What `run_rise_gen` and `run_rise_eval` share: flags, gateways, the progress bar, the
lease, Ctrl-C, and the summary they print (`load_gateways` and `play_leased` serve
`run_retroformer_eval` too).

Both commands: validate everything first (one line, nothing written), open or resume
the run in --log_dir, hold its lease (a second process on the same directory is told
who has it), play the unfinished items with a progress bar, and on Ctrl-C stop
after saving (the same command continues). A killed process loses at most the turn
in flight.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, OutputWrapper

from environment.runs import RunBusy, lease
from llm.errors import LLMConfigError, LLMError
from llm.gateway import Gateway
from training.envs import ENV_NAMES
from training.models import RiseRun
from training.rise.rollout import RolloutConfig, RolloutSettingsError
from training.services import DEFAULT_BATCH, Gateways, RiseError, RunRequest, finish, open_run, play, turns_file


def default_log_dir(kind: str, env: str) -> Path:
    return Path(settings.STORAGE_DIR) / "rise" / f"{kind}_{env.lower()}"


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="gsm8k", type=str.lower, help=f"one of {', '.join(ENV_NAMES)} (default gsm8k)")
    parser.add_argument(
        "--data_path",
        default=None,
        help="a JSONL file, or a Hugging Face dataset id when online (default: the env's sample set)",
    )
    parser.add_argument("--log_dir", default=None, help="where results go (default storage/rise/<kind>_<env>)")
    parser.add_argument("--max_turns", type=int, default=None)
    parser.add_argument("--num_of_samples", type=int, nargs="+", default=None, help="samples per turn, one per turn")
    parser.add_argument(
        "--context_window",
        type=int,
        default=None,
        help="turns shown to the model: the current one plus up to N-1 earlier ones (default: all)",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems")
    parser.add_argument("--max_tokens", type=int, default=512, help="answer length cap (default 512)")
    parser.add_argument("--temperature", type=float, default=None, help="default: 0 for one sample, 0.7 for several")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--batch_size", type=int, default=DEFAULT_BATCH, help=f"problems per batch (default {DEFAULT_BATCH})"
    )
    parser.add_argument("--name", default="", help="the run's name on the results page (default: the log dir's)")
    parser.add_argument("--overwrite", action="store_true", help="replace a run in --log_dir that had other settings")


def build_request(kind: str, options: dict[str, Any], models: list[str], samples: list[int], turns: int) -> RunRequest:
    if options["limit"] is not None and options["limit"] < 1:
        raise CommandError("--limit must be at least 1")
    try:
        config = RolloutConfig(
            mode="gen" if kind == "gen" else "eval",
            max_turns=turns,
            models=tuple(models),
            num_of_samples=tuple(samples),
            context_window=options["context_window"],
            temperature=options["temperature"],
            max_tokens=options["max_tokens"],
            seed=options["seed"],
        )
    except RolloutSettingsError as exc:
        raise CommandError(str(exc)) from None
    log_dir = Path(options["log_dir"]) if options["log_dir"] else default_log_dir(kind, options["env"])
    return RunRequest(
        kind=kind,
        env=options["env"],
        data_path=options["data_path"],
        log_dir=log_dir,
        rollout=config,
        limit=options["limit"],
        name=options["name"],
    )


def load_gateways(specs: list[str], build: Callable[[str], Gateway] | None = None) -> Gateways:
    """A gateway per spec, all built before any work: a spec that cannot load is one
    line and nothing is lost."""
    gateways = Gateways(build)
    try:
        for spec in dict.fromkeys(specs):
            try:
                gateways(spec)
            except LLMConfigError as exc:
                raise CommandError(f"model {spec!r} cannot load: {str(exc).splitlines()[0]}") from None
    except BaseException:
        gateways.close()
        raise
    return gateways


def execute(
    request: RunRequest,
    *,
    overwrite: bool,
    batch_size: int,
    stdout: OutputWrapper,
    stderr: OutputWrapper,
    build: Callable[[str], Gateway] | None = None,
) -> RiseRun:
    if batch_size < 1:
        raise CommandError("--batch_size must be at least 1")
    try:
        run = open_run(request, overwrite=overwrite)
    except RiseError as exc:
        raise CommandError(str(exc)) from None
    if run.finished is not None:
        stdout.write(f"{run.log_dir} is finished already ({run.total} problems); showing its results")
        return finish(run)
    gateways = load_gateways(list(request.rollout.models), build)
    try:
        play_leased(
            run,
            lambda: _play_with_bar(run, gateways, batch_size, stderr),
            stderr=stderr,
            noun="problems",
            failed="the model failed on every problem of a batch",
            saved="every turn played is saved",
        )
    finally:
        gateways.close()
    return finish(run)


def play_leased(
    run: RiseRun, play: Callable[[], object], *, stderr: OutputWrapper, noun: str, failed: str, saved: str
) -> None:
    """Run `play()` holding the run's lease, its row saying "playing" meanwhile (RISE's
    commands and run_retroformer_eval). Another live holder is a one-line CommandError;
    Ctrl-C says what is saved and exits 130; a model error (`failed`: what went wrong,
    `saved`: what is kept) is recorded on the row and becomes a one-line CommandError.
    The row is "paused" again whatever happens. `noun` names the run's items."""
    try:
        with lease(run):
            RiseRun.objects.filter(pk=run.pk).update(run_state="playing", run_error="")
            play()
    except RunBusy as exc:
        raise CommandError(str(exc)) from None
    except KeyboardInterrupt:
        run.refresh_from_db()
        stderr.write(
            f"stopped: {run.finished_items} of {run.total} {noun} finished and saved in {run.log_dir}; "
            "run the same command again to continue"
        )
        raise SystemExit(130) from None
    except LLMError as exc:
        run.refresh_from_db()
        RiseRun.objects.filter(pk=run.pk).update(run_error=str(exc)[:2000])
        raise CommandError(
            f"{failed} ({str(exc).splitlines()[0]}); "
            f"{run.finished_items} of {run.total} {noun} are finished and {saved}: "
            "check the model (LLM_TIMEOUT, the server), then run the same command again to continue"
        ) from None
    finally:
        RiseRun.objects.filter(pk=run.pk).update(run_state="paused")


def _play_with_bar(run: RiseRun, gateways: Gateways, batch_size: int, stderr: OutputWrapper) -> None:
    from tqdm import tqdm

    with tqdm(
        total=run.total,
        initial=run.finished_items,
        unit="problem",
        desc=f"{run.kind} {run.env}",
        file=sys.stderr,
        disable=None,  # a bar at a terminal, nothing in a log file
        dynamic_ncols=True,
    ) as bar:

        def progress(fresh: RiseRun, turn: int, played: int) -> None:
            bar.n = fresh.finished_items
            bar.set_postfix(turn=turn + 1, refresh=False)
            bar.refresh()

        play(run, gateway_for=gateways, batch_size=batch_size, on_progress=progress)


def report(run: RiseRun, stdout: OutputWrapper) -> None:
    from training.rise.metrics import RiseMetrics

    data = dict(run.metrics)
    data.pop("headline", None)
    metrics = RiseMetrics(**data)
    stdout.write(metrics.table())
    head = metrics.headline()
    if head:
        stdout.write("  ".join(f"{k} {100 * v:.1f}%" for k, v in head.items()))
    stdout.write(f"episodes: {turns_file(run)}")
    if run.kind == "eval":
        log_dir = Path(run.log_dir)
        stdout.write(f"metrics: {log_dir / 'metrics.json'}")
        stdout.write(f"plot: {log_dir / 'accuracy_by_turn.png'} (and .svg)")
