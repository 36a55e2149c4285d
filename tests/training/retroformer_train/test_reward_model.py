"""The reward model: trained on rated pairs with TRL's RewardTrainer, saved merged,
scored back by RewardScorer; too few pairs is one line saying how many are needed."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.training.retroformer_train.rows import ROWS, write_rows  # noqa: E402
from training.envs.base import BadData  # noqa: E402
from training.retroformer_train.data import form_pairs, read_reflections  # noqa: E402
from training.retroformer_train.models import TrainError, TrainSettings, read_record  # noqa: E402
from training.retroformer_train.reward_model import (  # noqa: E402
    RewardModelConfig,
    RewardScorer,
    build_dataset,
    sequence_ids,
    train_reward_model,
)
from training.rise.finetune import load_tokenizer  # noqa: E402


def test_pairs_become_chosen_and_rejected_sequences(tiny: Path, rows_file: Path) -> None:
    tokenizer = load_tokenizer(str(tiny))
    pairs = form_pairs(read_reflections(rows_file))
    dataset, dropped = build_dataset(tokenizer, pairs, max_length=512)
    assert len(dataset) == 2 and not dropped
    first = dataset[0]
    assert first["chosen_ids"] == sequence_ids(tokenizer, pairs[0].chosen)
    assert tokenizer.decode(first["chosen_ids"]).endswith(pairs[0].chosen.reflection + "<eos>")
    assert tokenizer.decode(first["rejected_ids"]).endswith(pairs[0].rejected.reflection + "<eos>")


def test_the_saved_reward_model_prefers_the_chosen_reflections(reward_model: Path, rows_file: Path) -> None:
    record = read_record(reward_model)
    assert record is not None and record["kind"] == "reward_model"
    assert record["pairs"] == record["trained_pairs"] == 2 and record["global_step"] == 20
    assert record["final_loss"] < 0.69  # below log 2, where an untrained model starts
    scorer = RewardScorer(reward_model)
    pairs = form_pairs(read_reflections(rows_file))
    assert scorer.accuracy(pairs) == 1.0 and record["train_pair_accuracy"] == 1.0
    chosen = scorer.score([p.chosen.prompt for p in pairs], [p.chosen.reflection for p in pairs])
    rejected = scorer.score([p.rejected.prompt for p in pairs], [p.rejected.reflection for p in pairs])
    assert all(a > b for a, b in zip(chosen, rejected, strict=True))
    # Batching (right padding) does not change a score.
    alone = scorer.score([pairs[1].rejected.prompt], [pairs[1].rejected.reflection])
    assert alone[0] == pytest.approx(rejected[1], abs=1e-5)


def test_merged_model_scores_like_base_plus_adapter(reward_model: Path, tiny: Path, rows_file: Path) -> None:
    """The saved folder is the base, its trained head and the LoRA merged: the same
    scores as the adapter applied to a fresh base (so nothing random was saved)."""
    from peft import PeftModel

    from training.retroformer_train.models import load_sequence_classifier

    scorer = RewardScorer(reward_model)
    base = load_sequence_classifier(str(tiny), pad_token_id=scorer.tokenizer.pad_token_id)
    adapted = PeftModel.from_pretrained(base, str(reward_model / "adapter")).eval()
    row = read_reflections(rows_file)[0]
    ids = torch.tensor([sequence_ids(scorer.tokenizer, row)])
    with torch.no_grad():
        expected = float(adapted(input_ids=ids).logits[0, 0])
    assert scorer.score([row.prompt], [row.reflection])[0] == pytest.approx(expected, abs=1e-4)


def test_too_few_pairs_says_how_many_are_needed(tiny: Path, rows_file: Path, tmp_path: Path) -> None:
    with pytest.raises(BadData) as info:
        train_reward_model(RewardModelConfig(str(rows_file), str(tiny), str(tmp_path / "o"), min_pairs=5))
    message = str(info.value)
    assert "2 rated pair(s) from 6 reflections of 3 task(s); the reward model needs at least 5" in message
    assert "\n" not in message and not (tmp_path / "o").exists()
    flat = write_rows(tmp_path / "flat.jsonl", [r for r in ROWS if r["task_id"] == "hotpotqa-3"])
    with pytest.raises(BadData, match="0 rated pair"):
        train_reward_model(RewardModelConfig(str(flat), str(tiny), str(tmp_path / "o"), settings=TrainSettings()))


def test_scorer_refuses_a_folder_that_is_not_a_reward_model(tmp_path: Path, tiny: Path) -> None:
    with pytest.raises(TrainError, match="not a reward model folder"):
        RewardScorer(tmp_path)
    with pytest.raises(TrainError, match="has 2 outputs, not 1"):
        RewardScorer(tiny)  # a causal LM's config: the classifier head would be 2-way and random


def test_pairs_too_long_for_max_length_are_counted_in_the_error(tiny: Path, rows_file: Path, tmp_path: Path) -> None:
    config = RewardModelConfig(
        str(rows_file), str(tiny), str(tmp_path / "o"), min_pairs=2, settings=TrainSettings(max_length=8)
    )
    with pytest.raises(TrainError, match=r"only 0 of 2 pairs fit in --max_length 8; the reward model needs at least 2"):
        train_reward_model(config)
