"""The RISE episode engine with scripted models: turns, samples, feedback, windows, batches."""

from __future__ import annotations

import re
from typing import Any

import pytest

from llm.gateway import Gateway
from llm.tracing import MemoryRecorder
from llm.types import GenParams, Message
from tests.llm.fakes import ScriptedBackend
from tests.training.rise.toy_env import FEEDBACK, ToyEnv
from training.rise.rollout import RiseEpisode, RolloutConfig, RolloutSettingsError, rollout
from training.rise.trajectory import conversation

ENV = ToyEnv()


def gold_of(messages: Any) -> int:
    first = messages[0]["content"] if isinstance(messages, list) else str(messages)
    a = int(re.search(r"What is (\d+) \+", first).group(1))  # type: ignore[union-attr]
    return 2 * a


def turn_of(messages: Any) -> int:
    return 1 + sum(1 for m in messages if m["role"] == "assistant") if isinstance(messages, list) else 1


def episodes(limit: int = 5) -> list[RiseEpisode]:
    return [RiseEpisode.start(ENV, p) for p in ENV.load(None, limit=limit)]


class BatchingBackend(ScriptedBackend):
    """Batches natively and renders chats itself, as the transformers backend does."""

    def render_chat(self, messages: list[Message], params: GenParams) -> tuple[str, GenParams]:
        return "\n".join(f"{m['role']}: {m['content']}" for m in messages), params


def test_generation_keeps_the_best_sample_and_stops_at_the_first_right_turn() -> None:
    # Turn 1 model: always wrong. Turn 2 model: sample 0 wrong, sample 1 right.
    weak = ScriptedBackend(default="", concurrency=1)
    weak.script = []
    weak._next = lambda payload: f"I get #### {gold_of(payload) + 1}"  # type: ignore[method-assign]
    answers: dict[int, int] = {}

    def strong_answer(payload: Any) -> str:
        key = gold_of(payload)
        answers[key] = answers.get(key, 0) + 1
        return f"#### {key}" if answers[key] % 2 == 0 else "no idea"

    strong = ScriptedBackend(default="")
    strong._next = strong_answer  # type: ignore[method-assign]
    gws = {"weak": Gateway(weak), "strong": Gateway(strong)}
    config = RolloutConfig(mode="gen", max_turns=3, models=("weak", "strong", "strong"), num_of_samples=(1, 2, 2))
    eps = episodes(3)
    rollout(eps, env=ENV, gateway_for=gws.__getitem__, config=config)
    for ep in eps:
        assert ep.finished and ep.turns == 2  # right at turn 2: no turn 3
        assert ep.rewards == [0, 1]
        assert ep.models == ["weak", "strong"]
        assert [s["reward"] for s in ep.samples[1]] == [-1, 1]  # the best of the two was kept
        assert ep.actions[1].startswith("####")
        # The feedback says only that the answer was wrong: the gold never appears.
        assert ep.observations[1] == FEEDBACK
        assert ENV.gold_answer(ep.gold) not in "".join(ep.observations[1:])
    assert all(c["n"] == 2 for c in strong.calls)


def test_evaluation_plays_every_turn_and_keeps_the_majority_answer() -> None:
    backend = ScriptedBackend(default="")
    backend._next = lambda payload: f"#### {gold_of(payload)}"  # type: ignore[method-assign]
    config = RolloutConfig(mode="eval", max_turns=3, models=("m",), num_of_samples=(1, 1, 1))
    eps = episodes(2)
    rollout(eps, env=ENV, gateway_for=lambda _: Gateway(backend), config=config)
    assert all(ep.rewards == [1, 1, 1] and ep.finished for ep in eps)


def test_context_window_keeps_the_problem_and_the_last_turns() -> None:
    obs = ["Q", "F1", "F2", "F3"]
    acts = ["A1", "A2", "A3"]
    full = conversation(obs, acts)
    assert [m["content"] for m in full] == ["Q", "A1", "F1", "A2", "F2", "A3", "F3"]
    two = conversation(obs, acts, window=2)
    assert [m["content"] for m in two] == ["Q", "A3", "F3"]
    one = conversation(obs, acts, window=1)
    assert [m["content"] for m in one] == ["Q"]
    assert [m["role"] for m in two] == ["user", "assistant", "user"]


def test_every_turn_of_all_problems_is_one_batch_with_items_on_the_traces() -> None:
    backend = BatchingBackend(default="", native_batch=True)
    backend._next = lambda prompt: f"#### {len(backend.calls)}"  # type: ignore[method-assign]
    recorder = MemoryRecorder()
    gw = Gateway(backend, recorder=recorder)
    config = RolloutConfig(mode="eval", max_turns=3, models=("m",), num_of_samples=(1, 1, 1), context_window=2)
    eps = episodes(5)
    rollout(eps, env=ENV, gateway_for=lambda _: gw, config=config, run_label="rise:9")
    assert [len(b) for b in backend.batches] == [5, 5, 5]
    # window 2 at turn 3: the problem, the turn-2 answer and its feedback, no turn-1 answer
    third = backend.batches[2][0]
    assert third.count("assistant:") == 1 and "What is 1 + 1" in third
    items = {(t.item, t.step) for t in recorder.traces}
    assert items == {(f"toy-{i}", s) for i in range(1, 6) for s in (1, 2, 3)}
    assert {t.run for t in recorder.traces} == {"rise:9"} and {t.purpose for t in recorder.traces} == {"rise.eval"}


def test_a_resumed_episode_continues_from_its_own_next_turn() -> None:
    backend = ScriptedBackend(default="#### 999")
    config = RolloutConfig(mode="eval", max_turns=3, models=("m",), num_of_samples=(1, 1, 1))
    eps = episodes(2)
    # Episode 1 has played two turns already (a run killed mid-way), episode 2 none.
    eps[0].actions, eps[0].rewards, eps[0].answers = ["#### 1", "#### 1"], [0, 0], ["1", "1"]
    eps[0].samples, eps[0].models = [[], []], ["m", "m"]
    eps[0].observations += [FEEDBACK, FEEDBACK]
    rollout(eps, env=ENV, gateway_for=lambda _: Gateway(backend), config=config)
    assert eps[0].turns == 3 and eps[1].turns == 3
    assert len(backend.calls) == 4  # 1 for episode 1, 3 for episode 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ("a", "b"), "num_of_samples": (1, 1, 1)}, "--models has 2 specs"),
        ({"num_of_samples": (1, 1)}, "--num_of_samples has 2 counts for --max_turns 3"),
        ({"context_window": 0}, "--context_window must be between 1 and --max_turns"),
        ({"context_window": 4}, "--context_window must be between 1 and --max_turns"),
        ({"num_of_samples": (1, 0, 1)}, "at least 1"),
    ],
)
def test_settings_that_cannot_describe_a_run_are_one_line(kwargs: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"mode": "eval", "max_turns": 3, "models": ("m",), "num_of_samples": (1, 1, 1)}
    with pytest.raises(RolloutSettingsError, match=re.escape(message)):
        RolloutConfig(**{**base, **kwargs})


def test_a_problem_whose_call_fails_loses_only_its_turn_and_says_why() -> None:
    from llm.errors import LLMTimeout

    def answer(payload: Any) -> str:
        if gold_of(payload) == 4:  # "What is 2 + 2?" always times out
            raise LLMTimeout("llama.cpp call passed its 5s timeout (LLM_TIMEOUT)")
        return f"#### {gold_of(payload)}"

    for backend in (ScriptedBackend(default=""), BatchingBackend(default="", native_batch=True)):
        backend._next = answer  # type: ignore[method-assign]
        config = RolloutConfig(mode="eval", max_turns=2, models=("m",), num_of_samples=(1, 1))
        eps = episodes(3)
        rollout(eps, env=ENV, gateway_for=lambda _, b=backend: Gateway(b, retry_budget=0), config=config)
        assert [ep.rewards for ep in eps] == [[1, 1], [-1, -1], [1, 1]]
        assert eps[1].samples[0][0]["reason"].startswith("the model call failed: llama.cpp call passed its 5s")
        assert all(ep.finished for ep in eps)


def test_when_every_problem_fails_the_error_stops_the_run() -> None:
    from llm.errors import LLMTimeout

    backend = ScriptedBackend(default="")
    backend._next = lambda payload: (_ for _ in ()).throw(LLMTimeout("timed out"))  # type: ignore[method-assign]
    config = RolloutConfig(mode="eval", max_turns=2, models=("m",), num_of_samples=(1, 1))
    eps = episodes(3)
    with pytest.raises(LLMTimeout):
        rollout(eps, env=ENV, gateway_for=lambda _: Gateway(backend, retry_budget=0), config=config)
    assert all(ep.turns == 0 for ep in eps)  # nothing half-written
