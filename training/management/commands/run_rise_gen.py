"""`python manage.py run_rise_gen`: RISE's multi-turn data generation.

    python manage.py run_rise_gen --env gsm8k --data_path train.jsonl --log_dir runs/gen1 \\
        --max_turns 3 --models llama_cpp:bundled openai:gpt-4o-mini openai:gpt-4o-mini \\
        --num_of_samples 1 4 4 [--limit 100]

Turn t is answered by model t (any gateway spec; one spec serves every turn) with n_t
samples, and the best sample is kept; an episode ends at its first right turn. After a
wrong turn the environment says only that the answer was wrong and asks again. The
episodes go to `<log_dir>/<max_turns>_turns.json` in the original's shape
(training.rise.trajectory); `run_rise_convert` turns them into training data.

Iteration 1 of the paper (distillation) uses a stronger model for the later turns;
iteration 2 (self-distillation) uses the model itself with many samples (e.g. 16).
A killed or interrupted run continues when the same command is run again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from training import cli


class Command(BaseCommand):
    help = "Generate multi-turn RISE episodes (turn t from model t, best of n_t samples)."

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_common_arguments(parser)
        parser.add_argument(
            "--models", nargs="+", default=None, help="a gateway spec per turn, or one for all (default LLM_MODEL)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        turns = options["max_turns"] or (len(options["num_of_samples"]) if options["num_of_samples"] else 2)
        models = options["models"] or [settings.LLM_MODEL]
        samples = options["num_of_samples"] or [1] * turns
        request = cli.build_request("gen", options, models, samples, turns)
        run = cli.execute(
            request,
            overwrite=options["overwrite"],
            batch_size=options["batch_size"],
            stdout=self.stdout,
            stderr=self.stderr,
        )
        solved = run.items.filter(solved=True).count()
        self.stdout.write(f"{run.total} episodes, {solved} solved within {turns} turns")
        cli.report(run, self.stdout)
