"""RISE finetuning: reward-weighted regression on converted samples.

The third step of RISE (Qu et al. 2024): a causal LM is finetuned on the samples that
training.rise.convert wrote, each a conversation whose LAST assistant message is the
only trained text, weighted by w = exp(reward / T). The objective of one optimizer
step, over the N samples of its batch (every micro-batch of gradient accumulation, on
every process), is

    L = (1/N) * sum_i  w_i * (1/|A_i|) * sum_{t in A_i}  -log p(x_t | x_<t)

where A_i are the labelled token positions of sample i (its last assistant message and
its end token; every other label is -100). Each sample's NLL is a mean over its own
tokens, so a long answer counts as much as a short one and only w_i sets its share;
the weights are not normalised (as in the original), so they scale the step size too.

Why a transformers Trainer subclass and not TRL's SFTTrainer: SFTTrainer's collators
drop unknown columns and its loss is a token-level mean; carrying a per-sample weight
needs a custom collator and a custom compute_loss anyway, and SFTTrainer's own
tokenisation (completion-only / assistant-only masks) would have to be switched off
for ours. What is left of it would be a Trainer, so a Trainer it is.

Gradient accumulation (transformers 5): the Trainer gathers a step's micro-batches
first (`get_batch_samples`) and hands each micro-batch's `compute_loss` a
`num_items_in_batch`, by default the step's count of labelled TOKENS. WeightedTrainer
overrides `get_batch_samples` to count SAMPLES instead (summed over processes when
`average_tokens_across_devices`, the default), divides each micro-batch's weighted sum
by that count, and sets `loss_is_scaled_for_ga = True` so the Trainer does not divide
again: the micro-batch losses add up to L exactly, even when the last accumulation of
an epoch is short or micro-batches differ in size. With several processes, DDP and
DeepSpeed average gradients over processes, so each process's loss is multiplied by
the process count, as the Trainer does for its own token-normalised loss.

Tokenisation is training.rise.convert.tokenize_sample (what conversion counted is what
trains): the chat template when the tokenizer has one, else the gateway's plain
"User: ...\\nAssistant: " rendering (the bundled Gemma 3 270M GGUF has no template);
samples longer than `max_length` are dropped, never truncated (a cut answer would teach
the model to stop mid-answer), and every drop is counted and reported.

Defaults are the paper's where it gives them: learning rate 1e-5, cosine schedule,
warmup ratio 0.04, max length 2048 (and bf16 with DeepSpeed ZeRO-3 on GPUs:
`--bf16 --deepspeed training/rise/ds_zero3.json`). LoRA (PEFT, `lora=True`) adapts
every linear layer of the transformer blocks (attention and MLP projections, not the
output head); it usually wants a larger learning rate (~1e-4) than full finetuning.

Model: a folder, a hub id (online only), a .gguf file (transformers dequantises it into
a torch model) or "bundled" (the bundled Gemma 3 270M GGUF). Weights load in float32;
with bf16 the Trainer trains in mixed precision (DeepSpeed in its bf16 mode), so small
updates at lr 1e-5 are not lost to bf16 rounding of the weights.

Output: `output_dir` loads as `transformers:<output_dir>` through the gateway: the model
(LoRA merged into it; the adapter alone under output_dir/adapter), its tokenizer, in
float32 (bf16 with bf16), and `rise_finetune.json` with the config, the sample counts,
the drops and the final loss. Checkpoints (`checkpoint-<step>`) go to output_dir every
`save_steps`; a run that stops resumes from the last one. torch, transformers and peft
are imported inside functions; nothing here places tensors on devices, so the same
code runs under `accelerate launch` and `torchrun`.
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from training.rise.convert import IGNORE_INDEX, SampleDropped, read_samples, tokenize_sample

RECORD = "rise_finetune.json"
ADAPTER_DIR = "adapter"
LORA_TARGETS = "all-linear"  # PEFT: every nn.Linear in the blocks, the output head excluded
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


class FinetuneError(ValueError):
    """A run that cannot start or finish; the message is one line for the command."""


@dataclass
class FinetuneConfig:
    """One finetuning run; the defaults are the paper's where it gives them (module doc)."""

    model_name_or_path: str
    data_path: str
    output_dir: str
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    learning_rate: float = 1e-5  # paper
    num_train_epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides num_train_epochs
    per_device_train_batch_size: int = 4
    gradient_accumulation_steps: int = 1
    lr_scheduler_type: str = "cosine"  # paper
    warmup_ratio: float = 0.04  # paper
    max_length: int = 2048  # paper
    bf16: bool = False  # the paper trained in bf16 on GPUs; CPUs want float32
    seed: int = 42
    logging_steps: int = 10
    save_steps: int = 500
    deepspeed: str | None = None  # a DeepSpeed config file, e.g. training/rise/ds_zero3.json
    gradient_checkpointing: bool = False
    resume_from_checkpoint: str | None = None

    def check(self) -> None:
        """Raise FinetuneError for a setting the Trainer would reject later or misread."""
        positive = ("per_device_train_batch_size", "gradient_accumulation_steps", "max_length")
        for name in positive:
            if getattr(self, name) < 1:
                raise FinetuneError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise FinetuneError(f"--learning_rate must be above 0, got {self.learning_rate}")
        if self.max_steps <= 0 and not self.num_train_epochs > 0:
            raise FinetuneError("give --num_train_epochs above 0 or --max_steps above 0")
        # transformers 5 reads a warmup_steps below 1 as a ratio: 1.0 would mean one step.
        if not 0 <= self.warmup_ratio < 1:
            raise FinetuneError(f"--warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.logging_steps < 1 or self.save_steps < 1:
            raise FinetuneError("--logging_steps and --save_steps must be at least 1")
        if self.lora and (self.lora_r < 1 or self.lora_alpha <= 0 or not 0 <= self.lora_dropout < 1):
            raise FinetuneError("LoRA needs lora_r >= 1, lora_alpha > 0 and 0 <= lora_dropout < 1")
        if self.deepspeed and not Path(self.deepspeed).is_file():
            raise FinetuneError(f"--deepspeed {self.deepspeed}: no such file")


@dataclass
class FinetuneResult:
    output_dir: Path
    samples: int  # in the data file
    trained_samples: int  # after drops
    dropped: Counter[str] = field(default_factory=Counter)
    global_step: int = 0
    final_loss: float | None = None  # the last logged training loss (averaged over processes)
    train_loss: float | None = None  # the Trainer's mean over the run (the main process's batches)
    resumed_from: str | None = None
    seconds: float = 0.0


# ---- Model and tokenizer -------------------------------------------------------------


def resolve_model(name_or_path: str) -> tuple[str, dict[str, Any]]:
    """(folder or hub id, from_pretrained kwargs): a GGUF loads as `gguf_file=` in its folder."""
    if name_or_path == "bundled":
        from llm.backends.llama_cpp_backend import bundled_gguf_path
        from llm.errors import LLMConfigError

        try:
            path = bundled_gguf_path()
        except LLMConfigError as exc:
            raise FinetuneError(str(exc)) from None
    else:
        path = Path(name_or_path).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise FinetuneError(f"model {name_or_path}: a file must be a .gguf; give a model folder otherwise")
        return str(path.parent), {"gguf_file": path.name}
    if path.is_dir():
        return str(path), {}
    if name_or_path.endswith(".gguf") or name_or_path.startswith((".", "/", "~")):
        raise FinetuneError(f"model {name_or_path}: no such file or folder")
    return name_or_path, {}  # a hub id


def load_tokenizer(name_or_path: str) -> Any:
    """The tokenizer of a folder, hub id, .gguf file or "bundled"; pad = EOS when it has none."""
    from transformers import AutoTokenizer

    folder, kwargs = resolve_model(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        raise FinetuneError(f"cannot load a tokenizer from {name_or_path}: {_one_line(exc)}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # padding is masked by labels, never trained
    return tokenizer


def load_model(name_or_path: str, *, dtype: Any = None) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    folder, kwargs = resolve_model(name_or_path)
    if "gguf_file" in kwargs:
        from transformers import GgufConfig

        # Unpack every weight into a plain dense model. Without this the model keeps
        # the GGUF quantizer's marks (the Trainer refuses to train it, save_pretrained
        # refuses to save it) and, with GGUF kernels installed, packed untrainable layers.
        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    try:
        return AutoModelForCausalLM.from_pretrained(folder, dtype=dtype or torch.float32, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        raise FinetuneError(f"cannot load a causal LM from {name_or_path}: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


# ---- Data ----------------------------------------------------------------------------


class WeightedSamples:
    """A map-style dataset of tokenised samples: input_ids, labels, weight."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.items[index]


def build_dataset(tokenizer: Any, samples: Sequence[Any], *, max_length: int) -> tuple[WeightedSamples, Counter[str]]:
    """Tokenise convert.Sample objects; returns the dataset and the drops by reason."""
    items: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    for sample in samples:
        try:
            tokens = tokenize_sample(tokenizer, sample.messages, max_length=max_length)
        except SampleDropped as exc:
            dropped[exc.reason] += 1
            continue
        items.append({"input_ids": tokens.input_ids, "labels": tokens.labels, "weight": float(sample.weight)})
    return WeightedSamples(items), dropped


class WeightedCollator:
    """Pads a batch on the right (input_ids with the pad id, labels with -100,
    attention_mask 0) and carries the weights as a plain list of floats: a float tensor
    would be cast to bf16 by the Trainer under DeepSpeed, rounding the weights."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        input_ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(features), width), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((len(features), width), dtype=torch.long)
        for row, f in enumerate(features):
            n = len(f["input_ids"])
            input_ids[row, :n] = torch.tensor(f["input_ids"], dtype=torch.long)
            labels[row, :n] = torch.tensor(f["labels"], dtype=torch.long)
            attention_mask[row, :n] = 1
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "labels": labels,
            "weight": [float(f["weight"]) for f in features],
        }


# ---- Loss ----------------------------------------------------------------------------


def per_sample_nll(logits: Any, labels: Any) -> Any:
    """Mean token NLL of each row over its labelled tokens (logits at t predict t+1).
    A row without labelled tokens gives 0."""
    import torch.nn.functional as F

    shifted = logits[:, :-1, :].float()
    targets = labels[:, 1:]
    mask = targets.ne(IGNORE_INDEX)
    nll = F.cross_entropy(
        shifted.reshape(-1, shifted.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX, reduction="none"
    ).view(targets.shape)
    return (nll * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def weighted_loss_sum(logits: Any, labels: Any, weights: Sequence[float] | Any) -> Any:
    """sum_i w_i * mean NLL_i over the rows of one micro-batch."""
    import torch

    per_sample = per_sample_nll(logits, labels)
    w = torch.as_tensor(weights, dtype=torch.float32, device=per_sample.device)
    return (per_sample * w).sum()


@cache
def weighted_trainer_class() -> type:
    """transformers.Trainer with the weighted loss of the module doc (built on first use
    so that importing this module does not import torch)."""
    import torch
    from transformers import Trainer

    class WeightedTrainer(Trainer):  # type: ignore[misc]
        # compute_loss divides by the sample count of the whole optimizer step itself.
        loss_is_scaled_for_ga = True

        def get_batch_samples(self, epoch_iterator: Any, num_batches: int, device: Any) -> tuple[list[Any], Any]:
            """A step's micro-batches and its number of SAMPLES (the base counts tokens)."""
            batch_samples: list[Any] = []
            for _ in range(num_batches):
                try:
                    batch_samples.append(next(epoch_iterator))
                except StopIteration:
                    break
            count = torch.tensor(sum(len(b["weight"]) for b in batch_samples), device=device)
            if self.args.average_tokens_across_devices and self.args.world_size > 1:
                count = self.accelerator.gather(count).sum()
            return batch_samples, count

        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            inputs = dict(inputs)
            labels = inputs.pop("labels")
            weights = inputs.pop("weight")
            outputs = model(**inputs, use_cache=False)
            total = weighted_loss_sum(outputs.logits, labels, weights)
            if model.training and num_items_in_batch is not None:
                loss = total / num_items_in_batch
                if self.args.average_tokens_across_devices and self.args.world_size > 1:
                    # Gradients are averaged over processes; the count was summed over them.
                    loss = loss * self.accelerator.num_processes
            else:  # evaluation: this batch's mean
                loss = total / len(weights)
            return (loss, outputs) if return_outputs else loss

    return WeightedTrainer


def log_last_step_callback() -> Any:
    """A callback that logs the last optimizer step whatever --logging_steps is, so a run
    always records a final loss (the mean since the previous log)."""
    from transformers import TrainerCallback

    class LogLastStep(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if state.max_steps and state.global_step >= state.max_steps:
                control.should_log = True
            return control

    return LogLastStep()


def __getattr__(name: str) -> Any:
    if name == "WeightedTrainer":
        return weighted_trainer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---- Output folder -------------------------------------------------------------------


def is_main_process() -> bool:
    """Rank 0 under torchrun / accelerate launch (they set RANK), else True."""
    return int(os.environ.get("RANK", "0")) == 0


def leave_process_group() -> None:
    """After a run that succeeded, end this process's part in the torchrun / accelerate
    process group, as PyTorch asks of every program that starts one.

    Exiting with the group alive leaves gloo's worker threads to the interpreter's
    teardown, and a rank that has finished its work can die there with SIGABRT
    ("terminate called without an active exception"): the launcher then reports the
    whole run failed. The barrier first, so that no rank tears the group down while
    another still saves. Only after success: a rank that failed exits instead, and the
    launcher stops the others, where a teardown could wait forever on the dead rank.

    Destroying the group only unregisters it: a trainer's DDP wrapper still holds it,
    and its threads live on as long as the trainer does. The caller must have dropped
    its trainer (the training functions return without it); the collection frees one
    that a reference cycle would keep, so the threads end now, not in the teardown."""
    dist = sys.modules.get("torch.distributed")  # not imported: no group to leave
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
        gc.collect()


def read_record(output_dir: str | Path) -> dict[str, Any] | None:
    try:
        data = json.loads((Path(output_dir) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def checkpoints(output_dir: str | Path) -> list[Path]:
    """The Trainer's checkpoint-<step> folders in output_dir, oldest first."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))]
    return [p for _, p in sorted(found)]


def holds_model(output_dir: str | Path) -> bool:
    folder = Path(output_dir)
    return (folder / "config.json").is_file() or any(folder.glob("*.safetensors")) or (folder / ADAPTER_DIR).is_dir()


def plan_output_dir(config: FinetuneConfig, *, overwrite: bool = False) -> tuple[str | None, str]:
    """(checkpoint to resume from or None, a note for the user).

    A folder that holds a model (a finished run, or any other model) is refused unless
    `overwrite`, which starts a new run there: the old run's checkpoints and adapter are
    deleted so a later resume cannot pick them up. Otherwise a run resumes from
    --resume_from_checkpoint, or from the last checkpoint in the folder when the folder's
    record says it was a run of the same model on the same data.
    """
    out = Path(config.output_dir)
    if out.exists() and not out.is_dir():
        raise FinetuneError(f"--output_dir {out} is a file")
    record = read_record(out)
    if not overwrite and (holds_model(out) or (record and record.get("status") == "done")):
        what = "a finished run's model" if record else "a model"
        raise FinetuneError(f"--output_dir {out} already holds {what}; pass --overwrite to replace it")
    explicit = config.resume_from_checkpoint
    if explicit and not Path(explicit).is_dir():
        raise FinetuneError(f"--resume_from_checkpoint {explicit}: no such checkpoint folder")
    if overwrite and is_main_process():
        keep = Path(explicit).resolve() if explicit else None
        for old in [*checkpoints(out), out / ADAPTER_DIR]:
            if old.is_dir() and old.resolve() != keep:
                shutil.rmtree(old)
    if explicit:
        return explicit, f"Resuming from {explicit} (--resume_from_checkpoint)."
    if overwrite:
        return None, ""
    found = checkpoints(out)
    if not found:
        return None, ""
    previous = (record or {}).get("config", {})
    if not (
        _same(previous.get("model_name_or_path"), config.model_name_or_path)
        and _same(previous.get("data_path"), config.data_path)
    ):
        raise FinetuneError(
            f"--output_dir {out} holds checkpoints of another run (other model or data); "
            "pass --overwrite to start over there, or choose another folder"
        )
    return str(found[-1]), f"Resuming from {found[-1]}, the last checkpoint in --output_dir (--overwrite starts over)."


def _silent(_: str) -> None:
    pass


def _same(recorded: Any, given: str) -> bool:
    """Whether a recorded model or data path names the same thing as `given`."""
    if not isinstance(recorded, str):
        return False
    return recorded == given or Path(recorded).expanduser().resolve() == Path(given).expanduser().resolve()


def _write_record(output_dir: Path, data: dict[str, Any]) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    tmp = output_dir / (RECORD + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, output_dir / RECORD)


# ---- The run -------------------------------------------------------------------------


def training_arguments(config: FinetuneConfig) -> Any:
    from transformers import TrainingArguments

    try:
        return TrainingArguments(
            output_dir=config.output_dir,
            learning_rate=config.learning_rate,
            num_train_epochs=config.num_train_epochs,
            max_steps=config.max_steps,
            per_device_train_batch_size=config.per_device_train_batch_size,
            gradient_accumulation_steps=config.gradient_accumulation_steps,
            lr_scheduler_type=config.lr_scheduler_type,
            warmup_steps=config.warmup_ratio,  # below 1: a ratio of the total steps (transformers 5)
            bf16=config.bf16,
            seed=config.seed,
            logging_steps=config.logging_steps,
            save_strategy="steps",
            save_steps=config.save_steps,
            deepspeed=config.deepspeed,
            # transformers 5 calls gradient checkpointing "activation checkpointing";
            # non-reentrant checkpointing also works when only LoRA weights need gradients.
            activation_checkpointing=config.gradient_checkpointing,
            activation_checkpointing_kwargs={"use_reentrant": False} if config.gradient_checkpointing else None,
            remove_unused_columns=False,  # keep "weight" for compute_loss
            report_to="none",
            dataloader_num_workers=0,
            dataloader_pin_memory=_cuda(),  # pinning is for copies to a GPU
        )
    except (ValueError, ImportError) as exc:
        if config.bf16 and "bf16" in str(exc):
            raise FinetuneError("--bf16 needs a GPU with bf16 support; leave it out on CPU") from None
        raise FinetuneError(f"training settings rejected: {_one_line(exc)}") from None


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def apply_lora(model: Any, config: FinetuneConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=LORA_TARGETS,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def merge_adapter(base_name_or_path: str, adapter_dir: str | Path, *, dtype: Any = None) -> Any:
    """A fresh base model with the saved adapter merged into it (on CPU): how a LoRA run
    under DeepSpeed ZeRO-3, whose weights are partitioned, gets its merged model."""
    from peft import PeftModel

    base = load_model(base_name_or_path, dtype=dtype)
    return PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()


def finetune(config: FinetuneConfig, *, overwrite: bool = False, log: Callable[[str], None] = print) -> FinetuneResult:
    """Train (module doc) and save a model the gateway loads as transformers:<output_dir>."""
    started = time.monotonic()
    if not is_main_process():  # one voice under torchrun / accelerate launch
        log = _silent
    config.check()
    data_path = Path(config.data_path)
    if not data_path.is_file():
        raise FinetuneError(f"--data_path {data_path}: no such file")
    samples = read_samples(data_path)  # BadSamples (a ValueError) names the line
    if not samples:
        raise FinetuneError(f"--data_path {data_path}: no samples")

    import torch
    from transformers import set_seed

    # TrainingArguments first: they reject bad settings before anything in output_dir
    # changes, and under DeepSpeed ZeRO-3 they must exist before the model loads, so
    # that from_pretrained partitions the weights as they arrive.
    args = training_arguments(config)
    resume, note = plan_output_dir(config, overwrite=overwrite)
    if note:
        log(note)
    set_seed(config.seed)  # LoRA's initial weights are random
    tokenizer = load_tokenizer(config.model_name_or_path)
    dataset, dropped = build_dataset(tokenizer, samples, max_length=config.max_length)
    for reason, count in sorted(dropped.items()):
        log(f"Dropped {count} sample(s): {reason}")
    if len(dataset) == 0:
        raise FinetuneError(f"no sample of {data_path} can be trained (dropped: {dict(dropped)})")
    model = load_model(config.model_name_or_path)
    if config.lora:
        model = apply_lora(model, config)

    output_dir = Path(config.output_dir)
    record: dict[str, Any] = {
        "status": "running",
        "config": asdict(config),
        "samples": len(samples),
        "trained_samples": len(dataset),
        "dropped": dict(dropped),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if is_main_process():
        _write_record(output_dir, record)

    trainer = weighted_trainer_class()(
        model=model,
        args=args,
        train_dataset=dataset,
        # Padding is masked by labels and attention, so any id serves when there is none.
        data_collator=WeightedCollator(int(tokenizer.pad_token_id or 0)),
        processing_class=tokenizer,
        callbacks=[log_last_step_callback()],
    )
    try:
        outcome = trainer.train(resume_from_checkpoint=resume)
    except (ValueError, OSError) as exc:
        if resume:
            raise FinetuneError(f"cannot resume from {resume}: {_one_line(exc)}") from None
        raise

    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    result = FinetuneResult(
        output_dir=output_dir,
        samples=len(samples),
        trained_samples=len(dataset),
        dropped=dropped,
        global_step=trainer.state.global_step,
        final_loss=float(losses[-1]) if losses else None,
        train_loss=float(outcome.training_loss) if math.isfinite(outcome.training_loss) else None,
        resumed_from=resume,
    )
    save_dtype = torch.bfloat16 if config.bf16 else torch.float32
    save_model(trainer, config, tokenizer, dtype=save_dtype)
    result.seconds = time.monotonic() - started
    if trainer.is_world_process_zero():
        record.update(
            status="done",
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            global_step=result.global_step,
            final_loss=result.final_loss,
            train_loss=result.train_loss,
            resumed_from=resume,
            seconds=round(result.seconds, 1),
            model_spec=f"transformers:{output_dir}",
        )
        _write_record(output_dir, record)
    return result


def save_model(trainer: Any, config: FinetuneConfig, tokenizer: Any, *, dtype: Any) -> None:
    """Write the final model to output_dir (module doc): a full folder in every case."""
    output_dir = Path(config.output_dir)
    if config.lora:
        # The adapter alone, then the merged model. save_model gathers partitioned
        # (ZeRO-3) weights and writes only on the main process.
        trainer.save_model(str(output_dir / ADAPTER_DIR))
        if trainer.is_deepspeed_enabled:
            trainer.accelerator.wait_for_everyone()
            if trainer.is_world_process_zero():
                merged = merge_adapter(config.model_name_or_path, output_dir / ADAPTER_DIR, dtype=dtype)
                merged.save_pretrained(str(output_dir))
                tokenizer.save_pretrained(str(output_dir))
        elif trainer.is_world_process_zero():
            merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
            merged.to(dtype).save_pretrained(str(output_dir))
            tokenizer.save_pretrained(str(output_dir))
    elif trainer.is_deepspeed_enabled:
        trainer.save_model(str(output_dir))  # 16-bit weights gathered from the partitions
    elif trainer.is_world_process_zero():
        model = trainer.accelerator.unwrap_model(trainer.model)
        model.to(dtype).save_pretrained(str(output_dir))
        tokenizer.save_pretrained(str(output_dir))
    trainer.accelerator.wait_for_everyone()
