"""SFT of the retrospective model: only the reflection is trained, the merged model
loads back through the gateway's transformers backend, bad inputs are one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from llm.factory import build_gateway  # noqa: E402
from tests.training.retroformer_train.rows import ROWS, write_rows  # noqa: E402
from training.envs.base import BadData  # noqa: E402
from training.retroformer_train.data import helpful, read_reflections  # noqa: E402
from training.retroformer_train.models import TrainError, TrainSettings, read_record  # noqa: E402
from training.retroformer_train.sft import (  # noqa: E402
    SftConfig,
    build_dataset,
    make_trainer,
    sft_arguments,
    train_sft,
)
from training.rise.finetune import load_model, load_tokenizer  # noqa: E402


def settings(**overrides: Any) -> TrainSettings:
    values: dict[str, Any] = {
        "max_steps": 2,
        "batch_size": 2,
        "lr": 1e-2,
        "warmup_ratio": 0,
        "logging_steps": 1,
        "max_length": 512,
        **overrides,
    }
    return TrainSettings(**values)


@pytest.mark.parametrize("template", [False, True], ids=["plain", "chat_template"])
def test_labels_cover_only_the_reflection(
    tiny: Path, tiny_chat: Path, rows_file: Path, tmp_path: Path, template: bool
) -> None:
    """What SFTTrainer trains on (its prepared dataset): -100 on the prompt, the
    reflection's tokens (and EOS without a template) after it."""
    model_dir = tiny_chat if template else tiny
    tokenizer = load_tokenizer(str(model_dir))
    rows = helpful(read_reflections(rows_file))
    dataset, dropped = build_dataset(tokenizer, rows, max_length=512)
    assert len(dataset) == 2 and not dropped
    s = settings()
    trainer = make_trainer(load_model(str(model_dir)), tokenizer, dataset, sft_arguments(s, tmp_path / "o"), s)
    for row, sample in zip(rows, trainer.train_dataset, strict=True):
        labels = sample["labels"]
        first = next(i for i, label in enumerate(labels) if label != -100)
        assert all(label == -100 for label in labels[:first])
        assert labels[first:] == sample["input_ids"][first:]  # everything after the prompt is trained
        prompt_text = tokenizer.decode(sample["input_ids"][:first])
        trained_text = tokenizer.decode(labels[first:])
        assert row.reflection not in prompt_text and row.prompt[-1]["content"].strip() in prompt_text
        assert trained_text.startswith(row.reflection)
        ending = "<|end|>" if template else "<eos>"  # the model learns to stop
        assert trained_text[len(row.reflection) :].strip() == ending


def test_trains_on_helpful_reflections_and_loads_through_the_gateway(
    tiny: Path, rows_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sft"
    before = load_model(str(tiny)).state_dict()
    notes: list[str] = []
    result = train_sft(SftConfig(str(rows_file), str(tiny), str(out), settings=settings()), log=notes.append)
    assert (result.rows, result.helpful, result.trained, result.global_step) == (6, 2, 2, 2)
    assert result.final_loss is not None and result.final_loss > 0
    assert "2 of 6 reflections have a reward above 0: training on them." in notes
    assert result.spec == f"transformers:{out.resolve()}"
    record = read_record(out)
    assert record is not None and record["kind"] == "sft" and record["model_spec"] == result.spec
    assert record["settings"]["lora_r"] == 16 and record["settings"]["lora_alpha"] == 32
    assert (out / "adapter" / "adapter_config.json").is_file()

    trained = load_model(str(out))  # a plain model folder: the adapter is merged
    changed = [n for n, p in trained.state_dict().items() if not torch.equal(p, before[n])]
    assert changed and all("lora" not in n for n in trained.state_dict())
    gateway = build_gateway(result.spec)
    try:
        answer = gateway.chat(list(ROWS[0]["prompt"]), purpose="retro.reflect", max_tokens=4)
    finally:
        gateway.close()
    assert isinstance(answer.text, str) and answer.completion_tokens > 0


def test_no_helpful_reflection_is_one_line(tiny: Path, tmp_path: Path) -> None:
    data = write_rows(tmp_path / "r.jsonl", [r for r in ROWS if r["reward"] <= 0])
    with pytest.raises(BadData, match=r"none of its 4 reflections has a reward above --min_reward 0 \(the best is 0\)"):
        train_sft(SftConfig(str(data), str(tiny), str(tmp_path / "o"), settings=settings()))
    assert not (tmp_path / "o").exists()


def test_inputs_are_checked_before_any_model_loads(tiny: Path, rows_file: Path, tmp_path: Path) -> None:
    def run(**kw: Any) -> None:
        values = {"data": str(rows_file), "base": str(tiny), "out": str(tmp_path / "o"), "settings": settings(), **kw}
        train_sft(SftConfig(**values))

    with pytest.raises(TrainError, match=r"--base: model .*nowhere.*: no such file or folder"):
        run(base=str(tmp_path / "nowhere"))
    with pytest.raises(TrainError, match="served model cannot be trained"):
        run(base="openai:gpt-4o")
    with pytest.raises(TrainError, match="--lr must be above 0"):
        run(settings=settings(lr=0))
    with pytest.raises(TrainError, match="LoRA needs --lora_r >= 1"):
        run(settings=settings(lora_r=0))
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "config.json").write_text("{}")
    with pytest.raises(TrainError, match="already holds a model; pass --overwrite"):
        run()


def test_too_long_reflections_are_dropped_and_counted(tiny: Path, rows_file: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainError, match=r"no reflection .* can be trained \(dropped: \{'too_long': 2\}\)"):
        train_sft(SftConfig(str(rows_file), str(tiny), str(tmp_path / "o"), settings=settings(max_length=8)))
