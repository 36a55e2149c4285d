"""What the retroformer_sft / _reward / _policy commands share: the training flags, the
settings they make, and the one-line errors they turn into CommandError."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from training.envs.base import BadData, UnknownEnv
from training.retroformer_train.models import TrainSettings
from training.rise.finetune import FinetuneError

# What the trainers raise with a one-line message (TrainError is a FinetuneError).
ONE_LINE_ERRORS: tuple[type[Exception], ...] = (FinetuneError, BadData, UnknownEnv)


def add_train_arguments(parser: argparse.ArgumentParser, defaults: TrainSettings) -> None:
    d = defaults
    parser.add_argument("--data", required=True, help="reflection-rewards JSONL from retroformer_collect")
    parser.add_argument(
        "--base", required=True, help="the model to start from: a folder, .gguf, bundled or transformers:<dir>"
    )
    parser.add_argument("--out", required=True, help="where the trained model goes")
    parser.add_argument("--overwrite", action="store_true", help="replace a model already in --out")
    parser.add_argument("--epochs", type=float, default=d.epochs)
    parser.add_argument("--max_steps", type=int, default=d.max_steps, help="> 0 overrides --epochs")
    parser.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr:g})")
    parser.add_argument("--batch_size", type=int, default=d.batch_size, help="per device")
    parser.add_argument("--grad_accum", type=int, default=d.grad_accum, help="gradient accumulation steps")
    parser.add_argument("--lora_r", type=int, default=d.lora_r, help=f"LoRA rank (default {d.lora_r}, the paper's)")
    parser.add_argument("--lora_alpha", type=int, default=d.lora_alpha, help=f"default {d.lora_alpha} (the paper's)")
    parser.add_argument("--lora_dropout", type=float, default=d.lora_dropout)
    parser.add_argument(
        "--max_length", type=int, default=d.max_length, help="longer samples are dropped (default %(default)s)"
    )
    parser.add_argument("--warmup_ratio", type=float, default=d.warmup_ratio)
    parser.add_argument("--bf16", action="store_true", help="bf16 mixed precision (GPUs)")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--logging_steps", type=int, default=d.logging_steps)
    parser.add_argument("--gradient_checkpointing", action="store_true", help="trade compute for memory")
    parser.add_argument("--deepspeed", default=None, help="a DeepSpeed config, e.g. training/rise/ds_zero3.json")


def settings_from(options: dict[str, Any]) -> TrainSettings:
    names = {f.name for f in fields(TrainSettings)}
    return TrainSettings(**{k: v for k, v in options.items() if k in names})


def loss_text(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else "not logged"
