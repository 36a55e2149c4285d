"""`python manage.py run_rise_finetune`: reward-weighted finetuning on converted RISE
samples (training.rise.finetune has the loss, the masking and the saving).

    python manage.py run_rise_finetune --model_name_or_path bundled \\
        --data_path storage/rise/gsm8k_better.jsonl --output_dir storage/rise/models/it1 \\
        [--lora] [--learning_rate 1e-5] [--num_train_epochs 1] [--max_steps -1] \\
        [--per_device_train_batch_size 4] [--gradient_accumulation_steps 1] \\
        [--lr_scheduler_type cosine] [--warmup_ratio 0.04] [--max_length 2048] [--bf16] \\
        [--seed 42] [--logging_steps 10] [--save_steps 500] [--deepspeed training/rise/ds_zero3.json] \\
        [--gradient_checkpointing] [--resume_from_checkpoint DIR] [--overwrite]

Multi-GPU, unchanged: `accelerate launch --num_processes 8 manage.py run_rise_finetune ...
--deepspeed training/rise/ds_zero3.json --bf16`, or `torchrun --nproc_per_node 8
manage.py run_rise_finetune ...` (docs/rise_training.md).

The model is a folder, a hub id (online only), a .gguf file or "bundled". The result in
--output_dir loads as `transformers:<output_dir>` (the gateway's transformers backend).
An --output_dir that already holds a model is refused unless --overwrite; a run that
stopped resumes from its last checkpoint there (said so), or from
--resume_from_checkpoint. Bad input (a missing or malformed data file, an unloadable
model, a bad setting) is one line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.envs.base import BadData
from training.rise.finetune import FinetuneConfig, FinetuneError, finetune, is_main_process, leave_process_group

_DEFAULTS = FinetuneConfig(model_name_or_path="", data_path="", output_dir="")


class Command(BaseCommand):
    help = "Finetune a causal LM on RISE samples with the per-sample weighted loss (reward-weighted regression)."

    def add_arguments(self, parser: CommandParser) -> None:
        d = _DEFAULTS
        parser.add_argument("--model_name_or_path", required=True, help='a folder, hub id, .gguf file or "bundled"')
        parser.add_argument("--data_path", required=True, help="samples JSONL from run_rise_convert")
        parser.add_argument("--output_dir", required=True, help="where the model, checkpoints and record go")
        parser.add_argument("--overwrite", action="store_true", help="replace a model already in --output_dir")
        parser.add_argument("--lora", action="store_true", help="train LoRA adapters (merged into the saved model)")
        parser.add_argument("--lora_r", type=int, default=d.lora_r)
        parser.add_argument("--lora_alpha", type=int, default=d.lora_alpha)
        parser.add_argument("--lora_dropout", type=float, default=d.lora_dropout)
        parser.add_argument("--learning_rate", type=float, default=d.learning_rate, help="default 1e-5 (paper)")
        parser.add_argument("--num_train_epochs", type=float, default=d.num_train_epochs)
        parser.add_argument("--max_steps", type=int, default=d.max_steps, help="> 0 overrides --num_train_epochs")
        parser.add_argument("--per_device_train_batch_size", type=int, default=d.per_device_train_batch_size)
        parser.add_argument("--gradient_accumulation_steps", type=int, default=d.gradient_accumulation_steps)
        parser.add_argument("--lr_scheduler_type", default=d.lr_scheduler_type, help="default cosine (paper)")
        parser.add_argument("--warmup_ratio", type=float, default=d.warmup_ratio, help="default 0.04 (paper)")
        parser.add_argument(
            "--max_length", type=int, default=d.max_length, help="longer samples are dropped; default 2048 (paper)"
        )
        parser.add_argument("--bf16", action="store_true", help="bf16 mixed precision (GPUs; the paper's setting)")
        parser.add_argument("--seed", type=int, default=d.seed)
        parser.add_argument("--logging_steps", type=int, default=d.logging_steps)
        parser.add_argument("--save_steps", type=int, default=d.save_steps)
        parser.add_argument("--deepspeed", default=None, help="a DeepSpeed config, e.g. training/rise/ds_zero3.json")
        parser.add_argument("--gradient_checkpointing", action="store_true", help="trade compute for memory")
        parser.add_argument("--resume_from_checkpoint", default=None, help="a checkpoint-<step> folder")

    def handle(self, *args: Any, **options: Any) -> None:
        fields = set(FinetuneConfig.__dataclass_fields__)
        config = FinetuneConfig(**{k: v for k, v in options.items() if k in fields})
        try:
            result = finetune(config, overwrite=options["overwrite"], log=self.stdout.write)
        except (FinetuneError, BadData) as exc:
            raise CommandError(str(exc)) from None
        leave_process_group()
        if not is_main_process():
            return  # the summary once, from the main process
        dropped = ", ".join(f"{reason} {n}" for reason, n in sorted(result.dropped.items())) or "none"
        loss = f"{result.final_loss:.4f}" if result.final_loss is not None else "not logged"
        self.stdout.write(
            f"Trained {result.trained_samples} of {result.samples} samples (dropped: {dropped}) for "
            f"{result.global_step} steps in {result.seconds:.0f}s; final loss {loss}."
        )
        self.stdout.write(f"Model saved in {result.output_dir}: use it as LLM model transformers:{result.output_dir}")
