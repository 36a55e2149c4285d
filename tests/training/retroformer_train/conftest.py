"""Shared, built once per test session: a tiny random causal LM (tests/training/rise/
tinymodel.py), the tiny reflection-rewards file (rows.py) and a reward model trained
on it in a few seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.retroformer_train.rows import write_rows


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    from tests.training.rise.tinymodel import tiny_model_dir

    return tiny_model_dir(tmp_path_factory.mktemp("retro_tiny") / "model")


@pytest.fixture(scope="session")
def tiny_chat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a chat template (the templated path of rendering)."""
    pytest.importorskip("torch")
    from tests.training.rise.tinymodel import tiny_model_dir

    return tiny_model_dir(tmp_path_factory.mktemp("retro_tiny_chat") / "model", chat_template=True)


@pytest.fixture(scope="session")
def rows_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rows(tmp_path_factory.mktemp("retro_rows") / "reflections.jsonl")


@pytest.fixture(scope="session")
def reward_model(tiny: Path, rows_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.retroformer_train.models import TrainSettings
    from training.retroformer_train.reward_model import RewardModelConfig, train_reward_model

    out = tmp_path_factory.mktemp("retro_rm") / "rm"
    settings = TrainSettings(max_steps=20, batch_size=2, lr=1e-2, warmup_ratio=0, logging_steps=5, max_length=512)
    train_reward_model(RewardModelConfig(str(rows_file), str(tiny), str(out), min_pairs=2, settings=settings))
    return out
