"""`python manage.py retroformer_collect`: play tasks with the Retroformer loop and record
every reflection with its reward (training.retroformer_train.collect).

    python manage.py retroformer_collect --env hotpotqa --actor llama_cpp:bundled \\
        --reflector llama_cpp:bundled --trials 4 --out storage/retroformer/reflections.jsonl \\
        [--limit N] [--data PATH] [--max_reflections 3] [--reflector_temperature 0] [--seed 0]

One JSONL row per reflection: {"env", "task_id", "trial", "prompt", "reflection",
"return_before", "return_after", "reward"}, reward = return of trial k+1 - return of
trial k. Each finished task's whole episode goes to <out stem>.episodes.jsonl. The
same command after a kill or Ctrl-C skips the tasks already written and plays the
rest. A reflector sampled at a temperature above 0 gives more varied reflections
(and, run again into another file, same-trial pairs for the reward model).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from llm.errors import LLMError
from training.cli import load_gateways
from training.envs import TEXT_ENV_NAMES, get_text_env
from training.envs.base import BadData, UnknownEnv
from training.retroformer.settings import RetroSettings, RetroSettingsError
from training.retroformer_train.collect import CollectResult, collect, done_task_ids, episodes_path

_D = RetroSettings()


class Command(BaseCommand):
    help = "Play tasks with an actor and a reflector; write each reflection with its return difference."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--env", required=True, type=str.lower, help=f"one of {', '.join(TEXT_ENV_NAMES)}")
        parser.add_argument("--actor", required=True, help="the actor's model spec, e.g. llama_cpp:bundled")
        parser.add_argument("--reflector", required=True, help="the reflector's model spec")
        parser.add_argument("--trials", type=int, default=_D.trials, help=f"trials per task (default {_D.trials})")
        parser.add_argument("--out", required=True, help="the reflection-rewards JSONL (appended to; resumes)")
        parser.add_argument("--limit", type=int, default=None, help="only the first N tasks")
        parser.add_argument("--data", default=None, help="the tasks file (default: the env's sample set)")
        parser.add_argument("--max_reflections", type=int, default=_D.max_reflections)
        parser.add_argument("--actor_temperature", type=float, default=_D.actor_temperature)
        parser.add_argument("--reflector_temperature", type=float, default=_D.reflector_temperature)
        parser.add_argument("--seed", type=int, default=_D.seed)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        if options["trials"] < 2:
            raise CommandError("--trials must be at least 2: a reflection is rewarded by the trial after it")
        try:
            settings = RetroSettings(
                trials=options["trials"],
                max_reflections=options["max_reflections"],
                actor_temperature=options["actor_temperature"],
                reflector_temperature=options["reflector_temperature"],
                seed=options["seed"],
            )
            env = get_text_env(options["env"])
            tasks = env.load(options["data"], limit=options["limit"])
            out = Path(options["out"])
            if out.is_dir():
                raise BadData(f"--out {out} is a folder; give a .jsonl file")
            already = done_task_ids(out, env=env.name)
        except (RetroSettingsError, UnknownEnv, BadData) as exc:
            raise CommandError(str(exc)) from None
        if not tasks:
            raise CommandError(f"no {env.name} tasks to play")
        left = sum(1 for t in tasks if t.id not in already)
        if not left:
            self.stdout.write(f"All {len(tasks)} tasks are already in {out}; nothing to play.")
            return
        if left < len(tasks):
            self.stdout.write(f"Resuming: {len(tasks) - left} of {len(tasks)} tasks are already in {out}.")
        gateways = load_gateways([options["actor"], options["reflector"]])
        try:
            result = self._play(env, tasks, gateways, options, settings, out, left)
        except KeyboardInterrupt:
            raise CommandError(
                f"stopped: finished tasks are saved in {out}; run the same command again to continue"
            ) from None
        except LLMError as exc:
            raise CommandError(
                f"the model server failed ({str(exc).splitlines()[0]}); finished tasks are saved in {out}: "
                "check the model, then run the same command again to continue"
            ) from None
        finally:
            gateways.close()
        skipped = "; ".join(f"{reason}: {n}" for reason, n in sorted(result.skipped.items()))
        self.stdout.write(
            f"Finished {result.finished} task(s) ({result.already} done before): {result.rows} reflection row(s) "
            f"written to {out}" + (f" (not written: {skipped})" if skipped else "") + "."
        )
        self.stdout.write(f"Episodes: {episodes_path(out)}")
        self.stdout.write(
            f"Next: python manage.py retroformer_sft --data {out} --base <model> --out <dir> "
            "(and retroformer_reward / retroformer_policy)"
        )

    def _play(
        self,
        env: Any,
        tasks: list[Any],
        gateways: Any,
        options: dict[str, Any],
        settings: RetroSettings,
        out: Path,
        left: int,
    ) -> CollectResult:
        from tqdm import tqdm

        with tqdm(total=left, unit="task", desc=f"collect {env.name}", file=sys.stderr, disable=None) as bar:

            def on_task(result: CollectResult) -> None:
                bar.n = result.finished
                bar.set_postfix(rows=result.rows, refresh=False)
                bar.refresh()

            return collect(
                env,
                tasks,
                gateways(options["actor"]),
                gateways(options["reflector"]),
                settings=settings,
                out=out,
                on_task=on_task,
                run_label=f"retroformer_collect {env.name}",
            )
