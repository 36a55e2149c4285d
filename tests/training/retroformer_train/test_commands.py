"""retroformer_sft, retroformer_reward and retroformer_policy as commands, on the tiny
model: each trains, saves and prints the spec to use; bad input is one line. The
policy plays HotPotQA's next trials with a scripted actor on rows collected by
retroformer_collect (the whole path without a real model)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytest.importorskip("torch")

import torch.distributed

from tests.training.process_group import gloo_threads, one_rank_group
from tests.training.retroformer_train import scripted
from tests.training.retroformer_train.rows import ROWS
from training.retroformer_train.models import read_record

TINY = ["--max_steps", "1", "--batch_size", "2", "--lr", "1e-2", "--warmup_ratio", "0", "--max_length", "512"]


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_sft_command_prints_the_reflector_spec(tiny: Path, rows_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "sft"
    with one_rank_group(tmp_path):  # as under torchrun: left once the model is saved
        text = run("retroformer_sft", "--data", str(rows_file), "--base", f"transformers:{tiny}", "--out", str(out),
                   *TINY)  # fmt: skip
        assert not torch.distributed.is_initialized() and not gloo_threads()
    assert "Trained on 2 of 2 helpful reflections (6 in the file; dropped: none) for 1 steps" in text
    assert text.strip().endswith(f"Use it as the reflector: --reflector transformers:{out.resolve()}")
    with pytest.raises(CommandError, match="already holds a model; pass --overwrite"):
        run("retroformer_sft", "--data", str(rows_file), "--base", str(tiny), "--out", str(out), *TINY)
    text = run("retroformer_sft", "--data", str(rows_file), "--base", str(tiny), "--out", str(out), "--overwrite",
               "--min_reward", "-2", *TINY)  # fmt: skip
    assert "Trained on 6 of 6 helpful reflections" in text
    record = read_record(out)
    assert record is not None and record["min_reward"] == -2


def test_bad_data_is_one_line_naming_the_line(tiny: Path, tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"env": "hotpotqa"}\n', encoding="utf-8")
    for command in ("retroformer_sft", "retroformer_reward", "retroformer_policy"):
        with pytest.raises(CommandError) as info:
            run(command, "--data", str(data), "--base", str(tiny), "--out", str(tmp_path / "o"),
                *(["--reward_model", str(tmp_path)] if command == "retroformer_policy" else []))  # fmt: skip
        assert str(info.value).startswith(f"{data}: line 1: missing 'task_id'"), command
    assert not (tmp_path / "o").exists()


def test_reward_command_trains_and_reports_accuracy(tiny: Path, rows_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "rm"
    with pytest.raises(CommandError, match=r"2 rated pair\(s\) .* needs at least 4"):
        run("retroformer_reward", "--data", str(rows_file), "--base", str(tiny), "--out", str(out))
    with one_rank_group(tmp_path):
        text = run("retroformer_reward", "--data", str(rows_file), "--base", str(tiny), "--out", str(out),
                   "--min_pairs", "2", *TINY)  # fmt: skip
        assert not torch.distributed.is_initialized() and not gloo_threads()
    assert "Trained on 2 of 2 pairs (0 within a trial) for 1 steps" in text
    assert "of its training pairs." in text
    assert f"retroformer_policy --reward_model {out}" in text


def test_policy_command_with_a_reward_model(tiny: Path, rows_file: Path, reward_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "policy"
    with one_rank_group(tmp_path):
        text = run("retroformer_policy", "--data", str(rows_file), "--base", str(tiny), "--out", str(out),
                   "--reward_model", str(reward_model), "--num_generations", "2", "--max_completion_length", "6",
                   *TINY)  # fmt: skip
        assert not torch.distributed.is_initialized() and not gloo_threads()
    assert f"Trained on {len(ROWS)} prompts for 1 steps" in text
    assert text.strip().endswith(f"--reflector transformers:{out.resolve()}")
    with pytest.raises(CommandError, match="either --reward_model or --env with --actor"):
        run("retroformer_policy", "--data", str(rows_file), "--base", str(tiny), "--out", str(tmp_path / "x"),
            "--reward_model", str(reward_model), "--env", "hotpotqa")  # fmt: skip
    with pytest.raises(CommandError, match="unknown environment 'chess'"):
        run("retroformer_policy", "--data", str(rows_file), "--base", str(tiny), "--out", str(tmp_path / "x"),
            "--env", "chess", "--actor", "a")  # fmt: skip


@pytest.fixture
def gateways(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    made: dict[str, Any] = {}

    def build(spec: str) -> Any:
        made[spec] = scripted.learner_actor() if spec == "actor" else scripted.reflector()
        return made[spec]

    monkeypatch.setattr("training.services._gateway_from_settings", build)
    return made


def test_collect_then_policy_plays_hotpotqa_with_the_actor(
    tiny: Path, tmp_path: Path, gateways: dict[str, Any]
) -> None:
    data = tmp_path / "reflections.jsonl"
    run("retroformer_collect", "--env", "hotpotqa", "--actor", "actor", "--reflector", "reflector",
        "--trials", "2", "--limit", "2", "--out", str(data))  # fmt: skip
    collected = scripted.asked(gateways["actor"])
    out = tmp_path / "policy"
    text = run("retroformer_policy", "--data", str(data), "--base", str(tiny), "--out", str(out),
               "--env", "hotpotqa", "--actor", "actor", "--num_generations", "2", "--max_completion_length", "6",
               *TINY, "--max_length", "8192")  # fmt: skip
    assert "Trained on 2 prompts for 1 steps" in text and ", 2 trials played;" in text
    assert scripted.asked(gateways["actor"]) == 2  # a fresh actor gateway: one Finish per replayed trial
    assert collected == 4
    record = read_record(out)
    assert record is not None and record["env"] == "hotpotqa" and record["trials_played"] == 2
