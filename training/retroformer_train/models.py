"""Models for training the retrospective model: the base, LoRA, the output folder.

The base (`--base`) is anything the gateway or RISE's finetuning names a model by:
a gateway spec (`transformers:<dir>`, `transformers:/m.gguf`, `transformers:bundled`,
`llama_cpp:bundled`, `llama_cpp:/m.gguf`, `vllm:<dir>`), a model folder, a .gguf file,
"bundled" (the bundled Gemma 3 270M GGUF, dequantised into a torch model) or a hub id
(online only). Loading is training.rise.finetune's (shared): float32 weights, GGUF
dequantised, pad = EOS when the tokenizer has none.

Every run trains LoRA adapters (PEFT, every linear layer of the blocks; r 16, alpha 32
by default, as the paper's PPO) and saves, in `--out`:
- the model with the adapter merged (config.json, *.safetensors) and its tokenizer, so
  the gateway's transformers backend loads the folder as `transformers:<out>` (the
  reward model is a sequence classifier with one output: `RewardScorer` loads it);
- `adapter/`: the adapter alone (with the base named in its adapter_config.json);
- `retroformer_train.json`: what was trained, from what, with which settings, and the
  spec to use.

Merging: on one process, or under DDP, the trained PeftModel is merged in place; under
DeepSpeed ZeRO-3 (weights partitioned) the saved adapter is merged into a fresh base on
the main process, as RISE does. torch, transformers and peft are imported inside
functions, so importing this module is cheap.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training.rise.finetune import FinetuneError, holds_model, is_main_process, load_tokenizer, resolve_model

RECORD = "retroformer_train.json"
ADAPTER_DIR = "adapter"
LORA_TARGETS = "all-linear"  # PEFT: every nn.Linear of the blocks, not the output head


class TrainError(FinetuneError):
    """A run that cannot start or finish; the message is one line for the command."""


def base_name(spec_or_path: str) -> str:
    """What RISE's loaders take (a folder, .gguf, "bundled" or hub id) for a --base that
    may be a gateway spec; TrainError for a served model (nothing local to train)."""
    text = spec_or_path.strip()
    if not text:
        raise TrainError("--base is empty; give a model folder, a .gguf file, bundled or transformers:<dir>")
    backend, sep, rest = text.partition(":")
    if sep and backend in ("transformers", "llama_cpp", "vllm"):
        target = rest.partition("?")[0]
        if not target:
            raise TrainError(f"--base {spec_or_path}: names no model after {backend}:")
        return target
    if sep and backend == "openai":
        raise TrainError(f"--base {spec_or_path}: a served model cannot be trained here; give its weights' folder")
    return text


def check_base(spec_or_path: str) -> str:
    """The base's name for the loaders, after checking that it exists (no loading)."""
    name = base_name(spec_or_path)
    try:
        resolve_model(name)
    except FinetuneError as exc:
        raise TrainError(f"--base: {exc}") from None
    return name


def tokenizer_for(name: str) -> Any:
    try:
        tokenizer = load_tokenizer(name)
    except FinetuneError as exc:
        raise TrainError(str(exc)) from None
    return tokenizer


def load_causal_lm(name: str) -> Any:
    from training.rise.finetune import load_model

    try:
        return load_model(name)
    except FinetuneError as exc:
        raise TrainError(str(exc)) from None


def load_sequence_classifier(name: str, *, pad_token_id: int | None = None) -> Any:
    """The base with a one-output classification head (new, random) for a reward model."""
    import torch
    from transformers import AutoModelForSequenceClassification

    folder, kwargs = resolve_model(name)
    if "gguf_file" in kwargs:
        from transformers import GgufConfig

        kwargs["quantization_config"] = GgufConfig(dequantize=True)  # a plain dense model (see RISE)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=1, dtype=torch.float32, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        raise TrainError(f"cannot load {name} as a sequence classifier: {_one_line(exc)}") from None
    if pad_token_id is not None:
        # The classifier reads the last token that is not padding: it must know the pad id.
        model.config.pad_token_id = pad_token_id
    return model


def lora_config(*, r: int, alpha: int, dropout: float, task_type: str) -> Any:
    """LoRA on every linear layer; task_type SEQ_CLS also trains (and saves) the new head."""
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=LORA_TARGETS, task_type=task_type)


def check_lora(r: int, alpha: float, dropout: float) -> None:
    if r < 1 or alpha <= 0 or not 0 <= dropout < 1:
        raise TrainError(
            f"LoRA needs --lora_r >= 1, --lora_alpha > 0 and 0 <= --lora_dropout < 1 (got {r}, {alpha}, {dropout})"
        )


def check_output_dir(out: str | Path, *, overwrite: bool) -> Path:
    """Refuse a file, or a folder that holds a model, unless `overwrite`."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise TrainError(f"--out {folder} is a file")
    if not overwrite and (holds_model(folder) or (folder / RECORD).is_file()):
        raise TrainError(f"--out {folder} already holds a model; pass --overwrite to replace it")
    return folder


def clear_output_dir(out: Path) -> None:
    """Before an --overwrite run: the old adapter would otherwise outlive the new model."""
    if is_main_process() and (out / ADAPTER_DIR).is_dir():
        shutil.rmtree(out / ADAPTER_DIR)


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def save_merged(trainer: Any, *, tokenizer: Any, out: Path, reload_base: Callable[[], Any], bf16: bool) -> None:
    """Save the adapter, then the merged model and the tokenizer (module doc); every
    process calls this (saving gathers partitioned weights), the main one writes."""
    import torch

    dtype = torch.bfloat16 if bf16 else torch.float32
    trainer.save_model(str(out / ADAPTER_DIR))
    trainer.accelerator.wait_for_everyone()
    if trainer.is_world_process_zero():
        if trainer.is_deepspeed_enabled:
            from peft import PeftModel

            merged = PeftModel.from_pretrained(reload_base(), str(out / ADAPTER_DIR)).merge_and_unload()
        else:
            merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
        merged.to(dtype).save_pretrained(str(out))
        tokenizer.save_pretrained(str(out))
    trainer.accelerator.wait_for_everyone()


def write_record(out: Path, data: dict[str, Any]) -> None:
    if not is_main_process():
        return
    out.mkdir(parents=True, exist_ok=True)
    data = {**data, "written": datetime.now(UTC).isoformat(timespec="seconds")}
    tmp = out / (RECORD + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, out / RECORD)


def read_record(out: str | Path) -> dict[str, Any] | None:
    try:
        data = json.loads((Path(out) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def final_loss(trainer: Any, key: str = "loss") -> float | None:
    losses = [entry[key] for entry in trainer.state.log_history if key in entry]
    return float(losses[-1]) if losses else None


def log_last_step_callback() -> Any:
    """Log the last optimizer step whatever --logging_steps is (a final loss always)."""
    from training.rise.finetune import log_last_step_callback as rise_callback

    return rise_callback()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


# ---- Settings every trainer shares -------------------------------------------------


@dataclass
class TrainSettings:
    """The knobs every command takes (--epochs, --lr, ...); each trainer adds its own."""

    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    lr: float = 1e-4  # LoRA wants a larger rate than full finetuning
    batch_size: int = 4  # per device
    grad_accum: int = 1
    lora_r: int = 16  # the paper's PPO
    lora_alpha: int = 32  # the paper's PPO
    lora_dropout: float = 0.05
    max_length: int = 2048  # longer samples are dropped (counted), never truncated
    warmup_ratio: float = 0.03
    bf16: bool = False  # GPUs; CPUs train in float32
    seed: int = 42
    logging_steps: int = 10
    gradient_checkpointing: bool = False
    deepspeed: str | None = None  # a DeepSpeed config, e.g. training/rise/ds_zero3.json

    def check(self) -> None:
        for name in ("batch_size", "grad_accum", "max_length", "logging_steps"):
            if getattr(self, name) < 1:
                raise TrainError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise TrainError(f"--lr must be above 0, got {self.lr}")
        if self.max_steps <= 0 and not self.epochs > 0:
            raise TrainError("give --epochs above 0 or --max_steps above 0")
        if not 0 <= self.warmup_ratio < 1:
            raise TrainError(f"--warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        check_lora(self.lora_r, self.lora_alpha, self.lora_dropout)
        if self.deepspeed and not Path(self.deepspeed).is_file():
            raise TrainError(f"--deepspeed {self.deepspeed}: no such file")


def trainer_arguments(config_cls: Any, settings: TrainSettings, out: Path, **extra: Any) -> Any:
    """A TRL config (SFTConfig, RewardConfig, GRPOConfig) from the shared settings.

    Set explicitly where TRL's defaults do not suit a CPU smoke run: bf16 (TRL turns it
    on by default), gradient checkpointing (on by default in TRL), no checkpoints (the
    runs are short; the final model is saved by save_merged), no reporting services."""
    try:
        return config_cls(
            output_dir=str(out),
            learning_rate=settings.lr,
            num_train_epochs=settings.epochs,
            max_steps=settings.max_steps,
            per_device_train_batch_size=settings.batch_size,
            gradient_accumulation_steps=settings.grad_accum,
            warmup_steps=settings.warmup_ratio,  # below 1: a ratio of the total steps (transformers 5)
            lr_scheduler_type="cosine",
            bf16=settings.bf16,
            seed=settings.seed,
            logging_steps=settings.logging_steps,
            save_strategy="no",
            report_to="none",
            activation_checkpointing=settings.gradient_checkpointing,
            activation_checkpointing_kwargs={"use_reentrant": False} if settings.gradient_checkpointing else None,
            deepspeed=settings.deepspeed,
            dataloader_num_workers=0,
            dataloader_pin_memory=cuda_available(),
            **extra,
        )
    except (ValueError, ImportError) as exc:
        if settings.bf16 and "bf16" in str(exc):
            raise TrainError("--bf16 needs a GPU with bf16 support; leave it out on CPU") from None
        raise TrainError(f"training settings rejected: {_one_line(exc)}") from None
