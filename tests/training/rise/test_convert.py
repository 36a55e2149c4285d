"""training.rise.convert: criteria, weights, deduplication, shuffling, drops, the
messages of each sample, and the JSONL reader's errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from training.envs.base import BadData
from training.rise.convert import (
    BadSamples,
    Sample,
    convert,
    read_episodes,
    read_samples,
    render,
    tokenize_sample,
    weight_for,
    write_samples,
)
from training.rise.trajectory import Episode

FEEDBACK = "Incorrect. Try again."


def episode(id: str, rewards: list[int], actions: list[str] | None = None) -> Episode:
    actions = actions or [f"{id} answer {t + 1}" for t in range(len(rewards))]
    return Episode(
        id=id,
        question=f"question {id}",
        gold="#### 1",
        observations=[f"question {id}", *[FEEDBACK] * (len(rewards) - 1)],
        actions=actions,
        rewards=rewards,
    )


EPISODES = [
    episode("a", [0, 1]),  # solved at turn 2
    episode("b", [-1, 0, 0]),  # improved once, then stuck
    episode("c", [1]),  # solved at once
    episode("d", [0, -1, 1]),  # worse, then solved
    episode("e", [1, 0, 1]),  # best tie: the earliest wins
]


def picked(criteria: str, episodes: list[Episode] = EPISODES) -> list[tuple[str, int]]:
    return [(s.episode, s.turn) for s in convert(episodes, criteria=criteria).samples]


def test_all_keeps_every_action_in_order() -> None:
    result = convert(EPISODES, criteria="all")
    assert [(s.episode, s.turn) for s in result.samples] == [
        ("a", 1), ("a", 2), ("b", 1), ("b", 2), ("b", 3), ("c", 1), ("d", 1), ("d", 2), ("d", 3),
        ("e", 1), ("e", 2), ("e", 3),
    ]  # fmt: skip
    assert (result.episodes, result.actions, result.selected) == (5, 12, 12)
    assert not result.dropped


def test_better_keeps_improvements_and_never_turn_one() -> None:
    # c's and e's turn 1 have reward 1 but no previous turn; d's turn 2 got worse.
    assert picked("better") == [("a", 2), ("b", 2), ("d", 3), ("e", 3)]


def test_best_keeps_one_per_episode_earliest_on_ties() -> None:
    assert picked("best") == [("a", 2), ("b", 2), ("c", 1), ("d", 3), ("e", 1)]


def test_success_keeps_reward_one() -> None:
    assert picked("success") == [("a", 2), ("c", 1), ("d", 3), ("e", 1), ("e", 3)]


def test_unknown_criteria_and_bad_temperature() -> None:
    with pytest.raises(ValueError, match="unknown criteria"):
        convert(EPISODES, criteria="good")
    with pytest.raises(ValueError, match="temperature"):
        convert(EPISODES, criteria="all", temperature=0)
    with pytest.raises(ValueError, match="needs a tokenizer"):
        convert(EPISODES, criteria="all", max_length=10)


@pytest.mark.parametrize("temperature", [0.4, 1.0, 2.5])
def test_weights_are_exp_reward_over_temperature(temperature: float) -> None:
    for s in convert(EPISODES, criteria="all", temperature=temperature).samples:
        assert s.weight == math.exp(s.reward / temperature)
    assert weight_for(1) == math.exp(2.5)
    assert weight_for(-1) == math.exp(-2.5)
    assert weight_for(0) == 1.0


def test_messages_are_the_turns_context_then_the_trained_answer() -> None:
    ep = EPISODES[3]  # d: three turns
    samples = {s.turn: s for s in convert([ep], criteria="all").samples}
    assert samples[1].messages == [
        {"role": "user", "content": "question d"},
        {"role": "assistant", "content": "d answer 1"},
    ]
    assert samples[3].messages == [
        {"role": "user", "content": "question d"},
        {"role": "assistant", "content": "d answer 1"},
        {"role": "user", "content": FEEDBACK},
        {"role": "assistant", "content": "d answer 2"},
        {"role": "user", "content": FEEDBACK},
        {"role": "assistant", "content": "d answer 3"},
    ]
    assert samples[3].reward == 1 and samples[3].answer == "d answer 3"


def test_remove_duplication_counts_what_it_drops() -> None:
    twins = [episode("x", [0, 1], ["same", "right"]), episode("y", [0, 1], ["same", "right"])]
    # Same question text? No: the questions differ, so nothing repeats.
    assert not convert(twins, criteria="all", remove_duplication=True).dropped
    twins[1].observations[0] = twins[0].observations[0]
    result = convert(twins, criteria="all", remove_duplication=True)
    assert [(s.episode, s.turn) for s in result.samples] == [("x", 1), ("x", 2)]
    assert result.dropped == {"duplicate": 2}
    assert len(convert(twins, criteria="all").samples) == 4  # off by default


def test_shuffle_is_deterministic_with_its_seed() -> None:
    order = lambda seed: picked_shuffled(seed)  # noqa: E731
    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == sorted(picked("all"))
    assert picked("all") == [(s.episode, s.turn) for s in convert(EPISODES, criteria="all", seed=1).samples]


def picked_shuffled(seed: int) -> list[tuple[str, int]]:
    return [(s.episode, s.turn) for s in convert(EPISODES, criteria="all", shuffle=True, seed=seed).samples]


def test_inconsistent_episode_is_refused() -> None:
    bad = episode("z", [0, 1])
    bad.rewards = [0]
    with pytest.raises(ValueError, match=r"episode 1 \(id z\): 2 actions but 1 rewards"):
        convert([bad], criteria="all")


# ---- With a tokenizer: drops by reason ---------------------------------------------


class CharTokenizer:
    """One token per character, BOS 1, EOS 2; optionally a chat template that renders
    earlier assistant turns differently in the whole conversation than in the prompt
    (some templates rewrite history), which is a template_mismatch."""

    bos_token, eos_token, eos_token_id = "^", "$", 2

    def __init__(self, template: str | None = None) -> None:
        self.chat_template = template

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        ids = [ord(c) for c in text]
        return {"input_ids": [1, *ids] if add_special_tokens else ids}

    def apply_chat_template(
        self, messages: list[dict[str, str]], tokenize: bool = False, add_generation_prompt: bool = False
    ) -> str:
        assert not tokenize
        if any(m["role"] == "system" for m in messages):
            raise RuntimeError("System role not supported")
        last = len(messages) - 1
        parts = []
        for i, m in enumerate(messages):
            content = m["content"]
            if m["role"] == "assistant" and i != last and not add_generation_prompt:
                content = content.upper()  # history rendered differently in the whole
            parts.append(f"<{m['role']}>{content}</>")
        return "^" + "".join(parts) + ("<assistant>" if add_generation_prompt else "")


def test_tokenizer_drops_are_counted_by_reason() -> None:
    eps = [episode("a", [0, 1], ["short", "a much longer answer " * 5]), episode("b", [1], ["ok"])]
    plain = convert(eps, criteria="all", tokenizer=CharTokenizer(), max_length=60)
    assert [(s.episode, s.turn) for s in plain.samples] == [("a", 1), ("b", 1)]
    assert plain.dropped == {"too_long": 1}
    assert plain.token_counts == [len(tokenize_sample(CharTokenizer(), s.messages).input_ids) for s in plain.samples]
    # The template rewrites turn 1's answer once it is history: turn 2 has no clean prompt.
    templated = convert(eps, criteria="all", tokenizer=CharTokenizer("yes"))
    assert [(s.episode, s.turn) for s in templated.samples] == [("a", 1), ("b", 1)]
    assert templated.dropped == {"template_mismatch": 1}


def test_template_refusal_is_a_counted_drop() -> None:
    sample = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "q"}]
    sample.append({"role": "assistant", "content": "a"})
    from training.rise.convert import SampleDropped

    with pytest.raises(SampleDropped) as info:
        tokenize_sample(CharTokenizer("yes"), sample)
    assert info.value.reason == "template_error"


def test_plain_rendering_is_the_gateways_and_labels_only_the_answer() -> None:
    messages = convert([EPISODES[0]], criteria="all").samples[1].messages
    prompt, answer = render(CharTokenizer(), messages)
    assert prompt == "User: question a\nAssistant: a answer 1\nUser: Incorrect. Try again.\nAssistant: "
    assert answer == "a answer 2"
    tokens = tokenize_sample(CharTokenizer(), messages)
    trained = [t for t, label in zip(tokens.input_ids, tokens.labels, strict=True) if label != -100]
    assert trained == [*(ord(c) for c in "a answer 2"), 2]  # the answer, then EOS
    assert tokens.input_ids[: len(prompt) + 1] == [1, *(ord(c) for c in prompt)]


# ---- Files ----------------------------------------------------------------------------


def test_samples_round_trip(tmp_path: Path) -> None:
    result = convert(EPISODES, criteria="better")
    path = tmp_path / "out" / "samples.jsonl"
    assert write_samples(result.samples, path) == 4
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"messages", "weight", "reward", "episode", "turn"}
    assert first["messages"][-1] == {"role": "assistant", "content": "a answer 2"}
    assert read_samples(path) == result.samples


def write_lines(tmp_path: Path, *lines: Any) -> Path:
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


GOOD = Sample(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], weight=1.0,
              reward=0, episode="e", turn=1).as_json()  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", r"line 2: not JSON"),
        ([1, 2], r"line 2: expected an object, got list"),
        ({"weight": 1}, r"line 2: missing 'messages'"),
        ({**GOOD, "messages": []}, r"line 2: 'messages' must be a non-empty list"),
        ({**GOOD, "messages": [{"role": "bot", "content": "a"}]}, r"line 2: message 1 must be"),
        ({**GOOD, "messages": [{"role": "user", "content": "q"}]}, r"line 2: the last message .* assistant"),
        ({**GOOD, "weight": 0}, r"line 2: 'weight' must be a positive number"),
        ({**GOOD, "weight": "1"}, r"line 2: 'weight' must be a positive number"),
        ({**GOOD, "turn": 0}, r"line 2: 'turn' must be an integer >= 1"),
    ],
)
def test_read_samples_errors_name_the_line(tmp_path: Path, bad: Any, message: str) -> None:
    path = write_lines(tmp_path, GOOD, bad)
    with pytest.raises(BadSamples, match=message) as info:
        read_samples(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, BadData) and isinstance(info.value, ValueError)


def test_read_samples_missing_file_and_blank_lines(tmp_path: Path) -> None:
    with pytest.raises(BadSamples, match="no such file"):
        read_samples(tmp_path / "nope.jsonl")
    assert len(read_samples(write_lines(tmp_path, GOOD, "", GOOD))) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[{]", r"line 1 column 3: not JSON"),
        ('{"a": 1}', "expected a JSON list of episodes"),
        ('[{"id": "x"}]', r"episode 1: missing 'observations'"),
        ('[{"id": "x", "observations": ["q"], "actions": ["a", "b"], "rewards": [0, 1]}]',
         r"episode 1 \(id x\): 2 actions but 1 observations"),
    ],
)  # fmt: skip
def test_read_episodes_errors_name_the_position(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "2_turns.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BadData, match=message):
        read_episodes(path)
