"""`python manage.py retroformer_reward`: a reward model for reflections, trained on rated
pairs (training.retroformer_train.reward_model; TRL RewardTrainer with LoRA).

    python manage.py retroformer_reward --data storage/retroformer/reflections.jsonl \\
        --base bundled --out storage/retroformer/models/reward \\
        [--min_pairs 4] [--epochs 1] [--lr 1e-4] [--batch_size 4] [--lora_r 16] [--lora_alpha 32] \\
        [--max_length 2048] [--bf16] [--deepspeed CONFIG] [--overwrite]

Pairs: two reflections of the same task with different rewards (the same trial index
when the task has such pairs, else across its trials); the higher reward is "chosen".
Too few pairs is a one-line error saying how many are needed. The model in --out is a
one-output sequence classifier: `retroformer_policy --reward_model <out>` uses it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.retroformer_train.cli import ONE_LINE_ERRORS, add_train_arguments, loss_text, settings_from
from training.retroformer_train.models import TrainSettings, is_main_process
from training.retroformer_train.reward_model import MIN_PAIRS, RewardModelConfig, train_reward_model
from training.rise.finetune import leave_process_group


class Command(BaseCommand):
    help = "Train a reward model (LoRA, one-output head) on rated pairs of reflections of the same task."

    def add_arguments(self, parser: CommandParser) -> None:
        add_train_arguments(parser, TrainSettings())
        parser.add_argument(
            "--min_pairs", type=int, default=MIN_PAIRS, help=f"refuse to train on fewer pairs (default {MIN_PAIRS})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = RewardModelConfig(
            data=options["data"],
            base=options["base"],
            out=options["out"],
            min_pairs=options["min_pairs"],
            settings=settings_from(options),
        )
        try:
            result = train_reward_model(config, overwrite=options["overwrite"], log=self.stdout.write)
        except ONE_LINE_ERRORS as exc:
            raise CommandError(str(exc)) from None
        leave_process_group()
        if not is_main_process():
            return
        accuracy = f"{100 * result.accuracy:.0f}%" if result.accuracy is not None else "n/a"
        self.stdout.write(
            f"Trained on {result.trained_pairs} of {result.pairs} pairs ({result.same_trial_pairs} within a trial) "
            f"for {result.global_step} steps in {result.seconds:.0f}s; final loss {loss_text(result.final_loss)}; "
            f"the saved model prefers the chosen reflection in {accuracy} of its training pairs."
        )
        self.stdout.write(f"Reward model saved in {result.out}. Use it: retroformer_policy --reward_model {result.out}")
