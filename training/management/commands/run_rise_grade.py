"""manage.py run_rise_grade: re-grade saved completions with the current grader.

    manage.py run_rise_grade --env gsm8k --input answers.jsonl > grades.jsonl

The logic is `training.envs.regrade`; this command only parses arguments and prints.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.envs import ENV_NAMES, BadData, Env, Tally, get_env, regrade


class Command(BaseCommand):
    help = (
        "Re-grade saved answers. Each input line is a JSON object with 'completion' (the model's text) and "
        "'gold' (the dataset's answer field as it comes: GSM8K's solution ending in '#### N', MATH's solution "
        "with \\boxed{}). Prints one JSON line per input line to stdout: line, reward (1 right, 0 wrong, "
        "-1 unreadable), answer, gold_answer, reason; then the summary, e.g. 'accuracy 0.625 (5/8 right, "
        "1 unreadable)', to stderr, so stdout stays pure JSONL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--env",
            required=True,
            type=str.lower,  # "MATH" and "math" both work (the original's --env MATH/math mismatch)
            choices=ENV_NAMES,
            help="the environment whose grader to use",
        )
        parser.add_argument("--input", required=True, help="a JSONL file of {completion, gold} lines, or - for stdin")

    def handle(self, *args: Any, **options: Any) -> None:
        env = get_env(options["env"])
        source = options["input"]
        tally = Tally()
        try:
            if source == "-":
                self._grade(env, sys.stdin, "stdin", tally)
            else:
                path = Path(source)
                if not path.is_file():
                    raise CommandError(f"--input {source}: no such file")
                with path.open(encoding="utf-8") as lines:
                    self._grade(env, lines, path.name, tally)
        except BadData as e:
            raise CommandError(str(e)) from None
        except UnicodeDecodeError:
            raise CommandError(f"--input {source}: not UTF-8 text") from None
        if tally.total == 0:
            raise CommandError(f"--input {source}: no lines to grade")
        self.stderr.write(tally.summary(), style_func=lambda text: text)  # a summary, not an error: no red

    def _grade(self, env: Env, lines: Iterable[str], name: str, tally: Tally) -> None:
        for result in regrade(env, lines, source=name):
            tally.add(result.grade.reward)
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
