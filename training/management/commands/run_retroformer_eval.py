"""`python manage.py run_retroformer_eval`: Retroformer's evaluation, success by trial.

    python manage.py run_retroformer_eval --env hotpotqa --actor llama_cpp:bundled \\
        --reflector transformers:/abs/storage/retroformer/models/policy --trials 4 \\
        [--limit N] [--data PATH] [--log_dir DIR] [--max_reflections 3] [--overwrite]

Every task is played for up to --trials trials with the actor (a frozen model); after
each failed trial the reflector writes a reflection that goes into the actor's prompt
for the next one (training/retroformer). The open tasks' next steps go to the actor
together each round (one batch), so tasks run concurrently through the gateway.

It prints the success rate per trial (a task won at trial k counts as won at every
later trial, as Reflexion and Retroformer report it) with the mean reward and the
paper's figures beside it, and writes `<log_dir>/retroformer_eval.json` (the settings,
success and mean reward per trial, every episode) and `success_by_trial.png`/`.svg`.
The run is stored in the database (the results page /training/ shows it) and saved
after every round: the same command after Ctrl-C or a kill continues where it stopped;
the same --log_dir with other settings is refused unless --overwrite.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from llm.errors import LLMConfigError
from llm.spec import parse_model_spec
from training import retroformer_runs as retro
from training.cli import load_gateways, play_leased
from training.envs import TEXT_ENV_NAMES
from training.models import RiseRun
from training.retroformer.paper import SOURCE
from training.retroformer.settings import RetroSettings, RetroSettingsError
from training.services import Gateways, RiseError

_D = RetroSettings()


class Command(BaseCommand):
    help = "Evaluate an actor with a reflector over trials (Retroformer): success rate per trial."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--env", required=True, type=str.lower, help=f"one of {', '.join(TEXT_ENV_NAMES)}")
        parser.add_argument("--actor", default=None, help="the actor's model spec (default LLM_MODEL)")
        parser.add_argument("--reflector", default=None, help="the reflector's model spec (default: the actor's)")
        parser.add_argument("--trials", type=int, default=_D.trials, help=f"trials per task (default {_D.trials})")
        parser.add_argument("--limit", type=int, default=None, help="only the first N tasks")
        parser.add_argument("--data", default=None, help="the tasks file (default: the env's sample set)")
        parser.add_argument("--log_dir", default=None, help="where results go (default storage/retroformer/eval_<env>)")
        parser.add_argument("--name", default="", help="the run's name on the results page (default: the log dir's)")
        parser.add_argument(
            "--overwrite", action="store_true", help="replace a run in --log_dir that had other settings"
        )
        parser.add_argument(
            "--max_reflections",
            type=int,
            default=_D.max_reflections,
            help=f"reflections in the actor's prompt (default {_D.max_reflections})",
        )
        parser.add_argument("--actor_temperature", type=float, default=_D.actor_temperature)
        parser.add_argument("--reflector_temperature", type=float, default=_D.reflector_temperature)
        parser.add_argument("--actor_max_tokens", type=int, default=_D.actor_max_tokens)
        parser.add_argument("--reflector_max_tokens", type=int, default=_D.reflector_max_tokens)
        parser.add_argument(
            "--step_timeout", type=float, default=_D.step_timeout, help="seconds for one environment call"
        )
        parser.add_argument(
            "--trial_timeout", type=float, default=_D.trial_timeout, help="wall-clock seconds for one trial"
        )
        parser.add_argument("--seed", type=int, default=_D.seed)

    def handle(self, *args: Any, **options: Any) -> None:
        request = _request(options)
        overwrite = bool(options["overwrite"])
        try:
            prepared = retro.prepare(request, overwrite=overwrite)
        except RiseError as exc:
            raise CommandError(str(exc)) from None
        held = prepared.run
        if held is not None and held.finished is not None and not overwrite:
            self.stdout.write(f"{held.log_dir} is finished already ({held.total} tasks); showing its results")
            report(retro.finish(held), self.stdout)
            return
        gateways = load_gateways([request.actor, request.reflector])
        try:
            run = retro.open_run(prepared, overwrite=overwrite)
            play_leased(
                run,
                lambda: _play_with_bar(run, gateways, request, self.stderr),
                stderr=self.stderr,
                noun="tasks",
                failed="the model server stopped answering",
                saved="every round played is saved",
            )
        except RiseError as exc:
            raise CommandError(str(exc)) from None
        finally:
            gateways.close()
        report(retro.finish(RiseRun.objects.get(pk=run.pk)), self.stdout)


def _request(options: dict[str, Any]) -> retro.RetroRequest:
    """The request the flags describe; every flag checked (one line) before anything runs."""
    if options["limit"] is not None and options["limit"] < 1:
        raise CommandError("--limit must be at least 1")
    try:
        settings = RetroSettings(
            trials=options["trials"],
            max_reflections=options["max_reflections"],
            actor_max_tokens=options["actor_max_tokens"],
            actor_temperature=options["actor_temperature"],
            reflector_max_tokens=options["reflector_max_tokens"],
            reflector_temperature=options["reflector_temperature"],
            step_timeout=options["step_timeout"],
            trial_timeout=options["trial_timeout"],
            seed=options["seed"],
        )
    except RetroSettingsError as exc:
        raise CommandError(str(exc)) from None
    actor = (options["actor"] or django_settings.LLM_MODEL).strip()
    reflector = (options["reflector"] or actor).strip()
    for flag, spec in (("--actor", actor), ("--reflector", reflector)):
        try:
            parse_model_spec(spec)
        except LLMConfigError as exc:
            # The parser names the LLM_MODEL setting; here the spec came from a flag.
            raise CommandError(f"{flag}: " + str(exc).splitlines()[0].replace("LLM_MODEL=", "")) from None
    env = options["env"].strip()
    log_dir = Path(options["log_dir"]) if options["log_dir"] else retro.default_log_dir(env)
    return retro.RetroRequest(
        env=env,
        data_path=options["data"],
        log_dir=log_dir,
        settings=settings,
        actor=actor,
        reflector=reflector,
        limit=options["limit"],
        name=options["name"],
    )


def _play_with_bar(run: RiseRun, gateways: Gateways, request: retro.RetroRequest, stderr: OutputWrapper) -> None:
    from tqdm import tqdm

    with tqdm(
        total=run.total,
        initial=run.finished_items,
        unit="task",
        desc=f"retroformer {run.env}",
        file=sys.stderr,
        disable=None,  # a bar at a terminal, nothing in a log file
        dynamic_ncols=True,
    ) as bar:
        bar.set_postfix(trials=run.turns_played, refresh=False)

        def progress(fresh: RiseRun) -> None:
            bar.n = fresh.finished_items
            bar.set_postfix(trials=fresh.turns_played, refresh=False)
            bar.refresh()

        retro.play(
            run,
            actor=gateways(request.actor),
            reflector=gateways(request.reflector),
            on_progress=progress,
        )


def report(run: RiseRun, stdout: OutputWrapper) -> None:
    metrics = run.metrics if isinstance(run.metrics, dict) else {}
    stdout.write(f"{run.env}: {metrics.get('tasks', run.total)} tasks, {metrics.get('trials', '?')} trials")
    stdout.write(retro.success_table(metrics))
    stdout.write("paper: " + SOURCE)
    log_dir = Path(run.log_dir)
    stdout.write(f"results: {retro.eval_json(run)}")
    stdout.write(f"plot: {log_dir / retro.PLOT_STEM}.png (and .svg)")
