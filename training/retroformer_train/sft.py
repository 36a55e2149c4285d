"""SFT of the retrospective model on the reflections that helped (TRL SFTTrainer, LoRA).

Data: the rows of the reflection-rewards file whose reward is above `min_reward`
(0 by default: the next trial did better than the one the reflection diagnosed).
Each becomes one prompt-completion sample: the prompt is the reflector's chat messages,
the completion is the reflection, and only the completion is trained.

Tokenisation is RISE's (training.rise.convert.tokenize_sample), so that training sees
exactly what the gateway feeds the model when the reflector asks it: the tokenizer's
chat template with the generation prompt, or, for a model without one (the bundled
base Gemma), the gateway's plain "System: ...\\nUser: ...\\nAssistant: " rendering,
then the reflection's own tokens (plus EOS without a template, so the model learns to
stop). Samples are handed to SFTTrainer already tokenised, as `input_ids` and a
`completion_mask` (1 on the reflection's tokens), with `completion_only_loss=True`:
SFTTrainer turns the mask into labels (-100 on the prompt) and trains with its own
loss, collator and LoRA wrapping. Why not SFTTrainer's own tokenisation of a
conversational prompt: it needs a chat template (the bundled model has none), and
its text prompt-completion path tokenises prompt and prompt+completion separately,
which split differently at "Assistant: " + reflection with SentencePiece vocabularies
(TRL warns that the context then differs from inference). Samples longer than
`max_length` are dropped and counted, never truncated.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from training.envs.base import BadData
from training.retroformer_train.data import ReflectionRow, helpful, read_reflections
from training.retroformer_train.models import (
    TrainError,
    TrainSettings,
    check_base,
    check_output_dir,
    clear_output_dir,
    final_loss,
    is_main_process,
    load_causal_lm,
    log_last_step_callback,
    lora_config,
    save_merged,
    tokenizer_for,
    trainer_arguments,
    write_record,
)
from training.rise.convert import IGNORE_INDEX, SampleDropped, tokenize_sample


@dataclass
class SftConfig:
    data: str
    base: str
    out: str
    min_reward: float = 0.0
    settings: TrainSettings = field(default_factory=TrainSettings)


@dataclass
class SftResult:
    out: Path
    rows: int  # in the file
    helpful: int  # reward > min_reward
    trained: int  # after drops
    dropped: Counter[str] = field(default_factory=Counter)
    global_step: int = 0
    final_loss: float | None = None
    seconds: float = 0.0

    @property
    def spec(self) -> str:
        return f"transformers:{self.out.resolve()}"


def sample_messages(row: ReflectionRow) -> list[dict[str, str]]:
    """The reflector's prompt followed by the reflection as the assistant's answer."""
    return [dict(m) for m in row.prompt] + [{"role": "assistant", "content": row.reflection}]


def build_dataset(tokenizer: Any, rows: Sequence[ReflectionRow], *, max_length: int) -> tuple[Any, Counter[str]]:
    """(datasets.Dataset with input_ids and completion_mask, drops by reason)."""
    from datasets import Dataset

    input_ids: list[list[int]] = []
    masks: list[list[int]] = []
    dropped: Counter[str] = Counter()
    for row in rows:
        try:
            tokens = tokenize_sample(tokenizer, sample_messages(row), max_length=max_length)
        except SampleDropped as exc:
            dropped[exc.reason] += 1
            continue
        input_ids.append(tokens.input_ids)
        masks.append([0 if label == IGNORE_INDEX else 1 for label in tokens.labels])
    return Dataset.from_dict({"input_ids": input_ids, "completion_mask": masks}), dropped


def sft_arguments(s: TrainSettings, out: Path) -> Any:
    """SFTConfig: the shared settings, and labels only on the completion (module doc)."""
    from trl import SFTConfig

    return trainer_arguments(SFTConfig, s, out, completion_only_loss=True, max_length=s.max_length)


def make_trainer(model: Any, tokenizer: Any, dataset: Any, args: Any, s: TrainSettings) -> Any:
    """SFTTrainer on the tokenised samples: it builds the labels from completion_mask
    (args.completion_only_loss) and wraps the model in LoRA."""
    from trl import SFTTrainer

    return SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(r=s.lora_r, alpha=s.lora_alpha, dropout=s.lora_dropout, task_type="CAUSAL_LM"),
        callbacks=[log_last_step_callback()],
    )


def prepare(config: SftConfig, *, overwrite: bool = False) -> tuple[list[ReflectionRow], list[ReflectionRow], str]:
    """Every check that needs no model: (rows, helpful rows, base name). One-line errors."""
    config.settings.check()
    rows = read_reflections(config.data)
    chosen = helpful(rows, config.min_reward)
    if not chosen:
        best = max(r.reward for r in rows)
        raise BadData(
            f"{config.data}: none of its {len(rows)} reflections has a reward above --min_reward {config.min_reward:g} "
            f"(the best is {best:g}); collect more, or lower --min_reward"
        )
    base = check_base(config.base)
    check_output_dir(config.out, overwrite=overwrite)
    return rows, chosen, base


def train_sft(config: SftConfig, *, overwrite: bool = False, log: Callable[[str], None] = print) -> SftResult:
    """Train and save (module doc); the model loads as transformers:<out>."""
    started = time.monotonic()
    if not is_main_process():
        log = _silent
    rows, chosen, base = prepare(config, overwrite=overwrite)
    log(f"{len(chosen)} of {len(rows)} reflections have a reward above {config.min_reward:g}: training on them.")

    from transformers import set_seed

    s = config.settings
    out = Path(config.out)
    args = sft_arguments(s, out)
    if overwrite:
        clear_output_dir(out)
    set_seed(s.seed)  # LoRA's initial weights are random
    tokenizer = tokenizer_for(base)
    dataset, dropped = build_dataset(tokenizer, chosen, max_length=s.max_length)
    for reason, count in sorted(dropped.items()):
        log(f"Dropped {count} sample(s): {reason}")
    if len(dataset) == 0:
        raise TrainError(
            f"no reflection of {config.data} can be trained (dropped: {dict(dropped)}); raise --max_length"
        )
    trainer = make_trainer(load_causal_lm(base), tokenizer, dataset, args, s)
    trainer.train()
    save_merged(trainer, tokenizer=tokenizer, out=out, reload_base=lambda: load_causal_lm(base), bf16=s.bf16)
    result = SftResult(
        out=out,
        rows=len(rows),
        helpful=len(chosen),
        trained=len(dataset),
        dropped=dropped,
        global_step=trainer.state.global_step,
        final_loss=final_loss(trainer),
        seconds=time.monotonic() - started,
    )
    write_record(
        out,
        {
            "kind": "sft",
            "base": config.base,
            "data": config.data,
            "min_reward": config.min_reward,
            "settings": asdict(s),
            "rows": result.rows,
            "helpful": result.helpful,
            "trained": result.trained,
            "dropped": dict(dropped),
            "global_step": result.global_step,
            "final_loss": result.final_loss,
            "seconds": round(result.seconds, 1),
            "model_spec": result.spec,
        },
    )
    return result


def _silent(_: str) -> None:
    pass
