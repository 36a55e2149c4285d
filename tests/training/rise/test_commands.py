"""manage.py run_rise_convert and run_rise_finetune: what they print, what they write,
and one-line errors for bad input."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest
import torch.distributed
from django.core.management import CommandError, call_command

from tests.training.process_group import gloo_threads, one_rank_group
from tests.training.rise.tinymodel import tiny_model_dir, write_episodes
from training.rise.convert import read_samples

CUDA = importlib.util.find_spec("torch") is not None and __import__("torch").cuda.is_available()


def run(name: str, **options: Any) -> str:
    out = io.StringIO()
    call_command(name, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def one_line_error(name: str, match: str, **options: Any) -> str:
    with pytest.raises(CommandError, match=match) as info:
        run(name, **options)
    message = str(info.value)
    assert "\n" not in message, message
    return message


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_dir(tmp_path_factory.mktemp("tiny_cmd") / "model")


# ---- run_rise_convert --------------------------------------------------------------


def test_convert_writes_samples_and_a_summary(tmp_path: Path) -> None:
    episodes = write_episodes(tmp_path / "2_turns.json")
    output = tmp_path / "out" / "better.jsonl"
    text = run("run_rise_convert", filepath=str(episodes), output=str(output), criteria="better", env="GSM8K")
    assert "Read 2 episodes (gsm8k) with 4 actions" in text
    assert "criteria better selected 2." in text
    assert "Dropped 0." in text
    assert f"Wrote 2 samples to {output} (reward 0: 1, reward 1: 1)." in text
    samples = read_samples(output)
    assert [(s.episode, s.turn, s.reward) for s in samples] == [("gsm8k-1", 2, 1), ("gsm8k-2", 2, 0)]


def test_convert_with_a_tokenizer_counts_every_drop(tmp_path: Path, tiny: Path) -> None:
    episodes = json.loads(write_episodes(tmp_path / "e.json").read_text())
    episodes.append({**episodes[0], "id": "gsm8k-1-again"})  # the same conversations again
    (tmp_path / "e.json").write_text(json.dumps(episodes))
    output = tmp_path / "s.jsonl"
    text = run(
        "run_rise_convert",
        filepath=str(tmp_path / "e.json"),
        output=str(output),
        criteria="all",
        remove_duplication=True,
        shuffle=True,
        model_path=str(tiny),
        max_length=40,
    )
    assert "criteria all selected 6." in text
    assert "Dropped 2: duplicate" in text
    assert "Dropped 2: too_long" in text
    assert "Wrote 2 samples" in text and "(limit 40)" in text
    assert len(read_samples(output)) == 2


@pytest.mark.parametrize(
    ("content", "options", "match"),
    [
        (None, {}, "no such file"),
        ('[{"id": 1,', {}, r"line 1 column 11: not JSON"),
        ('[{"id": "x"}]', {}, r"episode 1: missing 'observations'"),
        ("[]", {"criteria": "good"}, r"--criteria good: unknown; use one of all, better, best, success"),
        ("[]", {"temperature": 0.0}, r"--temperature must be above 0"),
        ("[]", {"temperature": -1.0}, r"--temperature must be above 0"),
        ("[]", {"max_length": 10}, r"--max_length needs --model_path"),
        ("[]", {"env": "chess"}, r"--env chess: unknown; use one of gsm8k, math"),
        ("[]", {"model_path": "/nowhere/model.gguf"}, r"no such file or folder"),
    ],
)
def test_convert_bad_input_is_one_line(
    tmp_path: Path, content: str | None, options: dict[str, Any], match: str
) -> None:
    path = tmp_path / "2_turns.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    output = tmp_path / "out.jsonl"
    one_line_error("run_rise_convert", match, filepath=str(path), output=str(output), **options)
    assert not output.exists()


def test_convert_command_line_choices_are_checked_by_argparse(tmp_path: Path) -> None:
    path = write_episodes(tmp_path / "2_turns.json")
    with pytest.raises(CommandError, match=r"argument --criteria: invalid choice: 'good'") as info:
        call_command("run_rise_convert", f"--filepath={path}", "--output=x.jsonl", "--criteria=good")
    assert "\n" not in str(info.value)


# ---- run_rise_finetune -------------------------------------------------------------


def samples_file(tmp_path: Path) -> Path:
    output = tmp_path / "samples.jsonl"
    run("run_rise_convert", filepath=str(write_episodes(tmp_path / "2_turns.json")), output=str(output))
    return output


def test_finetune_trains_saves_and_refuses_a_second_run(tmp_path: Path, tiny: Path) -> None:
    data = samples_file(tmp_path)
    out = tmp_path / "model"
    options = {
        "model_name_or_path": str(tiny),
        "data_path": str(data),
        "output_dir": str(out),
        "max_steps": 2,
        "per_device_train_batch_size": 2,
        "logging_steps": 1,
        "lora": True,
    }
    with one_rank_group(tmp_path):  # as under torchrun
        text = run("run_rise_finetune", **options)
        # Left, its threads ended, once the model is saved: a gloo thread still
        # running when the interpreter exits can abort the rank.
        assert not torch.distributed.is_initialized() and not gloo_threads()
    assert "Trained 4 of 4 samples (dropped: none) for 2 steps" in text
    assert f"use it as LLM model transformers:{out}" in text
    record = json.loads((out / "rise_finetune.json").read_text())
    assert record["status"] == "done" and record["config"]["lora"] is True
    one_line_error("run_rise_finetune", "already holds a finished run's model; pass --overwrite", **options)
    text = run("run_rise_finetune", overwrite=True, **options)
    assert "for 2 steps" in text


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"data_path": "MISSING"}, r"--data_path .*: no such file"),
        ({"data_path": "BAD"}, r"bad.jsonl: line 2: 'weight' must be a positive number"),
        ({"model_name_or_path": "/nowhere/model"}, r"model /nowhere/model: no such file or folder"),
        ({"model_name_or_path": "EMPTY"}, r"cannot load a tokenizer from .*empty"),
        ({"warmup_ratio": 1.0}, r"--warmup_ratio must be in \[0, 1\)"),
        ({"per_device_train_batch_size": 0}, r"--per_device_train_batch_size must be at least 1"),
        ({"deepspeed": "/nowhere/ds.json"}, r"--deepspeed /nowhere/ds.json: no such file"),
        ({"resume_from_checkpoint": "/nowhere/checkpoint-5"}, r"no such checkpoint folder"),
        ({"lr_scheduler_type": "bogus"}, r"training settings rejected: bogus is not a valid SchedulerType"),
        pytest.param(
            {"bf16": True},
            r"--bf16 needs a GPU with bf16 support",
            marks=pytest.mark.skipif(CUDA, reason="this machine has a GPU"),
        ),
    ],
)
def test_finetune_bad_input_is_one_line(tmp_path: Path, tiny: Path, options: dict[str, Any], match: str) -> None:
    good = samples_file(tmp_path)
    bad = tmp_path / "bad.jsonl"
    line = json.loads(good.read_text().splitlines()[0])
    bad.write_text(json.dumps(line) + "\n" + json.dumps({**line, "weight": -1}) + "\n")
    (tmp_path / "empty").mkdir()
    paths = {"MISSING": str(tmp_path / "missing.jsonl"), "BAD": str(bad), "EMPTY": str(tmp_path / "empty")}
    settings = {
        "model_name_or_path": str(tiny),
        "data_path": str(good),
        "output_dir": str(tmp_path / "out"),
        "max_steps": 1,
        **{k: paths.get(v, v) if isinstance(v, str) else v for k, v in options.items()},
    }
    one_line_error("run_rise_finetune", match, **settings)
