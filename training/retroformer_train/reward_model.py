"""A reward model for reflections (TRL RewardTrainer, LoRA on a sequence classifier).

It learns to score a (reflector prompt, reflection) pair so that, of two reflections
of the same task, the one whose next trial gained more scores higher: the
Bradley-Terry loss -log sigmoid(r_chosen - r_rejected) of RewardTrainer, on the rated
pairs of data.form_pairs (how pairs are formed: that module's doc and
docs/retroformer.md). The policy can then use it instead of playing the environment
(`retroformer_policy --reward_model DIR`).

The model is the base with a new one-output head (AutoModelForSequenceClassification,
num_labels=1); LoRA (task SEQ_CLS) adapts the blocks and trains the head in full. A
sequence is tokenised exactly as SFT tokenises a sample (the gateway's rendering of
the prompt, then the reflection, then EOS without a chat template), so the score is
read at the reflection's last token. Pairs are handed to RewardTrainer tokenised
(`chosen_ids`, `rejected_ids`); a pair with a side longer than `max_length` is dropped
and counted.

Saved like every run here (models.py): the merged classifier and tokenizer in --out,
the adapter in --out/adapter, and retroformer_train.json with the pair counts and the
saved model's accuracy on its training pairs. `RewardScorer(out)` loads it and scores.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llm.types import Message
from training.envs.base import BadData
from training.retroformer_train.data import Pair, ReflectionRow, form_pairs, read_reflections
from training.retroformer_train.models import (
    TrainError,
    TrainSettings,
    check_base,
    check_output_dir,
    clear_output_dir,
    final_loss,
    is_main_process,
    load_sequence_classifier,
    log_last_step_callback,
    lora_config,
    read_record,
    save_merged,
    tokenizer_for,
    trainer_arguments,
    write_record,
)
from training.retroformer_train.sft import sample_messages
from training.rise.convert import SampleDropped, tokenize_sample

MIN_PAIRS = 4  # below this a reward model is noise; --min_pairs lowers it for smoke runs


@dataclass
class RewardModelConfig:
    data: str
    base: str
    out: str
    min_pairs: int = MIN_PAIRS
    settings: TrainSettings = field(default_factory=TrainSettings)


@dataclass
class RewardModelResult:
    out: Path
    rows: int
    pairs: int  # formed
    same_trial_pairs: int
    trained_pairs: int  # after drops
    dropped: Counter[str] = field(default_factory=Counter)
    global_step: int = 0
    final_loss: float | None = None
    accuracy: float | None = None  # of the saved model on the training pairs (main process)
    seconds: float = 0.0


def sequence_ids(tokenizer: Any, row: ReflectionRow, *, max_length: int | None = None) -> list[int]:
    """The tokens a reflection is scored on (SFT's tokenisation; SampleDropped if too long)."""
    return tokenize_sample(tokenizer, sample_messages(row), max_length=max_length).input_ids


def build_dataset(tokenizer: Any, pairs: Sequence[Pair], *, max_length: int) -> tuple[Any, Counter[str]]:
    """(datasets.Dataset with chosen_ids and rejected_ids, drops by reason)."""
    from datasets import Dataset

    chosen: list[list[int]] = []
    rejected: list[list[int]] = []
    dropped: Counter[str] = Counter()
    for pair in pairs:
        try:
            a = sequence_ids(tokenizer, pair.chosen, max_length=max_length)
            b = sequence_ids(tokenizer, pair.rejected, max_length=max_length)
        except SampleDropped as exc:
            dropped[exc.reason] += 1
            continue
        chosen.append(a)
        rejected.append(b)
    return Dataset.from_dict({"chosen_ids": chosen, "rejected_ids": rejected}), dropped


def too_few_pairs(path: str, rows: Sequence[ReflectionRow], pairs: Sequence[Pair], needed: int) -> BadData:
    tasks = len({r.task_key for r in rows})
    return BadData(
        f"{path}: {len(pairs)} rated pair(s) from {len(rows)} reflections of {tasks} task(s); the reward model needs "
        f"at least {needed} (pairs are two reflections of the same task with different rewards): collect more "
        "tasks or trials, or lower --min_pairs"
    )


def prepare(config: RewardModelConfig, *, overwrite: bool = False) -> tuple[list[ReflectionRow], list[Pair], str]:
    """Every check that needs no model: (rows, pairs, base name). One-line errors."""
    config.settings.check()
    if config.min_pairs < 1:
        raise TrainError(f"--min_pairs must be at least 1, got {config.min_pairs}")
    rows = read_reflections(config.data)
    pairs = form_pairs(rows)
    if len(pairs) < config.min_pairs:
        raise too_few_pairs(config.data, rows, pairs, config.min_pairs)
    base = check_base(config.base)
    check_output_dir(config.out, overwrite=overwrite)
    return rows, pairs, base


def train_reward_model(
    config: RewardModelConfig, *, overwrite: bool = False, log: Callable[[str], None] = print
) -> RewardModelResult:
    started = time.monotonic()
    if not is_main_process():
        log = _silent
    rows, pairs, base = prepare(config, overwrite=overwrite)
    same = sum(p.same_trial for p in pairs)
    log(f"{len(pairs)} rated pairs from {len(rows)} reflections ({same} within the same trial).")

    from transformers import set_seed
    from trl import RewardConfig, RewardTrainer

    s = config.settings
    out = Path(config.out)
    args = trainer_arguments(RewardConfig, s, out, max_length=s.max_length)
    if overwrite:
        clear_output_dir(out)
    set_seed(s.seed)  # the new head and LoRA start random
    tokenizer = tokenizer_for(base)
    dataset, dropped = build_dataset(tokenizer, pairs, max_length=s.max_length)
    for reason, count in sorted(dropped.items()):
        log(f"Dropped {count} pair(s): {reason}")
    if len(dataset) < config.min_pairs:
        raise TrainError(
            f"only {len(dataset)} of {len(pairs)} pairs fit in --max_length {s.max_length}; "
            f"the reward model needs at least {config.min_pairs}: raise --max_length"
        )

    def classifier() -> Any:
        return load_sequence_classifier(base, pad_token_id=tokenizer.pad_token_id)

    trainer = RewardTrainer(
        model=classifier(),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(r=s.lora_r, alpha=s.lora_alpha, dropout=s.lora_dropout, task_type="SEQ_CLS"),
        callbacks=[log_last_step_callback()],
    )
    trainer.train()
    save_merged(trainer, tokenizer=tokenizer, out=out, reload_base=classifier, bf16=s.bf16)
    result = RewardModelResult(
        out=out,
        rows=len(rows),
        pairs=len(pairs),
        same_trial_pairs=same,
        trained_pairs=len(dataset),
        dropped=dropped,
        global_step=trainer.state.global_step,
        final_loss=final_loss(trainer),
    )
    if is_main_process():
        kept = [p for p in pairs if _fits(tokenizer, p, s.max_length)]
        result.accuracy = RewardScorer(out).accuracy(kept)
    result.seconds = time.monotonic() - started
    write_record(
        out,
        {
            "kind": "reward_model",
            "base": config.base,
            "data": config.data,
            "settings": asdict(s),
            "rows": result.rows,
            "pairs": result.pairs,
            "same_trial_pairs": same,
            "trained_pairs": result.trained_pairs,
            "dropped": dict(dropped),
            "global_step": result.global_step,
            "final_loss": result.final_loss,
            "train_pair_accuracy": result.accuracy,
            "seconds": round(result.seconds, 1),
            "use_with": f"retroformer_policy --reward_model {out}",
        },
    )
    return result


def _fits(tokenizer: Any, pair: Pair, max_length: int) -> bool:
    try:
        sequence_ids(tokenizer, pair.chosen, max_length=max_length)
        sequence_ids(tokenizer, pair.rejected, max_length=max_length)
    except SampleDropped:
        return False
    return True


class RewardScorer:
    """A saved reward model: scores (reflector prompt, reflection) pairs, higher = better."""

    def __init__(self, folder: str | Path, *, batch_size: int = 8) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        folder = Path(folder)
        record = read_record(folder)
        if not (folder / "config.json").is_file() or (record is not None and record.get("kind") != "reward_model"):
            raise TrainError(f"--reward_model {folder}: not a reward model folder (train one with retroformer_reward)")
        self.tokenizer = tokenizer_for(str(folder))
        try:
            self.model = AutoModelForSequenceClassification.from_pretrained(str(folder), dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise TrainError(f"--reward_model {folder}: cannot load: {' '.join(str(exc).split())[:300]}") from None
        if self.model.config.num_labels != 1:
            raise TrainError(f"--reward_model {folder}: has {self.model.config.num_labels} outputs, not 1")
        self.model.eval()
        self.batch_size = max(1, batch_size)
        self._torch = torch

    def score(self, prompts: Sequence[Sequence[Message]], reflections: Sequence[str]) -> list[float]:
        torch = self._torch
        rows = [ReflectionRow("", "", 0, tuple(p), r, 0.0, 0.0, 0.0) for p, r in zip(prompts, reflections, strict=True)]
        ids = [sequence_ids(self.tokenizer, row) for row in rows]
        pad = int(self.model.config.pad_token_id if self.model.config.pad_token_id is not None else 0)
        device = next(self.model.parameters()).device
        scores: list[float] = []
        for start in range(0, len(ids), self.batch_size):
            chunk = ids[start : start + self.batch_size]
            width = max(len(x) for x in chunk)
            input_ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for i, x in enumerate(chunk):  # right padding, as RewardTrainer's collator
                input_ids[i, : len(x)] = torch.tensor(x, dtype=torch.long)
                mask[i, : len(x)] = 1
            with torch.inference_mode():
                logits = self.model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
            scores.extend(float(v) for v in logits[:, 0].float().cpu())
        return scores

    def accuracy(self, pairs: Sequence[Pair]) -> float | None:
        """Share of pairs whose chosen reflection scores higher than the rejected one."""
        if not pairs:
            return None
        chosen = self.score([p.chosen.prompt for p in pairs], [p.chosen.reflection for p in pairs])
        rejected = self.score([p.rejected.prompt for p in pairs], [p.rejected.reflection for p in pairs])
        return sum(a > b for a, b in zip(chosen, rejected, strict=True)) / len(pairs)


def _silent(_: str) -> None:
    pass
