"""Policy optimisation: one GRPO step of the tiny model with a scripted next-trial
reward, the return-difference reward itself, the reward-model reward, and the
environment player (HotPotQA with a scripted actor)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from llm.factory import build_gateway  # noqa: E402
from tests.training.retroformer_train import scripted  # noqa: E402
from tests.training.retroformer_train.rows import ROWS, row  # noqa: E402
from training.envs import get_text_env  # noqa: E402
from training.envs.base import BadData  # noqa: E402
from training.retroformer.settings import RetroSettings  # noqa: E402
from training.retroformer_train.data import PolicyPrompt, parse_row, policy_prompts, read_reflections  # noqa: E402
from training.retroformer_train.models import TrainError, TrainSettings, read_record  # noqa: E402
from training.retroformer_train.policy import (  # noqa: E402
    EnvPlayer,
    ModelReward,
    PolicyConfig,
    ReturnDifference,
    clean_completion,
    load_tasks,
    render_prompt_text,
    train_policy,
)
from training.retroformer_train.reward_model import RewardScorer  # noqa: E402
from training.rise.finetune import load_model, load_tokenizer  # noqa: E402


def one_step(**overrides: Any) -> TrainSettings:
    values: dict[str, Any] = {"max_steps": 1, "batch_size": 4, "lr": 5e-2, "warmup_ratio": 0, "logging_steps": 1}
    return TrainSettings(**{**values, **overrides})


def test_one_grpo_step_with_a_scripted_next_trial(tiny: Path, rows_file: Path, tmp_path: Path) -> None:
    played: list[tuple[str, int, tuple[str, ...], str]] = []
    lock = threading.Lock()

    def play(entry: PolicyPrompt, reflection: str) -> float:
        with lock:
            played.append((entry.row.task_id, entry.row.trial, entry.earlier, reflection))
        return len(reflection) / 100  # varies between samples, so the group has an advantage

    out = tmp_path / "policy"
    before = load_model(str(tiny)).state_dict()
    config = PolicyConfig(
        str(rows_file), str(tiny), str(out), num_generations=2, max_completion_length=12, settings=one_step()
    )
    result = train_policy(config, play=play)
    # One step: batch 4 = 2 prompts x 2 sampled reflections, each played once.
    assert result.global_step == 1 and result.trials_played == len(played) == 4
    assert result.prompts == len(ROWS)
    reflections = {(r["task_id"], r["trial"]): r["reflection"] for r in ROWS}
    for task_id, trial, earlier, _ in played:  # the actor's memory: the task's earlier reflections
        assert earlier == tuple(reflections[(task_id, k)] for k in range(trial))
    assert result.final_reward is not None
    record = read_record(out)
    assert record is not None and record["kind"] == "policy" and record["reward"] == "return_difference"
    assert record["trials_played"] == 4 and record["model_spec"] == result.spec
    trained = load_model(str(out))
    assert any(not torch.equal(p, before[n]) for n, p in trained.state_dict().items())
    gateway = build_gateway(result.spec)
    try:
        assert isinstance(gateway.chat(list(ROWS[0]["prompt"]), purpose="retro.reflect", max_tokens=4).text, str)
    finally:
        gateway.close()


def test_return_difference_plays_with_the_earlier_reflections() -> None:
    rows = [parse_row(row("a", 0, 0.0, 0.0, "first")), parse_row(row("a", 1, 0.25, 0.25, "second"))]
    items = policy_prompts(rows)
    seen: list[tuple[tuple[str, ...], str]] = []

    def play(entry: PolicyPrompt, reflection: str) -> float:
        seen.append((entry.earlier, reflection))
        if reflection == "crash":
            raise RuntimeError("the actor's server went away")
        return 1.0

    reward = ReturnDifference(items, play, workers=1)
    values = reward(["p", "p", "p"], ['"plan A"\n\n', "plan B\nUser: more", "crash"], item=[1, 0, 1])
    assert values == [0.75, 1.0, None]  # 1 - 0.25, 1 - 0; a failed trial is left out (None)
    assert seen == [(("first",), "plan A"), ((), "plan B"), (("first",), "crash")]
    assert (reward.played, reward.failed) == (2, 1)


def test_model_reward_scores_with_the_trained_reward_model(reward_model: Path, rows_file: Path) -> None:
    rows = read_reflections(rows_file)
    items = policy_prompts(rows)
    reward = ModelReward(items, RewardScorer(reward_model))
    good, bad = rows[2].reflection, rows[3].reflection  # hotpotqa-2: chosen and rejected
    index = next(i for i, e in enumerate(items) if e.row.task_id == "hotpotqa-2" and e.row.trial == 1)
    first, second = reward(["p", "p"], [good, bad], item=[index - 1, index])
    assert first is not None and second is not None and first > second


def test_policy_with_a_reward_model_trains_without_an_environment(
    tiny: Path, rows_file: Path, reward_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "policy_rm"
    config = PolicyConfig(
        str(rows_file),
        str(tiny),
        str(out),
        reward_model=str(reward_model),
        num_generations=2,
        max_completion_length=8,
        settings=one_step(batch_size=2),
    )
    result = train_policy(config)
    assert result.global_step == 1 and result.trials_played == 0
    record = read_record(out)
    assert record is not None and record["reward"] == "reward_model" and record["reward_model"] == str(reward_model)


def test_env_player_replays_the_next_trial_with_the_actor(tmp_path: Path) -> None:
    env = get_text_env("hotpotqa")
    task = env.load(None, limit=1)[0]
    data = tmp_path / "r.jsonl"
    first = row(task.id, 0, 0.0, 0.0, "old plan")
    data.write_text(json.dumps(first) + "\n")
    config = PolicyConfig(str(data), "unused", str(tmp_path / "o"), env="hotpotqa", actor="scripted")
    items = policy_prompts(read_reflections(data))
    loaded_env, tasks = load_tasks(config, items)
    actor = scripted.learner_actor()
    player = EnvPlayer(loaded_env, tasks, actor, RetroSettings())
    reward = ReturnDifference(items, player)
    # With a reflection the actor has a memory and answers right: 1 - 0.
    assert reward(["p"], ["Search the band first."], item=[0]) == [1.0]
    # An empty reflection is played as none: no memory, a wrong answer.
    assert reward(["p"], ["  "], item=[0]) == [0.0]
    assert scripted.asked(actor) == 2


def test_rows_of_another_env_or_unknown_tasks_are_one_line(tmp_path: Path) -> None:
    data = tmp_path / "r.jsonl"
    data.write_text(json.dumps(row("hotpotqa-nope", 0, 0, 1, "x")) + "\n")
    items = policy_prompts(read_reflections(data))
    config = PolicyConfig(str(data), "b", "o", env="hotpotqa", actor="x")
    with pytest.raises(BadData, match=r"line 1: task hotpotqa-nope is not in the hotpotqa sample set"):
        load_tasks(config, items)
    with pytest.raises(BadData, match=r"line 1: env 'hotpotqa', but --env is webshop"):
        load_tasks(PolicyConfig(str(data), "b", "o", env="webshop", actor="x"), items)


def test_settings_are_checked_first(tiny: Path, rows_file: Path, tmp_path: Path) -> None:
    def run(**kw: Any) -> None:
        values: dict[str, Any] = {"data": str(rows_file), "base": str(tiny), "out": str(tmp_path / "o"), **kw}
        train_policy(PolicyConfig(**values))

    with pytest.raises(TrainError, match="give --env and --actor"):
        run()
    with pytest.raises(TrainError, match="--num_generations must be at least 2"):
        run(env="hotpotqa", actor="x", num_generations=1)
    with pytest.raises(
        TrainError, match=r"--batch_size x --grad_accum \(4\) must be a multiple of --num_generations \(3\)"
    ):
        run(env="hotpotqa", actor="x", num_generations=3)
    assert not (tmp_path / "o").exists()


def test_prompts_are_rendered_as_the_gateway_renders_them(tiny: Path, tiny_chat: Path) -> None:
    messages = ROWS[0]["prompt"]
    plain = render_prompt_text(load_tokenizer(str(tiny)), messages)
    assert plain.startswith("System: ") and plain.endswith("Assistant: ")
    templated = render_prompt_text(load_tokenizer(str(tiny_chat)), messages)
    # The template writes <bos>; GRPO's tokenizer call adds it again, so it is taken off.
    assert templated.startswith("<|system|>") and templated.endswith("<|assistant|>\n")
    assert clean_completion(' "Search first."\nUser: and more') == "Search first."
