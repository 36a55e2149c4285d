"""`python manage.py run_rise_convert`: RISE episodes to weighted training samples (the
original's workflow_convert).

    python manage.py run_rise_convert --filepath storage/rise/gen_gsm8k/5_turns.json \\
        --output storage/rise/gsm8k_better.jsonl --criteria better \\
        [--model_path bundled|<folder>|<file.gguf>] [--max_length 2048] \\
        [--remove_duplication] [--shuffle] [--seed 0] [--temperature 0.4] [--env gsm8k]

Criteria: all, better (reward above the previous turn's; never turn 1), best (one per
episode, the earliest on ties), success (reward 1). Weight = exp(reward / temperature).
Output: JSONL, one sample per line, {"messages", "weight", "reward", "episode", "turn"};
the LAST message (the assistant's) is the trained one (training.rise.convert).

--model_path names the tokenizer finetuning will use: with it, every sample is
tokenised as finetuning will and samples over --max_length tokens (default 2048, the
paper's) or that the chat template cannot split are dropped; without it, nothing is
tokenised (the original required it; here it is optional). --env is checked against
the known environments and reported; the episodes carry their own prompts, so it
changes nothing else. Every dropped sample is counted by reason in the summary.
Bad input (a missing or malformed file, with its position; an unknown criteria; a
temperature <= 0; --max_length without --model_path) is one line, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from statistics import mean
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.envs.base import BadData
from training.rise.convert import CRITERIA, DEFAULT_TEMPERATURE, convert, read_episodes, write_samples

DEFAULT_MAX_LENGTH = 2048


class Command(BaseCommand):
    help = "Convert RISE episodes (<N>_turns.json) into reward-weighted training samples (JSONL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--filepath", required=True, help="the episodes: a <N>_turns.json from run_rise_gen")
        parser.add_argument("--output", required=True, help="the JSONL file to write")
        parser.add_argument(
            "--model_path",
            default=None,
            help='tokenizer for token counts: a model folder, a .gguf file or "bundled" (default: no counting)',
        )
        parser.add_argument("--env", default=None, type=str.lower, help="the environment the episodes came from")
        parser.add_argument("--criteria", choices=CRITERIA, default="all", help="which actions become samples")
        parser.add_argument("--remove_duplication", action="store_true", help="drop repeated samples")
        parser.add_argument("--shuffle", action="store_true", help="shuffle the samples (with --seed)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--temperature",
            type=float,
            default=DEFAULT_TEMPERATURE,
            help=f"weight = exp(reward / temperature) (default {DEFAULT_TEMPERATURE})",
        )
        parser.add_argument(
            "--max_length",
            type=int,
            default=None,
            help=f"drop samples longer than this many tokens (needs --model_path; default {DEFAULT_MAX_LENGTH})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # call_command(**options) skips argparse's choices and types: check here too.
        if options["criteria"] not in CRITERIA:
            raise CommandError(f"--criteria {options['criteria']}: unknown; use one of {', '.join(CRITERIA)}")
        if options["env"]:
            options["env"] = options["env"].lower()
            self._check_env(options["env"])
        temperature = options["temperature"]
        if not temperature > 0:
            raise CommandError(f"--temperature must be above 0, got {temperature}")
        model_path = options["model_path"]
        max_length = options["max_length"]
        if max_length is not None and model_path is None:
            raise CommandError("--max_length needs --model_path (a tokenizer to count tokens with)")
        if max_length is not None and max_length < 1:
            raise CommandError(f"--max_length must be at least 1, got {max_length}")
        output = Path(options["output"])
        if output.is_dir():
            raise CommandError(f"--output {output} is a folder; give a file name")
        try:
            episodes = read_episodes(options["filepath"])
        except BadData as exc:
            raise CommandError(str(exc)) from None

        tokenizer = None
        if model_path is not None:
            from training.rise.finetune import FinetuneError, load_tokenizer

            try:
                tokenizer = load_tokenizer(model_path)
            except FinetuneError as exc:
                raise CommandError(str(exc)) from None
            max_length = max_length or DEFAULT_MAX_LENGTH
        try:
            result = convert(
                episodes,
                criteria=options["criteria"],
                temperature=temperature,
                remove_duplication=options["remove_duplication"],
                shuffle=options["shuffle"],
                seed=options["seed"],
                tokenizer=tokenizer,
                max_length=max_length,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        written = write_samples(result.samples, output)

        env = f" ({options['env']})" if options["env"] else ""
        self.stdout.write(
            f"Read {result.episodes} episodes{env} with {result.actions} actions from {options['filepath']}; "
            f"criteria {options['criteria']} selected {result.selected}."
        )
        for reason, count in sorted(result.dropped.items()):
            self.stdout.write(f"Dropped {count}: {reason}")
        if not result.dropped:
            self.stdout.write("Dropped 0.")
        rewards = [s.reward for s in result.samples]
        by_reward = ", ".join(f"reward {r}: {rewards.count(r)}" for r in sorted(set(rewards)))
        self.stdout.write(f"Wrote {written} samples to {output}" + (f" ({by_reward})" if by_reward else "") + ".")
        if result.token_counts:
            self.stdout.write(
                f"Tokens per sample: mean {mean(result.token_counts):.0f}, max {max(result.token_counts)} "
                f"(limit {max_length})."
            )
        if written == 0:
            self.stderr.write("No samples: nothing to train on with these criteria.")

    def _check_env(self, name: str) -> None:
        from training import envs

        known = getattr(envs, "ENV_NAMES", None)
        if known is not None and name not in known:
            raise CommandError(f"--env {name}: unknown; use one of {', '.join(known)}")
