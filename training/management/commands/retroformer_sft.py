"""`python manage.py retroformer_sft`: SFT of the retrospective model on the reflections
that helped (training.retroformer_train.sft; TRL SFTTrainer with LoRA).

    python manage.py retroformer_sft --data storage/retroformer/reflections.jsonl \\
        --base bundled --out storage/retroformer/models/sft \\
        [--min_reward 0] [--epochs 1] [--max_steps -1] [--lr 1e-4] [--batch_size 4] \\
        [--grad_accum 1] [--lora_r 16] [--lora_alpha 32] [--max_length 2048] [--bf16] \\
        [--deepspeed training/rise/ds_zero3.json] [--gradient_checkpointing] [--overwrite]

On GPUs: `accelerate launch manage.py retroformer_sft ... --bf16`, or `torchrun
--nproc_per_node N manage.py retroformer_sft ...`. The model in --out loads as
`--reflector transformers:<out>`; the command prints the spec at the end.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.retroformer_train.cli import ONE_LINE_ERRORS, add_train_arguments, loss_text, settings_from
from training.retroformer_train.models import TrainSettings, is_main_process
from training.retroformer_train.sft import SftConfig, train_sft
from training.rise.finetune import leave_process_group


class Command(BaseCommand):
    help = "Finetune the retrospective model (LoRA) on reflections whose next trial did better."

    def add_arguments(self, parser: CommandParser) -> None:
        add_train_arguments(parser, TrainSettings())
        parser.add_argument(
            "--min_reward", type=float, default=0.0, help="train on reflections with a reward above this (default 0)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = SftConfig(
            data=options["data"],
            base=options["base"],
            out=options["out"],
            min_reward=options["min_reward"],
            settings=settings_from(options),
        )
        try:
            result = train_sft(config, overwrite=options["overwrite"], log=self.stdout.write)
        except ONE_LINE_ERRORS as exc:
            raise CommandError(str(exc)) from None
        leave_process_group()
        if not is_main_process():
            return
        dropped = ", ".join(f"{reason} {n}" for reason, n in sorted(result.dropped.items())) or "none"
        self.stdout.write(
            f"Trained on {result.trained} of {result.helpful} helpful reflections ({result.rows} in the file; "
            f"dropped: {dropped}) for {result.global_step} steps in {result.seconds:.0f}s; "
            f"final loss {loss_text(result.final_loss)}."
        )
        self.stdout.write(f"Model saved in {result.out}. Use it as the reflector: --reflector {result.spec}")
