"""`python manage.py run_rise_eval`: RISE's evaluation, sequential or parallel.

    # sequential: five turns, one answer each, the last two turns in the prompt
    python manage.py run_rise_eval --model transformers:runs/ft1 --env gsm8k \\
        --log_dir runs/eval1 --max_turns 5 --num_of_samples 1 1 1 1 1 --context_window 2
    # parallel: five independent answers at turn 1
    python manage.py run_rise_eval --model transformers:runs/ft1 --max_turns 1 --num_of_samples 5

Every turn is played whatever its reward, so the run reports both the paper's metrics
without an oracle (m1@tk: majority vote over turns 1..k) and with one (p1@tk: any turn
1..k right), and acc@t per turn; a parallel run reports mn@t1 and pn@t1 (the paper's
m5@t1 / p5@t1). Definitions: training/rise/metrics.py and docs/rise.md.

All open problems of a turn go to the backend together: one padded batch on the
transformers backend, concurrent requests to a server. It prints the per-turn table
and writes `<log_dir>/<N>_turns.json`, `metrics.json` and `accuracy_by_turn.png/.svg`.
A killed or interrupted run continues when the same command is run again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from training import cli


class Command(BaseCommand):
    help = "Evaluate a model's self-improvement over turns (m1@t, p1@t; parallel mn@t1, pn@t1)."

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_common_arguments(parser)
        parser.add_argument("--model", default=None, help="a gateway spec (default LLM_MODEL)")

    def handle(self, *args: Any, **options: Any) -> None:
        samples = options["num_of_samples"]
        turns = options["max_turns"] or (len(samples) if samples else 5)
        if samples is None:
            samples = [1] * turns
        request = cli.build_request("eval", options, [options["model"] or settings.LLM_MODEL], samples, turns)
        run = cli.execute(
            request,
            overwrite=options["overwrite"],
            batch_size=options["batch_size"],
            stdout=self.stdout,
            stderr=self.stderr,
        )
        cli.report(run, self.stdout)
